"""The deployed processor Lambda under bad and repeated deliveries: nothing lost, nothing twice.

The project is deployed with playbooks/deploy.yml (``-e queue_max_receive_count=2``) on a local
cloud of this module's own, and its function (``lambda/processor/app.py``) is fed the way SQS
feeds it: messages on the stack's queue, or an SQS event passed to Invoke.

A poison message reaches the dead-letter queue only after maxReceiveCount receives, each one a
visibility timeout apart. The stack's queue waits six times the function's timeout (30 s by
default, so 180 s), and deploy.yml does not expose the template's ``FunctionTimeout`` (and its
smallest allowed value, 10 s, would still mean a minute per receive). So that test builds a
queue of its own with the stack's redrive policy (maxReceiveCount read from the deployed queue)
but a 2 s visibility timeout, and binds it to a function of its own made from the deployed
function's zip, role and environment (same code, same table) with a 2 s timeout: the event
source mapping refuses a queue whose visibility timeout is shorter than the function's.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from ansible_run import deployed_cloud
from conftest import PRIMARY, LocalCloudProcess, wait_for

DEPLOYMENT = "evfail"          # inventories/local/group_vars/all/main.yml
MAX_RECEIVE_COUNT = 2
DYNAMODB_ITEM_LIMIT = 400 * 1024
# Waits end as soon as their state is reached; the bound is generous for shared, loaded CI.
PATIENCE: dict[str, float] = {"timeout": 60, "interval": 0.2}


@dataclass
class Stack:
    """The deployed primary region, as its stack describes it."""

    cloud: LocalCloudProcess
    outputs: dict[str, str]
    parameters: dict[str, str]

    def client(self, service: str) -> Any:
        return self.cloud.client(service, PRIMARY)

    def item(self, event_id: str) -> dict[str, Any] | None:
        return self.client("dynamodb").get_item(
            TableName=self.outputs["TableName"], Key={"id": {"S": event_id}},
            ConsistentRead=True).get("Item")

    def log_lines(self, group: str) -> list[dict[str, Any]]:
        """The function's own JSON log lines (START/END/REPORT lines left out)."""
        logs = self.client("logs")
        try:
            pages = logs.get_paginator("filter_log_events").paginate(logGroupName=group)
            messages = [e["message"] for page in pages for e in page["events"]]
        except logs.exceptions.ResourceNotFoundException:
            return []
        return [json.loads(m) for m in messages if m.startswith("{")]

    def queue_depth(self, url: str) -> int:
        attributes = self.client("sqs").get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages",
                                          "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return sum(int(value) for value in attributes.values())


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with deployed_cloud(tmp_path_factory.mktemp("consumer"),
                        "-e", f"queue_max_receive_count={MAX_RECEIVE_COUNT}",
                        time_scale=0.05) as cloud:
        described = cloud.client("cloudformation", PRIMARY).describe_stacks(
            StackName=f"{DEPLOYMENT}-primary")["Stacks"][0]
        yield Stack(cloud, {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]},
                    {p["ParameterKey"]: p["ParameterValue"] for p in described["Parameters"]})


def envelope(event_id: str, detail: Any, **fields: Any) -> dict[str, Any]:
    """An EventBridge event as the bus's rule delivers it to the queue."""
    return {"version": "0", "id": event_id, "detail-type": "ConsumerTest",
            "source": "test.consumer", "account": "123456789012",
            "time": "2026-01-01T00:00:00Z", "region": PRIMARY, "resources": [],
            "detail": detail, **fields}


def sqs_record(message_id: str, body: str, queue_arn: str) -> dict[str, Any]:
    """One record of the SQS event Lambda's poller passes to the function."""
    return {"messageId": message_id, "receiptHandle": f"handle-{message_id}", "body": body,
            "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1767225600000",
                           "SenderId": "AIDAEXAMPLE", "ApproximateFirstReceiveTimestamp":
                           "1767225600000"},
            "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
            "eventSourceARN": queue_arn, "awsRegion": PRIMARY}


def queue_arn(stack: Stack, url: str) -> str:
    return stack.client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


# -- The same event twice --------------------------------------------------------------------


def test_the_same_event_delivered_again_is_stored_once(stack: Stack) -> None:
    """SQS delivers at least once: a redelivered event leaves the first write as it was."""
    marker = str(uuid.uuid4())
    put = stack.client("events").put_events(Entries=[{
        "EventBusName": stack.outputs["EventBusName"], "Source": "test.consumer",
        "DetailType": "ConsumerTest", "Detail": json.dumps({"marker": marker})}])
    event_id = put["Entries"][0]["EventId"]
    first = wait_for(lambda: stack.item(event_id), **PATIENCE, message="the event stored")

    # The same event twice more on the stack's queue, as SQS redelivers it.
    body = json.dumps(envelope(event_id, {"marker": marker}))
    for _ in range(2):
        stack.client("sqs").send_message(QueueUrl=stack.outputs["QueueUrl"], MessageBody=body)
    group = stack.outputs["FunctionLogGroupName"]
    duplicate = f"duplicate event {event_id}: already stored"
    wait_for(lambda: [line["message"] for line in stack.log_lines(group)].count(duplicate) == 2,
             **PATIENCE, message="both redeliveries processed")
    wait_for(lambda: stack.queue_depth(stack.outputs["QueueUrl"]) == 0, **PATIENCE,
             message="the redeliveries deleted from the queue")

    assert stack.item(event_id) == first
    scanned = stack.client("dynamodb").scan(
        TableName=stack.outputs["TableName"], FilterExpression="id = :id",
        ExpressionAttributeValues={":id": {"S": event_id}})["Items"]
    assert scanned == [first]
    written = [line for line in stack.log_lines(group)
               if line["message"] == f"wrote item {event_id}"]
    assert len(written) == 1
    assert stack.queue_depth(stack.outputs["DeadLetterQueueUrl"]) == 0


# -- Records that cannot be stored -------------------------------------------------------------

MALFORMED = {
    # case: (body of the record, the reason the function logs; {id} is the record's event id)
    "detail-string": (lambda i: json.dumps(envelope(i, "not an object")),
                      "the detail of event {id} is not an object"),
    "detail-number": (lambda i: json.dumps(envelope(i, 42)),
                      "the detail of event {id} is not an object"),
    "detail-array": (lambda i: json.dumps(envelope(i, [1, 2])),
                     "the detail of event {id} is not an object"),
    "detail-null": (lambda i: json.dumps(envelope(i, None)),
                    "the detail of event {id} is not an object"),
    "detail-missing": (lambda i: json.dumps({k: v for k, v in envelope(i, {}).items()
                                             if k != "detail"}),
                       "the detail of event {id} is not an object"),
    "detail-with-NaN": (lambda i: json.dumps(envelope(i, {"ratio": float("nan")})),
                        "detail contains NaN, which DynamoDB cannot store"),
    "body-not-json": (lambda i: f"not json {i}", "body is not JSON: "),
    "body-an-array": (lambda i: json.dumps([envelope(i, {})]), "body is not a JSON object"),
    "event-without-id": (lambda i: json.dumps(envelope("", {"marker": i})), "event has no id"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_record_that_cannot_be_stored_is_reported_and_its_batch_mates_stored(
        stack: Stack, case: str) -> None:
    body_of, reason = MALFORMED[case]
    good_id, bad_id = str(uuid.uuid4()), str(uuid.uuid4())
    arn = queue_arn(stack, stack.outputs["QueueUrl"])
    records = [sqs_record("msg-bad-" + bad_id, body_of(bad_id), arn),
               sqs_record("msg-good-" + good_id,
                          json.dumps(envelope(good_id, {"case": case})), arn)]

    answer = stack.client("lambda").invoke(
        FunctionName=stack.outputs["FunctionName"], Payload=json.dumps({"Records": records}))

    assert "FunctionError" not in answer, answer["Payload"].read()
    assert json.loads(answer["Payload"].read()) == {
        "batchItemFailures": [{"itemIdentifier": "msg-bad-" + bad_id}]}
    assert stack.item(good_id)["detail"] == {"M": {"case": {"S": case}}}
    assert stack.item(bad_id) is None
    reported = [line for line in stack.log_lines(stack.outputs["FunctionLogGroupName"])
                if line.get("messageId") == "msg-bad-" + bad_id]
    assert [(line["level"], line["message"]) for line in reported] == [
        ("ERROR", "malformed record")]
    assert reported[0]["reason"].startswith(reason.format(id=bad_id))


def test_an_event_too_large_for_a_table_item_is_reported_not_crashed_on(stack: Stack) -> None:
    """EventBridge takes up to 1 MB, a DynamoDB item 400 KB: such an event cannot be stored.

    The function reports it (it then reaches the dead-letter queue, kept) and stores the rest.
    """
    good_id, big_id = str(uuid.uuid4()), str(uuid.uuid4())
    arn = queue_arn(stack, stack.outputs["QueueUrl"])
    big = json.dumps(envelope(big_id, {"padding": "x" * DYNAMODB_ITEM_LIMIT}))
    records = [sqs_record("msg-big", big, arn),
               sqs_record("msg-good", json.dumps(envelope(good_id, {"n": 1})), arn)]

    answer = stack.client("lambda").invoke(
        FunctionName=stack.outputs["FunctionName"], Payload=json.dumps({"Records": records}))

    assert "FunctionError" not in answer
    assert json.loads(answer["Payload"].read()) == {
        "batchItemFailures": [{"itemIdentifier": "msg-big"}]}
    assert stack.item(good_id) is not None
    assert stack.item(big_id) is None
    reported = [line for line in stack.log_lines(stack.outputs["FunctionLogGroupName"])
                if line.get("messageId") == "msg-big" and line["level"] == "ERROR"]
    assert [(line["message"], line["errorType"]) for line in reported] == [
        ("failed to store record", "ClientError")]
    assert "Item size has exceeded the maximum allowed size" in reported[0]["reason"]


def test_a_detail_that_is_not_an_object_on_the_stacks_queue_is_kept_for_a_retry(
        stack: Stack) -> None:
    """Through the stack's own queue and mapping: the bad message is not deleted (it will be
    retried, then dead-lettered), its batch-mate is stored and deleted."""
    good_id, bad_id = str(uuid.uuid4()), str(uuid.uuid4())
    url = stack.outputs["QueueUrl"]
    sent = stack.client("sqs").send_message_batch(QueueUrl=url, Entries=[
        {"Id": "bad", "MessageBody": json.dumps(envelope(bad_id, "not an object"))},
        {"Id": "good", "MessageBody": json.dumps(envelope(good_id, {"n": 2}))}])
    bad_message = next(s["MessageId"] for s in sent["Successful"] if s["Id"] == "bad")

    wait_for(lambda: stack.item(good_id), **PATIENCE, message="the batch-mate stored")
    group = stack.outputs["FunctionLogGroupName"]
    wait_for(lambda: any(line.get("messageId") == bad_message
                         and line["message"] == "malformed record"
                         for line in stack.log_lines(group)),
             **PATIENCE, message="the bad record reported")
    # The batch-mate deleted; the bad message in flight until the visibility timeout (180 s),
    # neither deleted nor lost.
    in_flight = {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "1"}
    wait_for(lambda: stack.client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=list(in_flight))["Attributes"] == in_flight,
        **PATIENCE, message="only the bad message left, in flight")
    assert stack.item(bad_id) is None


# -- A poison message ---------------------------------------------------------------------------


@pytest.fixture
def fast_retries(stack: Stack) -> Iterator[dict[str, str]]:
    """A queue with the stack's redrive policy but a 2 s visibility timeout, consumed by a
    function made from the deployed function's zip, role and environment."""
    sqs, lam = stack.client("sqs"), stack.client("lambda")
    deployed = lam.get_function_configuration(FunctionName=stack.outputs["FunctionName"])
    redrive = json.loads(sqs.get_queue_attributes(
        QueueUrl=stack.outputs["QueueUrl"],
        AttributeNames=["RedrivePolicy"])["Attributes"]["RedrivePolicy"])
    name = f"poison-{uuid.uuid4().hex[:8]}"
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    queue_url = sqs.create_queue(QueueName=name, Attributes={
        "VisibilityTimeout": "2",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": queue_arn(stack, dlq_url),
                                     "maxReceiveCount": redrive["maxReceiveCount"]})})["QueueUrl"]
    lam.create_function(
        FunctionName=name, Runtime=deployed["Runtime"], Role=deployed["Role"],
        Handler=deployed["Handler"], Timeout=2, Environment=deployed["Environment"],
        Code={"S3Bucket": stack.parameters["ArtifactBucket"],
              "S3Key": stack.parameters["ArtifactKey"]})
    mapping = lam.create_event_source_mapping(
        EventSourceArn=queue_arn(stack, queue_url), FunctionName=name, BatchSize=10,
        MaximumBatchingWindowInSeconds=1, FunctionResponseTypes=["ReportBatchItemFailures"])
    yield {"name": name, "queue_url": queue_url, "dlq_url": dlq_url,
           "max_receive_count": str(redrive["maxReceiveCount"])}
    lam.delete_event_source_mapping(UUID=mapping["UUID"])
    lam.delete_function(FunctionName=name)


def test_a_poison_message_lands_in_the_dlq_while_its_batch_mates_are_stored(
        stack: Stack, fast_retries: dict[str, str]) -> None:
    assert fast_retries["max_receive_count"] == str(MAX_RECEIVE_COUNT)
    sqs = stack.client("sqs")
    poison = f"this is not an event {uuid.uuid4()}"
    good_ids = [str(uuid.uuid4()) for _ in range(3)]
    sent = sqs.send_message_batch(QueueUrl=fast_retries["queue_url"], Entries=[
        {"Id": "poison", "MessageBody": poison},
        *({"Id": f"good{n}", "MessageBody": json.dumps(envelope(i, {"n": n}))}
          for n, i in enumerate(good_ids))])
    poison_message = next(s["MessageId"] for s in sent["Successful"] if s["Id"] == "poison")

    dead = wait_for(lambda: sqs.receive_message(
        QueueUrl=fast_retries["dlq_url"], AttributeNames=["All"],
        WaitTimeSeconds=1).get("Messages"), **PATIENCE, message="the poison message in the DLQ")

    assert [(m["MessageId"], m["Body"]) for m in dead] == [(poison_message, poison)]
    assert all(stack.item(i) is not None for i in good_ids)
    assert stack.queue_depth(fast_retries["queue_url"]) == 0
    lines = stack.log_lines(f"/aws/lambda/{fast_retries['name']}")
    # The poison was tried maxReceiveCount times; each batch-mate was written once, in the
    # first batch, alongside it.
    assert [line["reason"].split(":")[0] for line in lines
            if line.get("messageId") == poison_message] == ["body is not JSON"] * MAX_RECEIVE_COUNT
    for event_id in good_ids:
        assert [line["message"] for line in lines if line.get("eventId") == event_id
                and line["message"].startswith("wrote item")] == [f"wrote item {event_id}"]
    assert {"records": 4, "failed": 1}.items() <= next(
        line for line in lines if line["message"] == "batch done").items()
