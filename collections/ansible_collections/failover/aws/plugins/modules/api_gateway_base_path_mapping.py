#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: api_gateway_base_path_mapping
short_description: Create, update or delete one base path mapping of an API Gateway custom domain
version_added: 0.2.0
description:
  - With O(state=present), creates the mapping of O(base_path) on O(domain_name) to
    O(rest_api_id) and O(stage), or points an existing one there with UpdateBasePathMapping
    patch operations; a second run changes nothing.
  - With O(state=absent), deletes the mapping; a mapping that is already gone is not an error.
  - Takes the shape M(failover.aws.api_gateway_base_path_mapping_info) returns, so a recorded
    mapping can be put back as is.
  - Why a module of our own - M(community.aws.api_gateway_domain) manages a domain together
    with all its mappings (and needs the certificate), so it cannot remove or restore one
    mapping while leaving the domain alone; amazon.aws has no API Gateway module.
options:
  domain_name:
    description: The custom domain name.
    type: str
    required: true
  base_path:
    description:
      - The base path; C((none)) (or an empty string) for the mapping without one, which
        serves the whole domain.
    type: str
    default: (none)
  rest_api_id:
    description: ID of the REST API the base path leads to. Required with O(state=present).
    type: str
  stage:
    description:
      - Stage of the REST API. When not given, a new mapping names no stage (callers give it
        in the path) and an existing mapping keeps its stage.
    type: str
  state:
    description: Whether the mapping should exist.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - Supports check mode and C(--diff).
author:
  - Event failover project team (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Map the whole custom domain to the prod stage
  failover.aws.api_gateway_base_path_mapping:
    domain_name: api.example.com
    rest_api_id: "{{ rest_api_id }}"
    stage: prod

- name: Put back every mapping recorded before the drill
  failover.aws.api_gateway_base_path_mapping:
    domain_name: api.example.com
    base_path: "{{ item.base_path }}"
    rest_api_id: "{{ item.rest_api_id }}"
    stage: "{{ item.stage }}"
  loop: "{{ recorded_mappings.mappings }}"

- name: Remove the mapping of the whole domain
  failover.aws.api_gateway_base_path_mapping:
    domain_name: api.example.com
    state: absent
"""

RETURN = r"""
mapping:
  description: The mapping after the change (in check mode, what it would be); empty after O(state=absent).
  type: dict
  returned: always
  sample: {"base_path": "(none)", "rest_api_id": "a1b2c3d4e5", "stage": "prod"}
patch_operations:
  description: The UpdateBasePathMapping patch operations sent (or, in check mode, that would be sent).
  type: list
  elements: dict
  returned: always
"""

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.failover.aws.plugins.module_utils.apigateway import (
    NONE_BASE_PATH,
    base_path_key,
    mapping_to_result,
)


def get_mapping(client, domain_name, base_path):
    try:
        return client.get_base_path_mapping(domainName=domain_name, basePath=base_path,
                                            aws_retry=True)
    except is_boto3_error_code("NotFoundException"):
        # Either the mapping or the whole domain is missing: tell the two apart.
        client.get_domain_name(domainName=domain_name, aws_retry=True)
        return None


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            domain_name=dict(type="str", required=True),
            base_path=dict(type="str", default=NONE_BASE_PATH),
            rest_api_id=dict(type="str"),
            stage=dict(type="str"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
        ),
        required_if=[("state", "present", ["rest_api_id"])],
        supports_check_mode=True,
    )
    client = module.client("apigateway", retry_decorator=AWSRetry.jittered_backoff())
    params = module.params
    domain_name = params["domain_name"]
    base_path = base_path_key(params["base_path"])
    label = f"base path {base_path} of {domain_name}"

    try:
        current = get_mapping(client, domain_name, base_path)
    except is_boto3_error_code("NotFoundException"):
        if params["state"] == "absent":
            module.exit_json(changed=False, mapping={}, patch_operations=[])
        module.fail_json(msg=f"custom domain name {domain_name} does not exist in region "
                             f"{module.region}: check domain_name and region")
    except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Could not read {label}")
    before = mapping_to_result(current) if current else {}

    if params["state"] == "absent":
        if current and not module.check_mode:
            try:
                client.delete_base_path_mapping(domainName=domain_name, basePath=base_path,
                                                aws_retry=True)
            except is_boto3_error_code("NotFoundException"):
                current = None  # deleted meanwhile: the state is reached all the same
            except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
                module.fail_json_aws(e, msg=f"Could not delete {label}")
        module.exit_json(changed=bool(current), mapping={}, patch_operations=[],
                         diff={"before": before, "after": {}})

    ops = []
    if current is None:
        after = {"base_path": base_path, "rest_api_id": params["rest_api_id"],
                 "stage": params["stage"]}
        if not module.check_mode:
            request = {"domainName": domain_name, "restApiId": params["rest_api_id"]}
            if base_path != NONE_BASE_PATH:
                request["basePath"] = base_path
            if params["stage"]:
                request["stage"] = params["stage"]
            try:
                after = mapping_to_result(client.create_base_path_mapping(aws_retry=True,
                                                                          **request))
            except (BotoCoreError, ClientError) as e:
                module.fail_json_aws(e, msg=f"Could not create {label}")
        module.exit_json(changed=True, mapping=after, patch_operations=ops,
                         diff={"before": before, "after": after})

    if params["rest_api_id"] != before["rest_api_id"]:
        ops.append({"op": "replace", "path": "/restapiId", "value": params["rest_api_id"]})
    if params["stage"] is not None and params["stage"] != before["stage"]:
        ops.append({"op": "replace", "path": "/stage", "value": params["stage"]})
    after = dict(before, rest_api_id=params["rest_api_id"],
                 stage=params["stage"] if params["stage"] is not None else before["stage"])
    if ops and not module.check_mode:
        try:
            after = mapping_to_result(client.update_base_path_mapping(
                domainName=domain_name, basePath=base_path, patchOperations=ops,
                aws_retry=True))
        except (BotoCoreError, ClientError) as e:
            module.fail_json_aws(e, msg=f"Could not update {label}")
    module.exit_json(changed=bool(ops), mapping=after, patch_operations=ops,
                     diff={"before": before, "after": after})


if __name__ == "__main__":
    main()
