"""playbooks/failover_drill.yml and restore.yml on a deployed local cloud of the test's own."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from ansible_run import BIN, REPO, ansible_env, deployed_cloud, kill_run, recap, run_playbook
from conftest import PRIMARY, SECONDARY, LocalCloudProcess, wait_for

DEPLOYMENT = "evfail"
DOMAIN = "api.example.com"
STAGE = "Prod"


class Deployment:
    def __init__(self, cloud: LocalCloudProcess, reports: Path) -> None:
        self.cloud = cloud
        self.reports = reports

    def drill(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_playbook("playbooks/failover_drill.yml", self.cloud,
                            "-e", f"failover_drill_report_dir={self.reports}", *args)

    def restore(self) -> subprocess.CompletedProcess[str]:
        return run_playbook("playbooks/restore.yml", self.cloud,
                            "-e", f"failover_drill_report_dir={self.reports}")

    def api_id(self, region: str) -> str:
        cfn = self.cloud.client("cloudformation", region)
        role = "primary" if region == PRIMARY else "secondary"
        outputs = cfn.describe_stacks(StackName=f"{DEPLOYMENT}-{role}")["Stacks"][0]["Outputs"]
        return next(o["OutputValue"] for o in outputs if o["OutputKey"] == "ApiId")

    def stage(self, region: str) -> dict[str, Any] | None:
        apigw = self.cloud.client("apigateway", region)
        stages = apigw.get_stages(restApiId=self.api_id(region))["item"]
        return next((s for s in stages if s["stageName"] == STAGE), None)

    def check_ids(self) -> dict[str, str]:
        route53 = self.cloud.client("route53")
        zone = route53.list_hosted_zones_by_name(DNSName="example.com")["HostedZones"][0]["Id"]
        records = route53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
        return {r["Failover"]: r["HealthCheckId"] for r in records
                if r["Name"] == f"{DOMAIN}." and "Failover" in r}

    def healthy(self, check_id: str) -> bool:
        route53 = self.cloud.client("route53")
        config = route53.get_health_check(
            HealthCheckId=check_id)["HealthCheck"]["HealthCheckConfig"]
        reports = route53.get_health_check_status(
            HealthCheckId=check_id)["HealthCheckObservations"]
        observed = all(o["StatusReport"]["Status"].startswith("Success") for o in reports)
        return observed != config.get("Inverted", False)

    def answering_region(self) -> str | None:
        request = urllib.request.Request(
            f"{self.cloud.url}/", method="POST",
            headers={"Host": DOMAIN, "Content-Type": "application/json"},
            data=json.dumps({"Source": "test", "DetailType": "Probe", "Detail": {}}).encode())
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.headers["X-Region"]
        except urllib.error.HTTPError:
            return None

    def drift(self, region: str) -> str:
        cfn = self.cloud.client("cloudformation", region)
        role = "primary" if region == PRIMARY else "secondary"
        detection = cfn.detect_stack_drift(StackName=f"{DEPLOYMENT}-{role}")
        return cfn.describe_stack_drift_detection_status(
            StackDriftDetectionId=detection["StackDriftDetectionId"])["StackDriftStatus"]

    def pending_restore(self) -> Path:
        return self.reports / f"pending-restore-{DEPLOYMENT}.json"


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("drill")
    with deployed_cloud(root / "cloud", time_scale=0.05) as cloud:
        yield Deployment(cloud, root / "reports")


def traffic_log(report: dict[str, Any], reports: Path) -> list[dict[str, Any]]:
    path = reports / "runs" / report["run_id"] / "traffic.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_unplanned_drill_fails_over_restores_and_reports(deployment: Deployment) -> None:
    stage_before = deployment.stage(PRIMARY)
    run = deployment.drill()
    assert run.returncode == 0, run.stdout[-8000:]
    assert "Drill verdict: pass" in run.stdout

    report = json.loads((deployment.reports / "latest.json").read_text())
    assert (report["verdict"], report["mode"]) == ("pass", "unplanned")
    assert (report["primary_region"], report["secondary_region"]) == (PRIMARY, SECONDARY)
    assert report["traffic"]["lost"] == 0
    assert report["traffic"]["accepted"] == report["traffic"]["persisted"] > 0
    assert report["health_check"] == {
        **report["health_check"], "request_interval": 30, "failure_threshold": 3,
        "time_scale": 0.05, "effective_limit_seconds": 4.5}
    for key in ("json_path", "markdown_path", "svg_path"):
        assert Path(report[key]).is_file()
    ET.parse(report["svg_path"])  # the timeline picture is well-formed SVG
    assert "**Verdict: PASS**" in Path(report["markdown_path"]).read_text()
    assert [step["name"] for step in report["steps"]] == [
        "precheck", "baseline", "traffic", "fault", "detect", "verify_failover", "restore",
        "verify_failback", "reconcile"]

    # The figures are those of the traffic the drill sent.
    requests = [r for r in traffic_log(report, deployment.reports) if r["type"] == "request"]
    accepted = [r for r in requests if r["status"] and 200 <= r["status"] < 300]
    assert report["traffic"]["sent"] == len(requests)
    assert report["traffic"]["accepted"] == len(accepted)
    fault = when(report["fault_injected_at"])
    first_secondary = min(when(r["received_at"]) for r in accepted
                          if r["region"] == SECONDARY and when(r["received_at"]) >= fault)
    assert when(report["first_secondary_response_at"]) == first_secondary
    assert report["failover_seconds"] == pytest.approx(
        (first_secondary - fault).total_seconds(), abs=0.001)
    assert report["detection_seconds"] == pytest.approx(
        (when(report["unhealthy_detected_at"]) - fault).total_seconds(), abs=0.001)
    # Route 53 declares a check unhealthy after failure_threshold failed probes request_interval
    # apart; the first can come right after the fault, so not before (threshold - 1) intervals.
    check = report["health_check"]
    earliest = (check["failure_threshold"] - 1) * check["request_interval"] * check["time_scale"]
    assert report["detection_seconds"] >= earliest * 0.9

    # The primary is back exactly as deployed, serving the custom domain.
    stage_after = deployment.stage(PRIMARY)
    assert stage_after["deploymentId"] == stage_before["deploymentId"]
    assert stage_after["methodSettings"] == stage_before["methodSettings"]
    assert stage_after.get("accessLogSettings") == stage_before.get("accessLogSettings")
    assert deployment.answering_region() == PRIMARY
    assert not deployment.pending_restore().exists()
    assert deployment.drift(PRIMARY) == "IN_SYNC"


def test_planned_drill_inverts_and_restores_the_health_check(deployment: Deployment) -> None:
    run = deployment.drill("-e", "drill_mode=planned")
    assert run.returncode == 0, run.stdout[-8000:]
    report = json.loads((deployment.reports / "latest.json").read_text())
    assert (report["verdict"], report["mode"], report["traffic"]["lost"]) == (
        "pass", "planned", 0)
    # Nothing was deleted: every request got an answer from one region or the other.
    assert report["traffic"]["rejected"] == 0
    primary_samples = [s for s in traffic_log(report, deployment.reports)
                       if s["type"] == "health" and s["label"] == "PRIMARY"]
    assert any(s["healthy"] is False and s.get("inverted") for s in primary_samples)
    primary_check = deployment.check_ids()["PRIMARY"]
    config = deployment.cloud.client("route53").get_health_check(
        HealthCheckId=primary_check)["HealthCheck"]["HealthCheckConfig"]
    assert config["Inverted"] is False
    assert deployment.answering_region() == PRIMARY


def test_drill_refuses_to_break_the_primary_when_the_secondary_is_unhealthy(
        deployment: Deployment) -> None:
    route53 = deployment.cloud.client("route53")
    secondary_check = deployment.check_ids()["SECONDARY"]
    route53.update_health_check(HealthCheckId=secondary_check, Inverted=True)
    try:
        wait_for(lambda: not deployment.healthy(secondary_check), timeout=30,
                 message="the secondary unhealthy")
        run = deployment.drill()
        assert run.returncode != 0
        assert "Refusing to start the drill: the secondary's health check" in run.stdout
        report = json.loads((deployment.reports / "latest.json").read_text())
        assert report["verdict"] == "fail"
        assert [s["name"] for s in report["steps"]] == ["precheck"]
        # The primary was not touched.
        assert deployment.stage(PRIMARY) is not None
        assert deployment.healthy(deployment.check_ids()["PRIMARY"])
        assert not deployment.pending_restore().exists()
        assert deployment.answering_region() == PRIMARY
    finally:
        route53.update_health_check(HealthCheckId=secondary_check, Inverted=False)
        wait_for(lambda: deployment.healthy(secondary_check), timeout=30,
                 message="the secondary healthy again")


def test_restore_heals_a_drill_killed_right_after_the_fault(deployment: Deployment) -> None:
    process = subprocess.Popen(
        [str(BIN / "ansible-playbook"), "playbooks/failover_drill.yml",
         "-e", f"failover_drill_report_dir={deployment.reports}"],
        cwd=REPO, env=ansible_env(deployment.cloud), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for(lambda: (deployment.pending_restore().exists()
                          and deployment.stage(PRIMARY) is None),
                 timeout=180, interval=0.1, message="the fault injected")
    finally:
        kill_run(process)
    # Killed: nothing restored the primary, and the traffic it started still runs.
    time.sleep(1)
    assert deployment.stage(PRIMARY) is None
    orphans = list((deployment.reports / "runs").glob("*/traffic.pid"))
    assert orphans

    restored = deployment.restore()
    assert restored.returncode == 0, restored.stdout[-8000:]
    assert "CloudFormation drift: none" in restored.stdout
    assert deployment.stage(PRIMARY) is not None
    ids = deployment.check_ids()
    assert deployment.healthy(ids["PRIMARY"]) and deployment.healthy(ids["SECONDARY"])
    assert deployment.answering_region() == PRIMARY
    assert not deployment.pending_restore().exists()
    assert not any(path.exists() for path in orphans)
    assert deployment.drift(PRIMARY) == "IN_SYNC"


def test_restore_on_a_healthy_deployment_changes_nothing(deployment: Deployment) -> None:
    run = deployment.restore()
    assert run.returncode == 0, run.stdout[-6000:]
    assert {host: counts["changed"] for host, counts in recap(run.stdout).items()} == {
        "region-primary": 0, "region-secondary": 0}
