"""Route 53's API request rate, per account, as AWS throttles it.

"Throttling for Amazon Route 53 API requests" (Route 53 Developer Guide) describes it: Route 53
throttles API requests per account with a token bucket; every request of the account takes a
token from one account-level bucket, which refills at a fixed rate up to its maximum
capacity (the burst). An empty bucket answers HTTP 400 (Bad request) with the code
``Throttling`` and the message ``Rate exceeded``, which the SDKs and the CLI retry.

Locally the bucket refills at ``LOCALCLOUD_ROUTE53_RATE`` (AWS's 10 per second) divided by
``LOCALCLOUD_TIME_SCALE``, as health-check intervals are multiplied by it: a caller that polls
once per interval locally polls as often as on AWS, and gets throttled as often. The capacity
is ``LOCALCLOUD_ROUTE53_BURST`` (AWS's 50) requests, whatever the time scale.

Only requests to the Route 53 API count, not DNS queries to the DNS server nor the health
checkers' probes. Deviations: CloudFormation's changes are made in-process and not counted (on
AWS they are the account's API requests, and a big stack can fail with ``Rate exceeded``); the
per-action buckets (for example GetHealthCheckStatus: 4, refilled at 1 per second) and the
change-throughput limit (record changes per second) are not applied.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Callable
from typing import Any

from moto.core.responses import ActionResult
from moto.route53.exceptions import Route53ClientError
from moto.route53.responses import Route53

from . import runtime

_installed = False


class Throttling(Route53ClientError):
    """What Route 53 answers when the account's bucket is empty."""

    def __init__(self) -> None:
        super().__init__("Throttling", "Rate exceeded")


class TokenBucket:
    """``capacity`` tokens at most, refilled at ``rate`` tokens per second."""

    def __init__(self, rate: float, capacity: int, now: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = float(capacity)
        self.updated = now

    def take(self, now: float) -> bool:
        """Take one token if there is one."""
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(float(self.capacity), self.tokens + elapsed * self.rate)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class RequestThrottle:
    """One token bucket per account over every Route 53 API request."""

    name = "route53_api"

    def __init__(self, rt: runtime.Runtime, clock: Callable[[], float] = time.monotonic) -> None:
        self.runtime = rt
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, TokenBucket] = {}
        self._throttled = 0

    @property
    def enabled(self) -> bool:
        return self.runtime.config.route53_rate > 0

    @property
    def local_rate(self) -> float:
        """Requests per wall-clock second: AWS's rate under the time scale."""
        return self.runtime.config.route53_rate / self.runtime.config.time_scale

    def admit(self, account_id: str) -> bool:
        """Whether a request of ``account_id`` may run now (it takes a token if so)."""
        if not self.enabled:
            return True
        with self._lock:
            now = self._clock()
            bucket = self._buckets.get(account_id)
            if bucket is None:
                bucket = self._buckets[account_id] = TokenBucket(
                    self.local_rate, self.runtime.config.route53_burst, now)
            admitted = bucket.take(now)
            if not admitted:
                self._throttled += 1
            return admitted

    def start(self) -> None:
        """Nothing runs in the background."""

    def stop(self) -> None:
        """Nothing runs in the background."""

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()
            self._throttled = 0

    def status(self) -> dict[str, Any]:
        config = self.runtime.config
        return {
            "requests_per_second": config.route53_rate,
            "burst": config.route53_burst,
            "local_requests_per_second": round(self.local_rate, 3) if self.enabled else None,
            "throttled_requests": self._throttled,
        }


def _current_throttle() -> RequestThrottle | None:
    current = runtime._CURRENT
    return current.components.get(RequestThrottle.name) if current else None  # type: ignore[return-value]


def _throttling_answer(response: Route53) -> Any:
    """The rest-xml error answer, as moto renders a Route 53 error raised by an action."""
    with warnings.catch_warnings():
        # botocore's Route 53 model has no error shape named Throttling: AWS's generic code.
        warnings.simplefilter("ignore", UserWarning)
        status, headers, body = response.serialized(ActionResult(Throttling()))
    headers["status"] = status
    headers, body = response._enrich_response(headers, body)
    return status, headers, body


def _throttled(original: Any) -> Any:
    def call_action(self: Route53) -> Any:
        throttle = _current_throttle()
        if throttle is not None and not throttle.admit(self.current_account):
            return _throttling_answer(self)
        return original(self)

    return call_action


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    Route53.call_action = _throttled(Route53.call_action)
