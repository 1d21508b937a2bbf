"""The base of the local cloud's CloudFormation models.

moto finds resource types among the *direct* subclasses of ``CloudFormationModel``, so each
model here is declared ``class X(LocalModel, CloudFormationModel)``: ``LocalModel`` carries the
shared behaviour without being a model itself.

What a stack keeps for one of these resources is a small handle (account, region, physical
id, the properties it was created with), never a moto object: every operation looks the
backend up afresh, so a ``/moto-api/reset`` or a change made through the API in between is
seen, and the data itself stays in moto's own objects.
"""

from __future__ import annotations

from typing import Any, ClassVar

from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

from . import core


class LocalModel:
    """Shared behaviour; subclasses set TYPE/NAME_PROPERTY/ATTRIBUTES and create/remove."""

    TYPE: ClassVar[str] = ""
    # The property that names the resource ("" when AWS generates the name).
    NAME_PROPERTY: ClassVar[str] = ""
    ATTRIBUTES: ClassVar[tuple[str, ...]] = ()
    # An update that returns a new handle (new physical id) leaves the old resource for the
    # stack's cleanup phase, after the resources that refer to it moved to the new one.
    DEFERRED_REPLACEMENT_CLEANUP: ClassVar[bool] = True

    def __init__(self, account_id: str, region_name: str, physical_id: str,
                 properties: dict[str, Any], logical_id: str = "") -> None:
        self.account_id = account_id
        self.region_name = region_name
        self.physical_id = physical_id
        self.properties = properties
        self.logical_resource_id = logical_id

    # -- what moto's template engine calls ------------------------------------------------

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.TYPE

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return cls.NAME_PROPERTY

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRIBUTES

    @property
    def physical_resource_id(self) -> str:
        return self.physical_id

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name not in self.ATTRIBUTES:
            raise UnformattedGetAttTemplateException()
        return self.attribute(attribute_name)

    def is_created(self) -> bool:
        return True

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str,
                                        cloudformation_json: dict[str, Any], account_id: str,
                                        region_name: str, **kwargs: Any) -> Any:
        properties = cloudformation_json.get("Properties") or {}
        logical_id = kwargs.get("LogicalId", "")
        stack = core.current_stack()
        context = {
            "resource_name": resource_name,
            "logical_id": logical_id,
            "stack_name": stack.name if stack is not None else resource_name,
        }
        return cls.create(account_id, region_name, properties, context)

    @classmethod
    def update_from_cloudformation_json(cls, original_resource: Any, new_resource_name: str,
                                        cloudformation_json: dict[str, Any], account_id: str,
                                        region_name: str) -> Any:
        properties = cloudformation_json.get("Properties") or {}
        if not isinstance(original_resource, cls):
            return None
        return original_resource.update(properties, new_resource_name)

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name: str,
                                        cloudformation_json: dict[str, Any], account_id: str,
                                        region_name: str) -> None:
        # Stacks delete through the handle's delete(); nothing to do without one.
        return None

    def delete(self, account_id: str, region_name: str) -> None:
        try:
            self.remove()
        except (TypeError, AttributeError) as exc:
            # moto's stack deletion treats these two as "no delete() here" and falls back to
            # a class-level delete; a bug in remove() must fail the resource instead.
            raise RuntimeError(f"deleting {self.TYPE} {self.physical_id} failed: {exc!r}") \
                from exc

    # -- what a model implements ------------------------------------------------------------

    @classmethod
    def create(cls, account_id: str, region_name: str, properties: dict[str, Any],
               context: dict[str, str]) -> LocalModel:
        raise NotImplementedError

    def update(self, properties: dict[str, Any], new_name: str) -> LocalModel | None:
        """Update in place and return the handle, or None to have the resource replaced."""
        return None

    def remove(self) -> None:
        raise NotImplementedError

    def restore(self) -> None:
        """A rolled-back update puts this (replaced) resource back in service."""
        return None

    def attribute(self, name: str) -> Any:
        raise UnformattedGetAttTemplateException()


def as_bool(value: Any, default: bool | None = None) -> bool | None:
    """Template booleans arrive as bools or as "true"/"false" strings."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).lower() == "true"


def tags_list(tags: Any) -> list[dict[str, str]]:
    return [{"Key": t["Key"], "Value": str(t["Value"])} for t in tags or []]


def tags_dict(tags: Any) -> dict[str, str]:
    return {t["Key"]: str(t["Value"]) for t in tags or []}
