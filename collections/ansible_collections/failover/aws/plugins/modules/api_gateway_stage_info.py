#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: api_gateway_stage_info
short_description: Read the full settings of API Gateway REST API stages
version_added: 0.2.0
description:
  - Returns one stage of a REST API, or all of them, with every setting needed to recreate the
    stage - deployment, description, stage variables, method settings, access log settings,
    tracing, cache and tags - in exactly the shape M(failover.aws.api_gateway_stage) takes, so
    a failover drill can record a stage, delete it and put it back as it was.
  - Why a module of our own - M(community.aws.api_gateway_info) lists REST APIs only, and no
    module of amazon.aws or community.aws reads a stage's settings.
  - The keys of RV(stages[].method_settings) are AWS's own (C(*/*) for every method,
    C(~1pets/GET) for C(GET /pets)); only the field names inside each setting are snake_cased.
options:
  rest_api_id:
    description: ID of the REST API.
    type: str
    required: true
  stage_name:
    description: Name of one stage to read. All stages of the API when not given.
    type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
author:
  - Event failover project team (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Record the primary stage before the drill deletes it
  failover.aws.api_gateway_stage_info:
    rest_api_id: "{{ primary_rest_api_id }}"
    stage_name: prod
  register: recorded_stage

- name: Put the stage back exactly as recorded
  failover.aws.api_gateway_stage:
    rest_api_id: "{{ primary_rest_api_id }}"
    stage_name: "{{ recorded_stage.stages[0].stage_name }}"
    deployment_id: "{{ recorded_stage.stages[0].deployment_id }}"
    description: "{{ recorded_stage.stages[0].description }}"
    variables: "{{ recorded_stage.stages[0].variables }}"
    method_settings: "{{ recorded_stage.stages[0].method_settings }}"
    access_log_settings: "{{ recorded_stage.stages[0].access_log_settings }}"
    tracing_enabled: "{{ recorded_stage.stages[0].tracing_enabled }}"
    tags: "{{ recorded_stage.stages[0].tags }}"
"""

RETURN = r"""
stages:
  description: The stages, sorted by name; empty when O(stage_name) does not exist.
  type: list
  elements: dict
  returned: always
  contains:
    stage_name:
      description: Name of the stage.
      type: str
      sample: prod
    deployment_id:
      description: ID of the deployment the stage serves.
      type: str
    description:
      description: Description of the stage (empty string when none).
      type: str
    variables:
      description: Stage variables.
      type: dict
    method_settings:
      description:
        - Method settings keyed as AWS keys them (C(*/*), C(~1pets/GET)), each with
          throttling_rate_limit, throttling_burst_limit, logging_level, metrics_enabled,
          data_trace_enabled, caching_enabled, cache_ttl_in_seconds, cache_data_encrypted,
          require_authorization_for_cache_control and unauthorized_cache_control_header_strategy.
      type: dict
      sample: {"*/*": {"logging_level": "INFO", "metrics_enabled": true, "throttling_burst_limit": 50}}
    access_log_settings:
      description: destination_arn and format of access logging; empty when access logging is off.
      type: dict
    tracing_enabled:
      description: Whether X-Ray tracing is on.
      type: bool
    tags:
      description: Tags of the stage.
      type: dict
    cache_cluster_enabled:
      description: Whether the stage has a cache cluster.
      type: bool
    cache_cluster_size:
      description: Size of the cache cluster in GB, when there is one.
      type: str
    cache_cluster_status:
      description: Status of the cache cluster, when AWS reports one.
      type: str
    created_date:
      description: When the stage was created (ISO-8601), when AWS reports it.
      type: str
    last_updated_date:
      description: When the stage was last changed (ISO-8601), when AWS reports it.
      type: str
"""

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.failover.aws.plugins.module_utils.apigateway import stage_to_result


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            rest_api_id=dict(type="str", required=True),
            stage_name=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    client = module.client("apigateway", retry_decorator=AWSRetry.jittered_backoff())
    api_id = module.params["rest_api_id"]
    stage_name = module.params["stage_name"]
    try:
        if stage_name:
            try:
                stages = [client.get_stage(restApiId=api_id, stageName=stage_name, aws_retry=True)]
            except is_boto3_error_code("NotFoundException"):
                # Either the stage or the API is missing: tell the two apart.
                client.get_rest_api(restApiId=api_id, aws_retry=True)
                stages = []
        else:
            stages = client.get_stages(restApiId=api_id, aws_retry=True).get("item", [])
    except is_boto3_error_code("NotFoundException"):
        module.fail_json(msg=f"REST API {api_id} does not exist: check rest_api_id")
    except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Could not read the stages of REST API {api_id}")

    results = sorted((stage_to_result(stage) for stage in stages), key=lambda s: s["stage_name"])
    module.exit_json(changed=False, stages=results)


if __name__ == "__main__":
    main()
