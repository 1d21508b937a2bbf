"""The Route 53 health checker: real probes of every health check moto holds.

moto stores health checks (from the API or CloudFormation) and reports them all as healthy.
Here each one is evaluated the way Route 53 documents it:

- HTTP/HTTPS: a TCP connection within 4 s, then a 2xx/3xx status within 2 s; the ``_STR_MATCH``
  variants also need SearchString in the first 5120 bytes of the body. HTTPS certificates are
  not validated (as on AWS); SNI is sent when EnableSNI is set. TCP: a connection within 10 s.
- Every RequestInterval times ``LOCALCLOUD_TIME_SCALE`` seconds; the status changes after
  FailureThreshold consecutive results that disagree with it. A new health check starts
  Healthy ("Route 53 considers a new health check to be healthy until there's enough data to
  determine the actual status"), so a dead target turns it Unhealthy after FailureThreshold
  failures. The 4 s / 2 s / 10 s limits are not scaled: they bound what the endpoint must do,
  and a real endpoint (a Lambda cold start) does not get faster with the time scale.
- Inverted reports the opposite; Disabled stops probing and reports Healthy whatever Inverted
  says ("after you disable a health check, Route 53 considers [it] to always be healthy").
- CALCULATED: healthy while at least HealthThreshold children are healthy (1 if unset).
  CLOUDWATCH_METRIC: the alarm's state in moto's CloudWatch (OK healthy, ALARM unhealthy,
  INSUFFICIENT_DATA per InsufficientDataHealthStatus). Both follow their inputs at once.

Targets the local cloud serves itself (execute-api hosts, API Gateway custom domains, record
names of hosted zones) are probed over plain HTTP on the local cloud's own endpoint with the
name in ``Host:``, whatever Port and protocol the check names: TLS is not emulated, so an
HTTPS check of such a name tests what the API answers, not a certificate. Other targets are
probed for real over the network. One checker stands for all of AWS's checker regions, so the
"more than 18 % of checkers" rule reduces to this one checker's view.

Each evaluation puts the ``AWS/Route53`` ``HealthCheckStatus`` metric (1 or 0, dimension
HealthCheckId, us-east-1) into moto's CloudWatch, at most once a second per check unless the
status changed, so ``get-metric-statistics`` shows what alarms on AWS would see.
"""

from __future__ import annotations

import datetime as dt
import http.client
import logging
import socket
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from . import runtime

log = logging.getLogger("localcloud.healthchecks")

CONNECT_TIMEOUT = 4.0
RESPONSE_TIMEOUT = 2.0
TCP_CONNECT_TIMEOUT = 10.0
SEARCH_WINDOW = 5120
# Route 53's default checker regions, reported by GetHealthCheckStatus when Regions is unset.
DEFAULT_CHECKER_REGIONS = (
    "us-east-1", "us-west-1", "us-west-2", "eu-west-1",
    "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "sa-east-1",
)
USER_AGENT = "Amazon-Route53-Health-Check-Service (localcloud)"
METRIC_REGION = "us-east-1"
PROBE_TYPES = ("HTTP", "HTTPS", "HTTP_STR_MATCH", "HTTPS_STR_MATCH", "TCP")


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class CheckSpec:
    """A health check's configuration, copied out of moto under the lock."""

    id: str
    account_id: str
    type: str
    ip_address: str | None = None
    port: int | None = None
    resource_path: str | None = None
    fqdn: str | None = None
    search_string: str | None = None
    request_interval: int = 30
    failure_threshold: int = 3
    inverted: bool = False
    disabled: bool = False
    enable_sni: bool = False
    children: tuple[str, ...] = ()
    health_threshold: int | None = None
    alarm: tuple[str, str] | None = None  # (region, alarm name)
    insufficient_data: str = "LastKnownStatus"
    regions: tuple[str, ...] = ()

    @classmethod
    def of(cls, account_id: str, check: Any) -> CheckSpec:
        alarm = getattr(check, "alarm_identifier", None) or None
        return cls(
            id=check.id,
            account_id=account_id,
            type=str(check.type_ or "").upper(),
            ip_address=check.ip_address or None,
            port=int(check.port) if check.port else None,
            resource_path=check.resource_path or None,
            fqdn=check.fqdn or None,
            search_string=check.search_string,
            request_interval=int(check.request_interval or 30),
            failure_threshold=int(check.failure_threshold or 3),
            inverted=bool(check.inverted),
            disabled=bool(check.disabled),
            enable_sni=bool(check.enable_sni),
            children=tuple(check.children or ()),
            health_threshold=(int(check.health_threshold)
                              if check.health_threshold is not None else None),
            alarm=(alarm["Region"], alarm["Name"]) if alarm else None,
            insufficient_data=(getattr(check, "insufficient_data_health_status", None)
                               or "LastKnownStatus"),
            regions=tuple(check.regions or ()),
        )

    @property
    def probe_key(self) -> tuple[Any, ...]:
        """What a probe depends on: a result for an older key is stale."""
        return (self.type, self.ip_address, self.port, self.resource_path, self.fqdn,
                self.search_string, self.enable_sni)

    @property
    def path(self) -> str:
        path = self.resource_path or "/"
        return path if path.startswith("/") else "/" + path

    def describe_target(self) -> str:
        if self.type == "CALCULATED":
            return f"{self.health_threshold or 1} of [{', '.join(self.children)}]"
        if self.type == "CLOUDWATCH_METRIC":
            return f"alarm {self.alarm[1]} in {self.alarm[0]}" if self.alarm else "alarm ?"
        host = self.fqdn or self.ip_address or "?"
        if self.ip_address and self.fqdn:
            host = f"{self.ip_address} ({self.fqdn})"
        if self.type == "TCP":
            return f"tcp://{host}:{self.port}"
        scheme = "https" if self.type.startswith("HTTPS") else "http"
        return f"{scheme}://{host}:{self.port}{self.path}"


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    status: str  # as GetHealthCheckStatus reports it, e.g. "Success: HTTP Status Code 200, OK"
    checked_at: dt.datetime
    ip_address: str | None = None


@dataclass
class CheckState:
    spec: CheckSpec
    measured_healthy: bool = True
    consecutive: int = 0  # consecutive results disagreeing with measured_healthy
    last_result: ProbeResult | None = None
    # The latest probe that agrees with measured_healthy: what the checker reports.
    reported_result: ProbeResult | None = None
    last_change: dt.datetime = field(default_factory=_utcnow)
    next_due: float = 0.0
    in_flight: bool = False
    last_metric: float = 0.0

    @property
    def healthy(self) -> bool:
        """The status Route 53 reports and routes by."""
        if self.spec.disabled:
            return True
        return self.measured_healthy != self.spec.inverted


# -- Probes ---------------------------------------------------------------------------------------


class _HTTPSConnection(http.client.HTTPConnection):
    """HTTPS to an address with an SNI name of our choosing, certificates unchecked."""

    def __init__(self, host: str, port: int, sni: str | None, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._sni = sni

    def connect(self) -> None:
        super().connect()
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        self.sock = context.wrap_socket(self.sock, server_hostname=self._sni)


def _host_header(name: str, port: int, default_port: int) -> str:
    return name if port == default_port else f"{name}:{port}"


def probe(spec: CheckSpec, local: tuple[str, int] | None = None) -> ProbeResult:
    """Probe a health check's endpoint once.

    ``local`` is the local cloud's own (host, port) when the target is a name it serves.
    """
    if spec.type == "TCP":
        return _probe_tcp(spec, local)
    return _probe_http(spec, local)


def _endpoint(spec: CheckSpec, local: tuple[str, int] | None) -> tuple[str, int]:
    if local is not None:
        return local
    return spec.ip_address or spec.fqdn or "", int(spec.port or 80)


def _failure_for(exc: BaseException, port: int) -> str:
    if isinstance(exc, socket.gaierror):
        return "Failure: DNS resolution failed. The endpoint's name could not be resolved."
    if isinstance(exc, ConnectionRefusedError):
        return f"Failure: Connection refused. The endpoint is not accepting connections on " \
               f"port {port}."
    if isinstance(exc, TimeoutError):
        return ("Failure: Connection timed out. The endpoint or the internet connection is "
                "down, or requests are being blocked by your firewall.")
    if isinstance(exc, ssl.SSLError):
        return f"Failure: The TLS handshake failed: {exc}."
    return f"Failure: {type(exc).__name__}: {exc}".rstrip(": ") + "."


def _probe_tcp(spec: CheckSpec, local: tuple[str, int] | None) -> ProbeResult:
    host, port = _endpoint(spec, local)
    try:
        with socket.create_connection((host, port), timeout=TCP_CONNECT_TIMEOUT) as sock:
            peer = sock.getpeername()[0]
    except OSError as exc:
        return ProbeResult(False, _failure_for(exc, port), _utcnow())
    return ProbeResult(True, "Success: TCP connection established.", _utcnow(), peer)


def _probe_http(spec: CheckSpec, local: tuple[str, int] | None) -> ProbeResult:
    host, port = _endpoint(spec, local)
    secure = spec.type.startswith("HTTPS") and local is None
    name = spec.fqdn or spec.ip_address or host
    header = _host_header(name, int(spec.port or (443 if secure else 80)),
                          443 if spec.type.startswith("HTTPS") else 80)
    conn: http.client.HTTPConnection
    if secure:
        conn = _HTTPSConnection(host, port, spec.fqdn if spec.enable_sni else None,
                                CONNECT_TIMEOUT)
    else:
        conn = http.client.HTTPConnection(host, port, timeout=CONNECT_TIMEOUT)
    try:
        try:
            conn.connect()
            # A target that resets the connection at once fails here too: a failed probe.
            peer = conn.sock.getpeername()[0] if conn.sock else None
        except OSError as exc:
            return ProbeResult(False, _failure_for(exc, port), _utcnow())
        conn.sock.settimeout(RESPONSE_TIMEOUT)
        deadline = time.monotonic() + RESPONSE_TIMEOUT
        try:
            conn.putrequest("GET", spec.path, skip_host=True, skip_accept_encoding=True)
            conn.putheader("Host", header)
            conn.putheader("User-Agent", USER_AGENT)
            conn.endheaders()
            response = conn.getresponse()
        except OSError as exc:
            status = "Failure: The endpoint did not respond within 2 seconds." \
                if isinstance(exc, TimeoutError) else _failure_for(exc, port)
            return ProbeResult(False, status, _utcnow(), peer)
        except http.client.HTTPException as exc:
            return ProbeResult(False, f"Failure: Invalid HTTP response: {exc!r}.", _utcnow(), peer)
        code, reason = response.status, response.reason
        described = f"HTTP Status Code {code}, {reason}"
        if not 200 <= code < 400:
            return ProbeResult(False, f"Failure: {described}", _utcnow(), peer)
        if spec.type.endswith("_STR_MATCH"):
            return _match_body(spec, response, deadline, described, peer)
        return ProbeResult(True, f"Success: {described}", _utcnow(), peer)
    finally:
        conn.close()


def _match_body(spec: CheckSpec, response: http.client.HTTPResponse, deadline: float,
                described: str, peer: str | None) -> ProbeResult:
    """SearchString must appear in the first 5120 bytes, received within 2 s of the status."""
    body = b""
    try:
        while len(body) < SEARCH_WINDOW and time.monotonic() < deadline:
            chunk = response.read1(SEARCH_WINDOW - len(body))
            if not chunk:
                break
            body += chunk
    except OSError:
        pass
    wanted = (spec.search_string or "").encode()
    if wanted in body[:SEARCH_WINDOW]:
        return ProbeResult(True, f"Success: {described}", _utcnow(), peer)
    return ProbeResult(
        False,
        f"Failure: {described}. The response body did not contain the search string "
        f"'{spec.search_string}' in its first {SEARCH_WINDOW} bytes.",
        _utcnow(), peer)


# -- The checker ----------------------------------------------------------------------------------


class HealthChecker:
    """Evaluates every Route 53 health check in the background; the source of their status."""

    name = "health_checks"

    def __init__(self, rt: runtime.Runtime) -> None:
        self.runtime = rt
        self._lock = threading.Lock()  # guards _states; never held while taking runtime.LOCK
        self._states: dict[str, CheckState] = {}
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None

    # -- Component ------------------------------------------------------------------------

    def start(self) -> None:
        self._stopping.clear()
        self._pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="health-probe")
        self._thread = threading.Thread(target=self._run, name="health-checker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._thread = self._pool = None

    def reset(self) -> None:
        with self._lock:
            self._states.clear()
        self._wake.set()

    def status(self) -> dict[str, Any]:
        """``{"checks": [...]}``: each known check with its current status and last probe."""
        with self._lock:
            states = [replace(s) for s in self._states.values()]
        return {"checks": [self._describe(s) for s in sorted(states, key=lambda s: s.spec.id)]}

    # -- What other parts ask ---------------------------------------------------------------

    def wake(self) -> None:
        """Look at the health checks now (one was created, changed or deleted)."""
        self._wake.set()

    def is_healthy(self, check_id: str) -> bool | None:
        """The reported status; None for a check not (yet) known to the checker."""
        with self._lock:
            state = self._states.get(check_id)
            return None if state is None else state.healthy

    def observations(self, check_id: str) -> list[dict[str, Any]]:
        """GetHealthCheckStatus's observations: one per checker region, all from our probe.

        Each observation is the checker's report: a checker applies FailureThreshold before it
        reports the endpoint's status as changed, so the report is the latest probe that agrees
        with the checker's status (a single failed probe below the threshold leaves it
        "Success"). Inverted and Disabled are not applied here: they change the health check's
        status (what DNS routes by), not what the checkers observe of the endpoint.
        """
        with self._lock:
            state = self._states.get(check_id)
            if state is None or state.last_result is None:
                return []
            result = state.reported_result or state.last_result
            regions = state.spec.regions
        return [
            {
                "Region": region,
                "IPAddress": self.runtime.config.host,
                "StatusReport": {"Status": result.status, "CheckedTime": result.checked_at},
            }
            for region in (regions or DEFAULT_CHECKER_REGIONS)
        ]

    # -- Loop ---------------------------------------------------------------------------------

    def _tick(self) -> float:
        # The shortest RequestInterval AWS allows is 10 s; look ten times per such interval.
        return min(0.5, max(0.02, self.runtime.scaled(10) / 10))

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._sync()
                self._evaluate_derived()
                self._dispatch_due()
            except Exception:  # the checker must outlive one bad health check
                log.exception("health checker pass failed")
            self._wake.wait(self._tick())
            self._wake.clear()

    def _sync(self) -> None:
        """Follow moto: add new checks, take changed settings, forget deleted ones."""
        from moto.route53.models import route53_backends

        specs: dict[str, CheckSpec] = {}
        with runtime.LOCK:
            for account_id in runtime.account_ids(route53_backends):
                backend = route53_backends[account_id]["aws"]
                for check in list(backend.health_checks.values()):
                    try:
                        specs[check.id] = CheckSpec.of(account_id, check)
                    except (TypeError, ValueError, KeyError) as exc:
                        log.warning("health check %s is malformed: %s", check.id, exc)
        now = time.monotonic()
        with self._lock:
            for check_id in list(self._states):
                if check_id not in specs:
                    del self._states[check_id]
            for check_id, spec in specs.items():
                state = self._states.get(check_id)
                if state is None:
                    self._states[check_id] = CheckState(spec=spec, next_due=now)
                    continue
                if state.spec.probe_key != spec.probe_key:
                    state.consecutive = 0
                    state.next_due = now
                elif state.spec.disabled and not spec.disabled:
                    state.next_due = now
                if state.healthy != CheckState(spec, state.measured_healthy).healthy:
                    state.last_change = _utcnow()
                state.spec = spec

    def _dispatch_due(self) -> None:
        now = time.monotonic()
        due: list[CheckSpec] = []
        disabled: list[CheckSpec] = []
        with self._lock:
            for state in self._states.values():
                spec = state.spec
                if spec.type not in PROBE_TYPES or state.in_flight or state.next_due > now:
                    continue
                state.next_due = now + self.runtime.scaled(spec.request_interval)
                if spec.disabled:
                    # No request goes out, but the status (Healthy) is still published.
                    if self._metric_due(state, False):
                        disabled.append(spec)
                    continue
                state.in_flight = True
                due.append(spec)
        for spec in disabled:
            self._put_metric(spec, True)
        for spec in due:
            if self._pool is None:
                return
            self._pool.submit(self._probe_and_record, spec)

    def _probe_and_record(self, spec: CheckSpec) -> None:
        try:
            result = probe(spec, self._local_endpoint(spec))
        except Exception as exc:  # a probe bug counts as a failed check, loudly
            log.exception("probing health check %s failed", spec.id)
            result = ProbeResult(False, f"Failure: {exc!r}", _utcnow())
        self._record(spec, result)

    def _local_endpoint(self, spec: CheckSpec) -> tuple[str, int] | None:
        if spec.ip_address or not spec.fqdn:
            return None
        from .dns import Resolver

        if Resolver().local_name(spec.fqdn):
            return self.runtime.config.host, self.runtime.config.port
        return None

    def _record(self, spec: CheckSpec, result: ProbeResult) -> None:
        with self._lock:
            state = self._states.get(spec.id)
            if state is None:
                return
            state.in_flight = False
            if state.spec.probe_key != spec.probe_key:
                return  # the target changed while we probed it
            state.last_result = result
            was = state.healthy
            if result.ok == state.measured_healthy:
                state.consecutive = 0
                state.reported_result = result
            else:
                state.consecutive += 1
                if state.consecutive >= state.spec.failure_threshold:
                    state.measured_healthy = result.ok
                    state.consecutive = 0
                    state.reported_result = result
            changed = state.healthy != was
            if changed:
                state.last_change = _utcnow()
                log.info("health check %s (%s) is now %s: %s", spec.id, spec.describe_target(),
                         "Healthy" if state.healthy else "Unhealthy", result.status)
            emit = self._metric_due(state, changed)
            healthy = state.healthy
        if emit:
            self._put_metric(spec, healthy)

    def _evaluate_derived(self) -> None:
        """CALCULATED and CLOUDWATCH_METRIC checks follow their inputs on every pass."""
        alarms = self._alarm_states()
        emits: list[tuple[CheckSpec, bool]] = []
        with self._lock:
            for state in self._states.values():
                spec = state.spec
                if spec.type == "CALCULATED":
                    healthy_children = sum(
                        1 for child in spec.children
                        if child in self._states and self._states[child].healthy)
                    threshold = spec.health_threshold if spec.health_threshold is not None else 1
                    measured = healthy_children >= threshold
                elif spec.type == "CLOUDWATCH_METRIC":
                    measured = self._from_alarm(state, alarms.get(spec.id))
                else:
                    continue
                if spec.disabled:
                    measured = state.measured_healthy
                was = state.healthy
                state.measured_healthy = measured
                changed = state.healthy != was
                if changed:
                    state.last_change = _utcnow()
                    log.info("health check %s (%s) is now %s", spec.id, spec.describe_target(),
                             "Healthy" if state.healthy else "Unhealthy")
                if self._metric_due(state, changed):
                    emits.append((spec, state.healthy))
        for spec, healthy in emits:
            self._put_metric(spec, healthy)

    @staticmethod
    def _from_alarm(state: CheckState, alarm_state: str | None) -> bool:
        if alarm_state == "OK":
            return True
        if alarm_state == "ALARM":
            return False
        policy = state.spec.insufficient_data
        if policy == "Healthy":
            return True
        if policy == "Unhealthy":
            return False
        return state.measured_healthy  # LastKnownStatus (a new check: healthy)

    def _alarm_states(self) -> dict[str, str | None]:
        with self._lock:
            wanted = {s.spec.id: s.spec for s in self._states.values()
                      if s.spec.type == "CLOUDWATCH_METRIC" and s.spec.alarm}
        if not wanted:
            return {}
        from moto.cloudwatch.models import cloudwatch_backends

        found: dict[str, str | None] = {}
        with runtime.LOCK:
            for check_id, spec in wanted.items():
                region, alarm_name = spec.alarm  # type: ignore[misc]
                alarm = cloudwatch_backends[spec.account_id][region].alarms.get(alarm_name)
                found[check_id] = alarm.state_value if alarm is not None else None
        return found

    # -- Metric ---------------------------------------------------------------------------

    @staticmethod
    def _metric_due(state: CheckState, changed: bool) -> bool:
        now = time.monotonic()
        if changed or now - state.last_metric >= 1.0:
            state.last_metric = now
            return True
        return False

    def _put_metric(self, spec: CheckSpec, healthy: bool) -> None:
        from moto.cloudwatch.models import cloudwatch_backends
        from moto.core.utils import utcnow as moto_utcnow

        datum = {
            "MetricName": "HealthCheckStatus",
            "Dimensions": [{"Name": "HealthCheckId", "Value": spec.id}],
            "Value": 1.0 if healthy else 0.0,
            "Unit": "None",
            "Timestamp": moto_utcnow(),  # naive UTC, as moto compares it
        }
        try:
            with runtime.LOCK:
                cloudwatch_backends[spec.account_id][METRIC_REGION].put_metric_data(
                    "AWS/Route53", [datum])
        except Exception:
            log.exception("putting HealthCheckStatus for %s failed", spec.id)

    # -- Status ---------------------------------------------------------------------------

    @staticmethod
    def _describe(state: CheckState) -> dict[str, Any]:
        spec, result = state.spec, state.last_result
        return {
            "id": spec.id,
            "type": spec.type,
            "target": spec.describe_target(),
            "inverted": spec.inverted,
            "disabled": spec.disabled,
            "status": "Healthy" if state.healthy else "Unhealthy",
            "last_probe": result.status if result else None,
            "last_probe_time": result.checked_at.isoformat() if result else None,
            "consecutive": state.consecutive,
            "failure_threshold": spec.failure_threshold,
            "last_change": state.last_change.isoformat(),
        }
