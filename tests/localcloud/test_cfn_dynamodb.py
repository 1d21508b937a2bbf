"""AWS::DynamoDB::GlobalTable through CloudFormation: a table in every replica region."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError
from conftest import PRIMARY, SECONDARY, wait_for

THIRD = "eu-west-1"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def global_table(name: str, replicas: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "Resources": {"Table": {"Type": "AWS::DynamoDB::GlobalTable", "Properties": {
            "TableName": name,
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
            "SSESpecification": {"SSEEnabled": True},
            "Replicas": replicas,
            **extra,
        }}},
        "Outputs": {
            "Name": {"Value": {"Ref": "Table"}},
            "Arn": {"Value": {"Fn::GetAtt": ["Table", "Arn"]}},
            "StreamArn": {"Value": {"Fn::GetAtt": ["Table", "StreamArn"]}},
            "TableId": {"Value": {"Fn::GetAtt": ["Table", "TableId"]}},
        },
    }


def replica(region: str, pitr: bool = False, **extra: Any) -> dict[str, Any]:
    return {"Region": region,
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": pitr}, **extra}


def tables(cloud: Any, region: str) -> list[str]:
    return cloud.client("dynamodb", region).list_tables()["TableNames"]


def test_global_table_creates_replicas_with_their_settings(localcloud):
    cfn = localcloud.client("cloudformation", PRIMARY)
    name = unique("events")
    stack = unique("gt")
    cfn.create_stack(StackName=stack, TemplateBody=json.dumps(global_table(
        name, [replica(PRIMARY, pitr=True, Tags=[{"Key": "role", "Value": "primary"}]),
               replica(SECONDARY, pitr=True, DeletionProtectionEnabled=False)],
        TimeToLiveSpecification={"AttributeName": "expires", "Enabled": True})))

    described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    assert described["StackStatus"] == "CREATE_COMPLETE", described.get("StackStatusReason")
    out = {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]}
    assert out["Name"] == name
    assert out["Arn"] == f"arn:aws:dynamodb:{PRIMARY}:123456789012:table/{name}"
    assert out["StreamArn"].startswith(f"{out['Arn']}/stream/")
    assert out["TableId"]
    for region, other in ((PRIMARY, SECONDARY), (SECONDARY, PRIMARY)):
        ddb = localcloud.client("dynamodb", region)
        table = ddb.describe_table(TableName=name)["Table"]
        assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        assert [r["RegionName"] for r in table.get("Replicas", [])] == [other]
        backups = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == \
            "ENABLED"
        ttl = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}
    tags = localcloud.client("dynamodb", PRIMARY).list_tags_of_resource(ResourceArn=out["Arn"])
    assert tags["Tags"] == [{"Key": "role", "Value": "primary"}]

    # What is written in one region shows up in the other: the replicas are linked.
    localcloud.client("dynamodb", PRIMARY).put_item(TableName=name, Item={"id": {"S": "a"}})
    wait_for(lambda: localcloud.client("dynamodb", SECONDARY).get_item(
        TableName=name, Key={"id": {"S": "a"}}).get("Item"), message="replicated item")

    cfn.delete_stack(StackName=stack)
    assert name not in tables(localcloud, PRIMARY)
    assert name not in tables(localcloud, SECONDARY)


def test_update_adds_and_removes_replicas(localcloud):
    cfn = localcloud.client("cloudformation", PRIMARY)
    name, stack = unique("grow"), unique("gt-update")
    cfn.create_stack(StackName=stack, TemplateBody=json.dumps(global_table(
        name, [replica(PRIMARY), replica(SECONDARY)])))
    localcloud.client("dynamodb", PRIMARY).put_item(TableName=name, Item={"id": {"S": "old"}})

    cfn.update_stack(StackName=stack, TemplateBody=json.dumps(global_table(
        name, [replica(PRIMARY), replica(THIRD, pitr=True)])))

    assert cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"
    assert name not in tables(localcloud, SECONDARY)
    third = localcloud.client("dynamodb", THIRD)
    assert third.get_item(TableName=name, Key={"id": {"S": "old"}}).get("Item")
    backups = third.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    cfn.delete_stack(StackName=stack)
    assert name not in tables(localcloud, PRIMARY) + tables(localcloud, THIRD)


@pytest.mark.parametrize("case", ["stack-region-missing", "no-stream"])
def test_invalid_global_table_fails_the_stack(localcloud, case):
    cfn = localcloud.client("cloudformation", PRIMARY)
    name, stack = unique("invalid"), unique("gt-invalid")
    template = global_table(name, [replica(SECONDARY), replica(THIRD)]) \
        if case == "stack-region-missing" else global_table(
            name, [replica(PRIMARY), replica(SECONDARY)])
    if case == "no-stream":
        del template["Resources"]["Table"]["Properties"]["StreamSpecification"]
    cfn.create_stack(StackName=stack, TemplateBody=json.dumps(template))

    described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    assert described["StackStatus"] == "ROLLBACK_COMPLETE"
    events = cfn.describe_stack_events(StackName=stack)["StackEvents"]
    (reason,) = [e["ResourceStatusReason"] for e in events if e["ResourceStatus"] ==
                 "CREATE_FAILED"]
    assert {"stack-region-missing": f"replica in the region where the stack is deployed "
            f"({PRIMARY})", "no-stream": "StreamSpecification is required"}[case] in reason
    for region in (PRIMARY, SECONDARY, THIRD):
        assert name not in tables(localcloud, region)
    cfn.delete_stack(StackName=stack)


def test_deletion_protection_keeps_the_stack_from_deleting_the_table(localcloud):
    cfn = localcloud.client("cloudformation", PRIMARY)
    name, stack = unique("protected"), unique("gt-protected")
    cfn.create_stack(StackName=stack, TemplateBody=json.dumps(global_table(
        name, [replica(PRIMARY, DeletionProtectionEnabled=True)])))
    ddb = localcloud.client("dynamodb", PRIMARY)
    assert ddb.describe_table(TableName=name)["Table"]["DeletionProtectionEnabled"] is True

    cfn.delete_stack(StackName=stack)

    described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    assert described["StackStatus"] == "DELETE_FAILED"
    assert "[Table]" in described["StackStatusReason"]
    assert name in tables(localcloud, PRIMARY)
    ddb.update_table(TableName=name, DeletionProtectionEnabled=False)
    cfn.delete_stack(StackName=stack)
    with pytest.raises(ClientError, match="does not exist"):
        cfn.describe_stacks(StackName=stack)
    assert name not in tables(localcloud, PRIMARY)
