"""DynamoDB global tables in the local cloud: replicas, replication of every write path, API.

Each test deploys tables of its own (unique names) in the shared local cloud, whose
replication lag is short (0.1 s); replication is awaited by polling.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError
from conftest import PRIMARY, SECONDARY, LocalCloudProcess, wait_for

NEW_AND_OLD = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def create_table(ddb: Any, name: str, stream: dict[str, Any] | None = NEW_AND_OLD,
                 billing: str = "PAY_PER_REQUEST") -> None:
    kwargs: dict[str, Any] = {
        "TableName": name,
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                      {"AttributeName": "sk", "KeyType": "RANGE"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                 {"AttributeName": "sk", "AttributeType": "S"},
                                 {"AttributeName": "colour", "AttributeType": "S"}],
        "GlobalSecondaryIndexes": [{"IndexName": "by-colour",
                                    "KeySchema": [{"AttributeName": "colour",
                                                   "KeyType": "HASH"}],
                                    "Projection": {"ProjectionType": "ALL"}}],
        "BillingMode": billing,
    }
    if billing == "PROVISIONED":
        capacity = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
        kwargs["ProvisionedThroughput"] = capacity
        kwargs["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"] = capacity
    if stream is not None:
        kwargs["StreamSpecification"] = stream
    ddb.create_table(**kwargs)


def key(pk: str, sk: str = "1") -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def get(ddb: Any, table: str, pk: str, sk: str = "1") -> dict[str, Any] | None:
    return ddb.get_item(TableName=table, Key=key(pk, sk), ConsistentRead=True).get("Item")


def add_replica(ddb: Any, table: str, region: str) -> dict[str, Any]:
    return ddb.update_table(TableName=table,
                            ReplicaUpdates=[{"Create": {"RegionName": region}}])


@pytest.fixture
def global_table(localcloud: LocalCloudProcess) -> tuple[str, Any, Any]:
    """A two-region global table made the 2019.11.21 way: CreateTable, then UpdateTable."""
    name = unique("orders")
    east = localcloud.client("dynamodb", PRIMARY)
    west = localcloud.client("dynamodb", SECONDARY)
    create_table(east, name)
    add_replica(east, name, SECONDARY)
    return name, east, west


def test_update_table_creates_a_backfilled_replica_listed_in_both_regions(
        localcloud: LocalCloudProcess) -> None:
    name = unique("catalog")
    east = localcloud.client("dynamodb", PRIMARY)
    west = localcloud.client("dynamodb", SECONDARY)
    create_table(east, name)
    east.put_item(TableName=name, Item={**key("before"), "colour": {"S": "red"}})

    answer = add_replica(east, name, SECONDARY)["TableDescription"]

    assert answer["Replicas"] == [{"RegionName": SECONDARY, "ReplicaStatus": "ACTIVE"}]
    east_view = east.describe_table(TableName=name)["Table"]
    west_view = west.describe_table(TableName=name)["Table"]
    assert east_view["GlobalTableVersion"] == west_view["GlobalTableVersion"] == "2019.11.21"
    assert [r["RegionName"] for r in east_view["Replicas"]] == [SECONDARY]
    assert [r["RegionName"] for r in west_view["Replicas"]] == [PRIMARY]
    assert {r["ReplicaStatus"] for r in east_view["Replicas"] + west_view["Replicas"]} == {
        "ACTIVE"}
    assert west_view["KeySchema"] == east_view["KeySchema"]
    assert west_view["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert west_view["TableArn"].split(":")[3] == SECONDARY
    # The existing item was copied into the new replica, which has the same index.
    assert get(west, name, "before") == {**key("before"), "colour": {"S": "red"}}
    by_colour = west.query(TableName=name, IndexName="by-colour",
                           KeyConditionExpression="colour = :c",
                           ExpressionAttributeValues={":c": {"S": "red"}})["Items"]
    assert by_colour == [{**key("before"), "colour": {"S": "red"}}]


@pytest.mark.parametrize(
    ("stream", "billing"),
    [
        (None, "PAY_PER_REQUEST"),
        ({"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}, "PAY_PER_REQUEST"),
        (NEW_AND_OLD, "PROVISIONED"),
    ],
    ids=["no-stream", "new-image-stream", "provisioned-without-autoscaling"],
)
def test_replica_refused_without_new_and_old_images_stream_or_elastic_writes(
        localcloud: LocalCloudProcess, stream: dict[str, Any] | None, billing: str) -> None:
    name = unique("refused")
    east = localcloud.client("dynamodb", PRIMARY)
    west = localcloud.client("dynamodb", SECONDARY)
    create_table(east, name, stream=stream, billing=billing)

    with pytest.raises(ClientError) as refused:
        add_replica(east, name, SECONDARY)

    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "Replicas" not in east.describe_table(TableName=name)["Table"]
    assert name not in west.list_tables()["TableNames"]


def test_provisioned_table_with_autoscaled_writes_can_get_a_replica(
        localcloud: LocalCloudProcess) -> None:
    name = unique("scaled")
    east = localcloud.client("dynamodb", PRIMARY)
    create_table(east, name, billing="PROVISIONED")
    localcloud.client("application-autoscaling", PRIMARY).register_scalable_target(
        ServiceNamespace="dynamodb", ResourceId=f"table/{name}",
        ScalableDimension="dynamodb:table:WriteCapacityUnits", MinCapacity=5, MaxCapacity=50)

    add_replica(east, name, SECONDARY)

    west_view = localcloud.client("dynamodb", SECONDARY).describe_table(TableName=name)["Table"]
    assert west_view["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    assert west_view["ProvisionedThroughput"]["WriteCapacityUnits"] == 5


@pytest.mark.parametrize("action", ["Create", "Delete"])
def test_replica_updates_cannot_name_the_local_region(global_table: tuple[str, Any, Any],
                                                      action: str) -> None:
    name, east, _ = global_table
    with pytest.raises(ClientError) as refused:
        east.update_table(TableName=name, ReplicaUpdates=[{action: {"RegionName": PRIMARY}}])
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "local region" in refused.value.response["Error"]["Message"]


def test_a_second_replica_in_the_same_region_is_refused(
        global_table: tuple[str, Any, Any]) -> None:
    name, east, _ = global_table
    with pytest.raises(ClientError) as refused:
        add_replica(east, name, SECONDARY)
    assert refused.value.response["Error"]["Code"] == "ValidationException"


# -- Every write path replicates --------------------------------------------------------


def put(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={**key("a"), "n": {"N": "1"}})


def update(ddb: Any, table: str) -> None:
    ddb.update_item(TableName=table, Key=key("a"), UpdateExpression="SET n = :n",
                    ExpressionAttributeValues={":n": {"N": "1"}})


def batch(ddb: Any, table: str) -> None:
    ddb.batch_write_item(RequestItems={table: [
        {"PutRequest": {"Item": {**key("a"), "n": {"N": "1"}}}},
        {"PutRequest": {"Item": {**key("a", "2"), "n": {"N": "2"}}}},
    ]})


def transaction(ddb: Any, table: str) -> None:
    ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": table, "Item": {**key("a"), "n": {"N": "1"}},
                 "ConditionExpression": "attribute_not_exists(pk)"}},
        {"Update": {"TableName": table, "Key": key("a", "2"), "UpdateExpression": "SET n = :n",
                    "ExpressionAttributeValues": {":n": {"N": "2"}}}},
    ])


def partiql(ddb: Any, table: str) -> None:
    ddb.execute_statement(Statement=f"INSERT INTO \"{table}\" VALUE {{'pk': 'a', 'sk': '1', "
                                    "'n': 1}")


@pytest.mark.parametrize("write", [put, update, batch, transaction, partiql],
                         ids=lambda w: w.__name__)
@pytest.mark.parametrize("direction", ["east-to-west", "west-to-east"])
def test_every_write_path_reaches_the_other_replica(global_table: tuple[str, Any, Any],
                                                    write: Any, direction: str) -> None:
    name, east, west = global_table
    source, target = (east, west) if direction == "east-to-west" else (west, east)

    write(source, name)

    replicated = wait_for(lambda: get(target, name, "a"), message="the replicated item")
    assert replicated == get(source, name, "a")
    assert replicated["n"] == {"N": "1"}
    if write in (batch, transaction):
        assert wait_for(lambda: get(target, name, "a", "2"))["n"] == {"N": "2"}


@pytest.mark.parametrize("how", ["delete_item", "batch", "transaction", "partiql"])
def test_deletes_reach_the_other_replica(global_table: tuple[str, Any, Any], how: str) -> None:
    name, east, west = global_table
    east.put_item(TableName=name, Item={**key("gone"), "n": {"N": "1"}})
    wait_for(lambda: get(west, name, "gone"), message="the item in the replica")

    if how == "delete_item":
        west.delete_item(TableName=name, Key=key("gone"))
    elif how == "batch":
        west.batch_write_item(RequestItems={name: [{"DeleteRequest": {"Key": key("gone")}}]})
    elif how == "transaction":
        west.transact_write_items(TransactItems=[{"Delete": {"TableName": name,
                                                              "Key": key("gone")}}])
    else:
        west.execute_statement(Statement=f"DELETE FROM \"{name}\" WHERE pk = 'gone' AND sk = '1'")

    wait_for(lambda: get(east, name, "gone") is None, message="the delete in the other replica")


def test_failed_conditional_writes_replicate_nothing(global_table: tuple[str, Any, Any]) -> None:
    name, east, west = global_table
    east.put_item(TableName=name, Item={**key("held"), "v": {"S": "original"}})
    wait_for(lambda: get(west, name, "held"), message="the item in the replica")

    with pytest.raises(ClientError) as failed_put:
        east.put_item(TableName=name, Item={**key("held"), "v": {"S": "overwritten"}},
                      ConditionExpression="attribute_not_exists(pk)")
    assert failed_put.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    with pytest.raises(ClientError) as failed_transaction:
        east.transact_write_items(TransactItems=[
            {"Put": {"TableName": name, "Item": {**key("fresh"), "v": {"S": "x"}}}},
            {"ConditionCheck": {"TableName": name, "Key": key("held"),
                                "ConditionExpression": "attribute_not_exists(pk)"}},
        ])
    assert failed_transaction.value.response["Error"]["Code"] == "TransactionCanceledException"
    # A later write that does replicate: once it arrived, the failed ones would have too.
    east.put_item(TableName=name, Item={**key("marker"), "v": {"S": "after"}})
    wait_for(lambda: get(west, name, "marker"), message="the marker in the replica")

    assert get(west, name, "held")["v"] == {"S": "original"}
    assert get(west, name, "fresh") is None
    assert get(east, name, "fresh") is None


def test_conditional_put_sees_replicated_items_in_both_regions(
        global_table: tuple[str, Any, Any]) -> None:
    name, east, west = global_table
    first_order = {**key("order-7"), "by": {"S": "east"}}
    east.put_item(TableName=name, Item=first_order, ConditionExpression="attribute_not_exists(pk)")
    wait_for(lambda: get(west, name, "order-7"), message="the order in the replica")

    for ddb in (west, east):
        with pytest.raises(ClientError) as duplicate:
            ddb.put_item(TableName=name, Item={**key("order-7"), "by": {"S": "again"}},
                         ConditionExpression="attribute_not_exists(pk)")
        assert duplicate.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert get(west, name, "order-7") == get(east, name, "order-7") == first_order


def stream_records(localcloud: LocalCloudProcess, ddb: Any, table: str,
                   region: str) -> list[dict[str, Any]]:
    streams = localcloud.client("dynamodbstreams", region)
    arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    return streams.get_records(ShardIterator=iterator)["Records"]


def test_replicated_writes_show_in_the_replica_stream_once_and_never_echo(
        localcloud: LocalCloudProcess, global_table: tuple[str, Any, Any]) -> None:
    name, east, west = global_table
    east.put_item(TableName=name, Item={**key("s"), "v": {"S": "one"}})
    east.update_item(TableName=name, Key=key("s"), UpdateExpression="SET v = :v",
                     ExpressionAttributeValues={":v": {"S": "two"}})
    wait_for(lambda: (get(west, name, "s") or {}).get("v") == {"S": "two"},
             message="the update in the replica")
    wait_for(lambda: localcloud.status()["replication"]["pending"] == 0,
             message="replication to drain")

    west_records = stream_records(localcloud, west, name, SECONDARY)
    east_records = stream_records(localcloud, east, name, PRIMARY)

    assert [r["eventName"] for r in west_records] == ["INSERT", "MODIFY"]
    assert {r["awsRegion"] for r in west_records} == {SECONDARY}
    assert west_records[1]["dynamodb"]["OldImage"]["v"] == {"S": "one"}
    assert west_records[1]["dynamodb"]["NewImage"]["v"] == {"S": "two"}
    # The source's stream holds its own writes only: the replica did not send them back.
    assert len([r for r in east_records if r["eventName"] == "MODIFY"]) == 1
    assert {r["awsRegion"] for r in east_records} == {PRIMARY}


def test_deleting_one_replica_leaves_the_other_standing(
        localcloud: LocalCloudProcess, global_table: tuple[str, Any, Any]) -> None:
    name, east, west = global_table
    east.put_item(TableName=name, Item={**key("kept")})

    west.delete_table(TableName=name)

    assert name not in west.list_tables()["TableNames"]
    east_view = east.describe_table(TableName=name)["Table"]
    assert "Replicas" not in east_view
    assert get(east, name, "kept") is not None
    east.put_item(TableName=name, Item={**key("later")})  # nothing left to replicate to
    assert not any(t["table_name"] == name and SECONDARY in t["regions"]
                   for t in localcloud.status()["replication"]["global_tables"])
    assert name not in west.list_tables()["TableNames"]


def test_replica_delete_through_update_table(localcloud: LocalCloudProcess,
                                             global_table: tuple[str, Any, Any]) -> None:
    name, east, west = global_table

    answer = east.update_table(TableName=name,
                               ReplicaUpdates=[{"Delete": {"RegionName": SECONDARY}}])

    assert "Replicas" not in answer["TableDescription"]
    assert name not in west.list_tables()["TableNames"]
    assert "Replicas" not in east.describe_table(TableName=name)["Table"]


def test_status_reports_global_tables_and_lag(localcloud: LocalCloudProcess,
                                              global_table: tuple[str, Any, Any]) -> None:
    name, _, _ = global_table
    status = localcloud.status()["replication"]
    assert status["replication_lag_seconds"] == pytest.approx(0.1)
    mine = [t for t in status["global_tables"] if t["table_name"] == name]
    assert mine == [{"account_id": "123456789012", "table_name": name, "version": "2019.11.21",
                     "regions": [PRIMARY, SECONDARY]}]
    assert isinstance(status["pending"], int)


# -- Global tables version 2017.11.29 (legacy API) -------------------------------------------


def test_legacy_create_global_table_links_existing_empty_tables(
        localcloud: LocalCloudProcess) -> None:
    name = unique("legacy")
    east = localcloud.client("dynamodb", PRIMARY)
    west = localcloud.client("dynamodb", SECONDARY)
    create_table(east, name)
    create_table(west, name)

    created = east.create_global_table(
        GlobalTableName=name,
        ReplicationGroup=[{"RegionName": PRIMARY}, {"RegionName": SECONDARY}],
    )["GlobalTableDescription"]

    assert created["GlobalTableStatus"] == "ACTIVE"
    assert created["GlobalTableArn"] == f"arn:aws:dynamodb::123456789012:global-table/{name}"
    described = west.describe_global_table(GlobalTableName=name)["GlobalTableDescription"]
    assert [r["RegionName"] for r in described["ReplicationGroup"]] == [PRIMARY, SECONDARY]
    listed = east.list_global_tables(RegionName=SECONDARY)["GlobalTables"]
    assert name in [t["GlobalTableName"] for t in listed]
    assert "GlobalTableVersion" not in east.describe_table(TableName=name)["Table"]
    west.put_item(TableName=name, Item={**key("legacy-item")})
    wait_for(lambda: get(east, name, "legacy-item"), message="legacy replication")

    with pytest.raises(ClientError) as again:
        east.create_global_table(GlobalTableName=name,
                                 ReplicationGroup=[{"RegionName": PRIMARY}])
    assert again.value.response["Error"]["Code"] == "GlobalTableAlreadyExistsException"


def test_legacy_api_refuses_missing_and_current_version_tables(
        global_table: tuple[str, Any, Any]) -> None:
    name, east, _ = global_table
    with pytest.raises(ClientError) as current:
        east.describe_global_table(GlobalTableName=name)
    assert current.value.response["Error"]["Code"] == "GlobalTableNotFoundException"
    with pytest.raises(ClientError) as missing:
        east.create_global_table(GlobalTableName=unique("absent"),
                                 ReplicationGroup=[{"RegionName": PRIMARY}])
    assert missing.value.response["Error"]["Code"] == "TableNotFoundException"


def test_legacy_update_global_table_adds_and_removes_members(
        localcloud: LocalCloudProcess) -> None:
    name = unique("legacy-grow")
    east = localcloud.client("dynamodb", PRIMARY)
    west = localcloud.client("dynamodb", SECONDARY)
    create_table(east, name)
    east.create_global_table(GlobalTableName=name, ReplicationGroup=[{"RegionName": PRIMARY}])
    east.put_item(TableName=name, Item={**key("old")})
    create_table(west, name)

    grown = east.update_global_table(GlobalTableName=name,
                                     ReplicaUpdates=[{"Create": {"RegionName": SECONDARY}}])

    assert [r["RegionName"] for r in grown["GlobalTableDescription"]["ReplicationGroup"]] == [
        PRIMARY, SECONDARY]
    assert get(west, name, "old") is not None
    with pytest.raises(ClientError) as duplicate:
        east.update_global_table(GlobalTableName=name,
                                 ReplicaUpdates=[{"Create": {"RegionName": SECONDARY}}])
    assert duplicate.value.response["Error"]["Code"] == "ReplicaAlreadyExistsException"

    shrunk = east.update_global_table(GlobalTableName=name,
                                      ReplicaUpdates=[{"Delete": {"RegionName": SECONDARY}}])

    assert [r["RegionName"] for r in shrunk["GlobalTableDescription"]["ReplicationGroup"]] == [
        PRIMARY]
    assert name in west.list_tables()["TableNames"]  # leaving the group keeps the table
