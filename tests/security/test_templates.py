"""Security of the project's CloudFormation templates, read from their source.

Every check is a function that returns the problems it finds in a parsed template (cfn-lint's
loader, so `!GetAtt`/`!Sub` arrive as `Fn::` mappings). Each runs on every template cfn-lint
checks (`.cfnlintrc.yaml`: files/*.yml) and, so that no check passes because it cannot fail, on
a small template of this file's own that breaks its rule.

- IAM least privilege: no wildcard action, no NotAction/NotResource; every resource is one of
  this stack's own (a GetAtt or Ref of one of its resources, or an ARN built from the name one of
  them has) of the action's service; each role is granted exactly the actions its users need,
  derived from the template and the function's code, not listed by hand.
- Trust and resource policies: only AWS service principals; a resource policy that lets a
  service in names the source (aws:SourceArn or aws:SourceAccount, against the confused deputy).
- Encryption at rest of every SQS queue and DynamoDB table, point-in-time recovery on every
  table replica, TLS 1.2 or newer on every API Gateway custom domain, throttling on every stage.
- checkov (in its own venv, .venv-security): no failed check, and each check the template skips
  carries its reason in place.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import textwrap
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from cfnlint.decode import cfn_yaml
from conftest import REPO

Template = dict[str, Any]
Check = Callable[[Template], list[str]]


def project_templates() -> list[Path]:
    """The templates cfn-lint checks (the `templates` globs of .cfnlintrc.yaml)."""
    globs = yaml.safe_load((REPO / ".cfnlintrc.yaml").read_text())["templates"]
    return sorted({path for pattern in globs for path in REPO.glob(pattern)})


TEMPLATES = project_templates()
LAMBDA_CODE = REPO / "lambda"

# Resource types whose security this file has reviewed. A template that adds another type fails
# `reviewed_types` until the checks below cover what that type can expose or store.
REVIEWED_TYPES = {
    "AWS::ApiGateway::Account", "AWS::ApiGateway::BasePathMapping", "AWS::ApiGateway::Deployment",
    "AWS::ApiGateway::DomainName", "AWS::ApiGateway::RestApi", "AWS::ApiGateway::Stage",
    "AWS::DynamoDB::GlobalTable", "AWS::DynamoDB::Table", "AWS::Events::EventBus",
    "AWS::Events::Rule", "AWS::IAM::Policy", "AWS::IAM::Role", "AWS::Lambda::EventSourceMapping",
    "AWS::Lambda::Function", "AWS::Logs::LogGroup", "AWS::SQS::Queue", "AWS::SQS::QueuePolicy",
}

# Actions that support no resource-level permission, so that only `Resource: "*"` can grant
# them. Add one only with the page of AWS's Service Authorization Reference that says so
# (https://docs.aws.amazon.com/service-authorization/latest/reference/). None is needed today.
UNSCOPABLE_ACTIONS: dict[str, str] = {}

# AWS managed policies a role may carry: policy name -> (the one service that may assume the
# role, why an inline policy scoped to this stack cannot replace it).
ALLOWED_MANAGED_POLICIES = {
    "service-role/AmazonAPIGatewayPushToCloudWatchLogs": (
        "apigateway.amazonaws.com",
        "API Gateway uses one CloudWatch Logs role for every API of the account in a region "
        "(AWS::ApiGateway::Account), so it cannot be scoped to this stack's log groups",
    ),
}

# What Lambda itself does with a function's role (AWS documentation):
# - writes the function's logs: CreateLogStream and PutLogEvents (the stack creates the group);
# - polls an SQS event source: "The Lambda execution role must include sqs:DeleteMessage,
#   sqs:GetQueueAttributes, sqs:ReceiveMessage" (SQS Developer Guide, "Configuring an Amazon SQS
#   queue to trigger an AWS Lambda function", Prerequisites).
LAMBDA_LOGGING_ACTIONS = {"logs:CreateLogStream", "logs:PutLogEvents"}
LAMBDA_SQS_POLLER_ACTIONS = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}
# boto3 DynamoDB calls (client or Table resource) and the IAM action each needs.
DYNAMODB_CALLS = {
    "put_item": "dynamodb:PutItem", "get_item": "dynamodb:GetItem",
    "update_item": "dynamodb:UpdateItem", "delete_item": "dynamodb:DeleteItem",
    "query": "dynamodb:Query", "scan": "dynamodb:Scan",
    "batch_writer": "dynamodb:BatchWriteItem", "batch_write_item": "dynamodb:BatchWriteItem",
    "batch_get_item": "dynamodb:BatchGetItem",
    "transact_write_items": "dynamodb:TransactWriteItems",
    "describe_table": "dynamodb:DescribeTable", "load": "dynamodb:DescribeTable",
}

# Security policies with TLS 1.2 as the minimum: TLS_1_2 and the enhanced SecurityPolicy_TLS12_*
# and SecurityPolicy_TLS13_* policies (AWS Config rule apigateway-domain-name-tls-check lists
# them; TLS_1_0, the default when SecurityPolicy is absent, accepts TLS 1.0).
MODERN_TLS = re.compile(r"^(TLS_1_2|SecurityPolicy_TLS1[23]_\w+)$")
SUB_ARN = re.compile(r"^arn:\$\{AWS::Partition\}:(?P<service>[a-z0-9-]+):"
                     r"(?P<region>\$\{AWS::Region\}|[a-z0-9-]*):"
                     r"(?P<account>\$\{AWS::AccountId\}|[0-9]*|aws):(?P<resource>.+)$")
NO_VALUE = {"Ref": "AWS::NoValue"}


# -- template helpers --------------------------------------------------------------------------


def load(path: Path) -> Template:
    return cfn_yaml.load(str(path))


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def resources(template: Template, *types: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(logical id, properties) of the template's resources, of the given types if any."""
    for logical_id, resource in template.get("Resources", {}).items():
        if not types or resource["Type"] in types:
            yield logical_id, resource.get("Properties", {})


def truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def service_of(resource_type: str) -> str:
    """The IAM service prefix of a CloudFormation type (AWS::SQS::Queue -> sqs)."""
    return resource_type.split("::")[1].lower()


def logical_target(value: Any) -> str | None:
    """The logical id a `Ref` or `Fn::GetAtt` points at."""
    if isinstance(value, dict) and "Ref" in value:
        return value["Ref"]
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        return target[0] if isinstance(target, list) else target.split(".")[0]
    return None


def sub_text(value: Any) -> str | None:
    if isinstance(value, dict) and "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        return sub if isinstance(sub, str) else sub[0]
    return None


def resource_names(template: Template) -> dict[str, str]:
    """`Fn::Sub` name of each named resource (TableName, QueueName, ...) -> its type."""
    names = {}
    for logical_id, props in resources(template):
        for key, value in props.items():
            text = sub_text(value)
            if key.endswith("Name") and text:
                names[text] = template["Resources"][logical_id]["Type"]
    return names


def statements(document: Any) -> list[dict[str, Any]]:
    return as_list(document.get("Statement")) if isinstance(document, dict) else []


def allows(statement: dict[str, Any]) -> bool:
    return statement.get("Effect") == "Allow"


# -- IAM ---------------------------------------------------------------------------------------


class NotOwned(Exception):
    """A policy resource that is not one of this stack's own resources."""


def owned_services(value: Any, template: Template) -> set[str]:
    """Services of the stack resources an ARN expression names; NotOwned if it names others."""
    stack = template.get("Resources", {})
    if isinstance(value, dict) and "Fn::If" in value:
        branches = [v for v in value["Fn::If"][1:] if v != NO_VALUE]
        return set().union(*(owned_services(branch, template) for branch in branches))
    target = logical_target(value)
    if target in stack:
        return {service_of(stack[target]["Type"])}
    text = sub_text(value)
    match = SUB_ARN.match(text or "")
    if not text or not match:
        raise NotOwned(f"{value!r} is not an ARN of this stack's resources")
    if "*" in text:
        raise NotOwned(f"{text!r} has a wildcard")
    if match["region"] != "${AWS::Region}" or match["account"] != "${AWS::AccountId}":
        raise NotOwned(f"{text!r} is not in this stack's region and account")
    resource_part = match["resource"]
    references = {f"${{{logical_id}}}" for logical_id in stack}
    references |= {f"${{{logical_id}.Arn}}" for logical_id in stack}
    named = [rtype for name, rtype in resource_names(template).items()
             if re.search(rf"[:/]{re.escape(name)}$", resource_part)]
    if not named and not any(ref in resource_part for ref in references):
        raise NotOwned(f"{text!r} names no resource of this stack")
    if named and service_of(named[0]) != match["service"]:
        raise NotOwned(f"{text!r} is a {match['service']} ARN for a {named[0]}")
    return {match["service"]}


def statement_problems(where: str, statement: dict[str, Any], template: Template) -> list[str]:
    """Wildcards, negations and resources outside this stack in one Allow statement."""
    problems = [f"{where}: {key} grants everything it does not list"
                for key in ("NotAction", "NotResource", "NotPrincipal") if key in statement]
    if not allows(statement):
        return problems
    actions = as_list(statement.get("Action"))
    problems += [f"{where}: wildcard action {action!r}" for action in actions
                 if not isinstance(action, str) or "*" in action]
    action_services = {action.split(":")[0] for action in actions if isinstance(action, str)}
    if not as_list(statement.get("Resource")):
        problems.append(f"{where}: no Resource")
    for resource in as_list(statement.get("Resource")):
        if resource == "*":
            if not all(action in UNSCOPABLE_ACTIONS for action in actions):
                problems.append(f"{where}: Resource '*' for {actions}")
            continue
        try:
            services = owned_services(resource, template)
        except NotOwned as exc:
            problems.append(f"{where}: {exc}")
            continue
        if services != action_services:
            problems.append(f"{where}: {sorted(action_services)} actions on a "
                            f"{sorted(services)} resource")
    return problems


def identity_policies(template: Template) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(role, where, document) for every identity policy: inline, or AWS::IAM::Policy."""
    for role, props in resources(template, "AWS::IAM::Role"):
        for policy in props.get("Policies", []):
            yield role, f"{role}/{policy.get('PolicyName')}", policy["PolicyDocument"]
    for policy_id, props in resources(template, "AWS::IAM::Policy"):
        for role in as_list(props.get("Roles")):
            yield logical_target(role) or str(role), policy_id, props["PolicyDocument"]


def iam_policy_problems(template: Template) -> list[str]:
    """Identity and resource policies: no wildcard action, only this stack's resources."""
    problems = []
    for _, where, document in identity_policies(template):
        for statement in statements(document):
            problems += statement_problems(where, statement, template)
    for policy_id, props in resources(template, "AWS::SQS::QueuePolicy"):
        for statement in statements(props.get("PolicyDocument")):
            problems += statement_problems(policy_id, statement, template)
    return problems


def service_principals(statement: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(service principals, every other principal) of a statement."""
    principal = statement.get("Principal")
    if not isinstance(principal, dict):
        return [], [repr(principal)]
    others = [f"{kind}: {value!r}" for kind, value in principal.items() if kind != "Service"]
    services = [s for s in as_list(principal.get("Service"))
                if isinstance(s, str) and s.endswith(".amazonaws.com")]
    others += [repr(s) for s in as_list(principal.get("Service")) if s not in services]
    return services, others


def principal_problems(template: Template) -> list[str]:
    """Roles trusted by one AWS service each; resource policies name the source of a service."""
    problems = []
    for role, props in resources(template, "AWS::IAM::Role"):
        for statement in statements(props.get("AssumeRolePolicyDocument")):
            services, others = service_principals(statement)
            if allows(statement) and (others or not services):
                problems.append(f"{role}: trusts {others or 'no service'}, not an AWS service")
    for policy_id, props in resources(template, "AWS::SQS::QueuePolicy"):
        for statement in statements(props.get("PolicyDocument")):
            services, others = service_principals(statement)
            if allows(statement) and others:
                problems.append(f"{policy_id}: lets in {others}, not an AWS service")
            condition_keys = {key.lower() for test in (statement.get("Condition") or {}).values()
                              for key in test}
            if services and not condition_keys & {"aws:sourcearn", "aws:sourceaccount"}:
                problems.append(f"{policy_id}: lets {services} in for any source "
                                "(no aws:SourceArn or aws:SourceAccount condition)")
    return problems


def managed_policy_problems(template: Template) -> list[str]:
    """Only the allowed AWS managed policies, each on a role that only its service assumes."""
    problems = []
    for role, props in resources(template, "AWS::IAM::Role"):
        trusted = {service for statement in statements(props.get("AssumeRolePolicyDocument"))
                   for service in service_principals(statement)[0]}
        for arn in as_list(props.get("ManagedPolicyArns")):
            text = sub_text(arn) or str(arn)
            name = text.split(":policy/", 1)[-1]
            allowed = ALLOWED_MANAGED_POLICIES.get(name)
            if allowed is None:
                problems.append(f"{role}: managed policy {text!r} is not scoped to this stack")
            elif trusted != {allowed[0]}:
                problems.append(f"{role}: {name} on a role trusted by {sorted(trusted)}")
    return problems


def code_actions(code_dir: Path) -> set[str]:
    """The DynamoDB actions a function's code calls (every `.put_item(...)`-like call)."""
    calls = set()
    for path in code_dir.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                calls.add(node.func.attr)
    return {DYNAMODB_CALLS[call] for call in calls if call in DYNAMODB_CALLS}


def function_code(props: dict[str, Any]) -> Path:
    """The code of function `<prefix>-<name>` lives in lambda/<name>/ (files/README.md)."""
    name = sub_text(props.get("FunctionName")) or ""
    code = LAMBDA_CODE / name.rsplit("-", 1)[-1]
    assert code.is_dir(), f"no code for function {name!r} in {code}"
    return code


def needed_actions(template: Template) -> dict[str, set[str]]:
    """Per role, the actions its users need: Lambda and its code, API integrations."""
    stack = template.get("Resources", {})
    needed: dict[str, set[str]] = defaultdict(set)
    for function_id, props in resources(template, "AWS::Lambda::Function"):
        role = logical_target(props.get("Role"))
        needed[role] |= LAMBDA_LOGGING_ACTIONS | code_actions(function_code(props))
        for _, mapping in resources(template, "AWS::Lambda::EventSourceMapping"):
            source = logical_target(mapping.get("EventSourceArn"))
            if (logical_target(mapping.get("FunctionName")) == function_id
                    and source in stack and stack[source]["Type"] == "AWS::SQS::Queue"):
                needed[role] |= LAMBDA_SQS_POLLER_ACTIONS
    for _, props in resources(template, "AWS::ApiGateway::RestApi"):
        for operations in (props.get("Body") or {}).get("paths", {}).values():
            for operation in operations.values():
                integration = operation.get("x-amazon-apigateway-integration") or {}
                role = logical_target(integration.get("credentials"))
                if role:
                    needed[role] |= integration_actions(integration)
    return needed


def integration_actions(integration: dict[str, Any]) -> set[str]:
    """The action an AWS integration calls: `…:<service>:action/<Action>`, or its X-Amz-Target."""
    uri = sub_text(integration.get("uri")) or str(integration.get("uri"))
    match = re.search(r":apigateway:(\$\{AWS::Region\}|[a-z0-9-]+):(?P<service>[a-z0-9-]+):"
                      r"(?P<kind>action|path)/(?P<rest>.*)$", uri)
    if not match:
        return {f"unknown action of {uri!r}"}
    if match["kind"] == "action":
        return {f"{match['service']}:{match['rest']}"}
    target = (integration.get("requestParameters") or {}).get(
        "integration.request.header.X-Amz-Target", "")
    return {f"{match['service']}:{target.strip(chr(39)).rsplit('.', 1)[-1]}"}


def granted_actions(template: Template) -> dict[str, set[str]]:
    granted: dict[str, set[str]] = defaultdict(set)
    for role, _, document in identity_policies(template):
        for statement in statements(document):
            if allows(statement):
                granted[role] |= {str(a) for a in as_list(statement.get("Action"))}
    return granted


def least_privilege_problems(template: Template) -> list[str]:
    """Each role is granted exactly what its users need: nothing more, nothing missing."""
    needed, granted = needed_actions(template), granted_actions(template)
    problems = []
    for role, _ in resources(template, "AWS::IAM::Role"):
        extra, missing = granted[role] - needed[role], needed[role] - granted[role]
        if extra:
            problems.append(f"{role}: grants {sorted(extra)}, which nothing in the stack uses")
        if missing:
            problems.append(f"{role}: lacks {sorted(missing)}, which its users need")
    return problems


# -- data at rest, transport, throttling -------------------------------------------------------


def encryption_problems(template: Template) -> list[str]:
    """SQS queues (SSE-SQS or KMS) and DynamoDB tables (SSE) are encrypted at rest."""
    problems = []
    for queue, props in resources(template, "AWS::SQS::Queue"):
        if not truthy(props.get("SqsManagedSseEnabled")) and not props.get("KmsMasterKeyId"):
            problems.append(f"{queue}: not encrypted at rest (set SqsManagedSseEnabled: true)")
    for table, props in resources(template, "AWS::DynamoDB::GlobalTable", "AWS::DynamoDB::Table"):
        if not truthy((props.get("SSESpecification") or {}).get("SSEEnabled")):
            problems.append(f"{table}: SSESpecification.SSEEnabled is not true")
    return problems


def pitr_problems(template: Template) -> list[str]:
    """Point-in-time recovery on every DynamoDB table and every global table replica."""
    problems = []

    def enabled(spec: Any) -> bool:
        return truthy((spec or {}).get("PointInTimeRecoveryEnabled"))

    for table, props in resources(template, "AWS::DynamoDB::Table"):
        if not enabled(props.get("PointInTimeRecoverySpecification")):
            problems.append(f"{table}: point-in-time recovery is off")
    for table, props in resources(template, "AWS::DynamoDB::GlobalTable"):
        replicas = as_list(props.get("Replicas"))
        if not replicas:
            problems.append(f"{table}: no replica")
        for replica in replicas:
            if not enabled(replica.get("PointInTimeRecoverySpecification")):
                problems.append(f"{table}: point-in-time recovery is off in replica "
                                f"{replica.get('Region')}")
    return problems


def tls_problems(template: Template) -> list[str]:
    """Every API Gateway custom domain refuses TLS below 1.2."""
    return [f"{domain}: SecurityPolicy {props.get('SecurityPolicy', 'absent (TLS_1_0)')}"
            for domain, props in resources(template, "AWS::ApiGateway::DomainName")
            if not MODERN_TLS.match(str(props.get("SecurityPolicy", "")))]


def limit_problem(where: str, value: Any, template: Template) -> str | None:
    """A throttling limit must be a positive number, or a Number parameter bounded to be one."""
    parameter_name = logical_target(value)
    if parameter_name is not None:
        parameter = template.get("Parameters", {}).get(parameter_name)
        if parameter is None or parameter.get("Type") != "Number":
            return f"{where}: {parameter_name} is not a Number parameter"
        if float(parameter.get("MinValue", 0)) < 1 or "MaxValue" not in parameter:
            return f"{where}: parameter {parameter_name} allows values below 1 or has no maximum"
        return None
    try:
        return None if float(value) >= 1 else f"{where}: limit {value} leaves it unthrottled"
    except (TypeError, ValueError):
        return f"{where}: limit {value!r} is not a number"


def throttling_problems(template: Template) -> list[str]:
    """Every stage throttles all its methods (`/*` `*`); no method setting lifts that."""
    problems = []
    for stage, props in resources(template, "AWS::ApiGateway::Stage"):
        settings = as_list(props.get("MethodSettings"))
        everything = [s for s in settings
                      if s.get("ResourcePath") == "/*" and s.get("HttpMethod") == "*"]
        if not any("ThrottlingRateLimit" in s and "ThrottlingBurstLimit" in s
                   for s in everything):
            problems.append(f"{stage}: no rate and burst limit for every method (/* *)")
        for setting in settings:
            for key in ("ThrottlingRateLimit", "ThrottlingBurstLimit"):
                if key in setting:
                    where = f"{stage} {setting.get('HttpMethod')} {setting.get('ResourcePath')}"
                    problem = limit_problem(f"{where} {key}", setting[key], template)
                    problems += [problem] if problem else []
    return problems


def reviewed_type_problems(template: Template) -> list[str]:
    """A resource type nobody reviewed for security here fails until someone does."""
    return sorted({f"{resource['Type']} is not reviewed (REVIEWED_TYPES)"
                   for resource in template.get("Resources", {}).values()
                   if resource["Type"] not in REVIEWED_TYPES})


CHECKS: dict[str, Check] = {
    "iam_policies": iam_policy_problems,
    "principals": principal_problems,
    "managed_policies": managed_policy_problems,
    "least_privilege": least_privilege_problems,
    "encryption_at_rest": encryption_problems,
    "point_in_time_recovery": pitr_problems,
    "tls": tls_problems,
    "throttling": throttling_problems,
    "reviewed_types": reviewed_type_problems,
}


@pytest.mark.parametrize("template_path", TEMPLATES, ids=lambda p: p.name)
@pytest.mark.parametrize("check", CHECKS)
def test_project_template_passes(template_path: Path, check: str) -> None:
    assert CHECKS[check](load(template_path)) == []


def test_the_project_template_is_checked() -> None:
    assert REPO / "files" / "regional.yml" in TEMPLATES


# -- each check on a template that breaks it ---------------------------------------------------

QUEUE_ROLE = """
Parameters:
  Name: {{Type: String}}
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties: {{QueueName: !Sub "${{Name}}-q", SqsManagedSseEnabled: true}}
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub ${{Name}}-t
      KeySchema: [{{AttributeName: id, KeyType: HASH}}]
      SSESpecification: {{SSEEnabled: true}}
      PointInTimeRecoverySpecification: {{PointInTimeRecoveryEnabled: true}}
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement: [{{Effect: Allow, Principal: {principal}, Action: sts:AssumeRole}}]
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement: [{{Effect: Allow, Action: {action}, Resource: {resource}}}]
"""


def role_template(action: str = "sqs:SendMessage", resource: str = "!GetAtt Queue.Arn",
                  principal: str = "{Service: lambda.amazonaws.com}") -> str:
    return QUEUE_ROLE.format(action=action, resource=resource, principal=principal)


FUNCTION = """
Parameters:
  Name: {Type: String}
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties: {SqsManagedSseEnabled: true}
  Logs:
    Type: AWS::Logs::LogGroup
    Properties: {LogGroupName: !Sub "/aws/lambda/${Name}-processor"}
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com},
                     Action: sts:AssumeRole}]
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement:
              - {Effect: Allow, Action: [logs:CreateLogStream, logs:PutLogEvents],
                 Resource: !GetAtt Logs.Arn}
              - {Effect: Allow, Action: [sqs:ReceiveMessage, sqs:DeleteMessage,
                                         sqs:GetQueueAttributes], Resource: !GetAtt Queue.Arn}
              - Effect: Allow
                Action: [%s]
                Resource: !Sub "arn:${AWS::Partition}:dynamodb:${AWS::Region}:\\
                  ${AWS::AccountId}:table/${Name}-t"
  Function:
    Type: AWS::Lambda::Function
    Properties: {FunctionName: !Sub "${Name}-processor", Role: !GetAtt Role.Arn}
  Mapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties: {EventSourceArn: !GetAtt Queue.Arn, FunctionName: !Ref Function}
"""

QUEUE_POLICY = """
Resources:
  Queue: {Type: AWS::SQS::Queue, Properties: {SqsManagedSseEnabled: true}}
  Policy:
    Type: AWS::SQS::QueuePolicy
    Properties:
      Queues: [!Ref Queue]
      PolicyDocument:
        Statement:
          - {Effect: Allow, Principal: %s, Action: sqs:SendMessage, Resource: !GetAtt Queue.Arn}
"""

MANAGED = """
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement: [{Effect: Allow, Principal: {Service: %s}, Action: sts:AssumeRole}]
      ManagedPolicyArns: [!Sub "arn:${AWS::Partition}:iam::aws:policy/%s"]
"""

GLOBAL_TABLE = """
Parameters:
  Peer: {Type: String}
Resources:
  Table:
    Type: AWS::DynamoDB::GlobalTable
    Properties:
      SSESpecification: {SSEEnabled: %s}
      Replicas:
        - {Region: !Ref AWS::Region,
           PointInTimeRecoverySpecification: {PointInTimeRecoveryEnabled: true}}
        - {Region: !Ref Peer, PointInTimeRecoverySpecification: {PointInTimeRecoveryEnabled: %s}}
"""

DOMAIN = """
Resources:
  Domain:
    Type: AWS::ApiGateway::DomainName
    Properties: {DomainName: api.example.org, RegionalCertificateArn: arn, %s}
"""

STAGE = """
Parameters:
  Rate: {Type: Number, MinValue: %s, MaxValue: 100}
Resources:
  Stage:
    Type: AWS::ApiGateway::Stage
    Properties:
      RestApiId: api
      MethodSettings:
        - {ResourcePath: %s, HttpMethod: "*", ThrottlingRateLimit: !Ref Rate,
           ThrottlingBurstLimit: %s}
"""

BROKEN = [
    ("iam_policies", role_template(), None),
    ("iam_policies", role_template(action="sqs:*"), "wildcard action 'sqs:*'"),
    ("iam_policies", role_template(action="'*'"), "wildcard action '*'"),
    ("iam_policies", role_template(action="[sqs:SendMessage, sqs:Get*]"), "'sqs:Get*'"),
    ("iam_policies", role_template(resource="'*'"), "Resource '*'"),
    ("iam_policies", role_template(resource="arn:aws:sqs:us-east-1:111122223333:other"),
     "is not an ARN of this stack's resources"),
    ("iam_policies", role_template(
        action="dynamodb:PutItem",
        resource='!Sub "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/*"'),
     "has a wildcard"),
    ("iam_policies", role_template(
        action="dynamodb:PutItem",
        resource='!Sub "arn:${AWS::Partition}:dynamodb:us-west-2:${AWS::AccountId}:'
                 'table/${Name}-t"'),
     "not in this stack's region and account"),
    ("iam_policies", role_template(
        action="dynamodb:PutItem",
        resource='!Sub "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:'
                 'table/${Name}-other"'),
     "names no resource of this stack"),
    ("iam_policies", role_template(action="dynamodb:PutItem"),
     "['dynamodb'] actions on a ['sqs'] resource"),
    ("principals", role_template(principal="{AWS: '*'}"), "not an AWS service"),
    ("principals", role_template(principal="'*'"), "not an AWS service"),
    ("principals", QUEUE_POLICY % "{Service: events.amazonaws.com}", "for any source"),
    ("principals", QUEUE_POLICY % "{AWS: '*'}", "not an AWS service"),
    ("iam_policies", QUEUE_POLICY % "{Service: events.amazonaws.com}", None),
    ("managed_policies", MANAGED % ("apigateway.amazonaws.com",
                                    "service-role/AmazonAPIGatewayPushToCloudWatchLogs"), None),
    ("managed_policies", MANAGED % ("lambda.amazonaws.com", "AdministratorAccess"),
     "AdministratorAccess' is not scoped"),
    ("managed_policies", MANAGED % ("lambda.amazonaws.com",
                                    "service-role/AmazonAPIGatewayPushToCloudWatchLogs"),
     "on a role trusted by ['lambda.amazonaws.com']"),
    ("least_privilege", FUNCTION % "dynamodb:PutItem", None),
    ("least_privilege", FUNCTION % "dynamodb:PutItem, dynamodb:DeleteItem",
     "grants ['dynamodb:DeleteItem']"),
    ("least_privilege", FUNCTION % "dynamodb:GetItem",
     "lacks ['dynamodb:PutItem']"),
    ("encryption_at_rest", role_template(), None),
    ("encryption_at_rest", role_template().replace("SqsManagedSseEnabled: true",
                                                   "SqsManagedSseEnabled: false"),
     "Queue: not encrypted at rest"),
    ("encryption_at_rest", role_template().replace("SSEEnabled: true", "SSEEnabled: false"),
     "Table: SSESpecification.SSEEnabled is not true"),
    ("encryption_at_rest", GLOBAL_TABLE % ("false", "true"), "Table: SSESpecification"),
    ("point_in_time_recovery", GLOBAL_TABLE % ("true", "true"), None),
    ("point_in_time_recovery", GLOBAL_TABLE % ("true", "false"), "off in replica"),
    ("point_in_time_recovery",
     role_template().replace("RecoveryEnabled: true", "RecoveryEnabled: false"),
     "Table: point-in-time recovery is off"),
    ("tls", DOMAIN % "SecurityPolicy: TLS_1_2", None),
    ("tls", DOMAIN % "SecurityPolicy: SecurityPolicy_TLS13_1_2_2021_06", None),
    ("tls", DOMAIN % "SecurityPolicy: TLS_1_0", "SecurityPolicy TLS_1_0"),
    ("tls", DOMAIN % "EndpointConfiguration: {Types: [REGIONAL]}", "absent (TLS_1_0)"),
    ("throttling", STAGE % (1, "/*", 10), None),
    ("throttling", STAGE % (1, "/events/POST", 10), "no rate and burst limit for every method"),
    ("throttling", STAGE % (0, "/*", 10), "allows values below 1"),
    ("throttling", STAGE % (1, "/*", -1), "leaves it unthrottled"),
    ("reviewed_types", "Resources:\n  Bucket: {Type: AWS::S3::Bucket}\n",
     "AWS::S3::Bucket is not reviewed"),
]


@pytest.mark.parametrize(("check", "template", "expected"), BROKEN)
def test_check_finds_what_breaks_its_rule(check: str, template: str,
                                          expected: str | None) -> None:
    """A template of the test's own: `expected` is the problem reported, None for a clean one."""
    problems = CHECKS[check](cfn_yaml.loads(textwrap.dedent(template)))
    if expected is None:
        assert problems == []
    else:
        assert any(expected in problem for problem in problems), problems


# -- checkov ---------------------------------------------------------------------------------

CHECKOV = Path(os.environ.get("CHECKOV", REPO / ".venv-security" / "bin" / "checkov"))
MIN_REASON = 40  # characters: a reason, not "ok" or checkov's "No comment provided"


def checkov(directory: Path) -> dict[str, Any]:
    """checkov's JSON report on a folder (offline: --skip-download fetches no guidelines)."""
    assert CHECKOV.exists(), f"{CHECKOV} is missing: run `make security-setup`"
    result = subprocess.run(
        [str(CHECKOV), "--directory", str(directory), "--framework", "cloudformation",
         "--skip-download", "--output", "json"],
        capture_output=True, text=True, timeout=300, cwd=directory,
    )
    assert result.returncode in (0, 1), result.stderr  # 1: some check failed
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    assert [r["check_type"] for r in reports] == ["cloudformation"], result.stdout[:2000]
    return reports[0]


def failed_checks(report: dict[str, Any]) -> list[str]:
    return [f"{c['check_id']} {c['check_name']} on {c['resource']} "
            f"({c['file_path']}:{c['file_line_range']})"
            for c in report["results"]["failed_checks"]]


def unexplained_skips(report: dict[str, Any]) -> list[str]:
    """Skips (`Metadata: checkov: skip: [{id, comment}]` on a resource) without a real reason."""
    return [f"{c['check_id']} on {c['resource']}" for c in report["results"]["skipped_checks"]
            if len((c.get("check_result") or {}).get("suppress_comment") or "") < MIN_REASON]


@pytest.fixture(scope="module")
def project_report() -> dict[str, Any]:
    return checkov(REPO / "files")


def test_checkov_scanned_every_template(project_report: dict[str, Any]) -> None:
    assert project_report["summary"]["parsing_errors"] == 0
    scanned = {c["file_path"].lstrip("/")
               for kind in ("passed_checks", "failed_checks", "skipped_checks")
               for c in project_report["results"][kind]}
    assert scanned == {p.relative_to(REPO / "files").as_posix() for p in TEMPLATES}


def test_checkov_reports_no_failed_check(project_report: dict[str, Any]) -> None:
    assert failed_checks(project_report) == []


def test_every_checkov_skip_says_why(project_report: dict[str, Any]) -> None:
    assert project_report["results"]["skipped_checks"], "the template skips no check: remove this"
    assert unexplained_skips(project_report) == []


def test_checkov_findings_are_caught(tmp_path: Path) -> None:
    """On a template of the test's own: a queue without SSE fails, a bare skip is unexplained."""
    (tmp_path / "broken.yml").write_text(textwrap.dedent("""\
        Resources:
          Queue:
            Type: AWS::SQS::Queue
          Logs:
            Type: AWS::Logs::LogGroup
            Metadata:
              checkov:
                skip:
                  - id: CKV_AWS_158
                    comment: fine
            Properties: {RetentionInDays: 7}
        """))
    report = checkov(tmp_path)
    assert [c.split(" ")[0] for c in failed_checks(report)] == ["CKV_AWS_27"]
    assert unexplained_skips(report) == ["CKV_AWS_158 on AWS::Logs::LogGroup.Logs"]
