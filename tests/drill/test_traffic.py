"""`drillkit traffic`: steady background traffic, its log, stop/status, health samples and DNS
answers; `drillkit dns wait`.

The API is a small threaded HTTP server of the test's own that answers like the regional API
(X-Region header, `{"eventId": ...}`), so the test decides which region answers, how slowly,
and with what status. Health samples come from a local cloud's Route 53, or from a fake client
when Route 53 must throttle. DNS answers come from a name server of the test's own (dnslib).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, ProfileNotFound
from conftest import REPO, LocalCloudProcess, free_port, wait_for
from dnslib import QTYPE, RCODE, RR, A
from dnslib.server import BaseResolver, DNSLogger, DNSServer

from drillkit import aws
from drillkit.dns import DnsOptions, DnsSampler, Reply, TargetAddresses, classify
from drillkit.traffic import HealthSampler, TrafficOptions, route53_client

ISO_MICROS_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$")
AWS_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1"}


class FakeApi:
    """Answers POSTs like the regional API; remembers every request and the id it returned."""

    def __init__(self, region: str = "us-east-1") -> None:
        self.region = region
        self.status = 200
        self.delay = 0.0
        self.received: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                event_id = str(uuid.uuid4())
                region, status, delay = api.region, api.status, api.delay
                with api.lock:
                    api.received.append({"host": self.headers["Host"], "body": body,
                                         "event_id": event_id, "region": region})
                time.sleep(delay)
                answer = ({"eventId": event_id} if status == 200
                          else {"message": "Service Unavailable"})
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("X-Region", region)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def count(self) -> int:
        with self.lock:
            return len(self.received)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def api() -> Iterator[FakeApi]:
    server = FakeApi()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def run_dir(tmp_path: Path) -> Iterator[Path]:
    """The run's folder; a sender a failed test left running is stopped (if it is ours)."""
    folder = tmp_path / "run"
    yield folder
    if (folder / "traffic.pid").exists():
        drillkit("traffic", "stop", "--run-dir", str(folder))


def drillkit(*args: str, env: dict[str, str] | None = None,
             timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "drillkit", *args], cwd=REPO,
                          env={**os.environ, **AWS_ENV, **(env or {})}, capture_output=True,
                          text=True, timeout=timeout)


def traffic_args(run_dir: Path, url: str, run_id: str, *extra: str) -> list[str]:
    return ["--run-dir", str(run_dir), "--url", url, "--run-id", run_id, *extra]


def logged(run_dir: Path, kind: str = "request") -> list[dict[str, Any]]:
    path = run_dir / "traffic.jsonl"
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    return [line for line in lines if line["type"] == kind]


def exited(pid: int) -> bool:
    """Gone, or a zombie nobody reaped yet (the sender's parent exited long ago)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_steady_traffic_follows_the_answering_region_and_stop_flushes(api, run_dir):
    api.delay = 0.3  # slower than the request interval: only concurrency keeps the rate
    started = drillkit("traffic", "start", *traffic_args(
        run_dir, api.url, "run-a", "--rate", "20", "--host-header", "api.drill.test",
        "--source", "drill.test", "--detail-type", "Probe"))
    assert started.returncode == 0, started.stderr
    answer = json.loads(started.stdout)
    assert answer["log"] == str((run_dir / "traffic.jsonl").resolve())
    assert (run_dir / "traffic.pid").read_text().strip() == str(answer["pid"])
    assert logged(run_dir, "start")[0]["first_request_sent_at"]  # returned once one was out

    wait_for(lambda: api.count() >= 20, timeout=15, message="20 requests in us-east-1")
    api.region = "eu-west-1"
    wait_for(lambda: api.count() >= 40, timeout=15, message="20 more requests in eu-west-1")
    stopped = drillkit("traffic", "stop", "--run-dir", str(run_dir))

    assert stopped.returncode == 0, stopped.stderr
    assert not (run_dir / "traffic.pid").exists()
    assert exited(answer["pid"])
    requests = sorted(logged(run_dir), key=lambda r: r["seq"])
    # Every request the API received is logged exactly once, in-flight ones included.
    assert [r["seq"] for r in requests] == list(range(api.count()))
    served = {item["body"]["Detail"]["marker"]: item for item in api.received}
    for request in requests:
        sent = served[request["marker"]]
        assert request["marker"] == f"run-a-{request['seq']}"
        assert sent["host"] == "api.drill.test"
        assert sent["body"] == {"Source": "drill.test", "DetailType": "Probe", "Detail": {
            "runId": "run-a", "marker": request["marker"], "seq": request["seq"],
            "sentAt": request["sent_at"]}}
        assert (request["status"], request["region"], request["event_id"], request["error"]) \
            == (200, sent["region"], sent["event_id"], None)
        assert ISO_MICROS_UTC.match(request["sent_at"])
        assert ISO_MICROS_UTC.match(request["received_at"])
        assert request["latency_ms"] >= 300
    # On schedule: request n goes out n / rate after the first, however slow the answers.
    first = at(requests[0]["sent_at"])
    lateness = [(at(r["sent_at"]) - first).total_seconds() - r["seq"] / 20 for r in requests]
    assert max(abs(x) for x in lateness) < 0.25, lateness
    summary = json.loads(stopped.stdout)
    in_east = sum(1 for item in api.received if item["region"] == "us-east-1")
    assert summary == {"sent": len(requests), "answered": len(requests),
                       "accepted": len(requests), "rejected": 0, "errors": 0,
                       "by_region": {"eu-west-1": len(requests) - in_east,
                                     "us-east-1": in_east}}
    assert logged(run_dir, "stop")[0]["reason"] == "SIGTERM"


def test_status_while_running_and_max_seconds_stops_by_itself(api, run_dir):
    started = drillkit("traffic", "start", *traffic_args(
        run_dir, api.url, "run-b", "--rate", "10", "--max-seconds", "1.5"))
    assert started.returncode == 0, started.stderr

    running = json.loads(drillkit("traffic", "status", "--run-dir", str(run_dir)).stdout)
    assert running["running"] is True
    again = drillkit("traffic", "start", *traffic_args(run_dir, api.url, "run-b", "--rate", "1"))
    assert again.returncode == 1
    assert "already running" in again.stderr
    wait_for(lambda: logged(run_dir), message="a first answer")
    assert json.loads(drillkit("traffic", "status", "--run-dir", str(run_dir)).stdout)[
        "last_region"] == "us-east-1"

    def finished() -> dict[str, Any] | None:
        seen = json.loads(drillkit("traffic", "status", "--run-dir", str(run_dir)).stdout)
        return None if seen["running"] else seen

    done = wait_for(finished, timeout=15, interval=0.2, message="the sender to stop itself")
    assert not (run_dir / "traffic.pid").exists()
    assert 13 <= done["sent"] <= 17  # 1.5 s at 10/s (+ the request at t=0)
    assert (done["accepted"], done["last_status"], done["last_region"]) == (
        done["sent"], 200, "us-east-1")
    assert logged(run_dir, "stop")[0]["reason"] == "max-seconds"
    stopped = drillkit("traffic", "stop", "--run-dir", str(run_dir))
    assert stopped.returncode == 0
    assert json.loads(stopped.stdout)["sent"] == done["sent"]


@pytest.mark.parametrize(
    ("setup", "timeout", "expected"),
    [
        ("503", "5", {"status": 503, "region": "us-east-1", "event_id": None, "error": None}),
        ("closed-port", "5", {"status": None, "region": None, "event_id": None,
                              "error": "connection refused"}),
        ("slow", "0.3", {"status": None, "region": None, "event_id": None,
                         "error": "timed out after 0.3s"}),
    ],
)
def test_rejections_and_unanswered_requests_are_logged(api, run_dir, setup, timeout, expected):
    url = api.url
    if setup == "503":
        api.status = 503
    elif setup == "closed-port":
        url = f"http://127.0.0.1:{free_port()}/"
    else:
        api.delay = 1.0
    ran = drillkit("traffic", "run", *traffic_args(
        run_dir, url, "run-c", "--rate", "4", "--max-seconds", "0.6", "--timeout", timeout))

    assert ran.returncode == 0, ran.stderr
    requests = logged(run_dir)
    assert len(requests) >= 2
    assert all({k: r[k] for k in expected} == expected for r in requests)
    if setup == "slow":
        assert all(250 <= r["latency_ms"] < 900 for r in requests)
    summary = json.loads(drillkit("traffic", "status", "--run-dir", str(run_dir)).stdout)
    counted = "rejected" if setup == "503" else "errors"
    assert summary[counted] == summary["sent"] == len(requests)
    assert summary["accepted"] == 0


def test_stop_refuses_a_pid_that_is_not_ours(run_dir):
    run_dir.mkdir()
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (run_dir / "traffic.pid").write_text(f"{stranger.pid}\n")
        refused = drillkit("traffic", "stop", "--run-dir", str(run_dir))

        assert refused.returncode == 1
        assert f"pid {stranger.pid}" in refused.stderr
        assert stranger.poll() is None  # not signalled
    finally:
        stranger.kill()
        stranger.wait()


def test_health_samples_follow_route53(api, run_dir, localcloud: LocalCloudProcess):
    """Route 53 health checks of the test's own (a healthy and a failing target)."""
    primary_target, secondary_target = FakeHealthTarget(200), FakeHealthTarget(503)
    route53 = localcloud.client("route53")
    ids = {}
    for label, target in (("PRIMARY", primary_target), ("SECONDARY", secondary_target)):
        ids[label] = route53.create_health_check(
            CallerReference=f"drill-{label}-{uuid.uuid4()}",
            HealthCheckConfig={"Type": "HTTP", "IPAddress": "127.0.0.1", "Port": target.port,
                               "ResourcePath": "/health", "RequestInterval": 10,
                               "FailureThreshold": 1})["HealthCheck"]["Id"]
    try:
        started = drillkit("traffic", "start", *traffic_args(
            run_dir, api.url, "run-d", "--rate", "2",
            "--health-check", f"PRIMARY={ids['PRIMARY']}",
            "--health-check", f"SECONDARY={ids['SECONDARY']}",
            "--health-poll-interval", "0.2", "--flags-poll-interval", "0.5",
            "--endpoint-url", localcloud.url,
            "--region", "us-east-1"))
        assert started.returncode == 0, started.stderr

        def sample(label: str, healthy: bool, after: int = 0) -> dict[str, Any] | None:
            samples = [s for s in logged(run_dir, "health") if s["label"] == label]
            return next((s for s in samples[after:] if s["healthy"] is healthy), None)

        up = wait_for(lambda: sample("PRIMARY", True), timeout=15, message="PRIMARY healthy")
        down = wait_for(lambda: sample("SECONDARY", False), timeout=15,
                        message="SECONDARY unhealthy")
        assert up["health_check_id"] == ids["PRIMARY"]
        assert up["status"].startswith("Success: HTTP Status Code 200")
        assert ISO_MICROS_UTC.match(up["at"])
        assert down["status"].startswith("Failure: HTTP Status Code 503")

        seen = len([s for s in logged(run_dir, "health") if s["label"] == "PRIMARY"])
        primary_target.code = 500
        failed = wait_for(lambda: sample("PRIMARY", False, after=seen), timeout=15,
                          message="PRIMARY unhealthy after its target failed")
        assert failed["status"].startswith("Failure: HTTP Status Code 500")

        # A planned drill inverts the check: the endpoint still answers, the check is unhealthy.
        primary_target.code = 200
        seen = len([s for s in logged(run_dir, "health") if s["label"] == "PRIMARY"])
        wait_for(lambda: sample("PRIMARY", True, after=seen), timeout=15,
                 message="PRIMARY healthy again")
        route53.update_health_check(HealthCheckId=ids["PRIMARY"], Inverted=True)
        seen = len([s for s in logged(run_dir, "health") if s["label"] == "PRIMARY"])
        inverted = wait_for(lambda: sample("PRIMARY", False, after=seen), timeout=15,
                            message="PRIMARY unhealthy once inverted")
        assert inverted["status"].startswith("Success: HTTP Status Code 200")
        assert inverted["inverted"] is True
    finally:
        drillkit("traffic", "stop", "--run-dir", str(run_dir))
        for label in ids:
            route53.delete_health_check(HealthCheckId=ids[label])
        primary_target.close()
        secondary_target.close()


class FakeHealthTarget:
    """A health endpoint answering GET with a status the test sets."""

    def __init__(self, code: int) -> None:
        self.code = code
        target = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(target.code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# -- DNS answers ---------------------------------------------------------------------------------

PRIMARY_TARGET = "d-primary1.execute-api.us-east-1.amazonaws.com"
SECONDARY_TARGET = "d-second2.execute-api.us-west-2.amazonaws.com"


class FakeNameServer:
    """A DNS server of the test's own: A answers from ``records`` (name -> addresses; a name
    that is not there is NXDOMAIN). Remembers every question with its RD flag."""

    def __init__(self) -> None:
        self.records: dict[str, list[str]] = {}
        self.questions: list[tuple[str, int]] = []
        server = self

        class Resolver(BaseResolver):
            def resolve(self, request: Any, handler: Any) -> Any:
                reply = request.reply()
                name = str(request.q.qname).rstrip(".").lower()
                server.questions.append((name, request.header.rd))
                addresses = server.records.get(name)
                if addresses is None:
                    reply.header.rcode = RCODE.NXDOMAIN
                for address in addresses or []:
                    reply.add_answer(RR(request.q.qname, QTYPE.A, rdata=A(address), ttl=60))
                return reply

        quiet = DNSLogger(log="-recv,-send,-request,-reply,-truncated,-error,-data",
                          logf=lambda *_: None)
        self.server = DNSServer(Resolver(), address="127.0.0.1", port=0, logger=quiet)
        self.port = self.server.server.server_address[1]
        self.address = f"127.0.0.1:{self.port}"
        self.server.start_thread()

    def asked(self, name: str) -> list[int]:
        """The RD flag of every question for ``name``."""
        return [rd for asked, rd in list(self.questions) if asked == name]

    def close(self) -> None:
        self.server.stop()
        self.server.server.server_close()


@pytest.fixture
def name_server() -> Iterator[FakeNameServer]:
    server = FakeNameServer()
    try:
        yield server
    finally:
        server.close()


@pytest.mark.parametrize(
    ("answer", "known", "label"),
    [
        (["198.18.0.1"], {"PRIMARY": {"198.18.0.1"}, "SECONDARY": {"198.18.0.2"}}, "PRIMARY"),
        (["198.18.0.2"], {"PRIMARY": {"198.18.0.1"}, "SECONDARY": {"198.18.0.2"}}, "SECONDARY"),
        # API Gateway rotates its addresses: any address a target was seen with counts.
        (["3.0.0.7", "3.0.0.9"], {"PRIMARY": {"3.0.0.1", "3.0.0.9"}, "SECONDARY": {"4.0.0.1"}},
         "PRIMARY"),
        (["192.0.2.50"], {"PRIMARY": {"198.18.0.1"}, "SECONDARY": {"198.18.0.2"}}, None),
        ([], {"PRIMARY": {"198.18.0.1"}, "SECONDARY": {"198.18.0.2"}}, None),
        # Addresses of both targets at once: no way to tell which answered.
        (["198.18.0.1", "198.18.0.2"], {"PRIMARY": {"198.18.0.1"},
                                        "SECONDARY": {"198.18.0.2"}}, None),
        (["198.18.0.1"], {}, None),
    ],
    ids=["primary", "secondary", "rotated", "unknown", "empty", "both", "no-targets"],
)
def test_an_answer_is_labelled_by_the_target_whose_addresses_it_has(answer, known, label):
    assert classify(answer, known) == label


def test_target_addresses_accumulate_as_they_rotate():
    rotation = {"PRIMARY": [["3.0.0.1", "3.0.0.2"], ["3.0.0.3"], LookupError("SERVFAIL")],
                "SECONDARY": [["4.0.0.1"], ["4.0.0.2"], ["4.0.0.2"]]}
    names = {"PRIMARY": PRIMARY_TARGET, "SECONDARY": SECONDARY_TARGET}
    label_of = {name: label for label, name in names.items()}

    def resolve(name: str) -> list[str]:
        answer = rotation[label_of[name]].pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    targets = TargetAddresses(names, resolve)
    assert targets.refresh() == {}
    assert targets.refresh() == {}
    errors = targets.refresh()

    assert targets.known == {"PRIMARY": {"3.0.0.1", "3.0.0.2", "3.0.0.3"},
                             "SECONDARY": {"4.0.0.1", "4.0.0.2"}}
    assert list(errors) == ["PRIMARY"] and "SERVFAIL" in errors["PRIMARY"]
    # An old address still classifies after the target moved on.
    assert classify(["3.0.0.1"], targets.known) == "PRIMARY"


def test_dns_samples_ask_each_server_directly_and_label_the_answer(name_server):
    name_server.records = {"api.drill.test": ["198.18.0.1"], PRIMARY_TARGET: ["198.18.0.1"],
                           SECONDARY_TARGET: ["198.18.0.2"]}
    written: list[dict[str, Any]] = []

    def unreachable(address: str, port: int, name: str) -> Reply:
        raise TimeoutError("timed out")

    sampler = DnsSampler(DnsOptions(
        name="api.drill.test", servers=(name_server.address, "ns-1.awsdns-00.test"),
        targets={"PRIMARY": PRIMARY_TARGET, "SECONDARY": SECONDARY_TARGET},
        resolver=name_server.address), written.append,
        server_address=lambda host: {"127.0.0.1": "127.0.0.1"}[host])
    first = sampler.sample_round()
    name_server.records["api.drill.test"] = ["198.18.0.2"]
    second = sampler.sample_round()
    name_server.records["api.drill.test"] = ["192.0.2.50"]
    sampler.query = unreachable
    third = sampler.sample_round()

    answered = {"server": name_server.address, "name": "api.drill.test", "rcode": "NOERROR"}
    assert {k: first[0][k] for k in ("type", "answer", "label", *answered)} == {
        "type": "dns", "answer": ["198.18.0.1"], "label": "PRIMARY", **answered}
    assert {k: second[0][k] for k in ("answer", "label")} == {
        "answer": ["198.18.0.2"], "label": "SECONDARY"}
    assert ISO_MICROS_UTC.match(first[0]["at"]) and "error" not in first[0]
    # A name server whose name does not resolve, or that does not answer, is a failed sample.
    assert first[1]["server"] == "ns-1.awsdns-00.test:53"
    assert (first[1]["answer"], first[1]["label"], first[1]["rcode"]) == ([], None, None)
    assert "KeyError" in first[1]["error"]
    assert third[0]["error"] == "timed out" and third[0]["label"] is None
    # The zone's name servers are asked directly (no recursion); the targets through a resolver.
    assert set(name_server.asked("api.drill.test")) == {0}
    assert set(name_server.asked(PRIMARY_TARGET)) == set(name_server.asked(SECONDARY_TARGET)) == {1}


def test_traffic_logs_dns_answers_and_dns_wait_finds_the_switch(api, run_dir, name_server):
    name_server.records = {"api.drill.test": ["198.18.0.1"], PRIMARY_TARGET: ["198.18.0.1"],
                           SECONDARY_TARGET: ["198.18.0.2"]}
    started = drillkit("traffic", "start", *traffic_args(
        run_dir, api.url, "run-f", "--rate", "2", "--dns-name", "api.drill.test",
        "--dns-server", name_server.address, "--dns-target", f"PRIMARY={PRIMARY_TARGET}",
        "--dns-target", f"SECONDARY={SECONDARY_TARGET}", "--dns-resolver", name_server.address,
        "--dns-poll-interval", "0.1"))
    assert started.returncode == 0, started.stderr

    def labelled(label: str | None) -> list[dict[str, Any]]:
        return [s for s in logged(run_dir, "dns") if s["label"] == label and not s.get("error")]

    wait_for(lambda: labelled("PRIMARY"), message="an answer with the primary's target")
    name_server.records["api.drill.test"] = ["192.0.2.50"]
    wait_for(lambda: labelled(None), message="an answer with no known target")
    switched = datetime.now(UTC)
    name_server.records["api.drill.test"] = ["198.18.0.2"]
    waited = drillkit("dns", "wait", "--run-dir", str(run_dir), "--label", "SECONDARY",
                      "--since", switched.isoformat(), "--timeout", "10")
    drillkit("traffic", "stop", "--run-dir", str(run_dir))

    assert waited.returncode == 0, waited.stderr
    found = json.loads(waited.stdout)
    first = min(labelled("SECONDARY"), key=lambda s: at(s["at"]))
    assert {k: found[k] for k in first} == first
    assert (found["answer"], found["server"]) == (["198.18.0.2"], name_server.address)
    assert at(found["at"]) >= switched
    assert found["seconds_after_since"] == pytest.approx(
        (at(found["at"]) - switched).total_seconds(), abs=1e-6)
    assert logged(run_dir, "start")[0]["dns"]["targets"] == {
        "PRIMARY": PRIMARY_TARGET, "SECONDARY": SECONDARY_TARGET}


def write_log(run_dir: Path, *lines: dict[str, Any]) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    with open(run_dir / "traffic.jsonl", "a") as log:
        log.writelines(json.dumps(line) + "\n" for line in lines)


def dns_line(second: float, label: str | None, error: str | None = None) -> dict[str, Any]:
    line = {"type": "dns", "at": f"2024-05-01T12:00:{second:09.6f}+00:00",
            "server": "127.0.0.1:53", "name": "api.drill.test",
            "answer": [] if error else ["198.18.0.2"], "label": label,
            "rcode": None if error else "NOERROR"}
    return {**line, "error": error} if error else line


@pytest.mark.parametrize(
    ("lines", "later", "code", "expected"),
    [
        ([dns_line(5, "SECONDARY"), dns_line(9, "PRIMARY"), dns_line(12, "SECONDARY"),
          dns_line(11, "SECONDARY")], [], 0, "2024-05-01T12:00:11.000000+00:00"),
        # The answer comes while the command waits.
        ([dns_line(9, "PRIMARY")], [dns_line(10.5, "PRIMARY"), dns_line(10.75, "SECONDARY")],
         0, "2024-05-01T12:00:10.750000+00:00"),
        ([dns_line(5, "SECONDARY"), dns_line(11, None, "timed out"), dns_line(12, None)], [],
         1, "last samples: 2024-05-01T12:00:05.000000+00:00 127.0.0.1:53: NOERROR"),
        ([], [], 1, "no DNS sample in"),
    ],
    ids=["first-after-since", "while-waiting", "never", "no-samples"],
)
def test_dns_wait_prints_the_first_answer_since(tmp_path, lines, later, code, expected):
    run_dir = tmp_path / "run"
    write_log(run_dir, *lines)
    waiting = subprocess.Popen(
        [sys.executable, "-m", "drillkit", "dns", "wait", "--run-dir", str(run_dir),
         "--label", "SECONDARY", "--since", "2024-05-01T12:00:10Z", "--timeout", "3"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if later:
        time.sleep(1)
        write_log(run_dir, *later)
    stdout, stderr = waiting.communicate(timeout=30)

    assert waiting.returncode == code, stderr
    if code == 0:
        assert json.loads(stdout)["at"] == expected
    else:
        assert "no name server answered SECONDARY since 2024-05-01T12:00:10" in stderr
        assert expected in stderr


# -- Route 53's API rate --------------------------------------------------------------------------

def throttled(operation: str, code: str = "Throttling",
              message: str = "Rate exceeded") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


class ThrottlingRoute53:
    """Route 53 that throttles the first calls of one operation, then answers."""

    def __init__(self, operation: str, throttled_calls: int, error: ClientError) -> None:
        self.operation, self.left, self.error = operation, throttled_calls, error
        self.calls: list[tuple[str, str]] = []

    def _call(self, operation: str, check_id: str) -> None:
        self.calls.append((operation, check_id))
        if operation == self.operation and self.left > 0:
            self.left -= 1
            raise self.error

    def get_health_check(self, HealthCheckId: str) -> dict[str, Any]:
        self._call("GetHealthCheck", HealthCheckId)
        return {"HealthCheck": {"HealthCheckConfig": {"Inverted": False, "Disabled": False}}}

    def get_health_check_status(self, HealthCheckId: str) -> dict[str, Any]:
        self._call("GetHealthCheckStatus", HealthCheckId)
        return {"HealthCheckObservations": [
            {"StatusReport": {"Status": "Success: HTTP Status Code 200, OK"}}]}


class Pauses:
    """Stands for the stop event: records each pause asked for, stops after ``limit``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.waits: list[float] = []

    def wait(self, seconds: float) -> bool:
        self.waits.append(seconds)
        return len(self.waits) >= self.limit


class Written:
    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def write(self, record: dict[str, Any]) -> None:
        self.records.append(record)


@pytest.mark.parametrize(
    ("operation", "calls", "error", "pauses"),
    [
        # Base pause 0.5 s (two checks, each every 1 s): doubled per throttled call up to 8x,
        # halved back per answered one.
        ("GetHealthCheckStatus", 3, throttled("GetHealthCheckStatus"),
         [1.0, 2.0, 4.0, 2.0, 1.0, 0.5, 0.5]),
        ("GetHealthCheckStatus", 5, throttled("GetHealthCheckStatus", "ThrottlingException"),
         [1.0, 2.0, 4.0, 4.0, 4.0, 2.0, 1.0, 0.5]),
        ("GetHealthCheckStatus", 1, throttled("GetHealthCheckStatus", "Other", "Rate exceeded"),
         [1.0, 0.5, 0.5]),
        ("GetHealthCheck", 1, throttled("GetHealthCheck"), [1.0, 0.5, 0.5, 0.5]),
    ],
    ids=["throttling", "ceiling", "rate-exceeded", "flags-throttled"],
)
def test_a_throttled_sampler_backs_off_logs_it_and_recovers(operation, calls, error, pauses):
    client = ThrottlingRoute53(operation, calls, error)
    written = Written()
    sampler = HealthSampler(
        TrafficOptions(run_dir=Path("."), url="http://unused/", rate=1, run_id="r",
                       health_checks={"PRIMARY": "hc-p", "SECONDARY": "hc-s"},
                       health_poll_interval=1.0, flags_poll_interval=3600),
        written, client_factory=lambda _options: client)
    stop = Pauses(len(pauses))

    sampler.run(stop)  # type: ignore[arg-type]

    assert stop.waits == pauses
    records = written.records
    assert [r["label"] for r in records] == ["PRIMARY", "SECONDARY"] * (len(records) // 2) + (
        ["PRIMARY"] if len(records) % 2 else [])
    assert [bool(r.get("throttled")) for r in records] == [True] * calls + [False] * (
        len(records) - calls)
    for record in records[:calls]:
        assert (record["healthy"], record["status"]) == (None, None)
        assert record["error"].startswith(f"{operation}: ClientError")
    assert all(r["healthy"] is True and "error" not in r for r in records[calls:])
    # Each call is made once; a throttled flags read is not followed by a status call.
    status_calls = [c for c in client.calls if c[0] == "GetHealthCheckStatus"]
    assert len(status_calls) == len(records) - (calls if operation == "GetHealthCheck" else 0)
    # The flags are read once per check (then every flags_poll_interval), not per sample.
    flag_reads = [c for c in client.calls if c[0] == "GetHealthCheck"]
    assert len(flag_reads) == 2 + (calls if operation == "GetHealthCheck" else 0)


def test_explicit_keys_are_used_whatever_profile_is_exported(monkeypatch, localcloud):
    """An operator's AWS_PROFILE for a real account must not break drillkit on the local
    cloud, where the role gives it keys."""
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "localcloud")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "localcloud")
    client = route53_client(TrafficOptions(run_dir=Path("."), url="http://unused/", rate=1,
                                           run_id="r", endpoint_url=localcloud.url))

    assert "HealthChecks" in client.list_health_checks()
    assert client.meta.config.retries["total_max_attempts"] == 1  # the sampler paces itself
    assert aws.session().get_credentials().access_key == "localcloud"
    # Without keys the default chain applies, and with it the profile.
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    with pytest.raises(ProfileNotFound):
        aws.session().client("route53", region_name="us-east-1")
