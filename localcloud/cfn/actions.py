"""The CloudFormation API actions around the stack lifecycle of ``core``.

- CreateStack reads ``OnFailure`` / ``DisableRollback`` (moto ignored both), refuses a template
  that is not an object with ``Resources`` as a ``ValidationError``, and registers exports
  only once the resources exist.
- DeleteStack keeps a stack whose delete failed listed as ``DELETE_FAILED``.
- ExecuteChangeSet creates or updates through the same lifecycle, so change sets roll back too.
- UpdateStack with an unchanged template, parameters and stack tags is "No updates are to be
  performed.", as on AWS (moto checked this only when parameters were passed). New ``Tags``
  alone are an update that propagates them (UpdateStack API reference: CloudFormation
  "propagates these tags to supported resources in the stack"); a change set with only new
  ``Tags`` lists the tagged resources as Modify (scope ``Tags``) and can be executed.
- CreateChangeSet defaults ChangeSetType to UPDATE and creates a change set without changes
  as FAILED ("didn't contain changes"), as AWS does; a resource that refers to a changed
  parameter is listed as a Modify (moto compared the templates only).
- ListChangeSets lists the change sets of the stack it names (moto: of every stack).
- DescribeStackResource(s)/ListStackResources show each resource's recorded status and never
  touch the resource (moto's lazy resource map would re-create a deleted one).
- An unexpected exception in any action becomes an AWS-shaped error, never an HTML 500.
"""

from __future__ import annotations

import logging
from typing import Any

from moto.cloudformation import models as cfn_models
from moto.cloudformation import responses as cfn_responses
from moto.cloudformation.exceptions import AlreadyExistsException, ValidationError
from moto.cloudformation.utils import generate_stack_id
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from werkzeug.exceptions import HTTPException

from . import core
from . import tags as tagging

log = logging.getLogger("localcloud.cfn")


def create_stack(self: Any, name: str, template: str, parameters: dict[str, Any],
                 notification_arns: list[str] | None = None,
                 tags: dict[str, str] | None = None, role_arn: str | None = None,
                 enable_termination_protection: bool | None = False,
                 timeout_in_mins: int | None = None,
                 stack_policy_body: str | None = None) -> Any:
    """moto's create_stack, with exports registered after the resources exist."""
    if name in [stack.name for stack in self.stacks.values()]:
        raise AlreadyExistsException(f"Stack [{name}] already exists")
    core.check_template(template)
    stack_id = generate_stack_id(name, self.region_name, self.account_id)
    new_stack = cfn_models.Stack(
        stack_id=stack_id, name=name, template=template, parameters=parameters,
        account_id=self.account_id, region_name=self.region_name,
        notification_arns=notification_arns, tags=tags, role_arn=role_arn,
        cross_stack_resources=self.exports,
        enable_termination_protection=enable_termination_protection,
        timeout_in_mins=timeout_in_mins, stack_policy_body=stack_policy_body,
    )
    self.stacks[stack_id] = new_stack
    new_stack._add_stack_event("CREATE_IN_PROGRESS", resource_status_reason="User Initiated")
    new_stack.create_resources()
    return new_stack


def delete_stack(self: Any, name_or_stack_id: str) -> None:
    """CloudFormationBackend.delete_stack that keeps a DELETE_FAILED stack listed."""
    stack = self.stacks.get(name_or_stack_id)
    if stack is None:
        for candidate in list(self.stacks.values()):
            if candidate.name == name_or_stack_id:
                stack = candidate
                break
    if stack is None:
        return  # AWS: deleting a stack that does not exist succeeds
    stack.delete()
    if stack.status != "DELETE_COMPLETE":
        return
    self.stacks.pop(stack.stack_id, None)
    self.deleted_stacks[stack.stack_id] = stack
    for name, export in list(self.exports.items()):
        if export.exporting_stack_id == stack.stack_id:
            del self.exports[name]


def execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
    """ExecuteChangeSet through the same create/update (and rollback) as CreateStack."""
    change_set = self.describe_change_set(change_set_name)
    if change_set.execution_status != "AVAILABLE":
        raise ValidationError(
            message=f"ChangeSet [{change_set.change_set_id}] cannot be executed in its current "
                    f"status of [{change_set.status}]")
    stack = self.stacks[change_set.stack_id]
    change_set.execution_status = "EXECUTE_COMPLETE"
    if change_set.change_set_type == "CREATE":
        stack.template = change_set.template
        stack._parse_template()
        stack.parameters = change_set.parameters
        stack.description = stack.template_dict.get("Description")
        stack.resource_map = stack._create_resource_map()
        stack.output_map = stack._create_output_map()
        stack._add_stack_event("CREATE_IN_PROGRESS", resource_status_reason="User Initiated")
        stack.create_resources()
    else:
        stack.update(change_set.template, parameters=change_set.parameters,
                     tags=change_set.tags or None)


def validate_different_update(self: Any, incoming_params: list[dict[str, Any]] | None,
                              stack_body: str, old_stack: Any) -> None:
    """"No updates are to be performed." when template and parameters are unchanged.

    moto only checked this when parameters were passed, so an unchanged template without
    parameters ran a needless update and deployment tools reported a change.
    """
    if getattr(self, "_creating_change_set", False):
        return  # a change set without changes is created FAILED, not refused (see below)
    if not stack_body or old_stack.template != stack_body:
        return
    if tagging.stack_tags_change(old_stack, _tags_param(self)):
        return
    new_params = self._get_param_values(incoming_params or [], old_stack.stack_parameters)
    if new_params == (old_stack.parameters or {}) or (
            incoming_params and new_params == old_stack.stack_parameters):
        raise ValidationError(old_stack.name, message="No updates are to be performed.")


def _tags_param(response: Any) -> dict[str, str] | None:
    return {t["Key"]: t["Value"] for t in response._get_param("Tags", [])} or None


def change_set_diff(self: Any) -> list[Any]:
    """ChangeSet.diff with the change set's parameters: what refers to a changed one changes.

    New stack tags modify every resource that carries them (scope ``Tags``).
    """
    resource_map = self.stack.resource_map
    names = resource_map.build_resource_diff(self.template_dict, self.parameters)
    new = self.template_dict.get("Resources") or {}
    old = resource_map._resource_json_map
    changes = [
        cfn_models.Change(action=action, logical_resource_id=logical_id,
                          resource_type=(old if action == "Remove" else new)[logical_id]["Type"])
        for action in ("Add", "Modify", "Remove")
        for logical_id in names[action]
    ]
    if self.change_set_type == "UPDATE" and tagging.stack_tags_change(self.stack, self.tags):
        listed = {change.logical_resource_id for change in changes}
        for logical_id, resource_type in tagging.tagged_resources(self.stack):
            if logical_id not in listed and logical_id in new:
                change = cfn_models.Change("Modify", logical_id, resource_type)
                change.scope = ["Tags"]
                changes.append(change)
    return changes


def create_change_set(self: Any, *args: Any, **kwargs: Any) -> tuple[str, str]:
    """moto's create_change_set; one that changes only the stack's tags is not empty."""
    change_set_id, stack_id = _original_create_change_set(self, *args, **kwargs)
    change_set = self.change_sets[change_set_id]
    if change_set.status == "FAILED" and change_set.changes:
        change_set.status, change_set.execution_status = "CREATE_COMPLETE", "AVAILABLE"
        change_set.status_reason = None
    return change_set_id, stack_id


_original_create_change_set = cfn_models.CloudFormationBackend.create_change_set


def list_change_sets_response(self: Any) -> ActionResult:
    backend = self.cloudformation_backend
    stack = backend.get_stack(self._get_param("StackName"))
    return ActionResult({"Summaries": [cs for cs in backend.list_change_sets()
                                       if cs.stack_id == stack.stack_id]})


# -- read APIs that must not re-create resources ---------------------------------------------


def _views(stack: Any) -> list[core.StackResourceView]:
    return [
        core.StackResourceView(s.logical_id, s.physical_id, s.resource_type, s.status, s.reason,
                          s.timestamp)
        for s in core.states(stack).values()
    ]


def describe_stack_resource(self: Any, stack_name: str, logical_resource_id: str) -> Any:
    stack = self.get_stack(stack_name)
    for view in _views(stack):
        if view.logical_resource_id == logical_resource_id:
            return stack, view
    raise ValidationError(
        stack_name, f"Resource {logical_resource_id} does not exist for stack {stack_name}")


def describe_stack_resources(self: Any, stack_name: str, logical_resource_id: str) -> Any:
    stack = self.get_stack(stack_name)
    views = _views(stack)
    if logical_resource_id is not None:
        views = [v for v in views if v.logical_resource_id == logical_resource_id]
    return stack, views


def list_stack_resources(self: Any, stack_name_or_id: str) -> Any:
    stack = self.get_stack(stack_name_or_id)
    return stack, _views(stack)


def _dto_init(self: Any, stack: Any, resource: Any) -> None:
    _original_dto_init(self, stack, resource)
    if isinstance(resource, core.StackResourceView):
        self.resource_status = resource.resource_status
        self.resource_status_reason = resource.resource_status_reason
        self.timestamp = resource.timestamp
        self.last_updated_timestamp = resource.timestamp


_original_dto_init = cfn_responses.StackResourceDTO.__init__


def list_stack_resources_response(self: Any) -> Any:
    _, views = self.cloudformation_backend.list_stack_resources(self._get_param("StackName"))
    return ActionResult({
        "StackResourceSummaries": [
            {
                "LogicalResourceId": v.logical_resource_id,
                "PhysicalResourceId": v.physical_resource_id,
                "ResourceType": v.cf_resource_type,
                "ResourceStatus": v.resource_status,
                "ResourceStatusReason": v.resource_status_reason,
                "LastUpdatedTimestamp": v.timestamp,
            }
            for v in views
        ]
    })


def _with_on_failure(original: Any) -> Any:
    def create_stack(self: Any) -> Any:
        on_failure = self._get_param("OnFailure")
        if not on_failure:
            disable = str(self._get_param("DisableRollback", "false")).lower() == "true"
            on_failure = "DO_NOTHING" if disable else "ROLLBACK"
        token = core.ON_FAILURE.set(on_failure)
        try:
            return original(self)
        finally:
            core.ON_FAILURE.reset(token)

    return create_stack


def _change_set_as_aws(original: Any) -> Any:
    """CreateChangeSet as AWS: ChangeSetType defaults to UPDATE (moto: CREATE), and a change
    set that changes nothing is created with status FAILED ("didn't contain changes") rather
    than refused, which is how deployment tools' dry runs learn that nothing would change.
    """
    def create_change_set(self: Any) -> Any:
        if not self._get_param("ChangeSetType"):
            if self.automated_parameter_parsing:
                self.params["ChangeSetType"] = "UPDATE"
            else:
                self.querystring["ChangeSetType"] = ["UPDATE"]
        self._creating_change_set = True
        try:
            return original(self)
        finally:
            self._creating_change_set = False

    return create_change_set


def _answering_errors(action: Any) -> Any:
    """Any unexpected exception becomes an AWS-shaped error instead of an HTML 500."""
    def wrapped(self: Any) -> Any:
        try:
            return action(self)
        except (ServiceException, HTTPException):
            raise
        except Exception as exc:
            log.exception("CloudFormation %s failed", action.__name__)
            raise ValidationError(
                message=f"The local cloud could not complete {action.__name__}: {exc!r}"
            ) from exc

    wrapped.__name__ = action.__name__
    return wrapped


SAFE_ACTIONS = (
    "create_stack", "update_stack", "delete_stack", "describe_stacks", "describe_stack_events",
    "describe_stack_resource", "describe_stack_resources", "list_stack_resources",
    "get_template", "get_template_summary", "validate_template", "create_change_set",
    "describe_change_set", "execute_change_set", "list_stacks", "list_change_sets",
)


_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    backend_cls = cfn_models.CloudFormationBackend
    backend_cls.create_stack = create_stack
    backend_cls.delete_stack = delete_stack
    backend_cls.execute_change_set = execute_change_set
    backend_cls.create_change_set = create_change_set
    backend_cls.describe_stack_resource = describe_stack_resource
    backend_cls.describe_stack_resources = describe_stack_resources
    backend_cls.list_stack_resources = list_stack_resources
    cfn_responses.StackResourceDTO.__init__ = _dto_init
    response_cls = cfn_responses.CloudFormationResponse
    response_cls.create_stack = _with_on_failure(response_cls.create_stack)
    response_cls.list_stack_resources = list_stack_resources_response
    response_cls.create_change_set = _change_set_as_aws(response_cls.create_change_set)
    response_cls.list_change_sets = list_change_sets_response
    cfn_models.ChangeSet.diff = change_set_diff
    response_cls._validate_different_update = validate_different_update
    for name in SAFE_ACTIONS:
        setattr(response_cls, name, _answering_errors(getattr(response_cls, name)))
