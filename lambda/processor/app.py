"""Store EventBridge events, delivered through SQS, in the regional DynamoDB table.

Each SQS message body is one EventBridge event (``id``, ``source``, ``detail-type``,
``detail``, ``region``, ``time``, ``account`` ...). Every event becomes one item
``{id, source, detailType, detail, region, timestamp, processed}`` where ``region`` is the region
that processed it (``AWS_REGION``) and ``timestamp`` the UTC processing time.

Why it is written this way:

- SQS delivers at least once, so an event can arrive twice. The put is conditional on the id
  being new; a ConditionalCheckFailed therefore means "already stored" and counts as success.
- The event source mapping uses ``ReportBatchItemFailures``: a record that cannot be stored is
  returned in ``batchItemFailures`` so that only it is retried (and, after the queue's
  maxReceiveCount, lands in the dead-letter queue) while its batch-mates are deleted.
- DynamoDB has no float type: JSON numbers are parsed as ``Decimal``.
- Log lines are single JSON objects so CloudWatch Logs Insights and metric filters can read them.

Only boto3 (which the Lambda runtime provides) is imported beyond the standard library.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Any

import boto3
from boto3.dynamodb.conditions import Attr
from botocore.exceptions import ClientError

DUPLICATE_ERROR = "ConditionalCheckFailedException"


class MalformedRecord(ValueError):
    """A record that can never be stored, however often it is retried."""


@cache
def _dynamodb() -> Any:
    """The DynamoDB resource, created once per execution environment and reused while warm."""
    return boto3.resource("dynamodb")


def _log(level: str, message: str, **fields: Any) -> None:
    """Write one JSON log line; Lambda sends stdout to the function's log group."""
    print(json.dumps({"level": level, "message": message, **fields}, default=str), flush=True)


def _reject_constant(name: str) -> Any:
    raise MalformedRecord(f"detail contains {name}, which DynamoDB cannot store")


def parse_event(record: dict[str, Any]) -> dict[str, Any]:
    """The EventBridge event in an SQS record, or MalformedRecord saying what is wrong."""
    body = record.get("body")
    if not isinstance(body, str):
        raise MalformedRecord("record has no body")
    try:
        event = json.loads(body, parse_float=Decimal, parse_constant=_reject_constant)
    except ValueError as exc:
        if isinstance(exc, MalformedRecord):
            raise
        raise MalformedRecord(f"body is not JSON: {exc}") from exc
    if not isinstance(event, dict):
        raise MalformedRecord("body is not a JSON object")
    event_id = event.get("id")
    if not isinstance(event_id, str) or not event_id:
        raise MalformedRecord("event has no id")
    for field in ("source", "detail-type"):
        if not isinstance(event.get(field), str):
            raise MalformedRecord(f"event {event_id} has no {field}")
    if not isinstance(event.get("detail"), dict):
        raise MalformedRecord(f"the detail of event {event_id} is not an object")
    return event


def to_item(event: dict[str, Any], region: str) -> dict[str, Any]:
    """The table item for one event, stamped with the processing region and time."""
    return {
        "id": event["id"],
        "source": event["source"],
        "detailType": event["detail-type"],
        "detail": event["detail"],
        "region": region,
        "timestamp": datetime.now(UTC).isoformat(),
        "processed": True,
    }


def store(table: Any, item: dict[str, Any]) -> bool:
    """Write the item unless its id is already stored; False for a duplicate delivery."""
    try:
        table.put_item(Item=item, ConditionExpression=Attr("id").not_exists())
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == DUPLICATE_ERROR:
            return False
        raise
    return True


def process_record(record: dict[str, Any], table: Any, region: str, request_id: str) -> None:
    """Store one record; raises MalformedRecord or the DynamoDB error when it cannot."""
    event = parse_event(record)
    event_id = event["id"]
    _log("INFO", "processing", requestId=request_id, messageId=record.get("messageId"),
         eventId=event_id, source=event["source"], detailType=event["detail-type"])
    if store(table, to_item(event, region)):
        _log("INFO", f"wrote item {event_id}", requestId=request_id, eventId=event_id,
             table=table.name)
    else:
        _log("INFO", f"duplicate event {event_id}: already stored", requestId=request_id,
             eventId=event_id, table=table.name)


def handler(event: dict[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
    """SQS batch handler: store every record, report the ones that failed."""
    request_id = getattr(context, "aws_request_id", "")
    region = os.environ["AWS_REGION"]
    table = _dynamodb().Table(os.environ["TABLE_NAME"])
    records = event.get("Records") or []
    failures: list[str] = []
    for record in records:
        message_id = record.get("messageId", "")
        try:
            process_record(record, table, region, request_id)
        except MalformedRecord as exc:
            _log("ERROR", "malformed record", requestId=request_id, messageId=message_id,
                 reason=str(exc))
            failures.append(message_id)
        except Exception as exc:  # one record's failure must never fail its batch-mates
            _log("ERROR", "failed to store record", requestId=request_id,
                 messageId=message_id, errorType=type(exc).__name__, reason=str(exc))
            failures.append(message_id)
    _log("INFO", "batch done", requestId=request_id, records=len(records),
         failed=len(failures))
    return {"batchItemFailures": [{"itemIdentifier": m} for m in failures]}
