"""The integration step of a REST API method: request mapping, the backend call, response mapping.

Everything is read from moto's ``Integration`` objects as the deployment snapshot froze them:
``integration_type``, ``uri``, ``http_method``, ``credentials``, ``request_parameters``,
``request_templates``, ``passthrough_behaviour`` (moto's spelling), ``timeout_in_millis`` and
``integration_responses[status]`` (``selection_pattern``, ``response_parameters``,
``response_templates``).

Integration types:

- ``MOCK``: the rendered request template's ``statusCode`` is the endpoint status.
- ``AWS``: a call to the service named by ``arn:aws:apigateway:{region}:{service}:path/...`` or
  ``...:action/{Action}``, made in-process through moto's WSGI app with a request shaped like
  the SDK's (SigV4 credential scope naming region and service, X-Amz-Target/Content-Type for
  JSON-protocol actions, Action/Version for query-protocol actions). The service's own status
  and body are the endpoint response, so a failed PutEvents, a missing queue or a body the
  service cannot deserialize (``SerializationException``, ``json_protocol.py``) shows up as
  the service's 4xx, selected by the integration responses as on AWS.
- ``AWS_PROXY``: Lambda (``lambda:path/2015-03-31/functions/{arn}/invocations``) with the
  REST API proxy event (payload format 1.0), through moto's Invoke.
- ``HTTP`` / ``HTTP_PROXY``: a real HTTP request with the integration's timeout.

Known deviations: IAM permissions of the integration's role are not evaluated (the role must
exist and trust ``apigateway.amazonaws.com``); Lambda resource policies are not checked for
AWS_PROXY; binary media types and ``contentHandling`` conversions are not applied (bodies pass
as UTF-8 text, binary proxy bodies as base64 with ``isBase64Encoded``).
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import botocore.session
from botocore.exceptions import UnknownServiceError
from werkzeug.datastructures import Headers, MultiDict
from werkzeug.test import EnvironBuilder, run_wsgi_app

from .. import runtime
from . import vtl

log = logging.getLogger("localcloud.apigateway")

DEFAULT_TIMEOUT_MS = 29_000
AWS_URI = re.compile(
    r"^arn:aws[a-z-]*:apigateway:(?P<region>[a-z0-9-]+):(?P<service>[A-Za-z0-9.-]+):"
    r"(?P<kind>path|action)/(?P<rest>.*)$"
)
LAMBDA_INVOKE_PATH = re.compile(r"^/?2015-03-31/functions/(?P<function>.+)/invocations/?$")
# Headers a proxy integration never forwards (hop-by-hop, or set by the HTTP client itself).
HOP_BY_HOP = frozenset({
    "host", "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
    "trailer", "transfer-encoding", "upgrade", "content-length",
})
# Endpoint prefixes in integration URIs whose botocore model has another name.
SERVICE_MODEL_ALIASES = {
    "states": "stepfunctions",
    "monitoring": "cloudwatch",
    "email": "ses",
    "elasticloadbalancing": "elbv2",
    "execute-api": "apigateway",
}


class GatewayError(Exception):
    """An error API Gateway itself answers, rendered through the API's gateway responses.

    ``response_type`` is the gateway response type (``BAD_REQUEST_BODY``, ...); ``status``
    overrides the type's default status (AWS does so for e.g. Lambda proxy errors: 502).
    """

    def __init__(self, response_type: str, message: str, status: int | None = None,
                 detail: str = "", validation_error: str = "") -> None:
        super().__init__(message)
        self.response_type = response_type
        self.message = message
        self.status = status
        self.detail = detail
        self.validation_error = validation_error


def configuration_error(detail: str) -> GatewayError:
    """AWS's answer to an API it cannot execute: 500 ``Internal server error``."""
    return GatewayError("API_CONFIGURATION_ERROR", "Internal server error",
                        detail=f"Execution failed due to configuration error: {detail}")


@dataclass
class MethodRequest:
    """What the client sent, after routing."""

    http_method: str
    path: str  # the path after the stage (or after the base path of a custom domain)
    headers: Headers
    query: MultiDict
    body: bytes
    path_params: dict[str, str] = field(default_factory=dict)

    @property
    def body_text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @property
    def content_type(self) -> str:
        raw = self.headers.get("Content-Type", "")
        return raw.split(";", 1)[0].strip().lower() or "application/json"

    def template_params(self) -> dict[str, dict[str, str]]:
        """``$input.params()``: the last value of each query parameter and header."""
        return {
            "path": dict(self.path_params),
            "querystring": {key: self.query.getlist(key)[-1] for key in self.query},
            "header": {key: value for key, value in self.headers.items()},
        }


@dataclass
class Invocation:
    """One execution of a method: where it runs and what templates see."""

    account_id: str
    region: str
    api_id: str
    stage: str
    resource_path: str
    request: MethodRequest
    context: dict[str, Any]  # $context, shared by every template of this invocation
    stage_variables: dict[str, str]


@dataclass
class IntegrationRequest:
    method: str
    uri: str
    headers: dict[str, str]
    query: dict[str, list[str]]
    path: dict[str, str]
    body: bytes


@dataclass
class EndpointResponse:
    status: int
    headers: Headers
    body: bytes
    lambda_error: str | None = None  # errorMessage of a failed Lambda (AWS integration)

    @property
    def body_text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


@dataclass
class MethodResponse:
    status: int
    headers: Headers
    body: bytes


# -- Parameter mapping -----------------------------------------------------------------------


def _static(expression: str) -> str | None:
    if len(expression) >= 2 and expression.startswith("'") and expression.endswith("'"):
        return expression[1:-1]
    return None


def _dotted(mapping: Any, dotted: str) -> Any:
    value = mapping
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(vtl.to_plain(value), separators=(",", ":"))


def _body_path(body: str, path: str) -> str | None:
    try:
        document = json.loads(body) if body.strip() else {}
    except ValueError:
        return None
    return _json_text(vtl.jsonpath_value(document, "$." + path))


def _common_source(expression: str, invocation: Invocation) -> tuple[bool, str | None]:
    static = _static(expression)
    if static is not None:
        return True, static
    if expression.startswith("context."):
        return True, _json_text(_dotted(invocation.context, expression[len("context."):]))
    if expression.startswith("stageVariables."):
        return True, invocation.stage_variables.get(expression[len("stageVariables."):])
    return False, None


def request_source(expression: str, invocation: Invocation) -> str | None:
    """The value of a ``method.request.*`` / ``context.*`` / ``'static'`` expression."""
    handled, value = _common_source(expression, invocation)
    if handled:
        return value
    request = invocation.request
    if not expression.startswith("method.request."):
        return None
    rest = expression[len("method.request."):]
    if rest == "body":
        return request.body_text
    if rest.startswith("body."):
        return _body_path(request.body_text, rest[len("body."):])
    kind, _, name = rest.partition(".")
    if kind == "header":
        values = request.headers.getlist(name)
        return values[-1] if values else None
    if kind == "multivalueheader":
        values = request.headers.getlist(name)
        return ",".join(values) if values else None
    if kind == "querystring":
        values = request.query.getlist(name)
        return values[-1] if values else None
    if kind == "multivaluequerystring":
        values = request.query.getlist(name)
        return ",".join(values) if values else None
    if kind == "path":
        return request.path_params.get(name)
    return None


def response_source(expression: str, invocation: Invocation,
                    endpoint: EndpointResponse) -> str | None:
    """The value of an ``integration.response.*`` / ``context.*`` / ``'static'`` expression."""
    handled, value = _common_source(expression, invocation)
    if handled:
        return value
    if not expression.startswith("integration.response."):
        return None
    rest = expression[len("integration.response."):]
    if rest == "body":
        return endpoint.body_text
    if rest.startswith("body."):
        return _body_path(endpoint.body_text, rest[len("body."):])
    kind, _, name = rest.partition(".")
    values = endpoint.headers.getlist(name)
    if kind == "header":
        return values[-1] if values else None
    if kind == "multivalueheader":
        return ",".join(values) if values else None
    return None


# -- Integration request ---------------------------------------------------------------------


def _request_template(integration: Any, content_type: str) -> str | None:
    """The request template for this content type, ``None`` to pass the body through, or
    415 as AWS answers under the integration's passthrough behaviour."""
    templates = integration.request_templates or {}
    behaviour = (getattr(integration, "passthrough_behaviour", None) or "WHEN_NO_MATCH").upper()
    for key, template in templates.items():
        if key.lower() == content_type:
            return template or ""
    if not templates and behaviour != "NEVER":
        return None
    if templates and behaviour == "WHEN_NO_MATCH":
        return None
    raise GatewayError("UNSUPPORTED_MEDIA_TYPE", "Unsupported Media Type")


def _substitute(uri: str, path: dict[str, str], stage_variables: dict[str, str]) -> str:
    """Fill ``${stageVariables.x}`` and ``{param}`` placeholders of an integration URI."""
    uri = re.sub(r"\$\{stageVariables\.([A-Za-z0-9_]+)\}",
                 lambda m: stage_variables.get(m.group(1), ""), uri)

    def replace(match: re.Match[str]) -> str:
        name = match.group(1).rstrip("+")
        if name not in path:
            return match.group(0)
        return quote(path[name], safe="/")  # a greedy parameter keeps its slashes

    return re.sub(r"\{([^}$]+)\}", replace, uri)


def build_integration_request(integration: Any, invocation: Invocation) -> IntegrationRequest:
    """Apply request parameter mappings, the request template and ``requestOverride``."""
    request = invocation.request
    kind = integration.integration_type
    headers: dict[str, str] = {}
    query: dict[str, list[str]] = {}
    path: dict[str, str] = {}
    if kind in ("HTTP_PROXY", "AWS_PROXY"):
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        query = {key: request.query.getlist(key) for key in request.query}
        path = dict(request.path_params)
    elif kind == "HTTP" and request.headers.get("Content-Type"):
        headers["Content-Type"] = request.headers["Content-Type"]
    if kind != "AWS_PROXY":
        for target, expression in (integration.request_parameters or {}).items():
            value = request_source(str(expression), invocation)
            if value is None:
                continue
            location, _, name = target.removeprefix("integration.request.").partition(".")
            if location == "header":
                headers[name] = value
            elif location == "querystring":
                query[name] = [value]
            elif location == "multivaluequerystring":
                query[name] = value.split(",")
            elif location == "path":
                path[name] = value
    body = request.body
    if kind not in ("HTTP_PROXY", "AWS_PROXY"):
        template = _request_template(integration, request.content_type)
        if template is not None:
            namespace = vtl.namespace(
                body=request.body_text, params=request.template_params(),
                context=invocation.context, stage_variables=invocation.stage_variables)
            try:
                body = vtl.render(template, namespace).encode()
            except vtl.BodyNotJson as exc:
                raise GatewayError("BAD_REQUEST_BODY", str(exc), status=400) from exc
            except vtl.TemplateFailed as exc:
                raise configuration_error(f"Unable to transform request: {exc}") from exc
            override = invocation.context.get("requestOverride", {})
            headers.update({k: str(v) for k, v in (override.get("header") or {}).items()})
            for name, value in (override.get("querystring") or {}).items():
                query[name] = [str(value)]
            path.update({k: str(v) for k, v in (override.get("path") or {}).items()})
    uri = _substitute(integration.uri or "", path, invocation.stage_variables)
    method = (integration.http_method or request.http_method).upper()
    if method == "ANY":
        method = request.http_method
    return IntegrationRequest(method=method, uri=uri, headers=headers, query=query, path=path,
                              body=body)


# -- Calling the backend ---------------------------------------------------------------------


def _with_timeout(call: Callable[[], EndpointResponse], timeout_s: float) -> EndpointResponse:
    """Run ``call`` and give up after API Gateway's integration timeout (504)."""
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:  # re-raised in the caller's thread
            outcome["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name="apigateway-integration", daemon=True).start()
    if not done.wait(timeout_s):
        raise GatewayError("INTEGRATION_TIMEOUT", "Endpoint request timed out")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


class ServiceModels:
    """botocore service metadata by the endpoint prefix an integration URI names."""

    def __init__(self) -> None:
        self._session = botocore.session.get_session()
        self._by_prefix: dict[str, Any] = {}
        self._lock = threading.Lock()

    def get(self, prefix: str) -> Any | None:
        with self._lock:
            if prefix not in self._by_prefix:
                self._by_prefix[prefix] = self._find(prefix)
            return self._by_prefix[prefix]

    def _find(self, prefix: str) -> Any | None:
        candidate = SERVICE_MODEL_ALIASES.get(prefix, prefix)
        try:
            model = self._session.get_service_model(candidate)
            if model.metadata.get("endpointPrefix") == prefix or candidate != prefix:
                return model
        except UnknownServiceError:
            pass
        for name in self._session.get_available_services():
            model = self._session.get_service_model(name)
            if model.metadata.get("endpointPrefix") == prefix:
                return model
        return None


class Invoker:
    """Calls the backend of an integration and returns what the endpoint answered."""

    def __init__(self, moto_app: Any) -> None:
        # AWS integrations pass a client's body on as it came; a malformed one gets the
        # service's 400 SerializationException (localcloud/json_protocol.py, installed by the
        # server), not a local crash.
        self.moto = moto_app
        self.models = ServiceModels()

    def invoke(self, integration: Any, invocation: Invocation,
               request: IntegrationRequest) -> EndpointResponse:
        kind = integration.integration_type
        if kind == "MOCK":
            return self._mock(request)
        timeout_s = _timeout_seconds(integration)
        if kind == "AWS":
            self._check_credentials(integration, invocation)
            return _with_timeout(lambda: self._aws(request, invocation), timeout_s)
        if kind == "AWS_PROXY":
            return _with_timeout(lambda: self._lambda_proxy(integration, request, invocation),
                                 timeout_s)
        if kind in ("HTTP", "HTTP_PROXY"):
            return self._http(request, timeout_s)
        raise configuration_error(f"integration type {kind} is not supported by the local cloud")

    # MOCK ---------------------------------------------------------------------------------

    @staticmethod
    def _mock(request: IntegrationRequest) -> EndpointResponse:
        try:
            status = json.loads(request.body or b"{}").get("statusCode")
        except (ValueError, AttributeError):
            status = None
        if isinstance(status, str) and status.isdigit():
            status = int(status)
        if not isinstance(status, int) or isinstance(status, bool):
            raise configuration_error(
                "Unable to parse statusCode. It should be an integer that is defined in the "
                "request template.")
        return EndpointResponse(status=status, headers=Headers(), body=b"")

    # AWS service integrations -------------------------------------------------------------

    def _check_credentials(self, integration: Any, invocation: Invocation) -> None:
        """The integration's role must exist and let API Gateway assume it, as on AWS."""
        role_arn = integration.credentials
        if not role_arn or role_arn.startswith("arn:aws:iam::*:user/"):
            return
        from moto.iam.models import iam_backends

        with runtime.LOCK:
            try:
                role = iam_backends[invocation.account_id]["aws"].get_role_by_arn(role_arn)
                trust = role.assume_role_policy_document
            except Exception:
                role, trust = None, None
        if role is None:
            raise configuration_error(f"Invalid permissions: role {role_arn} does not exist")
        if not trusts_apigateway(trust):
            raise configuration_error(
                f"API Gateway does not have permission to assume the provided role {role_arn}")

    def _aws(self, request: IntegrationRequest, invocation: Invocation) -> EndpointResponse:
        match = AWS_URI.match(request.uri)
        if not match:
            raise configuration_error(f"Invalid integration URI {request.uri}")
        prefix, kind, rest = match["service"], match["kind"], match["rest"]
        model = self.models.get(prefix)
        metadata = model.metadata if model is not None else {}
        signing_name = metadata.get("signingName") or metadata.get("endpointPrefix") or prefix
        headers = dict(request.headers)
        query = {k: list(v) for k, v in request.query.items()}
        if kind == "path":
            path = rest if rest.startswith("/") else "/" + rest
        else:
            path = "/"
            protocol = metadata.get("protocol", "")
            if protocol == "query" or "awsQueryCompatible" in metadata:
                query["Action"] = [rest]
                query.setdefault("Version", [metadata.get("apiVersion", "")])
            elif protocol == "json":
                headers.setdefault("X-Amz-Target", f"{metadata.get('targetPrefix')}.{rest}")
            else:
                raise configuration_error(
                    f"action-style URIs are not supported for {prefix} ({protocol} protocol)")
        if metadata.get("protocol") == "json" and any(k.lower() == "x-amz-target"
                                                      for k in headers):
            # A JSON-protocol call without a mapped Content-Type gets the one the SDK sends.
            _set_default_header(headers, "Content-Type",
                                f"application/x-amz-json-{metadata.get('jsonVersion', '1.0')}")
        return self.call_moto(account_id=invocation.account_id, region=match["region"],
                              signing_name=signing_name, method=request.method, path=path,
                              query=query, headers=headers, body=request.body)

    def call_moto(self, *, account_id: str, region: str, signing_name: str, method: str,
                  path: str, query: dict[str, list[str]], headers: dict[str, str],
                  body: bytes) -> EndpointResponse:
        """One request to moto in-process, signed the way moto's dispatcher routes it."""
        headers = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}
        headers["Authorization"] = (
            f"AWS4-HMAC-SHA256 Credential=APIGATEWAYLOCAL/20200101/{region}/{signing_name}/"
            "aws4_request, SignedHeaders=host;x-amz-date, Signature=0")
        headers["X-Amz-Date"] = "20200101T000000Z"
        headers["x-moto-account-id"] = account_id
        headers.setdefault("Content-Type", "application/json")
        environ = EnvironBuilder(
            path=path, method=method, headers=list(headers.items()), data=body,
            query_string=urlencode(query, doseq=True),
            environ_base={"REMOTE_ADDR": "127.0.0.1"},
        ).get_environ()
        with runtime.LOCK:
            app_iter, status, response_headers = run_wsgi_app(self.moto, environ, buffered=True)
            try:
                payload = b"".join(app_iter)
            finally:
                getattr(app_iter, "close", lambda: None)()
        response = EndpointResponse(status=int(status.split()[0]),
                                    headers=Headers(response_headers), body=payload)
        if response.headers.get("X-Amz-Function-Error"):
            try:
                response.lambda_error = str(json.loads(payload).get("errorMessage", ""))
            except (ValueError, AttributeError):
                response.lambda_error = ""
        return response

    # Lambda proxy -------------------------------------------------------------------------

    def _lambda_proxy(self, integration: Any, request: IntegrationRequest,
                      invocation: Invocation) -> EndpointResponse:
        match = AWS_URI.match(request.uri)
        invoke = LAMBDA_INVOKE_PATH.match(match["rest"]) if match else None
        if not match or match["service"] != "lambda" or not invoke:
            raise configuration_error(f"AWS_PROXY needs a Lambda invocation URI: {request.uri}")
        event = proxy_event(invocation)
        headers = {"Content-Type": "application/json"}
        if integration.credentials:
            self._check_credentials(integration, invocation)
        answer = self.call_moto(
            account_id=invocation.account_id, region=match["region"], signing_name="lambda",
            method="POST", path="/2015-03-31/functions/" + invoke["function"] + "/invocations",
            query={}, headers=headers, body=json.dumps(event).encode())
        if answer.status == 404:
            raise configuration_error(f"Lambda function {invoke['function']} not found")
        if answer.status >= 300 or answer.lambda_error is not None:
            log.warning("Lambda proxy integration failed (%s): %s", answer.status,
                        answer.body_text[:500])
            raise GatewayError("DEFAULT_5XX", "Internal server error", status=502)
        return _parse_proxy_result(answer.body)

    # HTTP ---------------------------------------------------------------------------------

    @staticmethod
    def _http(request: IntegrationRequest, timeout_s: float) -> EndpointResponse:
        import requests

        try:
            answer = requests.request(
                request.method, request.uri, params=request.query, headers=request.headers,
                data=request.body, timeout=timeout_s, allow_redirects=False)
        except requests.Timeout as exc:
            raise GatewayError("INTEGRATION_TIMEOUT", "Endpoint request timed out") from exc
        except requests.RequestException as exc:
            raise GatewayError("INTEGRATION_FAILURE", "Internal server error",
                               detail=f"Execution failed: {exc}") from exc
        headers = Headers([(k, v) for k, v in answer.raw.headers.items()
                           if k.lower() not in HOP_BY_HOP and k.lower() != "content-encoding"])
        return EndpointResponse(status=answer.status_code, headers=headers, body=answer.content)


def _set_default_header(headers: dict[str, str], name: str, value: str) -> None:
    if not any(key.lower() == name.lower() for key in headers):
        headers[name] = value


def _timeout_seconds(integration: Any) -> float:
    try:
        millis = int(getattr(integration, "timeout_in_millis", None) or DEFAULT_TIMEOUT_MS)
    except (TypeError, ValueError):
        millis = DEFAULT_TIMEOUT_MS
    return max(millis, 50) / 1000


def trusts_apigateway(policy: Any) -> bool:
    """Whether a role's trust policy lets ``apigateway.amazonaws.com`` assume the role."""
    try:
        document = json.loads(policy) if isinstance(policy, str) else policy
    except ValueError:
        return False
    statements = (document or {}).get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        if statement.get("Effect") != "Allow":
            continue
        actions = statement.get("Action", [])
        actions = actions if isinstance(actions, list) else [actions]
        if not any(a in ("sts:AssumeRole", "sts:*", "*") for a in actions):
            continue
        principal = statement.get("Principal", {})
        if principal == "*":
            return True
        services = principal.get("Service", []) if isinstance(principal, dict) else []
        services = services if isinstance(services, list) else [services]
        if "apigateway.amazonaws.com" in services:
            return True
    return False


def proxy_event(invocation: Invocation) -> dict[str, Any]:
    """The Lambda proxy event (REST API payload format 1.0)."""
    request = invocation.request
    context = invocation.context
    try:
        body: str | None = request.body.decode("utf-8") if request.body else None
        is_base64 = False
    except UnicodeDecodeError:
        body, is_base64 = base64.b64encode(request.body).decode(), True
    multi_headers: dict[str, list[str]] = {}
    for key, value in request.headers.items():
        multi_headers.setdefault(key, []).append(value)
    multi_query = {key: request.query.getlist(key) for key in request.query}
    identity = dict(context.get("identity", {}))
    return {
        "resource": invocation.resource_path,
        "path": request.path,
        "httpMethod": request.http_method,
        "headers": {k: v[-1] for k, v in multi_headers.items()} or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": dict(request.path_params) or None,
        "stageVariables": dict(invocation.stage_variables) or None,
        "requestContext": {
            "resourceId": context.get("resourceId"),
            "resourcePath": invocation.resource_path,
            "httpMethod": request.http_method,
            "extendedRequestId": context.get("extendedRequestId"),
            "requestTime": context.get("requestTime"),
            "path": context.get("path"),
            "accountId": invocation.account_id,
            "protocol": context.get("protocol"),
            "stage": invocation.stage,
            "domainPrefix": context.get("domainPrefix"),
            "requestTimeEpoch": context.get("requestTimeEpoch"),
            "requestId": context.get("requestId"),
            "identity": identity,
            "domainName": context.get("domainName"),
            "apiId": invocation.api_id,
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }


def _parse_proxy_result(payload: bytes) -> EndpointResponse:
    """A Lambda proxy result, or 502 as AWS answers a malformed one."""
    try:
        result = json.loads(payload)
    except ValueError:
        result = None
    if not isinstance(result, dict):
        log.warning("Lambda proxy result is not a JSON object: %r", payload[:200])
        raise GatewayError("DEFAULT_5XX", "Internal server error", status=502)
    try:
        status = int(result.get("statusCode", 200))
    except (TypeError, ValueError):
        log.warning("Lambda proxy result has an invalid statusCode: %r", result.get("statusCode"))
        raise GatewayError("DEFAULT_5XX", "Internal server error", status=502) from None
    headers = Headers()
    for key, value in (result.get("headers") or {}).items():
        headers[key] = str(value)
    for key, values in (result.get("multiValueHeaders") or {}).items():
        if key in headers:
            del headers[key]
        for value in values or []:
            headers.add(key, str(value))
    body = result.get("body")
    if body is None:
        raw = b""
    elif result.get("isBase64Encoded"):
        raw = base64.b64decode(str(body))
    else:
        raw = (body if isinstance(body, str) else json.dumps(body)).encode()
    return EndpointResponse(status=status, headers=headers, body=raw)


# -- Integration response --------------------------------------------------------------------


def select_integration_response(integration: Any, endpoint: EndpointResponse) -> Any:
    """The integration response whose selectionPattern fully matches, else the default one.

    Lambda (AWS integration) errors are matched by their ``errorMessage``, everything else
    by the endpoint's status code, as API Gateway does.
    """
    responses = dict(integration.integration_responses or {})
    if integration.uri and ":lambda:path/" in integration.uri and endpoint.lambda_error is not None:
        selector = endpoint.lambda_error
    else:
        selector = str(endpoint.status)
    default = None
    for response in responses.values():
        pattern = response.selection_pattern
        if not pattern:
            default = default or response
            continue
        try:
            if re.fullmatch(pattern, selector, flags=re.DOTALL):
                return response
        except re.error:
            log.warning("invalid selectionPattern %r ignored", pattern)
    if default is None:
        raise configuration_error(
            "No match for output mapping and no default output mapping configured. "
            f"Endpoint Response Status Code: {endpoint.status}")
    return default


def _response_template(templates: dict[str, Any], accept: str) -> tuple[str, str] | None:
    """(content type, template) chosen by the client's Accept, else application/json, else
    the first one; ``None`` when there are no templates (the body passes through)."""
    usable = {key: value for key, value in (templates or {}).items()}
    if not usable:
        return None
    for candidate in [a.split(";", 1)[0].strip() for a in accept.split(",") if a.strip()]:
        for key, value in usable.items():
            if key.lower() == candidate.lower():
                return key, value or ""
    if "application/json" in usable:
        return "application/json", usable["application/json"] or ""
    key = next(iter(usable))
    return key, usable[key] or ""


def build_method_response(integration: Any, invocation: Invocation,
                          endpoint: EndpointResponse) -> MethodResponse:
    """Map the endpoint response to the method response (non-proxy integrations)."""
    chosen = select_integration_response(integration, endpoint)
    headers = Headers()
    for target, expression in (chosen.response_parameters or {}).items():
        if not target.startswith("method.response.header."):
            continue
        value = response_source(str(expression), invocation, endpoint)
        if value is not None:
            headers[target[len("method.response.header."):]] = value
    status = int(chosen.status_code)
    body = endpoint.body
    content_type = "application/json"
    selected = _response_template(chosen.response_templates,
                                  invocation.request.headers.get("Accept", ""))
    if selected is not None:
        content_type, template = selected
        namespace = vtl.namespace(
            body=endpoint.body_text, params=invocation.request.template_params(),
            context=invocation.context, stage_variables=invocation.stage_variables)
        try:
            body = vtl.render(template, namespace).encode() if template else b""
        except (vtl.TemplateFailed, vtl.BodyNotJson) as exc:
            raise configuration_error(f"Unable to transform response: {exc}") from exc
        override = invocation.context.get("responseOverride", {})
        override_status = override.get("status")
        try:
            if override_status is not None and 100 <= int(override_status) <= 599:
                status = int(override_status)
        except (TypeError, ValueError):
            pass
        for name, value in (override.get("header") or {}).items():
            headers[name] = str(value)
    if "Content-Type" not in headers:
        headers["Content-Type"] = content_type
    return MethodResponse(status=status, headers=headers, body=body)


def proxy_method_response(endpoint: EndpointResponse) -> MethodResponse:
    """HTTP_PROXY and AWS_PROXY answers pass through."""
    headers = Headers([(k, v) for k, v in endpoint.headers.items()
                       if k.lower() not in HOP_BY_HOP])
    if "Content-Type" not in headers:
        headers["Content-Type"] = "application/json"
    return MethodResponse(status=endpoint.status, headers=headers, body=endpoint.body)
