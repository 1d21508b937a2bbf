"""CloudFormation ValidateTemplate as AWS answers it.

AWS's ValidateTemplate checks a template's syntax and structure, not its resources'
properties, and describes what a stack of it would need: its ``Parameters`` (key, default,
``NoEcho``, description), ``Capabilities`` (``CAPABILITY_IAM``, or ``CAPABILITY_NAMED_IAM`` when
an IAM resource has a custom name) with ``CapabilitiesReason``, its ``Description`` and
``DeclaredTransforms``. moto instead runs cfn-lint (seconds per call), refuses a template for any
lint finding, warnings included, words the error as ``Stack with id <finding> does not exist``,
and returns no parameters nor capabilities. A preflight that reads the answer saw nothing.

``install()`` replaces moto's action with one that parses the template (JSON, or YAML with the
short intrinsic tags) and answers ``ValidationError`` with AWS's ``Template format error: ...``
wording for what AWS checks at this stage: well-formedness, the top-level sections, at least one
resource, each resource's ``Type``, each parameter's type and properties, each output's
``Value``, and references (``Ref``, ``Fn::Sub``, ``DependsOn``) to names the template does not
define, and ``Fn::GetAtt`` of a resource it does not define.

Deviations, knowingly: resource types are not checked against the registry (AWS answers
``Unrecognized resource types``; here a stack of an unknown type fails when it is created, see
``cfn/``); ``CAPABILITY_AUTO_EXPAND`` is not reported for macros; the YAML error position is
PyYAML's; where AWS's wording is not documented (a template that is not a mapping, an output
without ``Value``) the message is the local cloud's own. The checks stop at the first problem, as
AWS's do.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml
from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.responses import ActionResult

# TemplateBody's documented maximum length (a longer template must be passed by TemplateURL).
MAX_BODY_LENGTH = 51_200
SECTIONS = {
    "AWSTemplateFormatVersion", "Description", "Metadata", "Parameters", "Rules", "Mappings",
    "Conditions", "Transform", "Resources", "Outputs", "Hooks",
}
PARAMETER_PROPERTIES = {
    "Type", "Default", "Description", "AllowedValues", "AllowedPattern", "MinLength",
    "MaxLength", "MinValue", "MaxValue", "NoEcho", "ConstraintDescription",
}
BASIC_PARAMETER_TYPES = {"String", "Number", "List<Number>", "CommaDelimitedList"}
PSEUDO_PARAMETERS = {
    "AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition", "AWS::Region",
    "AWS::StackId", "AWS::StackName", "AWS::URLSuffix",
}
# IAM resource types that need a capability, with the property that names them.
IAM_TYPES = {
    "AWS::IAM::AccessKey": None,
    "AWS::IAM::Group": "GroupName",
    "AWS::IAM::InstanceProfile": "InstanceProfileName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::Policy": None,
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::User": "UserName",
    "AWS::IAM::UserToGroupAddition": None,
    "AWS::IAM::RolePolicy": None,
    "AWS::IAM::UserPolicy": None,
    "AWS::IAM::GroupPolicy": None,
}
SUB_VARIABLE = re.compile(r"\$\{([^!}][^}]*)\}")

_installed = False


class TemplateFormatError(Exception):
    """A template AWS would refuse; the message is the one AWS gives."""


class _Loader(yaml.SafeLoader):
    """YAML with CloudFormation's short forms (``!Ref X``, ``!GetAtt a.b``, ``!Sub ...``)."""


def _intrinsic(loader: _Loader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.SequenceNode):
        value: Any = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:
        value = loader.construct_scalar(node)
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


_Loader.add_multi_constructor("!", _intrinsic)


def parse(body: str) -> dict[str, Any]:
    """The template as a dict, or the error AWS gives for a body it cannot read."""
    if body.lstrip().startswith("{"):
        try:
            template = json.loads(body)
        except ValueError as exc:
            position = f" (line {exc.lineno}, column {exc.colno})" if hasattr(exc, "lineno") else ""
            raise TemplateFormatError(f"Template format error: JSON not well-formed.{position}") \
                from exc
    else:
        try:
            template = yaml.load(body, Loader=_Loader)  # a SafeLoader subclass
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            position = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
            raise TemplateFormatError(f"Template format error: YAML not well-formed.{position}") \
                from exc
    if not isinstance(template, dict):
        raise TemplateFormatError("Template format error: unsupported structure.")
    return template


def _references(value: Any, refs: set[str], attributes: set[str]) -> None:
    """Collect the names ``value`` refers to: by Ref and Fn::Sub into ``refs``, by Fn::GetAtt
    into ``attributes`` (which must name resources), through nested intrinsics."""
    if isinstance(value, dict):
        if len(value) == 1 and "Ref" in value and isinstance(value["Ref"], str):
            refs.add(value["Ref"])
            return
        if len(value) == 1 and "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            if isinstance(target, str):
                target = target.split(".", 1)
            if isinstance(target, list) and target and isinstance(target[0], str):
                attributes.add(target[0])
            return
        if len(value) == 1 and "Fn::Sub" in value:
            sub = value["Fn::Sub"]
            text, local = (sub[0], sub[1]) if isinstance(sub, list) and len(sub) == 2 \
                else (sub, {})
            if isinstance(text, str):
                defined = set(local) if isinstance(local, dict) else set()
                for name in SUB_VARIABLE.findall(text):
                    target, _, attribute = name.strip().partition(".")
                    if target not in defined:
                        (attributes if attribute else refs).add(target)
            if isinstance(local, dict):
                _references(local, refs, attributes)
            return
        for item in value.values():
            _references(item, refs, attributes)
    elif isinstance(value, list):
        for item in value:
            _references(item, refs, attributes)


def _check_parameters(parameters: Any) -> list[dict[str, Any]]:
    if not isinstance(parameters, dict):
        raise TemplateFormatError("Template format error: Parameters must be an object.")
    described = []
    for key, definition in parameters.items():
        if not isinstance(definition, dict):
            raise TemplateFormatError(
                "Template format error: Every Parameters object must contain a Type member.")
        unknown = sorted(set(definition) - PARAMETER_PROPERTIES)
        if unknown:
            raise TemplateFormatError(
                f"Template format error: Invalid template parameter property '{unknown[0]}'")
        kind = definition.get("Type")
        if kind is None:
            raise TemplateFormatError(
                "Template format error: Every Parameters object must contain a Type member.")
        if not (kind in BASIC_PARAMETER_TYPES or str(kind).startswith(("AWS::", "List<AWS::"))):
            raise TemplateFormatError(f"Template format error: Unrecognized parameter type: {kind}")
        entry: dict[str, Any] = {
            "ParameterKey": key,
            "NoEcho": str(definition.get("NoEcho", "false")).lower() == "true",
        }
        if "Default" in definition:
            entry["DefaultValue"] = _as_string(definition["Default"])
        if "Description" in definition:
            entry["Description"] = str(definition["Description"])
        described.append(entry)
    return described


def _as_string(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ",".join(_as_string(v) for v in value)
    return str(value)


def _depends_on(resource: Any) -> set[str]:
    depends = resource.get("DependsOn", []) if isinstance(resource, dict) else []
    names = [depends] if isinstance(depends, str) else depends
    return {name for name in names if isinstance(name, str)} if isinstance(names, list) else set()


def _check_references(block: str, section: dict[str, Any], known: set[str],
                      resources: set[str]) -> None:
    refs: set[str] = set()
    attributes: set[str] = set()
    for body in section.values():
        _references(body, refs, attributes)
        if block == "Resources":
            refs |= _depends_on(body)
    missing = ", ".join(sorted(refs - known))
    if missing:
        raise TemplateFormatError(
            f"Template format error: Unresolved resource dependencies [{missing}] in the {block} "
            "block of the template")
    undefined = sorted(attributes - resources)
    if undefined:
        raise TemplateFormatError(
            f"Template error: instance of Fn::GetAtt references undefined resource {undefined[0]}")


def _capabilities(resources: dict[str, Any]) -> tuple[list[str], str | None]:
    types: list[str] = []
    named = False
    for body in resources.values():
        kind = body.get("Type")
        if kind in IAM_TYPES and kind not in types:
            types.append(kind)
        name_property = IAM_TYPES.get(kind)
        if name_property and name_property in (body.get("Properties") or {}):
            named = True
    if not types:
        return [], None
    capability = "CAPABILITY_NAMED_IAM" if named else "CAPABILITY_IAM"
    return [capability], f"The following resource(s) require capabilities: [{', '.join(types)}]"


def describe(body: str) -> dict[str, Any]:
    """ValidateTemplate's answer for a template body (raises TemplateFormatError)."""
    template = parse(body)
    unknown = ", ".join(sorted(set(template) - SECTIONS))
    if unknown:
        raise TemplateFormatError(
            f"Template format error: Invalid template property or properties [{unknown}]")
    resources = template.get("Resources")
    if not isinstance(resources, dict) or not resources:
        raise TemplateFormatError(
            "Template format error: At least one Resources member must be defined.")
    for logical_id, resource in resources.items():
        if not isinstance(resource, dict) or not isinstance(resource.get("Type"), str):
            raise TemplateFormatError(
                f"Template format error: [/Resources/{logical_id}] Every Resources object must "
                "contain a Type member.")
    parameters = _check_parameters(template.get("Parameters") or {})
    outputs = template.get("Outputs") or {}
    for key, output in outputs.items() if isinstance(outputs, dict) else ():
        if not isinstance(output, dict) or "Value" not in output:
            raise TemplateFormatError(
                f"Template format error: Every Outputs member must contain a Value object ({key})")
    known = set(resources) | {p["ParameterKey"] for p in parameters} | PSEUDO_PARAMETERS
    _check_references("Resources", resources, known, set(resources))
    if isinstance(outputs, dict):
        _check_references("Outputs", outputs, known, set(resources))
    capabilities, reason = _capabilities(resources)
    transform = template.get("Transform") or []
    result: dict[str, Any] = {
        "Parameters": parameters,
        "Description": template.get("Description", "") or "",
        "Capabilities": capabilities,
        "DeclaredTransforms": [transform] if isinstance(transform, str) else list(transform),
    }
    if reason:
        result["CapabilitiesReason"] = reason
    return result


def _validate_template(self: CloudFormationResponse) -> ActionResult:
    body = self._get_param("TemplateBody")
    template_url = self._get_param("TemplateURL")
    if body is None and template_url:
        body = self._get_stack_from_s3_url(template_url)
    elif body is None:
        raise ValidationError(message="Either Template URL or Template Body must be specified.")
    elif len(body) > MAX_BODY_LENGTH:
        raise ValidationError(message=(
            "1 validation error detected: Value at 'templateBody' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_BODY_LENGTH}"))
    try:
        return ActionResult(describe(body))
    except TemplateFormatError as exc:
        raise ValidationError(message=str(exc)) from exc


def install() -> None:
    """Answer ValidateTemplate as AWS does (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    CloudFormationResponse.validate_template = _validate_template
