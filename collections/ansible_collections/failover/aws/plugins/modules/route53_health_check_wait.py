#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: route53_health_check_wait
short_description: Wait until Route 53 considers a health check healthy or unhealthy
version_added: 0.2.0
description:
  - Polls GetHealthCheckStatus every O(poll_interval) seconds until the health check's status
    is O(status), and fails with the last status report when O(timeout) passes first.
  - The status follows Route 53's rule - healthy when more than 18 % of the health checkers'
    observations report success - then the check's own flags - an inverted check reports the
    opposite, a disabled one is always healthy. A check without observations yet is healthy,
    as Route 53 considers a new health check healthy until it has data.
  - Why a module of our own - M(amazon.aws.route53_info) returns the raw observations (one
    per checker region), which leaves every playbook to count successes, apply the 18 % rule
    and the Inverted and Disabled flags in Jinja inside an C(until) loop, and to word its own
    timeout message.
  - It only reads, so it runs in check mode too (a drill's check run then waits for real).
options:
  health_check_id:
    description: ID of the health check.
    type: str
    required: true
  status:
    description: The status to wait for.
    type: str
    choices: [healthy, unhealthy]
    default: healthy
    aliases: [state]
  timeout:
    description:
      - Seconds to wait at most. C(0) reads the status once and never fails on it (RV(reached)
        tells whether it is the wanted one).
    type: float
    default: 300
  poll_interval:
    description: Seconds between two reads of the status.
    type: float
    default: 1.0
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - Route 53 changes a checker's view only after C(FailureThreshold) consecutive results disagree
    with it. Where a checker's observation shows its latest probe rather than that view, this
    module can see the new status up to C(FailureThreshold - 1) request intervals before Route 53
    routes by it; the local cloud reports the checkers' view.
  - Calculated health checks have no observations (GetHealthCheckStatus refuses them).
author:
  - Event failover project team (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Wait for Route 53 to see the primary unhealthy
  failover.aws.route53_health_check_wait:
    health_check_id: "{{ primary_health_check_id }}"
    status: unhealthy
    timeout: 120
  register: primary_down

- name: Read the status once, whatever it is
  failover.aws.route53_health_check_wait:
    health_check_id: "{{ primary_health_check_id }}"
    timeout: 0
  register: primary_now
"""

RETURN = r"""
status:
  description: The status last read.
  type: str
  returned: always
  sample: unhealthy
reached:
  description: Whether the status last read is O(status).
  type: bool
  returned: always
observed_at:
  description: When the read that returned RV(status) completed (UTC, ISO-8601 with time zone).
  type: str
  returned: always
  sample: "2026-11-28T10:15:02.481516+00:00"
waited_seconds:
  description: Seconds from the module's start to RV(observed_at).
  type: float
  returned: always
observations:
  description: The last GetHealthCheckStatus observations, snake_cased, times in ISO-8601.
  type: list
  elements: dict
  returned: always
  sample: [{"region": "us-east-1", "ip_address": "15.177.10.1",
            "status_report": {"status": "Failure: HTTP Status Code 403, Forbidden",
                              "checked_time": "2026-11-28T10:15:01+00:00"}}]
inverted:
  description: Whether the check was inverted at the last read.
  type: bool
  returned: always
disabled:
  description: Whether the check was disabled at the last read.
  type: bool
  returned: always
"""

import datetime
import time

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.failover.aws.plugins.module_utils.route53 import (
    observation,
    reported_healthy,
)

UTC = datetime.timezone.utc  # noqa: UP017 - modules may run on a target Python before 3.11


def reported_status(observations, config):
    """The status Route 53 routes by (the rule lives in module_utils/route53.py)."""
    check = {"disabled": config.get("Disabled"), "inverted": config.get("Inverted")}
    return "healthy" if reported_healthy(observations, check) else "unhealthy"


def read(client, module, check_id):
    """One read: the check's flags and its observations."""
    try:
        config = client.get_health_check(HealthCheckId=check_id,
                                         aws_retry=True)["HealthCheck"]["HealthCheckConfig"]
        if config.get("Type") == "CALCULATED":
            module.fail_json(msg=f"health check {check_id} is CALCULATED: Route 53 reports no "
                                 "observations for it, wait on its children instead")
        observations = client.get_health_check_status(
            HealthCheckId=check_id, aws_retry=True)["HealthCheckObservations"]
    except is_boto3_error_code("NoSuchHealthCheck"):
        module.fail_json(msg=f"health check {check_id} does not exist: check health_check_id")
    except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Could not read the status of health check {check_id}")
    return config, observations


def last_report(observations):
    if not observations:
        return "no observations yet"
    reports = sorted({o.get("StatusReport", {}).get("Status", "?") for o in observations})
    return "; ".join(reports)


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            health_check_id=dict(type="str", required=True),
            status=dict(type="str", choices=["healthy", "unhealthy"], default="healthy",
                        aliases=["state"]),
            timeout=dict(type="float", default=300),
            poll_interval=dict(type="float", default=1.0),
        ),
        supports_check_mode=True,
    )
    check_id = module.params["health_check_id"]
    wanted = module.params["status"]
    timeout = module.params["timeout"]
    interval = module.params["poll_interval"]
    if timeout < 0 or interval <= 0:
        module.fail_json(msg="timeout must be 0 or more and poll_interval more than 0")
    client = module.client("route53", retry_decorator=AWSRetry.jittered_backoff())

    start = time.monotonic()
    while True:
        config, observations = read(client, module, check_id)
        observed_at = datetime.datetime.now(UTC)
        waited = time.monotonic() - start
        status = reported_status(observations, config)
        if status == wanted or timeout == 0 or waited >= timeout:
            break
        time.sleep(min(interval, max(0.0, timeout - waited)))

    result = dict(
        changed=False,
        status=status,
        reached=status == wanted,
        observed_at=observed_at.isoformat(),
        waited_seconds=round(waited, 3),
        observations=[observation(o) for o in observations],
        inverted=bool(config.get("Inverted")),
        disabled=bool(config.get("Disabled")),
    )
    if status != wanted and timeout > 0:
        flags = ", inverted" if result["inverted"] else ""
        module.fail_json(
            msg=f"health check {check_id} is still {status}{flags}, not {wanted}, after "
                f"the timeout of {timeout:g} s; last status report: {last_report(observations)}",
            **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
