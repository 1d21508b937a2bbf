"""Route 53 API fixes on top of moto.

- GetHealthCheckStatus returns what the health checker (``healthchecks.py``) observed, one
  observation per checker region; none before the first probe (AWS shows none until a new
  check has propagated to its checkers). A CALCULATED check is refused, as on AWS.
- CreateHealthCheck keeps AlarmIdentifier and InsufficientDataHealthStatus (moto drops them),
  defaults Port to 443 for HTTPS checks (moto: always 80) and EnableSNI to true for HTTPS and
  HTTPS_STR_MATCH checks (moto: always false), as AWS does when the request omits them.
- UpdateHealthCheck honours every updatable field, ResetElements and HealthCheckVersion
  (moto clears ChildHealthChecks and Regions on every update and never bumps the version).
- DeleteHealthCheck of an unknown id is NoSuchHealthCheck (moto says nothing).
- ``apply_extras`` is what a CloudFormation model calls for the same settings (the
  AWS::Route53::HealthCheck model itself lives in ``cfn/route53.py``).
- ChangeResourceRecordSets: a DELETE with a SetIdentifier removes that record set only (moto
  removes every record set with that identifier, in any name).
- Names are case-insensitive and stored lower-case, as Route 53 stores them: record names in
  ChangeResourceRecordSets (moto refused upper-case ones as not in the zone) and the
  StartRecordName of ListResourceRecordSets, hosted zone names on create and lookup by name.
  Deviation: letters written as octal escape codes (``\\101``) are kept as written.
- TestDNSAnswer (moto: 404) answers from the resolver in ``dns.py``.

The health checker is told to look again after every create, update and delete, so a change
shows within one tick rather than one interval.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.route53 import urls as route53_urls
from moto.route53.exceptions import InvalidInput, Route53ClientError
from moto.route53.models import FakeZone, HealthCheck, Route53Backend
from moto.route53.responses import Route53

from . import runtime

TEST_DNS_ANSWER_PATH = r"{0}/(?P<api_version>[\d_-]+)/testdnsanswer$"
RESETTABLE = {
    "FullyQualifiedDomainName": "fqdn",
    "Regions": "regions",
    "ResourcePath": "resource_path",
    "ChildHealthChecks": "children",
}
# UpdateHealthCheck parameter -> HealthCheck attribute, for plain values.
UPDATABLE = {
    "IPAddress": "ip_address",
    "Port": "port",
    "ResourcePath": "resource_path",
    "FullyQualifiedDomainName": "fqdn",
    "SearchString": "search_string",
    "FailureThreshold": "failure_threshold",
    "Inverted": "inverted",
    "Disabled": "disabled",
    "HealthThreshold": "health_threshold",
    "EnableSNI": "enable_sni",
    "InsufficientDataHealthStatus": "insufficient_data_health_status",
}

_installed = False
_pending_deletes = threading.local()


def _wake_checker() -> None:
    current = runtime._CURRENT
    checker = current.components.get("health_checks") if current else None
    if checker is not None:
        checker.wake()


def _is_https(check_type: str | None) -> bool:
    return str(check_type or "").upper() in ("HTTPS", "HTTPS_STR_MATCH")


def _default_port(check_type: str | None, port: Any) -> int:
    if port:
        return int(port)
    return 443 if _is_https(check_type) else 80


def _enable_sni(check_type: str | None, given: Any) -> bool:
    """EnableSNI as given (a bool, or "true"/"false" from a template), else AWS's default."""
    if given is None or given == "":
        return _is_https(check_type)
    return given if isinstance(given, bool) else str(given).lower() == "true"


def apply_extras(check: HealthCheck, config: dict[str, Any]) -> None:
    """Give a new (or, from a template, replaced) HealthCheckConfig what moto drops or
    defaults differently from AWS: Port and EnableSNI defaults by type, AlarmIdentifier,
    InsufficientDataHealthStatus. ``config`` uses the API's (and template's) names."""
    check.port = _default_port(check.type_, config.get("Port"))
    check.enable_sni = _enable_sni(check.type_, config.get("EnableSNI"))
    alarm = config.get("AlarmIdentifier")
    check.alarm_identifier = dict(alarm) if alarm else None
    check.insufficient_data_health_status = config.get("InsufficientDataHealthStatus")


# -- HealthCheck model --------------------------------------------------------------------------


def _health_check_config(self: HealthCheck) -> dict[str, Any]:
    config: dict[str, Any] = {
        "Type": self.type_,
        "Inverted": self.inverted,
        "Disabled": self.disabled,
        "Regions": self.regions,
    }
    if self.type_ == "CALCULATED":
        config["HealthThreshold"] = self.health_threshold
        config["ChildHealthChecks"] = self.children
    elif self.type_ == "CLOUDWATCH_METRIC":
        config["AlarmIdentifier"] = getattr(self, "alarm_identifier", None)
        config["InsufficientDataHealthStatus"] = getattr(
            self, "insufficient_data_health_status", None)
    else:
        config.update({
            "IPAddress": self.ip_address,
            "Port": self.port,
            "ResourcePath": self.resource_path,
            "FullyQualifiedDomainName": self.fqdn,
            "SearchString": self.search_string,
            "RequestInterval": self.request_interval,
            "FailureThreshold": self.failure_threshold,
            "MeasureLatency": self.measure_latency,
            "EnableSNI": self.enable_sni,
        })
    return config


# -- Responses ----------------------------------------------------------------------------------


def _create_health_check(original: Any) -> Any:
    def create_health_check(self: Route53) -> ActionResult:
        result = original(self)
        check = result.result["HealthCheck"]
        apply_extras(check, self._get_param("HealthCheckConfig") or {})
        _wake_checker()
        return result

    return create_health_check


def _update_health_check(self: Route53) -> ActionResult:
    check = self.backend.get_health_check(self._get_param("HealthCheckId"))
    version = self._get_param("HealthCheckVersion")
    if version is not None and int(version) != check.health_check_version:
        raise Route53ClientError(
            "HealthCheckVersionMismatch",
            "The value of HealthCheckVersion in the request doesn't match the value of "
            "HealthCheckVersion in the health check.")
    for param, attr in UPDATABLE.items():
        value = self._get_param(param)
        if value is not None:
            setattr(check, attr, value)
    children = self._get_param("ChildHealthChecks")
    if children is not None:
        check.set_children(list(children))
    regions = self._get_param("Regions")
    if regions is not None:
        check.set_regions(list(regions))
    alarm = self._get_param("AlarmIdentifier")
    if alarm is not None:
        check.alarm_identifier = dict(alarm)
    for element in self._get_param("ResetElements") or []:
        if element not in RESETTABLE:
            raise InvalidInput(f"Invalid value for ResetElements: {element}")
        setattr(check, RESETTABLE[element], None)
    check.health_check_version += 1
    _wake_checker()
    return ActionResult({"HealthCheck": check})


def _delete_health_check(self: Route53) -> EmptyResult:
    check_id = self._get_param("HealthCheckId")
    self.backend.get_health_check(check_id)
    self.backend.delete_health_check(check_id)
    _wake_checker()
    return EmptyResult()


def _get_health_check_status(self: Route53) -> ActionResult:
    check_id = self._get_param("HealthCheckId")
    check = self.backend.get_health_check(check_id)
    if check.type_ == "CALCULATED":
        raise InvalidInput("You can't use GetHealthCheckStatus to get the status of a "
                           "calculated health check.")
    current = runtime._CURRENT
    checker = current.components.get("health_checks") if current else None
    observations = checker.observations(check_id) if checker is not None else []
    return ActionResult({"HealthCheckObservations": observations})


def _test_dns_answer(self: Route53) -> ActionResult:
    from .dns import Resolver

    zone = self.backend.get_hosted_zone(self._get_param("HostedZoneId"))
    record_name = self._get_param("RecordName")
    record_type = self._get_param("RecordType")
    answer = Resolver().resolve(record_name, record_type, zone_id=zone.resource_id)
    name_servers = zone.delegation_set.name_servers if zone.delegation_set else []
    return ActionResult({
        "Nameserver": name_servers[0] if name_servers else "localhost",
        "RecordName": record_name,
        "RecordType": record_type,
        "RecordData": answer.values,
        "ResponseCode": answer.rcode,
        "Protocol": "UDP",
    })


# -- Record sets --------------------------------------------------------------------------------


def _lower_record_names(change_list: list[dict[str, Any]]) -> list[dict[str, Any]]:
    lowered = []
    for change in change_list:
        record = change.get("ResourceRecordSet")
        if isinstance(record, dict) and isinstance(record.get("Name"), str):
            change = {**change, "ResourceRecordSet": {**record, "Name": record["Name"].lower()}}
        lowered.append(change)
    return lowered


def _change_resource_record_sets(original: Any) -> Any:
    def change_resource_record_sets(self: Route53Backend, zoneid: str,
                                    change_list: list[dict[str, Any]]) -> None:
        from .dns import normalize

        change_list = _lower_record_names(change_list)
        _pending_deletes.queue = [
            (normalize(c["ResourceRecordSet"]["Name"]), c["ResourceRecordSet"].get("Type"),
             c["ResourceRecordSet"]["SetIdentifier"])
            for c in change_list
            if c.get("Action") == "DELETE" and "SetIdentifier" in c.get("ResourceRecordSet", {})
        ]
        try:
            original(self, zoneid, change_list)
        finally:
            _pending_deletes.queue = []

    return change_resource_record_sets


def _delete_rrset_by_id(original: Any) -> Any:
    def delete_rrset_by_id(self: FakeZone, set_identifier: str) -> None:
        from .dns import normalize

        queue = getattr(_pending_deletes, "queue", None)
        if not queue or queue[0][2] != set_identifier:
            original(self, set_identifier)
            return
        name, rtype, _ = queue.pop(0)
        self.rrsets = [
            r for r in self.rrsets
            if not (r.set_identifier == set_identifier and normalize(r.name) == name
                    and (rtype is None or r.type == rtype))
        ]

    return delete_rrset_by_id


def _lower_name_argument(original: Any) -> Any:
    """A backend method whose first argument is a domain name (or None) gets it lower-case."""
    def lowered(self: Route53Backend, name: Any, *args: Any, **kwargs: Any) -> Any:
        return original(self, name.lower() if isinstance(name, str) else name, *args, **kwargs)

    return lowered


def _list_resource_record_sets(original: Any) -> Any:
    def list_resource_record_sets(self: Route53Backend, zone_id: str, start_type: Any,
                                  start_name: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(start_name, str):
            start_name = start_name.lower()
        return original(self, zone_id, start_type, start_name, *args, **kwargs)

    return list_resource_record_sets


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    # Before the first Route 53 request: moto builds its URL map from this dict then.
    route53_urls.url_paths.setdefault(TEST_DNS_ANSWER_PATH, Route53.dispatch)
    Route53.test_dns_answer = _test_dns_answer
    Route53.get_health_check_status = _get_health_check_status
    Route53.update_health_check = _update_health_check
    Route53.delete_health_check = _delete_health_check
    Route53.create_health_check = _create_health_check(Route53.create_health_check)
    HealthCheck.health_check_config = property(_health_check_config)
    Route53Backend.change_resource_record_sets = _change_resource_record_sets(
        Route53Backend.change_resource_record_sets)
    FakeZone.delete_rrset_by_id = _delete_rrset_by_id(FakeZone.delete_rrset_by_id)
    for method in ("create_hosted_zone", "get_hosted_zone_by_name", "list_hosted_zones_by_name"):
        setattr(Route53Backend, method, _lower_name_argument(getattr(Route53Backend, method)))
    Route53Backend.list_resource_record_sets = _list_resource_record_sets(
        Route53Backend.list_resource_record_sets)

