"""No credential in the repository, and none printed by the Ansible content that handles one.

- Every git-tracked file is scanned for AWS access key ids, AWS secret keys, private keys (PEM
  blocks, key files) and well-known token formats. The local cloud's documented placeholders
  (`localcloud`, `testing`, `ASIALOCALCLOUDLAMBDA`, ...) are not credentials; they are short,
  or listed in PLACEHOLDERS.
- Every task that passes a secret in a module argument (a private key, a secret key, a
  password, a token, or a key file's content) has `no_log: true`.
- Credentials in `module_defaults` (`secret_key: "{{ aws_secret_key }}"`) are masked by the
  modules themselves (their argument specs mark them no_log): proven by running them.
- A task's `environment` is never a place for a real credential: `no_log` does not hide it
  (ansible-playbook -vvv prints it in the EXEC line, no_log or not), so environment credentials
  appear only where they are the local cloud's placeholders: molecule scenarios, and the
  playbooks' `target_cloud == 'local'` branches. On AWS the credential chain (a profile) is used.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.playbook.block import Block
from ansible.playbook.task import Task
from ansible_run import run_playbook
from conftest import REPO, LocalCloudProcess

# Placeholders that match a credential format but are documented as fake: the local cloud's
# Lambda credentials (localcloud/lambda_runtime.py) and AWS's own documentation examples.
PLACEHOLDERS = {
    "ASIALOCALCLOUDLAMBDA",
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
}
SECRET_NAME = (r"(?:aws_?secret_?(?:access_?)?key|secret_?access_?key|secret_?key|session_?token|"
               r"security_?token|password|passwd|passphrase|api_?key|auth_?token|client_?secret)")
CREDENTIALS = {
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b"),
    "AWS secret access key": re.compile(
        rf"(?i){SECRET_NAME}[\"']?\s*[:=]\s*[\"']?([A-Za-z0-9/+=]{{40}})(?![A-Za-z0-9/+=])"),
    "private key": re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"),
    "AWS session token": re.compile(r"\b(?:FwoGZXIvYXdzE|IQoJb3JpZ2luX2Vj)[A-Za-z0-9/+=]{20,}"),
    "GitHub token": re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_\w{22,})\b"),
    "Slack token": re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    "PyPI token": re.compile(r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{20,}"),
    "npm token": re.compile(r"\bnpm_[A-Za-z0-9]{36}\b"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    "JSON web token": re.compile(
        r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
    # A secret-named setting with a quoted literal that looks generated (letters and digits,
    # 16+ characters); the local placeholders are short words.
    "secret-looking literal": re.compile(
        rf"(?i){SECRET_NAME}[\"']?\s*[:=]\s*[\"'](?=[^\"']*\d)(?=[^\"']*[A-Za-z])"
        r"([A-Za-z0-9/+=_.-]{16,})[\"']"),
}
KEY_FILE = re.compile(r"(?i)(\.(pem|key|p12|pfx|jks|keystore|ppk)|(^|/)(id_(rsa|dsa|ecdsa|ed25519)"
                      r"|\.env|credentials|\.netrc|\.pypirc))$")


def tracked_files() -> list[str]:
    result = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True)
    return [name for name in result.stdout.decode().split("\0") if name]


def credentials_in(text: str) -> list[tuple[str, str]]:
    """(kind, value) of every credential in a text, placeholders excepted."""
    found = []
    for kind, pattern in CREDENTIALS.items():
        for match in pattern.finditer(text):
            value = match.group(match.lastindex or 0)
            if value not in PLACEHOLDERS:
                found.append((kind, value))
    return found


def test_no_credential_in_any_tracked_file() -> None:
    found = []
    for name in tracked_files():
        path = REPO / name
        if not path.is_file():
            continue  # deleted in the working tree, not yet committed
        data = path.read_bytes()
        if b"\0" in data:
            continue  # binary
        text = data.decode("utf-8", errors="replace")
        for kind, value in credentials_in(text):
            line = text[:text.index(value)].count("\n") + 1
            found.append(f"{name}:{line}: {kind} {value[:12]}...")
    assert found == []


def test_no_key_or_credentials_file_is_tracked() -> None:
    assert [name for name in tracked_files() if KEY_FILE.search(name)] == []


def test_the_local_certificate_key_cannot_be_committed() -> None:
    """The localcloud role writes a private key under .localcloud/certs/: git ignores it."""
    for path in (".localcloud/certs/api.example.com.key", ".localcloud/certs/api.example.com.pem"):
        assert subprocess.run(["git", "check-ignore", "-q", path], cwd=REPO).returncode == 0, path


# Built from parts so that this file holds no credential itself.
PLANTED = [
    ("AWS access key id", "aws_access_key_id = '" + "AKIA" + "Q3EXAMPLEZ7YX2WV'"),
    ("AWS secret access key",
     "AWS_SECRET_ACCESS_KEY=" + "Zm9vYmFy/mF6cXV4cXV1" + "eDEyMzQ1+jc4OTAxMjM0"),
    ("private key", "-----BEGIN " + "OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END"),
    ("private key", "-----BEGIN " + "PRIVATE KEY-----\nMIIEv\n"),
    ("AWS session token", "token: " + "IQoJb3JpZ2luX2Vj" + "EJr//////////wEaCXVzLWVhc3QtMSJH"),
    ("GitHub token", "GH=" + "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"),
    ("Slack token", "hook " + "xoxb-" + "123456789012-abcdefABCDEF"),
    ("secret-looking literal", 'password: "' + "Tr0ub4dor" + "-and-3-more" + '"'),
]


@pytest.mark.parametrize(("kind", "text"), PLANTED, ids=[k for k, _ in PLANTED])
def test_the_scan_finds_a_planted_credential(kind: str, text: str) -> None:
    assert kind in [found_kind for found_kind, _ in credentials_in(text)]


@pytest.mark.parametrize("text", [
    "aws_access_key: localcloud\naws_secret_key: localcloud",
    'aws_secret_access_key="testing"',
    '"AWS_ACCESS_KEY_ID": "' + "ASIA" + 'LOCALCLOUDLAMBDA"',
    'secret_key: "{{ aws_secret_key | default(omit) }}"',
    "git commit 2ceb0cf3c0ffee0123456789abcdef0123456789 and sha256 of the zip",
])
def test_the_scan_passes_placeholders_and_references(text: str) -> None:
    assert credentials_in(text) == []


# -- no_log ------------------------------------------------------------------------------------

TASK_KEYWORDS = set(Task.fattributes) | set(Block.fattributes) | {"local_action"}
SECRET_ARGUMENT = re.compile(r"(?i)(private_?key|secret|password|passphrase|token)")
NOT_SECRET_ARGUMENT = re.compile(r"(?i)_(path|file|src|dir|name|id|arn)$")
KEY_FILE_LOOKUP = re.compile(r"lookup\(\s*['\"](?:ansible\.builtin\.)?file['\"][^)]*\.key['\"]")
ENVIRONMENT_SECRET = re.compile(r"AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN")
LOCAL_ONLY = "target_cloud == 'local'"


def ansible_files() -> list[Path]:
    """Playbooks, roles' tasks and handlers, and molecule scenarios (tracked YAML)."""
    roots = ("playbooks/", "roles/", "tests/molecule/")
    return [REPO / name for name in tracked_files()
            if name.startswith(roots) and name.endswith((".yml", ".yaml"))]


def is_scenario(path: Path) -> bool:
    """Molecule scenarios always run against the local inventory's placeholder credentials."""
    return "molecule" in path.relative_to(REPO).parts


def tasks_of(entries: Any) -> Iterator[dict[str, Any]]:
    """Every task in a task list or a playbook, blocks and handlers included."""
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        if "hosts" in entry or "import_playbook" in entry:
            for section in ("pre_tasks", "tasks", "post_tasks", "handlers"):
                yield from tasks_of(entry.get(section))
        elif "block" in entry:
            for section in ("block", "rescue", "always"):
                yield from tasks_of(entry.get(section))
        else:
            yield entry


def task_files() -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in ansible_files():
        parts = path.relative_to(REPO).parts
        if parts[0] == "roles" and not {"tasks", "handlers", "molecule"} & set(parts):
            continue  # defaults, vars, meta: no tasks
        for task in tasks_of(yaml.safe_load(path.read_text())):
            yield path, task


def module_arguments(task: dict[str, Any]) -> dict[str, Any]:
    for key, value in task.items():
        if key not in TASK_KEYWORDS and not key.startswith("with_"):
            return {**(value if isinstance(value, dict) else {"_raw": value}),
                    **(task.get("args") or {})}
    return {}


def secret_arguments(task: dict[str, Any]) -> list[str]:
    """Arguments that carry a secret: named like one, or reading a private key file."""
    return [name for name, value in module_arguments(task).items()
            if (SECRET_ARGUMENT.search(name) and not NOT_SECRET_ARGUMENT.search(name))
            or KEY_FILE_LOOKUP.search(str(value))]


def task_label(path: Path, task: dict[str, Any]) -> str:
    return f"{path.relative_to(REPO)}: {task.get('name', '(unnamed)')}"


def test_some_task_handles_a_secret() -> None:
    """The next test is not vacuous: the ACM import passes the certificate's private key."""
    handling = [task_label(path, task) for path, task in task_files() if secret_arguments(task)]
    assert "roles/localcloud/tasks/bootstrap.yml: Import the certificate into ACM in this region" \
        in handling


def test_every_task_passing_a_secret_has_no_log() -> None:
    leaking = [f"{task_label(path, task)} passes {secret_arguments(task)}"
               for path, task in task_files()
               if secret_arguments(task) and task.get("no_log") not in (True, "true")]
    assert leaking == []


def environment_secret_problems(path: Path, data: Any) -> Iterator[str]:
    """Environment credentials outside a scenario, or not limited to the local cloud."""
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, str) and ENVIRONMENT_SECRET.fullmatch(key):
                yield f"{path.relative_to(REPO)}: sets {key}"
            yield from environment_secret_problems(path, value)
    elif isinstance(data, list):
        for item in data:
            yield from environment_secret_problems(path, item)
    elif isinstance(data, str) and ENVIRONMENT_SECRET.search(data) and LOCAL_ONLY not in data:
        yield f"{path.relative_to(REPO)}: {ENVIRONMENT_SECRET.search(data)[0]} beyond {LOCAL_ONLY}"


def test_no_credential_in_an_environment_outside_the_local_cloud() -> None:
    problems = [problem for path in ansible_files() if not is_scenario(path)
                for problem in environment_secret_problems(path, yaml.safe_load(path.read_text()))]
    assert problems == []


@pytest.mark.parametrize(("source", "expected"), [
    ("environment: {AWS_SECRET_ACCESS_KEY: '{{ aws_secret_key }}'}", "sets AWS_SECRET_ACCESS_KEY"),
    ("vars: {env: \"{{ {'AWS_SESSION_TOKEN': token} }}\"}", "AWS_SESSION_TOKEN beyond"),
    ("vars: {env: \"{{ {'AWS_SECRET_ACCESS_KEY': k} if target_cloud == 'local' else {} }}\"}",
     None),
])
def test_environment_rule_on_tasks_of_its_own(source: str, expected: str | None) -> None:
    problems = list(environment_secret_problems(REPO / "task.yml", yaml.safe_load(source)))
    if expected is None:
        assert problems == []
    else:
        assert len(problems) == 1 and expected in problems[0], problems


@pytest.mark.parametrize(("task", "secret"), [
    ({"name": "t", "community.aws.acm_certificate": {"private_key": "{{ k }}"}}, True),
    ({"name": "t", "x.y.z": {"key": "{{ lookup('file', 'site.key') }}"}}, True),
    ({"name": "t", "ansible.builtin.user": {"password": "{{ p }}"}}, True),
    ({"name": "t", "x.y.z": {"privatekey_path": "/tmp/site.key"}}, False),
    ({"name": "t", "x.y.z": {"certificate": "{{ lookup('file', 'site.pem') }}"}}, False),
])
def test_secret_arguments_on_tasks_of_its_own(task: dict[str, Any], secret: bool) -> None:
    assert bool(secret_arguments(task)) is secret


# -- secrets in module_defaults are masked by the modules ---------------------------------------

MASKING_PLAY = """
- name: Call AWS modules with credentials from module_defaults
  hosts: localhost
  connection: local
  gather_facts: false
  module_defaults:
    group/failover.aws.aws:
      region: us-east-1
      endpoint_url: "{{ endpoint }}"
      access_key: "{{ access_key }}"
      secret_key: "{{ secret_key }}"
  tasks:
    - name: Read a stage of an API that does not exist (the project's module)
      failover.aws.api_gateway_stage_info:
        rest_api_id: nosuchapi
        stage_name: Prod
      ignore_errors: true

    - name: Import a certificate that is no certificate
      community.aws.acm_certificate:
        certificate: not a certificate
        private_key: "{{ private_key }}"
        name_tag: masking-test
        state: present
      ignore_errors: true
"""


def test_modules_mask_the_secrets_they_are_given(tmp_path: Path,
                                                 localcloud: LocalCloudProcess) -> None:
    """Both tasks fail with their arguments shown (-vvv): secret_key and private_key masked."""
    secret_key, private_key = "masking-" + "secret-" + "S3NT1NEL", "masking-" + "key-K3YS3NT1NEL"
    playbook = tmp_path / "play.yml"
    playbook.write_text(textwrap.dedent(MASKING_PLAY))
    variables = tmp_path / "vars.yml"
    variables.write_text(yaml.safe_dump({
        "endpoint": localcloud.url, "access_key": "localcloud",
        "secret_key": secret_key, "private_key": private_key,
    }))
    result = run_playbook(str(playbook), None, "-i", "localhost,", "-e", f"@{variables}", "-vvv",
                          timeout=300, ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    output = result.stdout + result.stderr
    assert re.search(r"failed=0 .* ignored=2", output), output[-3000:]
    assert re.search(r"private_key: VALUE_SPECIFIED_IN_NO_LOG_PARAMETER", output)
    assert re.search(r"secret_key: VALUE_SPECIFIED_IN_NO_LOG_PARAMETER", output)
    assert (secret_key in output, private_key in output) == (False, False)
