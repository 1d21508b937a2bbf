"""Sustained traffic through a failover: nothing accepted is lost, and the report says so.

One failover drill (``playbooks/failover_drill.yml``, unplanned: the primary's stage and base
path mapping deleted) runs on a deployed local cloud of this module's own while ``drillkit``
sends RATE requests per second through the custom domain for the whole drill. What the operator
reads in the report is then recomputed from the traffic log the drill wrote.

How RATE was chosen: ``bench/load_bench.py`` measured the highest rate the local cloud sustains
through the custom domain (every request answered 2xx by the primary, nothing lost, p95 at most
1 s, health checks healthy, backlog drained within 5 s) on the 2-core development machine shared
with other engineers' test suites: 50/s at load average 2 to 3, 20/s at load 6, and 10/s at
load 11 (where 20/s failed its confirmation and 15/s had p95 1.5 s); client timeouts began at
60/s and 25/s respectively. RATE is a fifth of the quiet figure and half the one at load 6, and
still held at the worst load seen: a drill adds its own work on top of the traffic (Ansible
modules, the secondary's Lambda environments starting during the switch), and CI machines are
busy. This test's own bounds (every request answered, p95 at most 2 s) are looser than the
bench's. RATE is twice the drill's default of 5 requests per second.

Before the drill, RATE requests per second run through the custom domain for a few seconds and
are reconciled: the drill is about traffic that is *sustained*, and a primary that carries
traffic has its Lambda environments started. Without it the before-fault phase would measure
the first seconds after a deployment instead, when each local environment is a Python process
starting on the same two cores as the API (on AWS, PutEvents does not wait for the consumer).
The secondary gets no such warm-up: its environments start during the switch, as they would.
"""

from __future__ import annotations

import json
import math
import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from ansible_run import BIN, REPO, ansible_env, deployed_cloud, run_playbook
from conftest import PRIMARY, SECONDARY, LocalCloudProcess

DEPLOYMENT = "evfail"  # deployment_name of the local inventory the playbooks use
DOMAIN = "api.example.com"  # its custom_domain
WARM_UP_SECONDS = 5
MEASURED_MAX_RATE = 50  # bench/load_bench.py on 2 cores at load average 2 to 3 (see docstring)
RATE = 10
#: Route 53's HTTPS checker wants an answer within 2 s of connecting, and its probes share the
#: local cloud with this traffic: a p95 above that would mean the load itself can fail health
#: checks. (The bench judges a rate sustained only with p95 <= 1 s, so RATE normally sees far
#: less; the test holds the architecture's hard limit, not the bench's margin.)
P95_BOUND_MS = 2000.0


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def nearest_rank(values: list[float], share: float) -> float | None:
    """The smallest value with at least ``share`` of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]


class Drill:
    """A drill's outcome: the playbook run, its report and the traffic log it measured."""

    def __init__(self, cloud: LocalCloudProcess, run: Any, report: dict[str, Any],
                 log: list[dict[str, Any]]) -> None:
        self.cloud = cloud
        self.run = run
        self.report = report
        self.log = log
        self.requests = sorted((r for r in log if r["type"] == "request"),
                               key=lambda r: r["seq"])

    def answered(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["status"] is not None]

    def accepted(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["status"] is not None and 200 <= r["status"] < 300]


def drillkit(cloud: LocalCloudProcess, *args: str) -> subprocess.CompletedProcess[str]:
    """The drill's own traffic and reconciliation tool, pointed at this module's cloud."""
    return subprocess.run([str(BIN / "drillkit"), *args], cwd=REPO, capture_output=True,
                          text=True, timeout=300,
                          env=ansible_env(cloud, AWS_ACCESS_KEY_ID="localcloud",
                                          AWS_SECRET_ACCESS_KEY="localcloud"))


def warm_up(cloud: LocalCloudProcess, run_dir: Path) -> None:
    """RATE requests per second through the custom domain for a few seconds, all stored.

    Why: see the module docstring (sustained traffic keeps the primary's environments started).
    """
    outputs = cloud.client("cloudformation", PRIMARY).describe_stacks(
        StackName=f"{DEPLOYMENT}-primary")["Stacks"][0]["Outputs"]
    table = next(o["OutputValue"] for o in outputs if o["OutputKey"] == "TableName")
    sent = drillkit(cloud, "traffic", "run", "--run-dir", str(run_dir), "--url", f"{cloud.url}/",
                    "--host-header", DOMAIN, "--rate", str(RATE), "--run-id", "warm-up",
                    "--max-seconds", str(WARM_UP_SECONDS))
    assert sent.returncode == 0, sent.stderr[-3000:]
    reconciled = drillkit(cloud, "reconcile", "--run-dir", str(run_dir), "--table", table,
                          "--region", PRIMARY, "--region", SECONDARY,
                          "--endpoint-url", cloud.url, "--timeout", "120")
    assert reconciled.returncode == 0, reconciled.stderr[-3000:]
    result = json.loads(reconciled.stdout)
    assert result["lost"] == 0 and result["accepted"] == result["sent"] > 0, result


@pytest.fixture(scope="module")
def drill(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Drill]:
    root = tmp_path_factory.mktemp("load")
    reports = root / "reports"
    with deployed_cloud(root / "cloud", time_scale=0.05) as cloud:
        warm_up(cloud, root / "warm-up")
        run = run_playbook("playbooks/failover_drill.yml", cloud, "-e", f"drill_rate={RATE}",
                           "-e", f"failover_drill_report_dir={reports}")
        report = json.loads((reports / "latest.json").read_text())
        path = reports / "runs" / report["run_id"] / "traffic.jsonl"
        log = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        yield Drill(cloud, run, report, log)


def test_the_drill_passes_with_no_accepted_event_lost(drill: Drill) -> None:
    assert drill.run.returncode == 0, drill.run.stdout[-8000:]
    assert "Drill verdict: pass" in drill.run.stdout
    traffic = drill.report["traffic"]
    assert (drill.report["verdict"], drill.report["mode"]) == ("pass", "unplanned")
    assert (traffic["lost"], traffic["duplicates"], drill.report["lost_markers"]) == (0, 0, [])
    assert traffic["persisted"] == traffic["accepted"] > 0
    # Both regions carried accepted traffic: the load went through the switch and back.
    assert traffic["by_region"][PRIMARY] > 0 and traffic["by_region"][SECONDARY] > 0
    # Nothing was set aside as poison under load either.
    for role, region in (("primary", PRIMARY), ("secondary", SECONDARY)):
        outputs = drill.cloud.client("cloudformation", region).describe_stacks(
            StackName=f"{DEPLOYMENT}-{role}")["Stacks"][0]["Outputs"]
        dlq = next(o["OutputValue"] for o in outputs if o["OutputKey"] == "DeadLetterQueueUrl")
        depth = drill.cloud.client("sqs", region).get_queue_attributes(
            QueueUrl=dlq, AttributeNames=[
            "ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"]
        assert depth == "0", region


def test_the_traffic_held_its_rate_and_every_request_was_answered(drill: Drill) -> None:
    assert [r["seq"] for r in drill.requests] == list(range(len(drill.requests)))
    stop = next(r for r in drill.log if r["type"] == "stop")
    assert stop["sent"] == len(drill.requests)  # every request that went out is logged once
    sent_at = [when(r["sent_at"]) for r in drill.requests]
    span = (sent_at[-1] - sent_at[0]).total_seconds()
    assert span > 0
    assert (len(sent_at) - 1) / span == pytest.approx(RATE, rel=0.1)
    # The load covered the whole drill: it started before the fault and ran past the failback.
    assert sent_at[0] < when(drill.report["fault_injected_at"])
    assert sent_at[-1] > when(drill.report["first_primary_response_after_restore_at"])
    unanswered = [(r["seq"], r["error"]) for r in drill.requests if r["status"] is None]
    assert unanswered == []


def test_the_load_alone_made_no_region_look_unhealthy(drill: Drill) -> None:
    fault = when(drill.report["fault_injected_at"])
    samples = [s for s in drill.log if s["type"] == "health"]
    secondary = [s["healthy"] for s in samples if s["label"] == "SECONDARY"]
    primary_before = [s["healthy"] for s in samples
                      if s["label"] == "PRIMARY" and when(s["at"]) < fault]
    assert secondary and primary_before
    assert set(secondary) == set(primary_before) == {True}


def test_the_report_counts_are_those_of_the_traffic_log(drill: Drill) -> None:
    traffic = drill.report["traffic"]
    answered, accepted = drill.answered(), drill.accepted()
    assert traffic["sent"] == len(drill.requests)
    assert traffic["accepted"] == len(accepted)
    assert traffic["rejected"] == len(answered) - len(accepted)
    assert traffic["errors"] == len(drill.requests) - len(answered)
    by_region: dict[str, int] = {}
    for request in accepted:
        by_region[request["region"]] = by_region.get(request["region"], 0) + 1
    assert traffic["by_region"] == by_region


def test_rejections_happen_only_while_the_primary_is_broken(drill: Drill) -> None:
    fault = when(drill.report["fault_injected_at"])
    failback = when(drill.report["first_primary_response_after_restore_at"])
    rejected = [r for r in drill.answered() if not 200 <= r["status"] < 300]
    assert all(when(r["received_at"]) >= fault and when(r["sent_at"]) < failback
               for r in rejected), rejected[:5]
    before = [r for r in drill.requests if when(r["received_at"]) < fault]
    after = [r for r in drill.requests if when(r["sent_at"]) > failback]
    assert before and after
    for request in before + after:
        assert (request["status"], request["region"]) == (200, PRIMARY), request


def test_latency_before_during_and_after_the_switch(drill: Drill) -> None:
    fault = when(drill.report["fault_injected_at"])
    failback = when(drill.report["first_primary_response_after_restore_at"])
    phases: dict[str, list[float]] = {"before_fault": [], "outage": [], "after_failback": []}
    for request in drill.answered():
        answered_at = when(request["received_at"])
        phase = ("before_fault" if answered_at < fault
                 else "outage" if answered_at < failback else "after_failback")
        phases[phase].append(request["latency_ms"])
    expected = {phase: {"count": len(values), "p50": nearest_rank(values, 0.50),
                        "p95": nearest_rank(values, 0.95)}
                for phase, values in phases.items()}
    assert drill.report["latency_ms"] == expected
    for phase, figures in expected.items():
        assert figures["count"] > 0, phase
        # The rate was sustained in every phase, by the bench's own criterion.
        assert figures["p95"] <= P95_BOUND_MS, (phase, figures)
