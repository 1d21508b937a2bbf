"""Wrong inputs to the playbooks: a message naming the input and the fix, and nothing changed.

A deployment made with playbooks/deploy.yml on a local cloud of this module's own. Each run
gets one wrong input (a variable of the wrong type, an unknown drill mode, a required variable
missing from the inventory) and must stop with a message that names it, before it changes
anything: the stacks (status, events, parameters), the stages, the function's code, the table's
items, the buckets, the health checks and the records are exactly as before, and no drill
report or pending-restore record was written.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ansible_run import REPO, deployed_cloud, run_playbook
from conftest import PRIMARY, SECONDARY, LocalCloudProcess

DEPLOYMENT = "evfail"          # inventories/local/group_vars/all/main.yml
ZONE = "example.com"
SETTINGS = "inventories/local/group_vars/all"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudProcess]:
    with deployed_cloud(tmp_path_factory.mktemp("inputs"), time_scale=0.05) as cloud:
        yield cloud


def state(cloud: LocalCloudProcess) -> dict[str, Any]:
    """Everything a run could change, as the AWS APIs show it."""
    seen: dict[str, Any] = {}
    for region, role in ((PRIMARY, "primary"), (SECONDARY, "secondary")):
        cfn = cloud.client("cloudformation", region)
        stack = cfn.describe_stacks(StackName=f"{DEPLOYMENT}-{role}")["Stacks"][0]
        events = [e for page in cfn.get_paginator("describe_stack_events").paginate(
            StackName=f"{DEPLOYMENT}-{role}") for e in page["StackEvents"]]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
        stages = cloud.client("apigateway", region).get_stages(restApiId=outputs["ApiId"])["item"]
        function = cloud.client("lambda", region).get_function_configuration(
            FunctionName=outputs["FunctionName"])
        items = cloud.client("dynamodb", region).scan(
            TableName=outputs["TableName"], Select="COUNT")["Count"]
        seen[region] = {
            "stack": (stack["StackStatus"], str(stack.get("LastUpdatedTime")), len(events),
                      sorted((p["ParameterKey"], p["ParameterValue"])
                             for p in stack["Parameters"])),
            "stages": sorted((s["stageName"], s["deploymentId"]) for s in stages),
            "code": (function["CodeSha256"], function["LastModified"]),
            "items": items,
        }
    route53 = cloud.client("route53")
    zone = route53.list_hosted_zones_by_name(DNSName=ZONE)["HostedZones"][0]["Id"]
    seen["records"] = route53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
    seen["health_checks"] = sorted(
        (c["Id"], c["HealthCheckVersion"], c["HealthCheckConfig"].get("Inverted"))
        for c in route53.list_health_checks()["HealthChecks"])
    seen["buckets"] = sorted(b["Name"] for b in cloud.client("s3").list_buckets()["Buckets"])
    return seen


def error(output: str) -> str:
    """The message of the task that failed the run (Ansible's ``[ERROR]:`` line)."""
    lines = [line for line in output.splitlines() if line.startswith("[ERROR]: ")]
    assert lines, output[-4000:]
    return lines[-1].removeprefix("[ERROR]: Task failed: ").removeprefix("Action failed: ")


def problems(output: str) -> list[str]:
    """The lines of preflight's report: one per problem."""
    lines = output.splitlines()
    header = next(i for i, line in enumerate(lines)
                  if line.startswith("[ERROR]: Task failed: Action failed: Preflight found "))
    assert lines[header].endswith("problem(s); nothing was changed:"), lines[header]
    found = []
    for line in lines[header + 1:]:
        if not line.startswith("- "):
            return found
        found.append(line[2:])
    return found


def inventory_without(tmp_path: Path, *names: str) -> Path:
    """A copy of the local inventory with these deployment-wide variables removed."""
    inventory = tmp_path / "inventory"
    shutil.copytree(REPO / "inventories" / "local", inventory)
    settings = inventory / "group_vars" / "all" / "main.yml"
    settings.write_text("".join(line for line in settings.read_text().splitlines(True)
                                if line.split(":", 1)[0] not in names))
    return inventory


TUNING = f"{SETTINGS}/deployment.yml"
# Each wrong value, with what preflight must say after the variable's name. One run gets them
# all: preflight lists every problem at once.
WRONG_TYPES = {
    "queue_max_receive_count": ("two", f'"two" is not an integer; set it in {TUNING}'),
    "api_throttling_rate_limit": (12.5, f"12.5 is not an integer; set it in {TUNING}"),
    # A boolean is an int to Ansible's argument validation: CloudFormation would get "True".
    "log_retention_days": (
        True, "true is not an integer (allowed: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, "
        f"400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653); set it in {TUNING}"),
    "health_check_request_interval": (
        "fast", f'"fast" is not an integer (allowed: 10, 30); set it in {TUNING}'),
    "api_stage_name": (False, f"false is not a string; set it in {TUNING}"),
    "target_cloud": ("azure", f'"azure" is not one of local, aws; set it in {SETTINGS}/main.yml'),
}


def test_deploy_names_every_wrongly_typed_variable_and_changes_nothing(
        cloud: LocalCloudProcess) -> None:
    before = state(cloud)

    run = run_playbook("playbooks/deploy.yml", cloud, "-e", json.dumps(
        {name: value for name, (value, _) in WRONG_TYPES.items()}))

    assert run.returncode != 0
    assert sorted(problems(run.stdout)) == sorted(
        f"{name}: {line}" for name, (_, line) in WRONG_TYPES.items())
    assert "Build and upload the Lambda zip" not in run.stdout
    assert state(cloud) == before


def test_deploy_names_every_missing_variable_and_changes_nothing(
        cloud: LocalCloudProcess, tmp_path: Path) -> None:
    inventory = inventory_without(tmp_path, "primary_region", "custom_domain")
    before = state(cloud)

    run = run_playbook("playbooks/deploy.yml", cloud, "-i", str(inventory))

    assert run.returncode != 0
    where = inventory / "group_vars" / "all" / "main.yml"
    assert problems(run.stdout) == [
        f"primary_region: not set; set it in {where} (region that serves traffic while healthy "
        "(an AWS region name such as us-east-1))",
        f"custom_domain: not set; set it in {where} (the API's public name (lowercase DNS name), "
        "within hosted_zone_name)",
    ]
    assert state(cloud) == before


DRILL_INPUTS = {
    "drill_mode=sideways":
        "drill_mode must be unplanned or planned (got sideways): set it with -e drill_mode=...",
    "drill_rate=fast":
        "drill_rate must be a number of requests per second above 0 (got fast): set it with "
        "-e drill_rate=...",
    "drill_rate=0":
        "drill_rate must be a number of requests per second above 0 (got 0): set it with "
        "-e drill_rate=...",
}


@pytest.mark.parametrize("extra_vars", list(DRILL_INPUTS))
def test_drill_refuses_an_unknown_mode_or_rate_before_touching_anything(
        cloud: LocalCloudProcess, tmp_path: Path, extra_vars: str) -> None:
    before = state(cloud)
    reports = tmp_path / "reports"

    run = run_playbook("playbooks/failover_drill.yml", cloud, "-e", extra_vars,
                       "-e", f"failover_drill_report_dir={reports}")

    assert run.returncode != 0
    assert error(run.stdout) == DRILL_INPUTS[extra_vars]
    # No baseline event sent, no fault, no report or pending-restore record written.
    assert state(cloud) == before
    assert not reports.exists()


@pytest.mark.parametrize("playbook", ["failover_drill", "restore", "cleanup"])
def test_a_missing_variable_stops_the_run_before_any_change(
        cloud: LocalCloudProcess, tmp_path: Path, playbook: str) -> None:
    """Even a confirmed cleanup deletes nothing when a setting is missing."""
    inventory = inventory_without(tmp_path, "custom_domain")
    before = state(cloud)
    reports = tmp_path / "reports"

    run = run_playbook(f"playbooks/{playbook}.yml", cloud, "-i", str(inventory),
                       "-e", f"failover_drill_report_dir={reports}",
                       "-e", f"confirm_cleanup={DEPLOYMENT}",
                       "-e", f"cleanup_backup_dir={tmp_path / 'backups'}")

    assert run.returncode != 0
    assert error(run.stdout) == "'custom_domain' is undefined"
    assert state(cloud) == before
    assert not reports.exists()
    assert not (tmp_path / "backups").exists()
