#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: api_gateway_base_path_mapping_info
short_description: List the base path mappings of an API Gateway custom domain name
version_added: 0.2.0
description:
  - Returns every base path mapping of a custom domain name (REST APIs), so a failover drill
    can record them before it deletes one and put them back with
    M(failover.aws.api_gateway_base_path_mapping).
  - Why a module of our own - M(community.aws.api_gateway_domain) manages a domain together
    with its mappings and returns them only when it changes the domain; no module of
    amazon.aws or community.aws only reads the mappings.
options:
  domain_name:
    description: The custom domain name.
    type: str
    required: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
author:
  - Event failover project team (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Record the custom domain's mappings before the drill
  failover.aws.api_gateway_base_path_mapping_info:
    domain_name: api.example.com
  register: recorded_mappings
"""

RETURN = r"""
mappings:
  description: The domain's base path mappings, sorted by base path.
  type: list
  elements: dict
  returned: always
  contains:
    base_path:
      description: The base path; C((none)) for the mapping without one, as AWS names it.
      type: str
      sample: (none)
    rest_api_id:
      description: ID of the REST API the base path leads to.
      type: str
    stage:
      description: Stage of the REST API; null when the mapping names none (callers then give the stage in the path).
      type: str
"""

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.failover.aws.plugins.module_utils.apigateway import mapping_to_result


@AWSRetry.jittered_backoff()
def list_mappings(client, domain_name):
    paginator = client.get_paginator("get_base_path_mappings")
    return paginator.paginate(domainName=domain_name).build_full_result().get("items", [])


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(domain_name=dict(type="str", required=True)),
        supports_check_mode=True,
    )
    client = module.client("apigateway", retry_decorator=AWSRetry.jittered_backoff())
    domain_name = module.params["domain_name"]
    try:
        items = list_mappings(client, domain_name)
    except is_boto3_error_code("NotFoundException"):
        module.fail_json(msg=f"custom domain name {domain_name} does not exist in region "
                             f"{module.region}: check domain_name and region")
    except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Could not list the base path mappings of {domain_name}")
    mappings = sorted((mapping_to_result(item) for item in items), key=lambda m: m["base_path"])
    module.exit_json(changed=False, mappings=mappings)


if __name__ == "__main__":
    main()
