"""``AWS::DynamoDB::GlobalTable`` on top of the local cloud's global tables.

The replicas are made and linked by ``localcloud.replication`` (``create_global_table``,
``update_replicas``, ``delete_global_table``, ``replica_regions``); this model turns the template
into moto's ``create_table`` arguments and applies the per-replica settings through the
backend calls the API uses in each replica's region: point-in-time recovery
(``update_continuous_backups``), tags (``tag_resource``), deletion protection, and the table's
TTL (``update_time_to_live``).

Ref is the table name; GetAtt ``Arn``, ``StreamArn`` and ``TableId`` describe the replica in
the stack's region. As on AWS the stack's region must be one of the replicas, and a table with
more than one replica needs a ``StreamSpecification``. Deleting the resource deletes every
replica.
"""

from __future__ import annotations

import uuid
from typing import Any

from moto.cloudformation.exceptions import ValidationError
from moto.core.common_models import CloudFormationModel
from moto.dynamodb.models import dynamodb_backends

from .model import LocalModel, as_bool, tags_list


def _replication() -> Any:
    from .. import replication

    return replication


def table_kwargs(properties: dict[str, Any]) -> dict[str, Any]:
    """GlobalTable properties → moto's ``create_table`` keyword arguments, without ``name``."""
    billing_mode = properties.get("BillingMode") or "PROVISIONED"
    throughput = None
    write = properties.get("WriteProvisionedThroughputSettings") or {}
    if billing_mode == "PROVISIONED":
        capacity = (write.get("WriteCapacityAutoScalingSettings") or {}).get("MinCapacity", 5)
        throughput = {"ReadCapacityUnits": 5, "WriteCapacityUnits": int(capacity)}
    stream = properties.get("StreamSpecification")
    streams = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]} \
        if stream else None
    sse = properties.get("SSESpecification")
    sse_specification = None
    if sse:
        sse_specification = {"Enabled": bool(as_bool(sse.get("SSEEnabled"), False))}
        if sse.get("SSEType"):
            sse_specification["SSEType"] = sse["SSEType"]
    indexes = []
    for index in properties.get("GlobalSecondaryIndexes") or []:
        converted = {k: index[k] for k in ("IndexName", "KeySchema", "Projection") if k in index}
        if throughput:
            converted["ProvisionedThroughput"] = dict(throughput)
        indexes.append(converted)
    return {
        "schema": properties["KeySchema"],
        "throughput": throughput,
        "attr": properties["AttributeDefinitions"],
        "global_indexes": indexes or None,
        "indexes": properties.get("LocalSecondaryIndexes") or None,
        "streams": streams,
        "billing_mode": billing_mode,
        "sse_specification": sse_specification,
        "tags": [],
        "deletion_protection_enabled": False,
        "warm_throughput": None,
    }


class GlobalTable(LocalModel, CloudFormationModel):
    TYPE = "AWS::DynamoDB::GlobalTable"
    NAME_PROPERTY = "TableName"
    ATTRIBUTES = ("Arn", "StreamArn", "TableId")

    @classmethod
    def _regions(cls, region_name: str, properties: dict[str, Any]) -> list[str]:
        regions = [r["Region"] for r in properties.get("Replicas") or []]
        if region_name not in regions:
            raise ValidationError(message=(
                f"You must specify a replica in the region where the stack is deployed "
                f"({region_name}); Replicas lists {regions}."))
        if len(regions) > 1 and not properties.get("StreamSpecification"):
            raise ValidationError(message=(
                "StreamSpecification is required for a global table with more than one "
                "replica (StreamViewType NEW_AND_OLD_IMAGES)."))
        return regions

    @classmethod
    def create(cls, account_id: str, region_name: str, properties: dict[str, Any],
               context: dict[str, str]) -> GlobalTable:
        properties = dict(properties)
        properties.setdefault("TableName", context["resource_name"])
        regions = cls._regions(region_name, properties)
        _replication().create_global_table(account_id, properties["TableName"], regions,
                                           table_kwargs(properties))
        handle = cls(account_id, region_name, properties["TableName"], properties)
        handle._replica_settings(properties)
        return handle

    def _replica_settings(self, properties: dict[str, Any]) -> None:
        ttl = properties.get("TimeToLiveSpecification")
        for replica in properties.get("Replicas") or []:
            backend = dynamodb_backends[self.account_id][replica["Region"]]
            table = backend.get_table(self.physical_id)
            pitr = replica.get("PointInTimeRecoverySpecification") or {}
            enabled = bool(as_bool(pitr.get("PointInTimeRecoveryEnabled"), False))
            backend.update_continuous_backups(self.physical_id,
                                              {"PointInTimeRecoveryEnabled": enabled})
            table.tags = tags_list(replica.get("Tags"))
            table.deletion_protection_enabled = bool(
                as_bool(replica.get("DeletionProtectionEnabled"), False))
            if ttl and as_bool(ttl.get("Enabled")):
                backend.update_time_to_live(self.physical_id, {
                    "Enabled": True, "AttributeName": ttl["AttributeName"]})
            elif table.ttl.get("TimeToLiveStatus") == "ENABLED":
                backend.update_time_to_live(self.physical_id, {
                    "Enabled": False, "AttributeName": table.ttl.get("AttributeName", "")})

    def update(self, properties: dict[str, Any], new_name: str) -> GlobalTable | None:
        properties = dict(properties)
        properties.setdefault("TableName", self.physical_id)
        if properties["TableName"] != self.physical_id or \
                properties.get("KeySchema") != self.properties.get("KeySchema"):
            return None
        regions = self._regions(self.region_name, properties)
        _replication().update_replicas(self.account_id, self.physical_id, regions,
                                       table_kwargs(properties))
        self._replica_settings(properties)
        self.properties = properties
        return self

    def remove(self) -> None:
        if _replication().replica_regions(self.account_id, self.physical_id):
            _replication().delete_global_table(self.account_id, self.physical_id)
            return
        backend = dynamodb_backends[self.account_id][self.region_name]
        if self.physical_id in backend.tables:
            backend.delete_table(self.physical_id)

    def attribute(self, name: str) -> Any:
        table = dynamodb_backends[self.account_id][self.region_name].get_table(self.physical_id)
        if name == "Arn":
            return table.table_arn
        if name == "StreamArn":
            if not table.latest_stream_label:
                return None
            return f"{table.table_arn}/stream/{table.latest_stream_label}"
        if not getattr(table, "table_id", None):
            table.table_id = str(uuid.uuid4())
        return table.table_id
