#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: api_gateway_stage
short_description: Create, update or delete one stage of an API Gateway REST API
version_added: 0.2.0
description:
  - With O(state=present), creates the stage from O(deployment_id) and brings it to the given
    description, stage variables, method settings, access log settings, tracing, cache and
    tags; an existing stage gets UpdateStage patch operations for what differs only, so a
    second run changes nothing. Options left out are left as they are.
  - The options take exactly the shape M(failover.aws.api_gateway_stage_info) returns, so a
    recorded stage can be fed back as is to recreate it after a drill deleted it.
  - With O(state=absent), deletes the stage; a stage (or REST API) that is already gone is
    not an error. With O(base_path_mappings), the custom domains' base path mappings listed
    there are deleted first, in the same run, so that the API stops answering on its custom
    domain and on its execute-api host within moments of each other, as in a regional outage;
    RV(deleted_at) says when the first delete was sent.
  - Why a module of our own - M(community.aws.api_gateway) only deploys a whole API to a
    stage (with variables, tracing and cache), and no module of amazon.aws or community.aws
    deletes one stage or sets its method settings or access log settings.
options:
  rest_api_id:
    description: ID of the REST API.
    type: str
    required: true
  stage_name:
    description: Name of the stage.
    type: str
    required: true
  state:
    description: Whether the stage should exist.
    type: str
    choices: [present, absent]
    default: present
  base_path_mappings:
    description:
      - With O(state=absent) only, base path mappings to delete before the stage (each
        C(domain_name) and C(base_path), C((none)) for the empty path), in the region the
        module runs in. A mapping that is already gone is not an error.
      - The failover drill injects its unplanned fault this way. Deleting the mappings in one
        task and the stage in another leaves seconds between the two under load, and
        Route 53 counts from the second. The drill would then report a detection time longer
        than Route 53's own.
    type: list
    elements: dict
    version_added: 0.4.0
    suboptions:
      domain_name:
        description: The custom domain name.
        type: str
        required: true
      base_path:
        description: The base path, C((none)) for the empty one.
        type: str
        default: (none)
  deployment_id:
    description:
      - ID of the deployment the stage serves. Required to create the stage; an existing
        stage is moved to it when it differs.
    type: str
  description:
    description: Description of the stage.
    type: str
  variables:
    description:
      - Stage variables, exactly (variables not listed are removed). Left as they are when
        not given.
    type: dict
  method_settings:
    description:
      - Method settings, exactly (keys not listed are removed), keyed as AWS keys them -
        C(*/*) for every method, C(~1pets/GET) for C(GET /pets) (C(/pets/GET) is accepted too).
      - Each value is a dict of any of C(metrics_enabled), C(logging_level) (C(OFF), C(ERROR),
        C(INFO)), C(data_trace_enabled), C(throttling_burst_limit), C(throttling_rate_limit),
        C(caching_enabled), C(cache_ttl_in_seconds), C(cache_data_encrypted),
        C(require_authorization_for_cache_control) and
        C(unauthorized_cache_control_header_strategy); fields not given keep their value.
      - Left as they are when not given.
    type: dict
  access_log_settings:
    description:
      - Access logging of the stage. An empty dict turns access logging off. Left as it is
        when not given.
    type: dict
    suboptions:
      destination_arn:
        description: ARN of the CloudWatch Logs log group (or Firehose stream) that receives the log.
        type: str
      format:
        description: Format of one access log line, with C($context) variables.
        type: str
  tracing_enabled:
    description: Whether X-Ray tracing is on. Left as it is when not given.
    type: bool
  cache_cluster_enabled:
    description: Whether the stage has a cache cluster. Left as it is when not given.
    type: bool
  cache_cluster_size:
    description: Size of the cache cluster in GB (C(0.5), C(1.6), C(6.1) ...). Left as it is when not given.
    type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
notes:
  - Supports check mode and C(--diff) (the stage before and after, in the shape of the module's RV(stage)).
  - Canary settings, client certificates, WAF web ACLs and documentation versions are not
    managed.
  - Tag keys that start with C(aws:) belong to AWS (a stage CloudFormation made carries
    C(aws:cloudformation:stack-name), C(stack-id) and C(logical-id)). API Gateway refuses them
    from clients, so they are never sent nor removed, and a recorded stage's tags can be given
    back as they were recorded.
author:
  - Event failover project team (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Record the stage and the custom domain's mappings
  failover.aws.api_gateway_stage_info:
    rest_api_id: "{{ primary_rest_api_id }}"
    stage_name: prod
  register: recorded

- name: Delete the stage (the unplanned outage)
  failover.aws.api_gateway_stage:
    rest_api_id: "{{ primary_rest_api_id }}"
    stage_name: prod
    state: absent

- name: Take the API off its custom domain and delete its stage, as in a regional outage
  failover.aws.api_gateway_stage:
    rest_api_id: "{{ primary_rest_api_id }}"
    stage_name: prod
    state: absent
    base_path_mappings:
      - domain_name: api.example.com
        base_path: (none)
  register: outage

- name: Restore the stage with the recorded settings
  failover.aws.api_gateway_stage:
    rest_api_id: "{{ primary_rest_api_id }}"
    stage_name: prod
    deployment_id: "{{ recorded.stages[0].deployment_id }}"
    description: "{{ recorded.stages[0].description }}"
    variables: "{{ recorded.stages[0].variables }}"
    method_settings: "{{ recorded.stages[0].method_settings }}"
    access_log_settings: "{{ recorded.stages[0].access_log_settings }}"
    tracing_enabled: "{{ recorded.stages[0].tracing_enabled }}"
    tags: "{{ recorded.stages[0].tags }}"

- name: Throttle every method of a stage and log errors
  failover.aws.api_gateway_stage:
    rest_api_id: "{{ rest_api_id }}"
    stage_name: prod
    method_settings:
      "*/*":
        throttling_rate_limit: 100
        throttling_burst_limit: 50
        logging_level: ERROR
"""

RETURN = r"""
stage:
  description:
    - The stage after the change, as M(failover.aws.api_gateway_stage_info) returns it (in
      check mode, what it would be); empty after O(state=absent).
  type: dict
  returned: always
  sample: {"stage_name": "prod", "deployment_id": "abc123", "description": "", "variables": {},
           "method_settings": {"*/*": {"metrics_enabled": true}}, "access_log_settings": {},
           "tracing_enabled": false, "tags": {}}
patch_operations:
  description: The UpdateStage patch operations sent (or, in check mode, that would be sent).
  type: list
  elements: dict
  returned: always
deleted_base_path_mappings:
  description: The O(base_path_mappings) that existed and were deleted (or would be, in check mode).
  type: list
  elements: dict
  returned: when O(state=absent)
  sample: [{"domain_name": "api.example.com", "base_path": "(none)"}]
deleted_at:
  description:
    - With O(state=absent), when the first delete request was sent (ISO 8601, UTC); null when
      nothing was deleted or in check mode.
  type: str
  returned: when O(state=absent)
  sample: "2026-11-28T14:02:11.120394+00:00"
"""

import copy
import datetime

try:
    from botocore.exceptions import BotoCoreError, ClientError
    from botocore.session import Session as BotocoreSession
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible.module_utils.common.text.converters import to_text
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags
from ansible_collections.failover.aws.plugins.module_utils.apigateway import (
    ACCESS_LOG_SETTINGS,
    METHOD_SETTINGS,
    coerce,
    method_settings_key,
    patch_value,
    stage_to_result,
)

UTC = datetime.timezone.utc  # noqa: UP017 - modules may run on a target Python before 3.11


# Tag keys reserved for AWS: "The tag key ... must not start with aws:" (API Gateway API
# reference, CreateStage and TagResource), and CloudFormation adds its system tags with it.
RESERVED_TAG_PREFIX = "aws:"


def user_tags(tags):
    """The tags a client may set or remove (``tags`` without AWS's reserved keys)."""
    if tags is None:
        return None
    return {k: v for k, v in tags.items() if not k.startswith(RESERVED_TAG_PREFIX)}


def replace(path, value):
    return {"op": "replace", "path": path, "value": value}


def remove(path):
    return {"op": "remove", "path": path}


def wanted_method_settings(module):
    """The method_settings option with AWS's keys and typed values; fails on unknown fields."""
    given = module.params["method_settings"]
    if given is None:
        return None
    wanted = {}
    for key, setting in given.items():
        if not isinstance(setting, dict):
            module.fail_json(msg=f"method_settings[{key!r}] must be a dict of settings")
        unknown = sorted(set(setting) - set(METHOD_SETTINGS))
        if unknown:
            module.fail_json(msg=f"method_settings[{key!r}] has unknown settings {unknown}: "
                                 f"use {sorted(METHOD_SETTINGS)}")
        try:
            wanted[method_settings_key(key)] = {
                name: coerce(METHOD_SETTINGS[name][2], value)
                for name, value in setting.items() if value is not None
            }
        except (TypeError, ValueError) as e:
            module.fail_json(msg=f"method_settings[{key!r}]: {e}")
    return wanted


def wanted_access_log(module):
    given = module.params["access_log_settings"]
    if given is None:
        return None
    return {name: value for name, value in given.items() if value is not None}


def patch_operations(current, params, method_settings, access_log):
    """UpdateStage operations that bring ``current`` (a stage result) to what is wanted."""
    ops = []
    if params["deployment_id"] and params["deployment_id"] != current["deployment_id"]:
        ops.append(replace("/deploymentId", params["deployment_id"]))
    if params["description"] is not None and params["description"] != current["description"]:
        ops.append(replace("/description", params["description"]))

    if params["variables"] is not None:
        wanted = {name: to_text(value) for name, value in params["variables"].items()}
        for name, value in sorted(wanted.items()):
            if current["variables"].get(name) != value:
                ops.append(replace(f"/variables/{name}", value))
        ops += [remove(f"/variables/{name}") for name in sorted(current["variables"])
                if name not in wanted]

    if method_settings is not None:
        for key, setting in sorted(method_settings.items()):
            present = current["method_settings"].get(key)
            for name, value in sorted(setting.items()):
                _field, suffix, kind = METHOD_SETTINGS[name]
                # A new key is created with AWS's defaults: send every field given for it.
                if present is None or present.get(name) != value:
                    ops.append(replace(f"/{key}/{suffix}", patch_value(kind, value)))
        ops += [remove(f"/{key}") for key in sorted(current["method_settings"])
                if key not in method_settings]

    if access_log is not None:
        if not access_log and current["access_log_settings"]:
            ops.append(remove("/accessLogSettings"))
        for name, field in ACCESS_LOG_SETTINGS.items():
            if name in access_log and current["access_log_settings"].get(name) != access_log[name]:
                ops.append(replace(f"/accessLogSettings/{field}", access_log[name]))

    for option, field in (("tracing_enabled", "tracingEnabled"),
                          ("cache_cluster_enabled", "cacheClusterEnabled")):
        if params[option] is not None and params[option] != current[option]:
            ops.append(replace(f"/{field}", patch_value(bool, params[option])))
    size = params["cache_cluster_size"]
    if size is not None and size != current["cache_cluster_size"]:
        ops.append(replace("/cacheClusterSize", size))
    return ops


def predicted(current, params, method_settings, access_log, tags):
    """What the stage would look like after the change (check mode and --diff)."""
    after = copy.deepcopy(current)
    for option in ("deployment_id", "description", "tracing_enabled", "cache_cluster_enabled",
                   "cache_cluster_size"):
        if params[option] is not None:
            after[option] = params[option]
    if params["variables"] is not None:
        after["variables"] = {k: to_text(v) for k, v in params["variables"].items()}
    if method_settings is not None:
        after["method_settings"] = {
            key: dict(after["method_settings"].get(key, {}), **setting)
            for key, setting in method_settings.items()
        }
    if access_log is not None:
        after["access_log_settings"] = dict(access_log)
    if tags is not None:
        to_set, to_unset = tags
        after["tags"] = {k: v for k, v in dict(after["tags"], **to_set).items()
                         if k not in to_unset}
    return after


def stage_arn(module):
    # The ARN's partition follows the region (aws, aws-cn, aws-us-gov, ...).
    partition = BotocoreSession().get_partition_for_region(module.region)
    return (f"arn:{partition}:apigateway:{module.region}::/restapis/"
            f"{module.params['rest_api_id']}/stages/{module.params['stage_name']}")


def get_stage(client, module):
    try:
        return client.get_stage(restApiId=module.params["rest_api_id"],
                                stageName=module.params["stage_name"], aws_retry=True)
    except is_boto3_error_code("NotFoundException"):
        return None


def existing_mappings(client, module):
    """The requested base path mappings that exist (the rest is already as wanted)."""
    found = []
    for mapping in module.params["base_path_mappings"] or []:
        try:
            client.get_base_path_mapping(domainName=mapping["domain_name"],
                                         basePath=mapping["base_path"], aws_retry=True)
        except is_boto3_error_code("NotFoundException"):
            continue
        found.append({"domain_name": mapping["domain_name"], "base_path": mapping["base_path"]})
    return found


def ensure_absent(client, module):
    params = module.params
    label = f"stage {params['stage_name']} of REST API {params['rest_api_id']}"
    try:
        mappings = existing_mappings(client, module)
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg="Could not read the base path mappings to delete")
    try:
        stage = get_stage(client, module)
    except is_boto3_error_code("NotFoundException"):
        stage = None
    except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Could not read {label}")
    result = dict(changed=bool(mappings) or stage is not None, stage={}, patch_operations=[],
                  deleted_base_path_mappings=mappings, deleted_at=None)
    if module.check_mode or not result["changed"]:
        module.exit_json(**result)
    result["deleted_at"] = datetime.datetime.now(UTC).isoformat()
    for mapping in mappings:
        try:
            client.delete_base_path_mapping(domainName=mapping["domain_name"],
                                            basePath=mapping["base_path"], aws_retry=True)
        except is_boto3_error_code("NotFoundException"):
            pass
        except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
            module.fail_json_aws(e, msg=f"Could not delete base path mapping "
                                        f"{mapping['domain_name']}/{mapping['base_path']}")
    if stage is not None:
        try:
            client.delete_stage(restApiId=params["rest_api_id"],
                                stageName=params["stage_name"], aws_retry=True)
        except is_boto3_error_code("NotFoundException"):
            stage = None
        except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
            module.fail_json_aws(e, msg=f"Could not delete {label}")
    result["diff"] = {"before": stage_to_result(stage) if stage else {}, "after": {}}
    module.exit_json(**result)


def create(client, module):
    params = module.params
    if not params["deployment_id"]:
        module.fail_json(msg=f"stage {params['stage_name']} does not exist: set deployment_id "
                             "to create it")
    request = {
        "stageName": params["stage_name"],
        "deploymentId": params["deployment_id"],
    }
    for option, field in (("description", "description"), ("tracing_enabled", "tracingEnabled"),
                          ("cache_cluster_enabled", "cacheClusterEnabled"),
                          ("cache_cluster_size", "cacheClusterSize")):
        if params[option] is not None:
            request[field] = params[option]
    if params["variables"]:
        request["variables"] = {k: to_text(v) for k, v in params["variables"].items()}
    if user_tags(params["tags"]):
        request["tags"] = {k: to_text(v) for k, v in user_tags(params["tags"]).items()}
    if module.check_mode:
        # Fail as the create would, rather than promise a change that cannot happen; the
        # request stands for the stage it would create (same field names as GetStage).
        client.get_deployment(restApiId=params["rest_api_id"],
                              deploymentId=params["deployment_id"], aws_retry=True)
        return request
    return client.create_stage(restApiId=params["rest_api_id"], aws_retry=True, **request)


def ensure_present(client, module):
    params = module.params
    label = f"stage {params['stage_name']} of REST API {params['rest_api_id']}"
    method_settings = wanted_method_settings(module)
    access_log = wanted_access_log(module)
    created = False
    try:
        stage = get_stage(client, module)
        if stage is None:
            client.get_rest_api(restApiId=params["rest_api_id"], aws_retry=True)
            stage = create(client, module)
            created = True
    except is_boto3_error_code("NotFoundException") as e:
        module.fail_json_aws(e, msg=f"Could not create {label}: check rest_api_id and deployment_id")
    except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Could not read or create {label}")

    before = {} if created else stage_to_result(stage)
    current = stage_to_result(stage)
    ops = patch_operations(current, params, method_settings, access_log)
    tags = None
    if params["tags"] is not None:
        tags = compare_aws_tags(user_tags(current["tags"]), user_tags(params["tags"]),
                                params["purge_tags"])
    changed = created or bool(ops) or bool(tags and (tags[0] or tags[1]))

    if module.check_mode:
        after = predicted(current, params, method_settings, access_log, tags)
    else:
        try:
            if ops:
                client.update_stage(restApiId=params["rest_api_id"],
                                    stageName=params["stage_name"],
                                    patchOperations=ops, aws_retry=True)
            if tags and tags[0]:
                client.tag_resource(resourceArn=stage_arn(module),
                                    tags={k: to_text(v) for k, v in tags[0].items()},
                                    aws_retry=True)
            if tags and tags[1]:
                client.untag_resource(resourceArn=stage_arn(module), tagKeys=tags[1],
                                      aws_retry=True)
            after = stage_to_result(get_stage(client, module))
        except (BotoCoreError, ClientError) as e:
            module.fail_json_aws(e, msg=f"Could not update {label}")
    module.exit_json(changed=changed, stage=after, patch_operations=ops,
                     diff={"before": before, "after": after})


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            rest_api_id=dict(type="str", required=True),
            stage_name=dict(type="str", required=True),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            base_path_mappings=dict(
                type="list", elements="dict",
                options=dict(domain_name=dict(type="str", required=True),
                             base_path=dict(type="str", default="(none)")),
            ),
            deployment_id=dict(type="str"),
            description=dict(type="str"),
            variables=dict(type="dict"),
            method_settings=dict(type="dict"),
            access_log_settings=dict(
                type="dict",
                options=dict(destination_arn=dict(type="str"), format=dict(type="str")),
                required_together=[["destination_arn", "format"]],
            ),
            tracing_enabled=dict(type="bool"),
            cache_cluster_enabled=dict(type="bool"),
            cache_cluster_size=dict(type="str"),
            tags=dict(type="dict", aliases=["resource_tags"]),
            purge_tags=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    if module.params["base_path_mappings"] and module.params["state"] != "absent":
        module.fail_json(msg="base_path_mappings is for state=absent only: the mappings are "
                             "deleted with the stage (use api_gateway_base_path_mapping to "
                             "create them)")
    client = module.client("apigateway", retry_decorator=AWSRetry.jittered_backoff())
    if module.params["state"] == "absent":
        ensure_absent(client, module)
    else:
        ensure_present(client, module)


if __name__ == "__main__":
    main()
