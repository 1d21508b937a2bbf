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
- Names are answered the way Route 53 stores them: lower case ("Amazon Route 53 stores
  alphabetic characters as lowercase letters (a-z), regardless of how you specify them", "DNS
  domain name format", Route 53 Developer Guide) and fully qualified (the trailing dot is
  optional in a request, which Route 53 treats as identical; ResourceRecordSet.Name in the API
  reference). That holds for record names, an alias target's DNSName and hosted zone names,
  given through ChangeResourceRecordSets, CreateHostedZone or CloudFormation (whose models call
  the same backend methods); an alias target's HostedZoneId comes back upper case. (AWS's
  reference does not spell out the alias target's form; ListResourceRecordSets answers it so,
  which is why tools that compare without normalising report a change on every run:
  ansible/ansible#29858, ansible-collections/community.aws#192.) StartRecordName and lookups
  by zone name are case-insensitive. moto kept an alias DNSName as sent and refused upper-case
  record names as outside the zone. Deviations: letters written as octal escape codes
  (``\\101``) are kept as written, and other characters are returned as given (Route 53 lists a
  wildcard's ``*`` as ``\\052``).
- A new hosted zone gets the NS and SOA records Route 53 creates ("NS and SOA records that
  Amazon Route 53 creates for a public hosted zone", Route 53 Developer Guide): NS with TTL
  172800 and the delegation set's name servers fully qualified; SOA with TTL 900 and
  ``<first name server>. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400``. (moto: the
  SOA's value was the repr of a dict, the NS values had no trailing dot.)
- Every Route 53 API request is throttled per account (``route53_throttle.py``).
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

from . import route53_throttle, runtime

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

# The apex records of a new hosted zone ("NS and SOA records that Amazon Route 53 creates for
# a public hosted zone", Route 53 Developer Guide): NS with the TTL of two days, SOA with 900 s.
# The hostmaster is the "amazon.com email address that is not monitored" the guide mentions,
# as Route 53's name servers answer it.
DEFAULT_NS_TTL = 172800
DEFAULT_SOA_TTL = 900
SOA_HOSTMASTER = "awsdns-hostmaster.amazon.com."

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


def fully_qualified(name: str) -> str:
    """A domain name as Route 53 stores and returns it: lower case, with the trailing dot."""
    name = name.lower()
    return name if name.endswith(".") else f"{name}."


def _alias_as_stored(alias: dict[str, Any]) -> dict[str, Any]:
    stored = dict(alias)
    if isinstance(alias.get("DNSName"), str):
        stored["DNSName"] = fully_qualified(alias["DNSName"])
    if isinstance(alias.get("HostedZoneId"), str):
        stored["HostedZoneId"] = alias["HostedZoneId"].upper()
    return stored


def _record_as_stored(record: dict[str, Any]) -> dict[str, Any]:
    """A ResourceRecordSet of a request in the form Route 53 keeps and lists it."""
    stored = dict(record)
    if isinstance(record.get("Name"), str):
        stored["Name"] = fully_qualified(record["Name"])
    if isinstance(record.get("AliasTarget"), dict):
        stored["AliasTarget"] = _alias_as_stored(record["AliasTarget"])
    return stored


def _changes_as_stored(change_list: list[dict[str, Any]]) -> list[dict[str, Any]]:
    stored = []
    for change in change_list:
        record = change.get("ResourceRecordSet")
        if isinstance(record, dict):
            change = {**change, "ResourceRecordSet": _record_as_stored(record)}
        stored.append(change)
    return stored


def _change_resource_record_sets(original: Any) -> Any:
    def change_resource_record_sets(self: Route53Backend, zoneid: str,
                                    change_list: list[dict[str, Any]]) -> None:
        from .dns import normalize

        change_list = _changes_as_stored(change_list)
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


def _qualify_name_argument(original: Any) -> Any:
    """A backend method whose first argument is a domain name gets it as Route 53 stores it."""
    def qualified(self: Route53Backend, name: Any, *args: Any, **kwargs: Any) -> Any:
        return original(self, fully_qualified(name) if isinstance(name, str) else name,
                        *args, **kwargs)

    return qualified


# -- Hosted zones -------------------------------------------------------------------------------


def default_soa_value(name_servers: list[str]) -> str:
    """The SOA Route 53 gives a new hosted zone: its first name server, Route 53's hostmaster,
    serial 1, refresh 7200, retry 900, expire 1209600 (two weeks), minimum TTL 86400."""
    return f"{fully_qualified(name_servers[0])} {SOA_HOSTMASTER} 1 7200 900 1209600 86400"


def _give_default_records(zone: FakeZone) -> None:
    """Replace moto's apex records (a SOA whose value is a dict's repr, NS values without
    the final dot) with the NS and SOA records Route 53 creates."""
    name_servers = list(zone.delegation_set.name_servers) if zone.delegation_set else []
    if not name_servers:
        return
    zone.rrsets = [r for r in zone.rrsets if r.type not in ("NS", "SOA")]
    zone.add_rrset({"Name": zone.name, "Type": "NS", "TTL": DEFAULT_NS_TTL,
                    "ResourceRecords": [fully_qualified(ns) for ns in name_servers]})
    zone.add_rrset({"Name": zone.name, "Type": "SOA", "TTL": DEFAULT_SOA_TTL,
                    "ResourceRecords": [default_soa_value(name_servers)]})


def _create_hosted_zone(original: Any) -> Any:
    def create_hosted_zone(self: Route53Backend, name: str, *args: Any,
                           **kwargs: Any) -> FakeZone:
        zone = original(self, fully_qualified(name), *args, **kwargs)
        _give_default_records(zone)
        return zone

    return create_hosted_zone


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
    Route53Backend.create_hosted_zone = _create_hosted_zone(Route53Backend.create_hosted_zone)
    Route53Backend.get_hosted_zone_by_name = _qualify_name_argument(
        Route53Backend.get_hosted_zone_by_name)
    Route53Backend.list_hosted_zones_by_name = _lower_name_argument(
        Route53Backend.list_hosted_zones_by_name)
    Route53Backend.list_resource_record_sets = _list_resource_record_sets(
        Route53Backend.list_resource_record_sets)
    route53_throttle.install()

