"""A JSON-protocol request whose body cannot be deserialized is AWS's 400, not a crash."""

from __future__ import annotations

import json

import pytest
import requests
from conftest import PRIMARY, LocalCloudProcess

# (signing name, X-Amz-Target, Content-Type) of one action per JSON-protocol service.
SERVICES = {
    "events": ("events", "AWSEvents.PutEvents", "application/x-amz-json-1.1"),
    "sqs": ("sqs", "AmazonSQS.SendMessage", "application/x-amz-json-1.0"),
    "dynamodb": ("dynamodb", "DynamoDB_20120810.PutItem", "application/x-amz-json-1.0"),
}


def post(cloud: LocalCloudProcess, service: str, body: bytes) -> requests.Response:
    """A request shaped as an SDK sends it (moto does not check the signature)."""
    signing_name, target, content_type = SERVICES[service]
    return requests.post(cloud.url + "/", data=body, timeout=10, headers={
        "X-Amz-Target": target, "Content-Type": content_type,
        "Authorization": f"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/{PRIMARY}/"
                         f"{signing_name}/aws4_request, SignedHeaders=host, Signature=0"})


@pytest.mark.parametrize("service", sorted(SERVICES))
@pytest.mark.parametrize("body", [b'{"Entries": [', b"not json", b'["a list"]'])
def test_malformed_body_is_a_serialization_exception(localcloud: LocalCloudProcess,
                                                     service: str, body: bytes) -> None:
    response = post(localcloud, service, body)

    assert response.status_code == 400
    assert response.json()["__type"].rsplit("#", 1)[-1] == "SerializationException"
    assert response.headers["Content-Type"] == SERVICES[service][2]


def test_well_formed_requests_still_reach_the_service(localcloud: LocalCloudProcess) -> None:
    response = post(localcloud, "events", json.dumps({"Entries": [
        {"Source": "json.test", "DetailType": "t", "Detail": "{}"}]}).encode())

    assert response.status_code == 200
    assert response.json()["FailedEntryCount"] == 0
    missing_queue = post(localcloud, "sqs", json.dumps({
        "QueueUrl": f"{localcloud.url}/123456789012/no-such-queue",
        "MessageBody": "x"}).encode())
    assert missing_queue.status_code == 400
    assert "QueueDoesNotExist" in missing_queue.json()["__type"]
