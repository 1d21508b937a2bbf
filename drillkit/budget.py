"""The drill's timing budget: how long detection may take, and the pace of its Route 53 calls.

Route 53 detects a failed endpoint after ``failure_threshold`` failed probes
``request_interval`` seconds apart: ``effective_limit_seconds`` (times the local cloud's time
scale). The drill waits that long times ``detect_factor`` plus ``detect_margin`` seconds before
calling the detection (and the return to healthy) failed.

Route 53's API is rate-limited per account and per action ("Throttling for Amazon Route 53 API
requests", Route 53 Developer Guide: GetHealthCheckStatus 4 tokens refilled at 1 per second,
the account 50 at 10 per second). The cadences below are in AWS seconds and multiplied by the
time scale; the local cloud divides its Route 53 rate by the same scale, so the margin is the
same there (roles/failover_drill/README.md, "Route 53 API budget"). They are not inputs, so a
run cannot leave the budget.
"""

from __future__ import annotations

import math
from typing import Any

#: GetHealthCheckStatus of each check by drillkit's sampler (one check at a time).
HEALTH_SAMPLE_SECONDS = 10.0
#: GetHealthCheck (Inverted, Disabled) of each check by drillkit's sampler.
HEALTH_FLAGS_SECONDS = 30.0
#: One GetHealthCheck + GetHealthCheckStatus of failover.aws.route53_health_check_wait.
WAIT_POLL_SECONDS = 5.0


def budget(request_interval: float, failure_threshold: float, time_scale: float = 1.0,
           detect_factor: float = 2.0, detect_margin: float = 30.0) -> dict[str, Any]:
    """The figures the drill's tasks wait and poll by, in local seconds."""
    limit = request_interval * failure_threshold * time_scale
    return {
        "effective_limit_seconds": round(limit, 6),
        "detect_timeout_seconds": math.ceil(limit * detect_factor + detect_margin),
        "health_poll_interval": round(HEALTH_SAMPLE_SECONDS * time_scale, 6),
        "flags_poll_interval": round(HEALTH_FLAGS_SECONDS * time_scale, 6),
        "wait_poll_interval": round(WAIT_POLL_SECONDS * time_scale, 6),
    }
