"""Where DNS sends the custom domain: its failover records and the zone's name servers.

Detection is timed by which failover record's alias target the name servers answer with
(``dns.py``), so the drill reads, before its traffic starts, the custom domain's PRIMARY and
SECONDARY failover records (both must be aliases) and, unless the name servers are given, the
hosted zone's delegation set (ListHostedZonesByName, ListResourceRecordSets, GetHostedZone).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

FAILOVER_LABELS = ("PRIMARY", "SECONDARY")


class ZoneError(Exception):
    """The zone or its failover records cannot time a drill; the text says what to do."""


@dataclass(frozen=True)
class FailoverDns:
    targets: dict[str, str]
    name_servers: list[str]


def _fqdn(name: str) -> str:
    return name.rstrip(".").lower() + "."


def zone_id(client: Any, zone_name: str) -> str:
    wanted = _fqdn(zone_name)
    zones = client.list_hosted_zones_by_name(DNSName=wanted, MaxItems="10")["HostedZones"]
    public = [z for z in zones if z["Name"].lower() == wanted
              and not z.get("Config", {}).get("PrivateZone")]
    if not public:
        raise ZoneError(f"no public hosted zone {zone_name}: run playbooks/deploy.yml")
    return str(public[0]["Id"])


def failover_targets(records: list[dict[str, Any]], name: str) -> dict[str, str]:
    """The alias target of each failover record of ``name``, by PRIMARY/SECONDARY."""
    return {r["Failover"]: r["AliasTarget"]["DNSName"] for r in records
            if r.get("Name", "").lower() == _fqdn(name) and r.get("Failover") in FAILOVER_LABELS
            and r.get("AliasTarget", {}).get("DNSName")}


def read(client: Any, zone_name: str, name: str, want_name_servers: bool) -> FailoverDns:
    """The failover records' alias targets of ``name`` and (when wanted) the zone's name
    servers; ``ZoneError`` when detection cannot be timed with them."""
    zone = zone_id(client, zone_name)
    records = client.list_resource_record_sets(
        HostedZoneId=zone, StartRecordName=_fqdn(name), StartRecordType="A",
        MaxItems="10")["ResourceRecordSets"]
    targets = failover_targets(records, name)
    if sorted(targets) != list(FAILOVER_LABELS):
        raise ZoneError(
            f"the drill times detection by which alias target the name servers answer {name} "
            "with, so its PRIMARY and SECONDARY failover records must be aliases (found targets "
            f"{targets or 'none'}): run playbooks/deploy.yml")
    servers: list[str] = []
    if want_name_servers:
        servers = client.get_hosted_zone(Id=zone)["DelegationSet"]["NameServers"]
        if not servers:
            raise ZoneError(f"no name server to ask for {name}: the hosted zone {zone_name} "
                            "reported none; set failover_drill_dns_servers")
    return FailoverDns(targets=targets, name_servers=list(servers))
