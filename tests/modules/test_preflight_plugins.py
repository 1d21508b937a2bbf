"""failover.aws.preflight_variables and failover.aws.preflight_report as Ansible runs them: the
variables come from the play (evaluated by Ansible, strings from -e), the results and paths from
the task. The rules themselves are tested in test_preflight_rules.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_run import BIN, REPO, ansible_env

SETTINGS = {
    "deployment_name": "evfail", "primary_region": "us-east-1", "secondary_region": "us-west-2",
    "custom_domain": "api.example.com", "hosted_zone_name": "example.com", "target_cloud": "local",
    "edge_url": "{{ aws_endpoint_url }}", "api_stage_name": "Prod",
    "api_throttling_rate_limit": 100, "api_throttling_burst_limit": 200,
    "log_retention_days": 14, "queue_max_receive_count": 5,
    "health_check_request_interval": 30, "health_check_failure_threshold": 3,
    "function_timeout": 30, "manage_apigateway_account": True,
    "aws_endpoint_url": "http://127.0.0.1:4566", "aws_access_key": "localcloud",
    "aws_secret_key": "localcloud", "aws_profile": "",
    "localcloud_status_url": "{{ aws_endpoint_url }}/_localcloud/status",
    "aws_connection": {"region": "{{ primary_region }}", "endpoint_url": "{{ aws_endpoint_url }}"},
}


def run(tmp_path: Path, task: dict[str, Any], play_vars: dict[str, Any],
        *extra_vars: str) -> dict[str, Any]:
    playbook = tmp_path / "play.yml"
    playbook.write_text(yaml.safe_dump([{
        "name": "Preflight plugin", "hosts": "localhost", "gather_facts": False,
        "vars": play_vars, "tasks": [{"name": "Call", **task}]}]))
    args = [arg for value in extra_vars for arg in ("-e", value)]
    proc = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", "localhost,", str(playbook), *args], cwd=REPO,
        capture_output=True, text=True, timeout=120,
        env=ansible_env(ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_PYTHON_INTERPRETER=sys.executable),
    )
    try:
        return json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    except (ValueError, KeyError, IndexError) as exc:
        raise AssertionError(f"ansible crashed:\n{proc.stdout}\n{proc.stderr}") from exc


VARIABLES = {"failover.aws.preflight_variables": {
    "settings_dir": str(REPO / "inventories/local/group_vars/all"), "project_dir": str(REPO),
    "certificate_variable": "localcloud_certificate_arn"}}


def test_the_variables_are_read_as_ansible_evaluates_them(tmp_path: Path) -> None:
    found = run(tmp_path, VARIABLES, SETTINGS)

    assert found["problems"] == []
    assert found["changed"] is False
    assert found["settings"]["edge_url"] == "http://127.0.0.1:4566"
    assert found["settings"]["aws_connection"] == {"region": "us-east-1",
                                                   "endpoint_url": "http://127.0.0.1:4566"}
    assert "aws_secret_key" not in found["settings"]
    assert found["zone_domain"] == "api.example.com"


@pytest.mark.parametrize("extra, setting, value", [
    ("log_retention_days=30", "log_retention_days", 30),
    ("manage_apigateway_account=false", "manage_apigateway_account", False),
    ("api_stage_name=Beta", "api_stage_name", "Beta"),
])
def test_extra_vars_are_strings_of_the_right_type(tmp_path: Path, extra, setting, value) -> None:
    found = run(tmp_path, VARIABLES, SETTINGS, extra)

    assert found["problems"] == []
    assert found["settings"][setting] == value


def test_a_value_referring_to_an_undefined_variable_is_named_not_a_crash(tmp_path: Path) -> None:
    settings = {name: value for name, value in SETTINGS.items() if name != "aws_endpoint_url"}
    settings["hosted_zone_name"] = "{{ zone_of_the_week }}"

    found = run(tmp_path, VARIABLES, settings)

    where = "inventories/local/group_vars/all/main.yml"
    assert found["problems"] == [
        f"hosted_zone_name: its value refers to an undefined variable; fix it in {where}",
        f"edge_url: its value refers to an undefined variable; fix it in {where}",
    ]
    assert found["checks"]["zone"] is False
    # aws_connection and localcloud_status_url refer to it too: not reported, but not used.
    assert found["checks"]["identity"] is False


def test_the_report_names_a_missing_template_and_cfn_lint(tmp_path: Path) -> None:
    task = {"failover.aws.preflight_report": {
        "regions": [], "template": str(tmp_path / "regional.yml"),
        "cfn_lint_command": str(tmp_path / "cfn-lint"), "settings_dir": "group_vars/all"}}

    found = run(tmp_path, task, {})

    assert found["problems"] == [
        f"template: {tmp_path / 'regional.yml'} does not exist; set preflight_template to the "
        "regional template"]
    assert found["notes"] == []

    (tmp_path / "regional.yml").write_text("Resources: {}\n")
    assert run(tmp_path, task, {})["problems"] == [
        f"template: cfn-lint not found at {tmp_path / 'cfn-lint'}; run `make setup` (it installs "
        "cfn-lint in .venv) or set preflight_cfn_lint_command"]


def test_the_report_shows_the_template_relative_to_the_project(tmp_path: Path) -> None:
    task = {"failover.aws.preflight_report": {
        "regions": [{"region": "us-east-1", "deployment_role": "primary",
                     "validation": {"msg": "Template format error"}}],
        "lint": {"rc": 0}, "template": str(REPO / "files/regional.yml"),
        "cfn_lint_command": str(BIN / "cfn-lint"), "settings_dir": "group_vars/all",
        "project_dir": str(REPO)}}

    assert run(tmp_path, task, {})["problems"] == [
        "template files/regional.yml: CloudFormation in us-east-1 refuses it: Template format "
        "error; fix the template"]
