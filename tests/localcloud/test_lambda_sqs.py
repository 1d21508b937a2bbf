"""SQS event source mappings: Lambda polls, builds the event as AWS, deletes what succeeded."""

from __future__ import annotations

import contextlib
import io
import json
import statistics
import time
import uuid
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from conftest import PRIMARY, SECONDARY, wait_for

# Records every message it sees in a DynamoDB table (attempts, the record, its batch size, the
# execution environment's log stream) after sleeping SLEEP seconds, and fails the ones whose
# body starts with "poison", in the way MODE says.
RECORDING_CODE = """
import json
import os

import time

import boto3

table = boto3.resource("dynamodb").Table(os.environ["TABLE"])

def handler(event, context):
    time.sleep(float(os.environ.get("SLEEP", "0")))
    failures = []
    for record in event["Records"]:
        table.update_item(
            Key={"id": record["body"]},
            UpdateExpression="ADD attempts :one SET #record = :record, #size = :size, "
                             "#stream = :stream",
            ExpressionAttributeNames={"#record": "record", "#size": "batch_size",
                                      "#stream": "stream"},
            ExpressionAttributeValues={":one": 1, ":record": json.dumps(record),
                                       ":size": len(event["Records"]),
                                       ":stream": context.log_stream_name})
        if record["body"].startswith("poison"):
            failures.append({"itemIdentifier": record["messageId"]})
    mode = os.environ.get("MODE", "report")
    if failures and mode == "raise":
        raise RuntimeError("a poison message in the batch")
    if failures and mode == "invalid":
        return {"batchItemFailures": [{"itemIdentifier": "not-in-this-batch"}]}
    return {"batchItemFailures": failures}
"""


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def zipped(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


class Setup:
    """A role and a table per region, and helpers to build queues, functions and mappings."""

    def __init__(self, cloud: Any, region: str) -> None:
        self.cloud = cloud
        self.region = region
        self.sqs = cloud.client("sqs", region)
        self.lambda_client = cloud.client("lambda", region)
        self.dynamodb = cloud.client("dynamodb", region)
        self.role = cloud.client("iam").create_role(
            RoleName=unique("sqs-consumer"), AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        self.functions: list[str] = []
        self.mappings: list[str] = []
        self.table = unique("seen")
        self.dynamodb.create_table(
            TableName=self.table, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])

    def close(self) -> None:
        """Delete the mappings and functions made here (their pollers and workers end)."""
        for mapping in self.mappings:
            with contextlib.suppress(ClientError):  # a test may have deleted it already
                self.lambda_client.delete_event_source_mapping(UUID=mapping)
        for function in self.functions:
            self.lambda_client.delete_function(FunctionName=function)

    def queue(self, **attributes: str) -> tuple[str, str]:
        url = self.sqs.create_queue(QueueName=unique("queue"), Attributes=attributes)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    def function(self, timeout: int = 5, **variables: str) -> str:
        name = self.lambda_client.create_function(
            FunctionName=unique("consumer"), Runtime="python3.12", Role=self.role,
            Handler="app.handler", Code={"ZipFile": zipped({"app.py": RECORDING_CODE})},
            Timeout=timeout, Environment={"Variables": {"TABLE": self.table, **variables}},
        )["FunctionName"]
        self.functions.append(name)
        return name

    def mapping(self, function: str, queue_arn: str, **settings: Any) -> str:
        mapping_id = self.lambda_client.create_event_source_mapping(
            FunctionName=function, EventSourceArn=queue_arn, **settings)["UUID"]
        self.mappings.append(mapping_id)
        return mapping_id

    def seen(self, body: str) -> dict[str, Any] | None:
        item = self.dynamodb.get_item(TableName=self.table, Key={"id": {"S": body}},
                                      ConsistentRead=True).get("Item")
        if item is None:
            return None
        return {"attempts": int(item["attempts"]["N"]),
                "record": json.loads(item["record"]["S"]),
                "batch_size": int(item["batch_size"]["N"]),
                "stream": item["stream"]["S"]}

    def counts(self, url: str) -> tuple[int, int]:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages",
                                          "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return (int(attributes["ApproximateNumberOfMessages"]),
                int(attributes["ApproximateNumberOfMessagesNotVisible"]))


@pytest.fixture(scope="module")
def setup(localcloud: Any) -> Iterator[Setup]:
    made = Setup(localcloud, SECONDARY)
    yield made
    made.close()


def test_messages_are_delivered_as_aws_builds_the_event_and_deleted(setup: Setup) -> None:
    url, arn = setup.queue(VisibilityTimeout="30")
    setup.mapping(setup.function(), arn, BatchSize=10)

    sent = setup.sqs.send_message(
        QueueUrl=url, MessageBody="hello",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "greeting"}})

    seen = wait_for(lambda: setup.seen("hello"), message="the message to be processed")
    record = seen["record"]
    assert seen["attempts"] == 1
    assert record["messageId"] == sent["MessageId"]
    assert record["receiptHandle"]
    assert record["body"] == "hello"
    assert record["md5OfBody"] == sent["MD5OfMessageBody"]
    assert record["md5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert record["messageAttributes"] == {"kind": {
        "stringValue": "greeting", "stringListValues": [], "binaryListValues": [],
        "dataType": "String"}}
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == arn
    assert record["awsRegion"] == SECONDARY
    attributes = record["attributes"]
    assert attributes["ApproximateReceiveCount"] == "1"
    assert attributes["SenderId"]
    assert int(attributes["ApproximateFirstReceiveTimestamp"]) >= int(
        attributes["SentTimestamp"]) > 0
    assert wait_for(lambda: setup.counts(url) == (0, 0), message="the queue to be empty")


def test_a_warm_mapping_reacts_to_a_message_at_once(setup: Setup) -> None:
    url, arn = setup.queue(VisibilityTimeout="30")
    setup.mapping(setup.function(), arn)
    setup.sqs.send_message(QueueUrl=url, MessageBody="warm-up")
    wait_for(lambda: setup.seen("warm-up"), message="the warm-up message")

    delays = []
    for n in range(3):
        started = time.monotonic()
        setup.sqs.send_message(QueueUrl=url, MessageBody=f"quick-{n}")
        wait_for(lambda n=n: setup.seen(f"quick-{n}"), interval=0.01, message="a quick message")
        delays.append(time.monotonic() - started)

    assert statistics.median(delays) < 0.5, delays


@pytest.mark.parametrize(
    ("mode", "kept"),
    [
        ("report", {"poison-1"}),  # only the reported message stays
        ("invalid", {"ok-1", "poison-1", "ok-2"}),  # an unknown itemIdentifier fails the batch
        ("raise", {"ok-1", "poison-1", "ok-2"}),  # a function error fails the batch
    ],
)
def test_report_batch_item_failures_keeps_only_what_failed(setup: Setup, mode: str,
                                                           kept: set[str]) -> None:
    url, arn = setup.queue(VisibilityTimeout="30")
    setup.mapping(setup.function(MODE=mode), arn, BatchSize=10,
                  FunctionResponseTypes=["ReportBatchItemFailures"])
    bodies = [f"ok-1-{mode}", f"poison-1-{mode}", f"ok-2-{mode}"]

    setup.sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": str(n), "MessageBody": body} for n, body in enumerate(bodies)])

    wait_for(lambda: all(setup.seen(body) for body in bodies), message="the batch")
    assert wait_for(lambda: setup.counts(url) == (0, len(kept)),
                    message=f"{len(kept)} message(s) kept in flight")
    # Make the kept messages visible again: exactly they come back for a second attempt.
    for body in bodies:
        if body.rsplit("-", 1)[0] in kept:
            handle = setup.seen(body)["record"]["receiptHandle"]
            setup.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle,
                                                VisibilityTimeout=0)
    expected = {body: 2 if body.rsplit("-", 1)[0] in kept else 1 for body in bodies}
    assert wait_for(lambda: {b: setup.seen(b)["attempts"] for b in bodies} == expected,
                    message="only the kept messages to be retried")


def test_poison_message_reaches_the_dead_letter_queue_while_batch_mates_succeed(
        setup: Setup) -> None:
    dlq_url, dlq_arn = setup.queue()
    url, arn = setup.queue(VisibilityTimeout="1", RedrivePolicy=json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}))
    setup.mapping(setup.function(timeout=1), arn, BatchSize=10,
                  FunctionResponseTypes=["ReportBatchItemFailures"])

    setup.sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "a", "MessageBody": "fine-a"}, {"Id": "p", "MessageBody": "poison-x"},
        {"Id": "b", "MessageBody": "fine-b"}])

    dead = wait_for(lambda: setup.sqs.receive_message(QueueUrl=dlq_url).get("Messages"),
                    timeout=15, message="the poison message in the DLQ")
    assert [message["Body"] for message in dead] == ["poison-x"]
    assert setup.seen("poison-x")["attempts"] == 2  # maxReceiveCount
    assert setup.seen("fine-a")["attempts"] == setup.seen("fine-b")["attempts"] == 1
    assert setup.counts(url) == (0, 0)


def test_batching_window_fills_a_batch(setup: Setup) -> None:
    url, arn = setup.queue(VisibilityTimeout="30")
    setup.mapping(setup.function(), arn, BatchSize=3, MaximumBatchingWindowInSeconds=5)

    for n in range(3):
        setup.sqs.send_message(QueueUrl=url, MessageBody=f"windowed-{n}")

    seen = wait_for(lambda: all(setup.seen(f"windowed-{n}") for n in range(3))
                    and [setup.seen(f"windowed-{n}") for n in range(3)],
                    timeout=4, message="one full batch before the window ends")
    assert [item["batch_size"] for item in seen] == [3, 3, 3]


def test_a_slow_function_holds_up_neither_other_mappings_nor_its_own_batches(
        setup: Setup) -> None:
    slow_url, slow_arn = setup.queue(VisibilityTimeout="30")
    fast_url, fast_arn = setup.queue(VisibilityTimeout="30")
    setup.mapping(setup.function(timeout=10, SLEEP="2"), slow_arn, BatchSize=1)
    setup.mapping(setup.function(), fast_arn)

    setup.sqs.send_message_batch(QueueUrl=slow_url, Entries=[
        {"Id": str(n), "MessageBody": f"slow-{n}"} for n in range(3)])
    setup.sqs.send_message(QueueUrl=fast_url, MessageBody="fast")

    wait_for(lambda: setup.seen("fast"), message="the fast mapping's message")
    assert not any(setup.seen(f"slow-{n}") for n in range(3))  # still sleeping
    slow = wait_for(lambda: all(setup.seen(f"slow-{n}") for n in range(3))
                    and [setup.seen(f"slow-{n}") for n in range(3)], timeout=15,
                    message="the slow batches")
    # One batch per message, run side by side in separate execution environments, as many as
    # the local concurrency cap allows (LOCALCLOUD_LAMBDA_CONCURRENCY, default 2).
    assert len({item["stream"] for item in slow}) == 2


def test_disabling_or_deleting_a_mapping_stops_delivery(setup: Setup) -> None:
    function = setup.function()
    url_a, arn_a = setup.queue(VisibilityTimeout="30")
    url_b, arn_b = setup.queue(VisibilityTimeout="30")
    mapping_a = setup.mapping(function, arn_a)
    mapping_b = setup.mapping(function, arn_b)
    setup.sqs.send_message(QueueUrl=url_a, MessageBody="before-a")
    wait_for(lambda: setup.seen("before-a"), message="delivery while enabled")

    setup.lambda_client.update_event_source_mapping(UUID=mapping_a, Enabled=False)
    assert setup.lambda_client.get_event_source_mapping(UUID=mapping_a)["State"] == "Disabled"
    setup.sqs.send_message(QueueUrl=url_a, MessageBody="held-a")
    setup.sqs.send_message(QueueUrl=url_b, MessageBody="probe-b")
    wait_for(lambda: setup.seen("probe-b"), message="the other mapping to keep working")
    assert setup.seen("held-a") is None
    assert setup.counts(url_a) == (1, 0)

    setup.lambda_client.delete_event_source_mapping(UUID=mapping_b)
    setup.lambda_client.update_event_source_mapping(UUID=mapping_a, Enabled=True)
    setup.sqs.send_message(QueueUrl=url_b, MessageBody="orphan-b")
    wait_for(lambda: setup.seen("held-a"), message="delivery after enabling again")
    assert setup.seen("orphan-b") is None
    assert setup.counts(url_b) == (1, 0)


def test_mapping_settings_are_kept_and_checked(setup: Setup, localcloud: Any) -> None:
    _, arn = setup.queue(VisibilityTimeout="10")
    slow = setup.function(timeout=30)
    function = setup.function(timeout=10)

    with pytest.raises(ClientError) as too_short:
        setup.mapping(slow, arn)
    mapping_id = setup.mapping(function, arn, BatchSize=5, MaximumBatchingWindowInSeconds=2,
                               FunctionResponseTypes=["ReportBatchItemFailures"], Enabled=False)

    error = too_short.value.response["Error"]
    assert error["Code"] == "InvalidParameterValueException"
    assert error["Message"] == ("Queue visibility timeout: 10 seconds is less than Function "
                                "timeout: 30 seconds")
    mapping = setup.lambda_client.get_event_source_mapping(UUID=mapping_id)
    assert mapping["BatchSize"] == 5
    assert mapping["MaximumBatchingWindowInSeconds"] == 2
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["State"] == "Disabled"
    setup.lambda_client.update_event_source_mapping(UUID=mapping_id, Enabled=True)
    assert setup.lambda_client.get_event_source_mapping(UUID=mapping_id)["State"] == "Enabled"

    def reported() -> dict[str, Any] | None:
        mappings = localcloud.status()["lambda"]["sqs_mappings"]
        return next((m for m in mappings if m["uuid"] == mapping_id and m["polling"]), None)

    status = wait_for(reported, message="the mapping in the local cloud's status")
    assert status["batch_size"] == 5
    assert status["event_source_arn"] == arn


CFN_TEMPLATE = {
    "Resources": {
        "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {
            "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}]}},
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 30}},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole"}]}}},
        "Consumer": {"Type": "AWS::Lambda::Function", "Properties": {
            "Runtime": "python3.12", "Handler": "index.handler", "Timeout": 10,
            "Role": {"Fn::GetAtt": ["Role", "Arn"]},
            "Environment": {"Variables": {"TABLE": {"Ref": "Table"}}},
            "Code": {"ZipFile": RECORDING_CODE}}},
        "Mapping": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {
            "FunctionName": {"Ref": "Consumer"},
            "EventSourceArn": {"Fn::GetAtt": ["Queue", "Arn"]},
            "BatchSize": 4, "FunctionResponseTypes": ["ReportBatchItemFailures"]}},
    },
    "Outputs": {"Queue": {"Value": {"Ref": "Queue"}}, "Table": {"Value": {"Ref": "Table"}},
                "Mapping": {"Value": {"Ref": "Mapping"}}},
}


def test_mapping_from_cloudformation_is_polled_until_the_stack_is_deleted(
        localcloud: Any) -> None:
    cloudformation = localcloud.client("cloudformation", PRIMARY)
    stack = unique("consumer-stack")
    cloudformation.create_stack(StackName=stack, TemplateBody=json.dumps(CFN_TEMPLATE),
                                Capabilities=["CAPABILITY_IAM"])
    described = wait_for(
        lambda: (s := cloudformation.describe_stacks(StackName=stack)["Stacks"][0])
        ["StackStatus"] != "CREATE_IN_PROGRESS" and s, message="the stack")
    assert described["StackStatus"] == "CREATE_COMPLETE"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]}
    sqs, dynamodb = localcloud.client("sqs", PRIMARY), localcloud.client("dynamodb", PRIMARY)

    def seen(body: str) -> bool:
        return "Item" in dynamodb.get_item(TableName=outputs["Table"], Key={"id": {"S": body}})

    assert localcloud.client("lambda", PRIMARY).get_event_source_mapping(
        UUID=outputs["Mapping"])["BatchSize"] == 4
    sqs.send_message(QueueUrl=outputs["Queue"], MessageBody="from-the-stack")
    wait_for(lambda: seen("from-the-stack"), message="delivery to the stack's function")

    cloudformation.delete_stack(StackName=stack)
    wait_for(lambda: not any(m["uuid"] == outputs["Mapping"]
                             for m in localcloud.status()["lambda"]["sqs_mappings"]),
             message="the mapping to go with the stack")
