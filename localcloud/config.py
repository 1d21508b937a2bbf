"""Settings of one local cloud, read once from the environment.

Every knob a user can turn lives here, with its documented environment variable.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

DEFAULT_PORT = 4566


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise SystemExit(f"{name} must be a number, got {raw!r}") from exc
    if value <= 0:
        raise SystemExit(f"{name} must be greater than 0, got {raw!r}")
    return value


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SystemExit(f"{name} must be an integer, got {raw!r}") from exc


@dataclass
class Config:
    """What one local cloud process needs to know."""

    # HTTP port of the single endpoint that serves every service and region.
    port: int = DEFAULT_PORT
    # UDP port of the DNS server that answers Route 53 records (0: any free port).
    dns_port: int = 0
    # Multiplies every health-check RequestInterval, so templates keep AWS-valid
    # values (10 or 30 s) while local drills run in seconds.
    time_scale: float = 1.0
    # Delay before an item written in one replica region appears in the others.
    replication_lag_seconds: float = 0.2
    # Where pid file and log live.
    state_dir: Path = Path(".localcloud")
    # Loopback only: the local cloud has no authentication.
    host: str = "127.0.0.1"

    @classmethod
    def from_env(cls) -> Config:
        return cls(
            port=_int("LOCALCLOUD_PORT", DEFAULT_PORT),
            dns_port=_int("LOCALCLOUD_DNS_PORT", 0),
            time_scale=_float("LOCALCLOUD_TIME_SCALE", 1.0),
            replication_lag_seconds=_float("LOCALCLOUD_REPLICATION_LAG", 0.2),
            state_dir=Path(os.environ.get("LOCALCLOUD_STATE_DIR", ".localcloud")),
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.state_dir / f"localcloud-{self.port}.pid"

    @property
    def log_file(self) -> Path:
        return self.state_dir / f"localcloud-{self.port}.log"

    def as_env(self) -> dict[str, str]:
        """The environment that makes a child process see the same settings."""
        return {
            "LOCALCLOUD_PORT": str(self.port),
            "LOCALCLOUD_DNS_PORT": str(self.dns_port),
            "LOCALCLOUD_TIME_SCALE": repr(self.time_scale),
            "LOCALCLOUD_REPLICATION_LAG": repr(self.replication_lag_seconds),
            "LOCALCLOUD_STATE_DIR": str(self.state_dir),
        }

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["state_dir"] = str(self.state_dir)
        return data
