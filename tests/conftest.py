"""Shared fixtures: a real local cloud process on a free port, stopped by its PID."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config as BotoConfig

REPO = Path(__file__).resolve().parent.parent
PRIMARY = "us-east-1"
SECONDARY = "us-west-2"
# Where the scrubbed environment points botocore instead of ~/.aws.
NO_AWS_FILE = os.devnull


def scrub_aws_environment(environ: Any = os.environ) -> None:
    """Make the tests hermetic: most people who run them have AWS credentials, a profile and a
    default region exported, which would reach every boto3 client, Ansible module and
    subprocess started here. Drop every ``AWS_*`` variable and keep botocore away from
    ``~/.aws`` and the instance metadata service; a test that wants a variable sets it itself."""
    for name in [name for name in environ if name.startswith("AWS_")]:
        del environ[name]
    environ["AWS_CONFIG_FILE"] = NO_AWS_FILE
    environ["AWS_SHARED_CREDENTIALS_FILE"] = NO_AWS_FILE
    environ["AWS_EC2_METADATA_DISABLED"] = "true"


# At import, before any fixture, client or subprocess reads the environment.
scrub_aws_environment()


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalCloudProcess:
    """One `localcloud serve` child process, with helpers to talk to it."""

    def __init__(self, state_dir: Path, **settings: Any) -> None:
        self.port = free_port()
        self.dns_port = free_port(socket.SOCK_DGRAM)
        self.url = f"http://127.0.0.1:{self.port}"
        self.state_dir = state_dir
        self.env = {
            **os.environ,
            "LOCALCLOUD_PORT": str(self.port),
            "LOCALCLOUD_DNS_PORT": str(self.dns_port),
            "LOCALCLOUD_STATE_DIR": str(state_dir),
            "LOCALCLOUD_TIME_SCALE": str(settings.get("time_scale", 0.05)),
            "LOCALCLOUD_REPLICATION_LAG": str(settings.get("replication_lag", 0.1)),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.state_dir / f"localcloud-{self.port}.log"
        with open(self.log_path, "ab") as log_file:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "localcloud", "serve"],
                cwd=REPO, env=self.env, stdout=log_file, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"local cloud exited early:\n{self.log_path.read_text()}")
            try:
                self.status()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"local cloud not ready:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def status(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.url}/_localcloud/status", timeout=5) as resp:
            return json.loads(resp.read())

    def reset(self) -> None:
        req = urllib.request.Request(f"{self.url}/_localcloud/reset", method="POST", data=b"")
        urllib.request.urlopen(req, timeout=10).close()

    def client(self, service: str, region: str = PRIMARY) -> Any:
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=self.url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=BotoConfig(retries={"max_attempts": 2}),
        )

    def log_text(self) -> str:
        return self.log_path.read_text()


@pytest.fixture(scope="session")
def localcloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudProcess]:
    """A local cloud shared by a whole test session (tests use their own resource names)."""
    cloud = LocalCloudProcess(tmp_path_factory.mktemp("localcloud"))
    cloud.start()
    try:
        yield cloud
    finally:
        cloud.stop()


@pytest.fixture
def fresh_localcloud(tmp_path: Path) -> Iterator[LocalCloudProcess]:
    """A local cloud of the test's own, for tests that change settings or restart it."""
    cloud = LocalCloudProcess(tmp_path / "localcloud")
    cloud.start()
    try:
        yield cloud
    finally:
        cloud.stop()


def wait_for(predicate: Any, timeout: float = 10.0, interval: float = 0.05,
             message: str = "condition") -> Any:
    """Poll until predicate() returns something truthy; return it."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message} (last: {last!r})")
