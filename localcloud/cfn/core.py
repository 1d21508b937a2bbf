"""CloudFormation stack lifecycle as AWS runs it, on top of moto's template engine.

moto parses templates and resolves intrinsic functions well, but its stack lifecycle differs
from AWS in ways a deployment notices:

- a resource type it has no model for is skipped and the stack still says CREATE_COMPLETE;
- any exception while creating leaves the stack CREATE_IN_PROGRESS and the client gets an
  HTML 500 instead of a failed stack;
- nothing rolls back, stack events carry no per-resource statuses, and deleting a stack leaves
  resources behind when a model has no delete.

This module replaces those parts of the lifecycle and keeps moto's parser for the rest:

- ``parse_and_create_resource`` (moto's per-resource step) records CREATE_IN_PROGRESS,
  CREATE_COMPLETE or CREATE_FAILED with the reason for every resource;
- ``Stack.create_resources`` rolls back on failure, honouring ``OnFailure`` /
  ``DisableRollback`` (ROLLBACK → ROLLBACK_COMPLETE, DO_NOTHING → CREATE_FAILED, DELETE →
  the stack is deleted);
- ``Stack.update`` applies adds and modifies, deletes removed resources only after success
  (as AWS's cleanup phase does) and rolls back to UPDATE_ROLLBACK_COMPLETE on failure;
- ``Stack.delete`` deletes every resource in reverse creation order, honouring
  ``DeletionPolicy: Retain``; a resource already gone counts as deleted, as on AWS;
- outputs are resolved once when an operation ends, as on AWS, and shown only while the stack
  has its resources;
- each resource created or updated gets CloudFormation's tags (stack tags, system tags), and
  an UpdateStack with new stack tags gives them to every resource (``tags.py``).

The state a stack needs for this (per-resource status, creation order, resolved outputs) lives
on moto's own ``Stack`` object, so ``/moto-api/reset`` forgets it with the stack. The API
actions around this lifecycle are in ``actions.py``.

Deviation: AWS rejects a template with an unknown resource type at CreateStack; here the
stack is created and the resource fails with ``Resource type X is not supported by the local
cloud``, then rolls back, so the reason shows up in the stack events where a deployment tool
looks for it.
"""

from __future__ import annotations

import contextvars
import logging
import random
import string
from dataclasses import dataclass, field
from typing import Any

from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing
from moto.cloudformation.exceptions import ValidationError
from moto.core.utils import utcnow

from . import tags as tagging

log = logging.getLogger("localcloud.cfn")

UNSUPPORTED_REASON = "Resource type {type} is not supported by the local cloud"

# Stack statuses in which a stack's resources exist and its outputs can be shown.
STABLE_WITH_RESOURCES = {
    "CREATE_COMPLETE",
    "UPDATE_COMPLETE",
    "UPDATE_ROLLBACK_COMPLETE",
    "UPDATE_IN_PROGRESS",
    "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
    "UPDATE_ROLLBACK_IN_PROGRESS",
}

# What CreateStack asked for when creation fails: ROLLBACK (default), DO_NOTHING or DELETE.
ON_FAILURE: contextvars.ContextVar[str] = contextvars.ContextVar(
    "localcloud_cfn_on_failure", default="ROLLBACK"
)
# The stack whose resources are being created, updated or deleted in this request.
_CURRENT_STACK: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "localcloud_cfn_stack", default=None
)

_original_resource_class_from_type = parsing.resource_class_from_type


class UnsupportedResourceType(ValidationError):
    """A template uses a resource type the local cloud has no model for."""

    def __init__(self, resource_type: str) -> None:
        super().__init__(message=UNSUPPORTED_REASON.format(type=resource_type))


class ResourceFailed(Exception):
    """A resource failed; its CREATE_FAILED/UPDATE_FAILED event is already recorded."""

    def __init__(self, logical_id: str, reason: str) -> None:
        super().__init__(f"{logical_id}: {reason}")
        self.logical_id = logical_id
        self.reason = reason


@dataclass
class ResourceState:
    """The latest status of one resource of a stack, as DescribeStackResources shows it."""

    logical_id: str
    resource_type: str
    physical_id: str | None = None
    status: str = "CREATE_IN_PROGRESS"
    reason: str | None = None
    timestamp: Any = field(default_factory=utcnow)


@dataclass
class StackResourceView:
    """What moto's StackResourceDTO reads from a resource, without touching the resource."""

    logical_resource_id: str
    physical_resource_id: str | None
    cf_resource_type: str
    resource_status: str
    resource_status_reason: str | None
    timestamp: Any


# -- per-stack bookkeeping ------------------------------------------------------------------


def states(stack: Any) -> dict[str, ResourceState]:
    if not hasattr(stack, "localcloud_resources"):
        stack.localcloud_resources = {}
        stack.localcloud_creation_order = []
        stack.localcloud_failures = []
    return stack.localcloud_resources


def begin_operation(stack: Any) -> None:
    """Start a create, update or delete: only its own failures name the culprits."""
    states(stack)
    stack.localcloud_failures = []
    stack.localcloud_updated = []
    stack.localcloud_replaced = []


def failures(stack: Any, operation: str) -> list[str]:
    """Logical ids that failed with ``{operation}_FAILED`` in the current operation."""
    states(stack)
    failed = [lid for lid, status in stack.localcloud_failures
              if status == f"{operation}_FAILED"]
    return list(dict.fromkeys(failed))


def creation_order(stack: Any) -> list[str]:
    states(stack)
    return stack.localcloud_creation_order


def record(stack: Any, logical_id: str, resource_type: str, status: str,
           reason: str | None = None, physical_id: str | None = None) -> None:
    """Set a resource's status and add the matching stack event."""
    if stack is None:
        return
    state = states(stack).get(logical_id)
    if state is None:
        state = ResourceState(logical_id, resource_type)
        states(stack)[logical_id] = state
    state.resource_type = resource_type
    state.status = status
    state.reason = reason
    state.timestamp = utcnow()
    if physical_id is not None:
        state.physical_id = physical_id
    if status.endswith("_FAILED"):
        stack.localcloud_failures.append((logical_id, status))
    event = cfn_models.Event(
        stack_id=stack.stack_id,
        stack_name=stack.name,
        logical_resource_id=logical_id,
        physical_resource_id=state.physical_id or "",
        resource_type=resource_type,
        resource_status=status,
        resource_status_reason=reason,
        resource_properties=None,
    )
    stack.events.append(event)


def stack_event(stack: Any, status: str, reason: str | None = None) -> None:
    """Set the stack's own status and add its event."""
    stack.status = status
    stack.status_reason = reason
    stack._add_stack_event(status, resource_status_reason=reason)


def failure_reason(exc: BaseException) -> str:
    """An AWS-like resource status reason for an exception raised by a backend."""
    if isinstance(exc, ResourceFailed):
        return exc.reason
    if isinstance(exc, ValidationError):
        return exc.message  # a template error: AWS reports it as it is
    message = getattr(exc, "message", None) or str(exc) or exc.__class__.__name__
    code = getattr(exc, "error_type", None) or getattr(exc, "code", None)
    if not isinstance(code, str):
        code = exc.__class__.__name__
    handler_code = "InvalidRequest"
    lowered = code.lower()
    if "notfound" in lowered or "nosuch" in lowered or "nonexistent" in lowered:
        handler_code = "NotFound"
    elif "alreadyexists" in lowered or "conflict" in lowered or "inuse" in lowered:
        handler_code = "AlreadyExists"
    elif not hasattr(exc, "message"):
        handler_code = "GeneralServiceException"
    return f'Resource handler returned message: "{message}" (HandlerErrorCode: {handler_code})'


def is_not_found(exc: BaseException) -> bool:
    code = getattr(exc, "error_type", None) or getattr(exc, "code", None)
    text = f"{code} {exc.__class__.__name__}".lower()
    return any(word in text for word in ("notfound", "nosuch", "nonexistent"))


def generated_id(stack_name: str, logical_id: str) -> str:
    """A physical id in the shape CloudFormation generates for id-less resources."""
    suffix = "".join(random.choices(string.ascii_uppercase + string.digits, k=12))
    return f"{stack_name[:5]}-{logical_id[:5]}-{suffix}".lower()


def current_stack() -> Any:
    return _CURRENT_STACK.get()


def _find_stack(resources_map: Any) -> Any:
    stack = _CURRENT_STACK.get()
    if stack is not None and stack.stack_id == resources_map.stack_id:
        return stack
    backend = cfn_models.cloudformation_backends[resources_map._account_id][
        resources_map._region_name
    ]
    return backend.stacks.get(resources_map.stack_id)


# -- resource creation ----------------------------------------------------------------------


def resource_class_from_type(resource_type: str) -> Any:
    """moto's lookup, but an unknown type is an error instead of a silent skip."""
    if resource_type in parsing.NULL_MODELS or resource_type.startswith("Custom::"):
        return _original_resource_class_from_type(resource_type)
    model = parsing.get_model_map().get(resource_type)
    if model is None:
        raise UnsupportedResourceType(resource_type)
    return model


def parse_and_create_resource(logical_id: str, resource_json: dict[str, Any],
                              resources_map: Any, account_id: str, region_name: str) -> Any:
    """Create one resource and record its status events (replaces moto's step)."""
    condition = resource_json.get("Condition")
    if condition and not resources_map.lazy_condition_map[condition]:
        return None
    stack = _find_stack(resources_map)
    resource_type = resource_json["Type"]
    if resource_type in parsing.NULL_MODELS:
        return None
    try:
        resource_class = resource_class_from_type(resource_type)
        # Resolves Ref/GetAtt, which creates the resources this one depends on first.
        parsed = parsing.parse_resource_and_generate_name(logical_id, resource_json,
                                                          resources_map)
    except ResourceFailed:
        raise
    except Exception as exc:
        reason = failure_reason(exc)
        record(stack, logical_id, resource_type, "CREATE_IN_PROGRESS")
        record(stack, logical_id, resource_type, "CREATE_FAILED", reason)
        raise ResourceFailed(logical_id, reason) from exc
    if not parsed:
        return None
    _, cleaned_json, physical_name = parsed
    own_tags = tagging.own_tags(resource_type, region_name, cleaned_json)  # before models see them
    record(stack, logical_id, resource_type, "CREATE_IN_PROGRESS")
    try:
        resource = resource_class.create_from_cloudformation_json(
            physical_name, cleaned_json, account_id, region_name,
            LogicalId=logical_id, StackId=resources_map.stack_id, ResourceType=resource_type,
        )
        resource.cf_resource_type = resource_type
        resource.logical_resource_id = logical_id
        tagging.tag_resource(stack, logical_id, resource_type, resource, own_tags)
    except Exception as exc:
        log.info("stack %s: %s (%s) failed: %r", getattr(stack, "name", "?"), logical_id,
                 resource_type, exc)
        reason = failure_reason(exc)
        record(stack, logical_id, resource_type, "CREATE_FAILED", reason)
        raise ResourceFailed(logical_id, reason) from exc
    if stack is not None and logical_id not in creation_order(stack):
        creation_order(stack).append(logical_id)
    record(stack, logical_id, resource_type,
           "CREATE_COMPLETE" if resource.is_created() else "CREATE_IN_PROGRESS",
           physical_id=_physical_id(resource))
    return resource


def _physical_id(resource: Any) -> str | None:
    value = getattr(resource, "physical_resource_id", None)
    return value if isinstance(value, str) else None


# -- resource deletion ----------------------------------------------------------------------


def _delete_one(stack: Any, logical_id: str, resource_json: dict[str, Any] | None,
                honour_retain: bool = True) -> None:
    resources_map = stack.resource_map
    resource = resources_map._parsed_resources.get(logical_id)
    state = states(stack).get(logical_id)
    resource_type = (resource_json or {}).get("Type") or (state.resource_type if state else "")
    if resource is None or isinstance(resource, str | int | float | list | dict):
        return
    policy = (resource_json or {}).get("DeletionPolicy")
    if honour_retain and policy in ("Retain", "RetainExceptOnCreate"):
        record(stack, logical_id, resource_type, "DELETE_SKIPPED")
        resources_map._parsed_resources.pop(logical_id, None)
        return
    record(stack, logical_id, resource_type, "DELETE_IN_PROGRESS")
    try:
        resources_map._delete_resource(resource, resource_json or {"Type": resource_type,
                                                                   "Properties": {}})
    except Exception as exc:
        if not is_not_found(exc):
            reason = failure_reason(exc)
            record(stack, logical_id, resource_type, "DELETE_FAILED", reason)
            raise ResourceFailed(logical_id, reason) from exc
    resources_map._parsed_resources.pop(logical_id, None)
    record(stack, logical_id, resource_type, "DELETE_COMPLETE")


def delete_resources(stack: Any, logical_ids: list[str], templates: dict[str, Any],
                     honour_retain: bool = True) -> None:
    """Delete resources, newest first; retry failures in later passes as dependencies go."""
    remaining = [lid for lid in reversed(creation_order(stack)) if lid in logical_ids]
    remaining += [lid for lid in logical_ids if lid not in remaining]
    last_error: ResourceFailed | None = None
    for _ in range(3):
        failed: list[str] = []
        for logical_id in remaining:
            try:
                _delete_one(stack, logical_id, templates.get(logical_id), honour_retain)
            except ResourceFailed as exc:
                failed.append(logical_id)
                last_error = exc
        if not failed:
            return
        remaining = failed
    assert last_error is not None
    raise last_error


def _live_resources(stack: Any) -> list[str]:
    parsed = stack.resource_map._parsed_resources
    return [lid for lid in creation_order(stack)
            if lid in parsed and not isinstance(parsed[lid], str | int | float | list | dict)]


# -- stack lifecycle ------------------------------------------------------------------------


def _register_exports(stack: Any) -> None:
    backend = cfn_models.cloudformation_backends[stack.account_id][stack.region_name]
    for name, export in list(backend.exports.items()):
        if export.exporting_stack_id == stack.stack_id:
            del backend.exports[name]
    for export in stack.exports:
        owner = backend.exports.get(export.name)
        if owner is not None and owner.exporting_stack_id != stack.stack_id:
            raise ValidationError(
                message=f"Export with name {export.name} is already exported by stack "
                        f"{owner.exporting_stack_id}")
        backend.exports[export.name] = export


def create_resources(self: Any) -> None:
    """Create every resource; on failure roll back as the caller's OnFailure asks."""
    self.status = "CREATE_IN_PROGRESS"
    begin_operation(self)
    token = _CURRENT_STACK.set(self)
    try:
        ready = self.resource_map.create(self.template_dict)
        self.description = self.template_dict.get("Description")
        _register_exports(self)
        resolve_outputs(self)  # an output that cannot resolve fails the stack
    except Exception as exc:
        _fail_create(self, exc)
        return
    finally:
        _CURRENT_STACK.reset(token)
    if ready:
        self.mark_creation_complete()


def _fail_create(stack: Any, exc: BaseException) -> None:
    if not isinstance(exc, ResourceFailed):
        log.info("stack %s failed: %r", stack.name, exc)
    failed = failures(stack, "CREATE")
    if failed:
        reason = f"The following resource(s) failed to create: [{', '.join(failed)}]. "
    else:
        reason = failure_reason(exc)
    on_failure = ON_FAILURE.get()
    if on_failure == "DO_NOTHING":
        stack_event(stack, "CREATE_FAILED", reason)
        return
    stack_event(stack, "ROLLBACK_IN_PROGRESS", reason + "Rollback requested by user.")
    token = _CURRENT_STACK.set(stack)
    try:
        delete_resources(stack, _live_resources(stack), stack.resource_map._resource_json_map,
                         honour_retain=True)
    except ResourceFailed as failure:
        stack_event(stack, "ROLLBACK_FAILED",
                    f"The following resource(s) failed to delete: [{failure.logical_id}]. ")
        return
    finally:
        _CURRENT_STACK.reset(token)
    stack_event(stack, "ROLLBACK_COMPLETE")
    stack.status_reason = reason + "Rollback requested by user."
    if on_failure == "DELETE":
        stack_event(stack, "DELETE_IN_PROGRESS")
        stack_event(stack, "DELETE_COMPLETE")
        backend = cfn_models.cloudformation_backends[stack.account_id][stack.region_name]
        backend.stacks.pop(stack.stack_id, None)
        backend.deleted_stacks[stack.stack_id] = stack


def delete_stack_resources(self: Any) -> None:
    """Stack.delete: every resource, newest first; failures leave DELETE_FAILED."""
    stack_event(self, "DELETE_IN_PROGRESS", "User Initiated")
    begin_operation(self)
    token = _CURRENT_STACK.set(self)
    try:
        delete_resources(self, _live_resources(self), self.resource_map._resource_json_map)
    except ResourceFailed:
        failed = failures(self, "DELETE")
        stack_event(self, "DELETE_FAILED",
                    f"The following resource(s) failed to delete: [{', '.join(failed)}]. ")
        return
    finally:
        _CURRENT_STACK.reset(token)
    stack_event(self, "DELETE_COMPLETE")


def _update_one(stack: Any, logical_id: str) -> bool:
    """Update one resource; True when its physical id changed (dependents must follow)."""
    resources_map = stack.resource_map
    resource_json = resources_map._resource_json_map[logical_id]
    resource_type = resource_json["Type"]
    old = resources_map._parsed_resources.get(logical_id)
    if old is None:
        resources_map[logical_id]
        return True
    record(stack, logical_id, resource_type, "UPDATE_IN_PROGRESS")
    stack.localcloud_updated.append(logical_id)
    try:
        resource_class = resource_class_from_type(resource_type)
        _, cleaned, name = parsing.parse_resource_and_generate_name(
            logical_id, resource_json, resources_map)
        own_tags = tagging.own_tags(resource_type, stack.region_name, cleaned)
        new = None
        old_type = getattr(old, "cf_resource_type", resource_type)
        updatable = not hasattr(resource_class.update_from_cloudformation_json,
                                "__isabstractmethod__")
        if updatable and old_type == resource_type:
            new = resource_class.update_from_cloudformation_json(
                original_resource=old, new_resource_name=name, cloudformation_json=cleaned,
                account_id=stack.account_id, region_name=stack.region_name)
        if new is None:
            # No in-place update: replace. AWS creates the new one first; here names could
            # clash, so the old one goes first.
            resources_map._delete_resource(old, {"Type": old_type, "Properties": {}})
            resources_map._parsed_resources.pop(logical_id, None)
            new = resource_class.create_from_cloudformation_json(
                name, cleaned, stack.account_id, stack.region_name, LogicalId=logical_id,
                StackId=stack.stack_id, ResourceType=resource_type)
        new.cf_resource_type = resource_type
        new.logical_resource_id = logical_id
        tagging.tag_resource(stack, logical_id, resource_type, new, own_tags)
    except ResourceFailed:
        raise
    except Exception as exc:
        reason = failure_reason(exc)
        record(stack, logical_id, resource_type, "UPDATE_FAILED", reason)
        raise ResourceFailed(logical_id, reason) from exc
    resources_map._parsed_resources[logical_id] = new
    record(stack, logical_id, resource_type, "UPDATE_COMPLETE", physical_id=_physical_id(new))
    changed = _physical_id(new) != _physical_id(old)
    if changed and new is not old and getattr(new, "DEFERRED_REPLACEMENT_CLEANUP", False):
        # The old resource goes in the cleanup phase, after dependents moved to the new one.
        stack.localcloud_replaced.append((logical_id, old))
    return changed


def _references(node: Any, logical_id: str) -> bool:
    """Whether a template fragment uses ``logical_id`` (Ref, GetAtt, Sub, DependsOn)."""
    if isinstance(node, dict):
        if node.get("Ref") == logical_id:
            return True
        get_att = node.get("Fn::GetAtt")
        if isinstance(get_att, list) and get_att and get_att[0] == logical_id:
            return True
        if isinstance(get_att, str) and get_att.split(".")[0] == logical_id:
            return True
        sub = node.get("Fn::Sub")
        text = sub[0] if isinstance(sub, list) and sub else sub
        if isinstance(text, str) and ("${" + logical_id + "}" in text
                                      or "${" + logical_id + "." in text):
            return True
        return any(_references(value, logical_id) for value in node.values())
    if isinstance(node, list):
        return any(_references(value, logical_id) for value in node)
    return False


def _apply_template(stack: Any, template: dict[str, Any], parameters: dict[str, Any] | None,
                    ) -> list[str]:
    """Create added and update changed resources; return the removed logical ids."""
    resources_map = stack.resource_map
    diff = resources_map.build_resource_diff(template, parameters)
    resources_map._template = template
    if parameters:
        resources_map.input_parameters = parameters
    resources_map.load_mapping()
    resources_map.load_parameters()
    resources_map.load_conditions()
    resources_map._resource_json_map = template["Resources"]
    added = set(diff["Add"])
    order = creation_order(stack)
    template_order = list(template["Resources"])
    pending = _dependency_order(resources_map._resource_json_map, sorted(
        added | set(diff["Modify"]),
        key=lambda lid: (order.index(lid) if lid in order else len(order),
                         template_order.index(lid) if lid in template_order else 0)))
    done: set[str] = set()
    while pending:
        logical_id = pending.pop(0)
        if logical_id in done:
            continue
        done.add(logical_id)
        if logical_id in added:
            resources_map[logical_id]
        elif _update_one(stack, logical_id):
            # A new physical id: whatever refers to it is updated too, as on AWS.
            pending = _dependency_order(resources_map._resource_json_map, pending + [
                other for other, other_json in resources_map._resource_json_map.items()
                if other not in done and other not in pending
                and other in resources_map._parsed_resources
                and _references(other_json.get("Properties"), logical_id)])
    return list(diff["Remove"])


def _depends_on(resource_json: dict[str, Any], other: str) -> bool:
    """Whether a resource must wait for ``other``: it refers to it or names it in DependsOn."""
    depends_on = resource_json.get("DependsOn") or []
    if isinstance(depends_on, str):
        depends_on = [depends_on]
    return other in depends_on or _references(resource_json.get("Properties"), other)


def _dependency_order(json_map: dict[str, Any], logical_ids: list[str]) -> list[str]:
    """``logical_ids`` in an order where each comes after those of them it depends on, as
    CloudFormation orders an update: a new resource that refers to a modified one (a new API
    Gateway deployment of a changed REST API) is created after that one is updated. Otherwise
    the given order is kept. (A cycle cannot reach here: the template was parsed.)"""
    remaining = list(dict.fromkeys(logical_ids))
    ordered: list[str] = []
    while remaining:
        ready = next((lid for lid in remaining if not any(
            other != lid and _depends_on(json_map.get(lid) or {}, other)
            for other in remaining)), remaining[0])
        ordered.append(ready)
        remaining.remove(ready)
    return ordered


def check_template(template: Any) -> None:
    """Reject a template that is not a YAML/JSON object with Resources, as AWS does."""
    try:
        parsed = cfn_models.Stack.parse_template(template)
    except Exception as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
        raise ValidationError(
            message=f"Template format error: YAML or JSON not well-formed. ({first_line})"
        ) from exc
    if not isinstance(parsed, dict):
        raise ValidationError(message="Template format error: the template is not an object.")
    if not isinstance(parsed.get("Resources"), dict) or not parsed["Resources"]:
        raise ValidationError(
            message="Template format error: At least one Resources member must be defined.")


def update_stack(self: Any, template: str, role_arn: str | None = None,
                 parameters: dict[str, Any] | None = None,
                 tags: dict[str, str] | None = None) -> None:
    """Stack.update with AWS's order (cleanup after success) and rollback on failure."""
    check_template(template)
    stack_event(self, "UPDATE_IN_PROGRESS", "User Initiated")
    begin_operation(self)
    previous_template = self.template
    previous_dict = self.template_dict
    previous_json_map = dict(self.resource_map._resource_json_map)
    previous_parameters = dict(self.resource_map.input_parameters)
    previous_tags = self.tags
    if tags is not None:
        self.tags = tags  # what this update tags its resources with
    token = _CURRENT_STACK.set(self)
    try:
        self.template = template
        self._parse_template()
        try:
            removed = _apply_template(self, self.template_dict, parameters)
            tagging.propagate(self)  # new stack tags reach the resources left as they were
            self.output_map = self._create_output_map()
            _register_exports(self)
            resolve_outputs(self)
        except Exception as exc:
            self.tags = previous_tags
            self._rollback_update(exc, previous_template, previous_dict, previous_json_map,
                                  previous_parameters)
            return
        stack_event(self, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
        _delete_replaced(self)
        try:
            delete_resources(self, removed, previous_json_map)
        except ResourceFailed:
            log.warning("stack %s: cleanup left resources behind", self.name)
    finally:
        _CURRENT_STACK.reset(token)
    stack_event(self, "UPDATE_COMPLETE")
    self.status_reason = None
    self.role_arn = role_arn
    if parameters:
        self.parameters = parameters


def _delete_replaced(stack: Any) -> None:
    for logical_id, old in stack.localcloud_replaced:
        try:
            old.delete(stack.account_id, stack.region_name)
        except Exception as exc:
            if not is_not_found(exc):
                log.warning("stack %s: the replaced %s was left behind: %r", stack.name,
                            logical_id, exc)
    stack.localcloud_replaced = []


def _restore_replaced(stack: Any) -> set[str]:
    """Rollback: the resources replaced by the update take their place again."""
    restored = set()
    parsed = stack.resource_map._parsed_resources
    for logical_id, old in reversed(stack.localcloud_replaced):
        new = parsed.get(logical_id)
        try:
            old.restore()
            if new is not None and new is not old:
                new.delete(stack.account_id, stack.region_name)
        except Exception as exc:
            log.warning("stack %s: the replacement of %s was left behind: %r", stack.name,
                        logical_id, exc)
        parsed[logical_id] = old
        record(stack, logical_id, getattr(old, "cf_resource_type", ""), "UPDATE_COMPLETE",
               physical_id=_physical_id(old))
        restored.add(logical_id)
    stack.localcloud_replaced = []
    return restored


def _rollback_update(self: Any, exc: BaseException, template: Any, template_dict: Any,
                     json_map: dict[str, Any], parameters: dict[str, Any]) -> None:
    created, updated = failures(self, "CREATE"), failures(self, "UPDATE")
    reason = ""
    if created:
        reason += f"The following resource(s) failed to create: [{', '.join(created)}]. "
    if updated:
        reason += f"The following resource(s) failed to update: [{', '.join(updated)}]. "
    reason = reason or failure_reason(exc)
    stack_event(self, "UPDATE_ROLLBACK_IN_PROGRESS", reason)
    resources_map = self.resource_map
    new_json_map = resources_map._resource_json_map
    added = [lid for lid in new_json_map if lid not in json_map]
    try:
        # Put back what the update changed, then remove what it added.
        self.template = template
        self.template_dict = template_dict
        restore = dict(template_dict)
        restore["Resources"] = json_map
        # Only what the update touched differs from the old template, so only that reverts.
        touched = set(getattr(self, "localcloud_updated", [])) - _restore_replaced(self)
        merged = dict(new_json_map)
        for logical_id, resource_json in json_map.items():
            if logical_id not in touched or logical_id not in merged:
                merged[logical_id] = resource_json
        resources_map._resource_json_map = merged
        _apply_template(self, restore, parameters)
        delete_resources(self, [lid for lid in added if lid in _live_resources(self)],
                         new_json_map, honour_retain=False)
        tagging.propagate(self)  # the stack's previous tags, back on every resource
        resources_map._resource_json_map = json_map
        self.output_map = self._create_output_map()
        resolve_outputs(self)
    except Exception as rollback_exc:
        log.warning("stack %s: update rollback failed: %r", self.name, rollback_exc)
        stack_event(self, "UPDATE_ROLLBACK_FAILED", failure_reason(rollback_exc))
        return
    stack_event(self, "UPDATE_ROLLBACK_COMPLETE")
    self.status_reason = reason


def resolve_outputs(stack: Any) -> None:
    """Resolve the outputs once, when an operation ends, as CloudFormation does.

    DescribeStacks then shows those values even after a resource drifted (a drill that deletes
    a stage or a domain name out of band), instead of re-resolving against what is left.
    """
    stack.localcloud_outputs = _original_outputs.fget(stack)


def outputs(self: Any) -> list[dict[str, Any]] | None:
    """Stack outputs, only while the stack has its resources (never re-creates one)."""
    if self.status not in STABLE_WITH_RESOURCES:
        return None
    if not hasattr(self, "localcloud_outputs"):
        resolve_outputs(self)
    return self.localcloud_outputs


_original_outputs = cfn_models.Stack.outputs


_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    parsing.resource_class_from_type = resource_class_from_type
    parsing.parse_and_create_resource = parse_and_create_resource
    stack_cls = cfn_models.Stack
    stack_cls.status_reason = None
    stack_cls.create_resources = create_resources
    stack_cls.update = update_stack
    stack_cls._rollback_update = _rollback_update
    stack_cls.delete = delete_stack_resources
    stack_cls.outputs = property(outputs)
