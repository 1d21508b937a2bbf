"""EventBridge in templates: ``!Ref`` of an event bus is its name, as on AWS.

moto's ``EventBus`` has no ``physical_resource_id``, so ``!Ref Bus`` resolved to the Python
object and ``EventBusName: !Ref Bus`` on a rule crashed the request. The property is added to
moto's class. moto's Rule model already resolves a bus name or ARN, keeps targets and
deletes them with the rule.
"""

from __future__ import annotations

from typing import Any

from moto.events import models as events_models


def _bus_name(self: Any) -> str:
    return self.name


def install() -> None:
    events_models.EventBus.physical_resource_id = property(_bus_name)
