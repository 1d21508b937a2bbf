"""playbooks/deploy.yml on a local cloud of the test's own: what an operator would check."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import urllib.request
from pathlib import Path

import pytest
from ansible_run import BIN, ansible_env, recap, run_playbook
from conftest import PRIMARY, REPO, SECONDARY, LocalCloudProcess

DEPLOYMENT = "evfail"          # inventories/local/group_vars/all/main.yml
DOMAIN = "api.example.com"


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory):
    cloud = LocalCloudProcess(tmp_path_factory.mktemp("deploy"), time_scale=0.1)
    cloud.start()
    try:
        first = run_playbook("playbooks/deploy.yml", cloud)
        assert first.returncode == 0, first.stdout[-6000:]
        yield cloud, first
    finally:
        cloud.stop()


def aws(cloud: LocalCloudProcess, region: str, *args: str) -> dict:
    proc = subprocess.run(
        [str(BIN / "aws"), "--endpoint-url", cloud.url, "--region", region, "--output", "json",
         *args],
        capture_output=True, text=True, timeout=60,
        env={"AWS_ACCESS_KEY_ID": "localcloud", "AWS_SECRET_ACCESS_KEY": "localcloud",
             "PATH": str(BIN)},
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout or "{}")


def test_first_deploy_changes_both_regions(deployed) -> None:
    _, first = deployed
    counts = recap(first.stdout)
    assert counts["region-primary"]["changed"] > 0
    assert counts["region-secondary"]["changed"] > 0
    assert "us-east-1 answered; event" in first.stdout


def test_aws_cli_sees_the_whole_deployment(deployed) -> None:
    cloud, _ = deployed
    for region, role in ((PRIMARY, "primary"), (SECONDARY, "secondary")):
        stack = aws(cloud, region, "cloudformation", "describe-stacks",
                    "--stack-name", f"{DEPLOYMENT}-{role}")["Stacks"][0]
        assert stack["StackStatus"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE")
        table = aws(cloud, region, "dynamodb", "describe-table",
                    "--table-name", f"{DEPLOYMENT}-events")["Table"]
        assert table["TableStatus"] == "ACTIVE"
        other = SECONDARY if region == PRIMARY else PRIMARY
        assert [r["RegionName"] for r in table["Replicas"]] == [other]

    checks = aws(cloud, PRIMARY, "route53", "list-health-checks")["HealthChecks"]
    ours = [c for c in checks if c["HealthCheckConfig"].get("ResourcePath") == "/Prod/health"]
    assert len(ours) == 2
    for check in ours:
        config = check["HealthCheckConfig"]
        assert (config["Type"], config["Port"], config["RequestInterval"],
                config["FailureThreshold"], config["EnableSNI"], config["Inverted"]) == (
            "HTTPS", 443, 30, 3, True, False)
        assert config["FullyQualifiedDomainName"].endswith(".amazonaws.com")

    zone = aws(cloud, PRIMARY, "route53", "list-hosted-zones-by-name",
               "--dns-name", "example.com")["HostedZones"][0]
    records = aws(cloud, PRIMARY, "route53", "list-resource-record-sets",
                  "--hosted-zone-id", zone["Id"])["ResourceRecordSets"]
    failover = {r["Failover"]: r for r in records if r["Name"] == f"{DOMAIN}." and "Failover" in r}
    assert set(failover) == {"PRIMARY", "SECONDARY"}
    assert {r["HealthCheckId"] for r in failover.values()} == {c["Id"] for c in ours}
    assert ".execute-api.us-east-1." in failover["PRIMARY"]["AliasTarget"]["DNSName"]
    assert ".execute-api.us-west-2." in failover["SECONDARY"]["AliasTarget"]["DNSName"]


def test_custom_domain_answers_from_the_primary(deployed) -> None:
    cloud, _ = deployed
    request = urllib.request.Request(
        f"{cloud.url}/", method="POST",
        headers={"Host": DOMAIN, "Content-Type": "application/json"},
        data=json.dumps({"Source": "test", "DetailType": "Check", "Detail": {"n": 1}}).encode())
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["X-Region"] == PRIMARY
        assert json.loads(response.read())["eventId"]


def test_status_summarises_stacks_health_checks_and_the_answering_region(deployed) -> None:
    cloud, _ = deployed
    run = run_playbook("playbooks/status.yml", cloud)
    assert run.returncode == 0, run.stdout[-6000:]
    said = " ".join(run.stdout.split())  # the YAML callback may fold a long line
    assert f"primary {PRIMARY}: stack CREATE_COMPLETE, API " in said, run.stdout[-3000:]
    assert f"secondary {SECONDARY}: stack CREATE_COMPLETE, API " in said
    for role, region in (("primary", PRIMARY), ("secondary", SECONDARY)):
        # found by its Name tag, whatever the play's region; healthy once the checkers probed
        assert f"{role} health check " in said
        assert f".execute-api.{region}.amazonaws.com/Prod/health: healthy" in said, \
            run.stdout[-3000:]
    assert f"{DOMAIN}/health: 200 from {PRIMARY}" in said


def test_second_deploy_changes_nothing(deployed) -> None:
    cloud, _ = deployed
    second = run_playbook("playbooks/deploy.yml", cloud)
    assert second.returncode == 0, second.stdout[-6000:]
    assert {host: counts["changed"] for host, counts in recap(second.stdout).items()} == {
        "region-primary": 0, "region-secondary": 0}


def test_check_mode_reports_and_changes_nothing(deployed) -> None:
    cloud, _ = deployed
    before = aws(cloud, PRIMARY, "cloudformation", "describe-stack-events",
                 "--stack-name", f"{DEPLOYMENT}-primary")["StackEvents"]
    dry = run_playbook("playbooks/deploy.yml", cloud, "--check", "--diff")
    assert dry.returncode == 0, dry.stdout[-6000:]
    assert all(counts["changed"] == 0 for counts in recap(dry.stdout).values())
    after = aws(cloud, PRIMARY, "cloudformation", "describe-stack-events",
                "--stack-name", f"{DEPLOYMENT}-primary")["StackEvents"]
    assert len(after) == len(before)


def test_a_code_change_ships_as_a_new_artifact(deployed, tmp_path: Path) -> None:
    cloud, _ = deployed
    lam = cloud.client("lambda", PRIMARY)
    function = f"{DEPLOYMENT}-processor"
    before = lam.get_function(FunctionName=function)["Configuration"]["CodeSha256"]

    changed_source = tmp_path / "processor"
    shutil.copytree(REPO / "lambda" / "processor", changed_source,
                    ignore=shutil.ignore_patterns("__pycache__"))
    with open(changed_source / "app.py", "a") as handle:
        handle.write("\n# a code change\n")
    run = run_playbook("playbooks/deploy.yml", cloud, "--tags", "stacks",
                       "-e", f"lambda_artifact_source_dir={changed_source}",
                       "-e", f"lambda_artifact_build_dir={tmp_path / 'build'}")
    assert run.returncode == 0, run.stdout[-4000:]
    assert recap(run.stdout)["region-primary"]["changed"] > 0
    for region in (PRIMARY, SECONDARY):
        config = cloud.client("lambda", region).get_function(FunctionName=function)["Configuration"]
        assert config["CodeSha256"] != before


def failover_records(cloud: LocalCloudProcess) -> tuple[str, list[dict]]:
    route53 = cloud.client("route53")
    zone = route53.list_hosted_zones_by_name(DNSName="example.com")["HostedZones"][0]["Id"]
    records = route53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
    return zone, [r for r in records if r["Name"] == f"{DOMAIN}." and "Failover" in r]


def change_records(cloud: LocalCloudProcess, action: str, zone: str, records: list[dict]) -> None:
    cloud.client("route53").change_resource_record_sets(HostedZoneId=zone, ChangeBatch={
        "Changes": [{"Action": action, "ResourceRecordSet": r} for r in records]})


def test_the_smoke_test_waits_for_a_custom_domain_that_answers_late(deployed) -> None:
    """As after a first deploy whose resolver still holds the name's NXDOMAIN: the name does not
    resolve at first, then does; the smoke test waits (bounded) instead of failing."""
    cloud, _ = deployed
    zone, records = failover_records(cloud)
    assert len(records) == 2
    change_records(cloud, "DELETE", zone, records)
    process = subprocess.Popen(
        [str(BIN / "ansible-playbook"), "playbooks/deploy.yml", "--tags", "smoke",
         "-e", "smoke_test_ready_delay=1"],
        cwd=REPO, env=ansible_env(cloud), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)
    output, restore = [], None
    for line in process.stdout:
        output.append(line)
        # The name answers a few tries after the smoke test began to wait for it.
        if restore is None and "TASK [smoke_test : Wait until the custom domain" in line:
            restore = threading.Timer(3.0, change_records, (cloud, "CREATE", zone, records))
            restore.start()
    process.wait(timeout=600)
    if restore is None:
        change_records(cloud, "CREATE", zone, records)
    else:
        restore.join()
    said = "".join(output)

    assert process.returncode == 0, said[-4000:]
    assert "us-east-1 answered; event" in said
    assert "FAILED - RETRYING: [region-primary]: Wait until the custom domain resolves" in said


def test_the_smoke_test_names_a_custom_domain_that_never_answers(deployed) -> None:
    cloud, _ = deployed
    zone, records = failover_records(cloud)
    change_records(cloud, "DELETE", zone, records)
    try:
        run = run_playbook("playbooks/deploy.yml", cloud, "--tags", "smoke",
                           "-e", "smoke_test_ready_timeout=3", "-e", "smoke_test_ready_delay=1")
    finally:
        change_records(cloud, "CREATE", zone, records)
    said = " ".join(run.stdout.split())
    assert run.returncode != 0
    assert f"{cloud.url}/health (Host {DOMAIN}) did not answer 200 within 3 s" in said
    assert "may still hold the NXDOMAIN it cached before the record existed" in said
    assert "POST an event through the custom domain" not in run.stdout


def test_a_changed_api_is_deployed_to_the_stage_in_the_same_run(deployed, tmp_path: Path) -> None:
    """CloudFormation does not recreate a deployment when the API's Body changes; the stage
    must serve the changed API after one run of deploy.yml, in both regions."""
    cloud, _ = deployed
    template = tmp_path / "regional.yml"
    original = '{"status": "healthy", "region": "${AWS::Region}"}'
    changed = '{"status": "healthy", "region": "${AWS::Region}", "revision": 2}'
    text = (REPO / "files" / "regional.yml").read_text()
    assert text.count(original) == 1
    template.write_text(text.replace(original, changed))

    run = run_playbook("playbooks/deploy.yml", cloud, "--tags", "stacks",
                       "-e", f"regional_stack_template={template}")

    assert run.returncode == 0, run.stdout[-4000:]
    for region, role in ((PRIMARY, "primary"), (SECONDARY, "secondary")):
        outputs = {o["OutputKey"]: o["OutputValue"] for o in aws(
            cloud, region, "cloudformation", "describe-stacks",
            "--stack-name", f"{DEPLOYMENT}-{role}")["Stacks"][0]["Outputs"]}
        request = urllib.request.Request(f"{cloud.url}{outputs['HealthPath']}",
                                         headers={"Host": outputs["ExecuteApiHost"]})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.loads(response.read()) == {
                "status": "healthy", "region": region, "revision": 2}
        stage = aws(cloud, region, "apigateway", "get-stage", "--rest-api-id", outputs["ApiId"],
                    "--stage-name", outputs["StageName"])
        assert stage["deploymentId"] == outputs["DeploymentId"]
        deployments = aws(cloud, region, "apigateway", "get-deployments",
                          "--rest-api-id", outputs["ApiId"])["items"]
        assert [d["id"] for d in deployments] == [outputs["DeploymentId"]]
