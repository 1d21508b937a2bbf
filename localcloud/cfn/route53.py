"""Route 53 in templates: health checks, hosted zones and records as the API makes them.

moto's HealthCheck model drops ``Inverted``, ``Disabled``, ``EnableSNI``, ``MeasureLatency``,
``Regions`` and the tags, cannot update and is never deleted; its HostedZone model ignores
the configuration and is never deleted; its RecordSet deletes every record with the same name
(both records of a failover pair) and adds records around the API's change journal, so the
API could not delete them later. These models go through the backend calls the API uses:
``create_health_check``/``update_health_check``/``delete_health_check``,
``change_tags_for_resource``, ``create_hosted_zone``/``delete_hosted_zone`` and
``change_resource_record_sets`` (CREATE/DELETE with the full record, as a client would), so
a stack's zones and records come out as the API's do: names and alias targets lower case and
fully qualified, alias hosted zone ids upper case, a new zone with Route 53's NS and SOA.
Health checks then get what ``route53.apply_extras`` gives API-created ones (AlarmIdentifier,
InsufficientDataHealthStatus, Port and EnableSNI defaults by type), and an in-place update bumps
HealthCheckVersion as UpdateHealthCheck does.

Ref: HealthCheck → id (GetAtt HealthCheckId); HostedZone → zone id (GetAtt Id, NameServers);
RecordSet → the record name; RecordSetGroup → a generated id (GetAtt Id).
"""

from __future__ import annotations

import copy
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.route53.models import route53_backends
from moto.utilities.utils import get_partition

from ..route53 import apply_extras
from . import core
from .model import LocalModel, as_bool, tags_list

# HealthCheckConfig fields the API cannot change on an existing health check.
IMMUTABLE_HEALTH_CHECK_FIELDS = ("Type", "RequestInterval", "MeasureLatency")


def backend(account_id: str, region_name: str) -> Any:
    return route53_backends[account_id][get_partition(region_name)]


def health_check_args(config: dict[str, Any]) -> dict[str, Any]:
    """HealthCheckConfig (template names) → the arguments moto's backend takes."""
    def integer(key: str) -> int | None:
        return int(config[key]) if config.get(key) is not None else None

    return {
        "ip_address": config.get("IPAddress"),
        "port": integer("Port"),
        "type": config.get("Type"),
        "resource_path": config.get("ResourcePath"),
        "fqdn": config.get("FullyQualifiedDomainName"),
        "search_string": config.get("SearchString"),
        "request_interval": integer("RequestInterval"),
        "failure_threshold": integer("FailureThreshold"),
        "health_threshold": integer("HealthThreshold"),
        "measure_latency": as_bool(config.get("MeasureLatency")),
        "inverted": as_bool(config.get("Inverted")),
        "disabled": as_bool(config.get("Disabled")),
        "enable_sni": as_bool(config.get("EnableSNI")),
        "children": config.get("ChildHealthChecks") or [],
        "regions": config.get("Regions") or [],
    }


class HealthCheck(LocalModel, CloudFormationModel):
    TYPE = "AWS::Route53::HealthCheck"
    ATTRIBUTES = ("HealthCheckId",)

    @classmethod
    def create(cls, account_id: str, region_name: str, properties: dict[str, Any],
               context: dict[str, str]) -> HealthCheck:
        r53 = backend(account_id, region_name)
        config = properties["HealthCheckConfig"]
        caller_reference = core.generated_id(context["stack_name"], context["logical_id"])
        check = r53.create_health_check(caller_reference, health_check_args(config))
        apply_extras(check, config)
        handle = cls(account_id, region_name, check.id, properties)
        handle._tag(properties.get("HealthCheckTags"), [])
        return handle

    def _tag(self, tags: Any, remove_keys: list[str]) -> None:
        if tags or remove_keys:
            backend(self.account_id, self.region_name).change_tags_for_resource(
                "healthcheck", self.physical_id, tags_list(tags), remove_keys)

    def update(self, properties: dict[str, Any], new_name: str) -> HealthCheck | None:
        config = properties["HealthCheckConfig"]
        old_config = self.properties["HealthCheckConfig"]
        if any(config.get(k) != old_config.get(k) for k in IMMUTABLE_HEALTH_CHECK_FIELDS):
            return None
        r53 = backend(self.account_id, self.region_name)
        args = health_check_args(config)
        # Unset booleans return to their defaults, as an UpdateHealthCheck with them would
        # (EnableSNI's default depends on the type: apply_extras sets it).
        for key in ("inverted", "disabled"):
            if args[key] is None:
                args[key] = False
        check = r53.update_health_check(self.physical_id, args)
        apply_extras(check, config)
        check.health_check_version += 1  # moto's backend leaves that to its response layer
        new_tags = {t["Key"] for t in tags_list(properties.get("HealthCheckTags"))}
        old_tags = {t["Key"] for t in tags_list(self.properties.get("HealthCheckTags"))}
        self._tag(properties.get("HealthCheckTags"), sorted(old_tags - new_tags))
        self.properties = properties
        return self

    def remove(self) -> None:
        r53 = backend(self.account_id, self.region_name)
        r53.delete_health_check(self.physical_id)
        r53.resource_tags.pop(self.physical_id, None)

    def attribute(self, name: str) -> Any:
        return self.physical_id


class HostedZone(LocalModel, CloudFormationModel):
    TYPE = "AWS::Route53::HostedZone"
    ATTRIBUTES = ("Id", "NameServers")

    @classmethod
    def create(cls, account_id: str, region_name: str, properties: dict[str, Any],
               context: dict[str, str]) -> HostedZone:
        vpcs = properties.get("VPCs") or []
        comment = (properties.get("HostedZoneConfig") or {}).get("Comment")
        zone = backend(account_id, region_name).create_hosted_zone(
            properties["Name"], private_zone=bool(vpcs), comment=comment,
            vpcid=vpcs[0]["VPCId"] if vpcs else None,
            vpcregion=vpcs[0]["VPCRegion"] if vpcs else None)
        handle = cls(account_id, region_name, zone.resource_id, properties)
        tags = tags_list(properties.get("HostedZoneTags"))
        if tags:
            backend(account_id, region_name).change_tags_for_resource(
                "hostedzone", zone.resource_id, tags, [])
        return handle

    def update(self, properties: dict[str, Any], new_name: str) -> HostedZone | None:
        if properties.get("Name") != self.properties.get("Name"):
            return None
        zone = backend(self.account_id, self.region_name).get_hosted_zone(self.physical_id)
        zone.comment = (properties.get("HostedZoneConfig") or {}).get("Comment")
        self.properties = properties
        return self

    def remove(self) -> None:
        backend(self.account_id, self.region_name).delete_hosted_zone(self.physical_id)

    def attribute(self, name: str) -> Any:
        if name == "Id":
            return self.physical_id
        zone = backend(self.account_id, self.region_name).get_hosted_zone(self.physical_id)
        delegation = zone.delegation_set
        if delegation is not None:
            return list(delegation.name_servers)
        from moto.route53.models import DelegationSet

        return list(DelegationSet("", None, None).name_servers)


# -- records -----------------------------------------------------------------------------------


def _zone_id(account_id: str, region_name: str, properties: dict[str, Any]) -> str:
    r53 = backend(account_id, region_name)
    if properties.get("HostedZoneId"):
        return str(properties["HostedZoneId"]).split("/")[-1]
    zone = r53.get_hosted_zone_by_name(properties["HostedZoneName"])
    if zone is None:
        from moto.route53.exceptions import NoSuchHostedZone

        raise NoSuchHostedZone(properties["HostedZoneName"])
    return zone.resource_id


def record_change(record: dict[str, Any]) -> dict[str, Any]:
    """A template record (RecordSet properties) → a ResourceRecordSet of the API."""
    api: dict[str, Any] = {"Name": record["Name"], "Type": record["Type"]}
    for key in ("SetIdentifier", "Failover", "HealthCheckId", "Region", "GeoLocation",
                "MultiValueAnswer", "CidrRoutingConfig", "GeoProximityLocation"):
        if record.get(key) is not None:
            api[key] = record[key]
    if record.get("TTL") is not None:
        api["TTL"] = int(record["TTL"])
    if record.get("Weight") is not None:
        api["Weight"] = int(record["Weight"])
    if record.get("ResourceRecords"):
        api["ResourceRecords"] = [{"Value": str(v)} for v in record["ResourceRecords"]]
    alias = record.get("AliasTarget")
    if alias:
        api["AliasTarget"] = {
            "HostedZoneId": alias["HostedZoneId"],
            "DNSName": alias["DNSName"],
            "EvaluateTargetHealth": bool(as_bool(alias.get("EvaluateTargetHealth"), False)),
        }
    return api


def change_records(account_id: str, region_name: str, zone_id: str, action: str,
                   records: list[dict[str, Any]]) -> None:
    changes = [{"Action": action, "ResourceRecordSet": record_change(copy.deepcopy(r))}
               for r in records]
    backend(account_id, region_name).change_resource_record_sets(zone_id, changes)


class RecordSet(LocalModel, CloudFormationModel):
    TYPE = "AWS::Route53::RecordSet"

    @classmethod
    def create(cls, account_id: str, region_name: str, properties: dict[str, Any],
               context: dict[str, str]) -> RecordSet:
        zone_id = _zone_id(account_id, region_name, properties)
        change_records(account_id, region_name, zone_id, "CREATE", [properties])
        handle = cls(account_id, region_name, properties["Name"], properties)
        handle.zone_id = zone_id
        return handle

    def update(self, properties: dict[str, Any], new_name: str) -> RecordSet | None:
        if properties["Name"] != self.physical_id:
            return None  # a record with another name: replacement
        self.remove()
        return RecordSet.create(self.account_id, self.region_name, properties, {})

    def remove(self) -> None:
        zone_id = getattr(self, "zone_id", None) or _zone_id(
            self.account_id, self.region_name, self.properties)
        r53 = backend(self.account_id, self.region_name)
        if zone_id in r53.zones:
            change_records(self.account_id, self.region_name, zone_id, "DELETE",
                           [self.properties])


class RecordSetGroup(LocalModel, CloudFormationModel):
    TYPE = "AWS::Route53::RecordSetGroup"
    ATTRIBUTES = ("Id",)

    @classmethod
    def create(cls, account_id: str, region_name: str, properties: dict[str, Any],
               context: dict[str, str]) -> RecordSetGroup:
        zone_id = _zone_id(account_id, region_name, properties)
        change_records(account_id, region_name, zone_id, "CREATE",
                       properties.get("RecordSets") or [])
        handle = cls(account_id, region_name,
                     core.generated_id(context.get("stack_name", "stack"),
                                       context.get("logical_id", "group")), properties)
        handle.zone_id = zone_id
        return handle

    def update(self, properties: dict[str, Any], new_name: str) -> RecordSetGroup:
        self.remove()
        created = RecordSetGroup.create(self.account_id, self.region_name, properties, {})
        created.physical_id = self.physical_id
        return created

    def remove(self) -> None:
        zone_id = getattr(self, "zone_id", None) or _zone_id(
            self.account_id, self.region_name, self.properties)
        if zone_id in backend(self.account_id, self.region_name).zones:
            change_records(self.account_id, self.region_name, zone_id, "DELETE",
                           self.properties.get("RecordSets") or [])

    def attribute(self, name: str) -> Any:
        return self.physical_id
