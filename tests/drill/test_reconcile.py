"""`drillkit reconcile` against real DynamoDB tables in the local cloud.

The traffic log is written by the test (the format `drillkit traffic` writes); the items are
put by the test the way a processor would store events, in a table of the test's own (keyed
`eventKey`, not the project's `id`: the key name comes from DescribeTable).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
from conftest import PRIMARY, REPO, SECONDARY, LocalCloudProcess, wait_for

REGIONS = (PRIMARY, SECONDARY)
KEY = "eventKey"


def create_table(client: Any, name: str) -> None:
    client.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": KEY, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": KEY, "AttributeType": "S"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})


@pytest.fixture
def global_table(localcloud: LocalCloudProcess) -> str:
    """A two-region global table (CreateTable, then a replica through UpdateTable)."""
    name = f"drill-events-{uuid.uuid4().hex[:8]}"
    east = localcloud.client("dynamodb", PRIMARY)
    create_table(east, name)
    east.update_table(TableName=name, ReplicaUpdates=[{"Create": {"RegionName": SECONDARY}}])
    return name


def write_log(run_dir: Path, run_id: str, outcomes: list[tuple[int | None, str | None]]) -> None:
    """A traffic log: one request per (status, event id)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    lines = [{"type": "start", "run_id": run_id, "pid": 1, "url": "http://api.test/",
              "rate": 1.0, "timeout": 5.0, "first_request_sent_at": "2024-05-01T12:00:00+00:00"}]
    for seq, (status, event_id) in enumerate(outcomes):
        lines.append({
            "type": "request", "seq": seq, "marker": f"{run_id}-{seq}",
            "sent_at": f"2024-05-01T12:00:{seq:02d}.000000+00:00",
            "received_at": f"2024-05-01T12:00:{seq:02d}.050000+00:00", "latency_ms": 50.0,
            "status": status, "region": PRIMARY if status else None, "event_id": event_id,
            "error": None if status else "connection refused"})
    (run_dir / "traffic.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))


def put_event(client: Any, table: str, event_id: str, run_id: str, seq: int) -> None:
    """What the processor stores for one event (the detail is the client's Detail)."""
    client.put_item(TableName=table, Item={
        KEY: {"S": event_id},
        "detail": {"M": {"runId": {"S": run_id}, "marker": {"S": f"{run_id}-{seq}"},
                         "seq": {"N": str(seq)}}},
        "region": {"S": PRIMARY}})


def run_reconcile(localcloud: LocalCloudProcess, run_dir: Path, table: str,
                  timeout: str = "10") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "drillkit", "reconcile", "--run-dir", str(run_dir),
         "--table", table, "--region", PRIMARY, "--region", SECONDARY,
         "--endpoint-url", localcloud.url, "--timeout", timeout],
        cwd=REPO, capture_output=True, text=True, timeout=120,
        env={**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})


def in_process(localcloud: LocalCloudProcess, run_dir: Path, table: str,
               **kwargs: Any) -> dict[str, Any]:
    sys.path.insert(0, str(REPO))
    from drillkit.reconcile import reconcile

    return reconcile(run_dir, table, list(REGIONS),
                     lambda region: localcloud.client("dynamodb", region), **kwargs)


def test_every_accepted_event_in_both_regions(localcloud, global_table, tmp_path):
    east = localcloud.client("dynamodb", PRIMARY)
    ids = [str(uuid.uuid4()) for _ in range(150)]  # more than one BatchGetItem
    write_log(tmp_path, "run-ok", [(200, i) for i in ids] + [(502, None), (None, None)])
    for seq, event_id in enumerate(ids):
        put_event(east, global_table, event_id, "run-ok", seq)
    # The request without an answer (a client timeout) was stored all the same.
    put_event(east, global_table, str(uuid.uuid4()), "run-ok", 151)

    ran = run_reconcile(localcloud, tmp_path, global_table)

    assert ran.returncode == 0, ran.stderr
    result = json.loads((tmp_path / "reconcile.json").read_text())
    assert json.loads(ran.stdout) == result
    assert {k: result[k] for k in ("sent", "accepted", "rejected", "errors", "persisted",
                                   "lost", "lost_markers", "duplicates", "regions")} == {
        "sent": 152, "accepted": 150, "rejected": 1, "errors": 1, "persisted": 150,
        "lost": 0, "lost_markers": [], "duplicates": 0, "regions": list(REGIONS)}
    assert result["missing_by_region"] == {PRIMARY: 0, SECONDARY: 0}
    assert result["stored_unacknowledged"] == 1


def test_missing_events_are_lost_with_their_markers_and_regions(localcloud, tmp_path):
    """Two unreplicated tables of one name: an item in one region only is still lost."""
    table = f"drill-split-{uuid.uuid4().hex[:8]}"
    east, west = (localcloud.client("dynamodb", region) for region in REGIONS)
    create_table(east, table)
    create_table(west, table)
    ids = [str(uuid.uuid4()) for _ in range(3)]
    write_log(tmp_path, "run-lost", [(200, i) for i in ids])
    for client in (east, west):
        put_event(client, table, ids[0], "run-lost", 0)
    put_event(east, table, ids[1], "run-lost", 1)  # never reached the secondary

    ran = run_reconcile(localcloud, tmp_path, table, timeout="0.5")

    assert ran.returncode == 0, ran.stderr  # the verdict, not the exit code, carries the loss
    result = json.loads(ran.stdout)
    assert (result["persisted"], result["lost"]) == (1, 2)
    assert result["lost_markers"] == ["run-lost-1", "run-lost-2"]
    assert result["missing_by_region"] == {PRIMARY: 1, SECONDARY: 2}
    assert result["waited_seconds"] >= 0.5  # it waited for replication before giving up


def test_a_marker_stored_under_two_ids_is_a_duplicate(localcloud, global_table, tmp_path):
    east = localcloud.client("dynamodb", PRIMARY)
    ids = [str(uuid.uuid4()) for _ in range(2)]
    write_log(tmp_path, "run-dup", [(200, i) for i in ids])
    for seq, event_id in enumerate(ids):
        put_event(east, global_table, event_id, "run-dup", seq)
    put_event(east, global_table, str(uuid.uuid4()), "run-dup", 1)  # a second copy of seq 1
    put_event(east, global_table, str(uuid.uuid4()), "other-run", 1)  # another run's item
    wait_for(lambda: localcloud.client("dynamodb", SECONDARY).scan(
        TableName=global_table)["Count"] == 4, message="replication of all 4 items")

    result = in_process(localcloud, tmp_path, global_table, timeout=5)

    assert (result["lost"], result["duplicates"]) == (0, 1)
    assert result["duplicate_markers"] == ["run-dup-1"]
    assert result["stored_unacknowledged"] == 0  # the other run's item is not this run's


def test_an_item_stored_after_the_first_poll_is_waited_for(localcloud, global_table, tmp_path):
    east = localcloud.client("dynamodb", PRIMARY)
    ids = [str(uuid.uuid4()) for _ in range(2)]
    write_log(tmp_path, "run-late", [(200, i) for i in ids])
    put_event(east, global_table, ids[0], "run-late", 0)
    first_poll = threading.Event()
    missing_at_first_poll: dict[str, set[str]] = {}

    def on_poll(round_number: int, missing: dict[str, set[str]]) -> None:
        if round_number == 1:
            missing_at_first_poll.update(missing)
            first_poll.set()

    def store_late() -> None:
        first_poll.wait(20)
        put_event(east, global_table, ids[1], "run-late", 1)

    writer = threading.Thread(target=store_late)
    writer.start()
    result = in_process(localcloud, tmp_path, global_table, timeout=20, poll_interval=0.1,
                        on_poll=on_poll)
    writer.join()

    assert missing_at_first_poll[PRIMARY] == {ids[1]}
    assert (result["persisted"], result["lost"]) == (2, 0)
    assert result["polls"] >= 2
    assert 0 < result["waited_seconds"] < 20
