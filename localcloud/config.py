"""Settings of one local cloud, read once from the environment.

Every knob a user can turn lives here, with its documented environment variable.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

DEFAULT_PORT = 4566
# Route 53's request-rate bucket for all API requests of one account: refilled at 10
# requests per second, holding at most 50 ("Throttling for Amazon Route 53 API requests",
# Route 53 Developer Guide, table "Request rate limits per API action", row "All Amazon
# Route 53 API actions combined (account level)"). AWS raised the rate from the five
# requests per second its quotas page used to give.
ROUTE53_REQUEST_RATE = 10.0
ROUTE53_REQUEST_BURST = 50


def _number(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise SystemExit(f"{name} must be a number, got {raw!r}") from exc


def _float(name: str, default: float) -> float:
    value = _number(name, default)
    if value <= 0:
        raise SystemExit(f"{name} must be greater than 0, got {value!r}")
    return value


def _non_negative_float(name: str, default: float) -> float:
    """A number that may be 0 (0 turns the feature off)."""
    value = _number(name, default)
    if value < 0:
        raise SystemExit(f"{name} must be 0 or more, got {value!r}")
    return value


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SystemExit(f"{name} must be an integer, got {raw!r}") from exc


def _positive_int(name: str, default: int) -> int:
    value = _int(name, default)
    if value < 1:
        raise SystemExit(f"{name} must be 1 or more, got {value!r}")
    return value


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
    # Route 53 API requests per second and account, in AWS time (the local rate is this
    # divided by time_scale); 0 turns throttling off.
    route53_rate: float = ROUTE53_REQUEST_RATE
    # Route 53 API requests one account can make at once before the rate applies.
    route53_burst: int = ROUTE53_REQUEST_BURST
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
            route53_rate=_non_negative_float("LOCALCLOUD_ROUTE53_RATE", ROUTE53_REQUEST_RATE),
            route53_burst=_positive_int("LOCALCLOUD_ROUTE53_BURST", ROUTE53_REQUEST_BURST),
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
            "LOCALCLOUD_ROUTE53_RATE": repr(self.route53_rate),
            "LOCALCLOUD_ROUTE53_BURST": str(self.route53_burst),
            "LOCALCLOUD_STATE_DIR": str(self.state_dir),
        }

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["state_dir"] = str(self.state_dir)
        return data
