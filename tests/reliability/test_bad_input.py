"""Bad requests to the deployed API get a clear 4xx, and none of them puts anything on the bus.

The project is deployed with playbooks/deploy.yml on a local cloud of this module's own. Every
bad request is sent through the custom domain (the local cloud's endpoint with ``Host:`` the
custom domain, resolved by its edge through Route 53) and through the primary's execute-api
host. It must get the API's documented answer, and nothing may reach the bus: a rule of the
test's own copies every event on the primary's bus to a queue of the test's own (as an operator
would to watch a bus), and right after the bad request a good one is sent. Once the good event
is on that queue and in the table, the bad request's marker must be on neither, and the good
event must be the only thing that arrived.

The answers, as AWS documents them:
- body not matching the API's model, or not JSON: the request validator's BAD_REQUEST_BODY,
  ``400 {"message": "Invalid request body"}``;
- a content type the integration has no template for (passthrough NEVER): 415;
- an unknown path, or a method the path does not have: ``403 {"message": "Missing
  Authentication Token"}``;
- a body over 10 MB on a REGIONAL API: REQUEST_TOO_LARGE, ``413 {"message": "Request Too
  Long"}``;
- a body API Gateway accepts but EventBridge refuses (entries over its size limit): the API's
  own mapping of an EventBridge 4xx, ``400 {"message": "EventBridge rejected the request"}``.
These are gateway responses or integration responses of the API, so they carry the API's
``X-Region`` header, except the 413: AWS does not apply an API's customisation of
REQUEST_TOO_LARGE ("Currently, customization of the default gateway response for 413
REQUEST_TOO_LARGE isn't supported", Important notes for REST APIs), so that answer is the
default JSON body without ``X-Region``.
A request line and headers over 10,240 bytes (API Gateway's quota) are refused by its front
end before the API is looked at, in plain text (``HTTP header is larger than 10240 bytes.``, as
users report it): no gateway response applies there, on AWS as here, so that answer has no
``X-Region`` and no JSON body. AWS does not document the status; the local cloud answers 431.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from ansible_run import deployed_cloud
from botocore.exceptions import ClientError
from conftest import PRIMARY, LocalCloudProcess, wait_for

DEPLOYMENT = "evfail"          # inventories/local/group_vars/all/main.yml
DOMAIN = "api.example.com"
STAGE = "Prod"
API_BODY_LIMIT = 10 * 1024 * 1024
HEADER_LIMIT = 10 * 1024
EVENTBRIDGE_ENTRY_LIMIT = 1024 * 1024
# Waits end as soon as their state is reached; the bound is generous for shared, loaded CI.
PATIENCE: dict[str, float] = {"timeout": 60, "interval": 0.2}


class Pipeline:
    """The deployed primary region, and a spy queue that receives every event on its bus."""

    def __init__(self, cloud: LocalCloudProcess) -> None:
        self.cloud = cloud
        outputs = cloud.client("cloudformation", PRIMARY).describe_stacks(
            StackName=f"{DEPLOYMENT}-primary")["Stacks"][0]["Outputs"]
        self.outputs = {o["OutputKey"]: o["OutputValue"] for o in outputs}
        self.table = cloud.client("dynamodb", PRIMARY)
        self.sqs = cloud.client("sqs", PRIMARY)
        self.spy_url = self._spy_on_bus()

    def _spy_on_bus(self) -> str:
        events = self.cloud.client("events", PRIMARY)
        account = self.cloud.client("sts", PRIMARY).get_caller_identity()["Account"]
        queue_url = self.sqs.create_queue(QueueName="bad-input-spy")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        rule_arn = events.put_rule(
            Name="bad-input-spy", EventBusName=self.outputs["EventBusName"],
            EventPattern=json.dumps({"account": [account]}))["RuleArn"]
        self.sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage", "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}}}]})})
        events.put_targets(Rule="bad-input-spy", EventBusName=self.outputs["EventBusName"],
                           Targets=[{"Id": "spy", "Arn": queue_arn}])
        return queue_url

    def drain_spy(self) -> list[str]:
        """Every message on the spy queue now (bodies), deleted as read."""
        bodies: list[str] = []
        while True:
            messages = self.sqs.receive_message(
                QueueUrl=self.spy_url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return bodies
            for message in messages:
                bodies.append(message["Body"])
                self.sqs.delete_message(QueueUrl=self.spy_url,
                                        ReceiptHandle=message["ReceiptHandle"])

    def items(self) -> list[dict[str, Any]]:
        pages = self.table.get_paginator("scan").paginate(TableName=self.outputs["TableName"])
        return [item for page in pages for item in page["Items"]]


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    with deployed_cloud(tmp_path_factory.mktemp("bad-input"), time_scale=0.05) as cloud:
        yield Pipeline(cloud)


# -- The entrances ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Entrance:
    """Where a client sends ``path``: the URL and the Host header."""

    name: str
    url: Callable[[Pipeline, str], str]
    host: Callable[[Pipeline], str]


ENTRANCES = [
    Entrance("custom-domain", lambda p, path: f"{p.cloud.url}{path}", lambda p: DOMAIN),
    Entrance("execute-api", lambda p, path: f"{p.cloud.url}/{STAGE}{path}",
             lambda p: p.outputs["ExecuteApiHost"]),
]


def send(pipeline: Pipeline, entrance: Entrance, method: str, path: str, body: bytes | None,
         headers: dict[str, str]) -> requests.Response:
    return requests.request(
        method, entrance.url(pipeline, path), data=body, timeout=60,
        headers={"Host": entrance.host(pipeline), **headers})


# -- The bad requests -------------------------------------------------------------------------

MISSING = object()
JSON = {"Content-Type": "application/json"}
INVALID_BODY = (400, {"message": "Invalid request body"})
NO_ROUTE = (403, {"message": "Missing Authentication Token"})


def event(marker: str, **fields: Any) -> bytes:
    """A request body: a valid event carrying the marker, with some fields replaced or removed.

    The marker is in DetailType and in Detail, so that a field made wrong still leaves it in
    another one.
    """
    body = {"Source": "test.bad-input", "DetailType": f"BadInput {marker}",
            "Detail": {"marker": marker}}
    body.update(fields)
    return json.dumps({k: v for k, v in body.items() if v is not MISSING}).encode()


def padded(marker: str, size: int) -> bytes:
    """A valid event whose Detail makes the body ``size`` bytes long."""
    head = event(marker, Detail={"marker": marker, "padding": ""})
    return head.replace(b'"padding": ""', b'"padding": "' + b"x" * (size - len(head)) + b'"')


@dataclass(frozen=True)
class BadRequest:
    case: str
    body: Callable[[str], bytes | None]
    status: int
    answer: dict[str, str] | str
    method: str = "POST"
    path: str = "/"
    headers: Callable[[str], dict[str, str]] = field(default=lambda marker: JSON)
    # Whether the API itself answers (gateway or integration response, with JSON).
    api_answers: bool = True
    # Whether that answer carries the API's X-Region: AWS does not apply an API's customisation
    # of REQUEST_TOO_LARGE ("Important notes for REST APIs"), so its 413 has the default body only.
    customised: bool = True


BAD_REQUESTS = [
    BadRequest("invalid-json", lambda m: event(m)[:-1], *INVALID_BODY),
    BadRequest("empty-body", lambda m: b"", *INVALID_BODY),
    BadRequest("body-is-an-array", lambda m: b"[" + event(m) + b"]", *INVALID_BODY),
    BadRequest("Detail-missing", lambda m: event(m, Detail=MISSING), *INVALID_BODY),
    BadRequest("DetailType-missing", lambda m: event(m, DetailType=MISSING), *INVALID_BODY),
    BadRequest("Source-missing", lambda m: event(m, Source=MISSING), *INVALID_BODY),
    BadRequest("Detail-string", lambda m: event(m, Detail=f"marker {m}"), *INVALID_BODY),
    BadRequest("Detail-number", lambda m: event(m, Detail=42), *INVALID_BODY),
    BadRequest("Detail-array", lambda m: event(m, Detail=[m]), *INVALID_BODY),
    BadRequest("Detail-null", lambda m: event(m, Detail=None), *INVALID_BODY),
    BadRequest("DetailType-empty", lambda m: event(m, DetailType=""), *INVALID_BODY),
    BadRequest("DetailType-number", lambda m: event(m, DetailType=7), *INVALID_BODY),
    BadRequest("DetailType-object", lambda m: event(m, DetailType={"marker": m}),
               *INVALID_BODY),
    BadRequest("Source-empty", lambda m: event(m, Source=""), *INVALID_BODY),
    BadRequest("Source-number", lambda m: event(m, Source=7), *INVALID_BODY),
    BadRequest("Source-object", lambda m: event(m, Source={"marker": m}), *INVALID_BODY),
    # EventBridge reserves aws.* for AWS services and would fail the entry (a 502 from the API).
    BadRequest("Source-reserved-aws-namespace", lambda m: event(m, Source="aws.bad-input"),
               *INVALID_BODY),
    BadRequest("wrong-content-type", event, 415, {"message": "Unsupported Media Type"},
               headers=lambda m: {"Content-Type": "text/plain"}),
    BadRequest("unknown-path", event, *NO_ROUTE, path="/events"),
    BadRequest("wrong-method-GET", lambda m: None, *NO_ROUTE, method="GET"),
    BadRequest("wrong-method-PUT", event, *NO_ROUTE, method="PUT"),
    BadRequest("wrong-method-DELETE", lambda m: None, *NO_ROUTE, method="DELETE"),
    BadRequest("over-eventbridge-entry-limit", lambda m: padded(m, EVENTBRIDGE_ENTRY_LIMIT + 1024),
               400, {"message": "EventBridge rejected the request",
                     "errorType": "ValidationException"}),
    BadRequest("body-over-10MB", lambda m: padded(m, API_BODY_LIMIT + 1), 413,
               {"message": "Request Too Long"}, customised=False),
    BadRequest("header-over-10KB", event, 431, "HTTP header is larger than 10240 bytes.",
               headers=lambda m: {**JSON, "X-Padding": m + "x" * HEADER_LIMIT},
               api_answers=False),
]


def arrived(pipeline: Pipeline, marker: str, spied: list[str]) -> bool:
    spied.extend(pipeline.drain_spy())
    return any(marker in body for body in spied)


@pytest.mark.parametrize("entrance", ENTRANCES, ids=lambda e: e.name)
@pytest.mark.parametrize("bad", BAD_REQUESTS, ids=lambda b: b.case)
def test_bad_request_gets_a_clear_4xx_and_reaches_nothing(
        pipeline: Pipeline, entrance: Entrance, bad: BadRequest) -> None:
    items_before = {item["id"]["S"] for item in pipeline.items()}
    pipeline.drain_spy()
    marker = f"bad-{uuid.uuid4()}"

    answer = send(pipeline, entrance, bad.method, bad.path, bad.body(marker),
                  bad.headers(marker))

    assert answer.status_code == bad.status, answer.text[:500]
    if bad.api_answers:
        assert answer.headers.get("Content-Type") == "application/json"
        assert answer.json() == bad.answer
        assert answer.headers.get("X-Region") == (PRIMARY if bad.customised else None)
    else:
        assert answer.text == bad.answer
        assert "X-Region" not in answer.headers

    # A good event sent right after arrives; the bad one never does.
    good = f"good-{uuid.uuid4()}"
    accepted = send(pipeline, entrance, "POST", "/", event(good), JSON)
    assert (accepted.status_code, accepted.headers.get("X-Region")) == (200, PRIMARY)
    event_id = accepted.json()["eventId"]
    spied: list[str] = []
    wait_for(lambda: arrived(pipeline, good, spied), **PATIENCE,
             message="the good event on the bus")
    wait_for(lambda: event_id in {item["id"]["S"] for item in pipeline.items()}, **PATIENCE,
             message="the good event in the table")
    spied.extend(pipeline.drain_spy())
    assert [json.loads(body)["id"] for body in spied] == [event_id]
    new_items = [item for item in pipeline.items() if item["id"]["S"] not in items_before]
    assert [item["id"]["S"] for item in new_items] == [event_id]
    assert marker not in json.dumps(new_items)


# -- EventBridge's own limits, which the API relies on ----------------------------------------


@pytest.fixture
def own_bus(pipeline: Pipeline) -> Iterator[tuple[Any, str]]:
    """A bus of the test's own whose every event is copied to a queue of the test's own."""
    cloud, name = pipeline.cloud, f"limits-{uuid.uuid4().hex[:8]}"
    events, sqs = cloud.client("events", PRIMARY), cloud.client("sqs", PRIMARY)
    events.create_event_bus(Name=name)
    queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pattern = json.dumps({"source": ["aws.s3", "test.limits"]})
    rule_arn = events.put_rule(Name=name, EventBusName=name, EventPattern=pattern)["RuleArn"]
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                       "Action": "sqs:SendMessage", "Resource": queue_arn,
                       "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}}}]})})
    events.put_targets(Rule=name, EventBusName=name, Targets=[{"Id": "q", "Arn": queue_arn}])
    yield events, name
    sqs.delete_queue(QueueUrl=queue_url)


def delivered(cloud: LocalCloudProcess, bus: str) -> list[dict[str, Any]]:
    sqs = cloud.client("sqs", PRIMARY)
    url = sqs.get_queue_url(QueueName=bus)["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                   WaitTimeSeconds=1).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def test_eventbridge_refuses_entries_over_its_size_limit(pipeline: Pipeline,
                                                         own_bus: tuple[Any, str]) -> None:
    events, bus = own_bus
    detail = json.dumps({"padding": "x" * EVENTBRIDGE_ENTRY_LIMIT})
    with pytest.raises(ClientError) as refused:
        events.put_events(Entries=[{"EventBusName": bus, "Source": "test.limits",
                                    "DetailType": "Big", "Detail": detail}])
    assert refused.value.response["Error"] == {
        **refused.value.response["Error"], "Code": "ValidationException",
        "Message": "Total size of the entries in the request is over the limit."}
    # Entries are counted together (AWS's formula: Source, DetailType, Detail, Resources).
    half = json.dumps({"padding": "x" * (EVENTBRIDGE_ENTRY_LIMIT // 2)})
    with pytest.raises(ClientError):
        events.put_events(Entries=[{"EventBusName": bus, "Source": "test.limits",
                                    "DetailType": "Half", "Detail": half}] * 2)
    assert delivered(pipeline.cloud, bus) == []
    accepted = events.put_events(Entries=[{"EventBusName": bus, "Source": "test.limits",
                                           "DetailType": "Half", "Detail": half}])
    assert accepted["FailedEntryCount"] == 0
    assert [e["detail-type"] for e in delivered(pipeline.cloud, bus)] == ["Half"]


def test_eventbridge_fails_only_the_entry_in_the_reserved_aws_namespace(
        pipeline: Pipeline, own_bus: tuple[Any, str]) -> None:
    events, bus = own_bus
    answer = events.put_events(Entries=[
        {"EventBusName": bus, "Source": "aws.s3", "DetailType": "Spoofed", "Detail": "{}"},
        {"EventBusName": bus, "Source": "test.limits", "DetailType": "Own", "Detail": "{}"}])
    assert answer["FailedEntryCount"] == 1
    assert answer["Entries"][0] == {"ErrorCode": "NotAuthorizedForSourceException",
                                    "ErrorMessage": "Not authorized for the source."}
    assert [e["id"] for e in delivered(pipeline.cloud, bus)] == [answer["Entries"][1]["EventId"]]
