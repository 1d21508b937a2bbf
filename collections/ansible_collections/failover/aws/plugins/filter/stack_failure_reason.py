# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cause of a CloudFormation stack's latest failure, from its events."""

DOCUMENTATION = r"""
---
name: stack_failure_reason
short_description: The cause of a stack's latest failure, from its events
version_added: 0.6.0
description:
  - Takes a stack's events, newest first (as DescribeStackEvents and
    M(amazon.aws.cloudformation_info) with C(stack_events=true) return them), and returns the
    cause of the latest operation's failure as C(<logical id> (<type>)) then CloudFormation's
    reason, after a colon - the earliest
    failed event since the stack's C(User Initiated) event. Resources CloudFormation cancelled
    because another one failed are consequences and are passed over.
  - Returns C(not recorded) when the latest operation has no failed event.
  - Accepts botocore's CamelCase events and Ansible's snake_case ones.
options:
  _input:
    description: The stack's events, newest first.
    type: list
    elements: dict
    required: true
author:
  - Event failover project team (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Say why the stack failed
  ansible.builtin.debug:
    msg: "Cause: {{ info.cloudformation[name].stack_events | failover.aws.stack_failure_reason }}"
"""

RETURN = r"""
_value:
  description: The failed resource, its type and CloudFormation's reason, or C(not recorded).
  type: str
  sample: "Certificate (AWS::ApiGateway::DomainName): Invalid certificate ARN"
"""

from ansible_collections.failover.aws.plugins.module_utils.stacks import failure_reason


class FilterModule:
    def filters(self):
        return {"stack_failure_reason": failure_reason}
