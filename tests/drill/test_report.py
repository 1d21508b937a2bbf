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
REPORT_FIELDS = {
    "mode", "deployment_name", "primary_region", "secondary_region", "health_check",
    "fault_injected_at", "unhealthy_detected_at", "restore_started_at", "healthy_again_at",
    "steps", "checks", "errors", "first_secondary_response_at",
    "first_primary_response_after_restore_at", "detection_seconds", "failover_seconds",
    "failback_seconds", "traffic", "latency_ms", "verdict",
    "reasons",
}


def stamp(second: float) -> str:
    return f"{DAY}{second:09.6f}+00:00"


def traffic_log(requests: list[tuple[float, str | None, int | None, float]]) -> str:
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
    return "".join(json.dumps(line) + "\n" for line in lines)


def timeline() -> dict[str, Any]:
    steps = ["precheck", "baseline", "traffic", "fault", "detect", "verify_failover",
             "restore", "verify_failback"]
    return {
        "mode": "stage", "deployment_name": "shop", "primary_region": EAST,
        "secondary_region": WEST,
        "health_check": {"request_interval": 10, "failure_threshold": 3, "time_scale": 0.1},
        "fault_injected_at": f"{DAY}10.000000Z", "unhealthy_detected_at": f"{DAY}13.500000Z",
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
                ) -> tuple[dict[str, Any], subprocess.CompletedProcess[str]]:
    run_dir, out_dir = tmp_path / "run", tmp_path / "reports"
    run_dir.mkdir()
    (run_dir / "traffic.jsonl").write_text(traffic_log(requests))
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
    assert latest["detection_seconds"] == 3.5
    assert latest["failover_seconds"] == 4.04
    assert latest["failback_seconds"] == 6.07
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
    assert [(t["at"], t["healthy"]) for t in latest["health"]["PRIMARY"]] == [
        (stamp(5), True), (stamp(13), False), (stamp(35), True)]

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
    markdown = Path(latest["markdown_path"]).read_text()
    assert "**Verdict: PASS**" in markdown
    assert "| verify_failover | ok |" in markdown
    assert f"![timeline]({Path(latest['svg_path']).name})" in markdown
    printed = ran.stdout.strip().splitlines()
    assert 5 <= len(printed) <= 10
    assert "PASS" in printed[0]
    assert "failover 4.04s" in ran.stdout


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
