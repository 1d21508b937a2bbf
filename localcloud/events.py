"""EventBridge: deliver to SQS targets as AWS does.

moto builds the message for a target from a template that leaves out ``account``; AWS's
envelope always carries it. And AWS delivers to a queue only when the queue's resource policy
lets ``events.amazonaws.com`` send to it for that rule; a rule whose target queue has no such
policy counts a failed invocation and the event is not delivered. moto delivers regardless,
which hides a template bug that would lose every event on AWS.

PutEvents also refuses what AWS refuses before any rule sees it (moto accepts both): entries
whose total size (AWS's formula: Time 14 bytes, Source, DetailType, Detail and each Resource in
UTF-8) is over the limit fail the whole call with ``ValidationException`` ("Total size of the
entries in the request is over the limit."), and an entry whose Source is in the ``aws.``
namespace, which AWS reserves for its services, fails alone with
``NotAuthorizedForSourceException`` while the other entries are put. The limit is 1 MB
(1,048,576 bytes here), raised from 256 KB in January 2026; AWS's page on calculating the entry
size still says 256 KB.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from moto.events import models as events_models
from moto.events.exceptions import ValidationException
from moto.events.responses import EventsHandler
from moto.events.utils import EventTemplateParser

from . import policies

log = logging.getLogger("localcloud.events")

# The envelope in AWS's documented field order.
ENVELOPE_TEMPLATE = (
    '{"version": "0", "id": "<id>", "detail-type": "<detail-type>", "source": "<source>", '
    '"account": "<account>", "time": <time>, "region": "<region>", '
    '"resources": <resources>, "detail": <detail>}'
)

MAX_ENTRIES = 10
MAX_ENTRIES_BYTES = 1024 * 1024
RESERVED_SOURCE_PREFIX = "aws."

_installed = False


def entry_size(entry: dict[str, Any]) -> int:
    """A PutEvents entry's size as AWS counts it (not the size of the event delivered)."""
    size = 14 if entry.get("Time") is not None else 0
    for field in ("Source", "DetailType", "Detail"):
        value = entry.get(field)
        if isinstance(value, str):
            size += len(value.encode())
    return size + sum(len(r.encode()) for r in entry.get("Resources") or []
                      if isinstance(r, str))


def _put_events_within_limits(original: Any) -> Any:
    """PutEvents as the API answers it; moto's backend method stays as it is, because rules
    forwarding to another bus call it with AWS services' own ``aws.*`` events."""

    def put_events(self: Any) -> str:
        events = self._get_param("Entries") or []
        if len(events) > MAX_ENTRIES or not all(isinstance(e, dict) for e in events):
            return original(self)
        if sum(entry_size(e) for e in events) > MAX_ENTRIES_BYTES:
            raise ValidationException(
                "Total size of the entries in the request is over the limit.")
        reserved = {i for i, e in enumerate(events)
                    if str(e.get("Source") or "").startswith(RESERVED_SOURCE_PREFIX)}
        if not reserved:
            return original(self)
        put = iter(self.events_backend.put_events(
            [e for i, e in enumerate(events) if i not in reserved]))
        entries = [{"ErrorCode": "NotAuthorizedForSourceException",
                    "ErrorMessage": "Not authorized for the source."} if i in reserved
                   else next(put) for i in range(len(events))]
        return json.dumps({"FailedEntryCount": sum("ErrorCode" in e for e in entries),
                           "Entries": entries})

    return put_events


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
    EventsHandler.put_events = _put_events_within_limits(EventsHandler.put_events)
