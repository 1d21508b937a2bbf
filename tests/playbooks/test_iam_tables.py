"""The IAM tables of the role READMEs list every call the code makes.

One local cloud of the test's own goes through what an operator does: deploy, redeploy, an
unplanned and a planned drill, restore, and a confirmed cleanup. Every AWS API call of those
runs is recorded with the role whose task made it (tests/iam_recorder: a callback notes the task
that starts, a sitecustomize in every Python process logs each botocore call), turned into the
IAM action AWS authorises it with, and looked up in that role's README. Calls of the playbooks'
own tasks (outside any role) are looked up in the project README's table.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from ansible_run import BIN, REPO, ansible_env, run_playbook
from conftest import LocalCloudProcess

RECORDER = REPO / "tests" / "iam_recorder"
DEPLOYMENT = "evfail"          # inventories/local/group_vars/all/main.yml
# Roles that never run against a real account.
LOCAL_ONLY_ROLES = {"localcloud"}

# IAM actions whose name is not the operation's (Service Authorization Reference, "Actions,
# resources, and condition keys for Amazon S3": the API operations each action covers).
S3_ACTIONS = {
    "HeadBucket": "s3:ListBucket",
    "ListObjects": "s3:ListBucket",
    "ListObjectsV2": "s3:ListBucket",
    "ListObjectVersions": "s3:ListBucketVersions",
    "ListBuckets": "s3:ListAllMyBuckets",
    "HeadObject": "s3:GetObject",
    "DeleteObjects": "s3:DeleteObject",
    "GetBucketEncryption": "s3:GetEncryptionConfiguration",
    "PutBucketEncryption": "s3:PutEncryptionConfiguration",
    "GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "GetBucketAccelerateConfiguration": "s3:GetAccelerateConfiguration",
    "GetObjectLockConfiguration": "s3:GetBucketObjectLockConfiguration",
    "ListBucketInventoryConfigurations": "s3:GetInventoryConfiguration",
}
# IAM prefixes that differ from the signing name.
IAM_PREFIXES = {"monitoring": "cloudwatch"}
# "No permissions are required to perform this operation" (STS API reference).
NO_PERMISSION = {("sts", "GetCallerIdentity")}
ACTION = re.compile(r"`([a-z0-9-]+:[A-Za-z0-9*]+)`")


def iam_actions(call: dict[str, Any]) -> list[str]:
    """The IAM actions AWS checks for one recorded API call."""
    service, operation = call["service"], call["operation"]
    if (service, operation) in NO_PERMISSION:
        return []
    if service == "apigateway":
        # API Gateway's management actions are the HTTP methods of its resources.
        return [f"apigateway:{call['http_method']}"]
    if service == "s3":
        actions = [S3_ACTIONS.get(operation, f"s3:{operation}")]
        if call.get("versioned") and operation in ("DeleteObject", "DeleteObjects"):
            actions.append("s3:DeleteObjectVersion")
        return actions
    prefix = IAM_PREFIXES.get(call["signing_name"], call["signing_name"])
    return [f"{prefix}:{operation}"]


def documented(readme: Path) -> set[str]:
    """The IAM actions of a README's IAM table(s): backticked ``service:Action`` in the rows of
    a table whose first column is "IAM action"."""
    found: set[str] = set()
    in_table = False
    for line in readme.read_text().splitlines():
        if line.startswith("| IAM action"):
            in_table = True
            continue
        if in_table and not line.startswith("|"):
            in_table = False
        if in_table:
            found.update(ACTION.findall(line.split("|")[1]))
    return found


@pytest.fixture(scope="module")
def calls(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    root = tmp_path_factory.mktemp("iam")
    log, task = root / "calls.jsonl", root / "task.json"
    recording = {
        "PYTHONPATH": str(RECORDER),
        "IAM_RECORD_LOG": str(log),
        "IAM_RECORD_TASK": str(task),
        "ANSIBLE_CALLBACK_PLUGINS": str(RECORDER / "callback_plugins"),
        "ANSIBLE_CALLBACKS_ENABLED": "iam_task_marker",
    }
    reports = ["-e", f"failover_drill_report_dir={root / 'reports'}"]
    cloud = LocalCloudProcess(root / "cloud", time_scale=0.05)
    cloud.start()
    try:
        for playbook, *args in (
            ("playbooks/deploy.yml",),
            ("playbooks/deploy.yml",),
            ("playbooks/failover_drill.yml", *reports),
            ("playbooks/failover_drill.yml", *reports, "-e", "drill_mode=planned"),
            ("playbooks/restore.yml", *reports),
            ("playbooks/status.yml",),
        ):
            run = run_playbook(playbook, cloud, *args, **recording)
            assert run.returncode == 0, f"{playbook}:\n{run.stdout[-6000:]}"
        cleanup = subprocess.run(
            [str(BIN / "ansible-playbook"), "playbooks/cleanup.yml",
             "-e", f"confirm_cleanup={DEPLOYMENT}",
             "-e", f"cleanup_backup_dir={root / 'backups'}",
             # The AWS path: an on-demand DynamoDB backup before the teardown.
             "-e", "cleanup_on_demand_backup=true"],
            cwd=REPO, capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL,
            env=ansible_env(cloud, **recording))
        assert cleanup.returncode == 0, cleanup.stdout[-6000:]
    finally:
        cloud.stop()
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def needed_by_role(calls: list[dict[str, Any]]) -> dict[str, dict[str, set[str]]]:
    """role ("" for the playbooks' own tasks) -> IAM action -> the calls that need it."""
    needed: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for call in calls:
        role = "failover_drill" if call["caller"] == "drillkit" else call["role"]
        if role in LOCAL_ONLY_ROLES:
            continue
        for action in iam_actions(call):
            needed[role][action].add(
                f"{call['operation']} by {call['caller']} in task {call['task']!r}")
    return needed


def test_the_runs_were_recorded(calls: list[dict[str, Any]]) -> None:
    roles = {call["role"] for call in calls}
    assert {"preflight", "lambda_artifact", "regional_stack", "dns_failover", "smoke_test",
            "failover_drill", "cleanup"} <= roles
    assert any(call["caller"] == "drillkit" for call in calls)


@pytest.mark.parametrize("role", ["preflight", "lambda_artifact", "regional_stack",
                                  "dns_failover", "smoke_test", "failover_drill", "cleanup"])
def test_the_role_readme_lists_every_call_its_tasks_make(
        calls: list[dict[str, Any]], role: str) -> None:
    readme = REPO / "roles" / role / "README.md"
    listed = documented(readme)
    needed = needed_by_role(calls)[role]

    missing = {action: sorted(by)[:3] for action, by in needed.items() if action not in listed}
    assert not missing, f"{readme.relative_to(REPO)} lacks IAM actions: " + json.dumps(
        missing, indent=1)


def test_the_project_readme_lists_the_calls_of_the_playbooks_own_tasks(
        calls: list[dict[str, Any]]) -> None:
    listed = documented(REPO / "README.md")
    needed = needed_by_role(calls)[""]

    missing = {action: sorted(by)[:3] for action, by in needed.items() if action not in listed}
    assert not missing, "README.md lacks IAM actions: " + json.dumps(missing, indent=1)


def test_a_role_readme_lists_no_unknown_action_name() -> None:
    """Every listed action is spelled as AWS spells it: a real operation of the service (or one
    of the exceptions above), so a typo cannot pass as documentation."""
    import botocore.session

    session = botocore.session.get_session()
    known: dict[str, set[str]] = {}
    for readme in [*sorted((REPO / "roles").glob("*/README.md")), REPO / "README.md"]:
        for action in documented(readme):
            prefix, name = action.split(":")
            if prefix == "apigateway":
                assert name in {"GET", "POST", "PUT", "PATCH", "DELETE"}, (readme, action)
                continue
            if action in S3_ACTIONS.values() or action == "s3:DeleteObjectVersion":
                continue
            service = {v: k for k, v in IAM_PREFIXES.items()}.get(prefix, prefix)
            if service not in known:
                known[service] = set(session.get_service_model(service).operation_names)
            assert name in known[service], f"{readme.relative_to(REPO)}: {action} is no " \
                f"{service} operation"
