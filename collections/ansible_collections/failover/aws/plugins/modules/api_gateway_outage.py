#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: api_gateway_outage
short_description: Take a REST API's stage off the air as in a regional outage, and put it back
version_added: 0.6.0
description:
  - The failover drill's unplanned fault and its restore, each in one run.
  - With O(state=recorded), writes to O(record_path) what the restore needs - the stage's
    settings (in the shape M(failover.aws.api_gateway_stage_info) returns) and the custom
    domain's base path mappings to the API - and deletes nothing (a planned drill inverts the
    health check instead).
  - With O(state=injected), records the same way, then deletes those mappings and the stage,
    within moments of each other, and returns RV(deleted_at), when the first delete was sent.
    A stage already gone keeps the record an earlier run wrote (its settings are what the
    restore needs).
  - With O(state=restored), recreates a missing stage from the record, else from
    O(expected_stage), else from O(deployment_id) alone; recreates the custom domain's
    mappings as recorded (without a record, C((none)) to O(stage_name)); then removes the
    record. On a healthy API it changes nothing. An existing stage's settings are left as
    they are (the drill deletes a stage, it never changes one).
  - Why a module of our own - no module of amazon.aws or community.aws deletes one stage or
    sets its method or access log settings, and a drill built from separate record, delete
    and recreate tasks spreads one decision (what to put back, from which source) over Jinja
    in several tasks. Deleting the mappings and the stage in separate tasks also leaves
    seconds between them under load, which Route 53 cannot see, so the drill would report a
    detection time longer than Route 53's own.
options:
  state:
    description: Record only, record and delete (the outage), or restore.
    type: str
    choices: [recorded, injected, restored]
    required: true
  rest_api_id:
    description: ID of the REST API.
    type: str
    required: true
  stage_name:
    description: Name of the stage the outage deletes.
    type: str
    required: true
  domain_name:
    description: The custom domain name whose base path mappings to the API go and come back.
    type: str
    required: true
  record_path:
    description:
      - The record of the stage and mappings, JSON, on the host the module runs on (the
        controller for a local connection). Read and removed by O(state=restored).
      - Its keys are O(record)'s, then C(region), C(rest_api_id), C(stage) (empty when there
        was no stage) and C(mappings) (each C(base_path), C(rest_api_id), C(stage)).
    type: path
    required: true
  record:
    description: More keys written into the record as they are (who recorded it and why).
    type: dict
    default: {}
  expected_stage:
    description:
      - With O(state=restored) and no record, the stage to recreate, in the shape
        M(failover.aws.api_gateway_stage) takes (for example the stack's expected
        properties through the filter P(failover.aws.stage_from_cloudformation#filter)).
    type: dict
    default: {}
  deployment_id:
    description:
      - With O(state=restored), the deployment a recreated stage serves when neither the
        record nor O(expected_stage) names one (the stack's deployment).
    type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - Supports check mode (nothing is written, deleted or removed, the record included).
  - Tag keys that start with C(aws:) belong to AWS and are not sent when the stage is
    recreated.
author:
  - Event failover project team (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Take the primary's API off its custom domain and delete its stage
  failover.aws.api_gateway_outage:
    state: injected
    rest_api_id: "{{ primary_rest_api_id }}"
    stage_name: prod
    domain_name: api.example.com
    record_path: reports/pending-restore-demo.json
    record: {mode: unplanned, deployment_name: demo}
  register: outage

- name: Put the stage and the mappings back, as recorded or as the stack expects them
  failover.aws.api_gateway_outage:
    state: restored
    rest_api_id: "{{ primary_rest_api_id }}"
    stage_name: prod
    domain_name: api.example.com
    record_path: reports/pending-restore-demo.json
    deployment_id: "{{ stack_deployment_id }}"
"""

RETURN = r"""
record:
  description: What was recorded (O(state=recorded), O(state=injected)) or read back (O(state=restored)); empty without one.
  type: dict
  returned: always
  sample: {"mode": "unplanned", "region": "us-east-1", "rest_api_id": "abc123",
           "stage": {"stage_name": "prod", "deployment_id": "d1"},
           "mappings": [{"base_path": "(none)", "rest_api_id": "abc123", "stage": "prod"}]}
deleted_at:
  description: When the first delete was sent (ISO 8601, UTC); null when nothing was deleted or in check mode.
  type: str
  returned: always
  sample: "2026-11-28T14:02:11.120394+00:00"
deleted:
  description: What O(state=injected) deleted (or would delete), as C(stage) (bool) and C(mappings) (base paths).
  type: dict
  returned: always
  sample: {"stage": true, "mappings": ["(none)"]}
restored:
  description:
    - What O(state=restored) recreated (or would), as C(stage) (where its settings came from,
      C(record), C(expected_stage) or C(deployment_id); null when the stage was there) and
      C(mappings) (base paths created or pointed back at the stage).
  type: dict
  returned: always
  sample: {"stage": "record", "mappings": ["(none)"]}
record_removed:
  description: Whether O(state=restored) removed the record (or would).
  type: bool
  returned: always
"""

import datetime
import json
import os

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible.module_utils.common.text.converters import to_text
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.failover.aws.plugins.module_utils.apigateway import (
    ACCESS_LOG_SETTINGS,
    METHOD_SETTINGS,
    NONE_BASE_PATH,
    coerce,
    mapping_to_result,
    method_settings_key,
    patch_value,
    stage_to_result,
)

UTC = datetime.timezone.utc  # noqa: UP017 - modules may run on a target Python before 3.11

# Tag keys reserved for AWS (CloudFormation's system tags); API Gateway refuses them from clients.
RESERVED_TAG_PREFIX = "aws:"


def read_stage(client, params):
    try:
        return stage_to_result(client.get_stage(restApiId=params["rest_api_id"],
                                                stageName=params["stage_name"], aws_retry=True))
    except is_boto3_error_code("NotFoundException"):
        return None


def read_mappings(client, params):
    """The custom domain's base path mappings to the REST API."""
    pages = client.get_paginator("get_base_path_mappings").paginate(
        domainName=params["domain_name"])
    return [mapping_to_result(item) for page in pages for item in page.get("items", [])
            if item.get("restApiId") == params["rest_api_id"]]


def load_record(path):
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def stage_patch_operations(stage):
    """UpdateStage operations giving a new stage the method and access log settings of ``stage``
    (CreateStage takes neither)."""
    ops = []
    for key, setting in sorted((stage.get("method_settings") or {}).items()):
        for name, value in sorted(setting.items()):
            if name in METHOD_SETTINGS and value is not None:
                _field, suffix, kind = METHOD_SETTINGS[name]
                ops.append({"op": "replace", "path": f"/{method_settings_key(key)}/{suffix}",
                            "value": patch_value(kind, coerce(kind, value))})
    access_log = stage.get("access_log_settings") or {}
    for name, field in ACCESS_LOG_SETTINGS.items():
        if access_log.get(name):
            ops.append({"op": "replace", "path": f"/accessLogSettings/{field}",
                        "value": access_log[name]})
    return ops


def create_stage(client, params, stage):
    request = {"restApiId": params["rest_api_id"], "stageName": params["stage_name"],
               "deploymentId": stage.get("deployment_id") or params["deployment_id"]}
    if stage.get("description"):
        request["description"] = stage["description"]
    if stage.get("variables"):
        request["variables"] = {k: to_text(v) for k, v in stage["variables"].items()}
    if stage.get("tracing_enabled"):
        request["tracingEnabled"] = True
    if stage.get("cache_cluster_enabled"):
        request["cacheClusterEnabled"] = True
        if stage.get("cache_cluster_size"):
            request["cacheClusterSize"] = stage["cache_cluster_size"]
    tags = {k: to_text(v) for k, v in (stage.get("tags") or {}).items()
            if not k.startswith(RESERVED_TAG_PREFIX)}
    if tags:
        request["tags"] = tags
    client.create_stage(aws_retry=True, **request)
    ops = stage_patch_operations(stage)
    if ops:
        client.update_stage(restApiId=params["rest_api_id"], stageName=params["stage_name"],
                            patchOperations=ops, aws_retry=True)


def record_and_delete(client, module):
    params = module.params
    stage = read_stage(client, params)
    mappings = read_mappings(client, params)
    earlier = load_record(params["record_path"])
    keep_earlier = stage is None and earlier is not None
    record = earlier if keep_earlier else dict(
        params["record"], region=module.region, rest_api_id=params["rest_api_id"],
        stage=stage or {}, mappings=mappings)
    inject = params["state"] == "injected"
    deleted = {"stage": inject and stage is not None,
               "mappings": [m["base_path"] for m in mappings] if inject else []}
    changed = not keep_earlier or deleted["stage"] or bool(deleted["mappings"])
    result = dict(changed=changed, record=record, deleted=deleted, deleted_at=None,
                  restored={"stage": None, "mappings": []}, record_removed=False)
    if module.check_mode:
        module.exit_json(**result)
    if not keep_earlier:
        directory = os.path.dirname(os.path.abspath(params["record_path"]))
        os.makedirs(directory, exist_ok=True)
        with open(params["record_path"], "w", encoding="utf-8") as handle:
            json.dump(record, handle, indent=4, sort_keys=True)
    if deleted["stage"] or deleted["mappings"]:
        result["deleted_at"] = datetime.datetime.now(UTC).isoformat()
    for base_path in deleted["mappings"]:
        try:
            client.delete_base_path_mapping(domainName=params["domain_name"], basePath=base_path,
                                            aws_retry=True)
        except is_boto3_error_code("NotFoundException"):
            pass
    if deleted["stage"]:
        try:
            client.delete_stage(restApiId=params["rest_api_id"], stageName=params["stage_name"],
                                aws_retry=True)
        except is_boto3_error_code("NotFoundException"):
            pass
    module.exit_json(**result)


def restore(client, module):
    params = module.params
    record = load_record(params["record_path"])
    restored = {"stage": None, "mappings": []}
    stage = read_stage(client, params)
    if stage is None:
        sources = (("record", (record or {}).get("stage")), ("expected_stage", params["expected_stage"]))
        source, wanted = next(((name, stage) for name, stage in sources if stage), ("deployment_id", {}))
        if not (wanted.get("deployment_id") or params["deployment_id"]):
            module.fail_json(msg=f"stage {params['stage_name']} of REST API "
                                 f"{params['rest_api_id']} is missing and nothing says which "
                                 "deployment it served: set deployment_id")
        restored["stage"] = source
        if not module.check_mode:
            create_stage(client, params, wanted)

    wanted_mappings = (record or {}).get("mappings") or [
        {"base_path": NONE_BASE_PATH, "stage": params["stage_name"]}]
    for wanted in wanted_mappings:
        base_path = wanted.get("base_path") or NONE_BASE_PATH
        stage_name = wanted.get("stage") or params["stage_name"]
        try:
            current = client.get_base_path_mapping(domainName=params["domain_name"],
                                                   basePath=base_path, aws_retry=True)
        except is_boto3_error_code("NotFoundException"):
            current = None
        if current and (current.get("restApiId"), current.get("stage")) == (
                params["rest_api_id"], stage_name):
            continue
        restored["mappings"].append(base_path)
        if module.check_mode:
            continue
        if current:
            client.update_base_path_mapping(
                domainName=params["domain_name"], basePath=base_path, aws_retry=True,
                patchOperations=[{"op": "replace", "path": "/restapiId", "value": params["rest_api_id"]},
                                 {"op": "replace", "path": "/stage", "value": stage_name}])
        else:
            request = {"domainName": params["domain_name"], "restApiId": params["rest_api_id"],
                       "stage": stage_name}
            if base_path != NONE_BASE_PATH:
                request["basePath"] = base_path
            client.create_base_path_mapping(aws_retry=True, **request)

    removed = record is not None
    if removed and not module.check_mode:
        os.remove(params["record_path"])
    module.exit_json(changed=bool(restored["stage"] or restored["mappings"] or removed),
                     record=record or {}, deleted={"stage": False, "mappings": []},
                     deleted_at=None, restored=restored, record_removed=removed)


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            state=dict(type="str", choices=["recorded", "injected", "restored"], required=True),
            rest_api_id=dict(type="str", required=True),
            stage_name=dict(type="str", required=True),
            domain_name=dict(type="str", required=True),
            record_path=dict(type="path", required=True),
            record=dict(type="dict", default={}),
            expected_stage=dict(type="dict", default={}),
            deployment_id=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    client = module.client("apigateway", retry_decorator=AWSRetry.jittered_backoff())
    label = f"stage {module.params['stage_name']} of REST API {module.params['rest_api_id']}"
    try:
        if module.params["state"] == "restored":
            restore(client, module)
        record_and_delete(client, module)
    except (BotoCoreError, ClientError) as e:
        action = {"recorded": "record", "injected": "inject", "restored": "restore"}[module.params["state"]]
        module.fail_json_aws(e, msg=f"Could not {action} the outage of {label} on {module.params['domain_name']}")
    except (OSError, ValueError) as e:
        module.fail_json(msg=f"Could not use the record {module.params['record_path']}: {e}")


if __name__ == "__main__":
    main()
