"""Every request is checked against its operation's input shape before moto's action runs.

AWS validates the members of a request server-side against the service model: required
members, types, ``min``/``max`` (string and blob length, number value, list and map size),
``enum`` and ``pattern``. botocore (boto3, the ``aws`` CLI, Ansible) checks only required
members, types and minimums client-side, other SDKs and ``parameter_validation=False`` clients
nothing, and moto almost nothing, so without this module the local cloud accepted what AWS
refuses (a health check ``FailureThreshold`` of 11, a change set for a stack named
``my_stack``, a DynamoDB attribute type outside its enum).

**Where it hooks.** ``install()`` wraps ``BaseResponse._dispatch``, the step every moto service
but S3 takes for a request, before ``setup_class`` and the action. Both entrances pass there:
signed requests through moto's WSGI app and the requests the API Gateway data plane makes for
AWS integrations (``call_moto`` calls that same app in-process). A wrapper of ``call_action``
would run after ``setup_class``, where the services with automated parameter parsing have
already parsed (and may already have failed on) the request; ``_dispatch`` is the one place that
sees the request exactly as it came, as ``json_protocol.py`` does for unreadable bodies.

**How a request is read.** With moto's own machinery, as ``BaseResponse.parse_parameters``
does: ``get_service_model`` for the botocore model, ``get_service_router(...).match`` for the
operation and URI labels (``Action``, ``X-Amz-Target`` or method and path), and the protocol's
parser from ``PROTOCOL_PARSERS``. The JSON parsers are wrapped so that a body value of the wrong
JSON type is reported instead of coerced (moto turns ``"11"`` into ``11``).

**The rules** (Smithy constraint traits, https://smithy.io/2.0/spec/constraint-traits.html,
which botocore's ``min``/``max``/``enum``/``pattern`` carry; AWS's messages are its Coral
wording, quoted from real answers in the comments below):

- ``required``: ``Value null at 'stackName' failed to satisfy constraint: Member must not be
  null``.
- string and blob length, list and map size: ``Member must have length less than or equal to
  N`` / ``greater than or equal to N``. A string's length is counted in UTF-16 code units, as
  Java's ``String.length()`` counts it.
- numbers: ``Member must have value less than or equal to N`` / ``greater than or equal to N``.
- ``enum``: ``Member must satisfy enum value set: [A, B]``.
- ``pattern``: ``Member must satisfy regular expression pattern: <pattern>``. The Smithy spec
  says patterns are not implicitly anchored, but AWS's services match the whole value (Java's
  ``Matcher.matches``): they refuse ``something_with_underscores`` for ``[a-zA-Z][-a-zA-Z0-9]*``
  (hashicorp/terraform-provider-aws#42668), ``testServiceName:latest-metrics`` for
  ``[\\.\\-_/#A-Za-z0-9]+`` (awslabs/aws-embedded-metrics-java#65) and ``*.dev.mycompany.com``
  for ``[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*`` (terraform-aws-modules/terraform-aws-acm#93), all of
  which a search would accept. So the value must match as a whole here too. botocore's patterns
  are Java regexes: they run on the ``regex`` package, with surrogate-pair ranges
  (``\\uD800\\uDC00-\\uDBFF\\uDFFF``) written as ``\\U00010000-\\U0010FFFF`` and ``\\x{h..h}`` as
  ``\\Uhhhhhhhh``; a pattern that still does not compile is not checked (logged at debug).
- Paths name the member as Coral does: each member name with its first letter in lower case
  (``kMSKeyArn``, ``sAMLOptions``), list elements as ``tags.2.member.value`` and map values as
  ``items.<key>.member``. A list or map whose elements fail their own constraints is reported
  once, with every constraint of the element shape: ``Member must satisfy constraint: [...]``,
  ``Map value must satisfy constraint: [...]``, ``Map keys must satisfy constraint: [...]``
  (CloudFormation's answer for ``capabilities`` in CodeGenieApp/serverless-express#59;
  CodePipeline's for ``configuration`` in hashicorp/terraform-provider-aws#41023). A member
  the model marks ``sensitive`` is reported
  without its value (``Value at 'advancedSecurityOptions.sAMLOptions.masterUserName'``,
  ministryofjustice/cloud-platform-infrastructure#4097), and so are map values and keys, as in
  the CodePipeline report. Several failures: ``2 validation errors detected: ...; ...``, in the
  order of the members in the model, and within one member enum, pattern, maximum, minimum
  (fluent-plugins-nursery/fluent-plugin-cloudwatch-logs#223); a bracketed list has maximum,
  minimum, pattern (#41023, and CloudFormation's answer quoted in moto's
  ``cloudformation/responses.py``).
- A JSON body value of the wrong JSON type (a number for a string, a string for an integer, an
  object for a list...) is ``SerializationException``, the error Coral's JSON deserializer gives
  (``NUMBER_VALUE cannot be converted to String``: ca98am79/connect-dynamodb#100).

**Codes and statuses** are in ``SERVICE_ERRORS`` and ``PROTOCOL_ERRORS``, each with its source.
The error is written as the protocol writes errors (``__type`` and ``message`` for JSON, with
``x-amzn-query-error`` for awsQueryCompatible services; ``x-amzn-ErrorType`` for rest-json;
``<ErrorResponse>`` for query and rest-xml), so SDKs raise it with that code and message.

**Not validated**, and why:

- S3 (and S3 Control): S3 answers bad input with its own codes (``InvalidBucketName``,
  ``KeyTooLongError``, ``InvalidArgument``, ``MalformedXML``, S3 API reference, "Error
  responses"), not Coral's, and its model carries few constraints. moto's S3 handlers do not
  pass through ``_dispatch`` anyway.
- EC2 protocol services and rest-xml services other than Route 53 (CloudFront): their errors
  are their own (``InvalidParameterValue``, ``InvalidArgument``), not a Coral validation error.
- Requests moto's parser cannot read: protocols it has no parser for (CloudWatch's
  ``smithy-rpc-v2-cbor``), gzip-compressed bodies, a body that is not JSON (``json_protocol``
  answers those), routes the model does not know, and values of a query, XML, header or URI
  member that do not parse as their type (what AWS answers there is not documented). These
  are skipped and logged at debug; a fault in this module is logged as a warning. Either way
  the request goes on to moto as before: validation never turns a working request into a 500.
- Requests moto's URL map does not route to a service's handler (a Lambda function name with
  a space: moto answers 404) never reach ``_dispatch``.

Deviations: values appear as Java would print them for strings, numbers, lists and maps, but a
structure is printed as ``{Member=value}`` (AWS prints a Java object id); the enum set is in the
model's order (AWS's is a hash set's); Java's ASCII-only ``\\w``, ``\\d``, ``\\s`` and POSIX
classes (``\\p{Print}``) match Unicode here. Route 53 answers constraint failures in an XML body
with the XML schema validator's text (``InvalidInput``, ``Invalid XML ; cvc-maxLength-valid:
Value '...' with length = '69' is not facet-valid with respect to maxLength '64' for type
'HealthCheckNonce'.``: keycloak/keycloak-benchmark#508); the local cloud gives the same code and
status with Coral's wording, which Route 53 uses for URI members (``InvalidInput: 1 validation
error detected: Value '/hostedzone/...' at 'resourceId' failed to satisfy constraint: Member
must have length less than or equal to 32``: hashicorp/terraform-provider-aws#37817). SQS
reports only a missing member, in its own words (``MissingParameter``: "The request must
contain the parameter MessageGroupId.", danbooru/danbooru#3151); its model has no length or
pattern constraints, and an unknown attribute name is its ``InvalidAttributeName``, left to
moto.

Cost, measured on the development machine with the request already read by werkzeug (which
moto does anyway): 30-90 µs for a small request (DescribeTable, CreateQueue, GetHealthCheck,
PutEvents), about 0.15 ms for a PutItem of ten attributes or a CreateHealthCheck, about 0.4 ms
for a CreateStack with ten parameters and ten tags (moto's query parser is most of it).
Compiled patterns, parser classes and what each shape checks are cached.
"""

from __future__ import annotations

import datetime
import decimal
import functools
import json
import logging
import math
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

import regex
from botocore.exceptions import UnknownServiceError
from botocore.model import OperationNotFoundError, Shape
from moto.core.parse import PROTOCOL_PARSERS
from moto.core.request import determine_request_protocol
from moto.core.responses import BaseResponse
from moto.core.routing import get_service_router
from moto.core.utils import get_service_model
from werkzeug.exceptions import NotFound

log = logging.getLogger("localcloud.validation")

Answer = tuple[int, dict[str, str], str]

# Not validated at all: S3 answers bad input with its own codes (module docstring).
UNVALIDATED_SERVICES = frozenset({"s3", "s3control"})
NUMBER_TYPES = frozenset({"integer", "long", "float", "double", "byte", "short"})
CONTAINER_TYPES = frozenset({"structure", "list", "map"})
NOT_NULL = "Member must not be null"
PATTERN_TIMEOUT_SECONDS = 0.5

_installed = False


# -- What each service answers --------------------------------------------------------------


@dataclass(frozen=True)
class ErrorStyle:
    """The error a service gives for a request that fails validation."""

    code: str
    status: int = 400
    only_missing: bool = False  # SQS: a missing member only, in SQS's words


SERVICE_ERRORS: dict[str, ErrorStyle] = {
    # Route 53 API reference, InvalidInput: "The input is not valid." (HTTP 400); with Coral's
    # wording: hashicorp/terraform-provider-aws#37817 ("InvalidInput: 1 validation error
    # detected: Value '/hostedzone/…' at 'resourceId' …"), hashicorp/terraform#24250.
    "route53": ErrorStyle("InvalidInput"),
    # CloudFormation: "api error ValidationError: 1 validation error detected: Value
    # 'something_with_underscores' at 'stackName' …" (hashicorp/terraform-provider-aws#42668).
    "cloudformation": ErrorStyle("ValidationError"),
    # IAM: "ValidationError: 1 validation error detected: Value '…' at 'policyArn' …"
    # (crossplane-contrib/provider-aws#1986).
    "iam": ErrorStyle("ValidationError"),
    # STS: "ValidationError: 1 validation error detected: Value '…' at 'name' …"
    # (tenesys/awsconsole#2).
    "sts": ErrorStyle("ValidationError"),
    # DynamoDB: "ValidationException … Value '…' at 'tableName' …" (aws/aws-cli#790).
    "dynamodb": ErrorStyle("ValidationException"),
    # EventBridge: "ValidationException: 1 validation error detected: Value
    # 'aws.partner.TestBus' at 'name' …" (aws/aws-sdk-js-v3#2804).
    "events": ErrorStyle("ValidationException"),
    # ACM: "ValidationException: 1 validation error detected: Value '…' at
    # 'tags.2.member.value' …" (terraform-aws-modules/terraform-aws-acm#93).
    "acm": ErrorStyle("ValidationException"),
    # Lambda: "ValidationException: 1 validation error detected: Value 'Not Installed' at
    # 'functionName' …" (awslabs/aws-gov-cloud-import#21); CreateFunction's 'kMSKeyArn'
    # (highsource/bitcoin-a-day#1).
    "lambda": ErrorStyle("ValidationException"),
    # CloudWatch Logs: "InvalidParameterException: 1 validation error detected: Value '…' at
    # 'logGroupName' …" (awslabs/aws-embedded-metrics-java#65).
    "logs": ErrorStyle("InvalidParameterException"),
    # API Gateway API reference, common errors: BadRequestException, "The submitted request is
    # not valid, for example, the input is incomplete or incorrect" (HTTP 400).
    "apigateway": ErrorStyle("BadRequestException"),
    # SQS API reference, common errors: MissingParameter, "A required parameter for the
    # specified action is not supplied" (HTTP 400); wording from danbooru/danbooru#3151.
    "sqs": ErrorStyle("MissingParameter", only_missing=True),
}

# Other services, by protocol: the "Common Errors" page of AWS API references lists
# ValidationError ("The input fails to satisfy the constraints specified by an AWS service",
# HTTP 400) for query APIs; JSON (Coral) services name it ValidationException
# ("com.amazon.coral.validate#ValidationException"). EC2 and rest-xml services other than
# Route 53 have their own errors and are not validated (module docstring).
PROTOCOL_ERRORS: dict[str, ErrorStyle] = {
    "json": ErrorStyle("ValidationException"),
    "rest-json": ErrorStyle("ValidationException"),
    "query": ErrorStyle("ValidationError"),
}
SERIALIZATION_EXCEPTION = "SerializationException"
CORAL_ERROR_TYPES = {
    "ValidationException": "com.amazon.coral.validate#ValidationException",
    SERIALIZATION_EXCEPTION: "com.amazon.coral.service#SerializationException",
}


def error_style(service_name: str, protocol: str) -> ErrorStyle | None:
    """How this service answers invalid input; None for services left unvalidated."""
    if service_name in SERVICE_ERRORS:
        return SERVICE_ERRORS[service_name]
    return PROTOCOL_ERRORS.get(protocol)


# -- Finding the operation and reading the request with moto's parsers ----------------------


class SkipValidation(Exception):
    """The request cannot be read as the model describes it: leave it to moto."""


class WireTypeError(Exception):
    """A JSON body value of the wrong JSON type (Coral's SerializationException)."""

    def __init__(self, value: Any, shape: Shape) -> None:
        super().__init__(wire_type_message(value, shape))


@dataclass(frozen=True)
class Route:
    service_name: str
    service_model: Any
    protocol: str
    operation: Any
    url_params: dict[str, Any]


def request_protocol(service_model: Any, request: Any) -> str:
    """The protocol the request speaks, as moto decides it (Content-Type, else the model's)."""
    if request.headers.get("Content-Encoding"):
        raise SkipValidation("compressed body")
    try:
        return determine_request_protocol(service_model, request.content_type)
    except NotImplementedError as exc:
        raise SkipValidation(str(exc)) from exc


def route(service_model: Any, protocol: str, request: Any) -> Route:
    """The operation a request calls, found as moto's own router finds it."""
    service_name = service_model.service_name
    try:
        operation, url_params = get_service_router(service_name).match(request)
    except (NotImplementedError, NotFound, OperationNotFoundError) as exc:
        raise SkipValidation(f"no operation in the model for this request ({exc!r})") from exc
    return Route(service_name, service_model, protocol, operation, url_params)


@functools.cache
def service_model_for(service_name: str) -> Any | None:
    """moto's botocore model of the service; None for moto's own services (``moto_api``)."""
    try:
        return get_service_model(service_name)
    except UnknownServiceError:
        return None


def read_params(found: Route, request: Any) -> dict[str, Any]:
    """The request's parameters, parsed as ``BaseResponse.parse_parameters`` parses them."""
    parser = parser_class(found.protocol)(found.operation)
    values = request.values
    if found.protocol in ("query", "ec2"):
        # Each name occurs once in a query request; a dict is the same to moto's QueryParser,
        # which scans every name for every structure it reads, and much faster to scan.
        values = dict(values.items())
    try:
        params = parser.parse({
            "method": request.method, "values": values, "headers": request.headers,
            "body": request.data, "url_path": request.path, "url_params": found.url_params})
    except (WireTypeError, SkipValidation):
        raise
    except Exception as exc:  # a query, XML, header or URI value that is not of its type
        raise SkipValidation(f"moto's {found.protocol} parser failed ({exc!r})") from exc
    if found.service_name == "sqs":
        return with_queue_url_from_path(params, found.url_params)
    return params


def with_queue_url_from_path(params: dict[str, Any], url_params: dict[str, Any]) -> dict[str, Any]:
    """A request sent to a queue's URL names the queue by its path ("Amazon SQS queue and
    message identifiers", SQS Developer Guide), so QueueUrl need not be a parameter."""
    if "QueueName" in url_params and "AccountId" in url_params:
        return {"QueueUrl": f"/{url_params['AccountId']}/{url_params['QueueName']}", **params}
    return params


@functools.cache
def parser_class(protocol: str) -> type:
    """moto's parser for the protocol; for JSON bodies, one that keeps JSON types strict."""
    try:
        base = PROTOCOL_PARSERS[protocol]
    except KeyError as exc:
        raise SkipValidation(f"moto has no parser for {protocol}") from exc
    if protocol in ("json", "rest-json"):
        return type(f"Strict{base.__name__}", (StrictJSONBody, base), {})
    return base


class StrictJSONBody:
    """Mixin for moto's JSON parsers: a body value must have its shape's JSON type.

    moto coerces (``int("11")``, a string iterated as a list); Coral's deserializer refuses the
    request with SerializationException. Values outside the body (rest-json headers, query
    strings and URI labels) are text and keep moto's parsing.
    """

    _in_body = False

    def _parse_json_body(self, raw_body: Any, shape: Shape) -> Any:  # json protocol
        return self._reading_body(super()._parse_json_body, raw_body, shape)  # type: ignore[misc]

    def _parse_payload(self, *args: Any) -> Any:  # rest-json protocol
        return self._reading_body(super()._parse_payload, *args)  # type: ignore[misc]

    def _reading_body(self, parse: Callable[..., Any], *args: Any) -> Any:
        self._in_body = True
        try:
            return parse(*args)
        finally:
            self._in_body = False

    def _parse_body_as_json(self, body_contents: Any) -> Any:
        if not body_contents:
            return {}
        try:
            parsed = json.loads(body_contents)
        except (ValueError, UnicodeDecodeError) as exc:
            raise SkipValidation("the body is not JSON") from exc
        if not isinstance(parsed, dict):
            raise SkipValidation("the body is not a JSON object")
        return parsed

    def _parse_shape(self, shape: Shape, node: Any) -> Any:
        if self._in_body and node is not None and not json_type_fits(shape, node):
            raise WireTypeError(node, shape)
        return super()._parse_shape(shape, node)  # type: ignore[misc]


JSON_TYPE_OF = {"structure": dict, "map": dict, "list": list, "string": str, "boolean": bool,
                "blob": str}
NON_FINITE_TEXTS = frozenset({"NaN", "Infinity", "-Infinity"})


def json_type_fits(shape: Shape, value: Any) -> bool:
    """Whether a JSON value can be read as the shape (Smithy's awsJson/restJson mapping)."""
    kind = shape.type_name
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if kind in ("float", "double"):
        return is_number or (isinstance(value, str) and value in NON_FINITE_TEXTS)
    if kind in NUMBER_TYPES:
        return is_number
    if kind == "timestamp":
        return is_number or isinstance(value, str)
    if kind == "structure" and getattr(shape, "is_document_type", False):
        return True
    expected = JSON_TYPE_OF.get(kind)
    return expected is None or isinstance(value, expected)


JAVA_TYPES = {"string": "String", "integer": "Integer", "long": "Long", "short": "Short",
              "byte": "Byte", "float": "Float", "double": "Double", "boolean": "Boolean",
              "blob": "ByteBuffer", "timestamp": "Date", "list": "List", "map": "Map"}


def wire_type_message(value: Any, shape: Shape) -> str:
    """Coral's words for a value of the wrong JSON type ("NUMBER_VALUE cannot be converted to
    String": ca98am79/connect-dynamodb#100; "Start of structure or map found where not
    expected." for an object)."""
    if isinstance(value, dict):
        return "Start of structure or map found where not expected."
    if isinstance(value, list):
        return "Start of list found where not expected."
    if isinstance(value, bool):
        token = "BOOLEAN_VALUE"
    elif isinstance(value, str):
        token = "STRING_VALUE"
    else:
        token = "NUMBER_VALUE"
    return f"{token} cannot be converted to {JAVA_TYPES.get(shape.type_name, shape.name)}"


# -- Checking the parameters against the input shape ----------------------------------------

HIDDEN = object()  # a value AWS leaves out of the message


@dataclass(frozen=True)
class Violation:
    path: str
    name: str  # the member's name in the model
    value: Any  # None for a missing member, HIDDEN for one not shown
    constraint: str

    def describe(self) -> str:
        shown = "" if self.value is HIDDEN else f" {java_literal(self.value)}"
        return f"Value{shown} at '{self.path}' failed to satisfy constraint: {self.constraint}"


def violations(input_shape: Shape, params: dict[str, Any]) -> list[Violation]:
    """Every constraint the parameters break, in the model's order."""
    return list(check_structure(input_shape, params, ""))


def check_value(shape: Shape, value: Any, path: str, name: str) -> Iterator[Violation]:
    if not has_rules(shape):
        return
    kind = shape.type_name
    if kind == "structure":
        yield from check_structure(shape, value, path)
    elif kind == "list":
        yield from check_list(shape, value, path, name)
    elif kind == "map":
        yield from check_map(shape, value, path, name)
    else:
        shown = HIDDEN if is_sensitive(shape) else value
        for text in failed_constraints(shape, value):
            yield Violation(path, name, shown, text)


def check_structure(shape: Shape, value: Any, path: str) -> Iterator[Violation]:
    if not isinstance(value, dict):
        return
    for rule in member_rules(shape):
        member_path = f"{path}.{rule.path_name}" if path else rule.path_name
        if value.get(rule.name) is None:
            if rule.required:
                yield Violation(member_path, rule.name, None, NOT_NULL)
        else:
            yield from check_value(rule.shape, value[rule.name], member_path, rule.name)


@dataclass(frozen=True)
class MemberRule:
    name: str
    path_name: str
    shape: Shape
    required: bool


def member_rules(shape: Shape) -> tuple[MemberRule, ...]:
    """The members of a structure that are required or can fail, in the model's order."""
    key = shape_key(shape)
    if key not in _MEMBER_RULES:
        required = set(shape.required_members)
        _MEMBER_RULES[key] = () if getattr(shape, "is_document_type", False) else tuple(
            MemberRule(name, coral_name(name), member, name in required)
            for name, member in shape.members.items()
            if name in required or has_rules(member))
    return _MEMBER_RULES[key]


_MEMBER_RULES: dict[tuple[int, str], tuple[MemberRule, ...]] = {}


def check_list(shape: Shape, value: Any, path: str, name: str) -> Iterator[Violation]:
    if not isinstance(value, list):
        return
    shown = HIDDEN if is_sensitive(shape) or is_sensitive(shape.member) else value
    for text in failed_constraints(shape, value):
        yield Violation(path, name, shown, text)
    element = shape.member
    if element.type_name in CONTAINER_TYPES:
        for index, item in enumerate(value, start=1):
            yield from check_value(element, item, f"{path}.{index}.member", name)
    elif any(failed_constraints(element, item) for item in value):
        yield Violation(path, name, shown, f"Member must satisfy constraint: {bracket(element)}")


def check_map(shape: Shape, value: Any, path: str, name: str) -> Iterator[Violation]:
    if not isinstance(value, dict):
        return
    shown = HIDDEN if is_sensitive(shape) else value
    for text in failed_constraints(shape, value):
        yield Violation(path, name, shown, text)
    if any(failed_constraints(shape.key, key) for key in value):
        yield Violation(path, name, HIDDEN,
                        f"Map keys must satisfy constraint: {bracket(shape.key)}")
    element = shape.value
    if element.type_name in CONTAINER_TYPES:
        for key, item in value.items():
            yield from check_value(element, item, f"{path}.{key}.member", name)
    elif any(failed_constraints(element, item) for item in value.values()):
        yield Violation(path, name, HIDDEN,
                        f"Map value must satisfy constraint: {bracket(element)}")


def coral_name(member_name: str) -> str:
    """A member as Coral names it in a path: first letter in lower case (``KMSKeyArn`` is
    ``kMSKeyArn``, highsource/bitcoin-a-day#1)."""
    return member_name[:1].lower() + member_name[1:]


def is_sensitive(shape: Shape) -> bool:
    return bool(shape.metadata.get("sensitive"))


def bracket(shape: Shape) -> str:
    """Every constraint of an element shape, as AWS lists them for a list or map: maximum,
    minimum, then pattern ("[Member must have length less than or equal to 68, Member must
    have length greater than or equal to 6, Member must satisfy regular expression pattern:
    …]", CloudFormation's answer quoted in moto/cloudformation/responses.py; "[Member must have
    length less than or equal to 50000, Member must have length greater than or equal to 1]",
    hashicorp/terraform-provider-aws#41023)."""
    listed = sorted(shape_constraints(shape), key=lambda constraint: constraint.bracket_rank)
    return "[" + ", ".join(constraint.text for constraint in listed) + "]"


# -- The constraints of one shape -----------------------------------------------------------


@dataclass(frozen=True)
class Constraint:
    text: str
    holds: Callable[[Any], bool]
    bracket_rank: int  # its place in a "must satisfy constraint: [...]" list


def failed_constraints(shape: Shape, value: Any) -> list[str]:
    """The texts of the shape's constraints that the value breaks (none for a wrong type)."""
    if value is None or not fits_kind(shape.type_name, value):
        return []
    return [constraint.text for constraint in shape_constraints(shape)
            if not constraint.holds(value)]


def fits_kind(kind: str, value: Any) -> bool:
    if kind in NUMBER_TYPES:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "string":
        return isinstance(value, str)
    if kind == "blob":
        return isinstance(value, bytes | bytearray)
    if kind == "list":
        return isinstance(value, list)
    if kind == "map":
        return isinstance(value, dict)
    return False


def shape_constraints(shape: Shape) -> tuple[Constraint, ...]:
    """Enum, pattern, maximum, minimum: the order AWS reports a member's failures in
    (fluent-plugins-nursery/fluent-plugin-cloudwatch-logs#223: pattern, then minimum)."""
    key = shape_key(shape)
    if key not in _CONSTRAINTS:
        _CONSTRAINTS[key] = _constraints(shape)
    return _CONSTRAINTS[key]


_CONSTRAINTS: dict[tuple[int, str], tuple[Constraint, ...]] = {}


def _constraints(shape: Shape) -> tuple[Constraint, ...]:
    metadata, kind = shape.metadata, shape.type_name
    constraints: list[Constraint] = []
    enum = metadata.get("enum")
    if enum and kind == "string":
        allowed = frozenset(enum)
        constraints.append(Constraint(
            f"Member must satisfy enum value set: [{', '.join(enum)}]", allowed.__contains__, 3))
    pattern = metadata.get("pattern")
    if pattern is not None and kind == "string":
        constraints.append(Constraint(
            f"Member must satisfy regular expression pattern: {pattern}",
            functools.partial(matches_pattern, pattern), 2))
    measure, noun = (value_of, "value") if kind in NUMBER_TYPES else (length_of, "length")
    if metadata.get("max") is not None:
        most = metadata["max"]
        constraints.append(Constraint(
            f"Member must have {noun} less than or equal to {java_number(most)}",
            lambda value: measure(value) <= most, 0))
    if metadata.get("min") is not None:
        least = metadata["min"]
        constraints.append(Constraint(
            f"Member must have {noun} greater than or equal to {java_number(least)}",
            lambda value: measure(value) >= least, 1))
    return tuple(constraints)


def value_of(number: Any) -> Any:
    return number


def length_of(value: Any) -> int:
    """Java's ``length()``: a string counts UTF-16 code units; blobs bytes, lists and maps
    elements."""
    if isinstance(value, str):
        return len(value.encode("utf-16-le", "surrogatepass")) // 2
    return len(value)


def has_rules(shape: Shape) -> bool:
    """Whether anything under the shape can fail (recursive shapes are visited once)."""
    key = shape_key(shape)
    if key not in _HAS_RULES:
        _HAS_RULES[key] = _has_rules(shape, set())
    return _HAS_RULES[key]


_HAS_RULES: dict[tuple[int, str], bool] = {}


def _has_rules(shape: Shape, seen: set[tuple[int, str]]) -> bool:
    key = shape_key(shape)
    if key in seen:
        return False
    seen.add(key)
    if shape_constraints(shape):
        return True
    kind = shape.type_name
    if kind == "structure":
        return bool(shape.required_members) or any(
            _has_rules(member, seen) for member in shape.members.values())
    if kind == "list":
        return _has_rules(shape.member, seen)
    if kind == "map":
        return _has_rules(shape.key, seen) or _has_rules(shape.value, seen)
    return False


def shape_key(shape: Shape) -> tuple[int, str]:
    """Shape names are unique within one model; botocore makes a new object per reference."""
    return id(shape._shape_resolver), shape.name


# -- Java regular expressions ---------------------------------------------------------------

SURROGATE_PAIR_RANGE = regex.compile(r"\\uD800\\uDC00-\\uDBFF\\uDFFF", regex.IGNORECASE)
JAVA_HEX_ESCAPE = regex.compile(r"\\x\{([0-9A-Fa-f]{1,8})\}")


@functools.cache
def java_pattern(pattern: str) -> Any:
    """A botocore (Java) pattern compiled for the ``regex`` package; None if it cannot be."""
    translated = SURROGATE_PAIR_RANGE.sub(r"\\U00010000-\\U0010FFFF", pattern)
    translated = JAVA_HEX_ESCAPE.sub(lambda match: f"\\U{int(match[1], 16):08X}", translated)
    try:
        return regex.compile(translated)
    except regex.error:
        log.debug("pattern %r does not compile; it is not checked", pattern)
        return None


def matches_pattern(pattern: str, value: str) -> bool:
    """Whether the whole value matches, as Java's ``Matcher.matches`` (module docstring)."""
    compiled = java_pattern(pattern)
    if compiled is None:
        return True
    try:
        return compiled.fullmatch(value, timeout=PATTERN_TIMEOUT_SECONDS) is not None
    except TimeoutError:
        log.debug("pattern %r took too long on a value; it is not checked", pattern)
        return True


# -- Values as Java prints them -------------------------------------------------------------


def java_literal(value: Any) -> str:
    return "null" if value is None else f"'{java_text(value)}'"


def java_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return java_number(value)
    if isinstance(value, bytes | bytearray):
        return f"java.nio.HeapByteBuffer[pos=0 lim={len(value)} cap={len(value)}]"
    if isinstance(value, list):
        return "[" + ", ".join(java_text(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}={java_text(item)}" for key, item in value.items()) + "}"
    if isinstance(value, datetime.datetime):
        return value.strftime("%a %b %d %H:%M:%S UTC %Y")
    return str(value)


def java_number(number: Any) -> str:
    """``Integer.toString`` or ``Double.toString`` (scientific below 1e-3 and from 1e7)."""
    if not isinstance(number, float):
        return str(number)
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if number == 0 or 1e-3 <= abs(number) < 1e7:
        text = repr(number)
        return text if "." in text else f"{text}.0"
    sign, digits, exponent = decimal.Decimal(repr(number)).as_tuple()
    mantissa = f"{digits[0]}.{''.join(map(str, digits[1:])) or '0'}"
    return f"{'-' if sign else ''}{mantissa}E{exponent + len(digits) - 1}"


# -- The answer -----------------------------------------------------------------------------


def validation_message(style: ErrorStyle, found: list[Violation]) -> str | None:
    """The error message, or None if the request passes."""
    if style.only_missing:
        missing = [violation for violation in found if violation.constraint == NOT_NULL]
        return f"The request must contain the parameter {missing[0].name}." if missing else None
    if not found:
        return None
    noun = "error" if len(found) == 1 else "errors"
    return f"{len(found)} validation {noun} detected: " + "; ".join(
        violation.describe() for violation in found)


def error_answer(found: Route, code: str, status: int, message: str) -> Answer:
    """The error as the service's protocol writes errors, so SDKs raise it with this code."""
    if found.protocol == "json":
        return json_error(found.service_model, code, status, message)
    if found.protocol == "rest-json":
        return rest_json_error(code, status, message)
    return xml_error(found.service_model, code, status, message)


def json_error(service_model: Any, code: str, status: int, message: str) -> Answer:
    """awsJson: ``__type`` and ``message``; for awsQueryCompatible services (SQS) also
    ``x-amzn-query-error: Code;Sender`` ("Interpreting Amazon SQS JSON API responses", SQS
    Developer Guide). Coral's own exceptions carry their namespace."""
    metadata = service_model.metadata
    headers = {"Content-Type": f"application/x-amz-json-{metadata.get('jsonVersion', '1.0')}",
               "x-amzn-RequestId": str(uuid.uuid4())}
    error_type = CORAL_ERROR_TYPES.get(code, code)
    if "awsQueryCompatible" in metadata and code != SERIALIZATION_EXCEPTION:
        headers["x-amzn-query-error"] = f"{code};Sender"
        error_type = f"com.amazonaws.{service_model.endpoint_prefix}#{code}"
    message_key = "Message" if code == SERIALIZATION_EXCEPTION else "message"
    return status, headers, json.dumps({"__type": error_type, message_key: message})


def rest_json_error(code: str, status: int, message: str) -> Answer:
    """restJson: the code in ``x-amzn-ErrorType``, the message in the body."""
    headers = {"Content-Type": "application/json", "x-amzn-ErrorType": code,
               "x-amzn-RequestId": str(uuid.uuid4())}
    return status, headers, json.dumps({"message": message})


def xml_error(service_model: Any, code: str, status: int, message: str) -> Answer:
    """awsQuery and restXml: ``<ErrorResponse><Error><Type>Sender</Type>…``."""
    request_id = str(uuid.uuid4())
    namespace = service_model.metadata.get("xmlNamespace")
    opening = f'<ErrorResponse xmlns="{escape(namespace)}">' if namespace else "<ErrorResponse>"
    body = (f'<?xml version="1.0"?>\n{opening}<Error><Type>Sender</Type>'
            f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>")
    return status, {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}, body


def answer_for(service_name: str, request: Any) -> Answer | None:
    """AWS's error for a request that breaks its operation's input shape, else None."""
    service_model = service_model_for(service_name)
    if service_model is None:
        return None
    protocol = request_protocol(service_model, request)
    style = error_style(service_name, protocol)
    if style is None:
        return None
    found = route(service_model, protocol, request)
    if found.operation.input_shape is None:
        return None
    try:
        params = read_params(found, request)
    except WireTypeError as exc:
        return error_answer(found, SERIALIZATION_EXCEPTION, 400, str(exc))
    message = validation_message(style, violations(found.operation.input_shape, params))
    return None if message is None else error_answer(found, style.code, style.status, message)


def validation_answer(service_name: str, request: Any) -> Answer | None:
    """``answer_for``, failing open: a request this module cannot judge goes on to moto."""
    if service_name in UNVALIDATED_SERVICES:
        return None
    try:
        return answer_for(service_name, request)
    except SkipValidation as reason:
        log.debug("%s request not validated: %s", service_name, reason)
    except Exception:
        log.warning("validating a %s request failed; it goes on unvalidated", service_name,
                    exc_info=True)
    return None


def install() -> None:
    """Validate requests before moto's actions run (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    original = BaseResponse._dispatch

    def _dispatch(self: BaseResponse, request: Any, full_url: str | None = None,
                  headers: Any = None) -> Any:
        answer = validation_answer(self.boto3_service_name, request)
        return answer or original(self, request, full_url, headers)

    BaseResponse._dispatch = _dispatch  # type: ignore[method-assign]
