"""EventBridge: deliver to SQS targets as AWS does.

moto builds the message for a target from a template that leaves out ``account``; AWS's
envelope always carries it. And AWS delivers to a queue only when the queue's resource policy
lets ``events.amazonaws.com`` send to it for that rule; a rule whose target queue has no such
policy counts a failed invocation and the event is not delivered. moto delivers regardless,
which hides a template bug that would lose every event on AWS.
"""

from __future__ import annotations

import fnmatch
import json
import logging
from typing import Any

from moto.events import models as events_models
from moto.events.utils import EventTemplateParser

log = logging.getLogger("localcloud.events")

# The envelope in AWS's documented field order.
ENVELOPE_TEMPLATE = (
    '{"version": "0", "id": "<id>", "detail-type": "<detail-type>", "source": "<source>", '
    '"account": "<account>", "time": <time>, "region": "<region>", '
    '"resources": <resources>, "detail": <detail>}'
)

_installed = False


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _principal_allows_events(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        if principal.get("AWS") == "*":
            return True
        return "events.amazonaws.com" in _as_list(principal.get("Service"))
    return False


def _action_allows_send(actions: Any) -> bool:
    return any(fnmatch.fnmatchcase("sqs:sendmessage", str(a).lower()) for a in _as_list(actions))


def _condition_holds(condition: dict[str, Any], context: dict[str, str]) -> bool:
    """The condition operators a queue policy for EventBridge uses in practice."""
    for operator, clauses in condition.items():
        op = operator.removesuffix("IfExists")
        for key, expected in clauses.items():
            actual = context.get(key.lower())
            values = [str(v) for v in _as_list(expected)]
            if actual is None:
                if operator.endswith("IfExists"):
                    continue
                return False
            if op in ("ArnEquals", "StringEquals"):
                ok = actual in values
            elif op in ("ArnLike", "StringLike"):
                ok = any(fnmatch.fnmatchcase(actual, v) for v in values)
            elif op in ("ArnNotEquals", "StringNotEquals"):
                ok = actual not in values
            elif op in ("ArnNotLike", "StringNotLike"):
                ok = not any(fnmatch.fnmatchcase(actual, v) for v in values)
            else:
                log.warning("queue policy condition operator %s is not evaluated", operator)
                return False
            if not ok:
                return False
    return True


def queue_policy_allows(policy_json: str | None, queue_arn: str, rule_arn: str,
                        account_id: str) -> bool:
    """Whether a queue policy lets EventBridge send this rule's events to the queue."""
    if not policy_json:
        return False
    try:
        policy = json.loads(policy_json)
    except ValueError:
        return False
    context = {"aws:sourcearn": rule_arn, "aws:sourceaccount": account_id}
    allowed = False
    for statement in _as_list(policy.get("Statement")):
        if not _principal_allows_events(statement.get("Principal")):
            continue
        if not _action_allows_send(statement.get("Action")):
            continue
        resources = _as_list(statement.get("Resource", "*"))
        if not any(fnmatch.fnmatchcase(queue_arn, str(r)) for r in resources):
            continue
        if not _condition_holds(statement.get("Condition", {}), context):
            continue
        if statement.get("Effect") == "Deny":
            return False
        if statement.get("Effect") == "Allow":
            allowed = True
    return allowed


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE = ENVELOPE_TEMPLATE

    original_send = events_models.Rule._send_to_sqs_queue

    def _send_to_sqs_queue(self: Any, resource_id: str, event: dict[str, Any],
                           group_id: str | None = None) -> None:
        from moto.sqs import sqs_backends

        backend = sqs_backends[self.account_id][self.region_name]
        queue = backend.queues.get(resource_id)
        if queue is None:
            log.warning("rule %s: target queue %s does not exist; event dropped",
                        self.arn, resource_id)
            return
        if not queue_policy_allows(getattr(queue, "policy", None), queue.queue_arn, self.arn,
                                   self.account_id):
            log.warning(
                "rule %s: the policy of queue %s does not allow events.amazonaws.com to "
                "sqs:SendMessage for this rule; event %s not delivered (FailedInvocations)",
                self.arn, queue.queue_arn, event.get("id"))
            return
        original_send(self, resource_id, event, group_id)

    events_models.Rule._send_to_sqs_queue = _send_to_sqs_queue
