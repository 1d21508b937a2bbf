"""Route 53 answers: record resolution by routing policy, and a UDP/TCP DNS server.

Route 53's data plane is its name servers. moto stores hosted zones and record sets but answers
no query; this module answers them from what was deployed, the way Route 53 documents:

- the most specific hosted zone holding the name (names are case-insensitive, trailing dot or
  not); wildcard records synthesise answers for names that do not exist (RFC 4592);
- routing policies: simple, failover (primary while healthy, else a healthy secondary, else the
  primary again), weighted (by weight among healthy records; zero weights only when no weighted
  record is healthy; every record when none is), multivalue (up to eight healthy records);
  latency and geolocation records pick the first healthy record by set identifier, as there
  is no client location here (a knowing deviation);
- a record is healthy when its health check is (see ``healthchecks``) and, for an alias with
  EvaluateTargetHealth, when its target is;
- alias targets: another record in a hosted zone (followed, answering with the target's TTL);
  an API Gateway regional domain name ``d-….execute-api.{region}.amazonaws.com`` (the custom
  domain of that region, healthy while it exists); any other AWS name (a synthetic address);
- CNAME records answer any type and are followed when their target is known here;
- outside every hosted zone, the names AWS's public DNS answers for the API Gateway resources
  that exist here: a regional domain name ``d-….execute-api.{region}.amazonaws.com`` of an
  existing custom domain, and the execute-api host of an existing REST API, with the same
  synthetic address an alias to them answers (so a client can tell which target an alias
  answer came from, as it can on AWS by resolving the target); other names are NXDOMAIN;
- a name of a hosted zone with no record (NXDOMAIN) or none of the asked type (NODATA) is
  answered with the zone's SOA in the authority section, whose TTL is the negative-caching TTL:
  the lesser of the SOA record's TTL and the SOA's minimum field (RFC 2308; Route 53 documents
  the same in "NS and SOA records that Amazon Route 53 creates for a public hosted zone"). The
  apex answers its SOA and NS records like any other.

Addresses of AWS resources are synthetic, derived from what they stand for so that the answer
for the custom domain of one region differs from the other region's and ``dig`` shows it switch
during a failover. IPv4 ones come from 198.18.0.0/15 (RFC 2544, reserved for benchmarking, never
routed on the internet and not loopback, so no client reaches some other service by accident);
IPv6 ones from 2001:db8::/32 (RFC 3849, documentation). The edge (``edge.py``) and the
TestDNSAnswer API (``route53.py``) share ``resolve``.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dnslib import QTYPE, RCODE, RR, DNSRecord
from dnslib.server import DNSLogger, DNSServer, TCPServer, UDPServer

from . import runtime

log = logging.getLogger("localcloud.dns")

SYNTHETIC_V4 = ipaddress.ip_network("198.18.0.0/15")
SYNTHETIC_V6 = ipaddress.ip_network("2001:db8::/32")
# TTL Route 53 gives alias records whose target is an AWS resource rather than a record.
AWS_ALIAS_TTL = 60
DEFAULT_TTL = 300
# TTL of the SOA record Route 53 creates with a hosted zone.
DEFAULT_SOA_TTL = 900
# Longest chain of aliases and CNAMEs followed before giving up (a loop, most likely).
MAX_DEPTH = 8
MULTIVALUE_LIMIT = 8

EXECUTE_API = re.compile(
    r"^(?P<id>[a-z0-9-]+)\.execute-api\.(?P<region>[a-z0-9-]+)\.amazonaws\.com$"
)

_random = random.Random()


def normalize(name: str) -> str:
    """A DNS name as compared here: lower case, no trailing dot, ``\\052`` as ``*``."""
    return name.strip().lower().rstrip(".").replace("\\052", "*")


def synthetic_address(key: str, rtype: str = "A") -> str:
    """A stable address standing for ``key`` (an AWS resource), for A or AAAA answers."""
    digest = int.from_bytes(hashlib.sha256(key.encode()).digest(), "big")
    network = SYNTHETIC_V6 if rtype == "AAAA" else SYNTHETIC_V4
    # Skip the network and broadcast-like ends of the range.
    offset = 1 + digest % (network.num_addresses - 2)
    return str(network.network_address + offset)


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def _as_int(value: Any, default: int | None = None) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


# -- What was deployed, copied under the lock ---------------------------------------------------


@dataclass(frozen=True)
class RecordView:
    """One moto RecordSet, copied so resolution runs without holding ``runtime.LOCK``."""

    name: str
    rtype: str
    ttl: int | None
    values: tuple[str, ...]
    set_identifier: str | None = None
    weight: int | None = None
    failover: str | None = None
    health_check_id: str | None = None
    alias_dns_name: str | None = None
    evaluate_target_health: bool = False
    region: str | None = None
    multivalue: bool = False
    geo: bool = False

    @classmethod
    def of(cls, rrset: Any) -> RecordView:
        values = []
        for record in rrset.records or []:
            values.append(record["Value"] if isinstance(record, dict) else str(record))
        alias = rrset.alias_target or None
        return cls(
            name=normalize(rrset.name or ""),
            rtype=str(rrset.type or "").upper(),
            ttl=_as_int(rrset.ttl),
            values=tuple(values),
            set_identifier=rrset.set_identifier,
            weight=_as_int(rrset.weight),
            failover=str(rrset.failover).upper() if rrset.failover else None,
            health_check_id=rrset.health_check_id or None,
            alias_dns_name=normalize(alias["DNSName"]) if alias and alias.get("DNSName") else None,
            evaluate_target_health=_as_bool(alias.get("EvaluateTargetHealth")) if alias else False,
            region=rrset.region,
            multivalue=_as_bool(rrset.multi_value_answer),
            geo=bool(rrset.geo_location),
        )

    def describe(self) -> str:
        policy = ""
        if self.failover:
            policy = f" failover {self.failover}"
        elif self.weight is not None:
            policy = f" weight {self.weight}"
        ident = f" '{self.set_identifier}'" if self.set_identifier else ""
        return f"{self.name} {self.rtype}{policy}{ident}"


@dataclass(frozen=True)
class ZoneView:
    id: str
    name: str
    private: bool
    name_servers: tuple[str, ...]
    records: tuple[RecordView, ...]

    def names(self) -> set[str]:
        """Every name that exists in the zone, empty non-terminals included (RFC 4592)."""
        existing = {self.name}
        for record in self.records:
            name = record.name
            while name != self.name and name.endswith("." + self.name):
                existing.add(name)
                name = name.split(".", 1)[1]
        return existing


@dataclass
class Snapshot:
    """Hosted zones and API Gateway names of every account, as of one query."""

    zones: list[ZoneView] = field(default_factory=list)
    # regional domain name -> (region, custom domain name)
    regional_names: dict[str, tuple[str, str]] = field(default_factory=dict)
    # custom domain name -> regions that have it
    custom_domains: dict[str, list[str]] = field(default_factory=dict)
    # (region, rest api id)
    rest_apis: set[tuple[str, str]] = field(default_factory=set)

    @classmethod
    def take(cls) -> Snapshot:
        from moto.apigateway.models import apigateway_backends
        from moto.route53.models import route53_backends

        snapshot = cls()
        with runtime.LOCK:
            for account_id in runtime.account_ids(route53_backends):
                backend = route53_backends[account_id]["aws"]
                for zone in list(backend.zones.values()):
                    delegation = zone.delegation_set
                    snapshot.zones.append(ZoneView(
                        id=zone.resource_id,
                        name=normalize(zone.name),
                        private=bool(zone.private_zone),
                        name_servers=tuple(delegation.name_servers) if delegation else (),
                        records=tuple(RecordView.of(r) for r in list(zone.rrsets)),
                    ))
            for _, region, backend in runtime.regional_backends(apigateway_backends):
                for domain in list(backend.domain_names.values()):
                    name = normalize(domain.domain_name)
                    snapshot.custom_domains.setdefault(name, []).append(region)
                    if domain.regional_domain_name:
                        snapshot.regional_names[normalize(domain.regional_domain_name)] = (
                            region, name)
                for api_id in list(backend.apis):
                    snapshot.rest_apis.add((region, api_id))
        return snapshot

    def zone_for(self, name: str, zone_id: str | None = None) -> ZoneView | None:
        """The most specific zone holding ``name`` (public before private), or the given one."""
        if zone_id is not None:
            wanted = zone_id.rsplit("/", 1)[-1]
            return next((z for z in self.zones if z.id == wanted), None)
        matching = [z for z in self.zones if name == z.name or name.endswith("." + z.name)]
        if not matching:
            return None
        return max(matching, key=lambda z: (len(z.name), not z.private))


# -- Answers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LocalTarget:
    """What the local cloud serves behind a name: a custom domain or an execute-api host."""

    # "custom_domain"; "regional_domain_name" (a custom domain's d-… name asked for itself: a
    # request with that Host reaches API Gateway but none of its APIs); or "execute_api"
    kind: str
    region: str
    name: str  # the custom domain name, or the REST API id

    def describe(self) -> str:
        if self.kind == "custom_domain":
            return f"API Gateway custom domain {self.name} in {self.region}"
        if self.kind == "regional_domain_name":
            return f"regional domain name of API Gateway custom domain {self.name} in {self.region}"
        return f"REST API {self.name} in {self.region}"


@dataclass(frozen=True)
class Rr:
    """One resource record of an answer."""

    name: str
    rtype: str
    ttl: int
    value: str


@dataclass
class Answer:
    """Route 53's answer to one question, with how it was reached."""

    name: str
    rtype: str
    rcode: str = "NOERROR"
    zone: ZoneView | None = None
    records: list[Rr] = field(default_factory=list)
    # Whether the record set that answered is healthy (what EvaluateTargetHealth looks at).
    healthy: bool = True
    target: LocalTarget | None = None
    steps: list[str] = field(default_factory=list)

    @property
    def values(self) -> list[str]:
        """The values answered for the name itself (a CNAME's target, not what it leads to)."""
        return [rr.value for rr in self.records if rr.name == self.name]

    @property
    def ttl(self) -> int | None:
        return self.records[0].ttl if self.records else None

    def describe(self) -> str:
        """One line for humans: what the name resolved to and why."""
        if self.rcode != "NOERROR":
            return f"{self.name} {self.rtype}: {self.rcode}"
        if not self.records:
            return f"{self.name} {self.rtype}: no records"
        shown = ", ".join(f"{rr.rtype} {rr.value}" for rr in self.records)
        via = f" ({'; '.join(self.steps)})" if self.steps else ""
        return f"{self.name} {self.rtype}: {shown}{via}"


HealthLookup = Callable[[str], "bool | None"]


def runtime_health(check_id: str) -> bool | None:
    """The health checker's view of a health check (None: not known to it)."""
    current = runtime._CURRENT
    checker = current.components.get("health_checks") if current else None
    return checker.is_healthy(check_id) if checker else None


class Resolver:
    """Answers questions from a snapshot of what was deployed.

    ``health`` gives a health check's status; a check it does not know counts as healthy (AWS
    treats a new check as healthy until it has data).
    """

    def __init__(self, health: HealthLookup = runtime_health,
                 snapshot: Callable[[], Snapshot] = Snapshot.take) -> None:
        self._health = health
        self._snapshot = snapshot

    # -- Public API ---------------------------------------------------------------------------

    def resolve(self, name: str, rtype: str = "A", zone_id: str | None = None) -> Answer:
        """Answer ``name``/``rtype`` as Route 53 would (in ``zone_id`` only, when given)."""
        return self._resolve(self._snapshot(), normalize(name), rtype.upper(), zone_id, 0)

    def local_name(self, name: str) -> bool:
        """Whether requests for ``name`` are served by the local cloud itself."""
        name = normalize(name)
        if EXECUTE_API.match(name):
            return True
        snapshot = self._snapshot()
        if name in snapshot.custom_domains:
            return True
        zone = snapshot.zone_for(name)
        return zone is not None and bool(self._records_at(zone, name))

    def custom_domain_regions(self, name: str) -> list[str]:
        return list(self._snapshot().custom_domains.get(normalize(name), []))

    # -- Resolution ---------------------------------------------------------------------------

    def _resolve(self, snapshot: Snapshot, name: str, rtype: str, zone_id: str | None,
                 depth: int) -> Answer:
        answer = Answer(name=name, rtype=rtype)
        zone = snapshot.zone_for(name, zone_id)
        answer.zone = zone
        if zone is None and zone_id is None:
            resource = self._api_gateway_name(snapshot, name, rtype, via_alias=False)
            if resource is not None:
                return resource
        if zone is None or not (name == zone.name or name.endswith("." + zone.name)):
            answer.rcode = "NXDOMAIN" if zone_id is None else "REFUSED"
            answer.healthy = False
            return answer
        records = self._records_at(zone, name)
        if not records:
            answer.rcode = "NXDOMAIN"
            answer.healthy = False
            if name not in zone.names():
                return answer
            answer.rcode = "NOERROR"  # an empty non-terminal: the name exists, without data
            return answer
        group = [r for r in records if r.rtype == rtype]
        if not group and rtype != "CNAME":
            group = [r for r in records if r.rtype == "CNAME"]
        if not group:
            answer.healthy = False
            return answer
        chosen, healthy = self._choose(snapshot, group, rtype, depth, answer.steps)
        answer.healthy = healthy
        for record in chosen:
            self._answer_record(snapshot, record, name, rtype, depth, answer)
        return answer

    @staticmethod
    def _records_at(zone: ZoneView, name: str) -> list[RecordView]:
        """Records owned by ``name``, or synthesised from the closest wildcard (RFC 4592)."""
        exact = [r for r in zone.records if r.name == name]
        if exact:
            return exact
        existing = zone.names()
        if name in existing:
            return []
        encloser = name
        while encloser != zone.name and encloser not in existing:
            encloser = encloser.split(".", 1)[1]
        wildcard = f"*.{encloser}"
        return [r for r in zone.records if r.name == wildcard]

    def _choose(self, snapshot: Snapshot, group: list[RecordView], rtype: str, depth: int,
                steps: list[str]) -> tuple[list[RecordView], bool]:
        """The record sets that answer, by routing policy, and whether they are healthy."""
        health = {id(r): self._record_healthy(snapshot, r, rtype, depth) for r in group}

        def healthy(r: RecordView) -> bool:
            return health[id(r)]

        failover = [r for r in group if r.failover]
        if failover:
            primary = next((r for r in failover if r.failover == "PRIMARY"), None)
            secondary = next((r for r in failover if r.failover == "SECONDARY"), None)
            if primary is not None and healthy(primary):
                choice = primary
            elif secondary is not None and healthy(secondary):
                if primary is not None:
                    steps.append(f"{primary.describe()} unhealthy")
                choice = secondary
            else:
                # Both unhealthy: Route 53 answers with the primary (documented behaviour).
                choice = primary or secondary  # type: ignore[assignment]
                steps.append("no healthy failover record; answering the primary")
            assert choice is not None
            steps.append(f"answered by {choice.describe()}")
            return [choice], healthy(choice)
        weighted = [r for r in group if r.weight is not None]
        if weighted:
            choice = self._choose_weighted(weighted, healthy)
            steps.append(f"answered by {choice.describe()}")
            return [choice], healthy(choice)
        multivalue = [r for r in group if r.multivalue]
        if multivalue:
            live = [r for r in multivalue if healthy(r)] or multivalue
            return live[:MULTIVALUE_LIMIT], any(healthy(r) for r in multivalue)
        if len(group) > 1 or group[0].set_identifier:
            ordered = sorted(group, key=lambda r: r.set_identifier or "")
            choice = next((r for r in ordered if healthy(r)), ordered[0])
            steps.append(f"answered by {choice.describe()}")
            return [choice], healthy(choice)
        return group, healthy(group[0])

    @staticmethod
    def _choose_weighted(records: list[RecordView],
                         healthy: Callable[[RecordView], bool]) -> RecordView:
        live = [r for r in records if healthy(r)]
        pool = [r for r in live if r.weight] or live or records
        weights = [r.weight or 0 for r in pool]
        if sum(weights) == 0:
            return _random.choice(pool)
        return _random.choices(pool, weights=weights)[0]

    def _record_healthy(self, snapshot: Snapshot, record: RecordView, rtype: str,
                        depth: int) -> bool:
        if record.health_check_id and self._health(record.health_check_id) is False:
            return False
        if record.alias_dns_name and record.evaluate_target_health:
            return self._alias(snapshot, record, record.name, rtype, depth).healthy
        return True

    def _answer_record(self, snapshot: Snapshot, record: RecordView, name: str, rtype: str,
                       depth: int, answer: Answer) -> None:
        if record.alias_dns_name:
            target = self._alias(snapshot, record, name, rtype, depth)
            answer.records.extend(target.records)
            answer.target = answer.target or target.target
            answer.steps.extend(target.steps)
            return
        ttl = record.ttl if record.ttl is not None else DEFAULT_TTL
        for value in record.values:
            answer.records.append(Rr(name, record.rtype, ttl, value))
        if record.rtype == "CNAME" and rtype != "CNAME" and record.values:
            cname = normalize(record.values[0])
            followed = self._follow(snapshot, cname, rtype, depth + 1)
            answer.records.extend(followed.records)
            answer.target = answer.target or followed.target
            answer.steps.extend(followed.steps)

    def _alias(self, snapshot: Snapshot, record: RecordView, name: str, rtype: str,
               depth: int) -> Answer:
        """What an alias record answers: its target's records, under the alias's name."""
        target = self._follow(snapshot, record.alias_dns_name or "", rtype, depth + 1)
        renamed = [
            Rr(name, rr.rtype, rr.ttl, rr.value) if rr.name == target.name else rr
            for rr in target.records
        ]
        return Answer(name=name, rtype=rtype, rcode=target.rcode, zone=target.zone,
                      records=renamed, healthy=target.healthy, target=target.target,
                      steps=[f"alias to {target.name}", *target.steps])

    def _follow(self, snapshot: Snapshot, name: str, rtype: str, depth: int) -> Answer:
        """Resolve an alias or CNAME target, which may be an AWS resource or another record."""
        if depth > MAX_DEPTH:
            return Answer(name=name, rtype=rtype, rcode="SERVFAIL", healthy=False,
                          steps=[f"more than {MAX_DEPTH} aliases or CNAMEs"])
        resource = self._api_gateway_name(snapshot, name, rtype, via_alias=True)
        if resource is not None:
            return resource
        if EXECUTE_API.match(name):
            # A regional domain name or API that no longer exists answers nothing.
            return Answer(name=name, rtype=rtype, healthy=False,
                          steps=[f"{name} does not exist"])
        if snapshot.zone_for(name) is not None:
            return self._resolve(snapshot, name, rtype, None, depth)
        if name.endswith(".amazonaws.com") or name.endswith(".cloudfront.net"):
            return self._aws_answer(name, rtype, name, None, [f"AWS resource {name}"])
        # Outside every hosted zone and not an AWS name: a resolver elsewhere would answer it.
        return Answer(name=name, rtype=rtype, healthy=True, steps=[f"{name} is not served here"])

    def _api_gateway_name(self, snapshot: Snapshot, name: str, rtype: str,
                          via_alias: bool) -> Answer | None:
        """The answer for an existing custom domain's regional domain name or an existing REST
        API's execute-api host; None for any other name.

        Both answer the same synthetic address whether asked for directly or through an alias,
        as on AWS an alias answers its target's addresses. Through an alias, a regional domain
        name leads to the custom domain (the request keeps the alias's name as Host); asked for
        itself, it leads to API Gateway but to no API of it (the request's Host is then the
        d-… name, which API Gateway serves no API under).
        """
        regional = snapshot.regional_names.get(name)
        if regional is not None:
            region, domain = regional
            kind = "custom_domain" if via_alias else "regional_domain_name"
            local = LocalTarget(kind, region, domain)
            return self._aws_answer(name, rtype, f"{region}/{domain}", local,
                                    [local.describe()])
        match = EXECUTE_API.match(name)
        if match and not name.startswith("d-") and (
                (match["region"], match["id"]) in snapshot.rest_apis):
            local = LocalTarget("execute_api", match["region"], match["id"])
            return self._aws_answer(name, rtype, name, local, [local.describe()])
        return None

    @staticmethod
    def _aws_answer(name: str, rtype: str, key: str, target: LocalTarget | None,
                    steps: list[str]) -> Answer:
        records = []
        if rtype in ("A", "AAAA"):
            records.append(Rr(name, rtype, AWS_ALIAS_TTL, synthetic_address(key, rtype)))
        return Answer(name=name, rtype=rtype, records=records, healthy=True, target=target,
                      steps=steps)


def resolve(name: str, rtype: str = "A", zone_id: str | None = None) -> Answer:
    """Resolve with the running local cloud's health checker."""
    return Resolver().resolve(name, rtype, zone_id)


# -- DNS server ---------------------------------------------------------------------------------


class _DnsResolver:
    """dnslib's resolver interface over ``Resolver``."""

    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver

    def resolve(self, request: DNSRecord, handler: Any) -> DNSRecord:
        reply = request.reply()  # authoritative answer, recursion not available
        reply.header.ra = 0
        question = request.q
        qtype = QTYPE.get(question.qtype)
        try:
            answer = self.resolver.resolve(str(question.qname), str(qtype))
        except Exception:  # a malformed record must not take the server down
            log.exception("resolving %s %s failed", question.qname, qtype)
            reply.header.rcode = RCODE.SERVFAIL
            return reply
        reply.header.rcode = getattr(RCODE, answer.rcode, RCODE.SERVFAIL)
        for rr in answer.records:
            for parsed in _to_rrs(rr):
                reply.add_answer(parsed)
        if not answer.records and answer.zone is not None:
            for parsed in _negative_authority(answer.zone):
                reply.add_auth(parsed)
        return reply


def negative_ttl(soa_ttl: int, soa_value: str) -> int:
    """How long a resolver may cache a negative answer: the lesser of the SOA record's TTL and
    the SOA's minimum field (RFC 2308, sections 3 and 5; Route 53 documents the same for its
    NXDOMAIN and NODATA answers in "NS and SOA records that Amazon Route 53 creates for a
    public hosted zone")."""
    fields = soa_value.split()
    minimum = _as_int(fields[6]) if len(fields) == 7 else None
    return soa_ttl if minimum is None else min(soa_ttl, minimum)


def _negative_authority(zone: ZoneView) -> list[RR]:
    """The zone's SOA for the authority section of an NXDOMAIN or NODATA answer, with the
    negative-caching TTL as its TTL (RFC 2308, section 3)."""
    soa = next((r for r in zone.records if r.rtype == "SOA" and r.name == zone.name), None)
    if soa is None or not soa.values:
        return []
    ttl = soa.ttl if soa.ttl is not None else DEFAULT_SOA_TTL
    value = soa.values[0]
    return _to_rrs(Rr(soa.name, "SOA", negative_ttl(ttl, value), value))


def _to_rrs(rr: Rr) -> list[RR]:
    try:
        return RR.fromZone(f"{rr.name}. {rr.ttl} IN {rr.rtype} {rr.value}")
    except Exception:
        log.warning("cannot encode %s %s %r as DNS", rr.name, rr.rtype, rr.value)
        return []


class DnsServer:
    """Answers DNS queries for every hosted zone on 127.0.0.1:``dns_port`` (UDP and TCP)."""

    name = "dns"

    def __init__(self, rt: runtime.Runtime) -> None:
        self.runtime = rt
        self._servers: list[DNSServer] = []
        self.port: int | None = None

    def start(self) -> None:
        resolver = _DnsResolver(Resolver())
        logger = DNSLogger(log="-recv,-send,-data", prefix=False, logf=log.debug)
        host = self.runtime.config.host
        udp = DNSServer(resolver, address=host, port=self.runtime.config.dns_port,
                        logger=logger, server=UDPServer)
        self.port = udp.server.server_address[1]
        self._servers = [udp]
        try:
            self._servers.append(DNSServer(resolver, address=host, port=self.port, tcp=True,
                                           logger=logger, server=TCPServer))
        except OSError as exc:  # TCP is a convenience (truncated answers); UDP is the service
            log.warning("DNS over TCP unavailable on port %s: %s", self.port, exc)
        for server in self._servers:
            server.start_thread()
        log.info("DNS server on %s port %s", host, self.port)

    def stop(self) -> None:
        for server in self._servers:
            server.stop()
            server.server.server_close()
        self._servers = []

    def reset(self) -> None:
        """Answers come from moto's backends each time: nothing to forget."""

    def status(self) -> dict[str, Any]:
        return {
            "address": self.runtime.config.host,
            "port": self.port,
            "protocols": ["udp", "tcp"][: len(self._servers)],
        }


def query(name: str, rtype: str, port: int, host: str = "127.0.0.1",
          timeout: float = 2.0) -> DNSRecord:
    """Ask a DNS server one question over UDP (a tiny ``dig`` for tests and tools)."""
    request = DNSRecord.question(name, rtype)
    return DNSRecord.parse(request.send(host, port, timeout=timeout))

