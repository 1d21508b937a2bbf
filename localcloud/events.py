"""EventBridge: deliver to SQS targets as AWS does.

moto builds the message for a target from a template that leaves out ``account``; AWS's
envelope always carries it. And AWS delivers to a queue only when the queue's resource policy
lets ``events.amazonaws.com`` send to it for that rule; a rule whose target queue has no such
policy counts a failed invocation and the event is not delivered. moto delivers regardless,
which hides a template bug that would lose every event on AWS.
"""

from __future__ import annotations

import logging
from typing import Any

from moto.events import models as events_models
from moto.events.utils import EventTemplateParser

from . import policies

log = logging.getLogger("localcloud.events")

# The envelope in AWS's documented field order.
ENVELOPE_TEMPLATE = (
    '{"version": "0", "id": "<id>", "detail-type": "<detail-type>", "source": "<source>", '
    '"account": "<account>", "time": <time>, "region": "<region>", '
    '"resources": <resources>, "detail": <detail>}'
)

_installed = False


def queue_policy_allows(policy_json: str | None, queue_arn: str, rule_arn: str,
                        account_id: str) -> bool:
    """Whether a queue policy lets EventBridge send this rule's events to the queue."""
    context = {"aws:sourcearn": rule_arn, "aws:sourceaccount": account_id}
    return policies.evaluate(policy_json, "sqs:SendMessage", queue_arn, context,
                             service_principal="events.amazonaws.com") == policies.ALLOWED


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
