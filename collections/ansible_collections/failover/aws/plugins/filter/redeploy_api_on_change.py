# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Give a template's API Gateway deployments a logical id that changes with their API."""

DOCUMENTATION = r"""
---
name: redeploy_api_on_change
short_description: Name each AWS::ApiGateway::Deployment after the definition of its REST API
version_added: 0.5.0
description:
  - CloudFormation creates an C(AWS::ApiGateway::Deployment) once. When the REST API's C(Body)
    changes later, the API is updated but the stage keeps serving the old deployment's snapshot,
    and the stack update reports success. AWS's remedy is a new logical id for the deployment
    (AWS::ApiGateway::Deployment in the CloudFormation User Guide; SAM does the same for
    C(AWS::Serverless::Api)).
  - This filter reads a template (YAML with CloudFormation's short tags, or JSON) and returns it
    as JSON with every deployment whose C(RestApiId) refers to a C(AWS::ApiGateway::RestApi) of
    the template renamed to C(<logical id><10 hex digits>). The digits are a hash of what the
    API's definition is made of - the RestApi's properties, and, followed through every C(Ref),
    C(Fn::GetAtt), C(Fn::Sub) and C(Fn::If), the properties of the resources and the values of
    the parameters and conditions they use - so an unchanged API keeps its deployment and any
    change to it makes CloudFormation create a new deployment, move the stage to it and delete
    the old one. Every reference to the old id is renamed with it.
  - Pseudo parameters (C(AWS::Region), ...) count by name only, since they do not change within a
    stack.
options:
  _input:
    description: The template's text (YAML or JSON).
    type: str
    required: true
  parameters:
    description: The stack's parameter values (names as in the template). A parameter left out
      counts with its C(Default).
    type: dict
    default: {}
author:
  - Event failover project team (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Create or update the stack; a changed API gets a new deployment in the same run
  amazon.aws.cloudformation:
    stack_name: my-stack
    template_body: >-
      {{ lookup('ansible.builtin.file', 'regional.yml')
         | failover.aws.redeploy_api_on_change(parameters) }}
    template_parameters: "{{ parameters }}"
"""

RETURN = r"""
_value:
  description: The template as JSON, its deployments renamed.
  type: str
"""

import hashlib
import json

import yaml

# CloudFormation's YAML short forms and the long form each stands for.
SHORT_FORMS = {
    "Ref": "Ref", "Condition": "Condition", "GetAtt": "Fn::GetAtt", "Sub": "Fn::Sub",
    "Join": "Fn::Join", "Select": "Fn::Select", "Split": "Fn::Split", "If": "Fn::If",
    "Equals": "Fn::Equals", "And": "Fn::And", "Or": "Fn::Or", "Not": "Fn::Not",
    "FindInMap": "Fn::FindInMap", "Base64": "Fn::Base64", "Cidr": "Fn::Cidr",
    "GetAZs": "Fn::GetAZs", "ImportValue": "Fn::ImportValue", "Transform": "Fn::Transform",
    "Length": "Fn::Length", "ToJsonString": "Fn::ToJsonString",
}
DIGEST_LENGTH = 10


class _TemplateLoader(yaml.SafeLoader):  # pylint: disable=too-many-ancestors
    """YAML with CloudFormation's short tags, read as their long forms."""


def _short_form(function):
    def construct(loader, node):
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if function == "Fn::GetAtt":
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {function: value}
    return construct


for _tag, _function in SHORT_FORMS.items():
    _TemplateLoader.add_constructor(f"!{_tag}", _short_form(_function))


def load_template(text):
    """The template as plain data (JSON is YAML too)."""
    # A SafeLoader subclass: plain data and the short tags only.
    template = yaml.load(text, Loader=_TemplateLoader)
    if not isinstance(template, dict):
        raise ValueError("the template is not a mapping")
    return template


def _sub_names(value):
    """Names a Fn::Sub string uses: ${Name} and ${Name.Attribute}, not ${!Literal}."""
    names, rest = [], value
    while "${" in rest:
        rest = rest.split("${", 1)[1]
        name, _brace, rest = rest.partition("}")
        if name and not name.startswith("!"):
            names.append(name.split(".", 1)[0])
    return names


def references(node):
    """(kind, name) of everything a template fragment refers to: ("ref", logical id or
    parameter) and ("condition", name)."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.append(("ref", value))
            elif key == "Fn::GetAtt":
                target = value[0] if isinstance(value, list) else str(value).split(".", 1)[0]
                found.append(("ref", target))
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) else value
                local = set(value[1]) if isinstance(value, list) and len(value) > 1 else set()
                found += [("ref", n) for n in _sub_names(text) if n not in local]
                if isinstance(value, list) and len(value) > 1:
                    found += references(value[1])
                continue
            elif key == "Fn::If" and isinstance(value, list) and value:
                found.append(("condition", value[0]))
                found += references(value[1:])
                continue
            elif key == "Condition" and isinstance(value, str):
                found.append(("condition", value))
            found += references(value)
    elif isinstance(node, list):
        for item in node:
            found += references(item)
    return found


def definition(template, logical_id, parameters):
    """Everything the resource's properties are made of, followed through the template."""
    resources = template.get("Resources") or {}
    declared = template.get("Parameters") or {}
    conditions = template.get("Conditions") or {}
    parts, seen = {}, set()
    pending = [("ref", logical_id)]
    while pending:
        kind, name = pending.pop()
        if (kind, name) in seen:
            continue
        seen.add((kind, name))
        if kind == "condition":
            body = conditions.get(name)
        elif name in resources:
            resource = resources[name]
            body = {"Type": resource.get("Type"), "Properties": resource.get("Properties")}
        elif name in declared:
            value = parameters.get(name, declared[name].get("Default"))
            body = {"Value": value if isinstance(value, (list, dict)) else str(value)}
        else:  # a pseudo parameter: fixed within a stack
            body = None
        parts[f"{kind}:{name}"] = body
        pending += references(body)
    return parts


def digest(value):
    encoded = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()[:DIGEST_LENGTH]


def rename(node, old, new):
    """``node`` with every reference to logical id ``old`` pointing to ``new``."""
    if isinstance(node, dict):
        renamed = {}
        for key, value in node.items():
            if key == "Ref" and value == old:
                value = new
            elif key == "Fn::GetAtt" and isinstance(value, list) and value and value[0] == old:
                value = [new, *value[1:]]
            elif key == "Fn::Sub":
                value = _rename_sub(value, old, new)
            elif key == "DependsOn":
                value = ([new if v == old else v for v in value] if isinstance(value, list)
                         else new if value == old else value)
            renamed[key] = rename(value, old, new)
        return renamed
    if isinstance(node, list):
        return [rename(item, old, new) for item in node]
    return node


def _rename_sub(value, old, new):
    def swap(text):
        return text.replace("${" + old + "}", "${" + new + "}").replace(
            "${" + old + ".", "${" + new + ".")
    if isinstance(value, str):
        return swap(value)
    if isinstance(value, list) and value and isinstance(value[0], str):
        local = value[1] if len(value) > 1 and isinstance(value[1], dict) else {}
        return [value[0] if old in local else swap(value[0]), *value[1:]]
    return value


def _rest_api_of(resource, resources):
    target = (resource.get("Properties") or {}).get("RestApiId")
    refs = [name for kind, name in references(target) if kind == "ref"]
    if len(refs) == 1 and (resources.get(refs[0]) or {}).get("Type") == "AWS::ApiGateway::RestApi":
        return refs[0]
    return None


def redeploy_api_on_change(text, parameters=None):
    template = load_template(text)
    parameters = parameters or {}
    resources = template.get("Resources") or {}
    for logical_id, resource in list(resources.items()):
        if resource.get("Type") != "AWS::ApiGateway::Deployment":
            continue
        api = _rest_api_of(resource, resources)
        if api is None:
            continue
        new_id = logical_id + digest(definition(template, api, parameters))
        template = rename(template, logical_id, new_id)
        template["Resources"] = {new_id if key == logical_id else key: value
                                 for key, value in template["Resources"].items()}
    # Compact: TemplateBody is limited to 51,200 bytes (CloudFormation quotas).
    return json.dumps(template, separators=(",", ":"))


class FilterModule:
    def filters(self):
        return {"redeploy_api_on_change": redeploy_api_on_change}
