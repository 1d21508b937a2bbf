"""CloudFormation drift detection: does what a stack deployed still look like its template?

moto has none of the drift API. This module adds it as AWS documents it:

- ``DetectStackDrift`` (optionally for some ``LogicalResourceIds``) checks each resource of the
  stack and returns a ``StackDriftDetectionId``; detection completes before the call returns, so
  ``DescribeStackDriftDetectionStatus`` already says ``DETECTION_COMPLETE`` with
  ``StackDriftStatus`` DRIFTED/IN_SYNC and ``DriftedStackResourceCount``.
- ``DescribeStackResourceDrifts`` lists the last result of each checked resource
  (``StackResourceDriftStatusFilters``, ``MaxResults``/``NextToken``); ``DetectStackResourceDrift``
  checks one resource.
- ``DriftInformation`` appears in DescribeStacks/ListStacks (``NOT_CHECKED`` until the first
  detection) and in DescribeStackResource(s)/ListStackResources.

What "expected" means: the resource's properties as the template gave them, with parameters and
intrinsic functions resolved. They are recorded when CloudFormation resolves them to create or
update the resource (``parse_resource_and_generate_name`` is wrapped), so a later out-of-band
change to something a property referred to does not move the expectation, as on AWS.

What "actual" means: the live resource read through its backend by physical id (never the
object the stack kept, which a delete made through the API leaves behind), so a resource
recreated out of band with the same identity and settings is ``IN_SYNC`` again. As on AWS,
only the properties the template sets are compared (and only those the service can read
back: ``Code`` of a function is not); a list AWS treats as a set (``MethodSettings``, tags,
rule targets) is matched element by element regardless of order, and a free-form map
(stage variables, environment variables, an event pattern) drifts when a key is added too.
Numbers compare by value (``"50"`` from a parameter equals ``50.0``), booleans by truth value.
Tags CloudFormation added itself (stack tags propagated to the resource, ``aws:`` system tags)
are not the template's and never drift: drift is measured against "the stack template and any
values specified as template parameters" (DetectStackDrift API reference).

Compared (``MODIFIED`` possible): ``AWS::ApiGateway::Stage``,
``AWS::ApiGateway::BasePathMapping``, ``AWS::SQS::Queue``, ``AWS::Lambda::Function``,
``AWS::Route53::HealthCheck``, ``AWS::Events::Rule``.

A resource that cannot be read fails the detection as on AWS: ``DETECTION_FAILED`` with
``DetectionStatusReason`` "Failed to detect drift on resources [...]"; the others are reported.

Deviations, knowingly:
- The other types of the local cloud's own models and of the architecture (IAM roles, buses,
  event source mappings, tables, buckets, log groups, certificates, REST API parts, Route 53
  zones and records, queue policies) are checked for existence only: ``DELETED`` when the
  physical resource is gone, otherwise ``NOT_CHECKED`` (AWS compares many of them). Any other
  type, and ``AWS::ApiGateway::Account`` (an account setting), is always ``NOT_CHECKED``. As
  AWS does for types without drift support, ``NOT_CHECKED`` resources are left out of
  ``DescribeStackResourceDrifts`` and do not count; ``DetectStackResourceDrift`` on one
  returns ``NOT_CHECKED`` rather than an error.
- Detection is synchronous; ``DETECTION_IN_PROGRESS`` is never reported.
- The ``ValidationError`` wording for an unknown detection id is the local cloud's own.
- Number rendering in ``ExpectedValue``/``ActualValue``: integral numbers without a fraction
  (``"50"``), booleans as ``"true"``/``"false"``, objects and lists as compact JSON, absence as
  ``"null"``.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from moto.acm.models import acm_backends
from moto.apigateway.models import apigateway_backends
from moto.awslambda.models import lambda_backends
from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing
from moto.cloudformation import responses as cfn_responses
from moto.cloudformation.exceptions import ValidationError
from moto.core.responses import ActionResult
from moto.core.utils import camelcase_to_underscores, utcnow
from moto.dynamodb.models import dynamodb_backends
from moto.events.models import events_backends
from moto.iam.models import iam_backends
from moto.logs.models import logs_backends
from moto.route53.models import route53_backends
from moto.s3.models import s3_backends
from moto.sqs.models import sqs_backends
from moto.utilities.utils import get_partition

from .. import runtime
from ..apigateway import control
from . import actions, core
from . import tags as tagging

log = logging.getLogger("localcloud.cfn")

CHECKABLE_STATUSES = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_IN_PROGRESS",
                      "UPDATE_FAILED", "UPDATE_ROLLBACK_IN_PROGRESS")
DRIFTED = ("MODIFIED", "DELETED")


# -- expected properties -------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A JSON-safe copy of resolved properties (an unresolvable Ref can leave an object)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _recording(original: Callable[..., Any]) -> Callable[..., Any]:
    def parse_resource_and_generate_name(logical_id: str, resource_json: dict[str, Any],
                                         resources_map: Any) -> Any:
        parsed = original(logical_id, resource_json, resources_map)
        if parsed:
            # Copied before the model sees them: some models rewrite their properties.
            expected = getattr(resources_map, "localcloud_expected", None)
            if expected is None:
                expected = resources_map.localcloud_expected = {}
            expected[logical_id] = _plain(parsed[1].get("Properties") or {})
        return parsed

    return parse_resource_and_generate_name


def expected_properties(stack: Any, logical_id: str) -> dict[str, Any]:
    recorded = getattr(stack.resource_map, "localcloud_expected", None) or {}
    if logical_id in recorded:
        return recorded[logical_id]
    handle = stack.resource_map._parsed_resources.get(logical_id)
    return _plain(getattr(handle, "properties", None) or {})


# -- reading live resources ----------------------------------------------------------------


@dataclass
class Target:
    """One stack resource to check: where it lives and what the template expects."""

    account_id: str
    region_name: str
    resource_type: str
    physical_id: str
    expected: dict[str, Any]
    # Tag keys CloudFormation added beyond the template's (stack and system tags).
    added_tags: frozenset[str] = frozenset()

    @property
    def partition(self) -> str:
        return get_partition(self.region_name)


def _tags(mapping: dict[str, Any] | None) -> list[dict[str, str]]:
    """Tags as templates list them; ``aws:`` tags are the service's own, never the template's."""
    return [{"Key": k, "Value": v} for k, v in (mapping or {}).items()
            if not str(k).startswith("aws:")]


def _tag_key(tag: Any) -> Any:
    return tag.get("Key") if isinstance(tag, dict) else tag


def _api(target: Target, api_id: Any) -> Any:
    return apigateway_backends[target.account_id][target.region_name].apis.get(str(api_id))


STAGE_SETTING_FIELDS = {
    "ThrottlingRateLimit": "throttlingRateLimit",
    "ThrottlingBurstLimit": "throttlingBurstLimit",
    "LoggingLevel": "loggingLevel",
    "DataTraceEnabled": "dataTraceEnabled",
    "MetricsEnabled": "metricsEnabled",
    "CachingEnabled": "cachingEnabled",
    "CacheTtlInSeconds": "cacheTtlInSeconds",
    "CacheDataEncrypted": "cacheDataEncrypted",
}


def stage_resource_path(resource_path: Any) -> str:
    """A MethodSetting's ResourcePath as API Gateway reads it back: ``/*``, ``/~1pets``.

    Templates may write the documented encoded form (``/~1pets``) or a plain path
    (``/pets``); both name the same method setting.
    """
    path = str(resource_path or "/*")
    if path in ("/*", "*"):
        return "/*"
    if "~1" in path:
        path = path[1:] if path.startswith("/") else path
        path = path.replace("~1", "/")
    if not path.startswith("/"):
        path = "/" + path
    return "/" + path.replace("/", "~1")


def _method_setting_key(setting: Any) -> Any:
    if not isinstance(setting, dict):
        return setting
    return (stage_resource_path(setting.get("ResourcePath")),
            str(setting.get("HttpMethod") or "*").upper())


def _stage_expected(expected: dict[str, Any]) -> dict[str, Any]:
    settings = expected.get("MethodSettings")
    if not isinstance(settings, list):
        return expected
    normalised = []
    for setting in settings:
        if isinstance(setting, dict):
            setting = dict(setting)
            setting["ResourcePath"], setting["HttpMethod"] = _method_setting_key(setting)
        normalised.append(setting)
    return {**expected, "MethodSettings": normalised}


def _stage(target: Target) -> dict[str, Any] | None:
    api = _api(target, target.expected.get("RestApiId"))
    stage = api.stages.get(target.physical_id) if api is not None else None
    if stage is None:
        return None
    method_settings = []
    for key, values in stage.method_settings.items():
        path, _, method = key.rpartition("/")
        setting = {"ResourcePath": "/*" if path == "*" else "/" + path, "HttpMethod": method}
        setting.update({prop: values.get(name) for prop, name in STAGE_SETTING_FIELDS.items()})
        method_settings.append(setting)
    access_log = stage.access_log_settings
    return {
        "RestApiId": api.id,
        "StageName": stage.name,
        "DeploymentId": stage.deployment_id,
        "Description": stage.description,
        "Variables": dict(stage.variables or {}),
        "MethodSettings": method_settings,
        "AccessLogSetting": {"DestinationArn": access_log.get("destinationArn"),
                             "Format": access_log.get("format")} if access_log else None,
        "TracingEnabled": bool(stage.tracing_enabled),
        "CacheClusterEnabled": bool(stage.cache_cluster_enabled),
        "CacheClusterSize": stage.cache_cluster_size if stage.cache_cluster_enabled else None,
        "Tags": _tags(stage.tags),
    }


def _base_path(value: Any) -> str:
    normalised = control.normalize_base_path(value)
    return "" if normalised == control.NONE_BASE_PATH else normalised


def _base_path_mapping_expected(expected: dict[str, Any]) -> dict[str, Any]:
    if "BasePath" not in expected:
        return expected
    return {**expected, "BasePath": _base_path(expected["BasePath"])}


def _base_path_mapping(target: Target) -> dict[str, Any] | None:
    backend = apigateway_backends[target.account_id][target.region_name]
    domain = str(target.expected.get("DomainName"))
    mappings = backend.base_path_mappings.get(domain) or {}
    mapping = mappings.get(control.normalize_base_path(target.expected.get("BasePath")))
    if mapping is None or domain not in backend.domain_names:
        return None
    return {"DomainName": domain, "BasePath": _base_path(mapping.base_path),
            "RestApiId": mapping.rest_api_id, "Stage": mapping.stage}


QUEUE_ATTRIBUTES = ("DelaySeconds", "MaximumMessageSize", "MessageRetentionPeriod",
                    "ReceiveMessageWaitTimeSeconds", "VisibilityTimeout", "FifoQueue",
                    "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit",
                    "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds", "SqsManagedSseEnabled")


def _json_object(value: Any) -> Any:
    """A policy document given as a JSON string compares as the object it encodes."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _queue_expected(expected: dict[str, Any]) -> dict[str, Any]:
    if "RedrivePolicy" not in expected:
        return expected
    return {**expected, "RedrivePolicy": _json_object(expected["RedrivePolicy"])}


def _queue(target: Target) -> dict[str, Any] | None:
    name = target.physical_id.rstrip("/").rsplit("/", 1)[-1]
    queue = sqs_backends[target.account_id][target.region_name].queues.get(name)
    if queue is None:
        return None
    live = {key: getattr(queue, camelcase_to_underscores(key), None)
            for key in QUEUE_ATTRIBUTES}
    live["QueueName"] = queue.name
    live["RedrivePolicy"] = queue.redrive_policy or None
    live["Tags"] = _tags(queue.tags)
    return live


def _function(target: Target) -> dict[str, Any] | None:
    functions = lambda_backends[target.account_id][target.region_name]
    try:
        fn = functions.get_function(target.physical_id)
    except Exception as exc:
        if core.is_not_found(exc):
            return None
        raise
    config = fn.get_configuration()
    return {
        "FunctionName": fn.function_name,
        "Handler": config.get("Handler"),
        "Runtime": config.get("Runtime"),
        "Timeout": config.get("Timeout"),
        "MemorySize": config.get("MemorySize"),
        "Role": config.get("Role"),
        "Description": config.get("Description"),
        "Environment": {"Variables": dict(fn.environment_vars or {})},
        "Architectures": list(config.get("Architectures") or []),
        "TracingConfig": config.get("TracingConfig"),
        "EphemeralStorage": config.get("EphemeralStorage"),
        "PackageType": config.get("PackageType"),
        "KmsKeyArn": config.get("KMSKeyArn"),
        "Layers": [layer.get("Arn") for layer in config.get("Layers") or []],
        "ReservedConcurrentExecutions": fn.reserved_concurrency,
        "LoggingConfig": config.get("LoggingConfig"),
        "Tags": _tags(fn.tags),
    }


def _health_check(target: Target) -> dict[str, Any] | None:
    r53 = route53_backends[target.account_id][target.partition]
    check = r53.health_checks.get(target.physical_id)
    if check is None:
        return None
    config = {k: v for k, v in check.health_check_config.items() if v is not None}
    return {"HealthCheckConfig": config,
            "HealthCheckTags": _tags(r53.resource_tags.get(target.physical_id))}


def _bus_name(value: Any) -> str:
    return str(value or "default").rsplit("event-bus/", 1)[-1]


def _rule_expected(expected: dict[str, Any]) -> dict[str, Any]:
    prepared = dict(expected)
    if "EventPattern" in prepared:
        prepared["EventPattern"] = _json_object(prepared["EventPattern"])
    if "EventBusName" in prepared:
        prepared["EventBusName"] = _bus_name(prepared["EventBusName"])
    return prepared


def _rule(target: Target) -> dict[str, Any] | None:
    events = events_backends[target.account_id][target.region_name]
    bus = events.event_buses.get(_bus_name(target.expected.get("EventBusName")))
    rule = bus.rules.get(target.physical_id) if bus is not None else None
    if rule is None:
        return None
    pattern = rule.event_pattern.get_pattern() if rule.event_pattern else None
    return {
        "Name": rule.name,
        "Description": rule.description,
        "EventPattern": pattern or None,
        "ScheduleExpression": rule.scheduled_expression,
        "State": rule.state,
        "RoleArn": rule.role_arn,
        "EventBusName": rule.event_bus_name,
        "Targets": [dict(t) for t in rule.targets],
    }


@dataclass(frozen=True)
class Comparison:
    """How to compare one resource type.

    ``read`` returns the live properties under the template's names (every property it can
    read, ``None`` when unset) or ``None`` when the resource is gone. ``keyed_lists`` names
    the lists compared as sets (path → key of an element); ``open_maps`` the free-form maps
    (a key added out of band is drift too). ``prepare`` puts the template's values in the
    form the service reads back.
    """

    read: Callable[[Target], dict[str, Any] | None]
    keyed_lists: dict[str, Callable[[Any], Any]] = field(default_factory=dict)
    open_maps: tuple[str, ...] = ()
    prepare: Callable[[dict[str, Any]], dict[str, Any]] | None = None

    def is_open(self, shape: str) -> bool:
        return any(shape == p or shape.startswith(p + "/") for p in self.open_maps)


COMPARED: dict[str, Comparison] = {
    "AWS::ApiGateway::Stage": Comparison(
        _stage, {"/MethodSettings": _method_setting_key, "/Tags": _tag_key},
        ("/Variables",), _stage_expected),
    "AWS::ApiGateway::BasePathMapping": Comparison(
        _base_path_mapping, prepare=_base_path_mapping_expected),
    "AWS::SQS::Queue": Comparison(_queue, {"/Tags": _tag_key}, prepare=_queue_expected),
    "AWS::Lambda::Function": Comparison(
        _function, {"/Tags": _tag_key}, ("/Environment/Variables",)),
    "AWS::Route53::HealthCheck": Comparison(_health_check, {"/HealthCheckTags": _tag_key}),
    "AWS::Events::Rule": Comparison(
        _rule, {"/Targets": lambda t: t.get("Id") if isinstance(t, dict) else t},
        ("/EventPattern",), _rule_expected),
}


def _record_exists(target: Target, records: list[Any]) -> bool:
    r53 = route53_backends[target.account_id][target.partition]
    zone_id = target.expected.get("HostedZoneId")
    zone = r53.zones.get(str(zone_id).split("/")[-1]) if zone_id else \
        r53.get_hosted_zone_by_name(str(target.expected.get("HostedZoneName")))
    if zone is None:
        return False

    def name(value: Any) -> str:
        return str(value or "").lower().rstrip(".")

    live = {(name(r.name), r.type, r.set_identifier) for r in zone.rrsets}
    return all((name(r.get("Name")), r.get("Type"), r.get("SetIdentifier")) in live
               for r in records)


def _api_part(target: Target, part: str) -> bool:
    api = _api(target, target.expected.get("RestApiId"))
    return api is not None and target.physical_id in getattr(api, part)


def _method_exists(target: Target) -> bool:
    api = _api(target, target.expected.get("RestApiId"))
    resource = api.resources.get(str(target.expected.get("ResourceId"))) if api else None
    method = str(target.expected.get("HttpMethod", "")).upper()
    return resource is not None and method in resource.resource_methods


def _gateway_response_exists(target: Target) -> bool:
    api = _api(target, target.expected.get("RestApiId"))
    return api is not None and target.expected.get("ResponseType") in api.gateway_responses


def _queue_policy_exists(target: Target) -> bool:
    queues = sqs_backends[target.account_id][target.region_name].queues
    for url in target.expected.get("Queues") or []:
        queue = queues.get(str(url).rstrip("/").split("/")[-1].split(":")[-1])
        if queue is None or not queue.policy:
            return False
    return True


def _iam_role_exists(target: Target) -> bool:
    roles = iam_backends[target.account_id][target.partition].roles.values()
    return any(target.physical_id in (role.name, role.arn) for role in list(roles))


# Types checked for existence only: True while the physical resource exists.
EXISTS: dict[str, Callable[[Target], bool]] = {
    "AWS::ApiGateway::RestApi": lambda t: _api(t, t.physical_id) is not None,
    "AWS::ApiGateway::Resource": lambda t: _api_part(t, "resources"),
    "AWS::ApiGateway::Method": _method_exists,
    "AWS::ApiGateway::Deployment": lambda t: _api_part(t, "deployments"),
    "AWS::ApiGateway::RequestValidator": lambda t: _api_part(t, "request_validators"),
    "AWS::ApiGateway::Model": lambda t: _api_part(t, "models"),
    "AWS::ApiGateway::GatewayResponse": _gateway_response_exists,
    "AWS::ApiGateway::DomainName": lambda t: t.physical_id in apigateway_backends[
        t.account_id][t.region_name].domain_names,
    "AWS::CertificateManager::Certificate": lambda t: t.physical_id in acm_backends[
        t.account_id][t.region_name]._certificates,
    "AWS::DynamoDB::GlobalTable": lambda t: t.physical_id in dynamodb_backends[
        t.account_id][t.region_name].tables,
    "AWS::DynamoDB::Table": lambda t: t.physical_id in dynamodb_backends[
        t.account_id][t.region_name].tables,
    "AWS::Logs::LogGroup": lambda t: t.physical_id in logs_backends[
        t.account_id][t.region_name].groups,
    "AWS::Route53::HostedZone": lambda t: t.physical_id in route53_backends[
        t.account_id][t.partition].zones,
    "AWS::Route53::RecordSet": lambda t: _record_exists(t, [t.expected]),
    "AWS::Route53::RecordSetGroup": lambda t: _record_exists(
        t, list(t.expected.get("RecordSets") or [])),
    "AWS::SQS::QueuePolicy": _queue_policy_exists,
    "AWS::IAM::Role": _iam_role_exists,
    "AWS::Events::EventBus": lambda t: t.physical_id in events_backends[
        t.account_id][t.region_name].event_buses,
    "AWS::Lambda::EventSourceMapping": lambda t: t.physical_id in lambda_backends[
        t.account_id][t.region_name]._event_source_mappings,
    "AWS::S3::Bucket": lambda t: t.physical_id in s3_backends[
        t.account_id][t.partition].buckets,
}


# -- comparing -----------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def text(value: Any) -> str:
    """A property value as PropertyDifference shows it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def same(expected: Any, actual: Any) -> bool:
    """Scalars as CloudFormation compares them: by value, whatever type the template used."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return text(expected).lower() == text(actual).lower()
    if isinstance(expected, int | float) or isinstance(actual, int | float):
        left, right = _number(expected), _number(actual)
        if left is not None and right is not None:
            return left == right
    return str(expected) == str(actual)


def _difference(path: str, expected: Any, actual: Any, kind: str) -> dict[str, str]:
    return {"PropertyPath": path, "ExpectedValue": text(expected),
            "ActualValue": text(actual), "DifferenceType": kind}


def compare(expected: Any, actual: Any, how: Comparison, path: str = "",
            shape: str = "") -> tuple[Any, list[dict[str, str]]]:
    """Compare a template value with the live one.

    Returns the live value cut to what the template sets (ActualProperties) and the
    PropertyDifferences. ``path`` has list indices (``/MethodSettings/0``), ``shape`` not.
    """
    if isinstance(expected, dict) and isinstance(actual, dict):
        return _compare_maps(expected, actual, how, path, shape)
    if isinstance(expected, list) and isinstance(actual, list):
        return _compare_lists(expected, actual, how, path, shape)
    if isinstance(expected, dict | list) or isinstance(actual, dict | list) or \
            not same(expected, actual):
        return actual, [_difference(path, expected, actual, "NOT_EQUAL")]
    return actual, []


def _compare_maps(expected: dict[str, Any], actual: dict[str, Any], how: Comparison,
                  path: str, shape: str) -> tuple[Any, list[dict[str, str]]]:
    pruned: dict[str, Any] = {}
    differences: list[dict[str, str]] = []
    for key, value in expected.items():
        if actual.get(key) is None:
            if value is not None:
                differences.append(_difference(f"{path}/{key}", value, None, "REMOVE"))
            continue
        pruned[key], found = compare(value, actual[key], how, f"{path}/{key}", f"{shape}/{key}")
        differences += found
    if how.is_open(shape):
        for key, value in actual.items():
            if key not in expected and value is not None:
                pruned[key] = value
                differences.append(_difference(f"{path}/{key}", None, value, "ADD"))
    return pruned, differences


def _compare_lists(expected: list[Any], actual: list[Any], how: Comparison, path: str,
                   shape: str) -> tuple[Any, list[dict[str, str]]]:
    key = how.keyed_lists.get(shape)
    remaining = list(actual)
    pruned: list[Any] = []
    differences: list[dict[str, str]] = []
    for index, element in enumerate(expected):
        if key is None:
            match = remaining.pop(0) if remaining else None
        else:
            found = [a for a in remaining if key(a) == key(element)]
            match = found[0] if found else None
            if match is not None:
                remaining.remove(match)
        if match is None:
            differences.append(_difference(f"{path}/{index}", element, None, "REMOVE"))
            continue
        value, found_differences = compare(element, match, how, f"{path}/{index}",
                                           f"{shape}/*")
        pruned.append(value)
        differences += found_differences
    for index, extra in enumerate(remaining, start=len(expected)):
        pruned.append(extra)
        differences.append(_difference(f"{path}/{index}", None, extra, "ADD"))
    return pruned, differences


# -- detection -----------------------------------------------------------------------------


@dataclass
class ResourceDrift:
    """One StackResourceDrift, as DescribeStackResourceDrifts shows it."""

    stack_id: str
    logical_id: str
    physical_id: str | None
    resource_type: str
    status: str
    timestamp: Any
    expected: dict[str, Any] | None = None
    actual: dict[str, Any] | None = None
    differences: list[dict[str, str]] = field(default_factory=list)
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        drift: dict[str, Any] = {
            "StackId": self.stack_id,
            "LogicalResourceId": self.logical_id,
            "PhysicalResourceId": self.physical_id,
            "ResourceType": self.resource_type,
            "StackResourceDriftStatus": self.status,
            "Timestamp": self.timestamp,
        }
        if self.expected is not None:
            drift["ExpectedProperties"] = json.dumps(self.expected, separators=(",", ":"))
        if self.actual is not None:
            drift["ActualProperties"] = json.dumps(self.actual, separators=(",", ":"))
        if self.status in ("IN_SYNC", "MODIFIED", "DELETED"):
            drift["PropertyDifferences"] = self.differences
        if self.reason:
            drift["DriftStatusReason"] = self.reason
        return drift


@dataclass
class Detection:
    """One DetectStackDrift operation and its outcome."""

    detection_id: str
    stack_id: str
    timestamp: Any
    stack_drift_status: str
    drifted_count: int
    failed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        status = {
            "StackId": self.stack_id,
            "StackDriftDetectionId": self.detection_id,
            "StackDriftStatus": self.stack_drift_status,
            "DetectionStatus": "DETECTION_FAILED" if self.failed else "DETECTION_COMPLETE",
            "DriftedStackResourceCount": self.drifted_count,
            "Timestamp": self.timestamp,
        }
        if self.failed:
            status["DetectionStatusReason"] = (
                f"Failed to detect drift on resources [{', '.join(self.failed)}]")
        return status


def check_resource(stack: Any, logical_id: str) -> ResourceDrift:
    """Compare one stack resource with what it is now (UNKNOWN when that fails)."""
    state = core.states(stack)[logical_id]
    handle = stack.resource_map._parsed_resources.get(logical_id)
    physical_id = state.physical_id or getattr(handle, "physical_resource_id", None)
    target = Target(stack.account_id, stack.region_name, state.resource_type,
                    str(physical_id or ""), expected_properties(stack, logical_id),
                    tagging.added_keys(stack, logical_id))
    drift = ResourceDrift(stack.stack_id, logical_id, physical_id, state.resource_type,
                          "NOT_CHECKED", utcnow())
    try:
        _check(target, drift)
    except Exception as exc:
        log.warning("drift detection of %s (%s) in stack %s failed: %r", logical_id,
                    state.resource_type, stack.name, exc)
        drift.status, drift.reason = "UNKNOWN", f"Drift detection failed: {exc!r}"
        drift.expected = drift.actual = None
        drift.differences = []
    return drift


def _without_added_tags(live: dict[str, Any] | None, target: Target) -> dict[str, Any] | None:
    """The live properties without the tags CloudFormation added beyond the template's."""
    name = tagging.schema_tagging(target.resource_type, target.region_name).tag_property
    if live is None or not target.added_tags or not isinstance(live.get(name), list):
        return live
    return {**live, name: [tag for tag in live[name]
                           if _tag_key(tag) not in target.added_tags]}


def _check(target: Target, drift: ResourceDrift) -> None:
    how = COMPARED.get(target.resource_type)
    if how is None:
        exists = EXISTS.get(target.resource_type)
        if exists is not None and not exists(target):
            drift.status, drift.expected = "DELETED", target.expected
        return
    live = _without_added_tags(how.read(target), target)
    wanted = how.prepare(target.expected) if how.prepare else target.expected
    if live is None:
        drift.status, drift.expected = "DELETED", wanted
        return
    # Only what the service can read back is compared (a function's Code is not).
    drift.expected = {k: v for k, v in wanted.items() if k in live}
    drift.actual, drift.differences = compare(drift.expected, live, how)
    drift.status = "MODIFIED" if drift.differences else "IN_SYNC"


def checkable(stack: Any) -> list[str]:
    """The logical ids of the resources the stack has now, in creation order."""
    resources = stack.resource_map._parsed_resources
    states = core.states(stack)
    ordered = [lid for lid in core.creation_order(stack) if lid in states]
    ordered += [lid for lid in states if lid not in ordered]
    return [lid for lid in ordered
            if states[lid].status in CHECKABLE_STATUSES and lid in resources]


def _results(stack: Any) -> dict[str, ResourceDrift]:
    if not hasattr(stack, "localcloud_drift"):
        stack.localcloud_drift = {}
    return stack.localcloud_drift


def _remember(stack: Any, drift: ResourceDrift) -> None:
    """Keep a resource's latest result; one that could not be checked stays NOT_CHECKED."""
    if drift.status in ("NOT_CHECKED", "UNKNOWN"):
        _results(stack).pop(drift.logical_id, None)
    else:
        _results(stack)[drift.logical_id] = drift


def _detections(backend: Any) -> dict[str, Detection]:
    if not hasattr(backend, "localcloud_drift_detections"):
        backend.localcloud_drift_detections = {}
    return backend.localcloud_drift_detections


def detect_stack_drift(backend: Any, stack: Any, logical_ids: list[str] | None) -> Detection:
    """Check the stack's resources (or those named) and record the outcome."""
    with runtime.LOCK:
        present = checkable(stack)
        for logical_id in logical_ids or []:
            if logical_id not in present:
                raise ValidationError(message=(
                    f"Resource {logical_id} does not exist for stack {stack.name}"))
        checked = [check_resource(stack, lid) for lid in (logical_ids or present)]
        for drift in checked:
            _remember(stack, drift)
        drifted = sum(1 for drift in checked if drift.status in DRIFTED)
        detection = Detection(str(uuid.uuid4()), stack.stack_id, utcnow(),
                              "DRIFTED" if drifted else "IN_SYNC", drifted,
                              [d.logical_id for d in checked if d.status == "UNKNOWN"])
        stack.localcloud_drift_status = detection.stack_drift_status
        stack.localcloud_drift_checked_at = detection.timestamp
        _detections(backend)[detection.detection_id] = detection
        return detection


def detect_resource_drift(stack: Any, logical_id: str) -> ResourceDrift:
    with runtime.LOCK:
        if logical_id not in checkable(stack):
            raise ValidationError(message=(
                f"Resource {logical_id} does not exist for stack {stack.name}"))
        drift = check_resource(stack, logical_id)
        _remember(stack, drift)
        return drift


def resource_drift_information(stack: Any, logical_id: str) -> dict[str, Any]:
    drift = _results(stack).get(logical_id)
    if drift is None:
        return {"StackResourceDriftStatus": "NOT_CHECKED"}
    return {"StackResourceDriftStatus": drift.status, "LastCheckTimestamp": drift.timestamp}


def stack_drift_information(self: Any) -> dict[str, Any]:
    """Stack.DriftInformation (DescribeStacks, ListStacks)."""
    status = getattr(self, "localcloud_drift_status", None)
    if status is None:
        return {"StackDriftStatus": "NOT_CHECKED"}
    return {"StackDriftStatus": status, "LastCheckTimestamp": self.localcloud_drift_checked_at}


# -- API actions ---------------------------------------------------------------------------


def detect_stack_drift_response(self: Any) -> ActionResult:
    backend = self.cloudformation_backend
    stack = backend.get_stack(self._get_param("StackName"))
    detection = detect_stack_drift(backend, stack, self._get_param("LogicalResourceIds"))
    return ActionResult({"StackDriftDetectionId": detection.detection_id})


def describe_stack_drift_detection_status_response(self: Any) -> ActionResult:
    detection_id = self._get_param("StackDriftDetectionId")
    detection = _detections(self.cloudformation_backend).get(detection_id)
    if detection is None:
        raise ValidationError(message=f"Stack drift detection {detection_id} does not exist")
    return ActionResult(detection.as_dict())


def describe_stack_resource_drifts_response(self: Any) -> ActionResult:
    stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
    wanted = self._get_param("StackResourceDriftStatusFilters") or []
    with runtime.LOCK:
        # In creation order, and only resources the stack still has (an update may remove some).
        results = _results(stack)
        drifts = [results[lid] for lid in checkable(stack)
                  if lid in results and (not wanted or results[lid].status in wanted)]
    start = int(self._get_param("NextToken") or 0)
    size = int(self._get_param("MaxResults") or 100)
    page = drifts[start:start + size]
    result: dict[str, Any] = {"StackResourceDrifts": [drift.as_dict() for drift in page]}
    if start + size < len(drifts):
        result["NextToken"] = str(start + size)
    return ActionResult(result)


def detect_stack_resource_drift_response(self: Any) -> ActionResult:
    stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
    drift = detect_resource_drift(stack, self._get_param("LogicalResourceId"))
    return ActionResult({"StackResourceDrift": drift.as_dict()})


def _with_resource_drift(original: Callable[..., None]) -> Callable[..., None]:
    """StackResourceDTO (DescribeStackResource(s)) gets the resource's DriftInformation."""
    def init(self: Any, stack: Any, resource: Any) -> None:
        original(self, stack, resource)
        self.drift_information = resource_drift_information(stack, self.logical_resource_id)

    return init


def _summaries_with_drift(original: Callable[[Any], ActionResult]) -> Callable[[Any], Any]:
    """ListStackResources: each summary gets its DriftInformation."""
    def list_stack_resources(self: Any) -> ActionResult:
        response = original(self)
        stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
        for summary in response.result["StackResourceSummaries"]:
            summary["DriftInformation"] = resource_drift_information(
                stack, summary["LogicalResourceId"])
        return response

    list_stack_resources.__name__ = original.__name__
    return list_stack_resources


ACTIONS = {
    "detect_stack_drift": detect_stack_drift_response,
    "describe_stack_drift_detection_status": describe_stack_drift_detection_status_response,
    "describe_stack_resource_drifts": describe_stack_resource_drifts_response,
    "detect_stack_resource_drift": detect_stack_resource_drift_response,
}

_installed = False


def install() -> None:
    """Add the drift API to moto's CloudFormation (after ``actions.install``). Idempotent."""
    global _installed
    if _installed:
        return
    _installed = True
    parsing.parse_resource_and_generate_name = _recording(
        parsing.parse_resource_and_generate_name)
    cfn_models.Stack.drift_information = property(stack_drift_information)
    cfn_responses.StackResourceDTO.__init__ = _with_resource_drift(  # type: ignore[method-assign]
        cfn_responses.StackResourceDTO.__init__)
    response_cls = cfn_responses.CloudFormationResponse
    response_cls.list_stack_resources = _summaries_with_drift(response_cls.list_stack_resources)
    for name, action in ACTIONS.items():
        action.__name__ = name
        setattr(response_cls, name, actions._answering_errors(action))
