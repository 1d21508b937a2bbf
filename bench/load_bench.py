#!/usr/bin/env python3
"""The highest request rate the local cloud sustains through the custom domain, losing nothing.

Not a test: a measurement to run by hand (``.venv/bin/python bench/load_bench.py``) and read.
It starts a local cloud of its own on a free port (stopped by its PID at the end), deploys the
project with ``playbooks/deploy.yml`` (the local inventory), then runs load steps: each step is
``drillkit traffic run`` at one rate for ``--step-seconds`` through the custom domain, followed
by ``drillkit reconcile`` against both replicas. The rate doubles from ``--start`` while steps
pass, then is bisected between the highest pass and the lowest failure down to
``--resolution``; the highest pass is run once more to confirm it (a lucky step on a busy
machine is not a sustained rate).

A step *sustains* its rate when all of these hold:

- every request was answered (no timeout, no refused connection) and every answer was a 2xx
  from the primary region: nothing rejected, nothing failed over;
- every accepted event is stored in both replicas (``lost`` = 0, accepted == persisted);
- the p95 latency is at most ``--p95-ms`` (default 1000 ms). Why 1 s: Route 53's HTTPS checker
  wants a 2xx/3xx within 2 s of connecting, and its probes go through the same local cloud as
  the traffic. When typical answers take a large part of that budget, probes start failing and
  Route 53 fails over with no fault at all. A drill at that rate would measure the load, not
  the failover. Half the checker's budget leaves room for the slowest 5 %;
- no health-check sample turned unhealthy during the step (both regions' checks are sampled,
  as the drill samples them);
- what was still on its way when the traffic stopped reached both replicas within
  ``--drain-seconds`` (default 5). A pipeline (SQS, Lambda, DynamoDB, replication) that falls
  behind the API builds a backlog that grows with the step's length; the rate is then accepted
  but not sustained.

Between steps the bench waits until the local cloud is idle again: both processing queues empty,
no Lambda batch in flight, and the health path answering quickly, so that one step's backlog is
not charged to the next. The search never goes above the stage's own throttling rate limit
(read from the deployed stage): above it API Gateway rejects requests with 429 by design, so a
higher figure would not be the local cloud's limit.

Figures depend on the machine and on what else runs on it: the table shows the load average
before and after, and quoting the rate with the machine's core count is what makes it
comparable. ``--json PATH`` writes every step and ``max_sustained_rate``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import boto3
import yaml
from botocore.config import Config as BotoConfig

from drillkit import records
from drillkit.report import percentile

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
INVENTORY_VARS = REPO / "inventories" / "local" / "group_vars" / "all" / "main.yml"
P95_BOUND_MS = 1000.0
DRAIN_BOUND_SECONDS = 5.0
REQUEST_TIMEOUT = 5.0  # the drill's per-request socket timeout (drillkit's default)
IDLE_PROBE_MS = 250.0  # the health path answers this fast when nothing else is going on


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def load_average() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


# -- the deployment --------------------------------------------------------------------------


@dataclass
class Target:
    """What the steps need to know about the deployment, read through the AWS APIs."""

    endpoint: str
    custom_domain: str
    primary_region: str
    secondary_region: str
    table: str
    health_path: str
    queue_urls: dict[str, str]
    health_checks: dict[str, str]
    throttling_rate_limit: float | None

    def client(self, service: str, region: str) -> Any:
        return aws_client(self.endpoint, service, region)

    @property
    def regions(self) -> list[str]:
        return [self.primary_region, self.secondary_region]


def aws_client(endpoint: str, service: str, region: str) -> Any:
    return boto3.client(service, region_name=region, endpoint_url=endpoint,
                        aws_access_key_id="localcloud", aws_secret_access_key="localcloud",
                        config=BotoConfig(retries={"max_attempts": 3}))


def stack_outputs(cfn: Any, name: str) -> dict[str, str]:
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def discover(endpoint: str) -> Target:
    """The deployment the local inventory describes, as deploy.yml left it."""
    settings = yaml.safe_load(INVENTORY_VARS.read_text())
    name, domain = settings["deployment_name"], settings["custom_domain"]
    regions = {"primary": settings["primary_region"], "secondary": settings["secondary_region"]}
    outputs = {role: stack_outputs(aws_client(endpoint, "cloudformation", region),
                                   f"{name}-{role}")
               for role, region in regions.items()}
    route53 = aws_client(endpoint, "route53", regions["primary"])
    zone = route53.list_hosted_zones_by_name(
        DNSName=settings["hosted_zone_name"])["HostedZones"][0]["Id"]
    record_sets = route53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
    checks = {r["Failover"]: r["HealthCheckId"] for r in record_sets
              if r["Name"].rstrip(".").lower() == domain.lower() and "Failover" in r}
    primary = outputs["primary"]
    stage = aws_client(endpoint, "apigateway", regions["primary"]).get_stage(
        restApiId=primary["ApiId"], stageName=primary["StageName"])
    limit = stage.get("methodSettings", {}).get("*/*", {}).get("throttlingRateLimit")
    # The health path relative to the stage: what the custom domain's base path mapping serves.
    health_path = "/" + primary["HealthPath"].strip("/").split("/", 1)[1]
    return Target(
        endpoint=endpoint, custom_domain=domain, primary_region=regions["primary"],
        secondary_region=regions["secondary"], table=primary["TableName"],
        health_path=health_path,
        queue_urls={region: outputs[role]["QueueUrl"] for role, region in regions.items()},
        health_checks=checks, throttling_rate_limit=float(limit) if limit else None,
    )


# -- waiting for idle ------------------------------------------------------------------------


def queue_depth(target: Target) -> int:
    """Messages waiting or being processed in both regions' processing queues."""
    total = 0
    for region, url in target.queue_urls.items():
        attributes = target.client("sqs", region).get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages",
                                          "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        total += sum(int(value) for value in attributes.values())
    return total


def batches_in_flight(target: Target) -> int:
    with urllib.request.urlopen(f"{target.endpoint}/_localcloud/status", timeout=10) as answer:
        status = json.loads(answer.read())
    return sum(m.get("in_flight_batches", 0) for m in status.get("lambda", {}).get(
        "sqs_mappings", []))


def health_probe_ms(target: Target) -> float | None:
    """Latency of a GET of the health path through the custom domain (None unless 200)."""
    request = urllib.request.Request(f"{target.endpoint}{target.health_path}",
                                     headers={"Host": target.custom_domain})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as answer:
            answer.read()
            ok = answer.status == 200
    except OSError:
        return None
    return (time.monotonic() - started) * 1000 if ok else None


def wait_idle(target: Target, timeout: float = 300.0) -> float:
    """Poll until the local cloud is idle (three quick probes in a row); return seconds waited."""
    started = time.monotonic()
    quick = 0
    while quick < 3:
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"the local cloud is not idle after {timeout:.0f}s")
        probe = health_probe_ms(target)
        idle = (probe is not None and probe <= IDLE_PROBE_MS and queue_depth(target) == 0
                and batches_in_flight(target) == 0)
        quick = quick + 1 if idle else 0
        time.sleep(0.2)
    return round(time.monotonic() - started, 1)


# -- one step --------------------------------------------------------------------------------


@dataclass
class Bounds:
    p95_ms: float = P95_BOUND_MS
    drain_seconds: float = DRAIN_BOUND_SECONDS


@dataclass
class Step:
    """One load step's figures and whether it sustained its rate."""

    rate: float
    seconds: float
    sent: int = 0
    accepted: int = 0
    rejected: int = 0
    errors: int = 0
    persisted: int = 0
    lost: int = 0
    p50_ms: float | None = None
    p95_ms: float | None = None
    max_ms: float | None = None
    drain_seconds: float | None = None
    by_region: dict[str, int] = field(default_factory=dict)
    unhealthy_samples: int = 0
    stored_unacknowledged: int = 0
    load_before: list[float] = field(default_factory=list)
    load_after: list[float] = field(default_factory=list)
    idle_wait_seconds: float = 0.0
    purpose: str = "search"
    reasons: list[str] = field(default_factory=list)

    @property
    def sustained(self) -> bool:
        return not self.reasons


def judge(step: Step, primary: str, bounds: Bounds) -> list[str]:
    """Why the step did not sustain its rate (empty when it did)."""
    reasons = []
    if step.sent == 0:
        reasons.append("nothing sent")
    if step.errors:
        reasons.append(f"{step.errors} without answer")
    if step.rejected:
        reasons.append(f"{step.rejected} rejected")
    if step.lost or step.persisted != step.accepted:
        reasons.append(f"{step.lost} lost")
    others = sum(count for region, count in step.by_region.items() if region != primary)
    if others:
        reasons.append(f"{others} answered by another region")
    if step.p95_ms is None or step.p95_ms > bounds.p95_ms:
        reasons.append(f"p95 {step.p95_ms} ms > {bounds.p95_ms:g} ms")
    if step.unhealthy_samples:
        reasons.append(f"{step.unhealthy_samples} unhealthy health-check samples")
    if step.drain_seconds is None or step.drain_seconds > bounds.drain_seconds:
        reasons.append(f"drain {step.drain_seconds} s > {bounds.drain_seconds:g} s")
    return reasons


def drillkit(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "drillkit"), *args], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout,
                          env={**os.environ, "AWS_ACCESS_KEY_ID": "localcloud",
                               "AWS_SECRET_ACCESS_KEY": "localcloud"})


def run_step(target: Target, rate: float, seconds: float, run_dir: Path, bounds: Bounds,
             purpose: str) -> Step:
    """Traffic at ``rate`` for ``seconds``, then reconciliation; the step's figures."""
    step = Step(rate=rate, seconds=seconds, purpose=purpose)
    step.idle_wait_seconds = wait_idle(target)
    step.load_before = load_average()
    health = [arg for label, check in target.health_checks.items()
              for arg in ("--health-check", f"{label}={check}")]
    traffic = drillkit(
        "traffic", "run", "--run-dir", str(run_dir), "--url", f"{target.endpoint}/",
        "--host-header", target.custom_domain, "--rate", str(rate),
        "--run-id", run_dir.name, "--timeout", str(REQUEST_TIMEOUT),
        "--max-seconds", str(seconds), *health, "--health-poll-interval", "1",
        "--endpoint-url", target.endpoint, "--region", target.primary_region,
        timeout=seconds + 120)
    step.load_after = load_average()
    if traffic.returncode:
        step.reasons = [f"drillkit traffic run failed: {traffic.stderr.strip()[-300:]}"]
        return step
    # The drain bound is what is judged; waiting longer still counts the events exactly.
    reconciled = drillkit(
        "reconcile", "--run-dir", str(run_dir), "--table", target.table,
        *(arg for region in target.regions for arg in ("--region", region)),
        "--endpoint-url", target.endpoint, "--timeout", "120", timeout=300)
    if reconciled.returncode:
        step.reasons = [f"drillkit reconcile failed: {reconciled.stderr.strip()[-300:]}"]
        return step
    result = json.loads(reconciled.stdout)
    log = records.read_log(run_dir)
    latencies = [float(r["latency_ms"]) for r in records.requests(log)
                 if r.get("status") is not None]
    summary = records.summarize(log)
    step.sent, step.accepted = result["sent"], result["accepted"]
    step.rejected, step.errors = result["rejected"], result["errors"]
    step.persisted, step.lost = result["persisted"], result["lost"]
    step.stored_unacknowledged = result["stored_unacknowledged"]
    step.drain_seconds = result["waited_seconds"]
    step.by_region = summary["by_region"]
    step.p50_ms, step.p95_ms = percentile(latencies, 0.50), percentile(latencies, 0.95)
    step.max_ms = max(latencies) if latencies else None
    step.unhealthy_samples = sum(1 for s in records.of_type(log, "health")
                                 if s.get("healthy") is False)
    step.reasons = judge(step, target.primary_region, bounds)
    return step


# -- the search ------------------------------------------------------------------------------


def next_rate(passed: set[float], failed: set[float], start: float, ceiling: float,
              resolution: float) -> float | None:
    """The next rate to try: double while everything passes, then bisect; None when done."""
    if not passed and not failed:
        return min(start, ceiling)
    best = max(passed, default=0.0)
    above = [rate for rate in failed if rate > best]
    if not above:
        return min(best * 2, ceiling) if best < ceiling else None
    lowest_failure = min(above)
    middle = float((best + lowest_failure) // 2)
    if lowest_failure - best <= resolution or middle <= best:
        return None
    return middle


def search(attempt: Callable[[float, str], bool], start: float, ceiling: float,
           resolution: float) -> float:
    """Highest rate for which ``attempt(rate, purpose)`` holds: double, bisect, confirm.

    The best pass is run once more before it is believed; if the confirmation fails, that rate
    counts as failed and the bisection goes on below it. Returns 0 when nothing passes.
    """
    passed: set[float] = set()
    failed: set[float] = set()
    while True:
        rate = next_rate(passed, failed, start, ceiling, resolution)
        if rate is not None:
            (passed if attempt(rate, "search") else failed).add(rate)
            continue
        best = max(passed, default=0.0)
        if best == 0 or attempt(best, "confirm"):
            return best
        passed.discard(best)
        failed.add(best)


# -- output ----------------------------------------------------------------------------------


def fmt(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def table_lines(steps: list[Step]) -> list[str]:
    lines = [f"{'rate':>6} {'purpose':>8} {'sent':>6} {'accepted':>8} {'rejected':>8} "
             f"{'errors':>6} {'lost':>5} {'p50 ms':>8} {'p95 ms':>8} {'drain s':>7} "
             f"{'load':>10}  verdict"]
    for s in steps:
        load = f"{s.load_before[0] if s.load_before else 0:.1f}->" \
               f"{s.load_after[0] if s.load_after else 0:.1f}"
        verdict = "sustained" if s.sustained else "NOT: " + "; ".join(s.reasons)
        lines.append(f"{s.rate:>6g} {s.purpose:>8} {s.sent:>6} {s.accepted:>8} "
                     f"{s.rejected:>8} {s.errors:>6} {s.lost:>5} {fmt(s.p50_ms):>8} "
                     f"{fmt(s.p95_ms):>8} {fmt(s.drain_seconds, 1):>7} {load:>10}  {verdict}")
    return lines


# -- main ------------------------------------------------------------------------------------


def playbook(name: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "ansible-playbook"), f"playbooks/{name}"], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=1800)


def stop_cloud(state_dir: Path, port: int, grace: float = 15.0) -> None:
    """SIGTERM to the PID our local cloud wrote, SIGKILL after ``grace``; nothing else.

    Waiting for the exit matters: the server stops its Lambda workers on SIGTERM, and a bench
    that returned earlier would leave them competing with whatever runs next.
    """
    pid_file = state_dir / f"localcloud-{port}.pid"
    try:
        pid = int(pid_file.read_text())
    except (OSError, ValueError):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            os.kill(pid, 0)  # raises ProcessLookupError once it has exited
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--start", type=float, default=5.0, help="first rate (default 5/s)")
    parser.add_argument("--max-rate", type=float, default=400.0,
                        help="never above this (the stage's throttling rate limit caps it too)")
    parser.add_argument("--resolution", type=float, default=5.0,
                        help="stop bisecting when the bracket is this narrow (default 5/s)")
    parser.add_argument("--step-seconds", type=float, default=10.0,
                        help="seconds of traffic per step (default 10; longer steps are stricter)")
    parser.add_argument("--rates", help="comma-separated rates to run instead of the search")
    parser.add_argument("--p95-ms", type=float, default=P95_BOUND_MS)
    parser.add_argument("--drain-seconds", type=float, default=DRAIN_BOUND_SECONDS)
    parser.add_argument("--time-scale", type=float, default=0.1,
                        help="LOCALCLOUD_TIME_SCALE (default 0.1, as `make` uses)")
    parser.add_argument("--json", type=Path, help="write every step and max_sustained_rate")
    args = parser.parse_args(argv)
    bounds = Bounds(p95_ms=args.p95_ms, drain_seconds=args.drain_seconds)

    workdir = Path(tempfile.mkdtemp(prefix="load-bench-"))
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    env = {**os.environ, "LOCALCLOUD_PORT": str(port), "LOCALCLOUD_STATE_DIR": str(workdir),
           "LOCALCLOUD_TIME_SCALE": str(args.time_scale),
           "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
           "PATH": f"{BIN}:{os.environ.get('PATH', '')}"}
    steps: list[Step] = []
    try:
        deployed = playbook("deploy.yml", env)
        if deployed.returncode:
            print(deployed.stdout[-4000:], file=sys.stderr)
            return 1
        target = discover(endpoint)
        ceiling = args.max_rate
        if target.throttling_rate_limit is not None:
            ceiling = min(ceiling, target.throttling_rate_limit)
        print(f"local cloud {endpoint}, {os.cpu_count()} CPUs, steps of {args.step_seconds:g}s, "
              f"ceiling {ceiling:g}/s (stage throttling rate limit "
              f"{target.throttling_rate_limit})", flush=True)

        def attempt(rate: float, purpose: str) -> bool:
            run_dir = workdir / "runs" / f"load-{len(steps) + 1:02d}-{rate:g}"
            step = run_step(target, rate, args.step_seconds, run_dir, bounds, purpose)
            steps.append(step)
            print(table_lines([step])[1], flush=True)
            return step.sustained

        if args.rates:
            for rate in (float(r) for r in args.rates.split(",")):
                attempt(rate, "listed")
            best = max((s.rate for s in steps if s.sustained), default=0.0)
        else:
            best = search(attempt, args.start, ceiling, args.resolution)
    finally:
        stop_cloud(workdir, port)

    print("\n" + "\n".join(table_lines(steps)))
    print(f"\ntraffic logs and reconciliations of every step: {workdir / 'runs'}")
    capped = best >= ceiling
    print(f"\nmax sustained rate: {best:g}/s{' (the ceiling)' if capped else ''}; criteria: "
          f"all answered 2xx by the primary, lost 0, p95 <= {bounds.p95_ms:g} ms, health "
          f"checks healthy, drain <= {bounds.drain_seconds:g} s")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({
            "max_sustained_rate": best,
            "ceiling": ceiling,
            "capped_by_ceiling": capped,
            "criteria": {**asdict(bounds), "request_timeout_seconds": REQUEST_TIMEOUT},
            "step_seconds": args.step_seconds,
            "time_scale": args.time_scale,
            "cpus": os.cpu_count(),
            "steps": [{**asdict(s), "sustained": s.sustained} for s in steps],
        }, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
