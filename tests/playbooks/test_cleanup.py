"""playbooks/cleanup.yml on a local cloud of the test's own, after playbooks/deploy.yml.

The steps follow each other as an operator would take them: list without confirmation, refuse
a wrong confirmation, a failed backup or a name prefix another deployment shares, tear down,
run again, deploy again, and a teardown that CloudFormation cannot finish (a table with
deletion protection) that names its blocker and finishes once it is fixed.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ansible_run import BIN, REPO, ansible_env, recap, run_playbook
from conftest import PRIMARY, SECONDARY, LocalCloudProcess

DEPLOYMENT = "evfail"          # inventories/local/group_vars/all/main.yml
DOMAIN = "api.example.com"
ZONE = "example.com"
TABLE = f"{DEPLOYMENT}-events"
REGIONS = (PRIMARY, SECONDARY)


def run_cleanup(cloud: LocalCloudProcess, *args: str) -> subprocess.CompletedProcess[str]:
    """cleanup.yml as a script runs it: stdin is no terminal, so it never waits at the prompt."""
    return subprocess.run(
        [str(BIN / "ansible-playbook"), "playbooks/cleanup.yml", *args],
        cwd=REPO, capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL,
        env=ansible_env(cloud),
    )


def said(run: subprocess.CompletedProcess[str]) -> str:
    """The run's output with Ansible's line wrapping undone."""
    return " ".join(run.stdout.split())


def aws(cloud: LocalCloudProcess, region: str, *args: str) -> Any:
    """The unmodified aws CLI against the local cloud."""
    proc = subprocess.run(
        [str(BIN / "aws"), "--endpoint-url", cloud.url, "--region", region, "--output", "json",
         *args],
        capture_output=True, text=True, timeout=60,
        env={"AWS_ACCESS_KEY_ID": "localcloud", "AWS_SECRET_ACCESS_KEY": "localcloud",
             "PATH": str(BIN)},
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout or "null")


def ours(name: str) -> bool:
    return name == DEPLOYMENT or name.startswith(DEPLOYMENT + "-")


def region_view(cloud: LocalCloudProcess, region: str) -> dict[str, Any]:
    def c(service: str) -> Any:
        return cloud.client(service, region)

    tables = c("dynamodb").list_tables()["TableNames"]
    return {
        "stacks": sorted((s["StackName"], s["StackStatus"])
                         for s in c("cloudformation").describe_stacks()["Stacks"]),
        "tables": sorted(tables),
        "queues": sorted(c("sqs").list_queues().get("QueueUrls", [])),
        "functions": sorted(f["FunctionName"] for f in c("lambda").list_functions()["Functions"]),
        "apis": sorted(a["name"] for a in c("apigateway").get_rest_apis()["items"]),
        "domains": sorted(d["domainName"] for d in c("apigateway").get_domain_names()["items"]),
        "log_groups": sorted(g["logGroupName"]
                             for g in c("logs").describe_log_groups()["logGroups"]),
        "item_count": (c("dynamodb").scan(TableName=TABLE, Select="COUNT")["Count"]
                       if TABLE in tables else None),
    }


def view(cloud: LocalCloudProcess) -> dict[str, Any]:
    """What of the deployment exists, read with boto3 (compared before and after a run)."""
    found: dict[str, Any] = {region: region_view(cloud, region) for region in REGIONS}
    route53 = cloud.client("route53")
    zone_id = route53.list_hosted_zones_by_name(DNSName=ZONE)["HostedZones"][0]["Id"]
    found["buckets"] = sorted(b["Name"] for b in cloud.client("s3").list_buckets()["Buckets"])
    found["health_checks"] = sorted(c["Id"]
                                    for c in route53.list_health_checks()["HealthChecks"])
    found["records"] = sorted(
        (r["Name"], r["Type"], r.get("SetIdentifier", ""))
        for r in route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
        if r["Name"] == f"{DOMAIN}.")
    found["roles"] = sorted(r["RoleName"] for r in cloud.client("iam").list_roles()["Roles"])
    return found


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory):
    """The project deployed, with what a deployment gathers while it runs: events in the
    table, an execution log group API Gateway made, and versions in a versioned bucket."""
    cloud = LocalCloudProcess(tmp_path_factory.mktemp("cleanup"), time_scale=0.1)
    cloud.start()
    try:
        first = run_playbook("playbooks/deploy.yml", cloud)
        assert first.returncode == 0, first.stdout[-6000:]
        ddb = cloud.client("dynamodb", PRIMARY)
        for n in range(6):
            ddb.put_item(TableName=TABLE, Item={"id": {"S": f"event-{n}"}, "n": {"N": str(n)}})
        api_id = next(a["id"] for a in cloud.client("apigateway", SECONDARY)
                      .get_rest_apis()["items"] if a["name"] == f"{DEPLOYMENT}-api")
        cloud.client("logs", SECONDARY).create_log_group(
            logGroupName=f"API-Gateway-Execution-Logs_{api_id}/Prod")
        s3 = cloud.client("s3", PRIMARY)
        bucket = next(b["Name"] for b in s3.list_buckets()["Buckets"]
                      if b["Name"].startswith(f"{DEPLOYMENT}-artifacts-")
                      and b["Name"].endswith(PRIMARY))
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        for body in (b"first", b"second"):
            s3.put_object(Bucket=bucket, Key="notes/runbook.txt", Body=body)
        s3.delete_object(Bucket=bucket, Key="notes/runbook.txt")
        yield cloud
    finally:
        cloud.stop()


def test_without_confirmation_it_lists_and_deletes_nothing(deployed, tmp_path: Path) -> None:
    before = view(deployed)
    listed = run_cleanup(deployed, "-e", f"cleanup_backup_dir={tmp_path}")
    assert listed.returncode == 0, listed.stdout[-6000:]
    assert recap(listed.stdout)["region-primary"]["changed"] == 0
    for line in (f"{PRIMARY} CloudFormation stack {DEPLOYMENT}-primary (CREATE_COMPLETE)",
                 f"{SECONDARY} CloudFormation stack {DEPLOYMENT}-secondary (CREATE_COMPLETE)",
                 f"{PRIMARY} DynamoDB table {TABLE}",
                 f"global Route 53 record {DOMAIN}. (A {DEPLOYMENT}-primary)",
                 f"{SECONDARY} log group API-Gateway-Execution-Logs_",
                 f"{PRIMARY} S3 bucket {DEPLOYMENT}-artifacts-"):
        assert line in listed.stdout
    assert "resources would be deleted" in said(listed)
    assert f"playbooks/cleanup.yml -e confirm_cleanup={DEPLOYMENT}" in said(listed)
    assert view(deployed) == before
    assert list(tmp_path.iterdir()) == []


def test_a_wrong_confirmation_is_refused(deployed, tmp_path: Path) -> None:
    before = view(deployed)
    refused = run_cleanup(deployed, "-e", "confirm_cleanup=evfial",
                          "-e", f"cleanup_backup_dir={tmp_path}")
    assert refused.returncode != 0
    assert f"is not the deployment's name {DEPLOYMENT}: nothing was deleted" in said(refused)
    assert view(deployed) == before
    assert list(tmp_path.iterdir()) == []


def test_a_failed_backup_deletes_nothing(deployed, tmp_path: Path) -> None:
    before = view(deployed)
    not_a_folder = tmp_path / "backups"
    not_a_folder.write_text("a file where the backup folder should be\n")
    failed = run_cleanup(deployed, "-e", f"confirm_cleanup={DEPLOYMENT}",
                         "-e", f"cleanup_backup_dir={not_a_folder}/{DEPLOYMENT}")
    assert failed.returncode != 0
    assert "Create the backup folder" in failed.stdout
    assert view(deployed) == before


def test_a_prefix_another_deployment_shares_is_refused(deployed, tmp_path: Path) -> None:
    cfn = deployed.client("cloudformation", PRIMARY)
    other = f"{DEPLOYMENT}-eu-primary"  # another deployment, named evfail-eu
    cfn.create_stack(StackName=other, TemplateBody=json.dumps({"Resources": {"Queue": {
        "Type": "AWS::SQS::Queue", "Properties": {"QueueName": "evfail-eu-queue"}}}}))
    try:
        before = view(deployed)
        refused = run_cleanup(deployed, "-e", f"confirm_cleanup={DEPLOYMENT}",
                              "-e", f"cleanup_backup_dir={tmp_path}")
        assert refused.returncode != 0
        assert (f"Stacks {other} ({PRIMARY}) are not this deployment's "
                f"({DEPLOYMENT}-secondary, {DEPLOYMENT}-primary) but share its name prefix "
                f"{DEPLOYMENT}-") in said(refused)
        assert view(deployed) == before
        assert list(tmp_path.iterdir()) == []
    finally:
        cfn.delete_stack(StackName=other)


@pytest.fixture(scope="module")
def cleaned(deployed, tmp_path_factory: pytest.TempPathFactory):
    backups = tmp_path_factory.mktemp("backups")
    items = deployed.client("dynamodb", PRIMARY).scan(TableName=TABLE)["Items"]
    run = run_cleanup(deployed, "-e", f"confirm_cleanup={DEPLOYMENT}",
                      "-e", f"cleanup_backup_dir={backups}")
    assert run.returncode == 0, run.stdout[-8000:]
    return deployed, run, backups, items


def test_the_backup_holds_every_item_of_the_table(cleaned) -> None:
    _, run, backups, items = cleaned
    (export,) = backups.glob(f"{TABLE}-*.json")
    assert export.name.endswith("Z.json")
    document = json.loads(export.read_text())
    assert document["item_count"] == len(items) == len(document["items"])
    assert sorted(item["id"] for item in document["items"]) == sorted(
        item["id"]["S"] for item in items)
    assert f"{export}, {len(items)} items" in said(run)


def test_the_aws_cli_finds_nothing_of_the_deployment(cleaned) -> None:
    cloud, run, _, _ = cleaned
    assert f"Deployment {DEPLOYMENT} is gone from {PRIMARY}, {SECONDARY}" in said(run)
    for region in REGIONS:
        stacks = aws(cloud, region, "cloudformation", "list-stacks")["StackSummaries"]
        assert [s["StackName"] for s in stacks
                if ours(s["StackName"]) and s["StackStatus"] != "DELETE_COMPLETE"] == []
        assert aws(cloud, region, "dynamodb", "list-tables")["TableNames"] == []
        assert aws(cloud, region, "sqs", "list-queues") is None  # no QueueUrls at all
        assert [f["FunctionName"] for f in aws(cloud, region, "lambda",
                                               "list-functions")["Functions"]] == []
        assert aws(cloud, region, "apigateway", "get-rest-apis")["items"] == []
        assert aws(cloud, region, "apigateway", "get-domain-names")["items"] == []
        assert [b["Name"] for b in aws(cloud, region, "events",
                                       "list-event-buses")["EventBuses"]] == ["default"]
        assert aws(cloud, region, "logs", "describe-log-groups")["logGroups"] == []
    assert aws(cloud, PRIMARY, "route53", "list-health-checks")["HealthChecks"] == []
    assert [b["Name"] for b in aws(cloud, PRIMARY, "s3api", "list-buckets")["Buckets"]
            if ours(b["Name"])] == []
    assert [r["RoleName"] for r in aws(cloud, PRIMARY, "iam", "list-roles")["Roles"]
            if ours(r["RoleName"])] == []
    # Kept: the hosted zone (without the deployment's records), the certificates, the cloud.
    (zone,) = aws(cloud, PRIMARY, "route53", "list-hosted-zones-by-name",
                  "--dns-name", ZONE)["HostedZones"][:1]
    records = aws(cloud, PRIMARY, "route53", "list-resource-record-sets",
                  "--hosted-zone-id", zone["Id"])["ResourceRecordSets"]
    assert zone["Name"] == f"{ZONE}."
    assert sorted(r["Type"] for r in records) == ["NS", "SOA"]
    for region in REGIONS:
        certificates = aws(cloud, region, "acm", "list-certificates")["CertificateSummaryList"]
        assert [c["DomainName"] for c in certificates] == [DOMAIN]
    assert cloud.status()["pid"]


def test_a_second_run_has_nothing_to_do(cleaned) -> None:
    cloud, _, backups, _ = cleaned
    again = run_cleanup(cloud, "-e", f"confirm_cleanup={DEPLOYMENT}",
                        "-e", f"cleanup_backup_dir={backups}")
    assert again.returncode == 0, again.stdout[-6000:]
    assert recap(again.stdout)["region-primary"]["changed"] == 0
    assert f"Nothing to do: nothing of deployment {DEPLOYMENT} is left" in said(again)
    assert len(list(backups.iterdir())) == 1


@pytest.fixture(scope="module")
def redeployed(cleaned):
    cloud = cleaned[0]
    run = run_playbook("playbooks/deploy.yml", cloud)
    assert run.returncode == 0, run.stdout[-6000:]
    return cloud, run


def test_deploy_works_again_after_the_cleanup(redeployed) -> None:
    cloud, run = redeployed
    assert "us-east-1 answered; event" in run.stdout  # the smoke test went through
    assert ("evfail-primary", "CREATE_COMPLETE") in view(cloud)[PRIMARY]["stacks"]


def test_delete_failed_names_the_blocking_resource_and_a_rerun_finishes(
        redeployed, tmp_path: Path) -> None:
    cloud, _ = redeployed
    ddb = cloud.client("dynamodb", PRIMARY)
    ddb.put_item(TableName=TABLE, Item={"id": {"S": "kept-through-the-failure"}})
    ddb.update_table(TableName=TABLE, DeletionProtectionEnabled=True)

    blocked = run_cleanup(cloud, "-e", f"confirm_cleanup={DEPLOYMENT}",
                          "-e", f"cleanup_backup_dir={tmp_path}")
    assert blocked.returncode != 0
    assert (f"Stack {DEPLOYMENT}-primary in {PRIMARY} is DELETE_FAILED; these resources block "
            f"its delete: EventsTable (AWS::DynamoDB::GlobalTable {TABLE})") in said(blocked)
    assert "DeletionProtectionEnabled is set to True" in said(blocked)
    state = view(cloud)
    assert state[PRIMARY]["stacks"] == [(f"{DEPLOYMENT}-primary", "DELETE_FAILED")]
    assert state[SECONDARY]["stacks"] == []  # deleted first, as it should be
    assert state[PRIMARY]["item_count"] == state[SECONDARY]["item_count"] >= 2

    ddb.update_table(TableName=TABLE, DeletionProtectionEnabled=False)
    finished = run_cleanup(cloud, "-e", f"confirm_cleanup={DEPLOYMENT}",
                           "-e", f"cleanup_backup_dir={tmp_path}")
    assert finished.returncode == 0, finished.stdout[-6000:]
    assert f"{PRIMARY} CloudFormation stack {DEPLOYMENT}-primary (DELETE_FAILED)" in finished.stdout
    state = view(cloud)
    for region in REGIONS:
        assert [s for s in state[region]["stacks"] if ours(s[0])] == []
        assert state[region]["tables"] == []
    assert [b for b in state["buckets"] if ours(b)] == []
    exports = sorted(tmp_path.glob(f"{TABLE}-*.json"))
    assert len(exports) == 2  # one per run: the table was backed up again before the retry
    last = json.loads(exports[-1].read_text())
    assert "kept-through-the-failure" in [item["id"] for item in last["items"]]
