"""Global tables where time matters: the lag, concurrent writes, and reset.

These tests run a local cloud of their own whose replication lag (1 s) is long enough to
look at a replica before a change arrives and to write in both regions concurrently. No test
depends on another's state, so the reset tests share that cloud too.
"""

from __future__ import annotations

import time
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import PRIMARY, SECONDARY, LocalCloudProcess, wait_for

LAG = 1.0
NEW_AND_OLD = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}


@pytest.fixture(scope="module")
def slow_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudProcess]:
    cloud = LocalCloudProcess(tmp_path_factory.mktemp("slow-replication"), replication_lag=LAG)
    cloud.start()
    try:
        yield cloud
    finally:
        cloud.stop()


def make_global_table(cloud: LocalCloudProcess) -> tuple[str, Any, Any]:
    name = f"ledger-{uuid.uuid4().hex[:8]}"
    east = cloud.client("dynamodb", PRIMARY)
    west = cloud.client("dynamodb", SECONDARY)
    east.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification=NEW_AND_OLD,
    )
    east.update_table(TableName=name, ReplicaUpdates=[{"Create": {"RegionName": SECONDARY}}])
    return name, east, west


def get(ddb: Any, table: str, item_id: str) -> dict[str, Any] | None:
    return ddb.get_item(TableName=table, Key={"id": {"S": item_id}},
                        ConsistentRead=True).get("Item")


def writer_of(ddb: Any, table: str, item_id: str) -> str | None:
    item = get(ddb, table, item_id)
    return item["writer"]["S"] if item else None


def caught_up(cloud: LocalCloudProcess) -> bool:
    return cloud.status()["replication"]["pending"] == 0


def test_a_write_reaches_the_other_replica_after_the_lag(slow_cloud: LocalCloudProcess) -> None:
    name, east, west = make_global_table(slow_cloud)
    started = time.monotonic()

    east.put_item(TableName=name, Item={"id": {"S": "late"}, "writer": {"S": "east"}})

    assert get(west, name, "late") is None
    assert slow_cloud.status()["replication"]["pending"] == 1
    wait_for(lambda: get(west, name, "late"), timeout=LAG * 10, message="the replicated item")
    assert time.monotonic() - started >= LAG
    assert caught_up(slow_cloud)


def test_concurrent_writes_converge_on_the_last_writer(slow_cloud: LocalCloudProcess) -> None:
    name, east, west = make_global_table(slow_cloud)

    # Within the lag neither region has seen the other's write: a conflict.
    east.put_item(TableName=name, Item={"id": {"S": "k"}, "writer": {"S": "east"}})
    west.put_item(TableName=name, Item={"id": {"S": "k"}, "writer": {"S": "west"}})
    west.put_item(TableName=name, Item={"id": {"S": "j"}, "writer": {"S": "west"}})
    east.put_item(TableName=name, Item={"id": {"S": "j"}, "writer": {"S": "east"}})
    assert (writer_of(east, name, "k"), writer_of(west, name, "k")) == ("east", "west")

    wait_for(lambda: caught_up(slow_cloud), timeout=LAG * 10, message="replication to drain")

    assert writer_of(east, name, "k") == writer_of(west, name, "k") == "west"
    assert writer_of(east, name, "j") == writer_of(west, name, "j") == "east"


def test_an_older_replicated_delete_does_not_remove_a_newer_write(
        slow_cloud: LocalCloudProcess) -> None:
    name, east, west = make_global_table(slow_cloud)
    east.put_item(TableName=name, Item={"id": {"S": "d"}, "writer": {"S": "first"}})
    wait_for(lambda: get(west, name, "d"), timeout=LAG * 10, message="the item in the replica")

    east.delete_item(TableName=name, Key={"id": {"S": "d"}})
    west.put_item(TableName=name, Item={"id": {"S": "d"}, "writer": {"S": "west-later"}})
    wait_for(lambda: caught_up(slow_cloud), timeout=LAG * 10, message="replication to drain")

    assert writer_of(east, name, "d") == writer_of(west, name, "d") == "west-later"


def moto_api_reset(cloud: LocalCloudProcess) -> None:
    request = urllib.request.Request(f"{cloud.url}/moto-api/reset", method="POST", data=b"")
    urllib.request.urlopen(request, timeout=10).close()


@pytest.mark.parametrize("reset", [LocalCloudProcess.reset, moto_api_reset],
                         ids=["localcloud-reset", "moto-api-reset"])
def test_reset_forgets_global_tables_and_pending_changes(slow_cloud: LocalCloudProcess,
                                                         reset: Any) -> None:
    name, east, west = make_global_table(slow_cloud)
    east.put_item(TableName=name, Item={"id": {"S": "in-flight"}, "writer": {"S": "east"}})
    assert slow_cloud.status()["replication"]["pending"] == 1

    reset(slow_cloud)

    status = slow_cloud.status()["replication"]
    assert status["global_tables"] == []
    assert status["pending"] == 0
    # The same name is a plain regional table again.
    east.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification=NEW_AND_OLD,
    )
    assert "Replicas" not in east.describe_table(TableName=name)["Table"]
    east.put_item(TableName=name, Item={"id": {"S": "after"}, "writer": {"S": "east"}})
    assert slow_cloud.status()["replication"]["pending"] == 0
    assert name not in west.list_tables()["TableNames"]
