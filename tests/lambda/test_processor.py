"""The processor Lambda against a real DynamoDB table in the local cloud.

The handler runs in this test process with the environment Lambda gives it (region, table,
endpoint), and the records are shaped like the SQS events Lambda delivers.
"""

from __future__ import annotations

import importlib.util
import json
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest
from conftest import PRIMARY, REPO, LocalCloudProcess

APP_PATH = REPO / "lambda" / "processor" / "app.py"


def load_app() -> ModuleType:
    spec = importlib.util.spec_from_file_location("processor_app", APP_PATH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def table(localcloud: LocalCloudProcess, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A fresh table, and the environment the function has on Lambda (plus the endpoint)."""
    name = f"processor-test-{uuid.uuid4().hex[:8]}"
    dynamodb = localcloud.client("dynamodb", PRIMARY)
    dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for key, value in {
        "AWS_ENDPOINT_URL": localcloud.url,
        "AWS_REGION": PRIMARY,
        "AWS_DEFAULT_REGION": PRIMARY,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "TABLE_NAME": name,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    yield SimpleNamespace(name=name, client=dynamodb)
    dynamodb.delete_table(TableName=name)


@pytest.fixture
def app(table: Any) -> ModuleType:
    """The function module as a fresh container loads it (after its environment is set)."""
    return load_app()


def envelope(detail: Any = None, **overrides: Any) -> dict[str, Any]:
    event = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "OrderPlaced",
        "source": "test.shop",
        "account": "123456789012",
        "time": "2026-11-28T10:00:00Z",
        "region": PRIMARY,
        "resources": [],
        "detail": {"orderId": "o-1"} if detail is None else detail,
    }
    event.update(overrides)
    return event


def sqs_record(body: Any) -> dict[str, Any]:
    text = body if isinstance(body, str) else json.dumps(body)
    return {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": uuid.uuid4().hex,
        "body": text,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1764324000000"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{PRIMARY}:123456789012:processor-test",
        "awsRegion": PRIMARY,
    }


def invoke(app: ModuleType, records: list[dict[str, Any]]) -> list[str]:
    context = SimpleNamespace(aws_request_id=str(uuid.uuid4()))
    result = app.handler({"Records": records}, context)
    return [failure["itemIdentifier"] for failure in result["batchItemFailures"]]


def stored(table: Any) -> dict[str, dict[str, Any]]:
    import boto3

    resource = boto3.resource("dynamodb")  # the env set by the fixture points at the local cloud
    items = resource.Table(table.name).scan(ConsistentRead=True)["Items"]
    return {item["id"]: item for item in items}


def log_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]


def test_good_batch_stores_every_event_with_all_fields(
    app: ModuleType, table: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    events = [envelope({"orderId": "o-1"}), envelope({"orderId": "o-2"}, region="us-west-2")]
    before = datetime.now().astimezone()

    assert invoke(app, [sqs_record(e) for e in events]) == []

    items = stored(table)
    assert set(items) == {e["id"] for e in events}
    for event in events:
        item = items[event["id"]]
        assert item["source"] == "test.shop"
        assert item["detailType"] == "OrderPlaced"
        assert item["detail"] == event["detail"]
        assert item["region"] == PRIMARY  # where it was processed, not where it was sent
        assert item["processed"] is True
        timestamp = datetime.fromisoformat(item["timestamp"])
        assert timestamp.utcoffset() == timedelta(0)
        assert before - timedelta(seconds=1) <= timestamp <= datetime.now().astimezone()
    lines = log_lines(capsys)
    processing = [line for line in lines if line["message"] == "processing"]
    assert {(p["eventId"], p["source"], p["detailType"]) for p in processing} == {
        (e["id"], "test.shop", "OrderPlaced") for e in events
    }
    assert {line["message"] for line in lines} >= {f"wrote item {e['id']}" for e in events}


def test_redelivered_event_is_stored_once(
    app: ModuleType, table: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    event = envelope({"orderId": "o-dup"})
    assert invoke(app, [sqs_record(event), sqs_record(event)]) == []
    first = stored(table)[event["id"]]

    assert invoke(app, [sqs_record(event)]) == []  # a later redelivery counts as success

    items = stored(table)
    assert list(items) == [event["id"]]
    assert items[event["id"]]["timestamp"] == first["timestamp"]  # the first write is kept
    messages = [line["message"] for line in log_lines(capsys)]
    assert messages.count(f"wrote item {event['id']}") == 1
    assert messages.count(f"duplicate event {event['id']}: already stored") == 2


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("not json {", "body is not JSON"),
        ("[1, 2]", "body is not a JSON object"),
        (json.dumps({k: v for k, v in envelope().items() if k != "id"}), "has no id"),
        (json.dumps(envelope(detail="a string")), "is not an object"),
        (json.dumps({k: v for k, v in envelope().items() if k != "detail"}), "is not an object"),
        (json.dumps(envelope()).replace('"o-1"', "NaN"), "NaN"),
    ],
    ids=["not-json", "not-an-object", "no-id", "detail-string", "no-detail", "nan"],
)
def test_malformed_record_is_reported_while_good_ones_are_stored(
    app: ModuleType, table: Any, capsys: pytest.CaptureFixture[str], body: str, reason: str
) -> None:
    good = [envelope(), envelope()]
    bad = sqs_record(body)
    records = [sqs_record(good[0]), bad, sqs_record(good[1])]

    assert invoke(app, records) == [bad["messageId"]]

    assert set(stored(table)) == {e["id"] for e in good}
    errors = [line for line in log_lines(capsys) if line["level"] == "ERROR"]
    assert len(errors) == 1
    assert errors[0]["message"] == "malformed record"
    assert errors[0]["messageId"] == bad["messageId"]
    assert reason in errors[0]["reason"]


def test_dynamodb_error_fails_only_that_record(
    app: ModuleType, table: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # EventBridge accepts entries up to 1 MB; DynamoDB items are limited to 400 KB.
    too_large = envelope({"blob": "x" * 500_000})
    good = envelope({"orderId": "o-ok"})
    oversized = sqs_record(too_large)

    assert invoke(app, [oversized, sqs_record(good)]) == [oversized["messageId"]]

    assert set(stored(table)) == {good["id"]}
    errors = [line for line in log_lines(capsys) if line["level"] == "ERROR"]
    assert [(e["message"], e["messageId"], e["errorType"]) for e in errors] == [
        ("failed to store record", oversized["messageId"], "ClientError")
    ]


def test_missing_table_fails_every_record_without_raising(
    app: ModuleType, table: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TABLE_NAME", f"{table.name}-missing")
    records = [sqs_record(envelope()), sqs_record(envelope())]

    assert invoke(app, records) == [r["messageId"] for r in records]


def test_numbers_and_nested_detail_round_trip(app: ModuleType, table: Any) -> None:
    detail = {
        "price": 12.75,
        "quantity": 3,
        "ratio": -0.001,
        "big": 12345678901234567890,
        "flags": {"gift": True, "note": None, "empty": ""},
        "lines": [{"sku": "a-1", "weight": 0.5}, {"sku": "b-2", "tags": ["x", "y"]}],
        "text": "it's \"quoted\" — ünïcode\nnew line",
    }
    event = envelope(detail)

    assert invoke(app, [sqs_record(event)]) == []

    item = stored(table)[event["id"]]["detail"]
    assert item["price"] == Decimal("12.75")
    assert item["quantity"] == 3
    assert item["ratio"] == Decimal("-0.001")
    assert item["big"] == 12345678901234567890
    assert item["flags"] == {"gift": True, "note": None, "empty": ""}
    assert item["lines"] == [
        {"sku": "a-1", "weight": Decimal("0.5")},
        {"sku": "b-2", "tags": ["x", "y"]},
    ]
    assert item["text"] == detail["text"]


def test_resource_is_created_once_per_container(app: ModuleType, table: Any) -> None:
    invoke(app, [sqs_record(envelope())])
    resource = app._dynamodb()
    invoke(app, [sqs_record(envelope())])
    assert app._dynamodb() is resource
