"""drillkit's timeline (what the playbook records) and the figures and verdict the report
derives from it, in process: no Ansible, no subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import REPO

from drillkit import budget, report, timeline, timeutil

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
EAST, WEST = "eu-central-1", "eu-north-1"


def at(second: float) -> datetime:
    return T0 + timedelta(seconds=second)


def iso(second: float) -> str:
    return timeutil.iso(at(second))


def fresh() -> dict[str, Any]:
    return timeline.new("drill-r", "unplanned", "shop", EAST, WEST, "api.example.com",
                        {"request_interval": 10, "failure_threshold": 3, "time_scale": 0.1})


# -- Recording -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("events", "steps", "errors"),
    [
        # Each step ends when the next starts; `end` closes the last.
        ([("step", "precheck", 0), ("step", "baseline", 1), ("end", None, 2)],
         [("precheck", 0, 1, "ok", None), ("baseline", 1, 2, "ok", None)], []),
        # A failure closes the open step with the task's reason; the next step starts clean.
        ([("step", "detect", 0),
          ("fail", {"msg": "non-zero return code", "stderr": "no answer"}, 3),
          ("step", "restore", 4), ("end", None, 5)],
         [("detect", 0, 3, "failed", "non-zero return code: no answer"),
          ("restore", 4, 5, "ok", None)],
         ["detect: non-zero return code: no answer"]),
        # A failure re-raised after the restore ran finds no open step: recorded once.
        ([("step", "detect", 0), ("fail", {"msg": "timed out"}, 1), ("step", "restore", 2),
          ("end", None, 3), ("fail", {"msg": "timed out"}, 4)],
         [("detect", 0, 1, "failed", "timed out"), ("restore", 2, 3, "ok", None)],
         ["detect: timed out"]),
        # A loop's failure is told by its first failed item.
        ([("step", "precheck", 0),
          ("fail", {"msg": "One or more items failed",
                    "results": [{"failed": False, "msg": "ok"},
                                {"failed": True, "msg": "Refusing to start the drill"}]}, 1)],
         [("precheck", 0, 1, "failed", "Refusing to start the drill")],
         ["precheck: Refusing to start the drill"]),
        # A step still open stays without a result (the report says so).
        ([("step", "traffic", 0)], [("traffic", 0, None, None, None)], []),
    ],
    ids=["steps-in-turn", "failure-then-restore", "reraised-once", "loop-failure", "open"],
)
def test_steps_record_start_end_result_and_reason(events, steps, errors):
    doc = fresh()
    for action, argument, second in events:
        if action == "step":
            timeline.start_step(doc, argument, at(second))
        elif action == "fail":
            timeline.fail(doc, argument, at(second))
        else:
            timeline.end(doc, at(second))

    assert [(s["name"], s["started_at"], s["finished_at"], s["result"], s.get("message"))
            for s in doc["steps"]] == [
        (name, iso(start), iso(end) if end is not None else None, result, message)
        for name, start, end, result, message in steps]
    assert doc["errors"] == errors


def test_an_unknown_mark_is_refused():
    with pytest.raises(ValueError, match="unknown mark 'detected_at'"):
        timeline.mark(fresh(), "detected_at", at(0))


@pytest.mark.parametrize(
    ("steps", "failed", "checks"),
    [(["verify_failover", "restore", "verify_failback"], None,
      {"failover_verified", "secondary_processed", "restored", "failback_verified"}),
     # A step that failed proves nothing; the steps after it still prove theirs.
     (["verify_failover", "restore", "verify_failback"], "verify_failover",
      {"restored", "failback_verified"}),
     (["fault", "detect", "restore"], "restore", set()),
     # A step still open proves nothing yet.
     (["verify_failover"], "open", set())],
    ids=["all", "failover-failed", "restore-failed", "open"],
)
def test_checks_are_proven_by_the_steps_that_ended_well(steps, failed, checks):
    doc = fresh()
    for second, name in enumerate(steps):
        timeline.start_step(doc, name, at(second))
        if name == failed:
            timeline.fail(doc, {"msg": "failed"}, at(second + 0.5))
    if failed != "open":
        timeline.end(doc, at(10))

    assert {name for name, value in doc["checks"].items() if value} == checks


def test_the_command_line_keeps_the_timeline_in_the_run_directory(tmp_path):
    def drillkit(*args: str, stdin: str = "") -> Any:
        ran = subprocess.run([sys.executable, "-m", "drillkit", *args], cwd=REPO, input=stdin,
                             capture_output=True, text=True, timeout=60, check=True,
                             env={"PATH": "/usr/bin:/bin", "DRILLKIT_RUN_DIR": str(run_dir)})
        return json.loads(ran.stdout)

    run_dir = tmp_path / "unused"
    started = drillkit("timeline", "start", "--runs-dir", str(tmp_path / "runs"), "--mode",
                       "planned", "--deployment-name", "shop", "--primary-region", EAST,
                       "--secondary-region", WEST, "--custom-domain", "api.example.com",
                       "--request-interval", "30", "--failure-threshold", "3",
                       "--health-check", "PRIMARY=hc-1", "--health-check", "SECONDARY=hc-2")
    run_dir = tmp_path / "runs" / started["run_id"]
    assert started["run_dir"] == str(run_dir) and started["run_id"].startswith("drill-")
    drillkit("timeline", "step", "fault")
    drillkit("timeline", "mark", "fault_injected_at", f"--at={iso(10)}")
    drillkit("timeline", "step", "restore", "--mark", "restore_started_at")
    drillkit("timeline", "fail", stdin=json.dumps({"msg": "not healthy"}))

    doc = json.loads((run_dir / "timeline.json").read_text())
    assert doc["fault_injected_at"] == iso(10)
    assert doc["restore_started_at"] == doc["steps"][1]["started_at"]
    assert [(s["name"], s["result"]) for s in doc["steps"]] == [("fault", "ok"),
                                                                ("restore", "failed")]
    assert doc["errors"] == ["restore: not healthy"]
    assert doc["checks"] == dict.fromkeys(timeline.CHECKS, False)
    assert doc["health_check"] == {"request_interval": 30, "failure_threshold": 3,
                                   "time_scale": 1.0, "primary_health_check_id": "hc-1",
                                   "secondary_health_check_id": "hc-2"}


# -- Budget --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("interval", "threshold", "scale", "limit", "timeout", "sample", "wait"),
    [(30, 3, 1.0, 90.0, 210, 10.0, 5.0),    # AWS: 90 s x 2 + 30
     (30, 3, 0.05, 4.5, 39, 0.5, 0.25),     # the local cloud of the drill tests
     (10, 1, 0.1, 1.0, 32, 1.0, 0.5)],
)
def test_budget_scales_detection_and_route53_cadences(interval, threshold, scale, limit, timeout,
                                                       sample, wait):
    figures = budget.budget(interval, threshold, scale)
    assert figures["effective_limit_seconds"] == limit
    assert figures["detect_timeout_seconds"] == timeout
    assert (figures["health_poll_interval"], figures["wait_poll_interval"]) == (sample, wait)
    assert figures["flags_poll_interval"] == pytest.approx(30 * scale)


# -- Figures and verdict from a recorded timeline ------------------------------------------------


def request(seq: int, second: float, region: str | None, status: int | None = 200) -> dict:
    return {"type": "request", "seq": seq, "marker": f"drill-r-{seq}", "sent_at": iso(second),
            "received_at": iso(second + 0.01), "latency_ms": 10.0, "status": status,
            "region": region, "event_id": f"e{seq}" if status == 200 else None, "error": None}


def dns(second: float, label: str) -> dict:
    return {"type": "dns", "at": iso(second), "server": "127.0.0.1:53", "label": label,
            "answer": ["198.18.0.1" if label == "PRIMARY" else "198.18.0.2"], "rcode": "NOERROR"}


LOG = [request(0, 5, EAST), request(1, 12, None, 403), request(2, 14, WEST),
       request(3, 31, WEST), request(4, 36, EAST),
       dns(5, "PRIMARY"), dns(13.5, "SECONDARY"), dns(33, "PRIMARY")]
RECONCILED = {"sent": 5, "accepted": 4, "rejected": 1, "errors": 0, "persisted": 4, "lost": 0,
              "lost_markers": [], "duplicates": 0}


def recorded(fault: float | None = 10, restore: float | None = 30,
             healthy: float | None = 35) -> dict[str, Any]:
    doc = fresh()
    for second, name in enumerate(["precheck", "baseline", "traffic", "fault", "detect",
                                   "verify_failover", "restore", "verify_failback",
                                   "reconcile"]):
        timeline.start_step(doc, name, at(second))
    timeline.end(doc, at(40))
    for name, second in (("fault_injected_at", fault), ("restore_started_at", restore),
                         ("healthy_again_at", healthy)):
        if second is not None:
            timeline.mark(doc, name, at(second))
    return doc


@pytest.mark.parametrize(
    ("marks", "detection", "failover", "failback"),
    [({}, 3.5, 4.01, 6.01),
     # The fault a second later: every figure from it is a second shorter.
     ({"fault": 11}, 2.5, 3.01, 6.01),
     # The restore started at :32: DNS answered the primary at :33, the primary at :36.
     ({"restore": 32}, 3.5, 4.01, 4.01),
     # No fault recorded: nothing can be measured from it.
     ({"fault": None}, None, None, 6.01)],
    ids=["as-recorded", "later-fault", "later-restore", "no-fault"],
)
def test_figures_are_measured_from_the_recorded_marks(marks, detection, failover, failback):
    document = report.build_report(LOG, RECONCILED, recorded(**marks), at(50))

    assert document["detection_seconds"] == detection
    assert document["failover_seconds"] == failover
    assert document["failback_seconds"] == failback
    assert document["health_check"]["effective_limit_seconds"] == 3.0


def _failed_step(doc: dict[str, Any]) -> None:
    timeline.start_step(doc, "verify_failback", at(41))
    timeline.fail(doc, {"msg": "still answered by eu-north-1"}, at(42))


def _open_step(doc: dict[str, Any]) -> None:
    timeline.start_step(doc, "report", at(41))


def _unchecked(doc: dict[str, Any]) -> None:
    doc["checks"]["secondary_processed"] = False


@pytest.mark.parametrize(
    ("change", "reasons"),
    [(None, []),
     (_failed_step, ["step verify_failback failed: still answered by eu-north-1",
                     "playbook error: verify_failback: still answered by eu-north-1"]),
     (_open_step, ["step report has no result"]),
     (_unchecked, ["check secondary_processed is not true"]),
     (lambda doc: doc.update(healthy_again_at=None), ["no healthy_again_at"])],
    ids=["pass", "failed-step", "open-step", "unchecked", "no-mark"],
)
def test_verdict_from_the_recorded_timeline(change, reasons):
    doc = recorded()
    if change is not None:
        change(doc)

    document = report.build_report(LOG, RECONCILED, doc, at(50))

    assert document["reasons"] == reasons
    assert document["verdict"] == ("fail" if reasons else "pass")


# -- The failover records drillkit reads before the traffic starts -------------------------------


class FakeRoute53:
    def __init__(self, records: list[dict[str, Any]], name_servers: list[str]) -> None:
        self.records, self.name_servers = records, name_servers

    def list_hosted_zones_by_name(self, **_: Any) -> dict[str, Any]:
        return {"HostedZones": [{"Id": "/hostedzone/ZPRIV", "Name": "example.com.",
                                 "Config": {"PrivateZone": True}},
                                {"Id": "/hostedzone/Z1", "Name": "example.com.", "Config": {}}]}

    def list_resource_record_sets(self, HostedZoneId: str, **_: Any) -> dict[str, Any]:
        assert HostedZoneId == "/hostedzone/Z1"
        return {"ResourceRecordSets": self.records}

    def get_hosted_zone(self, Id: str) -> dict[str, Any]:
        return {"DelegationSet": {"NameServers": self.name_servers}}


def alias(failover: str, target: str | None, name: str = "api.example.com.") -> dict[str, Any]:
    record: dict[str, Any] = {"Name": name, "Type": "A", "Failover": failover,
                              "SetIdentifier": f"shop-{failover.lower()}"}
    if target:
        record["AliasTarget"] = {"DNSName": target}
    return record


@pytest.mark.parametrize(
    ("records", "servers", "found", "error"),
    [([alias("PRIMARY", "d-1.east."), alias("SECONDARY", "d-2.west.")], ["ns-1.awsdns.org"],
      ({"PRIMARY": "d-1.east.", "SECONDARY": "d-2.west."}, ["ns-1.awsdns.org"]), None),
     # Another name's records, or a failover record that is not an alias, do not count.
     ([alias("PRIMARY", "d-1.east."), alias("SECONDARY", None),
       alias("SECONDARY", "d-9.west.", "www.example.com.")], ["ns-1.awsdns.org"], None,
      "must be aliases"),
     ([alias("PRIMARY", "d-1.east."), alias("SECONDARY", "d-2.west.")], [], None,
      "no name server to ask")],
    ids=["aliases", "not-aliases", "no-name-servers"],
)
def test_detection_needs_both_failover_aliases_and_name_servers(records, servers, found, error):
    from drillkit import zone

    client = FakeRoute53(records, servers)
    if error:
        with pytest.raises(zone.ZoneError, match=error):
            zone.read(client, "example.com", "api.example.com", want_name_servers=True)
    else:
        result = zone.read(client, "example.com", "API.example.com", want_name_servers=True)
        assert (result.targets, result.name_servers) == found
