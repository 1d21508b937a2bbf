"""Run the project's Ansible content from tests, the way an operator runs it."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def ansible_env(cloud: Any = None, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_NOCOLOR": "1",
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
    }
    if cloud is not None:
        env.update({
            "LOCALCLOUD_PORT": str(cloud.port),
            "LOCALCLOUD_STATE_DIR": str(cloud.state_dir),
        })
    env.update(extra)
    return env


def run_module(module: str, args: dict[str, Any], cloud: Any = None, check: bool = False,
               region: str = "us-east-1") -> dict[str, Any]:
    """Run one module on localhost; return its result (raises on an Ansible crash)."""
    local_only = {"failover.aws.lambda_package"}
    if cloud is not None and module.startswith("failover.aws.") and module not in local_only:
        args = {"endpoint_url": cloud.url, "access_key": "localcloud", "secret_key": "localcloud",
                "region": region, **args}
    cmd = [str(BIN / "ansible"), "localhost", "-m", module, "-a", json.dumps(args)]
    if check:
        cmd.append("--check")
    proc = subprocess.run(
        cmd, cwd=REPO, capture_output=True, text=True, timeout=300,
        env=ansible_env(cloud, ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="json",
                        ANSIBLE_PYTHON_INTERPRETER=sys.executable),
    )
    try:
        output = json.loads(proc.stdout)
    except ValueError as exc:
        raise AssertionError(f"ansible crashed:\n{proc.stdout}\n{proc.stderr}") from exc
    return output["plays"][0]["tasks"][0]["hosts"]["localhost"]


def run_playbook(playbook: str, cloud: Any = None, *args: str, timeout: int = 900,
                 **env: str) -> subprocess.CompletedProcess[str]:
    """Run a playbook of the project; the caller asserts on returncode and output."""
    return subprocess.run(
        [str(BIN / "ansible-playbook"), playbook, *args],
        cwd=REPO, capture_output=True, text=True, timeout=timeout,
        env=ansible_env(cloud, **env),
    )


def recap(output: str) -> dict[str, dict[str, int]]:
    """PLAY RECAP counts per host, e.g. {'region-primary': {'ok': 10, 'changed': 0, ...}}."""
    hosts: dict[str, dict[str, int]] = {}
    in_recap = False
    for line in output.splitlines():
        if line.startswith("PLAY RECAP"):
            in_recap = True
            hosts = {}
            continue
        if in_recap and ":" in line and "=" in line:
            host, counts = line.split(":", 1)
            hosts[host.strip()] = {
                key: int(value) for key, value in (pair.split("=") for pair in counts.split())
            }
    return hosts


def descendants(root: int) -> list[int]:
    """Every process below ``root``, from /proc (Linux)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(stat.parent.name))
    found, pending = [], [root]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def kill_run(process: subprocess.Popen[Any]) -> None:
    """SIGKILL a run started with ``start_new_session=True``, as a killed terminal would, and
    every process it started. Ansible's workers call setsid(), so killing the run's process
    group alone leaves them behind, waiting forever. The group is stopped first, so that nothing
    forks while its processes are listed."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGSTOP)
        below = descendants(process.pid)
        os.killpg(process.pid, signal.SIGKILL)
        for pid in below:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    process.wait()


@contextlib.contextmanager
def deployed_cloud(state_dir: Path, *deploy_args: str, **cloud_options: Any) -> Iterator[Any]:
    """A local cloud of the caller's own (``LocalCloudProcess`` options) with the project
    deployed by playbooks/deploy.yml (``deploy_args`` passed on); stopped on exit."""
    from conftest import LocalCloudProcess

    cloud = LocalCloudProcess(state_dir, **cloud_options)
    cloud.start()
    try:
        deployed = run_playbook("playbooks/deploy.yml", cloud, *deploy_args)
        assert deployed.returncode == 0, deployed.stdout[-6000:]
        yield cloud
    finally:
        cloud.stop()
