"""What the custom domain's DNS answers: detection as clients see it.

A failover is detected when Route 53's answer for the custom domain changes, because that is
what clients act on; GetHealthCheckStatus shows each checker's last probe, which can turn
before Route 53 routes differently (and polling it costs API rate). So the sampler asks the
hosted zone's authoritative name servers directly over DNS, which Route 53 does not meter as
API requests ("Throttling for Amazon Route 53 API requests" covers the API only):

- every ``dns_poll_interval`` seconds, one A query for the custom domain to each name server
  (``host[:port]``; a name is resolved once, by the system resolver, the first time it is
  needed; on AWS the zone's delegation set, on the local cloud its DNS server);
- each round also resolves every failover record's alias target (``LABEL=name``, for example
  ``PRIMARY=d-abc.execute-api.us-east-1.amazonaws.com``) and adds its addresses to what that
  label is known to answer: API Gateway's regional addresses rotate on AWS, so the addresses
  are accumulated rather than replaced;
- an answer is classified as the one label whose known addresses it shares; an answer that
  shares addresses with no label or with several, or no answer, has no label (null).

Each answer is one ``dns`` record of the traffic log: ``at`` (when the answer came),
``server``, ``name``, ``answer`` (its A addresses, sorted), ``label``, ``rcode``, and
``error`` when there was no answer (``target_errors`` when a target could not be resolved).
"""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from . import records, timeutil

DNS_PORT = 53
#: Seconds to wait for one DNS answer.
QUERY_TIMEOUT = 2.0
ERROR_TEXT_LIMIT = 200

Resolve = Callable[[str], list[str]]


@dataclass(frozen=True)
class Server:
    """A DNS server as ``host[:port]`` (``[v6]:port`` for an IPv6 address with a port)."""

    host: str
    port: int = DNS_PORT

    @classmethod
    def parse(cls, text: str) -> Server:
        text = text.strip()
        if text.startswith("["):
            host, _, rest = text[1:].partition("]")
            return cls(host, int(rest[1:]) if rest.startswith(":") else DNS_PORT)
        if text.count(":") == 1:
            host, _, port = text.partition(":")
            return cls(host, int(port))
        return cls(text)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def system_address(host: str) -> str:
    """The first address the system resolver gives for ``host``."""
    if is_address(host):
        return host
    return str(socket.getaddrinfo(host, DNS_PORT, type=socket.SOCK_DGRAM)[0][4][0])


@dataclass(frozen=True)
class Reply:
    rcode: str
    addresses: list[str]


def query_a(address: str, port: int, name: str, recursion: bool = False,
            timeout: float = QUERY_TIMEOUT) -> Reply:
    """Ask one server for ``name``'s A records (over TCP again when the UDP answer is cut)."""
    from dnslib import QTYPE, RCODE, DNSRecord

    request = DNSRecord.question(name, "A")
    request.header.rd = int(recursion)
    reply = DNSRecord.parse(request.send(address, port, timeout=timeout))
    if reply.header.tc:
        reply = DNSRecord.parse(request.send(address, port, tcp=True, timeout=timeout))
    addresses = sorted({str(rr.rdata) for rr in reply.rr if rr.rtype == QTYPE.A})
    return Reply(str(RCODE.get(reply.header.rcode)), addresses)


def system_resolve(name: str) -> list[str]:
    """``name``'s IPv4 addresses through the system resolver."""
    infos = socket.getaddrinfo(name, None, family=socket.AF_INET, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def resolver_for(spec: str | None) -> Resolve:
    """How targets are resolved: through ``spec`` (``host[:port]``, a recursive query), or the
    system resolver when None."""
    if not spec:
        return system_resolve
    server = Server.parse(spec)

    def resolve(name: str) -> list[str]:
        reply = query_a(system_address(server.host), server.port, name, recursion=True)
        if reply.rcode != "NOERROR":
            raise LookupError(f"{name}: {reply.rcode} from {server}")
        return reply.addresses

    return resolve


def classify(answer: Iterable[str], known: Mapping[str, set[str]]) -> str | None:
    """The one label whose known addresses the answer shares; None when none or several do."""
    addresses = set(answer)
    matching = [label for label, seen in known.items() if addresses & seen]
    return matching[0] if len(matching) == 1 else None


def error_text(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    return f"{type(exc).__name__}: {exc}"[:ERROR_TEXT_LIMIT]


@dataclass
class TargetAddresses:
    """Every address each label's target has resolved to so far."""

    targets: Mapping[str, str]
    resolve: Resolve
    known: dict[str, set[str]] = field(default_factory=dict)

    def refresh(self) -> dict[str, str]:
        """Resolve every target once more; the errors, by label."""
        errors = {}
        for label, name in self.targets.items():
            try:
                self.known.setdefault(label, set()).update(self.resolve(name))
            except Exception as exc:  # the addresses known so far still classify answers
                errors[label] = error_text(exc)
        return errors


@dataclass(frozen=True)
class DnsOptions:
    """What the DNS sampler asks, whom, and how often."""

    name: str
    servers: tuple[str, ...]
    targets: Mapping[str, str]
    resolver: str | None = None
    poll_interval: float = 2.0


class DnsSampler:
    """Asks every name server for the custom domain each ``poll_interval`` seconds."""

    def __init__(self, options: DnsOptions, write: Callable[[dict[str, Any]], None],
                 query: Callable[..., Reply] = query_a,
                 resolve: Resolve | None = None,
                 server_address: Callable[[str], str] = system_address) -> None:
        self.options = options
        self.write = write
        self.query = query
        self.targets = TargetAddresses(options.targets,
                                       resolve or resolver_for(options.resolver))
        self.server_address = server_address
        self.servers = [Server.parse(text) for text in options.servers]
        self._addresses: dict[Server, str] = {}

    def _address(self, server: Server) -> str:
        """The server's address, resolved once (and again only while that fails)."""
        if server not in self._addresses:
            self._addresses[server] = self.server_address(server.host)
        return self._addresses[server]

    def _ask(self, server: Server) -> dict[str, Any]:
        record: dict[str, Any] = {"type": "dns", "server": str(server), "name": self.options.name,
                                  "answer": [], "label": None, "rcode": None}
        try:
            reply = self.query(self._address(server), server.port, self.options.name)
        except Exception as exc:  # no answer is this sample's outcome, not the sampler's
            record["error"] = error_text(exc)
        else:
            record.update(rcode=reply.rcode, answer=reply.addresses)
        record["at"] = timeutil.iso(timeutil.now())
        return record

    def sample_round(self) -> list[dict[str, Any]]:
        """One query to each server, classified with the targets' addresses as of now."""
        samples = [self._ask(server) for server in self.servers]
        target_errors = self.targets.refresh()
        for sample in samples:
            sample["label"] = classify(sample["answer"], self.targets.known)
            if target_errors:
                sample["target_errors"] = target_errors
        return samples

    def run(self, stop: threading.Event) -> None:
        started = time.monotonic()
        rounds = 0
        while not stop.is_set():
            for sample in self.sample_round():
                self.write(sample)
            rounds += 1
            delay = started + rounds * self.options.poll_interval - time.monotonic()
            if stop.wait(max(0.0, delay)):
                return


# -- Reading the samples ------------------------------------------------------------------------


def first_answer(log: list[dict[str, Any]], label: str,
                 since: datetime | None) -> dict[str, Any] | None:
    """The earliest ``dns`` sample answering ``label`` at or after ``since``."""
    if since is None:
        return None
    later = [sample for sample in records.of_type(log, "dns")
             if sample.get("label") == label and not sample.get("error")
             and (moment := timeutil.parse(sample.get("at"))) is not None and moment >= since]
    return min(later, key=lambda s: timeutil.parse(s["at"])) if later else None


def last_samples(log: list[dict[str, Any]], count: int = 3) -> list[dict[str, Any]]:
    return sorted(records.of_type(log, "dns"), key=lambda s: s.get("at") or "")[-count:]


def describe(sample: dict[str, Any]) -> str:
    """One line for a person: when, which server, and what it answered."""
    what = (sample.get("error") or f"{sample.get('rcode')} {sample.get('answer')}"
            f" -> {sample.get('label') or 'no known target'}")
    return f"{sample.get('at')} {sample.get('server')}: {what}"


def wait(run_dir: Path, label: str, since: datetime, timeout: float,
         poll: float = 0.2) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """Wait for the first sample answering ``label`` at or after ``since``: it (None after the
    timeout) and the log as last read."""
    deadline = time.monotonic() + timeout
    while True:
        log = records.read_log(run_dir)
        found = first_answer(log, label, since)
        if found is not None or time.monotonic() >= deadline:
            return found, log
        time.sleep(min(poll, max(0.0, deadline - time.monotonic())))


def wait_command(run_dir: Path, label: str, since_text: str, timeout: float) -> int:
    """``drillkit dns wait``: print the sample as JSON (exit 0), or say why not (exit 1)."""
    import sys

    since = timeutil.parse(since_text)
    if since is None:
        print("--since needs a timestamp", file=sys.stderr)
        return 1
    started = time.monotonic()
    found, log = wait(run_dir, label, since, timeout)
    if found is not None:
        waited = round(time.monotonic() - started, 3)
        print(json.dumps({**found, "waited_seconds": waited,
                          "seconds_after_since": timeutil.seconds_between(
                              since, timeutil.parse(found["at"]))}))
        return 0
    last = last_samples(log)
    if not last:
        why = (f"no DNS sample in {run_dir / records.TRAFFIC_LOG}: the traffic sender samples "
               "DNS (run the traffic step first, with --dns-server and --dns-target)")
    else:
        why = "last samples: " + "; ".join(describe(s) for s in last)
    print(f"no name server answered {label} since {timeutil.iso(since)} within {timeout:g}s; "
          f"{why}", file=sys.stderr)
    return 1
