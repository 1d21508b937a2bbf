"""``drillkit reconcile``: was every accepted event stored, in every region, exactly once?

An accepted request (2xx with an ``eventId``) is a promise that the event will be stored. The
table is a global table, so the item must show up in every listed region's replica; replication
is asynchronous, so the check polls (BatchGetItem, consistent reads) until everything is found
or the timeout passes: lag is waited for, only what is still missing then counts as ``lost``.

Duplicates are the other failure: the same client request stored under two event ids (a client
or gateway retry that got through twice). Those are found by scanning each region for the
run's items (``detail.runId``) and counting markers stored under more than one id.

The table's partition key name comes from DescribeTable; the item's key value is the event id.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from . import records, timeutil

BATCH_GET_LIMIT = 100


class ReconcileError(RuntimeError):
    """The reconciliation cannot run (no table, a composite key, no traffic log)."""


def partition_key(client: Any, table: str) -> str:
    """The table's key attribute; a composite key cannot be looked up by event id alone."""
    schema = client.describe_table(TableName=table)["Table"]["KeySchema"]
    if len(schema) != 1:
        raise ReconcileError(f"table {table} has a composite key; drillkit needs a table keyed "
                             "by the event id alone")
    return schema[0]["AttributeName"]


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def found_ids(client: Any, table: str, key: str, ids: Iterable[str],
              deadline: float) -> set[str]:
    """Which of ``ids`` the table holds, 100 keys per BatchGetItem, retrying UnprocessedKeys
    (with backoff) until done or ``deadline``."""
    found: set[str] = set()
    for chunk in _chunks(sorted(ids), BATCH_GET_LIMIT):
        request: dict[str, Any] = {table: {
            "Keys": [{key: {"S": event_id}} for event_id in chunk],
            "ProjectionExpression": "#k", "ExpressionAttributeNames": {"#k": key},
            "ConsistentRead": True,
        }}
        backoff = 0.05
        while request:
            answer = client.batch_get_item(RequestItems=request)
            found.update(item[key]["S"] for item in answer.get("Responses", {}).get(table, []))
            request = answer.get("UnprocessedKeys") or {}
            if request:
                if time.monotonic() + backoff > deadline:
                    break
                time.sleep(backoff)
                backoff = min(1.0, backoff * 2)
    return found


def stored_markers(client: Any, table: str, key: str, run_id: str) -> dict[str, str]:
    """``{item id: marker}`` of every item of this run in one region (paginated Scan)."""
    deserialize = TypeDeserializer().deserialize
    paginator = client.get_paginator("scan")
    items: dict[str, str] = {}
    pages = paginator.paginate(
        TableName=table, ConsistentRead=True,
        FilterExpression="#d.#r = :run",
        ProjectionExpression="#k, #d.#m",
        ExpressionAttributeNames={"#k": key, "#d": "detail", "#r": "runId", "#m": "marker"},
        ExpressionAttributeValues={":run": {"S": run_id}},
    )
    for page in pages:
        for item in page.get("Items", []):
            detail = deserialize(item["detail"]) if "detail" in item else {}
            marker = detail.get("marker") if isinstance(detail, dict) else None
            if isinstance(marker, str):
                items[deserialize(item[key])] = marker
    return items


def reconcile(run_dir: Path, table: str, regions: list[str], client_for: Callable[[str], Any],
              timeout: float = 60.0, poll_interval: float = 0.5, run_id: str | None = None,
              on_poll: Callable[[int, dict[str, set[str]]], None] | None = None,
              ) -> dict[str, Any]:
    """Reconcile the run's traffic log with the table; the result is what ``reconcile.json``
    holds. ``on_poll(round, missing ids per region)`` is called after every polling round."""
    log = records.read_log(run_dir)
    if not log:
        raise ReconcileError(f"no traffic log in {run_dir}")
    run_id = run_id or records.run_id(log)
    summary = records.summarize(log)
    accepted = [r for r in records.requests(log) if records.is_accepted(r)]
    markers_of: dict[str, list[str]] = defaultdict(list)
    for request in accepted:
        if request.get("event_id"):
            markers_of[request["event_id"]].append(request["marker"])
    clients = {region: client_for(region) for region in regions}
    key = partition_key(clients[regions[0]], table)

    missing = {region: set(markers_of) for region in regions}
    started = time.monotonic()
    deadline = started + timeout
    polls = 0
    missing_at_first_look: dict[str, int] = {}
    while True:
        for region in regions:
            if missing[region]:
                missing[region] -= found_ids(clients[region], table, key, missing[region],
                                             deadline)
        polls += 1
        if polls == 1:
            # What replication still owed when the reconciliation started: the lag it waited for.
            missing_at_first_look = {region: len(ids) for region, ids in missing.items()}
        if on_poll is not None:
            on_poll(polls, {region: set(ids) for region, ids in missing.items()})
        remaining = deadline - time.monotonic()
        if not any(missing.values()) or remaining <= 0:
            break
        time.sleep(min(poll_interval, remaining))
    waited = time.monotonic() - started

    # An accepted answer without an event id cannot be looked up: it counts as lost.
    lost_ids = set().union(*missing.values())
    lost = [r for r in accepted if not r.get("event_id") or r["event_id"] in lost_ids]

    stored: dict[str, str] = {}
    if run_id:
        for region in regions:
            stored.update(stored_markers(clients[region], table, key, run_id))
    ids_per_marker: dict[str, set[str]] = defaultdict(set)
    for item_id, marker in stored.items():
        ids_per_marker[marker].add(item_id)
    duplicate_markers = sorted(m for m, ids in ids_per_marker.items() if len(ids) > 1)
    accepted_markers = {r["marker"] for r in accepted}

    return {
        "run_id": run_id,
        "table": table,
        "regions": regions,
        "sent": summary["sent"],
        "accepted": summary["accepted"],
        "rejected": summary["rejected"],
        "errors": summary["errors"],
        "persisted": len(accepted) - len(lost),
        "lost": len(lost),
        "lost_markers": [r["marker"] for r in lost],
        "missing_by_region": {region: sum(1 for r in accepted
                                          if not r.get("event_id")
                                          or r["event_id"] in missing[region])
                              for region in regions},
        "duplicates": len(duplicate_markers),
        "duplicate_markers": duplicate_markers,
        "stored_unacknowledged": len(set(ids_per_marker) - accepted_markers),
        "waited_seconds": round(waited, 3),
        "polls": polls,
        "missing_at_first_look": missing_at_first_look,
        "reconciled_at": timeutil.iso(timeutil.now()),
    }
