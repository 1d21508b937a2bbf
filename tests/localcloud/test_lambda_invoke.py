"""Lambda Invoke runs the deployed zip: results, errors, timeouts, logs, SDK calls."""

from __future__ import annotations

import base64
import io
import json
import re
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError
from conftest import PRIMARY, SECONDARY, wait_for

REPORT_LINE = re.compile(
    r"^REPORT RequestId: (?P<id>[0-9a-f-]{36})\tDuration: [0-9.]+ ms\tBilled Duration: \d+ ms"
    r"\tMemory Size: (?P<memory>\d+) MB\tMax Memory Used: \d+ MB"
)
LOG_STREAM = re.compile(r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$")

CONTEXT_CODE = """
import logging
import os

logger = logging.getLogger()
logger.setLevel(logging.INFO)
print("loaded", __name__)

def handler(event, context):
    print("handling", event["n"])
    logger.warning("careful with %s", event["n"])
    names = ["GREETING", "LANG", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL",
             "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
             "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
             "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "_HANDLER",
             "LAMBDA_TASK_ROOT"]
    return {
        "event": event,
        "cwd": os.getcwd(),
        "env": {name: os.environ.get(name) for name in names},
        "context": {
            "function_name": context.function_name,
            "function_version": context.function_version,
            "invoked_function_arn": context.invoked_function_arn,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "aws_request_id": context.aws_request_id,
            "log_group_name": context.log_group_name,
            "log_stream_name": context.log_stream_name,
            "remaining_ms": context.get_remaining_time_in_millis(),
        },
    }
"""

PACKAGE_FILES = {"pkg/__init__.py": "", "pkg/sub/__init__.py": "", "pkg/sub/mod.py": CONTEXT_CODE}


def zipped(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def deploy(localcloud: Any) -> Iterator[Callable[..., dict[str, Any]]]:
    """Create functions from files; they are deleted (and their workers end) afterwards."""
    role = localcloud.client("iam").create_role(
        RoleName=unique("lambda-invoke"), AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    created: list[tuple[str, str]] = []

    def create(files: dict[str, str], handler: str = "app.handler", region: str = PRIMARY,
               **settings: Any) -> dict[str, Any]:
        settings.setdefault("Runtime", "python3.12")
        function = localcloud.client("lambda", region).create_function(
            FunctionName=unique("fn"), Role=role, Handler=handler,
            Code={"ZipFile": zipped(files)}, **settings)
        created.append((region, function["FunctionName"]))
        return function

    yield create
    for region, name in created:
        localcloud.client("lambda", region).delete_function(FunctionName=name)


def invoke(cloud: Any, name: str, event: Any, region: str = PRIMARY,
           **options: Any) -> tuple[dict[str, Any], Any]:
    response = cloud.client("lambda", region).invoke(
        FunctionName=name, Payload=json.dumps(event).encode(), **options)
    body = response["Payload"].read()
    return response, json.loads(body) if body else None


@pytest.mark.parametrize(
    ("handler", "files"),
    [
        ("app.handler", {"app.py": CONTEXT_CODE}),
        ("pkg.sub.mod.handler", PACKAGE_FILES),
        ("pkg/sub/mod.handler", PACKAGE_FILES),
    ],
)
def test_invoke_runs_the_handler_with_lambda_environment_and_context(
        localcloud: Any, deploy: Any, handler: str, files: dict[str, str]) -> None:
    function = deploy(files, handler, region=SECONDARY, MemorySize=256, Timeout=5,
        Environment={"Variables": {"GREETING": "hello", "LANG": "C.UTF-8"}})
    name = function["FunctionName"]

    response, result = invoke(localcloud, name, {"n": 1}, region=SECONDARY)

    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert response["ExecutedVersion"] == "$LATEST"
    assert result["event"] == {"n": 1}
    env, context = result["env"], result["context"]
    assert env["GREETING"] == "hello"
    assert env["LANG"] == "C.UTF-8"  # the function's own variable wins
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == SECONDARY
    assert env["AWS_ENDPOINT_URL"] == localcloud.url
    assert env["AWS_ACCESS_KEY_ID"] and env["AWS_SECRET_ACCESS_KEY"] and env["AWS_SESSION_TOKEN"]
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == name
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == f"/aws/lambda/{name}"
    assert LOG_STREAM.match(env["AWS_LAMBDA_LOG_STREAM_NAME"])
    assert env["_HANDLER"] == handler
    assert env["LAMBDA_TASK_ROOT"] == result["cwd"]
    assert context["function_name"] == name
    assert context["function_version"] == "$LATEST"
    assert context["invoked_function_arn"] == function["FunctionArn"]
    assert context["memory_limit_in_mb"] == "256"
    assert uuid.UUID(context["aws_request_id"])
    assert context["log_group_name"] == f"/aws/lambda/{name}"
    assert context["log_stream_name"] == env["AWS_LAMBDA_LOG_STREAM_NAME"]
    assert 0 < context["remaining_ms"] <= 5000


def test_logs_have_platform_lines_and_reach_cloudwatch(localcloud: Any, deploy: Any) -> None:
    name = deploy({"app.py": CONTEXT_CODE},
                           MemorySize=192)["FunctionName"]

    response, first = invoke(localcloud, name, {"n": 1}, LogType="Tail")
    _, second = invoke(localcloud, name, {"n": 2})

    request_id = first["context"]["aws_request_id"]
    tail = base64.b64decode(response["LogResult"]).decode()
    assert f"START RequestId: {request_id} Version: $LATEST" in tail
    assert "handling 1" in tail
    assert f"END RequestId: {request_id}" in tail
    assert REPORT_LINE.search(tail.splitlines()[-1])

    events = localcloud.client("logs").filter_log_events(
        logGroupName=f"/aws/lambda/{name}")["events"]
    messages = [event["message"].rstrip("\n") for event in events]
    first_run = messages[:messages.index(f"END RequestId: {request_id}") + 2]
    assert first_run[0].startswith("INIT_START")
    assert first_run[1] == "loaded app"  # module import output comes before START
    assert first_run[2] == f"START RequestId: {request_id} Version: $LATEST"
    assert first_run[3] == "handling 1"
    assert re.fullmatch(rf"\[WARNING\]\t\d{{4}}-\d\d-\d\dT[\d:.]+Z\t{request_id}\t"
                        r"careful with 1", first_run[4])
    report = REPORT_LINE.match(first_run[-1])
    assert report and report["id"] == request_id and report["memory"] == "192"
    assert "Init Duration" in first_run[-1]
    assert f"START RequestId: {second['context']['aws_request_id']} Version: $LATEST" in messages
    # One execution environment, one stream, the one the function was told about.
    assert {event["logStreamName"] for event in events} == {first["context"]["log_stream_name"]}
    timestamps = [event["timestamp"] for event in events]
    assert timestamps == sorted(timestamps)


def test_logging_config_log_group_receives_the_logs(localcloud: Any, deploy: Any) -> None:
    group = f"/custom/{unique('group')}"
    function = deploy({"app.py": CONTEXT_CODE},
                               LoggingConfig={"LogGroup": group, "LogFormat": "Text"})
    assert function["LoggingConfig"]["LogGroup"] == group

    _, result = invoke(localcloud, function["FunctionName"], {"n": 7})

    assert result["context"]["log_group_name"] == group
    logs = localcloud.client("logs")
    messages = [e["message"] for e in logs.filter_log_events(logGroupName=group)["events"]]
    assert "handling 7\n" in messages
    default_group = f"/aws/lambda/{function['FunctionName']}"
    assert not logs.describe_log_groups(logGroupNamePrefix=default_group)["logGroups"]


ERROR_CODE = """
import datetime

def fails(event, context):
    raise ValueError("boom: " + event["why"])

def unserializable(event, context):
    return {"when": datetime.datetime(2026, 1, 1)}
"""


def test_handler_exception_comes_back_as_aws_reports_it(localcloud: Any, deploy: Any) -> None:
    name = deploy({"app.py": ERROR_CODE},
                           handler="app.fails")["FunctionName"]

    response, error = invoke(localcloud, name, {"why": "bad input"}, LogType="Tail")

    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "boom: bad input"
    assert uuid.UUID(error["requestId"])
    assert len(error["stackTrace"]) == 1
    assert 'app.py", line 5, in fails' in error["stackTrace"][0]
    assert 'raise ValueError("boom: " + event["why"])' in error["stackTrace"][0]
    tail = base64.b64decode(response["LogResult"]).decode()
    assert "[ERROR] ValueError: boom: bad input\nTraceback (most recent call last):" in tail


@pytest.mark.parametrize(
    ("handler", "error_type", "message"),
    [
        ("missing.handler", "Runtime.ImportModuleError",
         "Unable to import module 'missing': No module named 'missing'"),
        ("app.absent", "Runtime.HandlerNotFound", "Handler 'absent' missing on module 'app'"),
        ("app", "Runtime.MalformedHandlerName",
         "Bad handler 'app': not enough values to unpack (expected 2, got 1)"),
        ("app.unserializable", "Runtime.MarshalError",
         "Unable to marshal response: Object of type datetime is not JSON serializable"),
    ],
)
def test_runtime_faults_have_aws_error_types(localcloud: Any, deploy: Any, handler: str,
                                             error_type: str, message: str) -> None:
    name = deploy({"app.py": ERROR_CODE},
                           handler=handler)["FunctionName"]

    response, error = invoke(localcloud, name, {})

    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == error_type
    assert error["errorMessage"] == message


SLEEP_CODE = """
import os
import time

def handler(event, context):
    print("sleeping", event["sleep"], flush=True)
    time.sleep(event["sleep"])
    return {"pid": os.getpid()}
"""


def test_timeout_stops_the_run_and_the_next_invoke_starts_fresh(localcloud: Any,
                                                                 deploy: Any) -> None:
    name = deploy({"app.py": SLEEP_CODE},
                           Timeout=1)["FunctionName"]
    _, warm = invoke(localcloud, name, {"sleep": 0})

    started = time.monotonic()
    response, error = invoke(localcloud, name, {"sleep": 30}, LogType="Tail")
    elapsed = time.monotonic() - started

    assert elapsed < 5
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Sandbox.Timedout"
    assert error["errorMessage"].endswith("Task timed out after 1.00 seconds")
    tail = base64.b64decode(response["LogResult"]).decode()
    assert "sleeping 30" in tail
    assert re.search(r"Z [0-9a-f-]{36} Task timed out after 1\.00 seconds", tail)
    assert "Status: timeout" in tail.splitlines()[-1]
    _, after = invoke(localcloud, name, {"sleep": 0})
    assert after["pid"] != warm["pid"]


SDK_CODE = """
import os
import boto3

table = boto3.resource("dynamodb").Table(os.environ["TABLE"])

def handler(event, context):
    table.put_item(Item={"id": event["id"], "region": os.environ["AWS_REGION"]})
    return table.get_item(Key={"id": event["id"]})["Item"]
"""


def test_sdk_calls_from_a_function_reach_the_local_cloud_in_its_region(
        localcloud: Any, deploy: Any) -> None:
    table = unique("items")
    dynamodb = localcloud.client("dynamodb", SECONDARY)
    dynamodb.create_table(
        TableName=table, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
    name = deploy({"app.py": SDK_CODE}, region=SECONDARY,
                           Timeout=10,
                           Environment={"Variables": {"TABLE": table}})["FunctionName"]

    response, item = invoke(localcloud, name, {"id": "a-1"}, region=SECONDARY)

    assert "FunctionError" not in response, item
    assert item == {"id": "a-1", "region": SECONDARY}
    stored = dynamodb.get_item(TableName=table, Key={"id": {"S": "a-1"}})["Item"]
    assert stored["region"] == {"S": SECONDARY}


MARKER_CODE = """
def handler(event, context):
    print("marker", event["marker"])
    return {}
"""


def test_event_runs_in_the_background_and_dry_run_not_at_all(localcloud: Any,
                                                              deploy: Any) -> None:
    name = deploy({"app.py": MARKER_CODE})["FunctionName"]
    lambda_client = localcloud.client("lambda")

    dry = lambda_client.invoke(FunctionName=name, InvocationType="DryRun",
                               Payload=b'{"marker": "dry"}')
    event = lambda_client.invoke(FunctionName=name, InvocationType="Event",
                                 Payload=b'{"marker": "event"}')

    assert dry["StatusCode"] == 204
    assert dry["Payload"].read() == b""
    assert event["StatusCode"] == 202
    assert event["Payload"].read() == b""
    logs = localcloud.client("logs")

    def logged() -> list[str]:
        try:
            events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
        except ClientError:
            return []
        return [e["message"] for e in events if e["message"].startswith("marker")]

    assert wait_for(logged, message="the Event invocation's log") == ["marker event\n"]


def test_refusals_follow_the_invoke_api(localcloud: Any, deploy: Any) -> None:
    node = deploy({"index.js": "exports.handler = 1"},
                           handler="index.handler", Runtime="nodejs20.x")["FunctionName"]
    python = deploy({"app.py": MARKER_CODE})["FunctionName"]
    # No retries: botocore would retry the 502 and the 429 on its own.
    lambda_client = boto3.client(
        "lambda", region_name=PRIMARY, endpoint_url=localcloud.url,
        aws_access_key_id="testing", aws_secret_access_key="testing",
        config=BotoConfig(retries={"total_max_attempts": 1}))

    with pytest.raises(ClientError) as unsupported:
        lambda_client.invoke(FunctionName=node, Payload=b"{}")
    with pytest.raises(ClientError) as not_json:
        lambda_client.invoke(FunctionName=python, Payload=b"{not json")
    lambda_client.put_function_concurrency(FunctionName=python, ReservedConcurrentExecutions=0)
    with pytest.raises(ClientError) as throttled:
        lambda_client.invoke(FunctionName=python, Payload=b'{"marker": "x"}')

    assert unsupported.value.response["Error"]["Code"] == "InvalidRuntimeException"
    assert "nodejs20.x" in unsupported.value.response["Error"]["Message"]
    assert unsupported.value.response["ResponseMetadata"]["HTTPStatusCode"] == 502
    assert not_json.value.response["Error"]["Code"] == "InvalidRequestContentException"
    assert throttled.value.response["Error"]["Code"] == "TooManyRequestsException"
    assert throttled.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429


VERSION_CODE = """
import os

def handler(event, context):
    return {"code": "{version}", "colour": os.environ.get("COLOUR"), "pid": os.getpid()}
"""


def test_new_code_or_configuration_gets_a_new_environment(localcloud: Any, deploy: Any) -> None:
    name = deploy({"app.py": VERSION_CODE.replace("{version}", "one")},
                  Environment={"Variables": {"COLOUR": "red"}})["FunctionName"]
    lambda_client = localcloud.client("lambda")
    _, first = invoke(localcloud, name, {})
    _, again = invoke(localcloud, name, {})

    lambda_client.update_function_code(
        FunctionName=name, ZipFile=zipped({"app.py": VERSION_CODE.replace("{version}", "two")}))
    _, new_code = invoke(localcloud, name, {})
    lambda_client.update_function_configuration(
        FunctionName=name, Environment={"Variables": {"COLOUR": "blue"}})
    _, new_config = invoke(localcloud, name, {})

    assert (first["code"], first["colour"]) == ("one", "red")
    assert again["pid"] == first["pid"]  # warm: the same environment
    assert (new_code["code"], new_code["colour"]) == ("two", "red")
    assert (new_config["code"], new_config["colour"]) == ("two", "blue")
    assert len({first["pid"], new_code["pid"], new_config["pid"]}) == 3
