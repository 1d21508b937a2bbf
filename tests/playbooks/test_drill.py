"""playbooks/failover_drill.yml and restore.yml on a deployed local cloud of the test's own."""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.request
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from ansible_run import BIN, REPO, ansible_env, deployed_cloud, kill_run, recap, run_playbook
from conftest import PRIMARY, SECONDARY, LocalCloudProcess, wait_for
from dnslib import QTYPE, DNSRecord

DEPLOYMENT = "evfail"
DOMAIN = "api.example.com"
STAGE = "Prod"
# "Throttling for Amazon Route 53 API requests" (Route 53 Developer Guide): token buckets as
# (maximum capacity, refill per second), for the account and for each action.
ACCOUNT_BUCKET = (50, 10.0)
ACTION_BUCKETS = {"GetHealthCheckStatus": (4, 1.0)}
DEFAULT_ACTION_BUCKET = (50, 10.0)
# The drill's budget (roles/failover_drill/README.md), in calls per AWS second over any minute.
BUDGET = {"GetHealthCheckStatus": 0.5, "all": 1.0}
# A request the local cloud logged (werkzeug, the server's local time), on Route 53's API.
ROUTE53_REQUEST = re.compile(
    r'^(?P<at>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) INFO werkzeug: .*"(?P<method>[A-Z]+) '
    r'/2013-04-01/(?P<path>[^ ?]*)')


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

    def alias_targets(self) -> dict[str, str]:
        """The failover records' alias targets, by PRIMARY/SECONDARY."""
        route53 = self.cloud.client("route53")
        zone = route53.list_hosted_zones_by_name(DNSName="example.com")["HostedZones"][0]["Id"]
        records = route53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
        return {r["Failover"]: r["AliasTarget"]["DNSName"] for r in records
                if r["Name"] == f"{DOMAIN}." and "Failover" in r}

    def dig(self, name: str) -> list[str]:
        """The A addresses the local cloud's DNS server answers for ``name``."""
        reply = DNSRecord.parse(DNSRecord.question(name, "A").send(
            "127.0.0.1", self.cloud.dns_port, timeout=2))
        return sorted(str(rr.rdata) for rr in reply.rr if rr.rtype == QTYPE.A)

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


def route53_action(method: str, path: str) -> str:
    parts = path.strip("/").split("/")
    if parts[0] == "healthcheck" and parts[-1] == "status":
        return "GetHealthCheckStatus"
    if parts[0] == "healthcheck" and len(parts) == 2:
        return {"GET": "GetHealthCheck", "POST": "UpdateHealthCheck"}.get(method, method)
    return f"{method} {parts[0]}"


def route53_requests(cloud: LocalCloudProcess, start: datetime,
                     end: datetime) -> list[tuple[datetime, str]]:
    """(when, action) of every Route 53 API request the local cloud answered in [start, end]."""
    requests = []
    for line in cloud.log_text().splitlines():
        match = ROUTE53_REQUEST.match(line)
        if match:
            at = datetime.strptime(match["at"], "%Y-%m-%d %H:%M:%S,%f").astimezone(UTC)
            if start <= at <= end:
                requests.append((at, route53_action(match["method"], match["path"])))
    return sorted(requests)


def throttled_on_aws(requests: list[tuple[datetime, str]], scale: float) -> list[str]:
    """The requests AWS's account and per-action token buckets would have throttled, on the
    local clock (refill rates divided by the time scale, as the local cloud scales them)."""
    buckets: dict[str, list[float]] = {}  # name -> [tokens, updated, capacity, rate]
    throttled = []
    for at, action in requests:
        moment = at.timestamp()
        took = []
        for name, (capacity, rate) in (("account", ACCOUNT_BUCKET),
                                       (action, ACTION_BUCKETS.get(action,
                                                                   DEFAULT_ACTION_BUCKET))):
            bucket = buckets.setdefault(name, [capacity, moment, capacity, rate / scale])
            bucket[0] = min(bucket[2], bucket[0] + (moment - bucket[1]) * bucket[3])
            bucket[1] = moment
            took.append(bucket)
        if all(bucket[0] >= 1 for bucket in took):
            for bucket in took:
                bucket[0] -= 1
        else:
            throttled.append(f"{at.isoformat()} {action}")
    return throttled


def busiest_minute(requests: list[tuple[datetime, str]], scale: float) -> float:
    """The most requests in any minute of AWS time, per AWS second."""
    window = 60 * scale
    times = [at.timestamp() for at, _ in requests]
    most = max((sum(1 for t in times if start <= t < start + window) for start in times),
               default=0)
    return most / 60


def assert_route53_within_budget(deployment: Deployment, log: list[dict[str, Any]],
                                 scale: float) -> None:
    """The drill's Route 53 API requests, from traffic start to stop, fit AWS's buckets with
    the margin the role's README budgets."""
    start = min(when(r["sent_at"]) for r in log if r["type"] == "request")
    end = when(next(r for r in log if r["type"] == "stop")["at"])
    requests = route53_requests(deployment.cloud, start, end)
    status_calls = [r for r in requests if r[1] == "GetHealthCheckStatus"]
    assert status_calls, "no GetHealthCheckStatus request in the local cloud's log"
    assert throttled_on_aws(requests, scale) == []
    assert busiest_minute(status_calls, scale) <= BUDGET["GetHealthCheckStatus"]
    assert busiest_minute(requests, scale) <= BUDGET["all"]
    assert deployment.cloud.status()["route53_api"]["throttled_requests"] == 0
    health = [r for r in log if r["type"] == "health"]
    assert health and not [r for r in health if r.get("throttled")]


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
    # Detection is when the zone's name servers first answered with the secondary's target.
    log = traffic_log(report, deployment.reports)
    answers = [s for s in log if s["type"] == "dns" and not s.get("error")]
    switched = min((s for s in answers if s["label"] == "SECONDARY" and when(s["at"]) >= fault),
                   key=lambda s: when(s["at"]))
    assert report["dns_switched_at"] == switched["at"]
    assert report["detection_seconds"] == pytest.approx(
        (when(switched["at"]) - fault).total_seconds(), abs=0.001)
    targets = deployment.alias_targets()
    assert switched["server"] == f"127.0.0.1:{deployment.cloud.dns_port}"
    assert switched["answer"] == deployment.dig(targets["SECONDARY"])
    before = [s for s in answers if when(s["at"]) < fault]
    assert before and {s["label"] for s in before} == {"PRIMARY"}
    assert before[-1]["answer"] == deployment.dig(targets["PRIMARY"])
    assert when(report["dns_back_at"]) >= when(report["restore_started_at"])
    # Route 53 declares a check unhealthy after failure_threshold failed probes request_interval
    # apart; the first can come right after the fault, so not before (threshold - 1) intervals.
    check = report["health_check"]
    earliest = (check["failure_threshold"] - 1) * check["request_interval"] * check["time_scale"]
    assert report["detection_seconds"] >= earliest * 0.9
    # GetHealthCheckStatus's view is reported beside it, and every sample is accounted for.
    assert report["route53_reported_unhealthy_seconds"] is not None
    assert report["samples"]["dns"]["taken"] == len([s for s in log if s["type"] == "dns"])
    assert report["samples"]["dns"]["failed"] == report["samples"]["health"]["throttled"] == 0
    assert_route53_within_budget(deployment, log, check["time_scale"])

    # The primary is back exactly as deployed, serving the custom domain.
    stage_after = deployment.stage(PRIMARY)
    assert stage_after["deploymentId"] == stage_before["deploymentId"]
    assert stage_after["methodSettings"] == stage_before["methodSettings"]
    assert stage_after.get("accessLogSettings") == stage_before.get("accessLogSettings")
    # CloudFormation's system tags (aws:cloudformation:*) were on the stage: API Gateway refuses
    # them from clients, so the restore gave back the others only.
    assert stage_before["tags"]["aws:cloudformation:logical-id"] == "ApiStage"
    assert stage_after["tags"] == {k: v for k, v in stage_before["tags"].items()
                                   if not k.startswith("aws:")}
    assert deployment.answering_region() == PRIMARY
    assert not deployment.pending_restore().exists()
    assert deployment.drift(PRIMARY) == "IN_SYNC"


def test_planned_drill_inverts_and_restores_the_health_check_whatever_profile_is_exported(
        deployment: Deployment) -> None:
    # drillkit gets the local cloud's keys next to an AWS_PROFILE of a real account that this
    # machine does not have. (Exported in the shell, such a profile stops Ansible's AWS modules
    # before the role runs: botocore resolves it in every session; preflight reports that.)
    drillkit_environment = {"AWS_ENDPOINT_URL": deployment.cloud.url,
                            "AWS_ACCESS_KEY_ID": "localcloud",
                            "AWS_SECRET_ACCESS_KEY": "localcloud",
                            "AWS_PROFILE": "no-such-profile"}
    run = deployment.drill("-e", "drill_mode=planned", "-e", json.dumps(
        {"failover_drill_aws_environment": drillkit_environment}))
    assert run.returncode == 0, run.stdout[-8000:]
    report = json.loads((deployment.reports / "latest.json").read_text())
    assert (report["verdict"], report["mode"], report["traffic"]["lost"]) == (
        "pass", "planned", 0)
    log = traffic_log(report, deployment.reports)
    assert not [r for r in log if r["type"] == "health" and r.get("error")]
    switched = [s for s in log if s["type"] == "dns" and s["label"] == "SECONDARY"
                and when(s["at"]) >= when(report["fault_injected_at"])]
    assert report["dns_switched_at"] == min(switched, key=lambda s: when(s["at"]))["at"]
    assert_route53_within_budget(deployment, log, report["health_check"]["time_scale"])
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


def test_restore_reports_drift_it_cannot_repair_and_says_deploy_does_not_either(
        deployment: Deployment) -> None:
    """A stage changed out of band is drift restore.yml reports; the advice must be true:
    deploy.yml leaves it (CloudFormation answers an unchanged template with "No updates are to
    be performed"), putting the setting back does not."""
    apigateway = deployment.cloud.client("apigateway", PRIMARY)
    api_id = deployment.api_id(PRIMARY)
    before = deployment.stage(PRIMARY)["methodSettings"]["*/*"]["throttlingRateLimit"]
    apigateway.update_stage(restApiId=api_id, stageName=STAGE, patchOperations=[
        {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "1"}])
    try:
        restored = deployment.restore()
        said = " ".join(restored.stdout.split())
        assert restored.returncode == 0, restored.stdout[-6000:]
        assert "CloudFormation drift left: primary ApiStage MODIFIED." in said
        assert "describe-stack-resource-drifts" in said
        assert "deploy.yml does not repair drift" in said

        redeployed = run_playbook("playbooks/deploy.yml", deployment.cloud, "--tags", "stacks")
        assert redeployed.returncode == 0, redeployed.stdout[-6000:]
        assert deployment.drift(PRIMARY) == "DRIFTED"
    finally:
        apigateway.update_stage(restApiId=api_id, stageName=STAGE, patchOperations=[
            {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": str(before)}])
    assert deployment.drift(PRIMARY) == "IN_SYNC"
