#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: api_gateway_account_info
short_description: Read a region's API Gateway account settings (the CloudWatch Logs role)
version_added: 0.5.0
description:
  - Returns the API Gateway account settings of the region the module runs in (GetAccount).
    They are per account and region; the one that matters before a deploy is the CloudWatch
    Logs role. While it is not set, API Gateway refuses a stage with access logging or execution
    logging ("CloudWatch Logs role ARN must be set in account settings to enable logging"), so a
    stack with such a stage rolls back.
  - Why a module of our own - no module of amazon.aws or community.aws reads (or sets) API
    Gateway's account settings.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
author:
  - Event failover project team (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Read whether API Gateway may write this region's logs
  failover.aws.api_gateway_account_info:
  register: apigateway_account

- name: Stop when it may not
  ansible.builtin.assert:
    that: apigateway_account.cloudwatch_role_arn | length > 0
    fail_msg: Set the region's API Gateway CloudWatch Logs role first.
"""

RETURN = r"""
cloudwatch_role_arn:
  description: The role API Gateway assumes to write CloudWatch Logs; empty when none is set.
  type: str
  returned: always
  sample: arn:aws:iam::123456789012:role/apigateway-logs
throttle_settings:
  description: The account's request throttling in this region (C(rate_limit), C(burst_limit)).
  type: dict
  returned: always
  sample: {"rate_limit": 10000.0, "burst_limit": 5000}
features:
  description: Account features (such as C(UsagePlans)).
  type: list
  elements: str
  returned: always
api_key_version:
  description: Version of the API keys used for the account.
  type: str
  returned: always
"""

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry


def account_to_result(account):
    throttle = account.get("throttleSettings") or {}
    return {
        "cloudwatch_role_arn": account.get("cloudwatchRoleArn") or "",
        "throttle_settings": {"rate_limit": throttle.get("rateLimit"),
                              "burst_limit": throttle.get("burstLimit")},
        "features": list(account.get("features") or []),
        "api_key_version": account.get("apiKeyVersion") or "",
    }


def main():
    module = AnsibleAWSModule(argument_spec={}, supports_check_mode=True)
    client = module.client("apigateway", retry_decorator=AWSRetry.jittered_backoff())
    try:
        account = client.get_account(aws_retry=True)
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Could not read the API Gateway account settings of "
                                    f"{module.region}")
    module.exit_json(changed=False, **account_to_result(account))


if __name__ == "__main__":
    main()
