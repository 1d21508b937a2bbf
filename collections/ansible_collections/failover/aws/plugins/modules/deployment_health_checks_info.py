#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: deployment_health_checks_info
short_description: Find a deployment's two Route 53 health checks, and optionally their status
version_added: 0.6.0
description:
  - Finds the health checks of one deployment - the checks whose C(Name) tag is exactly
    C(<deployment_name>-primary) or C(<deployment_name>-secondary), the names the
    C(dns_failover) role gives them - and returns them by role.
  - With O(include_status=true), also reads each check's GetHealthCheckStatus and says whether
    Route 53 considers it healthy - more than 18 % of the checkers report success, then an
    inverted check reports the opposite and a disabled one is always healthy.
  - Route 53 is global - the module reaches it whatever O(region) says (or without one).
  - Why a module of our own - M(amazon.aws.route53_info) lists health checks and their tags in
    separate calls, so every playbook would match tags in Jinja; here there is one way to find
    the deployment's checks.
  - It only reads, so it runs in check mode too.
options:
  deployment_name:
    description: The deployment's name (the prefix of the checks' C(Name) tags).
    type: str
    required: true
  include_status:
    description: Also read each check's observations and its status.
    type: bool
    default: false
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
author:
  - Event failover project team (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Find the deployment's health checks and their status
  failover.aws.deployment_health_checks_info:
    deployment_name: evfail
    include_status: true
  register: checks

- name: Fail unless the secondary is healthy
  ansible.builtin.assert:
    that: checks.health_checks.secondary.healthy
"""

RETURN = r"""
health_checks:
  description:
    - The deployment's health checks by role - C(primary), C(secondary). A role is missing when
      no check carries its name.
  type: dict
  returned: always
  contains:
    primary:
      description: The primary region's health check.
      type: dict
      returned: when found
      contains:
        id:
          description: The health check's id.
          type: str
          sample: 0b5e3c1a-7f0e-4f4e-9a55-1c0f3d0f6a11
        name:
          description: Its C(Name) tag.
          type: str
          sample: evfail-primary
        tags:
          description: All its tags.
          type: dict
          sample: {"Name": "evfail-primary", "Deployment": "evfail"}
        type:
          description: Its type.
          type: str
          sample: HTTPS
        fqdn:
          description: The host it probes.
          type: str
          sample: abc123.execute-api.us-east-1.amazonaws.com
        resource_path:
          description: The path it probes.
          type: str
          sample: /Prod/health
        port:
          description: The port it probes.
          type: int
          sample: 443
        inverted:
          description: Whether Route 53 reports the opposite of what it measures.
          type: bool
        disabled:
          description: Whether the check is disabled (always healthy).
          type: bool
        enable_sni:
          description: Whether the probe sends SNI.
          type: bool
        request_interval:
          description: Seconds between two probes of one checker.
          type: int
          sample: 30
        failure_threshold:
          description: Consecutive results that change a checker's view.
          type: int
          sample: 3
        healthy:
          description: Whether Route 53 considers the check healthy.
          type: bool
          returned: when O(include_status=true)
        observations:
          description: The checkers' last observations, snake_cased, times in ISO-8601.
          type: list
          elements: dict
          returned: when O(include_status=true)
          sample: [{"region": "us-east-1", "ip_address": "15.177.10.1",
                    "status_report": {"status": "Success: HTTP Status Code 200, OK",
                                      "checked_time": "2026-11-28T10:15:01+00:00"}}]
    secondary:
      description: The secondary region's health check, with the same keys as RV(health_checks.primary).
      type: dict
      returned: when found
"""

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.failover.aws.plugins.module_utils import route53


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            deployment_name=dict(type="str", required=True),
            include_status=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    name = module.params["deployment_name"]
    client = route53.client(module)
    try:
        checks = route53.deployment_health_checks(client, name)
        if module.params["include_status"]:
            checks = {role: route53.with_status(client, check) for role, check in checks.items()}
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Could not read the health checks of deployment {name}")
    module.exit_json(changed=False, health_checks=checks)


if __name__ == "__main__":
    main()
