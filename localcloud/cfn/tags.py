"""The tags CloudFormation gives the resources of a stack, as AWS gives them.

Rules, each with the AWS document it follows:

- System tags: every resource whose type's resource schema says
  ``"tagging": {"cloudFormationSystemTags": true}`` gets ``aws:cloudformation:stack-name``,
  ``aws:cloudformation:stack-id`` (the stack's ARN) and ``aws:cloudformation:logical-id``
  (CloudFormation Template Reference, "CloudFormation resource tagging"; CloudFormation CLI
  User Guide, "Resource type schema", ``tagging``). ``aws:`` is reserved for AWS, so no
  template or stack tag can override them.
- Stack tags: the ``Tags`` of CreateStack, UpdateStack and CreateChangeSet are propagated to
  every resource whose type is ``tagging.taggable`` (API Reference: "CloudFormation also
  propagates these tags to the resources created in the stack" / "to supported resources").
- A resource's own tags (the schema's ``tagging.tagProperty``, usually ``Tags``) win over a
  stack tag with the same key: the handler framework AWS's resource providers run in merges
  them so (aws-cloudformation/cloudformation-cli-java-plugin, ``getDesiredResourceTags``,
  test ``getDesiredResourceTags_resourceTagOverridesStackTag``; the generated
  ``TagHelper.generateTagsForCreate`` adds system, stack, then resource tags).
- UpdateStack with new ``Tags`` is an update that gives every resource the new stack tags and
  removes the stack tags it no longer has; without ``Tags`` the stack keeps its tags (API
  Reference, UpdateStack ``Tags``: "If you don't specify this parameter, CloudFormation doesn't
  modify the stack's tags"). A resource whose tags change shows UPDATE_IN_PROGRESS and
  UPDATE_COMPLETE, as any updated resource does.
- Schema defaults when a field is absent, from the same "Resource type schema" page:
  ``taggable``, ``cloudFormationSystemTags`` true, ``tagProperty`` ``/properties/Tags``. A
  schema without that property (legacy types such as ``AWS::DynamoDB::GlobalTable``, whose
  tags are per replica) cannot carry stack tags and is treated as not taggable.

The schemas are cfn-lint's copy of CloudFormation's resource provider schemas
(``cfnlint/data/schemas/providers/<region>.json`` names each type's file in
``resources/``), read when first needed and cached.

Tags are written where each service's moto backend keeps them (one small adapter per service),
so the service's own read API shows them (``get-stage``, ``list-tags``, ``list-queue-tags``,
``get-bucket-tagging``, …). They are written in-process, not through the client-facing APIs,
which refuse ``aws:`` keys from clients as AWS does.

Deviations: a taggable type without an adapter here gets no tags (logged once per type; see
``ADAPTERS``). moto reads an empty ``Tags`` list the same as none, so an UpdateStack or change
set with ``Tags: []`` keeps the stack's tags instead of removing them.
"""

from __future__ import annotations

import importlib.util
import json
import logging
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from moto.acm.models import acm_backends
from moto.apigateway.models import apigateway_backends
from moto.awslambda.models import lambda_backends
from moto.dynamodb.models import dynamodb_backends
from moto.events.models import events_backends
from moto.iam.models import iam_backends
from moto.logs.models import logs_backends
from moto.route53.models import route53_backends
from moto.s3.models import s3_backends
from moto.sqs.models import sqs_backends
from moto.utilities.utils import get_partition

from . import core

log = logging.getLogger("localcloud.cfn")

STACK_NAME_TAG = "aws:cloudformation:stack-name"
STACK_ID_TAG = "aws:cloudformation:stack-id"
LOGICAL_ID_TAG = "aws:cloudformation:logical-id"
SCHEMA_REGION = "us-east-1"  # the schemas of a region cfn-lint has no file for


# -- what the resource schemas say -----------------------------------------------------------


@dataclass(frozen=True)
class Tagging:
    """A resource type's ``tagging``, as far as CloudFormation's own tags go."""

    taggable: bool = False
    system_tags: bool = False
    tag_property: str = ""


NOT_TAGGABLE = Tagging()


@cache
def _schemas() -> Path | None:
    spec = importlib.util.find_spec("cfnlint")
    if spec is None or not spec.submodule_search_locations:
        log.warning("cfn-lint is not installed: CloudFormation adds no tags to resources")
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "schemas"


@cache
def _schema_files(region_name: str) -> dict[str, str]:
    """Resource type → the name of its schema file, for one region."""
    root = _schemas()
    if root is None:
        return {}
    path = root / "providers" / f"{region_name}.json"
    if not path.is_file():
        path = root / "providers" / f"{SCHEMA_REGION}.json"
    return json.loads(path.read_text())


def tagging_of(schema: dict[str, Any]) -> Tagging:
    """A schema's ``tagging``, with the meta-schema's defaults for what it leaves out."""
    tagging = schema.get("tagging")
    if not isinstance(tagging, dict):
        tagging = {"taggable": schema.get("taggable", True)}  # the deprecated top-level flag
    pointer = str(tagging.get("tagProperty") or "/properties/Tags")
    name = pointer.removeprefix("/properties/").split("/")[0]
    taggable = bool(tagging.get("taggable", True)) and name in (schema.get("properties") or {})
    if not taggable:
        return NOT_TAGGABLE
    return Tagging(True, bool(tagging.get("cloudFormationSystemTags", True)), name)


@cache
def schema_tagging(resource_type: str, region_name: str) -> Tagging:
    root, name = _schemas(), _schema_files(region_name).get(resource_type)
    if root is None or name is None:
        return NOT_TAGGABLE
    try:
        schema = json.loads((root / "resources" / f"{name}.json").read_text())
    except (OSError, ValueError) as exc:
        log.warning("cannot read the resource schema of %s: %r", resource_type, exc)
        return NOT_TAGGABLE
    return tagging_of(schema)


# -- which tags a resource gets ---------------------------------------------------------------


def own_tags(resource_type: str, region_name: str,
             resource_json: dict[str, Any]) -> dict[str, str]:
    """The resource's tags in its (resolved) template: a list of Key/Value pairs or a map.

    Read before the resource is made: some of moto's models pop them from the properties.
    """
    tagging = schema_tagging(resource_type, region_name)
    if not tagging.taggable:
        return {}
    value = (resource_json.get("Properties") or {}).get(tagging.tag_property)
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    if isinstance(value, list):
        return {str(t["Key"]): str(t.get("Value", "")) for t in value
                if isinstance(t, dict) and "Key" in t}
    return {}


def system_tags(stack: Any, logical_id: str) -> dict[str, str]:
    return {STACK_NAME_TAG: stack.name, STACK_ID_TAG: stack.stack_id, LOGICAL_ID_TAG: logical_id}


def wanted_tags(stack: Any, logical_id: str, tagging: Tagging,
                own: dict[str, str]) -> dict[str, str]:
    """Stack tags, overridden by the resource's own, plus the system tags."""
    tags = {str(k): str(v) for k, v in (stack.tags or {}).items()}
    tags.update(own)
    if tagging.system_tags:
        tags.update(system_tags(stack, logical_id))
    return tags


def stack_tags_change(stack: Any, tags: dict[str, str] | None) -> bool:
    """Whether an UpdateStack or change set with these ``Tags`` changes the stack's tags."""
    return bool(tags) and dict(tags) != dict(stack.tags or {})


# -- what a stack has given its resources -----------------------------------------------------


@dataclass
class Given:
    """The tags one resource got: its template's own, and all of them."""

    own: dict[str, str]
    tags: dict[str, str]


def _given(stack: Any) -> dict[str, Given]:
    if not hasattr(stack, "localcloud_tags"):
        stack.localcloud_tags = {}
    return stack.localcloud_tags


def added_keys(stack: Any, logical_id: str) -> frozenset[str]:
    """Keys CloudFormation added to a resource beyond its template's (stack and system tags)."""
    given = _given(stack).get(logical_id)
    if given is None:
        return frozenset()
    return frozenset(key for key in given.tags if key not in given.own)


def tagged_resources(stack: Any) -> list[tuple[str, str]]:
    """(logical id, type) of the live resources that carry CloudFormation's tags."""
    parsed = stack.resource_map._parsed_resources
    return [(lid, getattr(parsed[lid], "cf_resource_type", "")) for lid in _given(stack)
            if lid in parsed]


# -- giving tags -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One resource to tag: where it lives, and the object the stack keeps for it."""

    account_id: str
    region_name: str
    physical_id: str
    resource: Any

    @property
    def partition(self) -> str:
        return get_partition(self.region_name)


# An adapter sets ``tags`` on a resource and removes the ``stale`` keys, in its service's
# backend; a resource that is gone is left alone.
Adapter = Callable[[Target, dict[str, str], list[str]], None]

_without_adapter: set[str] = set()


def _adapter(resource_type: str) -> Adapter | None:
    adapter = ADAPTERS.get(resource_type)
    if adapter is None and resource_type not in _without_adapter:
        _without_adapter.add(resource_type)
        log.warning("%s is taggable, but the local cloud has no tag adapter for it: its "
                    "resources do not get CloudFormation's stack and system tags as on AWS",
                    resource_type)
    return adapter


def _target(stack: Any, resource: Any) -> Target:
    physical_id = getattr(resource, "physical_resource_id", None)
    return Target(stack.account_id, stack.region_name, str(physical_id or ""), resource)


def _give(stack: Any, logical_id: str, resource_type: str, resource: Any,
          own: dict[str, str]) -> bool:
    """Tag one resource with what the stack wants now; True when that changed its tags."""
    tagging = schema_tagging(resource_type, stack.region_name)
    if not tagging.taggable:
        return False
    adapter = _adapter(resource_type)
    if adapter is None:
        return False
    tags = wanted_tags(stack, logical_id, tagging, own)
    before = _given(stack).get(logical_id)
    stale = [key for key in (before.tags if before else {}) if key not in tags]
    adapter(_target(stack, resource), tags, stale)
    _given(stack)[logical_id] = Given(own, tags)
    return before is None or before.tags != tags


def tag_resource(stack: Any, logical_id: str, resource_type: str, resource: Any,
                 own: dict[str, str]) -> None:
    """A resource was created or updated: give it the tags CloudFormation gives it."""
    if stack is not None and resource is not None:
        _give(stack, logical_id, resource_type, resource, own)


def propagate(stack: Any) -> None:
    """Give every resource the stack's current tags (after UpdateStack changed them).

    A resource whose tags change is updated, with its events; a failure fails it, and with
    it the update (which then rolls back).
    """
    parsed = stack.resource_map._parsed_resources
    for logical_id, given in list(_given(stack).items()):
        resource = parsed.get(logical_id)
        if resource is None:
            continue
        resource_type = getattr(resource, "cf_resource_type", "")
        tagging = schema_tagging(resource_type, stack.region_name)
        if wanted_tags(stack, logical_id, tagging, given.own) == given.tags:
            continue
        core.record(stack, logical_id, resource_type, "UPDATE_IN_PROGRESS")
        try:
            _give(stack, logical_id, resource_type, resource, given.own)
        except Exception as exc:
            reason = core.failure_reason(exc)
            core.record(stack, logical_id, resource_type, "UPDATE_FAILED", reason)
            raise core.ResourceFailed(logical_id, reason) from exc
        core.record(stack, logical_id, resource_type, "UPDATE_COMPLETE")


# -- adapters: where each service's backend keeps tags ---------------------------------------


def _set_in_mapping(mapping: MutableMapping[str, Any], tags: dict[str, str],
                    stale: list[str]) -> None:
    for key in stale:
        mapping.pop(key, None)
    mapping.update(tags)


def _set_in_list(items: list[dict[str, str]] | None, tags: dict[str, str],
                 stale: list[str]) -> list[dict[str, str]]:
    """Key/Value pairs (DynamoDB, IAM) with ``tags`` set and ``stale`` removed."""
    kept = [item for item in items or []
            if item.get("Key") not in tags and item.get("Key") not in stale]
    return kept + [{"Key": key, "Value": value} for key, value in tags.items()]


def _set_in_tagger(tagger: Any, arn: str, tags: dict[str, str], stale: list[str]) -> None:
    """moto's TaggingService, keyed by ARN (EventBridge, CloudWatch Logs, S3)."""
    tagger.untag_resource_using_names(arn, stale)
    tagger.tag_resource(arn, [{"Key": key, "Value": value} for key, value in tags.items()])


def _tags_of(owner: Any) -> MutableMapping[str, Any]:
    """``owner.tags`` as a map: moto leaves some unset, or holds a template's Key/Value list."""
    current = getattr(owner, "tags", None)
    if not isinstance(current, dict):
        current = {t["Key"]: t.get("Value") for t in current or []
                   if isinstance(t, dict) and "Key" in t}
        owner.tags = current
    return current


def _tag_owner(find: Callable[[Target], Any]) -> Adapter:
    """An adapter for a backend object that keeps its tags in a ``tags`` map."""
    def adapter(target: Target, tags: dict[str, str], stale: list[str]) -> None:
        owner = find(target)
        if owner is not None:
            _set_in_mapping(_tags_of(owner), tags, stale)

    return adapter


def _rest_api(target: Target) -> Any:
    return apigateway_backends[target.account_id][target.region_name].apis.get(
        target.physical_id)


def _stage(target: Target) -> Any:
    api = apigateway_backends[target.account_id][target.region_name].apis.get(
        str(target.resource.properties.get("RestApiId")))
    return api.stages.get(target.physical_id) if api is not None else None


def _domain_name(target: Target) -> Any:
    return apigateway_backends[target.account_id][target.region_name].domain_names.get(
        target.physical_id)


def _certificate(target: Target) -> Any:
    # Its TagHolder is a dict whose add() refuses aws: keys, as the ACM API does.
    return acm_backends[target.account_id][target.region_name]._certificates.get(
        target.physical_id)


def _function(target: Target) -> Any:
    functions = lambda_backends[target.account_id][target.region_name]
    try:
        return functions.get_function(target.physical_id)
    except Exception as exc:
        if core.is_not_found(exc):
            return None
        raise


def _event_source_mapping(target: Target) -> Any:
    return lambda_backends[target.account_id][target.region_name]._event_source_mappings.get(
        target.physical_id)


def _queue(target: Target) -> Any:
    name = target.physical_id.rstrip("/").rsplit("/", 1)[-1]
    return sqs_backends[target.account_id][target.region_name].queues.get(name)


def _route53_tags(find: Callable[[Any, str], Any]) -> Adapter:
    """Route 53 keeps tags per resource id in ``resource_tags`` (health checks, zones)."""
    def adapter(target: Target, tags: dict[str, str], stale: list[str]) -> None:
        r53 = route53_backends[target.account_id][target.partition]
        if find(r53, target.physical_id) is not None:
            _set_in_mapping(r53.resource_tags[target.physical_id], tags, stale)

    return adapter


def _table(target: Target, tags: dict[str, str], stale: list[str]) -> None:
    table = dynamodb_backends[target.account_id][target.region_name].tables.get(
        target.physical_id)
    if table is not None:
        table.tags = _set_in_list(table.tags, tags, stale)


def _role(target: Target, tags: dict[str, str], stale: list[str]) -> None:
    roles = iam_backends[target.account_id][target.partition].roles.values()
    for role in list(roles):
        if target.physical_id in (role.name, role.arn):
            role.tags = _set_in_list(role.tags, tags, stale)


def _bus_name(value: Any) -> str:
    return str(value or "default").rsplit("event-bus/", 1)[-1]


def _event_bus(target: Target, tags: dict[str, str], stale: list[str]) -> None:
    events = events_backends[target.account_id][target.region_name]
    bus = events.event_buses.get(target.physical_id)
    if bus is not None:
        _set_in_tagger(events.tagger, bus.arn, tags, stale)


def _rule(target: Target, tags: dict[str, str], stale: list[str]) -> None:
    events = events_backends[target.account_id][target.region_name]
    bus = events.event_buses.get(_bus_name(getattr(target.resource, "event_bus_name", None)))
    rule = bus.rules.get(target.physical_id) if bus is not None else None
    if rule is not None:
        _set_in_tagger(events.tagger, rule.arn, tags, stale)


def _log_group(target: Target, tags: dict[str, str], stale: list[str]) -> None:
    logs = logs_backends[target.account_id][target.region_name]
    group = logs.groups.get(target.physical_id)
    if group is not None:
        _set_in_tagger(logs.tagger, group.arn, tags, stale)


def _bucket(target: Target, tags: dict[str, str], stale: list[str]) -> None:
    s3 = s3_backends[target.account_id][target.partition]
    bucket = s3.buckets.get(target.physical_id)
    if bucket is not None:
        _set_in_tagger(s3.tagger, bucket.arn, tags, stale)


ADAPTERS: dict[str, Adapter] = {
    "AWS::ApiGateway::RestApi": _tag_owner(_rest_api),
    "AWS::ApiGateway::Stage": _tag_owner(_stage),
    "AWS::ApiGateway::DomainName": _tag_owner(_domain_name),
    "AWS::CertificateManager::Certificate": _tag_owner(_certificate),
    "AWS::DynamoDB::Table": _table,
    "AWS::Events::EventBus": _event_bus,
    "AWS::Events::Rule": _rule,
    "AWS::IAM::Role": _role,
    "AWS::Lambda::Function": _tag_owner(_function),
    "AWS::Lambda::EventSourceMapping": _tag_owner(_event_source_mapping),
    "AWS::Logs::LogGroup": _log_group,
    "AWS::Route53::HealthCheck": _route53_tags(lambda r53, id_: r53.health_checks.get(id_)),
    "AWS::Route53::HostedZone": _route53_tags(lambda r53, id_: r53.zones.get(id_)),
    "AWS::S3::Bucket": _bucket,
    "AWS::SQS::Queue": _tag_owner(_queue),
}
