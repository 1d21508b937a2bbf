"""files/regional.yml: lint-clean, and deployed into two regions of the local cloud it works.

The deployment is what the playbooks do: an ACM certificate and an artifact bucket with the
processor's zip per region, the primary stack (which owns the global table), then the
secondary. Requests go to each API's execute-api host, as Route 53 health checks and clients do.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError
from conftest import PRIMARY, REPO, SECONDARY, LocalCloudProcess, wait_for

TEMPLATE = REPO / "files" / "regional.yml"
PROCESSOR = REPO / "lambda" / "processor"
REGIONS = (PRIMARY, SECONDARY)
STAGE = "Live"  # not the template's default, so outputs must follow the parameter
FUNCTION_TIMEOUT = 10
MAX_RECEIVE_COUNT = 3
RATE_LIMIT = 50
BURST_LIMIT = 20
# Route 53 hosted zones of API Gateway regional endpoints, as AWS publishes them.
API_GATEWAY_ZONES = {"us-east-1": "Z1UJRXOUMOOFQ8", "us-west-2": "Z2OJLYMUO9EFXC"}
TERMINAL = re.compile(r"(_COMPLETE|_FAILED)$")


def test_template_is_cfn_lint_clean() -> None:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"  # installed beside the venv's python
    result = subprocess.run(
        [str(cfn_lint), "--include-checks", "I", "--", str(TEMPLATE)],
        capture_output=True, text=True, timeout=120,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


# -- deployment ------------------------------------------------------------------------------


def processor_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(PROCESSOR.rglob("*.py")):
            archive.write(path, path.relative_to(PROCESSOR).as_posix())
    return buffer.getvalue()


def stack_status(cfn: Any, name: str) -> str | None:
    status = cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
    return status if TERMINAL.search(status) else None


def deploy(cloud: LocalCloudProcess, region: str, name: str,
           parameters: dict[str, Any]) -> dict[str, str]:
    cfn = cloud.client("cloudformation", region)
    cfn.create_stack(
        StackName=name,
        TemplateBody=TEMPLATE.read_text(),
        Parameters=[{"ParameterKey": k, "ParameterValue": str(v)} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    status = wait_for(lambda: stack_status(cfn, name), timeout=90, message=f"stack {name}")
    if status != "CREATE_COMPLETE":
        events = cfn.describe_stack_events(StackName=name)["StackEvents"]
        reasons = [f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason')}"
                   for e in events if "FAILED" in e["ResourceStatus"]]
        pytest.fail(f"stack {name} in {region} ended {status}: {reasons}")
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def delete_stack(cloud: LocalCloudProcess, region: str, name: str) -> None:
    cfn = cloud.client("cloudformation", region)
    try:
        cfn.delete_stack(StackName=name)
    except ClientError:
        return

    def gone() -> bool:
        try:
            status = cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
        except ClientError:
            return True
        return status == "DELETE_COMPLETE"

    wait_for(gone, timeout=60, message=f"deletion of stack {name}")


@pytest.fixture(scope="module")
def deployment(localcloud: LocalCloudProcess) -> Iterator[dict[str, Any]]:
    suffix = uuid.uuid4().hex[:8]
    name = f"rt{suffix}"
    domain = f"events-{suffix}.example.test"
    code = processor_zip()
    key = f"processor-{hashlib.sha256(code).hexdigest()[:16]}.zip"
    stacks = {PRIMARY: f"{name}-primary", SECONDARY: f"{name}-secondary"}
    setup: dict[str, dict[str, str]] = {}
    for region in REGIONS:
        bucket = f"{name}-artifacts-{region}"
        s3 = localcloud.client("s3", region)
        if region == "us-east-1":
            s3.create_bucket(Bucket=bucket)
        else:
            s3.create_bucket(Bucket=bucket,
                             CreateBucketConfiguration={"LocationConstraint": region})
        s3.put_object(Bucket=bucket, Key=key, Body=code)
        acm = localcloud.client("acm", region)
        arn = acm.request_certificate(DomainName=domain, ValidationMethod="DNS")["CertificateArn"]
        wait_for(lambda acm=acm, arn=arn: acm.describe_certificate(CertificateArn=arn)
                 ["Certificate"]["Status"] == "ISSUED", message="certificate issued")
        setup[region] = {"bucket": bucket, "certificate": arn}
    outputs: dict[str, dict[str, str]] = {}
    try:
        for region, role, peer in ((PRIMARY, "primary", SECONDARY),
                                   (SECONDARY, "secondary", PRIMARY)):
            outputs[region] = deploy(localcloud, region, stacks[region], {
                "DeploymentName": name,
                "DeploymentRole": role,
                "PeerRegion": peer,
                "CustomDomainName": domain,
                "CertificateArn": setup[region]["certificate"],
                "ArtifactBucket": setup[region]["bucket"],
                "ArtifactKey": key,
                "StageName": STAGE,
                "ThrottlingRateLimit": RATE_LIMIT,
                "ThrottlingBurstLimit": BURST_LIMIT,
                # Each region's stack sets that region's API Gateway logging role (a per-region
                # account setting that access logging needs).
                "ManageApiGatewayAccount": "true",
                "FunctionTimeout": FUNCTION_TIMEOUT,
                "MaxReceiveCount": MAX_RECEIVE_COUNT,
                "LogRetentionDays": 7,
            })
        yield {"name": name, "domain": domain, "stacks": stacks, "outputs": outputs}
    finally:
        for region in (SECONDARY, PRIMARY):  # the primary owns the table: delete it last
            delete_stack(localcloud, region, stacks[region])


# -- helpers ---------------------------------------------------------------------------------


def call(cloud: LocalCloudProcess, outputs: dict[str, str], method: str, path: str,
         **kwargs: Any) -> requests.Response:
    """A request to the stage through its execute-api host, as a client on the internet."""
    headers = {"Host": outputs["ExecuteApiHost"], **kwargs.pop("headers", {})}
    return requests.request(method, f"{cloud.url}/{outputs['StageName']}{path}",
                            headers=headers, timeout=15, **kwargs)


def get_item(cloud: LocalCloudProcess, region: str, table: str, item_id: str) -> dict | None:
    response = cloud.client("dynamodb", region).get_item(
        TableName=table, Key={"id": {"S": item_id}}, ConsistentRead=True)
    if "Item" not in response:
        return None
    deserializer = TypeDeserializer()
    return {k: deserializer.deserialize(v) for k, v in response["Item"].items()}


def log_messages(cloud: LocalCloudProcess, region: str, group: str) -> list[str]:
    logs = cloud.client("logs", region)
    try:
        events = logs.filter_log_events(logGroupName=group)["events"]
    except ClientError:
        return []
    return [event["message"] for event in events]


# -- the deployed stacks ---------------------------------------------------------------------


def test_outputs_name_the_regional_endpoints(localcloud: LocalCloudProcess,
                                             deployment: dict[str, Any]) -> None:
    name = deployment["name"]
    for region in REGIONS:
        out = deployment["outputs"][region]
        assert out["ExecuteApiHost"] == f"{out['ApiId']}.execute-api.{region}.amazonaws.com"
        assert out["StageName"] == STAGE
        assert out["HealthPath"] == f"/{STAGE}/health"
        assert out["CustomDomainName"] == deployment["domain"]
        assert re.fullmatch(rf"d-[a-z0-9]+\.execute-api\.{region}\.amazonaws\.com",
                            out["RegionalDomainName"])
        assert out["RegionalHostedZoneId"] == API_GATEWAY_ZONES[region]
        assert out["TableName"] == f"{name}-events"
        assert out["EventBusName"] == f"{name}-events"
        assert out["FunctionName"] == f"{name}-processor"
        assert out["FunctionLogGroupName"] == f"/aws/lambda/{name}-processor"
        apigateway = localcloud.client("apigateway", region)
        mappings = apigateway.get_base_path_mappings(domainName=deployment["domain"])["items"]
        assert [(m["basePath"], m["restApiId"], m["stage"]) for m in mappings] == [
            ("(none)", out["ApiId"], STAGE)
        ]
        deployments = apigateway.get_deployments(restApiId=out["ApiId"])["items"]
        assert out["DeploymentId"] in {d["id"] for d in deployments}


def test_health_answers_in_each_region(localcloud: LocalCloudProcess,
                                       deployment: dict[str, Any]) -> None:
    for region in REGIONS:
        out = deployment["outputs"][region]
        response = call(localcloud, out, "GET", "/health")
        assert response.status_code == 200, response.text
        assert response.headers["X-Region"] == region
        assert response.json() == {"status": "healthy", "region": region}


def test_event_posted_in_primary_is_stored_in_both_regions(
    localcloud: LocalCloudProcess, deployment: dict[str, Any]
) -> None:
    out = deployment["outputs"][PRIMARY]
    # Quotes, an apostrophe, a backslash, non-ASCII and numbers must survive the VTL mapping.
    detail = {"orderId": "o-42", "note": "it's \"fragile\" \\ ünïcode",
              "total": 12.5, "lines": [{"sku": "a", "qty": 2}]}
    response = call(localcloud, out, "POST", "/",
                    json={"Detail": detail, "DetailType": "OrderPlaced", "Source": "shop.orders"})

    assert response.status_code == 200, response.text
    assert response.headers["X-Region"] == PRIMARY
    event_id = response.json()["eventId"]
    table = out["TableName"]
    for region in REGIONS:
        item = wait_for(lambda r=region: get_item(localcloud, r, table, event_id), timeout=30,
                        message=f"event {event_id} in the {region} replica")
        assert item["source"] == "shop.orders"
        assert item["detailType"] == "OrderPlaced"
        assert json.loads(json.dumps(item["detail"], default=float)) == detail
        assert item["region"] == PRIMARY  # processed where it was posted
        assert item["processed"] is True
    wait_for(lambda: any(f"wrote item {event_id}" in m for m in
                         log_messages(localcloud, PRIMARY, out["FunctionLogGroupName"])),
             timeout=15, message="'wrote item' in the function's log group")


def test_event_posted_in_secondary_is_processed_there(
    localcloud: LocalCloudProcess, deployment: dict[str, Any]
) -> None:
    out = deployment["outputs"][SECONDARY]
    response = call(localcloud, out, "POST", "/",
                    json={"Detail": {"n": 1}, "DetailType": "Ping", "Source": "drill"})

    assert response.status_code == 200, response.text
    assert response.headers["X-Region"] == SECONDARY
    event_id = response.json()["eventId"]
    for region in REGIONS:
        item = wait_for(lambda r=region: get_item(localcloud, r, out["TableName"], event_id),
                        timeout=30, message=f"event {event_id} in the {region} replica")
        assert item["region"] == SECONDARY


@pytest.mark.parametrize(
    "body",
    [
        {"Detail": {"a": 1}, "Source": "shop.orders"},
        {"Detail": "not an object", "DetailType": "OrderPlaced", "Source": "shop.orders"},
        {"Detail": {"a": 1}, "DetailType": "OrderPlaced", "Source": ""},
        "{not json",
    ],
    ids=["no-detail-type", "detail-not-object", "empty-source", "not-json"],
)
def test_invalid_body_is_refused_with_400(localcloud: LocalCloudProcess,
                                          deployment: dict[str, Any], body: Any) -> None:
    out = deployment["outputs"][PRIMARY]
    data = body if isinstance(body, str) else json.dumps(body)
    response = call(localcloud, out, "POST", "/", data=data,
                    headers={"Content-Type": "application/json"})

    assert response.status_code == 400
    assert response.headers["X-Region"] == PRIMARY
    assert response.json() == {"message": "Invalid request body"}


def test_other_content_type_is_refused_with_415(localcloud: LocalCloudProcess,
                                               deployment: dict[str, Any]) -> None:
    out = deployment["outputs"][PRIMARY]
    response = call(localcloud, out, "POST", "/", data="Detail=1",
                    headers={"Content-Type": "application/x-www-form-urlencoded"})

    assert response.status_code == 415
    assert response.headers["X-Region"] == PRIMARY
    assert response.json() == {"message": "Unsupported Media Type"}


def test_unknown_path_is_403_with_region(localcloud: LocalCloudProcess,
                                         deployment: dict[str, Any]) -> None:
    for region in REGIONS:
        response = call(localcloud, deployment["outputs"][region], "GET", "/no/such/path")
        assert response.status_code == 403
        assert response.headers["X-Region"] == region
        assert response.json() == {"message": "Missing Authentication Token"}


def test_access_log_records_requests(localcloud: LocalCloudProcess,
                                     deployment: dict[str, Any]) -> None:
    out = deployment["outputs"][SECONDARY]
    response = call(localcloud, out, "GET", "/health")
    request_id = response.headers["x-amzn-RequestId"]

    def entry() -> dict[str, Any] | None:
        for message in log_messages(localcloud, SECONDARY, out["AccessLogGroupName"]):
            record = json.loads(message)
            if record["requestId"] == request_id:
                return record
        return None

    record = wait_for(entry, timeout=15, message="the request in the access log")
    assert (record["method"], record["path"], record["status"]) == (
        "GET", f"/{STAGE}/health", "200")


def test_stage_throttling_and_queues_follow_parameters(localcloud: LocalCloudProcess,
                                                       deployment: dict[str, Any]) -> None:
    out = deployment["outputs"][PRIMARY]
    stage = localcloud.client("apigateway", PRIMARY).get_stage(restApiId=out["ApiId"],
                                                               stageName=STAGE)
    settings = stage["methodSettings"]["*/*"]
    assert (settings["throttlingRateLimit"], settings["throttlingBurstLimit"]) == (
        RATE_LIMIT, BURST_LIMIT)

    sqs = localcloud.client("sqs", PRIMARY)
    queue = sqs.get_queue_attributes(QueueUrl=out["QueueUrl"], AttributeNames=["All"])
    attributes = queue["Attributes"]
    dlq = sqs.get_queue_attributes(QueueUrl=out["DeadLetterQueueUrl"],
                                   AttributeNames=["All"])["Attributes"]
    assert int(attributes["VisibilityTimeout"]) == 6 * FUNCTION_TIMEOUT
    assert attributes["SqsManagedSseEnabled"] == "true"
    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": dlq["QueueArn"], "maxReceiveCount": MAX_RECEIVE_COUNT}
    assert int(dlq["MessageRetentionPeriod"]) == 14 * 24 * 3600
    statement = json.loads(attributes["Policy"])["Statement"]
    rule_arn = (f"arn:aws:events:{PRIMARY}:123456789012:rule/"
                f"{out['EventBusName']}/{deployment['name']}-to-queue")
    assert [(s["Principal"], s["Action"], s["Condition"]) for s in statement] == [
        ({"Service": "events.amazonaws.com"}, "sqs:SendMessage",
         {"ArnEquals": {"aws:SourceArn": rule_arn}})
    ]


def test_deleting_the_stacks_removes_the_table_everywhere(
    localcloud: LocalCloudProcess, deployment: dict[str, Any]
) -> None:
    """Runs last: the cleanup order the README documents (secondary, then primary)."""
    table = deployment["outputs"][PRIMARY]["TableName"]
    for region in (SECONDARY, PRIMARY):
        delete_stack(localcloud, region, deployment["stacks"][region])

    for region in REGIONS:
        dynamodb = localcloud.client("dynamodb", region)
        with pytest.raises(ClientError) as raised:
            dynamodb.describe_table(TableName=table)
        assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
        functions = localcloud.client("lambda", region).list_functions()["Functions"]
        assert f"{deployment['name']}-processor" not in {f["FunctionName"] for f in functions}
