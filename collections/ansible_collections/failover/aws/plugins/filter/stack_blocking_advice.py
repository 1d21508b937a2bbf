# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What to do about a CloudFormation stack whose state blocks a deploy."""

DOCUMENTATION = r"""
---
name: stack_blocking_advice
short_description: What to do about a stack whose state blocks a deploy, or an empty string
version_added: 0.6.0
description:
  - Takes a CloudFormation stack status and returns what the operator does about it when
    CloudFormation accepts neither an update nor a create in that state (for example
    C(UPDATE_ROLLBACK_FAILED)), or an empty string when the state does not block a deploy
    (C(CREATE_COMPLETE), C(ROLLBACK_COMPLETE), a missing stack).
  - With O(after_failure=true), for the state a failed create or update left the stack in, it
    also says what that state means for the next run (C(ROLLBACK_COMPLETE),
    C(UPDATE_ROLLBACK_COMPLETE)).
  - The list of blocking states is the collection's one list (module_utils/stacks.py), shared
    with the modules that check a deployment before it starts.
options:
  _input:
    description: The stack's status (C(StackStatus)); empty or C(NONE) for no stack.
    type: str
    required: true
  after_failure:
    description: The status is the one a failed create or update of this run left.
    type: bool
    default: false
author:
  - Event failover project team (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Stop on a stack that needs an operator
  ansible.builtin.assert:
    that: advice == ''
    fail_msg: "Stack {{ name }} is {{ status }}. {{ advice }}"
  vars:
    advice: "{{ status | failover.aws.stack_blocking_advice }}"

- name: Say what to do after the stack's update failed
  ansible.builtin.debug:
    msg: "{{ status | failover.aws.stack_blocking_advice(after_failure=true) }}"
"""

RETURN = r"""
_value:
  description: What to do, in one or two sentences; empty when the state does not block.
  type: str
  sample: Another run is updating it; wait for it to finish, then run again.
"""

from ansible_collections.failover.aws.plugins.module_utils.stacks import NEXT_STEP, blocking_advice


def stack_blocking_advice(status, after_failure=False):
    if after_failure and status in NEXT_STEP:
        return NEXT_STEP[status]
    return blocking_advice(status)


class FilterModule:
    def filters(self):
        return {"stack_blocking_advice": stack_blocking_advice}
