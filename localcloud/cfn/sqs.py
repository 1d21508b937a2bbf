"""``AWS::SQS::QueuePolicy``, which moto skips.

The policy is set through the same backend call as ``SetQueueAttributes``, so
``get-queue-attributes`` shows it as the queue's ``Policy`` and EventBridge delivery
(``localcloud/events.py``) is checked against it. Deleting the resource removes the policy
from each queue. Ref is a generated id, as on AWS.
"""

from __future__ import annotations

import json
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.sqs.models import sqs_backends

from . import core
from .model import LocalModel


def _queue_name(url_or_arn: str) -> str:
    """Queues are given by URL (Ref of a queue); an ARN works too."""
    return url_or_arn.rstrip("/").split("/")[-1].split(":")[-1]


class QueuePolicy(LocalModel, CloudFormationModel):
    TYPE = "AWS::SQS::QueuePolicy"
    ATTRIBUTES = ("Id",)

    @classmethod
    def create(cls, account_id: str, region_name: str, properties: dict[str, Any],
               context: dict[str, str]) -> QueuePolicy:
        handle = cls(account_id, region_name,
                     core.generated_id(context["stack_name"], context["logical_id"]), properties)
        handle._apply(properties)
        return handle

    def _apply(self, properties: dict[str, Any]) -> None:
        document = properties["PolicyDocument"]
        text = document if isinstance(document, str) else json.dumps(document)
        backend = sqs_backends[self.account_id][self.region_name]
        for queue in properties.get("Queues") or []:
            backend.set_queue_attributes(_queue_name(queue), {"Policy": text})

    def update(self, properties: dict[str, Any], new_name: str) -> QueuePolicy:
        dropped = set(self.properties.get("Queues") or []) - set(properties.get("Queues") or [])
        self._clear(list(dropped))
        self._apply(properties)
        self.properties = properties
        return self

    def _clear(self, queues: list[str]) -> None:
        backend = sqs_backends[self.account_id][self.region_name]
        for queue in queues:
            name = _queue_name(queue)
            if name in backend.queues:
                backend.set_queue_attributes(name, {"Policy": ""})

    def remove(self) -> None:
        self._clear(list(self.properties.get("Queues") or []))

    def attribute(self, name: str) -> Any:
        return self.physical_id
