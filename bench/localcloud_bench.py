#!/usr/bin/env python3
"""How fast the local cloud starts and how much memory it needs with the project deployed.

Not a test: a measurement to run by hand (``make bench`` or ``.venv/bin/python
bench/localcloud_bench.py``) and read. It prints a small table and, with ``--json PATH``, writes
the raw figures. Every local cloud it measures is its own: started with ``localcloud start`` on a
free port and a state directory of its own, and stopped by the PID from its pid file.

1. Start-to-ready: the wall time of ``localcloud start`` (which returns once the endpoint
   answers ``/_localcloud/status``), ``--starts`` times; median and spread. Goal: 3 s or less.
2. Memory: VmRSS from ``/proc/<pid>/status`` of the server process, and of its descendants (the
   Lambda worker processes) apart, measured idle, with both regional stacks of the project
   deployed, and after ``--events`` events went through the whole pipeline. Goal: 400 MB or
   less in total. The stacks are ``files/regional.yml`` deployed through boto3 the way the
   playbooks deploy it (ACM certificate and artifact bucket per region, primary stack, then
   secondary stack, then Route 53 health checks and failover alias records).

RSS counts shared pages once per process, so the total over-counts what the workers share
with each other (the interpreter, boto3); PSS is printed beside it where the kernel offers it.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import boto3
import requests
from botocore.config import Config as BotoConfig

REPO = Path(__file__).resolve().parent.parent
TEMPLATE = REPO / "files" / "regional.yml"
PROCESSOR = REPO / "lambda" / "processor"
LOCALCLOUD_CLI = Path(sys.executable).parent / "localcloud"
PRIMARY, SECONDARY = "us-east-1", "us-west-2"
START_GOAL_SECONDS = 3.0
MEMORY_GOAL_MB = 400.0
NAME = "bench"
ZONE = "bench.example.test"
DOMAIN = f"events.{ZONE}"


# -- processes -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _proc_status(pid: int) -> dict[str, str]:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def _kb_to_mb(value: str | None) -> float:
    return round(int(value.split()[0]) / 1024, 1) if value else 0.0


def _pss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return _kb_to_mb(line.split(":", 1)[1])
    except OSError:
        pass
    return None


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (read from /proc, so it works for a daemonized server)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # The command name may hold spaces and parentheses: the fields follow the last ')'.
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found


@dataclass
class Memory:
    """Resident memory of the server and, apart, of its descendants, in MB."""

    server_rss_mb: float
    server_peak_rss_mb: float
    server_pss_mb: float | None
    worker_count: int
    workers_rss_mb: float
    workers_pss_mb: float | None
    # Lambda execution environments per function, as ``localcloud status`` lists them.
    workers_by_function: dict[str, int] = field(default_factory=dict)

    @property
    def total_rss_mb(self) -> float:
        return round(self.server_rss_mb + self.workers_rss_mb, 1)

    @classmethod
    def of(cls, pid: int, url: str) -> Memory:
        status = _proc_status(pid)
        by_function: dict[str, int] = {}
        for worker in requests.get(f"{url}/_localcloud/status", timeout=10).json()["lambda"][
                "workers"]:
            # arn:aws:lambda:{region}:{account}:function:{name}
            parts = worker["function_arn"].split(":")
            name = f"{parts[6]} ({parts[3]})"
            by_function[name] = by_function.get(name, 0) + 1
        workers = [(p, _proc_status(p)) for p in descendants(pid)]
        workers = [(p, s) for p, s in workers if s.get("VmRSS")]  # zombies have none
        worker_pss = [_pss_mb(p) for p, _ in workers]
        server_pss = _pss_mb(pid)
        return cls(
            server_rss_mb=_kb_to_mb(status.get("VmRSS")),
            server_peak_rss_mb=_kb_to_mb(status.get("VmHWM")),
            server_pss_mb=server_pss,
            worker_count=len(workers),
            workers_rss_mb=round(sum(_kb_to_mb(s.get("VmRSS")) for _, s in workers), 1),
            workers_pss_mb=(round(sum(worker_pss), 1)  # type: ignore[arg-type]
                            if None not in worker_pss else None),
            workers_by_function=by_function,
        )


class LocalCloud:
    """One local cloud started with ``localcloud start``; stopped by the PID it wrote."""

    def __init__(self, state_dir: Path, time_scale: float) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.state_dir = state_dir
        self.env = {
            **os.environ,
            "LOCALCLOUD_PORT": str(self.port),
            "LOCALCLOUD_DNS_PORT": "0",
            "LOCALCLOUD_STATE_DIR": str(state_dir),
            "LOCALCLOUD_TIME_SCALE": str(time_scale),
        }
        self.pid: int | None = None

    def start(self) -> float:
        """Run ``localcloud start``; return its wall time in seconds."""
        began = time.perf_counter()
        result = subprocess.run([str(LOCALCLOUD_CLI), "start"], env=self.env, cwd=REPO,
                                capture_output=True, text=True, timeout=120)
        elapsed = time.perf_counter() - began
        if result.returncode != 0:
            raise RuntimeError(f"localcloud start failed: {result.stderr}")
        self.pid = int((self.state_dir / f"localcloud-{self.port}.pid").read_text())
        return elapsed

    def stop(self) -> None:
        """SIGTERM to our own server's PID; SIGKILL if it has not left after 15 s."""
        if self.pid is None:
            return
        pid, self.pid = self.pid, None
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            state = _proc_status(pid).get("State", "")
            if not state or state.strip().startswith("Z"):  # gone, or exited and not yet reaped
                return
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)

    def client(self, service: str, region: str = PRIMARY) -> Any:
        return boto3.client(service, region_name=region, endpoint_url=self.url,
                            aws_access_key_id="testing", aws_secret_access_key="testing",
                            config=BotoConfig(retries={"max_attempts": 2}))


# -- the project's deployment ------------------------------------------------------------------


def wait_for(predicate: Callable[[], Any], timeout: float, what: str,
             interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise RuntimeError(f"timed out after {timeout:.0f}s waiting for {what}")


def processor_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(PROCESSOR.rglob("*.py")):
            archive.write(path, path.relative_to(PROCESSOR).as_posix())
    return buffer.getvalue()


def deploy_region(cloud: LocalCloud, region: str, role: str, peer: str,
                  code_key: str, code: bytes) -> dict[str, str]:
    """Certificate, artifact bucket and the regional stack, as the playbooks make them."""
    bucket = f"{NAME}-artifacts-{region}"
    s3 = cloud.client("s3", region)
    location = {} if region == "us-east-1" else {
        "CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=bucket, **location)
    s3.put_object(Bucket=bucket, Key=code_key, Body=code)
    acm = cloud.client("acm", region)
    certificate = acm.request_certificate(DomainName=DOMAIN,
                                          ValidationMethod="DNS")["CertificateArn"]
    wait_for(lambda: acm.describe_certificate(CertificateArn=certificate)["Certificate"]
             ["Status"] == "ISSUED", 30, "the certificate")
    parameters = {
        "DeploymentName": NAME, "DeploymentRole": role, "PeerRegion": peer,
        "CustomDomainName": DOMAIN, "CertificateArn": certificate, "ArtifactBucket": bucket,
        "ArtifactKey": code_key, "ManageApiGatewayAccount": "true",
    }
    cfn = cloud.client("cloudformation", region)
    stack = f"{NAME}-{role}"
    cfn.create_stack(StackName=stack, TemplateBody=TEMPLATE.read_text(),
                     Capabilities=["CAPABILITY_NAMED_IAM"],
                     Parameters=[{"ParameterKey": k, "ParameterValue": v}
                                 for k, v in parameters.items()])

    def finished() -> str | None:
        status = cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
        return status if status.endswith(("_COMPLETE", "_FAILED")) else None

    status = wait_for(finished, 120, f"stack {stack}")
    if status != "CREATE_COMPLETE":
        raise RuntimeError(f"stack {stack} ended {status}")
    outputs = cfn.describe_stacks(StackName=stack)["Stacks"][0]["Outputs"]
    return {o["OutputKey"]: o["OutputValue"] for o in outputs}


def deploy_dns(cloud: LocalCloud, outputs: dict[str, dict[str, str]]) -> None:
    """Health checks on each execute-api host and the failover alias records."""
    route53 = cloud.client("route53")
    zone_id = route53.create_hosted_zone(Name=ZONE, CallerReference=NAME)["HostedZone"]["Id"]
    changes = []
    for region, failover in ((PRIMARY, "PRIMARY"), (SECONDARY, "SECONDARY")):
        out = outputs[region]
        check_id = route53.create_health_check(
            CallerReference=f"{NAME}-{region}",
            HealthCheckConfig={"Type": "HTTPS", "FullyQualifiedDomainName": out["ExecuteApiHost"],
                               "Port": 443, "ResourcePath": out["HealthPath"],
                               "RequestInterval": 30, "FailureThreshold": 3,
                               "EnableSNI": True})["HealthCheck"]["Id"]
        changes.append({"Action": "CREATE", "ResourceRecordSet": {
            "Name": DOMAIN, "Type": "A", "SetIdentifier": f"{NAME}-{failover.lower()}",
            "Failover": failover, "HealthCheckId": check_id,
            "AliasTarget": {"HostedZoneId": out["RegionalHostedZoneId"],
                            "DNSName": out["RegionalDomainName"],
                            "EvaluateTargetHealth": True}}})
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": changes})


def item_count(cloud: LocalCloud, region: str, table: str) -> int:
    paginator = cloud.client("dynamodb", region).get_paginator("scan")
    return sum(page["Count"] for page in paginator.paginate(TableName=table, Select="COUNT"))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


# -- the measurements --------------------------------------------------------------------------


@dataclass
class Report:
    machine: dict[str, Any]
    start_seconds: list[float] = field(default_factory=list)
    memory: dict[str, Memory] = field(default_factory=dict)
    deploy_seconds: dict[str, float] = field(default_factory=dict)
    failover_seconds: float | None = None
    events: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        for name, memory in self.memory.items():
            data["memory"][name]["total_rss_mb"] = memory.total_rss_mb
        data["start"] = {
            "median_seconds": round(statistics.median(self.start_seconds), 3),
            "min_seconds": round(min(self.start_seconds), 3),
            "max_seconds": round(max(self.start_seconds), 3),
            "goal_seconds": START_GOAL_SECONDS,
        }
        data["memory_goal_mb"] = MEMORY_GOAL_MB
        return data


def measure_starts(runs: int, workdir: Path, time_scale: float) -> list[float]:
    times = []
    for run in range(runs):
        cloud = LocalCloud(workdir / f"start-{run}", time_scale)
        try:
            times.append(round(cloud.start(), 3))
        finally:
            cloud.stop()
    return times


def send_events(cloud: LocalCloud, table: str, first: int, count: int,
                expect_region: str) -> dict[str, Any]:
    """POST ``count`` events to the custom domain (through the edge, as a client after DNS);
    wait until both replicas hold every item sent so far. Figures of the batch."""
    latencies = []
    began = time.perf_counter()
    with requests.Session() as session:
        for number in range(first, first + count):
            sent = time.perf_counter()
            response = session.post(
                f"{cloud.url}/", headers={"Host": DOMAIN}, timeout=30,
                json={"Detail": {"n": number}, "DetailType": "BenchEvent",
                      "Source": "bench.localcloud"})
            latencies.append(time.perf_counter() - sent)
            if response.status_code != 200 or response.headers.get("X-Region") != expect_region:
                raise RuntimeError(f"event {number}: {response.status_code} from "
                                   f"{response.headers.get('X-Region')}: {response.text}")
    posted = time.perf_counter() - began
    for region in (PRIMARY, SECONDARY):
        wait_for(lambda r=region: item_count(cloud, r, table) >= first + count, 300,
                 f"{first + count} items in the {region} replica", interval=0.25)
    stored = time.perf_counter() - began
    return {
        "count": count,
        "served_by": expect_region,
        "post_seconds": round(posted, 3),
        "latency_p50_ms": round(1000 * percentile(latencies, 0.5), 1),
        "latency_p95_ms": round(1000 * percentile(latencies, 0.95), 1),
        "stored_in_both_regions_seconds": round(stored, 3),
        "events_per_second": round(count / stored, 1),
    }


def fail_over(cloud: LocalCloud) -> float:
    """Invert the primary's health check (the drill lever); seconds until DNS answers with the
    secondary's custom domain."""
    route53 = cloud.client("route53")
    zone_id = route53.list_hosted_zones_by_name(DNSName=ZONE)["HostedZones"][0]["Id"]
    records = route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    primary = next(r for r in records if r.get("Failover") == "PRIMARY")

    def answer() -> list[str]:
        return route53.test_dns_answer(HostedZoneId=zone_id, RecordName=DOMAIN,
                                       RecordType="A")["RecordData"]

    before = answer()
    began = time.perf_counter()
    route53.update_health_check(HealthCheckId=primary["HealthCheckId"], Inverted=True)
    wait_for(lambda: answer() != before, 120, "DNS to fail over", interval=0.1)
    return round(time.perf_counter() - began, 3)


def measure_deployment(report: Report, events: int, workdir: Path, time_scale: float) -> None:
    cloud = LocalCloud(workdir / "deployment", time_scale)
    try:
        cloud.start()
        assert cloud.pid is not None
        report.memory["idle"] = Memory.of(cloud.pid, cloud.url)

        code = processor_zip()
        key = f"processor-{hashlib.sha256(code).hexdigest()[:16]}.zip"
        outputs: dict[str, dict[str, str]] = {}
        for region, role, peer in ((PRIMARY, "primary", SECONDARY),
                                   (SECONDARY, "secondary", PRIMARY)):
            began = time.perf_counter()
            outputs[region] = deploy_region(cloud, region, role, peer, key, code)
            report.deploy_seconds[role] = round(time.perf_counter() - began, 3)
        began = time.perf_counter()
        deploy_dns(cloud, outputs)
        report.deploy_seconds["dns"] = round(time.perf_counter() - began, 3)
        report.memory["deployed"] = Memory.of(cloud.pid, cloud.url)

        table = outputs[PRIMARY]["TableName"]
        report.events["primary"] = send_events(cloud, table, 0, events, PRIMARY)
        report.memory["after_events"] = Memory.of(cloud.pid, cloud.url)
        # A drill: the secondary's function starts too, while the primary's stay warm.
        report.failover_seconds = fail_over(cloud)
        report.events["secondary"] = send_events(cloud, table, events, events, SECONDARY)
        report.memory["after_failover_events"] = Memory.of(cloud.pid, cloud.url)
    finally:
        cloud.stop()


# -- output ------------------------------------------------------------------------------------


def _mb(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def print_table(report: Report) -> None:
    data = report.as_json()
    start = data["start"]
    verdict = "ok" if start["median_seconds"] <= START_GOAL_SECONDS else "OVER GOAL"
    print(f"local cloud benchmark: {report.machine['cpus']} CPUs, "
          f"load {report.machine['load_before']}, Python {report.machine['python']}")
    print()
    print(f"start-to-ready (`localcloud start`, {len(report.start_seconds)} runs): "
          f"median {start['median_seconds']:.2f} s, min {start['min_seconds']:.2f} s, "
          f"max {start['max_seconds']:.2f} s  (goal <= {START_GOAL_SECONDS:.0f} s: {verdict})")
    print()
    header = ("state", "server RSS", "peak", "workers", "workers RSS", "total RSS",
              "server+workers PSS")
    rows = []
    for name, memory in report.memory.items():
        pss = (None if memory.server_pss_mb is None or memory.workers_pss_mb is None
               else memory.server_pss_mb + memory.workers_pss_mb)
        rows.append((name, _mb(memory.server_rss_mb), _mb(memory.server_peak_rss_mb),
                     str(memory.worker_count), _mb(memory.workers_rss_mb),
                     _mb(memory.total_rss_mb), _mb(pss)))
    widths = [max(len(str(row[i])) for row in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        print("  ".join(str(cell).ljust(widths[i]) if i == 0 else str(cell).rjust(widths[i])
                        for i, cell in enumerate(row)))
    worst = max(m.total_rss_mb for m in report.memory.values())
    print(f"(MB; goal <= {MEMORY_GOAL_MB:.0f} MB total: "
          f"{'ok' if worst <= MEMORY_GOAL_MB else 'OVER GOAL'})")
    for name, memory in report.memory.items():
        if memory.workers_by_function:
            listed = ", ".join(f"{fn} x{n}" for fn, n in memory.workers_by_function.items())
            print(f"Lambda environments ({name}): {listed}")
    print()
    deploy = report.deploy_seconds
    print(f"deploy: primary stack {deploy['primary']:.1f} s, secondary stack "
          f"{deploy['secondary']:.1f} s, Route 53 {deploy['dns']:.1f} s")
    print(f"failover (primary health check inverted, time scale "
          f"{report.machine['time_scale']}): DNS answered the secondary after "
          f"{report.failover_seconds:.2f} s")
    for ev in report.events.values():
        print(f"events served by {ev['served_by']}: {ev['count']} POSTs to the custom domain in "
              f"{ev['post_seconds']:.1f} s (p50 {ev['latency_p50_ms']:.0f} ms, p95 "
              f"{ev['latency_p95_ms']:.0f} ms); all stored in both replicas after "
              f"{ev['stored_in_both_regions_seconds']:.1f} s ({ev['events_per_second']:.0f}/s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--starts", type=int, default=5, help="start-to-ready runs (5)")
    parser.add_argument("--events", type=int, default=200, help="events to process (200)")
    parser.add_argument("--time-scale", type=float, default=0.02,
                        help="LOCALCLOUD_TIME_SCALE of the measured clouds (0.02)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures here")
    args = parser.parse_args(argv)
    if args.starts < 1 or args.events < 1:
        parser.error("--starts and --events must be at least 1")

    report = Report(machine={
        "cpus": os.cpu_count(),
        "load_before": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "time_scale": args.time_scale,
    })
    with tempfile.TemporaryDirectory(prefix="localcloud-bench-") as tmp:
        workdir = Path(tmp)
        report.start_seconds = measure_starts(args.starts, workdir, args.time_scale)
        measure_deployment(report, args.events, workdir, args.time_scale)
    print_table(report)
    if args.json:
        args.json.write_text(json.dumps(report.as_json(), indent=2) + "\n")
        print(f"\nfigures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
