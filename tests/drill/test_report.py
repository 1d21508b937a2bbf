"""`drillkit report`: figures from a synthetic traffic log and timeline, verdict, files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO

EAST, WEST = "eu-central-1", "eu-north-1"
DAY = "2024-05-01T12:00:"

# (sent at second, answered by, status, latency ms): a drill with the fault at :10, the
# restore at :30. The :05 answer from the secondary precedes the fault; the :09.9 answer from
# the primary arrives after the fault but before the restore: neither may count.
REQUESTS: list[tuple[float, str | None, int | None, float]] = [
    (5.0, WEST, 200, 5), (8.0, EAST, 200, 10), (9.0, EAST, 200, 20), (9.9, EAST, 200, 200),
    (11.0, None, None, 2000), (12.0, EAST, 503, 30), (14.0, WEST, 200, 40),
    (20.0, WEST, 200, 50), (31.0, WEST, 200, 60), (36.0, EAST, 200, 70), (40.0, EAST, 200, 80),
]
HEALTH = [("PRIMARY", 5.0, True), ("SECONDARY", 5.0, True), ("PRIMARY", 13.0, False),
          ("SECONDARY", 13.0, True), ("PRIMARY", 35.0, True)]
# Health samples Route 53 throttled: counted, never taken for a state.
THROTTLED = [("PRIMARY", 12.0), ("SECONDARY", 12.5)]
PRIMARY_ADDRESS, SECONDARY_ADDRESS = "198.18.0.10", "198.18.0.20"
# (second, label) of the name servers' answers: the secondary's target from :13.5 (detection
# 3.5 s after the fault at :10), the primary's again from :33 (3 s after the restore at :30).
DNS = [(5.0, "PRIMARY"), (9.0, "PRIMARY"), (12.0, "PRIMARY"), (13.5, "SECONDARY"),
       (20.0, "SECONDARY"), (31.0, "SECONDARY"), (33.0, "PRIMARY"), (40.0, "PRIMARY")]
REPORT_FIELDS = {
    "mode", "deployment_name", "primary_region", "secondary_region", "health_check",
    "fault_injected_at", "restore_started_at", "healthy_again_at", "dns_switched_at",
    "dns_back_at", "steps", "checks", "errors", "first_secondary_response_at",
    "first_primary_response_after_restore_at", "detection_seconds", "failover_seconds",
    "dns_back_seconds", "failback_seconds", "route53_reported_unhealthy_at",
    "route53_reported_unhealthy_seconds", "traffic", "latency_ms", "health", "dns", "samples",
    "verdict", "reasons",
}


def stamp(second: float) -> str:
    return f"{DAY}{second:09.6f}+00:00"


def dns_sample(second: float, label: str | None, error: str | None = None) -> dict[str, Any]:
    answer = {"PRIMARY": [PRIMARY_ADDRESS], "SECONDARY": [SECONDARY_ADDRESS],
              None: ["192.0.2.99"]}[label]
    sample = {"type": "dns", "at": stamp(second), "server": "127.0.0.1:5353",
              "name": "api.example.com", "answer": [] if error else answer, "label": label,
              "rcode": None if error else "NOERROR"}
    return {**sample, "error": error} if error else sample


def traffic_log(requests: list[tuple[float, str | None, int | None, float]],
                dns: list[dict[str, Any]] | None = None) -> str:
    lines: list[dict[str, Any]] = [{"type": "start", "run_id": "run-r", "pid": 1,
                                    "first_request_sent_at": stamp(5)}]
    for seq, (second, region, status, latency) in enumerate(requests):
        lines.append({
            "type": "request", "seq": seq, "marker": f"run-r-{seq}", "sent_at": stamp(second),
            "received_at": stamp(second + latency / 1000), "latency_ms": latency,
            "status": status, "region": region,
            "event_id": f"evt-{seq}" if status == 200 else None,
            "error": None if status else f"timed out after {latency / 1000:g}s"})
    for label, second, healthy in HEALTH:
        lines.append({"type": "health", "at": stamp(second), "label": label,
                      "health_check_id": f"hc-{label}", "healthy": healthy,
                      "status": "Success: HTTP Status Code 200, OK" if healthy
                      else "Failure: HTTP Status Code 403, Forbidden"})
    for label, second in THROTTLED:
        lines.append({"type": "health", "at": stamp(second), "label": label,
                      "health_check_id": f"hc-{label}", "healthy": None, "status": None,
                      "error": "GetHealthCheckStatus: ClientError: An error occurred "
                               "(Throttling) when calling the GetHealthCheckStatus operation: "
                               "Rate exceeded", "throttled": True})
    lines += [dns_sample(second, label) for second, label in DNS] if dns is None else dns
    return "".join(json.dumps(line) + "\n" for line in lines)


def timeline() -> dict[str, Any]:
    steps = ["precheck", "baseline", "traffic", "fault", "detect", "verify_failover",
             "restore", "verify_failback"]
    return {
        "mode": "stage", "deployment_name": "shop", "primary_region": EAST,
        "secondary_region": WEST,
        "health_check": {"request_interval": 10, "failure_threshold": 3, "time_scale": 0.1},
        "fault_injected_at": f"{DAY}10.000000Z",
        "restore_started_at": f"{DAY}30.000000Z", "healthy_again_at": f"{DAY}35.250000Z",
        "steps": [{"name": name, "started_at": stamp(i), "finished_at": stamp(i + 0.5),
                   "result": "ok"} for i, name in enumerate(steps)],
        "checks": {"failover_verified": True, "secondary_processed": True,
                   "failback_verified": True, "restored": True},
        "errors": [],
    }


RECONCILED = {"sent": 11, "accepted": 9, "rejected": 1, "errors": 1, "persisted": 9,
              "lost": 0, "lost_markers": [], "duplicates": 0}


def make_report(tmp_path: Path, timeline_doc: dict[str, Any] | None = None,
                reconciliation: dict[str, Any] | None = RECONCILED,
                requests: list[tuple[float, str | None, int | None, float]] = REQUESTS,
                dns: list[dict[str, Any]] | None = None,
                ) -> tuple[dict[str, Any], subprocess.CompletedProcess[str]]:
    run_dir, out_dir = tmp_path / "run", tmp_path / "reports"
    run_dir.mkdir()
    (run_dir / "traffic.jsonl").write_text(traffic_log(requests, dns))
    if reconciliation is not None:
        (run_dir / "reconcile.json").write_text(json.dumps(reconciliation))
    timeline_path = tmp_path / "timeline.json"
    timeline_path.write_text(json.dumps(timeline_doc or timeline()))
    ran = subprocess.run(
        [sys.executable, "-m", "drillkit", "report", "--run-dir", str(run_dir),
         "--timeline", str(timeline_path), "--out-dir", str(out_dir)],
        cwd=REPO, capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert ran.returncode == 0, ran.stderr
    return json.loads((out_dir / "latest.json").read_text()), ran


def test_figures_of_a_passing_drill_and_the_files_written(tmp_path):
    latest, ran = make_report(tmp_path)

    assert latest["verdict"] == "pass", latest["reasons"]
    assert latest["reasons"] == []
    assert latest["first_secondary_response_at"] == stamp(14.040)
    assert latest["first_primary_response_after_restore_at"] == stamp(36.070)
    assert latest["dns_switched_at"] == stamp(13.5)
    assert latest["detection_seconds"] == 3.5
    assert latest["failover_seconds"] == 4.04
    assert (latest["dns_back_at"], latest["dns_back_seconds"]) == (stamp(33), 3.0)
    assert latest["failback_seconds"] == 6.07
    # GetHealthCheckStatus's view is reported beside detection, not as detection.
    assert latest["route53_reported_unhealthy_at"] == stamp(13)
    assert latest["route53_reported_unhealthy_seconds"] == 3.0
    assert latest["samples"] == {"health": {"taken": 7, "failed": 2, "throttled": 2},
                                 "dns": {"taken": 8, "failed": 0, "unclassified": 0}}
    assert [(t["at"], t["label"]) for t in latest["dns"]] == [
        (stamp(5), "PRIMARY"), (stamp(13.5), "SECONDARY"), (stamp(33), "PRIMARY")]
    assert latest["health_check"]["effective_limit_seconds"] == 3.0
    assert latest["fault_injected_at"] == stamp(10)  # normalised to +00:00 with microseconds
    assert {k: latest["traffic"][k] for k in RECONCILED if k != "lost_markers"} == {
        k: v for k, v in RECONCILED.items() if k != "lost_markers"}
    # Latency by when the answer came: before :10, until the failback answer, after it.
    assert latest["latency_ms"] == {
        "before_fault": {"count": 3, "p50": 10.0, "p95": 20.0},
        "outage": {"count": 5, "p50": 50.0, "p95": 200.0},
        "after_failback": {"count": 2, "p50": 70.0, "p95": 80.0},
    }
    # The throttled samples (:12, :12.5) carry no state: no "unknown" between the real ones.
    assert [(t["at"], t["healthy"]) for t in latest["health"]["PRIMARY"]] == [
        (stamp(5), True), (stamp(13), False), (stamp(35), True)]
    assert [t["healthy"] for t in latest["health"]["SECONDARY"]] == [True]

    out_dir = tmp_path / "reports"
    document = json.loads(Path(latest["json_path"]).read_text())
    assert set(document) >= REPORT_FIELDS
    assert latest == {**document, "json_path": latest["json_path"],
                      "markdown_path": latest["markdown_path"], "svg_path": latest["svg_path"]}
    assert {Path(latest[k]).parent for k in ("json_path", "markdown_path", "svg_path")} == {
        out_dir}
    assert Path(latest["json_path"]).name.startswith("drill-")
    svg = ET.parse(latest["svg_path"]).getroot()
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    texts = "".join(svg.itertext())
    assert f"PRIMARY {EAST}" in texts and f"SECONDARY {WEST}" in texts
    assert "fault injected" in texts and "first secondary answer" in texts
    assert "detection (DNS answers secondary)" in texts and "DNS answer" in texts
    markdown = Path(latest["markdown_path"]).read_text()
    assert "**Verdict: PASS**" in markdown
    assert "| Route 53 health (GetHealthCheckStatus) | 7 | 2 | 2 |  |" in markdown
    assert "| DNS answers of the name servers | 8 | 0 |  | 0 |" in markdown
    assert "A failed sample" in markdown
    assert "| verify_failover | ok |" in markdown
    assert f"![timeline]({Path(latest['svg_path']).name})" in markdown
    printed = ran.stdout.strip().splitlines()
    assert 5 <= len(printed) <= 10
    assert "PASS" in printed[0]
    assert "failover 4.04s" in ran.stdout
    assert "detection 3.50s (DNS answered the secondary" in ran.stdout
    assert "samples: health 7 (2 failed, 2 throttled), DNS 8 (0 failed" in ran.stdout


@pytest.mark.parametrize(
    ("dns", "detected_at", "back_at"),
    [
        # Answers before the fault, unclassified and failed ones never count.
        ([dns_sample(9.5, "SECONDARY"), dns_sample(11, None), dns_sample(12, None, "timed out"),
          dns_sample(14.25, "SECONDARY"), dns_sample(32, "PRIMARY")], 14.25, 32),
        # The earliest answer wins, whichever server gave it and in whatever order it was logged.
        ([dns_sample(16, "SECONDARY"), dns_sample(15, "SECONDARY"), dns_sample(35, "PRIMARY"),
          dns_sample(30.5, "PRIMARY")], 15, 30.5),
        # The name servers never answered the secondary after the fault: no detection.
        ([dns_sample(9.5, "SECONDARY"), dns_sample(12, "PRIMARY"), dns_sample(31, "PRIMARY")],
         None, 31),
        # No DNS samples at all (the sender was started without name servers).
        ([], None, None),
    ],
    ids=["ignores-before-unknown-failed", "earliest", "never-switched", "no-samples"],
)
def test_detection_is_when_the_name_servers_first_answer_with_the_secondary(
        tmp_path, dns, detected_at, back_at):
    latest, _ = make_report(tmp_path, dns=dns)

    assert latest["dns_switched_at"] == (stamp(detected_at) if detected_at else None)
    assert latest["detection_seconds"] == (detected_at - 10 if detected_at else None)
    assert latest["dns_back_at"] == (stamp(back_at) if back_at else None)
    assert latest["dns_back_seconds"] == (back_at - 30 if back_at else None)
    # Route 53's checkers' view stays what it was: not the detection.
    assert latest["route53_reported_unhealthy_seconds"] == 3.0
    missing = [name for name, value in (("dns_switched_at", detected_at),
                                        ("dns_back_at", back_at)) if value is None]
    assert [r for r in latest["reasons"] if r.startswith("no dns")] == [
        f"no {name}" for name in missing]
    assert ("no detection_seconds" in latest["reasons"]) == (detected_at is None)


def _failed_check(doc: dict[str, Any]) -> None:
    doc["checks"]["failback_verified"] = False


def _failed_step(doc: dict[str, Any]) -> None:
    doc["steps"][5].update(result="failed", message="still answered by eu-central-1")


def _skipped_step(doc: dict[str, Any]) -> None:
    doc["steps"][6]["result"] = "skipped"


def _no_healthy_again(doc: dict[str, Any]) -> None:
    del doc["healthy_again_at"]


def _playbook_error(doc: dict[str, Any]) -> None:
    doc["errors"] = ["restore timed out"]


@pytest.mark.parametrize(
    ("change", "reconciliation", "requests", "reasons"),
    [
        (_failed_check, RECONCILED, REQUESTS, ["check failback_verified is not true"]),
        (_failed_step, RECONCILED, REQUESTS,
         ["step verify_failover failed: still answered by eu-central-1"]),
        (_skipped_step, RECONCILED, REQUESTS, ["step restore skipped"]),
        (None, {**RECONCILED, "persisted": 7, "lost": 2, "lost_markers": ["run-r-6", "run-r-7"]},
         REQUESTS, ["2 accepted event(s) lost"]),
        (None, None, REQUESTS, ["no reconciliation (run `drillkit reconcile` first)"]),
        (_no_healthy_again, RECONCILED, REQUESTS, ["no healthy_again_at"]),
        (None, RECONCILED, REQUESTS[:9],
         ["no first_primary_response_after_restore_at", "no failback_seconds"]),
        (_playbook_error, RECONCILED, REQUESTS, ["playbook error: restore timed out"]),
    ],
    ids=["check", "step-failed", "step-skipped", "lost", "not-reconciled", "no-mark",
         "no-failback-answer", "playbook-error"],
)
def test_verdict_fails_with_the_reasons(tmp_path, change, reconciliation, requests, reasons):
    doc = timeline()
    if change is not None:
        change(doc)

    latest, ran = make_report(tmp_path, doc, reconciliation, requests)

    assert latest["verdict"] == "fail"
    assert latest["reasons"] == reasons
    assert "FAIL" in ran.stdout.splitlines()[0]
    assert reasons[0] in ran.stdout
    assert ET.parse(latest["svg_path"]).getroot().tag == "{http://www.w3.org/2000/svg}svg"
    assert "**Verdict: FAIL**" in Path(latest["markdown_path"]).read_text()
