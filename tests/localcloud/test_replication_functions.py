"""The Python functions the CloudFormation model of AWS::DynamoDB::GlobalTable calls.

They run inside the local cloud's process, so these tests call them in-process against moto
(``mock_aws``) and look at the result through boto3, as a user of that cloud would.
Replication is driven by ``deliver_due`` instead of the component's thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from conftest import PRIMARY, SECONDARY, wait_for
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.exceptions import (
    MockValidationException,
    ResourceInUseException,
    ResourceNotFoundException,
)

from localcloud import replication
from localcloud.config import Config
from localcloud.runtime import Runtime

ACCOUNT = DEFAULT_ACCOUNT_ID
THIRD = "eu-west-1"
TABLE_KWARGS: dict[str, Any] = {
    "schema": [{"AttributeName": "sku", "KeyType": "HASH"}],
    "attr": [{"AttributeName": "sku", "AttributeType": "S"}],
    "billing_mode": "PAY_PER_REQUEST",
    "streams": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    "tags": [{"Key": "team", "Value": "stock"}],
}


@pytest.fixture
def replicator() -> Iterator[replication.Replicator]:
    with mock_aws():
        replication.install()
        component = replication.Replicator(Runtime(Config(replication_lag_seconds=0.05)))
        component.reset()
        try:
            yield component
        finally:
            component.reset()


def client(region: str) -> Any:
    return boto3.client("dynamodb", region_name=region)


def get(region: str, sku: str) -> dict[str, Any] | None:
    return client(region).get_item(TableName="stock", Key={"sku": {"S": sku}},
                                   ConsistentRead=True).get("Item")


def drain() -> None:
    wait_for(lambda: replication.deliver_due() is None, message="replication to drain")


def test_create_global_table_makes_linked_replicas(replicator: replication.Replicator) -> None:
    replication.create_global_table(ACCOUNT, "stock", [PRIMARY, SECONDARY], TABLE_KWARGS)

    assert replication.replica_regions(ACCOUNT, "stock") == [PRIMARY, SECONDARY]
    west_view = client(SECONDARY).describe_table(TableName="stock")["Table"]
    assert west_view["Replicas"] == [{"RegionName": PRIMARY, "ReplicaStatus": "ACTIVE"}]
    assert west_view["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    client(SECONDARY).put_item(TableName="stock", Item={"sku": {"S": "bolt"}})
    assert replication.pending() == 1
    drain()
    assert get(PRIMARY, "bolt") == {"sku": {"S": "bolt"}}
    assert replicator.status()["pending"] == 0


def test_create_global_table_refuses_an_existing_table_and_creates_nothing(
        replicator: replication.Replicator) -> None:
    client(SECONDARY).create_table(
        TableName="stock", KeySchema=TABLE_KWARGS["schema"],
        AttributeDefinitions=TABLE_KWARGS["attr"], BillingMode="PAY_PER_REQUEST")

    with pytest.raises(ResourceInUseException):
        replication.create_global_table(ACCOUNT, "stock", [PRIMARY, SECONDARY], TABLE_KWARGS)

    assert "stock" not in client(PRIMARY).list_tables()["TableNames"]
    assert replication.replica_regions(ACCOUNT, "stock") == []


def test_create_global_table_needs_new_and_old_images_for_several_regions(
        replicator: replication.Replicator) -> None:
    without_stream = {**TABLE_KWARGS, "streams": None}
    with pytest.raises(MockValidationException):
        replication.create_global_table(ACCOUNT, "stock", [PRIMARY, SECONDARY], without_stream)
    assert "stock" not in client(PRIMARY).list_tables()["TableNames"]

    replication.create_global_table(ACCOUNT, "stock", [PRIMARY], without_stream)
    assert replication.replica_regions(ACCOUNT, "stock") == [PRIMARY]


def test_update_replicas_backfills_new_regions_and_deletes_dropped_ones(
        replicator: replication.Replicator) -> None:
    replication.create_global_table(ACCOUNT, "stock", [PRIMARY], TABLE_KWARGS)
    client(PRIMARY).put_item(TableName="stock", Item={"sku": {"S": "nut"}})

    replication.update_replicas(ACCOUNT, "stock", [PRIMARY, SECONDARY, THIRD], TABLE_KWARGS)

    assert replication.replica_regions(ACCOUNT, "stock") == [PRIMARY, SECONDARY, THIRD]
    assert get(SECONDARY, "nut") == get(THIRD, "nut") == {"sku": {"S": "nut"}}

    replication.update_replicas(ACCOUNT, "stock", [SECONDARY, THIRD], TABLE_KWARGS)

    assert replication.replica_regions(ACCOUNT, "stock") == [SECONDARY, THIRD]
    assert "stock" not in client(PRIMARY).list_tables()["TableNames"]
    client(THIRD).put_item(TableName="stock", Item={"sku": {"S": "washer"}})
    drain()
    assert get(SECONDARY, "washer") is not None
    assert "stock" not in client(PRIMARY).list_tables()["TableNames"]


def test_delete_global_table_deletes_every_replica(replicator: replication.Replicator) -> None:
    replication.create_global_table(ACCOUNT, "stock", [PRIMARY, SECONDARY], TABLE_KWARGS)
    client(PRIMARY).put_item(TableName="stock", Item={"sku": {"S": "pending"}})

    replication.delete_global_table(ACCOUNT, "stock")

    assert replication.replica_regions(ACCOUNT, "stock") == []
    assert replication.pending() == 0
    for region in (PRIMARY, SECONDARY):
        assert "stock" not in client(region).list_tables()["TableNames"]
    with pytest.raises(ResourceNotFoundException):
        replication.delete_global_table(ACCOUNT, "stock")


def test_reset_forgets_global_tables(replicator: replication.Replicator) -> None:
    replication.create_global_table(ACCOUNT, "stock", [PRIMARY, SECONDARY], TABLE_KWARGS)

    replicator.reset()

    assert replication.replica_regions(ACCOUNT, "stock") == []
    assert replicator.status()["global_tables"] == []
