#!/usr/bin/env python3
"""What ``playbooks/deploy.yml`` costs on top of the cloud's own time.

Not a test: a measurement to run by hand (``make bench`` runs it through ``bench/run_all.py``).
Every local cloud it measures is its own: a free port, a temporary state directory, started with
``localcloud start`` (and waited for until CloudFormation support is installed, so that no run
pays for it) and stopped by the PID in its pid file.

1. Cold deploy of both regions: ``deploy.yml`` on a fresh cloud, wall time.
2. Each region alone on a fresh cloud: ``deploy.yml --limit region-<role> --tags
   bootstrap,preflight,stacks``. That is the same playbook and the same roles for one host; the
   two plays it leaves out (Route 53 health checks and records, and the smoke test) run once,
   on the primary, after both regions are deployed, so they are not per-region work. The ratio
   therefore compares like with like: from the first play's start to the end of the
   ``Deploy the regional stacks`` play, in the two-region run and in the slowest one-region run.
   Goal: two regions <= 1.3 x the slowest single region.
3. The same creates and Route 53 changes by a plain boto3 script, one after the other
   (``bench/sequential_deploy.py``), on a fresh cloud: what the cloud itself needs.
4. No-op redeploy: ``deploy.yml`` again on the cloud of 1. Goal: <= 35 % of the cold deploy.
5. Ansible overhead of 1 and 4: tasks run (host x task results that were not skipped), seconds
   per task, and the HTTP requests the local cloud served during the run. Task times come from
   the ``ansible.posix.json`` stdout callback (shipped with the ``ansible`` package in .venv).
   Requests are counted from the local cloud's request log (one werkzeug line per request),
   leaving out its own ``/_localcloud/*`` paths and the Route 53 health checkers' probes of the
   deployed health path: what remains (``counted``) is the AWS API calls plus the smoke test's
   one event and the writes its Lambda makes. Where the local cloud's status has a request
   counter (``requests``, ``aws:<service>`` keys), its difference is reported too
   (``aws_api_calls``, per service).
6. Event pipeline on the deployed cloud of 1: ``--events`` events POSTed one at a time through
   the custom domain; for each, the seconds until its item is in both regions' tables
   (p50/p95).

``--json PATH`` writes every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import requests
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from localcloud_bench import LocalCloud, percentile
from sequential_deploy import SequentialDeploy

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
INVENTORY = REPO / "inventories" / "local"
STACKS_PLAY = "Deploy the regional stacks"
PARALLEL_GOAL = 1.3
NOOP_GOAL = 0.35
# One request line of werkzeug's log: `... "GET /path HTTP/1.1" 200 -` (colour codes aside).
REQUEST_LINE = re.compile(r'"(?:\x1b\[[0-9;]*m)*([A-Z]+) (\S+) HTTP/[0-9.]+')


@dataclass
class PlaybookRun:
    """One ``ansible-playbook`` run: wall time, per-play and per-task times, requests served."""

    label: str
    rc: int
    wall_seconds: float
    plays: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    requests: dict[str, int] = field(default_factory=dict)
    error: str = ""

    @property
    def tasks_run(self) -> int:
        return sum(t["hosts_run"] for t in self.tasks)

    def span_until(self, play_name: str) -> float | None:
        """Seconds from the first play's start to the end of the named play."""
        if not self.plays:
            return None
        ends = [p["end"] for p in self.plays if p["name"] == play_name]
        return round(ends[-1] - self.plays[0]["start"], 3) if ends else None

    def summary(self) -> dict[str, Any]:
        task_seconds = [t["seconds"] for t in self.tasks if t["hosts_run"]]
        slowest = sorted(self.tasks, key=lambda t: t["seconds"], reverse=True)[:10]
        return {
            "label": self.label, "rc": self.rc, "wall_seconds": self.wall_seconds,
            "until_stacks_seconds": self.span_until(STACKS_PLAY),
            "plays": [{"name": p["name"], "seconds": round(p["end"] - p["start"], 3)}
                      for p in self.plays],
            "tasks": len([t for t in self.tasks if t["hosts_run"]]),
            "tasks_run": self.tasks_run,
            "seconds_per_task": (round(sum(task_seconds) / len(task_seconds), 3)
                                 if task_seconds else None),
            "slowest_tasks": [{"name": t["name"], "seconds": t["seconds"]} for t in slowest],
            "requests": self.requests, "error": self.error,
        }


def _timestamp(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def parse_json_callback(text: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Plays and tasks (name, start, end, seconds, hosts that ran it) from the json callback."""
    start = text.find("{")
    document = json.loads(text[start:]) if start >= 0 else {"plays": []}
    plays, tasks = [], []
    for play in document.get("plays", []):
        info = play["play"]
        plays.append({"name": info["name"], "start": _timestamp(info["duration"]["start"]),
                      "end": _timestamp(info["duration"].get("end",
                                                             info["duration"]["start"]))})
        for task in play.get("tasks", []):
            duration = task["task"]["duration"]
            began = _timestamp(duration["start"])
            ended = _timestamp(duration.get("end", duration["start"]))
            ran = [h for h, r in task.get("hosts", {}).items() if not r.get("skipped")]
            tasks.append({"name": task["task"]["name"], "play": info["name"],
                          "seconds": round(ended - began, 3), "hosts_run": len(ran)})
    return plays, tasks


class Cloud(LocalCloud):
    """A local cloud of the bench's own, with the request log counted between two marks."""

    @property
    def log_path(self) -> Path:
        return self.state_dir / f"localcloud-{self.port}.log"

    def log_mark(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def requests_since(self, mark: int, probe_paths: set[str]) -> dict[str, int]:
        with self.log_path.open("rb") as log:
            log.seek(mark)
            lines = log.read().decode("utf-8", "replace").splitlines()
        counts = {"served": 0, "localcloud": 0, "health_probes": 0, "counted": 0}
        for line in lines:
            match = REQUEST_LINE.search(line)
            if not match:
                continue
            method, path = match.groups()
            counts["served"] += 1
            if path.startswith("/_localcloud/"):
                counts["localcloud"] += 1
            elif method == "GET" and path.split("?", 1)[0] in probe_paths:
                counts["health_probes"] += 1
            else:
                counts["counted"] += 1
        return counts

    def start_ready(self) -> float:
        """Start it and wait until CloudFormation support is installed."""
        began = time.perf_counter()
        self.start()
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            status = requests.get(f"{self.url}/_localcloud/status", timeout=10).json()
            if status.get("cloudformation_ready", True):
                return round(time.perf_counter() - began, 3)
            time.sleep(0.1)
        raise RuntimeError("CloudFormation support was not installed within 180 s")

    def ansible_env(self) -> dict[str, str]:
        env = {**self.env, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
               "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json", "ANSIBLE_NOCOLOR": "1",
               "PATH": f"{BIN}:{os.environ.get('PATH', '')}"}
        # Other callbacks would write to the same stdout.
        env.pop("ANSIBLE_CALLBACKS_ENABLED", None)
        return env


def health_paths(cloud: Cloud) -> set[str]:
    """The paths Route 53's health checks probe, as deployed (read back from Route 53)."""
    route53 = cloud.client("route53")
    paths = set()
    for check in route53.list_health_checks()["HealthChecks"]:
        path = check["HealthCheckConfig"].get("ResourcePath")
        if path:
            paths.add(path)
    return paths


def aws_request_counts(cloud: Cloud) -> dict[str, int] | None:
    """The local cloud's own request counter (``requests`` in its status: ``aws:<service>``
    keys for AWS API calls), where it has one."""
    status = requests.get(f"{cloud.url}/_localcloud/status", timeout=10).json()
    counts = status.get("requests")
    return {k: v for k, v in counts.items() if k.startswith("aws:")} if counts else None


def run_playbook(cloud: Cloud, label: str, *args: str) -> PlaybookRun:
    mark = cloud.log_mark()
    counted_before = aws_request_counts(cloud)
    began = time.perf_counter()
    result = subprocess.run([str(BIN / "ansible-playbook"), "playbooks/deploy.yml", *args],
                            cwd=REPO, env=cloud.ansible_env(), capture_output=True, text=True,
                            timeout=1800)
    run = PlaybookRun(label, result.returncode, round(time.perf_counter() - began, 3))
    try:
        run.plays, run.tasks = parse_json_callback(result.stdout)
    except (ValueError, KeyError) as error:
        run.error = f"unreadable callback output: {error}"
    if result.returncode:
        run.error = (run.error or "") + (result.stderr[-2000:] or result.stdout[-2000:])
    run.requests = cloud.requests_since(mark, health_paths(cloud))
    counted_after = aws_request_counts(cloud)
    if counted_before is not None and counted_after is not None:
        run.requests["aws_api_calls"] = sum(counted_after.values()) - sum(
            counted_before.values())
        run.requests["aws_api_calls_by_service"] = {
            k.split(":", 1)[1]: v - counted_before.get(k, 0) for k, v in counted_after.items()
            if v != counted_before.get(k, 0)}
    return run


def measure_pipeline(cloud: Cloud, events: int) -> dict[str, Any]:
    """POST events through the custom domain one at a time; seconds until each is stored in
    both regions' replicas."""
    settings = yaml.safe_load((INVENTORY / "group_vars" / "all" / "main.yml").read_text())
    domain, primary, secondary = (settings["custom_domain"], settings["primary_region"],
                                  settings["secondary_region"])
    cfn = cloud.client("cloudformation", primary)
    stack = f"{settings['deployment_name']}-primary"
    outputs = {o["OutputKey"]: o["OutputValue"]
               for o in cfn.describe_stacks(StackName=stack)["Stacks"][0]["Outputs"]}
    tables = [cloud.client("dynamodb", r) for r in (primary, secondary)]
    seconds = []
    with requests.Session() as session:
        for number in range(events):
            sent = time.perf_counter()
            answer = session.post(f"{cloud.url}/", headers={"Host": domain}, timeout=30,
                                  json={"Source": "bench.pipeline", "DetailType": "BenchEvent",
                                        "Detail": {"n": number}})
            answer.raise_for_status()
            key = {"id": {"S": answer.json()["eventId"]}}
            pending = list(tables)
            deadline = time.monotonic() + 60
            while pending and time.monotonic() < deadline:
                pending = [t for t in pending
                           if "Item" not in t.get_item(TableName=outputs["TableName"], Key=key)]
                if pending:
                    time.sleep(0.02)
            if pending:
                raise RuntimeError(f"event {number} not in both replicas after 60 s")
            seconds.append(time.perf_counter() - sent)
    return {"events": events, "p50_seconds": round(percentile(seconds, 0.5), 3),
            "p95_seconds": round(percentile(seconds, 0.95), 3),
            "max_seconds": round(max(seconds), 3)}


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    return round(numerator / denominator, 3) if numerator and denominator else None


def measure(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    figures: dict[str, Any] = {"time_scale": args.time_scale, "runs": {}}
    runs = figures["runs"]

    # Each region alone, each on a fresh cloud.
    for role in ("primary", "secondary"):
        cloud = Cloud(workdir / f"single-{role}", args.time_scale)
        try:
            cloud.start_ready()
            runs[f"single_{role}"] = run_playbook(
                cloud, f"{role} alone", "--limit", f"region-{role}",
                "--tags", "bootstrap,preflight,stacks").summary()
        finally:
            cloud.stop()

    # The plain boto3 script, on a fresh cloud.
    cloud = Cloud(workdir / "sequential", args.time_scale)
    try:
        cloud.start_ready()
        figures["sequential_boto3"] = SequentialDeploy(cloud).run()
    finally:
        cloud.stop()

    # Cold deploy of both regions, then the no-op redeploy and the pipeline on the same cloud.
    cloud = Cloud(workdir / "cold", args.time_scale)
    try:
        cloud.start_ready()
        runs["cold"] = run_playbook(cloud, "cold, both regions").summary()
        if runs["cold"]["rc"] == 0:
            runs["noop"] = run_playbook(cloud, "no-op redeploy").summary()
            if args.events:
                figures["pipeline"] = measure_pipeline(cloud, args.events)
    finally:
        cloud.stop()

    # A figure of a failed run is no figure: every ratio that reads one is null.
    ok = {label: run for label, run in runs.items() if run["rc"] == 0}
    cold, noop = ok.get("cold", {}), ok.get("noop", {})
    singles = [ok.get(f"single_{r}", {}).get("until_stacks_seconds")
               for r in ("primary", "secondary")]
    slowest = max(singles) if None not in singles else None
    figures["deploy_parallel_ratio"] = ratio(cold.get("until_stacks_seconds"), slowest)
    figures["slowest_single_region_seconds"] = slowest
    figures["noop_redeploy_ratio"] = ratio(noop.get("wall_seconds"), cold.get("wall_seconds"))
    figures["cold_vs_sequential_boto3"] = ratio(
        cold.get("wall_seconds"), figures["sequential_boto3"].get("total_seconds"))
    figures["goals"] = {"deploy_parallel_ratio": PARALLEL_GOAL, "noop_redeploy_ratio": NOOP_GOAL}
    return figures


def print_table(figures: dict[str, Any]) -> None:
    runs = figures["runs"]
    header = ("run", "rc", "wall s", "to stacks s", "tasks run", "s/task", "requests")
    rows = [(r["label"], r["rc"], f"{r['wall_seconds']:.1f}",
             "-" if r["until_stacks_seconds"] is None else f"{r['until_stacks_seconds']:.1f}",
             r["tasks_run"], "-" if r["seconds_per_task"] is None else
             f"{r['seconds_per_task']:.2f}", r["requests"].get("counted", "-"))
            for r in runs.values()]
    seq = figures["sequential_boto3"]
    rows.append(("plain boto3, sequential", 0 if seq.get("total_seconds") else 1,
                 f"{seq.get('total_seconds', 0):.1f}", "-", "-", "-", seq.get("calls", "-")))
    widths = [max(len(str(row[i])) for row in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        print("  ".join(str(c).ljust(widths[i]) if i == 0 else str(c).rjust(widths[i])
                        for i, c in enumerate(row)))
    print()
    for key, goal in figures["goals"].items():
        value = figures[key]
        verdict = "-" if value is None else ("ok" if value <= goal else "OVER GOAL")
        print(f"{key}: {value} (goal <= {goal}: {verdict})")
    print(f"cold deploy / plain boto3: {figures['cold_vs_sequential_boto3']}")
    if "pipeline" in figures:
        p = figures["pipeline"]
        print(f"pipeline, POST to item in both replicas ({p['events']} events): "
              f"p50 {p['p50_seconds']:.3f} s, p95 {p['p95_seconds']:.3f} s")
    for label in ("cold", "noop"):
        if label in runs:
            print(f"\nslowest tasks, {runs[label]['label']}:")
            for task in runs[label]["slowest_tasks"]:
                print(f"  {task['seconds']:6.2f} s  {task['name']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--time-scale", type=float, default=0.1,
                        help="LOCALCLOUD_TIME_SCALE of the measured clouds (0.1)")
    parser.add_argument("--events", type=int, default=50,
                        help="events for the pipeline latency (50; 0 skips it)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="deploy-bench-") as tmp:
        figures = measure(args, Path(tmp))
    print_table(figures)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
        print(f"\nfigures written to {args.json}")
    failed = [r["label"] for r in figures["runs"].values() if r["rc"]]
    for run in figures["runs"].values():
        if run["rc"]:
            print(f"{run['label']} failed: {run['error']}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
