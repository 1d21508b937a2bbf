# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""CloudFormation stack states that block a deploy, with what the operator does about each.

The one list every role and plugin of the project reads (preflight, regional_stack, cleanup).
A stack in one of these states accepts neither an update nor a create (CloudFormation User
Guide, "Stack status codes"):
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/view-stack-events.html#cfn-console-view-stack-data-resources-status-codes
"""

from __future__ import annotations

BLOCKING_STATES = {
    "CREATE_IN_PROGRESS": "Another run is creating it; wait for it to finish, then run again.",
    "UPDATE_IN_PROGRESS": "Another run is updating it; wait for it to finish, then run again.",
    "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS": (
        "An update is finishing; wait for UPDATE_COMPLETE, then run again."
    ),
    "DELETE_IN_PROGRESS": "It is being deleted; wait for DELETE_COMPLETE, then run again.",
    "UPDATE_ROLLBACK_IN_PROGRESS": (
        "An update is rolling back; wait for it to finish, then run again."
    ),
    "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS": (
        "A rollback is finishing; wait for it, then run again."
    ),
    "ROLLBACK_IN_PROGRESS": (
        "A failed create is rolling back; wait for ROLLBACK_COMPLETE, then run again."
    ),
    "REVIEW_IN_PROGRESS": (
        "It only has a change set that was never executed; execute or delete the change set "
        "(or delete the stack), then run again."
    ),
    "UPDATE_ROLLBACK_FAILED": (
        "Continue the rollback (aws cloudformation continue-update-rollback), fix what the "
        "stack events name, then run again."
    ),
    "DELETE_FAILED": (
        "Fix what blocks the delete (see the stack events), delete the stack, then run again."
    ),
    "CREATE_FAILED": "Its create failed without rollback; delete the stack, then run again.",
    "ROLLBACK_FAILED": (
        "Its rollback failed; delete the stack (retaining the resources the stack events name "
        "as blocking), then run again."
    ),
    "IMPORT_IN_PROGRESS": "A resource import is running; wait for it to finish, then run again.",
    "IMPORT_ROLLBACK_IN_PROGRESS": (
        "A resource import is rolling back; wait for it to finish, then run again."
    ),
}

# After a failed create or update: what the state it left means for the next run.
NEXT_STEP = {
    "ROLLBACK_COMPLETE": (
        "Fix the cause and run again: the next run deletes the rolled-back stack and creates "
        "it again."
    ),
    "UPDATE_ROLLBACK_COMPLETE": (
        "The stack is back on its previous template and parameters; fix the cause and run again."
    ),
}


def blocking_advice(status):
    """What to do about a stack in ``status`` before a deploy, or '' when it does not block."""
    return BLOCKING_STATES.get(status or "", "")


def failure_reason(events):
    """The cause of the latest operation's failure, from DescribeStackEvents (newest first).

    The earliest failed event of the latest operation (which starts with the stack's
    "User Initiated" event); resources CloudFormation cancelled because another one failed are
    consequences, not the cause ("Determine the cause of a stack failure", CloudFormation User
    Guide). Accepts botocore's CamelCase events and Ansible's snake_case ones.
    """
    found = "not recorded"
    for event in events or []:
        status = event.get("resource_status", event.get("ResourceStatus")) or ""
        reason = event.get("resource_status_reason", event.get("ResourceStatusReason")) or ""
        logical = event.get("logical_resource_id", event.get("LogicalResourceId")) or ""
        kind = event.get("resource_type", event.get("ResourceType")) or ""
        if "FAILED" in status and " cancelled" not in reason:
            found = f"{logical} ({kind}): {reason}"
        if kind == "AWS::CloudFormation::Stack" and reason == "User Initiated":
            break
    return found
