"""The REST API data plane: execute a deployed method as API Gateway does.

A request reaches the gateway as ``{restApiId}.execute-api.{region}.amazonaws.com/{stage}/...``
(``handle_execute_api``) or through a custom domain's base path mapping
(``handle_custom_domain``, called by the edge). The stage serves its deployment's snapshot
(``snapshots.py``), never the live API, and a deleted stage no longer answers.

The steps follow API Gateway's: size limits, stage lookup (403 ``Forbidden``), resource and
method routing (literal path parts before ``{param}`` before ``{greedy+}``, ``ANY``; else the
MISSING_AUTHENTICATION_TOKEN gateway response), stage throttling (token buckets per method from
the stage's method settings; THROTTLED), request validation (BAD_REQUEST_PARAMETERS,
BAD_REQUEST_BODY with a draft-4 JSON schema model), the integration (``integrations.py``),
and an access log line when the stage has access logging. Every error the gateway produces
goes through the snapshot's gateway responses (the type's own, else DEFAULT_4XX/DEFAULT_5XX,
else AWS's default ``{"message":$context.error.messageString}``), with
``x-amzn-ErrorType``, ``x-amzn-RequestId`` and ``x-amz-apigw-id`` as AWS sends them.

Deviations, knowingly:
- A body over 10,485,760 bytes is answered by what fronts the API, as on AWS: for an EDGE
  endpoint (or an EDGE custom domain) CloudFront refuses it before API Gateway sees it (413,
  text ``HTTP content length exceeded 10485760 bytes.``, no gateway response); for a REGIONAL
  or PRIVATE endpoint API Gateway answers with the REQUEST_TOO_LARGE gateway response (413,
  ``{"message":"Request Too Long"}``). AWS does not apply an API's customisation of that
  response ("Important notes for REST APIs" in the API Gateway Developer Guide), so neither
  the API's REQUEST_TOO_LARGE nor its DEFAULT_4XX headers and templates apply here. The
  deviation: when the API or stage does not exist, the plain-text answer is given, as the
  endpoint type is unknown. REQUEST_TOO_LARGE also answers a Lambda proxy event over Lambda's
  6 MB payload limit.
- Request line and headers over 10,240 bytes answer 431 ``HTTP header is larger than 10240
  bytes.``: AWS's message; the status AWS uses is not documented.
- Authorizers, API keys, usage plans, resource policies, caching and CORS preflights that
  are not configured as methods are not evaluated; account-level throttling is not applied.
- No TLS: the local cloud speaks HTTP and the edge passes custom-domain requests on.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import http
import json
import logging
import re
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

import jsonschema
from moto.apigateway.models import apigateway_backends
from werkzeug.datastructures import Headers
from werkzeug.wrappers import Request, Response

from .. import runtime
from . import control, integrations, snapshots, vtl
from .integrations import GatewayError, Invocation, MethodRequest, MethodResponse

log = logging.getLogger("localcloud.apigateway")

MAX_BODY_BYTES = 10 * 1024 * 1024
MAX_HEADER_BYTES = 10 * 1024
LAMBDA_PAYLOAD_LIMIT = 6 * 1024 * 1024
DEFAULT_TEMPLATE = '{"message":$context.error.messageString}'
NONE_BASE_PATH = "(none)"

# Gateway response type -> (default status, x-amzn-ErrorType).
RESPONSE_TYPES: dict[str, tuple[int | None, str]] = {
    "ACCESS_DENIED": (403, "AccessDeniedException"),
    "API_CONFIGURATION_ERROR": (500, "InternalServerErrorException"),
    "AUTHORIZER_CONFIGURATION_ERROR": (500, "InternalServerErrorException"),
    "AUTHORIZER_FAILURE": (500, "InternalServerErrorException"),
    "BAD_REQUEST_PARAMETERS": (400, "BadRequestException"),
    "BAD_REQUEST_BODY": (400, "BadRequestException"),
    "DEFAULT_4XX": (None, "BadRequestException"),
    "DEFAULT_5XX": (None, "InternalServerErrorException"),
    "EXPIRED_TOKEN": (403, "ExpiredTokenException"),
    "INTEGRATION_FAILURE": (504, "InternalServerErrorException"),
    "INTEGRATION_TIMEOUT": (504, "InternalServerErrorException"),
    "INVALID_API_KEY": (403, "ForbiddenException"),
    "INVALID_SIGNATURE": (403, "InvalidSignatureException"),
    "MISSING_AUTHENTICATION_TOKEN": (403, "MissingAuthenticationTokenException"),
    "QUOTA_EXCEEDED": (429, "LimitExceededException"),
    "REQUEST_TOO_LARGE": (413, "BadRequestException"),
    "RESOURCE_NOT_FOUND": (404, "NotFoundException"),
    "THROTTLED": (429, "TooManyRequestsException"),
    "UNAUTHORIZED": (401, "UnauthorizedException"),
    "UNSUPPORTED_MEDIA_TYPE": (415, "UnsupportedMediaTypeException"),
    "WAF_FILTERED": (403, "ForbiddenException"),
}
# Gateway responses AWS answers with its default even when the API customises them ("Currently,
# customization of the default gateway response for 413 REQUEST_TOO_LARGE isn't supported":
# Important notes for REST APIs, API Gateway Developer Guide).
UNCUSTOMISABLE_RESPONSE_TYPES = frozenset({"REQUEST_TOO_LARGE"})


@dataclass
class StageView:
    """What one request needs from the control plane, copied under the lock."""

    account_id: str
    region: str
    api_id: str
    stage_name: str
    snapshot: snapshots.ApiSnapshot
    variables: dict[str, str]
    method_settings: dict[str, dict[str, Any]]
    access_log: dict[str, Any]
    execute_api_disabled: bool
    # CloudFront fronts the request (an EDGE endpoint, or an EDGE custom domain).
    edge_fronted: bool = False


@dataclass
class Target:
    """Where a request goes once the host (and base path) told us."""

    region: str
    api_id: str | None
    stage_name: str | None
    rest_path: str  # raw (still percent-encoded) path after the stage
    account_id: str | None = None
    via_execute_api: bool = True
    # The custom domain's endpoint types, when the request came through one.
    domain_endpoint_types: tuple[str, ...] = ()


# -- Routing ---------------------------------------------------------------------------------



def status_line(code: int) -> str:
    """``403 Forbidden``: the reason phrase as API Gateway sends it (werkzeug upper-cases it)."""
    try:
        return f"{code} {http.HTTPStatus(code).phrase}"
    except ValueError:
        return f"{code} Unknown"

def _segments(raw_path: str) -> list[str]:
    return [unquote(part) for part in raw_path.split("/") if part]


def match_resource(snapshot: snapshots.ApiSnapshot, segments: list[str]
                   ) -> tuple[str, dict[str, str]] | None:
    """(resource id, path parameters) of the best match: literal parts beat ``{param}``
    parts, which beat ``{greedy+}``, compared from the left as API Gateway does."""
    best: tuple[tuple[int, ...], str, dict[str, str]] | None = None
    for resource_id, path in snapshot.paths.items():
        parts = [p for p in path.split("/") if p]
        rank: list[int] = []
        params: dict[str, str] = {}
        matched = True
        for index, part in enumerate(parts):
            if part.startswith("{") and part.endswith("+}"):
                if index >= len(segments) or index != len(parts) - 1:
                    matched = False
                    break
                params[part[1:-2]] = "/".join(segments[index:])
                rank.append(2)
                break
            if index >= len(segments):
                matched = False
                break
            if part.startswith("{") and part.endswith("}"):
                params[part[1:-1]] = segments[index]
                rank.append(1)
            elif part == segments[index]:
                rank.append(0)
            else:
                matched = False
                break
        else:
            matched = matched and len(parts) == len(segments)
        if not matched:
            continue
        key = tuple(rank)
        if best is None or key < best[0]:
            best = (key, resource_id, params)
    return (best[1], best[2]) if best else None


# -- Throttling ------------------------------------------------------------------------------


class Throttler:
    """Token buckets per stage method, sized by the stage's method settings."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, ...], list[float]] = {}

    def clear(self) -> None:
        with self._lock:
            self._buckets.clear()

    def allow(self, key: tuple[str, ...], rate: float, burst: float) -> bool:
        now = time.monotonic()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None or bucket[0] != rate or bucket[1] != burst:
                bucket = [rate, burst, burst, now]  # rate, burst, tokens, last refill
                self._buckets[key] = bucket
            bucket[2] = min(burst, bucket[2] + (now - bucket[3]) * rate)
            bucket[3] = now
            if bucket[2] >= 1:
                bucket[2] -= 1
                return True
            return False


def _settings_key(key: str) -> tuple[str, str]:
    """``~1items~1{id}/GET`` or ``items/{id}/GET`` or ``*/*`` -> (``/items/{id}``, ``GET``)."""
    if key.strip("/") == "*/*":
        return "/*", "*"
    unescaped = key.replace("~1", "/")
    path, _, method = unescaped.rpartition("/")
    return "/" + path.strip("/"), method.upper()


def throttle_limits(method_settings: dict[str, dict[str, Any]], resource_path: str,
                    http_method: str) -> tuple[float, float] | None:
    """(rate, burst) for a method: its own setting, else its path's ``*``, else ``*/*``.

    A negative limit is API Gateway's "not set" and defers to the next, wider setting.
    """
    by_key = {_settings_key(key): value for key, value in method_settings.items()}
    for candidate in ((resource_path, http_method), (resource_path, "*"), ("/*", "*")):
        settings = by_key.get(candidate) or {}
        try:
            rate = float(settings.get("throttlingRateLimit", -1))
            burst = float(settings.get("throttlingBurstLimit", -1))
        except (TypeError, ValueError):
            continue
        if rate >= 0 and burst >= 0:
            return rate, burst
    return None


# -- Request validation ----------------------------------------------------------------------


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


_MODEL_REF = re.compile(r"^https://apigateway\.amazonaws\.com/restapis/[^/]+/models/(.+)$")


def resolve_model(snapshot: snapshots.ApiSnapshot, name: str, seen: tuple[str, ...] = ()
                  ) -> dict[str, Any] | None:
    """A model's schema with references to other models of the API inlined."""
    model = snapshot.models.get(name)
    if model is None or name in seen:
        return None
    try:
        schema = json.loads(model.schema) if isinstance(model.schema, str) else model.schema
    except ValueError:
        log.warning("model %s of API %s is not valid JSON", name, snapshot.api_id)
        return None

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            match = _MODEL_REF.match(ref) if isinstance(ref, str) else None
            if match:
                return resolve_model(snapshot, unquote(match.group(1)), (*seen, name)) or {}
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    return inline(schema or {})


_JSON_TYPES = {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer",
               float: "number", type(None): "null"}


def _q(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _validation_message(error: jsonschema.ValidationError) -> str:
    """Messages in the form API Gateway's validator (json-schema-validator) writes them."""
    kind, instance, expected = error.validator, error.instance, error.validator_value
    if kind == "type":
        allowed = expected if isinstance(expected, list) else [expected]
        return (f"instance type ({_JSON_TYPES.get(type(instance), 'unknown')}) does not match "
                f"any allowed primitive type (allowed: {_q(allowed)})")
    if kind == "minLength":
        return (f"string {_q(instance)} is too short (length: {len(instance)}, required "
                f"minimum: {expected})")
    if kind == "maxLength":
        return (f"string {_q(instance)} is too long (length: {len(instance)}, maximum "
                f"allowed: {expected})")
    if kind == "enum":
        return (f"instance value ({_q(instance)}) not found in enum (possible values: "
                f"{_q(expected)})")
    if kind == "pattern":
        return f"ECMA 262 regex {_q(expected)} does not match input string {_q(instance)}"
    if kind == "minimum":
        return (f"numeric instance is lower than the required minimum (minimum: {expected}, "
                f"found: {instance})")
    if kind == "maximum":
        return (f"numeric instance is greater than the required maximum (maximum: {expected}, "
                f"found: {instance})")
    if kind == "additionalProperties":
        extra = sorted(set(instance) - set(error.schema.get("properties", {})))
        return f"object instance has properties which are not allowed by the schema: {_q(extra)}"
    return error.message


def body_validation_errors(schema: dict[str, Any], body: str) -> list[str]:
    """Why a body fails its model (empty list when it is valid)."""
    try:
        instance = json.loads(body) if body.strip() else {}
    except ValueError as exc:
        return [f"Invalid JSON: {exc}"]
    validator = jsonschema.Draft4Validator(schema)
    missing: dict[tuple[Any, ...], list[str]] = {}
    messages: list[str] = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path)):
        if error.validator == "required":
            present = error.instance if isinstance(error.instance, dict) else {}
            names = [n for n in error.validator_value if n not in present]
            missing.setdefault(tuple(error.absolute_path), []).extend(names)
        else:
            messages.append(_validation_message(error))
    for names in missing.values():
        messages.insert(0, f"object has missing required properties ({_q(sorted(set(names)))})")
    return messages


def validate_request(snapshot: snapshots.ApiSnapshot, method: Any,
                     request: MethodRequest) -> None:
    """Raise the gateway error the method's request validator answers, if any."""
    validator = snapshot.request_validators.get(method.request_validator_id or "")
    if validator is None:
        return
    if _truthy(validator.validate_request_parameters):
        missing = []
        for key, required in sorted((method.request_parameters or {}).items()):
            if not _truthy(required):
                continue
            location, _, name = key.removeprefix("method.request.").partition(".")
            present = {
                "querystring": name in request.query,
                "multivaluequerystring": name in request.query,
                "header": name in request.headers,
                "multivalueheader": name in request.headers,
                "path": bool(request.path_params.get(name)),
            }.get(location, True)
            if not present:
                missing.append(name)
        if missing:
            raise GatewayError("BAD_REQUEST_PARAMETERS",
                               f"Missing required request parameters: [{', '.join(missing)}]")
    if _truthy(validator.validate_request_body):
        models = method.request_models or {}
        name = models.get(request.content_type) or models.get("$default")
        schema = resolve_model(snapshot, name) if name else None
        if schema is None:
            return
        errors = body_validation_errors(schema, request.body_text)
        if errors:
            detail = "[" + ", ".join(errors) + "]"
            raise GatewayError("BAD_REQUEST_BODY", "Invalid request body",
                               validation_error=json.dumps(detail)[1:-1])


# -- Access logs -----------------------------------------------------------------------------

_CONTEXT_REFERENCE = re.compile(r"\$context\.([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)")


def access_log_line(log_format: str, context: dict[str, Any]) -> str:
    """Substitute ``$context.*`` in an access log format; unknown or empty values are ``-``."""

    def value_of(match: re.Match[str]) -> str:
        value: Any = context
        for part in match.group(1).split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is None or value == "":
            return "-"
        if isinstance(value, dict | list):
            return json.dumps(value, separators=(",", ":"))
        return str(value)

    return _CONTEXT_REFERENCE.sub(value_of, log_format)


def _log_group_name(arn: str) -> tuple[str, str] | None:
    """(region, log group name) from ``arn:aws:logs:{region}:{account}:log-group:{name}[:*]``."""
    parts = arn.split(":", 6)
    if len(parts) < 7 or parts[2] != "logs" or parts[5] != "log-group":
        return None
    return parts[3], parts[6].removesuffix(":*")


# -- The gateway -----------------------------------------------------------------------------


class Gateway:
    """Executes REST API methods for the HTTP front and the edge."""

    def __init__(self, runtime_: runtime.Runtime, moto_app: Any) -> None:
        self.runtime = runtime_
        self.invoker = integrations.Invoker(moto_app)
        self.throttler = Throttler()
        runtime_.on_reset(self.throttler.clear)

    # Entry points ---------------------------------------------------------------------------

    def handle_execute_api(self, environ: dict[str, Any], start_response: Any, api_id: str,
                           region: str) -> Any:
        raw_path = _raw_path(environ)
        stage, _, rest = raw_path.lstrip("/").partition("/")
        target = Target(region=region, api_id=api_id, stage_name=unquote(stage) or None,
                        rest_path="/" + rest)
        return self._serve(environ, start_response, target)

    def handle_custom_domain(self, environ: dict[str, Any], start_response: Any,
                             domain_name: str, region: str) -> Any:
        """A request for an API Gateway custom domain in ``region``: the base path mapping
        picks the API and stage (``(none)`` maps every path; a base path is stripped)."""
        raw_path = _raw_path(environ)
        target = self._map_base_path(domain_name.lower().rstrip("."), region, raw_path)
        if target is None:
            return self._forbidden(environ, start_response)
        return self._serve(environ, start_response, target)

    # Lookups ----------------------------------------------------------------------------------

    def _map_base_path(self, domain_name: str, region: str, raw_path: str) -> Target | None:
        segments = [s for s in raw_path.split("/") if s]
        with runtime.LOCK:
            for account_id, backend_region, backend in runtime.regional_backends(
                    apigateway_backends):
                if backend_region != region:
                    continue
                names = {name.lower(): name for name in backend.domain_names}
                if domain_name not in names:
                    continue
                mappings = dict(backend.base_path_mappings.get(names[domain_name]) or {})
                first = unquote(segments[0]) if segments else None
                mapping, rest = None, segments
                if first is not None and first in mappings and first != NONE_BASE_PATH:
                    mapping, rest = mappings[first], segments[1:]
                elif NONE_BASE_PATH in mappings:
                    mapping = mappings[NONE_BASE_PATH]
                if mapping is None:
                    return None
                stage = mapping.stage
                if not stage:  # no stage in the mapping: the next path part names it
                    if not rest:
                        return None
                    stage, rest = unquote(rest[0]), rest[1:]
                domain = backend.domain_names[names[domain_name]]
                return Target(region=region, api_id=mapping.rest_api_id, stage_name=stage,
                              rest_path="/" + "/".join(rest), account_id=account_id,
                              via_execute_api=False,
                              domain_endpoint_types=tuple(control.endpoint_types(domain)))
        return None

    def _load_stage(self, target: Target) -> StageView | None:
        if not target.api_id or not target.stage_name:
            return None
        with runtime.LOCK:
            for account_id, region, backend in runtime.regional_backends(apigateway_backends):
                if region != target.region:
                    continue
                if target.account_id and account_id != target.account_id:
                    continue
                api = backend.apis.get(target.api_id)
                if api is None:
                    continue
                stage = api.stages.get(target.stage_name)
                if stage is None:
                    return None
                snapshot = snapshots.snapshot_of(api, stage.deployment_id)
                if snapshot is None:
                    log.warning("stage %s of API %s points at no deployment (%r)",
                                target.stage_name, api.id, stage.deployment_id)
                    return None
                return StageView(
                    account_id=account_id, region=region, api_id=api.id,
                    stage_name=target.stage_name, snapshot=snapshot,
                    variables=dict(stage.variables or {}),
                    method_settings=copy.deepcopy(stage.method_settings or {}),
                    access_log=dict(stage.access_log_settings or {}),
                    execute_api_disabled=bool(getattr(api, "disableExecuteApiEndpoint", False)),
                    edge_fronted="EDGE" in (target.domain_endpoint_types
                                            or control.endpoint_types(api)),
                )
        return None

    # The request ------------------------------------------------------------------------------

    def _serve(self, environ: dict[str, Any], start_response: Any, target: Target) -> Any:
        started = time.time()
        request = Request(environ)
        too_big = _check_headers(environ)
        if too_big is not None:
            return too_big(environ, start_response)
        body, oversized = _read_body(environ, request)
        view = self._load_stage(target)
        if oversized and (view is None or view.edge_fronted):
            return _too_large()(environ, start_response)
        if view is None or (target.via_execute_api and view.execute_api_disabled):
            return self._forbidden(environ, start_response)
        method_request = MethodRequest(
            http_method=request.method.upper(), path=target.rest_path, headers=request.headers,
            query=request.args, body=body)
        invocation = Invocation(
            account_id=view.account_id, region=view.region, api_id=view.api_id,
            stage=view.stage_name, resource_path="", request=method_request,
            context=self._context(environ, request, view, started),
            stage_variables=view.variables)
        integration_started = None
        try:
            if oversized:
                raise GatewayError("REQUEST_TOO_LARGE", "Request Too Long")
            method = self._route(view, invocation, target.rest_path)
            self._throttle(view, invocation)
            validate_request(view.snapshot, method, method_request)
            integration = method.method_integration
            if integration is None:
                raise integrations.configuration_error("the method has no integration")
            integration_request = integrations.build_integration_request(integration, invocation)
            if (integration.integration_type == "AWS_PROXY"
                    and len(integration_request.body) > LAMBDA_PAYLOAD_LIMIT):
                raise GatewayError("REQUEST_TOO_LARGE", "Request Too Long")
            integration_started = time.time()
            endpoint = self.invoker.invoke(integration, invocation, integration_request)
            self._record_integration(invocation, integration_started, endpoint.status)
            if integration.integration_type in ("AWS_PROXY", "HTTP_PROXY"):
                response = integrations.proxy_method_response(endpoint)
            else:
                response = integrations.build_method_response(integration, invocation, endpoint)
        except GatewayError as error:
            if integration_started is not None and invocation.context["integrationLatency"] is None:
                self._record_integration(invocation, integration_started, None)
            response = self._gateway_response(error, view.snapshot, invocation)
        except Exception as exc:  # a bug here must still answer like API Gateway
            log.exception("API %s stage %s: unexpected failure", view.api_id, view.stage_name)
            response = self._gateway_response(
                integrations.configuration_error(f"{type(exc).__name__}: {exc}"),
                view.snapshot, invocation)
        self._finish(invocation, response, started)
        self._write_access_log(view, invocation)
        return self._send(environ, start_response, response, invocation.context)

    def _context(self, environ: dict[str, Any], request: Request, view: StageView,
                 started: float) -> dict[str, Any]:
        """``$context`` for templates, mappings and access logs."""
        host = (request.host or "").rsplit(":", 1)[0] if request.host else ""
        request_id = str(uuid.uuid4())
        return {
            "accountId": view.account_id,
            "apiId": view.api_id,
            "domainName": host,
            "domainPrefix": host.split(".", 1)[0] if host else "",
            "extendedRequestId": _extended_request_id(),
            "httpMethod": request.method.upper(),
            "identity": {
                "sourceIp": _source_ip(environ),
                "userAgent": request.headers.get("User-Agent"),
                "accountId": None, "apiKey": None, "apiKeyId": None, "caller": None,
                "user": None, "userArn": None, "accessKey": None,
                "cognitoAuthenticationProvider": None, "cognitoAuthenticationType": None,
                "cognitoIdentityId": None, "cognitoIdentityPoolId": None,
            },
            "path": _raw_path(environ),
            "protocol": environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
            "requestId": request_id,
            "requestTime": datetime.fromtimestamp(started, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(started * 1000),
            "resourceId": None,
            "resourcePath": None,
            "stage": view.stage_name,
            "error": {"message": None, "messageString": None, "responseType": None,
                      "validationErrorString": None},
            "authorizer": {},
            "requestOverride": {"header": {}, "querystring": {}, "path": {}},
            "responseOverride": {"status": None, "header": {}},
            "integration": {"status": None, "latency": None, "error": None,
                            "integrationStatus": None},
            "integrationStatus": None,
            "integrationLatency": None,
            "status": None,
            "responseLength": None,
            "responseLatency": None,
        }

    def _route(self, view: StageView, invocation: Invocation, rest_path: str) -> Any:
        snapshot = view.snapshot
        found = match_resource(snapshot, _segments(rest_path))
        if found is None:
            raise GatewayError("MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token")
        resource_id, params = found
        methods = snapshot.resources[resource_id].resource_methods
        method = methods.get(invocation.request.http_method) or methods.get("ANY")
        if method is None:
            raise GatewayError("MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token")
        invocation.request.path_params = params
        invocation.resource_path = snapshot.paths[resource_id]
        invocation.context["resourceId"] = resource_id
        invocation.context["resourcePath"] = invocation.resource_path
        return method

    def _throttle(self, view: StageView, invocation: Invocation) -> None:
        http_method = invocation.request.http_method
        limits = throttle_limits(view.method_settings, invocation.resource_path, http_method)
        if limits is None:
            return
        key = (view.account_id, view.region, view.api_id, view.stage_name,
               invocation.resource_path, http_method)
        if not self.throttler.allow(key, *limits):
            raise GatewayError("THROTTLED", "Too Many Requests")

    @staticmethod
    def _record_integration(invocation: Invocation, started: float, status: int | None) -> None:
        latency = int((time.time() - started) * 1000)
        context = invocation.context
        context["integrationLatency"] = latency
        context["integrationStatus"] = status
        context["integration"].update(status=status, latency=latency, integrationStatus=status)

    # Gateway responses ------------------------------------------------------------------------

    def _gateway_response(self, error: GatewayError, snapshot: snapshots.ApiSnapshot,
                          invocation: Invocation) -> MethodResponse:
        """Render an error through the API's gateway responses, as AWS does."""
        if error.detail:
            log.warning("API %s stage %s %s %s: %s", invocation.api_id, invocation.stage,
                        invocation.request.http_method, invocation.request.path, error.detail)
        response_type = error.response_type
        default_status, error_type = RESPONSE_TYPES.get(response_type, (500, "InternalServerError"))
        status = error.status or default_status or 500
        family = "DEFAULT_5XX" if status >= 500 else "DEFAULT_4XX"
        if response_type.startswith("DEFAULT_"):
            error_type = RESPONSE_TYPES[family][1]
        # AWS answers REQUEST_TOO_LARGE with its default whatever the API customised.
        customisable = response_type not in UNCUSTOMISABLE_RESPONSE_TYPES
        own = snapshot.gateway_responses.get(response_type) if customisable else None
        family_response = snapshot.gateway_responses.get(family) if customisable else None
        configured = own or family_response
        # DEFAULT_4XX/5XX's status applies to every type of its family that sets none itself.
        for candidate in (family_response, own):
            if candidate is not None and candidate.status_code not in (None, ""):
                status = int(candidate.status_code)
        context = invocation.context
        context["error"].update(
            message=error.message, messageString=json.dumps(error.message),
            responseType=response_type, validationErrorString=error.validation_error or None)
        parameters = (configured.response_parameters if configured is not None else None) or {}
        templates = (configured.response_templates if configured is not None else None) or {}
        if not templates:
            templates = {"application/json": DEFAULT_TEMPLATE}
        headers = Headers()
        for target, expression in parameters.items():
            if target.startswith("gatewayresponse.header."):
                value = integrations.request_source(str(expression), invocation)
                if value is not None:
                    headers[target[len("gatewayresponse.header."):]] = value
        content_type, template = _pick_template(
            templates, invocation.request.headers.get("Accept", ""))
        namespace = vtl.namespace(
            body="", params=invocation.request.template_params(), context=context,
            stage_variables=invocation.stage_variables)
        try:
            body = vtl.render(template or "", namespace).encode()
        except (vtl.TemplateFailed, vtl.BodyNotJson) as exc:
            log.warning("gateway response %s template failed: %s", response_type, exc)
            body = json.dumps({"message": error.message}).encode()
        if "Content-Type" not in headers:
            headers["Content-Type"] = content_type
        headers["x-amzn-ErrorType"] = error_type
        return MethodResponse(status=status, headers=headers, body=body)

    # Finishing --------------------------------------------------------------------------------

    @staticmethod
    def _finish(invocation: Invocation, response: MethodResponse, started: float) -> None:
        context = invocation.context
        context["status"] = response.status
        context["responseLength"] = len(response.body)
        context["responseLatency"] = int((time.time() - started) * 1000)

    def _write_access_log(self, view: StageView, invocation: Invocation) -> None:
        destination = view.access_log.get("destinationArn")
        log_format = view.access_log.get("format")
        if not destination or not log_format:
            return
        located = _log_group_name(destination)
        if located is None:
            log.warning("stage %s: access log destination %s is not a log group ARN",
                        view.stage_name, destination)
            return
        region, group = located
        line = access_log_line(log_format, invocation.context)
        stream = hashlib.md5(f"{view.api_id}/{view.stage_name}".encode()).hexdigest()
        from moto.logs.models import logs_backends

        with runtime.LOCK:
            backend = logs_backends[view.account_id][region]
            if group not in backend.groups:
                log.warning("stage %s: access log group %s does not exist; line dropped",
                            view.stage_name, group)
                return
            backend.ensure_log_stream(group, stream)
            backend.put_log_events(group, stream, [
                {"timestamp": int(time.time() * 1000), "message": line}])

    @staticmethod
    def _send(environ: dict[str, Any], start_response: Any, response: MethodResponse,
              context: dict[str, Any]) -> Any:
        headers = Headers(response.headers)
        headers["x-amzn-RequestId"] = context["requestId"]
        headers["x-amz-apigw-id"] = context["extendedRequestId"]
        headers["Content-Length"] = str(len(response.body))
        result = Response(response.body, status=status_line(response.status), headers=headers)
        result.automatically_set_content_length = False
        return result(environ, start_response)

    @staticmethod
    def _forbidden(environ: dict[str, Any], start_response: Any) -> Any:
        """No such API, stage or mapping: API Gateway's fixed answer."""
        response = Response(
            '{"message":"Forbidden"}', status=status_line(403), mimetype="application/json",
            headers={"x-amzn-RequestId": str(uuid.uuid4()),
                     "x-amzn-ErrorType": "ForbiddenException",
                     "x-amz-apigw-id": _extended_request_id()})
        return response(environ, start_response)


def _extended_request_id() -> str:
    """An id shaped like API Gateway's ``x-amz-apigw-id`` (14 base64 characters and '=')."""
    return base64.b64encode(uuid.uuid4().bytes[:10]).decode()[:14] + "="


def _pick_template(templates: dict[str, Any], accept: str) -> tuple[str, str]:
    for candidate in [a.split(";", 1)[0].strip().lower() for a in accept.split(",")]:
        for key, value in templates.items():
            if key.lower() == candidate:
                return key, value or ""
    if "application/json" in templates:
        return "application/json", templates["application/json"] or ""
    key = next(iter(templates))
    return key, templates[key] or ""


def _raw_path(environ: dict[str, Any]) -> str:
    """The path as the client sent it (percent-encoded), so ``%2F`` stays inside a part."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        if "://" in raw:  # absolute-form request target
            raw = "/" + raw.split("://", 1)[1].partition("/")[2]
        return raw.split("?", 1)[0] or "/"
    from urllib.parse import quote

    return quote(environ.get("PATH_INFO", "") or "/")


def _source_ip(environ: dict[str, Any]) -> str:
    """The connection's peer, as API Gateway reports it (X-Forwarded-For is not trusted)."""
    return environ.get("REMOTE_ADDR", "")


def _check_headers(environ: dict[str, Any]) -> Response | None:
    """AWS's front-end header limit, checked before anything else."""
    header_bytes = len(environ.get("REQUEST_METHOD", "")) + len(_raw_path(environ)) + 10
    for key, value in environ.items():
        if key.startswith("HTTP_") or key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            header_bytes += len(key) + len(str(value))
    if header_bytes > MAX_HEADER_BYTES:
        return Response(f"HTTP header is larger than {MAX_HEADER_BYTES} bytes.",
                        status=status_line(431),
                        content_type="text; charset=utf-8")
    return None


def _read_body(environ: dict[str, Any], request: Request) -> tuple[bytes, bool]:
    """(body, whether it is over the payload limit); an announced oversized body is read
    and dropped unbuffered, so the connection stays usable."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        _drain(environ, length)
        return b"", True
    body = request.get_data(cache=False)
    if len(body) > MAX_BODY_BYTES:  # a chunked body has no Content-Length to check first
        return b"", True
    return body, False


def _too_large() -> Response:
    return Response(f"HTTP content length exceeded {MAX_BODY_BYTES} bytes.",
                    status=status_line(413),
                    content_type="text; charset=utf-8")


def _drain(environ: dict[str, Any], length: int) -> None:
    """Read a refused body so the connection stays usable."""
    stream = environ.get("wsgi.input")
    remaining = length
    while stream is not None and remaining > 0:
        chunk = stream.read(min(remaining, 1 << 20))
        if not chunk:
            break
        remaining -= len(chunk)
