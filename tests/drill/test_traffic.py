"""`drillkit traffic`: steady background traffic, its log, stop/status, and health samples.

The API is a small threaded HTTP server of the test's own that answers like the regional API
(X-Region header, `{"eventId": ...}`), so the test decides which region answers, how slowly,
and with what status. Health samples come from a local cloud's Route 53.
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
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, LocalCloudProcess, free_port, wait_for

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
            "--health-poll-interval", "0.2", "--endpoint-url", localcloud.url,
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
