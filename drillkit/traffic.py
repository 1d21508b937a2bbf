"""The traffic sender: steady POSTs through the public URL, Route 53 health samples, and the
custom domain's DNS answers (``dns.py``).

Why it is built this way:

- Request *n* is due at ``start + n / rate`` on the monotonic clock, so the schedule never
  drifts; a sender that fell behind (a starved CPU) catches up instead of lowering the rate.
- Each request runs on a worker of a pool sized for ``rate * timeout`` requests in flight, so a
  slow answer (the outage is exactly when answers are slow) does not delay the next request.
- Every request opens a new connection without proxies or redirects: the name is resolved
  again each time, as a client that follows the failover record would, and what is logged is
  what that endpoint answered.
- A request's record is written once it is answered or failed; on SIGTERM the sender stops
  scheduling, waits for the requests in flight (each bounded by its timeout) and writes them,
  so every request that went out is in the log exactly once.
- Route 53's API is rate-limited per account and per action ("Throttling for Amazon Route 53
  API requests", Route 53 Developer Guide: GetHealthCheckStatus 4 tokens refilled at 1 per
  second; the account 50 refilled at 10 per second). The health sampler spreads its calls
  evenly (one check at a time), reads each check's flags rarely, makes each call once (no
  hidden SDK retries), and backs off when throttled; every throttled call is logged as such.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from . import aws, records, timeutil
from .dns import DnsOptions, DnsSampler

#: Route 53 considers an endpoint healthy when more than 18 % of its checkers report it healthy.
HEALTHY_SHARE = 0.18
MAX_WORKERS = 512
ERROR_TEXT_LIMIT = 200
#: Error codes of a throttled AWS call (Route 53 answers ``Throttling`` / ``Rate exceeded``).
THROTTLING_CODES = frozenset({"Throttling", "ThrottlingException", "TooManyRequestsException",
                              "RequestLimitExceeded"})
#: A throttled sampler slows down to at most this many times its normal pace.
BACKOFF_CEILING = 8.0


@dataclass(frozen=True)
class TrafficOptions:
    """What ``drillkit traffic start|run`` was asked to do."""

    run_dir: Path
    url: str
    rate: float
    run_id: str
    host_header: str | None = None
    source: str = "drillkit.traffic"
    detail_type: str = "DrillTraffic"
    timeout: float = 5.0
    max_seconds: float | None = None
    health_checks: dict[str, str] = field(default_factory=dict)
    #: Seconds between two GetHealthCheckStatus samples of the same check.
    health_poll_interval: float = 5.0
    #: Seconds between two GetHealthCheck reads (Inverted/Disabled) of the same check.
    flags_poll_interval: float = 30.0
    endpoint_url: str | None = None
    region: str | None = None
    dns: DnsOptions | None = None


class JsonlWriter:
    """Appends whole lines to the traffic log from many threads, flushing each one."""

    def __init__(self, path: Path) -> None:
        self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 (closed in close())
        self._lock = threading.Lock()

    def write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, separators=(",", ":")) + "\n"
        with self._lock:
            if not self._file.closed:
                self._file.write(line)
                self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()


def short_error(exc: BaseException, timeout: float) -> str:
    """A short, stable text for a request that got no answer."""
    if isinstance(exc, TimeoutError):  # socket.timeout is TimeoutError since 3.10
        return f"timed out after {timeout:g}s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    if isinstance(exc, socket.gaierror):
        return f"name resolution failed: {exc.strerror or exc}"
    text = f"{type(exc).__name__}: {exc}"
    return text[:ERROR_TEXT_LIMIT]


def post_json(url: str, body: bytes, timeout: float, host_header: str | None = None,
              on_sent: Callable[[], None] | None = None) -> tuple[int, str | None, bytes]:
    """POST ``body`` on a fresh connection: (status, X-Region header, response body).

    ``timeout`` bounds connecting and every read (socket timeout), not the request as a whole.
    ``on_sent`` is called once the request is on the wire, before the answer is awaited.
    """
    parts = urlsplit(url)
    connection_class = (http.client.HTTPSConnection if parts.scheme == "https"
                        else http.client.HTTPConnection)
    connection = connection_class(parts.hostname or "", parts.port, timeout=timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {"Content-Type": "application/json", "Accept": "application/json",
               "User-Agent": "drillkit", "Connection": "close"}
    if host_header:
        headers["Host"] = host_header
    try:
        connection.request("POST", path, body=body, headers=headers)
        if on_sent is not None:
            on_sent()
        response = connection.getresponse()
        payload = response.read()
        return response.status, response.getheader("X-Region"), payload
    finally:
        connection.close()


def event_id_of(status: int, payload: bytes) -> str | None:
    """The ``eventId`` of a 2xx JSON answer, else None."""
    if not 200 <= status < 300:
        return None
    try:
        body = json.loads(payload)
    except ValueError:
        return None
    event_id = body.get("eventId") if isinstance(body, dict) else None
    return event_id if isinstance(event_id, str) and event_id else None


class Sender:
    """Sends the requests on schedule and logs each one."""

    def __init__(self, options: TrafficOptions, writer: JsonlWriter) -> None:
        self.options = options
        self.writer = writer
        self.first_sent = threading.Event()
        self._first_lock = threading.Lock()
        self.first_sent_at: str | None = None
        self.scheduled = 0

    def workers(self) -> int:
        """Enough workers for every request that can be in flight at once, plus headroom."""
        in_flight = math.ceil(self.options.rate * (self.options.timeout + 1))
        return max(4, min(MAX_WORKERS, 2 * in_flight))

    def run(self, stop: threading.Event) -> None:
        """Schedule requests until ``stop`` is set; return once every one is logged."""
        interval = 1.0 / self.options.rate
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=self.workers(),
                                thread_name_prefix="drillkit-request") as pool:
            while True:
                delay = started + self.scheduled * interval - time.monotonic()
                if (delay > 0 and stop.wait(delay)) or stop.is_set():
                    break
                pool.submit(self._send_one, self.scheduled)
                self.scheduled += 1
        # Leaving the with-block waited for the requests in flight.

    def _mark_sent(self, sent: datetime) -> None:
        with self._first_lock:
            if not self.first_sent.is_set():
                self.first_sent_at = timeutil.iso(sent)
                self.first_sent.set()

    def _send_one(self, seq: int) -> None:
        options = self.options
        marker = f"{options.run_id}-{seq}"
        sent = timeutil.now()
        body = json.dumps({
            "Source": options.source,
            "DetailType": options.detail_type,
            "Detail": {"runId": options.run_id, "marker": marker, "seq": seq,
                       "sentAt": timeutil.iso(sent)},
        }).encode()
        status: int | None = None
        region: str | None = None
        event_id: str | None = None
        error: str | None = None
        clock = time.monotonic()
        try:
            status, region, payload = post_json(options.url, body, options.timeout,
                                                options.host_header,
                                                on_sent=lambda: self._mark_sent(sent))
            event_id = event_id_of(status, payload)
        except Exception as exc:  # any failure is this request's outcome, never the sender's
            error = short_error(exc, options.timeout)
        finally:
            self._mark_sent(sent)  # a request that could not even connect was still attempted
        elapsed = time.monotonic() - clock
        received = sent + timedelta(seconds=elapsed)
        self.writer.write({
            "type": "request", "seq": seq, "marker": marker,
            "sent_at": timeutil.iso(sent), "received_at": timeutil.iso(received),
            "latency_ms": round(elapsed * 1000, 3), "status": status, "region": region,
            "event_id": event_id, "error": error,
        })


def is_throttling(exc: BaseException) -> bool:
    """Whether an AWS call failed because the caller exceeded its request rate."""
    response = getattr(exc, "response", None)
    error = response.get("Error", {}) if isinstance(response, dict) else {}
    return error.get("Code") in THROTTLING_CODES or "Rate exceeded" in str(exc)


def failure(record: dict[str, Any], exc: BaseException, action: str) -> dict[str, Any]:
    """``record`` marked as failed by ``exc`` (and as throttled when it was)."""
    record["error"] = f"{action}: {type(exc).__name__}: {exc}"[:ERROR_TEXT_LIMIT]
    if is_throttling(exc):
        record["throttled"] = True
    return record


def health_sample(client: Any, label: str, check_id: str,
                  flags: dict[str, bool] | None = None) -> dict[str, Any]:
    """One GetHealthCheckStatus call as a ``health`` record.

    ``healthy`` follows Route 53's rule (more than 18 % of the checkers' observations report
    ``Success``), then the check's own flags (``flags``, from GetHealthCheck): an inverted
    check reports the opposite, a disabled one is always healthy - so a planned drill's
    inverted primary shows as unhealthy. It is None when there are no observations yet or the
    call failed, because then the status is unknown rather than unhealthy; a failed call has
    ``error`` (and ``throttled`` when Route 53 throttled it).
    """
    flags = flags or {}
    record = health_record(label, check_id)
    try:
        observations = client.get_health_check_status(
            HealthCheckId=check_id)["HealthCheckObservations"]
    except Exception as exc:  # a failed sample is logged, the sampler carries on
        return failure(record, exc, "GetHealthCheckStatus")
    statuses = [o.get("StatusReport", {}).get("Status", "") for o in observations]
    if statuses:
        successes = sum(1 for s in statuses if s.startswith("Success"))
        observed = successes / len(statuses) > HEALTHY_SHARE
        inverted = bool(flags.get("inverted"))
        record["healthy"] = True if flags.get("disabled") else observed != inverted
        record["status"] = statuses[0]
    if flags.get("inverted"):
        record["inverted"] = True
    if flags.get("disabled"):
        record["disabled"] = True
    record["observations"] = len(statuses)
    return record


def health_record(label: str, check_id: str) -> dict[str, Any]:
    return {"type": "health", "at": timeutil.iso(timeutil.now()), "label": label,
            "health_check_id": check_id, "healthy": None, "status": None}


def health_flags(client: Any, check_id: str) -> dict[str, bool]:
    """The check's Inverted and Disabled flags (GetHealthCheck; raises when it fails)."""
    config = client.get_health_check(HealthCheckId=check_id)["HealthCheck"]["HealthCheckConfig"]
    return {"inverted": bool(config.get("Inverted")), "disabled": bool(config.get("Disabled"))}


def route53_client(options: TrafficOptions) -> Any:
    """A Route 53 client (``aws.session``; the endpoint, if given) that makes each call once:
    the sampler paces itself and backs off, so SDK retries would only add unlogged calls."""
    from botocore.config import Config

    session = aws.session()
    return session.client(
        "route53",
        region_name=options.region or session.region_name or "us-east-1",
        endpoint_url=options.endpoint_url,
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"},
                      connect_timeout=options.timeout, read_timeout=options.timeout),
    )


@dataclass
class Backoff:
    """The pause between two calls: ``base``, doubled after each throttled call up to
    ``BACKOFF_CEILING`` times ``base``, halved back towards ``base`` after each other call."""

    base: float
    delay: float = field(init=False)

    def __post_init__(self) -> None:
        self.delay = self.base

    def after(self, record: dict[str, Any]) -> float:
        if record.get("throttled"):
            self.delay = min(self.base * BACKOFF_CEILING, self.delay * 2)
        else:
            self.delay = max(self.base, self.delay / 2)
        return self.delay


class HealthSampler:
    """Samples the labelled health checks in turn, each every ``health_poll_interval`` seconds.

    One call at a time, evenly spaced (a check every ``health_poll_interval / checks``
    seconds), so Route 53's per-action bucket never sees a burst; each check's flags are read
    every ``flags_poll_interval`` seconds, before its sample.
    """

    def __init__(self, options: TrafficOptions, writer: JsonlWriter,
                 client_factory: Callable[[TrafficOptions], Any] = route53_client,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.options = options
        self.writer = writer
        self.client_factory = client_factory
        self.clock = clock
        self.flags: dict[str, dict[str, bool]] = {}
        self._flags_read: dict[str, float] = {}

    def sample(self, client: Any, label: str, check_id: str) -> dict[str, Any]:
        """One check's sample, its flags read first when they are due."""
        read = self._flags_read.get(check_id)
        if read is None or self.clock() - read >= self.options.flags_poll_interval:
            try:
                self.flags[check_id] = health_flags(client, check_id)
            except Exception as exc:
                if is_throttling(exc):  # no second call into a bucket that is empty
                    return failure(health_record(label, check_id), exc, "GetHealthCheck")
                # Otherwise the last known flags stand; the next sample tries again.
            else:
                self._flags_read[check_id] = self.clock()
        return health_sample(client, label, check_id, self.flags.get(check_id))

    def run(self, stop: threading.Event) -> None:
        checks = list(self.options.health_checks.items())
        try:
            client = self.client_factory(self.options)
        except Exception as exc:  # without a client there are no samples: say so in the log
            for label, check_id in checks:
                self.writer.write(failure(health_record(label, check_id), exc,
                                          "Route 53 client"))
            return
        backoff = Backoff(self.options.health_poll_interval / len(checks))
        turn = 0
        while True:
            label, check_id = checks[turn % len(checks)]
            record = self.sample(client, label, check_id)
            self.writer.write(record)
            turn += 1
            if stop.wait(backoff.after(record)):
                return


def run(options: TrafficOptions) -> int:
    """The sender in the foreground: until SIGTERM/SIGINT or ``max_seconds``."""
    options.run_dir.mkdir(parents=True, exist_ok=True)
    pid_file = options.run_dir / records.PID_FILE
    pid_file.write_text(f"{os.getpid()}\n")
    stop = threading.Event()
    reason = {"value": "max-seconds"}

    def on_signal(signum: int, _frame: Any) -> None:
        reason["value"] = signal.Signals(signum).name
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    writer = JsonlWriter(options.run_dir / records.TRAFFIC_LOG)
    try:
        sender = Sender(options, writer)
        threads = [threading.Thread(target=sender.run, args=(stop,), name="drillkit-sender")]
        if options.health_checks:
            sampler = HealthSampler(options, writer)
            threads.append(threading.Thread(target=sampler.run, args=(stop,),
                                            name="drillkit-health", daemon=True))
        if options.dns is not None:
            dns_sampler = DnsSampler(options.dns, writer.write)
            threads.append(threading.Thread(target=dns_sampler.run, args=(stop,),
                                            name="drillkit-dns", daemon=True))
        for thread in threads:
            thread.start()
        while not sender.first_sent.wait(0.05):
            if stop.is_set() or not threads[0].is_alive():
                break
        writer.write({
            "type": "start", "run_id": options.run_id, "pid": os.getpid(), "url": options.url,
            "host_header": options.host_header, "rate": options.rate,
            "timeout": options.timeout, "max_seconds": options.max_seconds,
            "health_checks": options.health_checks,
            "health_poll_interval": options.health_poll_interval,
            "flags_poll_interval": options.flags_poll_interval,
            "dns": None if options.dns is None else {
                "name": options.dns.name, "servers": list(options.dns.servers),
                "targets": dict(options.dns.targets), "resolver": options.dns.resolver,
                "poll_interval": options.dns.poll_interval},
            "first_request_sent_at": sender.first_sent_at,
        })
        stop.wait(options.max_seconds)  # None: until a signal
        stop.set()
        threads[0].join()  # every request in flight is bounded by its socket timeouts
        for thread in threads[1:]:
            thread.join(timeout=options.timeout + 5)
        writer.write({"type": "stop", "at": timeutil.iso(timeutil.now()),
                      "reason": reason["value"], "sent": sender.scheduled})
    finally:
        writer.close()
        if pid_file.exists() and pid_file.read_text().strip() == str(os.getpid()):
            pid_file.unlink()
    return 0
