#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: cloudformation_drift_info
short_description: Detect a CloudFormation stack's drift and list the drifted resources
version_added: 0.2.0
description:
  - Starts drift detection on a stack (DetectStackDrift), waits until it completes and returns
    the stack's drift status with every resource whose live configuration differs from the
    template (MODIFIED) or that no longer exists (DELETED), with the property differences.
  - Why a module of our own - neither M(amazon.aws.cloudformation_info) nor any community.aws
    module runs drift detection; after a drill restores resources out-of-band, an operator must
    know whether the stacks still match their templates.
  - Drift detection changes no resource, so the module runs in check mode too.
options:
  stack_name:
    description: Name or ID of the stack.
    type: str
    required: true
  resource_drift_statuses:
    description: Resource drift statuses to return.
    type: list
    elements: str
    default: [MODIFIED, DELETED]
    choices: [IN_SYNC, MODIFIED, DELETED, NOT_CHECKED, UNKNOWN, UNSUPPORTED]
  wait_timeout:
    description: Seconds to wait for the detection to complete.
    type: int
    default: 300
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
author:
  - Event failover project team (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Report drift left by a restore
  failover.aws.cloudformation_drift_info:
    stack_name: evfail-primary
  register: primary_drift

- name: Say what drifted
  ansible.builtin.debug:
    msg: "{{ primary_drift.drifted_resources | map(attribute='logical_resource_id') }}"
  when: primary_drift.stack_drift_status == 'DRIFTED'
"""

RETURN = r"""
stack_drift_status:
  description: DRIFTED, IN_SYNC, UNKNOWN or NOT_CHECKED.
  type: str
  returned: always
drifted_stack_resource_count:
  description: Number of resources that drifted.
  type: int
  returned: always
detection_id:
  description: ID of the drift detection.
  type: str
  returned: always
drifted_resources:
  description: Resources with one of the requested drift statuses.
  type: list
  elements: dict
  returned: always
  contains:
    logical_resource_id:
      description: Logical ID in the template.
      type: str
    physical_resource_id:
      description: Physical ID.
      type: str
    resource_type:
      description: CloudFormation type.
      type: str
    drift_status:
      description: MODIFIED, DELETED, ...
      type: str
    property_differences:
      description: Property path, expected and actual value and difference type of each difference.
      type: list
      elements: dict
    expected_properties:
      description: The resource's properties as the template defines them (resolved).
      type: dict
    actual_properties:
      description: The resource's live properties (absent for a deleted resource).
      type: dict
"""

import json
import time

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry


def _json(text):
    try:
        return json.loads(text) if text else {}
    except ValueError:
        return {}


def wait_for_detection(module, client, detection_id, timeout):
    deadline = time.monotonic() + timeout
    while True:
        status = client.describe_stack_drift_detection_status(
            StackDriftDetectionId=detection_id, aws_retry=True)
        if status["DetectionStatus"] != "DETECTION_IN_PROGRESS":
            return status
        if time.monotonic() > deadline:
            module.fail_json(msg=f"drift detection {detection_id} did not complete in {timeout} s")
        time.sleep(2)


def drifted_resources(client, stack_name, statuses):
    resources = []
    kwargs = {"StackName": stack_name, "StackResourceDriftStatusFilters": statuses}
    while True:
        page = client.describe_stack_resource_drifts(aws_retry=True, **kwargs)
        for drift in page.get("StackResourceDrifts", []):
            resources.append({
                "logical_resource_id": drift.get("LogicalResourceId"),
                "physical_resource_id": drift.get("PhysicalResourceId"),
                "resource_type": drift.get("ResourceType"),
                "drift_status": drift.get("StackResourceDriftStatus"),
                "property_differences": [
                    camel_dict_to_snake_dict(difference)
                    for difference in drift.get("PropertyDifferences", [])
                ],
                "expected_properties": _json(drift.get("ExpectedProperties")),
                "actual_properties": _json(drift.get("ActualProperties")),
            })
        if not page.get("NextToken"):
            return resources
        kwargs["NextToken"] = page["NextToken"]


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            stack_name=dict(type="str", required=True),
            resource_drift_statuses=dict(
                type="list", elements="str", default=["MODIFIED", "DELETED"],
                choices=["IN_SYNC", "MODIFIED", "DELETED", "NOT_CHECKED", "UNKNOWN", "UNSUPPORTED"]),
            wait_timeout=dict(type="int", default=300),
        ),
        supports_check_mode=True,
    )
    client = module.client("cloudformation", retry_decorator=AWSRetry.jittered_backoff())
    stack_name = module.params["stack_name"]
    try:
        detection_id = client.detect_stack_drift(StackName=stack_name, aws_retry=True)["StackDriftDetectionId"]
        status = wait_for_detection(module, client, detection_id, module.params["wait_timeout"])
        if status["DetectionStatus"] == "DETECTION_FAILED" and "StackDriftStatus" not in status:
            module.fail_json(msg=f"drift detection failed on {stack_name}: {status.get('DetectionStatusReason')}")
        resources = drifted_resources(client, stack_name, module.params["resource_drift_statuses"])
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Could not detect drift of stack {stack_name}")

    module.exit_json(
        changed=False,
        detection_id=detection_id,
        stack_drift_status=status.get("StackDriftStatus", "UNKNOWN"),
        drifted_stack_resource_count=status.get("DriftedStackResourceCount", len(resources)),
        detection_status=status["DetectionStatus"],
        detection_status_reason=status.get("DetectionStatusReason"),
        drifted_resources=resources,
    )


if __name__ == "__main__":
    main()
