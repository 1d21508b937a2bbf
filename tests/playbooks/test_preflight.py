"""playbooks/preflight.yml (alone and as deploy.yml's first play) on local clouds of the test's own.

Each broken precondition is made on the local cloud (a certificate deleted or replaced by one
for another domain, the hosted zone deleted, a stack left failed) or given with ``-e``; the
operator must see one line per problem, all in one run, and nothing of the deployment created.
"""

from __future__ import annotations

import datetime
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from ansible_run import REPO, recap, run_playbook
from conftest import PRIMARY, SECONDARY, LocalCloudProcess, wait_for
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

DEPLOYMENT = "evfail"          # inventories/local/group_vars/all/main.yml
DOMAIN = "api.example.com"
ZONE = "example.com"
SETTINGS = "inventories/local/group_vars/all"
# A resource type no CloudFormation knows: a stack of it fails.
FAILING_TEMPLATE = "Resources:\n  Thing:\n    Type: Test::Preflight::Unknown\n"


def bootstrapped(path: Path) -> LocalCloudProcess:
    """A local cloud with what a real account has (zone, certificates), as deploy's first play."""
    cloud = LocalCloudProcess(path, time_scale=0.05)
    cloud.start()
    run = run_playbook("playbooks/deploy.yml", cloud, "--tags", "bootstrap")
    if run.returncode != 0:
        cloud.stop()  # the fixture never gets to stop it
    assert run.returncode == 0, run.stdout[-4000:]
    return cloud


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudProcess]:
    cloud = bootstrapped(tmp_path_factory.mktemp("preflight"))
    try:
        yield cloud
    finally:
        cloud.stop()


@pytest.fixture
def broken_cloud(tmp_path: Path) -> Iterator[LocalCloudProcess]:
    cloud = bootstrapped(tmp_path / "broken")
    try:
        yield cloud
    finally:
        cloud.stop()


def problems(output: str) -> list[str]:
    """The lines of the preflight's report (the last one printed), without their dashes."""
    lines = output.splitlines()
    headers = [i for i, line in enumerate(lines) if line.strip().startswith("Preflight found ")]
    assert headers, output[-4000:]
    found = []
    for line in lines[headers[-1] + 1:]:
        if not line.strip().startswith("- "):
            break
        found.append(line.strip()[2:])
    assert lines[headers[-1]].strip() == (
        f"Preflight found {len(found)} problem(s); nothing was changed:")
    return found


def deployment_resources(cloud: LocalCloudProcess) -> dict[str, list[str]]:
    """What a deploy creates first: stacks, artifact buckets, health checks."""
    stacks = []
    for region in (PRIMARY, SECONDARY):
        summaries = cloud.client("cloudformation", region).list_stacks()["StackSummaries"]
        stacks += [f"{s['StackName']} {s['StackStatus']} {region}" for s in summaries
                   if s["StackStatus"] != "DELETE_COMPLETE"]
    buckets = [b["Name"] for b in cloud.client("s3").list_buckets()["Buckets"]]
    checks = [c["Id"] for c in cloud.client("route53").list_health_checks()["HealthChecks"]]
    return {"stacks": sorted(stacks), "buckets": buckets, "health_checks": checks}


NOTHING = {"stacks": [], "buckets": [], "health_checks": []}


def replace_certificate(cloud: LocalCloudProcess, region: str, domain: str | None) -> str | None:
    """Delete the region's certificates, then request one for ``domain`` (issued at once)."""
    acm = cloud.client("acm", region)
    for summary in acm.list_certificates()["CertificateSummaryList"]:
        acm.delete_certificate(CertificateArn=summary["CertificateArn"])
    if domain is None:
        return None
    return acm.request_certificate(DomainName=domain, ValidationMethod="DNS")["CertificateArn"]


def import_certificate(cloud: LocalCloudProcess, region: str, domain: str,
                       valid_for: datetime.timedelta) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + valid_for)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain)]), critical=False)
        .sign(key, hashes.SHA256()))
    return cloud.client("acm", region).import_certificate(
        Certificate=certificate.public_bytes(serialization.Encoding.PEM),
        PrivateKey=key.private_bytes(serialization.Encoding.PEM,
                                     serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()))["CertificateArn"]


def failed_stack(cloud: LocalCloudProcess, region: str, name: str, on_failure: str) -> None:
    cfn = cloud.client("cloudformation", region)
    cfn.create_stack(StackName=name, TemplateBody=FAILING_TEMPLATE, OnFailure=on_failure)
    wait_for(lambda: not cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
             .endswith("IN_PROGRESS"), timeout=30, message=f"{name} to settle")


def test_preflight_passes_after_the_local_bootstrap(cloud: LocalCloudProcess) -> None:
    run = run_playbook("playbooks/preflight.yml", cloud)

    assert run.returncode == 0, run.stdout[-6000:]
    assert (f"Preflight passed: account 123456789012, regions {PRIMARY} and {SECONDARY}, "
            f"{DOMAIN}") in run.stdout.replace("\n        ", " ")


# What an operator of a real account typically has exported in the shell that runs the demo.
OPERATOR_SHELL = {
    "AWS_PROFILE": "operator-admin",
    "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",  # AWS's documented example key
    "AWS_SECRET_ACCESS_KEY": "operator-secret",
    "AWS_SESSION_TOKEN": "operator-session",
    "AWS_DEFAULT_REGION": "eu-central-1",
    "AWS_REGION": "eu-central-1",
}


def test_the_local_inventory_ignores_a_real_account_exported_in_the_shell(
        cloud: LocalCloudProcess, tmp_path: Path) -> None:
    """The AWS modules read AWS_PROFILE next to the local inventory's keys and refused both
    ("Passing both a profile and access tokens is not supported")."""
    config = tmp_path / "config"
    config.write_text("[profile operator-admin]\nregion = eu-central-1\n")
    run = run_playbook("playbooks/preflight.yml", cloud, AWS_CONFIG_FILE=str(config),
                       **OPERATOR_SHELL)

    assert run.returncode == 0, run.stdout[-6000:]
    assert "Passing both a profile and access tokens" not in run.stdout
    assert (f"Preflight passed: account 123456789012, regions {PRIMARY} and {SECONDARY}, "
            f"{DOMAIN}") in run.stdout.replace("\n        ", " ")
    assert {host: counts["changed"] for host, counts in recap(run.stdout).items()} == {
        "region-primary": 0, "region-secondary": 0}
    assert deployment_resources(cloud) == NOTHING


def test_broken_preconditions_give_one_line_each_all_together(
        broken_cloud: LocalCloudProcess) -> None:
    cloud = broken_cloud
    replace_certificate(cloud, PRIMARY, None)
    replace_certificate(cloud, SECONDARY, "other.example.net")
    route53 = cloud.client("route53")
    zone_id = route53.list_hosted_zones_by_name(DNSName=ZONE)["HostedZones"][0]["Id"]
    route53.delete_hosted_zone(Id=zone_id)
    failed_stack(cloud, PRIMARY, f"{DEPLOYMENT}-primary", "DO_NOTHING")
    failed_stack(cloud, SECONDARY, f"{DEPLOYMENT}-secondary", "ROLLBACK")
    before = deployment_resources(cloud)

    run = run_playbook("playbooks/preflight.yml", cloud)

    assert run.returncode != 0
    assert problems(run.stdout) == [
        f"hosted_zone_name: Route 53 has no hosted zone {ZONE}; create the public hosted zone "
        f"and delegate the domain to its name servers, or set an existing zone in "
        f"{SETTINGS}/main.yml",
        f"ACM certificate in {PRIMARY}: none covers {DOMAIN} (found: none); request or import "
        f"an ISSUED certificate for {DOMAIN} (or *.{ZONE}) in {PRIMARY}",
        f"ACM certificate in {SECONDARY}: none covers {DOMAIN} (found: other.example.net "
        f"ISSUED); request or import an ISSUED certificate for {DOMAIN} (or *.{ZONE}) in "
        f"{SECONDARY}",
        f"stack {DEPLOYMENT}-primary in {PRIMARY}: CREATE_FAILED; Its create failed without "
        "rollback; delete the stack, then run again.",
    ]
    # A stack deploy.yml replaces by itself is a note, not a problem.
    assert (f"Stack {DEPLOYMENT}-secondary in {SECONDARY} is ROLLBACK_COMPLETE (its first create "
            "failed, so CloudFormation cannot update it)") in run.stdout.replace("\n        ", " ")

    # Equal regions: one more line, shown with the others.
    equal = run_playbook("playbooks/preflight.yml", cloud, "-e", f"secondary_region={PRIMARY}")

    assert equal.returncode != 0
    assert problems(equal.stdout) == [
        f"secondary_region: equal to primary_region ({PRIMARY}); set two different regions in "
        f"{SETTINGS}/main.yml",
        problems(run.stdout)[0],
        problems(run.stdout)[1],
        problems(run.stdout)[3],
    ]
    assert deployment_resources(cloud) == before


def test_deploy_stops_at_preflight_before_creating_anything(cloud: LocalCloudProcess) -> None:
    run = run_playbook("playbooks/deploy.yml", cloud, "-e", f"secondary_region={PRIMARY}",
                       "-e", "health_check_failure_threshold=eleven")

    assert run.returncode != 0
    assert problems(run.stdout) == [
        'health_check_failure_threshold: "eleven" is not an integer (allowed: 1, 2, 3, 4, 5, '
        f"6, 7, 8, 9, 10); set it in {SETTINGS}/deployment.yml",
        f"secondary_region: equal to primary_region ({PRIMARY}); set two different regions in "
        f"{SETTINGS}/main.yml",
    ]
    assert "Build and upload the Lambda zip" not in run.stdout
    assert deployment_resources(cloud) == NOTHING


def test_a_region_without_the_api_gateway_logging_role_is_named_with_the_fix(
        broken_cloud: LocalCloudProcess) -> None:
    """A fresh account's regions have no API Gateway CloudWatch Logs role: the stage's access
    logging would be refused and the stack rolled back, unless the stacks set it."""
    cloud = broken_cloud
    run = run_playbook("playbooks/preflight.yml", cloud, "-e", "manage_apigateway_account=false")

    assert run.returncode != 0
    assert problems(run.stdout) == [
        f"API Gateway in {region} has no CloudWatch Logs role in its account settings, so it "
        "would refuse the stage's access logging and the stack would roll back; set "
        f"manage_apigateway_account: true in {SETTINGS}/deployment.yml (the stack then sets "
        f"it), or set a role once for the account and region (aws apigateway update-account "
        f"--region {region} --patch-operations op=replace,path=/cloudwatchRoleArn,value=<ARN "
        "of a role API Gateway can assume, with AmazonAPIGatewayPushToCloudWatchLogs>)"
        for region in (PRIMARY, SECONDARY)
    ]
    assert deployment_resources(cloud) == NOTHING

    # With a role set in the primary (as an operator would, once), only the secondary is named;
    # letting the stacks manage it notes that the primary's existing role would be replaced.
    iam = cloud.client("iam")
    role = iam.create_role(RoleName="apigateway-logs", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"},
            "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    cloud.client("apigateway", PRIMARY).update_account(patchOperations=[
        {"op": "replace", "path": "/cloudwatchRoleArn", "value": role}])
    one = run_playbook("playbooks/preflight.yml", cloud, "-e", "manage_apigateway_account=false")
    assert [line.split(" has no ")[0] for line in problems(one.stdout)] == [
        f"API Gateway in {SECONDARY}"]

    managed = run_playbook("playbooks/preflight.yml", cloud)
    assert managed.returncode == 0, managed.stdout[-4000:]
    assert (f"API Gateway in {PRIMARY} already writes logs with role {role}; with "
            "manage_apigateway_account true the stack replaces it") in " ".join(
                managed.stdout.split())


def test_missing_variable_and_wrong_type_are_named_before_any_change(
        cloud: LocalCloudProcess, tmp_path: Path) -> None:
    inventory = tmp_path / "inventory"
    shutil.copytree(REPO / "inventories" / "local", inventory)
    settings = inventory / "group_vars" / "all" / "main.yml"
    settings.write_text("\n".join(line for line in settings.read_text().splitlines()
                                  if not line.startswith("deployment_name:")) + "\n")

    run = run_playbook("playbooks/preflight.yml", cloud, "-i", str(inventory),
                       "-e", "log_retention_days=15", "-e", "api_throttling_burst_limit=9000")

    assert run.returncode != 0
    where = inventory / "group_vars" / "all"
    assert problems(run.stdout) == [
        f"deployment_name: not set; set it in {where}/main.yml (prefix of every stack and "
        "resource name)",
        'log_retention_days: "15" is not one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, '
        f"400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653; set it in "
        f"{where}/deployment.yml",
        "api_throttling_burst_limit: 9000 is out of range; set it between 1 and 5000 in "
        f"{where}/deployment.yml",
    ]
    assert "Traceback" not in run.stdout + run.stderr
    assert deployment_resources(cloud) == NOTHING


def test_on_aws_the_given_certificates_are_checked(cloud: LocalCloudProcess,
                                                   tmp_path: Path) -> None:
    """target_cloud=aws against the local cloud's endpoint, its DNS server as the resolver."""
    expiring = import_certificate(cloud, PRIMARY, DOMAIN, datetime.timedelta(days=5, hours=1))
    other = cloud.client("acm", SECONDARY).request_certificate(
        DomainName="other.example.net", ValidationMethod="DNS")["CertificateArn"]
    settings = yaml.safe_load((REPO / "inventories/aws/group_vars/all/main.yml").read_text())
    settings.update(primary_certificate_arn=expiring, secondary_certificate_arn=other,
                    aws_endpoint_url=cloud.url, aws_access_key="preflight",
                    aws_secret_key="preflight", aws_profile="")
    # The AWS modules' connection (the inventory's has no endpoint nor keys): the local cloud.
    settings["aws_connection"] = {
        "region": "{{ region | default(primary_region) }}", "endpoint_url": cloud.url,
        "access_key": "preflight", "secret_key": "preflight", "profile": ""}
    settings.update(deployment_name=DEPLOYMENT, custom_domain=DOMAIN, hosted_zone_name=ZONE)
    inventory = tmp_path / "aws"
    shutil.copytree(REPO / "inventories" / "aws", inventory)
    (inventory / "group_vars" / "all" / "main.yml").write_text(yaml.safe_dump(settings))
    dns = f"127.0.0.1:{cloud.status()['dns']['port']}"

    run = run_playbook("playbooks/preflight.yml", cloud, "-i", str(inventory),
                       "-e", f"preflight_dns_resolver={dns}",
                       "-e", f"preflight_dns_name_server={dns}")

    assert run.returncode != 0
    expiry = re.escape((datetime.datetime.now(datetime.UTC)
                        + datetime.timedelta(days=5, hours=1)).strftime("%Y-%m-%d"))
    where = inventory / "group_vars" / "all" / "main.yml"
    found = problems(run.stdout)
    assert len(found) == 4, found
    assert re.fullmatch(
        rf"primary_certificate_arn: {re.escape(expiring)} expires on {expiry} \(in 5 days, "
        rf"fewer than preflight_certificate_min_days 30\); renew or replace it and set the new "
        rf"ARN in {re.escape(str(where))}", found[0]), found[0]
    assert found[1] == (
        f"secondary_certificate_arn: {other} covers other.example.net, not {DOMAIN}; set the "
        f"ARN of a certificate for {DOMAIN} (or *.{ZONE}) in {SECONDARY} in {where}")
    # The aws inventory leaves the API Gateway CloudWatch role to the account; these regions
    # have none.
    assert [line.split(";")[0] for line in found[2:]] == [
        f"API Gateway in {region} has no CloudWatch Logs role in its account settings, so it "
        "would refuse the stage's access logging and the stack would roll back"
        for region in (PRIMARY, SECONDARY)]
    assert f"manage_apigateway_account: true in {where.parent}/deployment.yml" in found[2]
    assert deployment_resources(cloud) == NOTHING


def test_unusable_credentials_are_one_line_not_one_per_check(tmp_path: Path) -> None:
    """inventories/aws with a profile that does not exist: botocore refuses before any request."""
    run = run_playbook("playbooks/preflight.yml", None, "-i", "inventories/aws",
                       AWS_PROFILE="no-such-profile", AWS_CONFIG_FILE=str(tmp_path / "none"),
                       AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"))

    assert run.returncode != 0
    assert problems(run.stdout) == [
        "AWS credentials: Couldn't connect to AWS: The config profile (no-such-profile) could "
        "not be found; export AWS_PROFILE (or set aws_profile in "
        "inventories/aws/group_vars/all/main.yml) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
    ]
