#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: route53_health_check_state
short_description: Set the Inverted, Disabled and EnableSNI flags of a Route 53 health check
version_added: 0.1.0
description:
  - Inverting a health check is the safe lever for a planned failover (nothing is deleted) and
    un-inverting it is the restore; disabling makes Route 53 consider the endpoint healthy.
  - Why a module of our own - M(amazon.aws.route53_health_check) has no option for C(Inverted)
    and none for C(EnableSNI); this module changes only these flags of an existing check, so it
    composes with that module, which creates the check.
options:
  health_check_id:
    description: ID of the health check.
    type: str
    required: true
  inverted:
    description: Whether Route 53 reports the opposite of what it observes. Left as is when not given.
    type: bool
  disabled:
    description: Whether Route 53 stops checking and considers the endpoint healthy. Left as is when not given.
    type: bool
  enable_sni:
    description: Whether HTTPS checks send the host name in the TLS client hello (API Gateway needs it). Left as is when not given.
    type: bool
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
author:
  - Event failover project team (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Invert the primary's health check for a planned failover
  failover.aws.route53_health_check_state:
    health_check_id: "{{ primary_health_check_id }}"
    inverted: true
"""

RETURN = r"""
health_check:
  description: The health check after the change (as GetHealthCheck returns it, snake_cased).
  type: dict
  returned: always
changes:
  description: The flags that changed, with their new values.
  type: dict
  returned: always
"""

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

FLAGS = {"inverted": "Inverted", "disabled": "Disabled", "enable_sni": "EnableSNI"}


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            health_check_id=dict(type="str", required=True),
            inverted=dict(type="bool"),
            disabled=dict(type="bool"),
            enable_sni=dict(type="bool"),
        ),
        supports_check_mode=True,
    )
    client = module.client("route53", retry_decorator=AWSRetry.jittered_backoff())
    check_id = module.params["health_check_id"]
    try:
        check = client.get_health_check(HealthCheckId=check_id, aws_retry=True)["HealthCheck"]
    except is_boto3_error_code("NoSuchHealthCheck"):
        module.fail_json(msg=f"health check {check_id} does not exist: check health_check_id")
    except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Could not read health check {check_id}")

    config = check["HealthCheckConfig"]
    changes = {}
    for option, field in FLAGS.items():
        wanted = module.params[option]
        if wanted is not None and bool(config.get(field, False)) != wanted:
            changes[field] = wanted

    if changes and not module.check_mode:
        try:
            check = client.update_health_check(
                HealthCheckId=check_id,
                HealthCheckVersion=check["HealthCheckVersion"],
                aws_retry=True,
                **changes,
            )["HealthCheck"]
        except (BotoCoreError, ClientError) as e:
            module.fail_json_aws(e, msg=f"Could not update health check {check_id}")
    elif changes:
        check = dict(check, HealthCheckConfig=dict(config, **changes))

    module.exit_json(
        changed=bool(changes),
        changes=camel_dict_to_snake_dict(changes),
        health_check=camel_dict_to_snake_dict(check),
    )


if __name__ == "__main__":
    main()
