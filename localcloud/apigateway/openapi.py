"""Full-fidelity OpenAPI import into moto's API Gateway objects.

One importer backs CloudFormation ``AWS::ApiGateway::RestApi`` ``Body``/``BodyS3Location`` and
the ``import-rest-api`` / ``put-rest-api`` (``overwrite`` and ``merge``) actions. It reads
OpenAPI 3.x and Swagger 2.0 with API Gateway's extensions and writes everything into moto's
own objects through the backend's API methods, so ``get-method``, ``get-integration``,
``get-models`` & co. show it and the data plane reads it from the same place.

Where the definition lives (what the data plane reads):

- ``RestAPI.name`` / ``description`` (``info.title`` / ``info.description``),
  ``binaryMediaTypes`` (``x-amazon-apigateway-binary-media-types``), ``endpoint_configuration``
  (``{"types": [...]}``), ``api_key_source``, ``policy`` (JSON text), ``minimum_compression_size``.
- ``RestAPI.resources``: ``{resource_id: Resource}``; ``Resource.path_part``/``parent_id``,
  ``Resource.get_path()``; ``Resource.resource_methods``: ``{HTTP_METHOD or "ANY": Method}``.
- ``Method.request_parameters``: ``{"method.request.{querystring|header|path}.{name}": required}``;
  ``Method.request_models``: ``{content_type: model_name}`` (OpenAPI 3 ``requestBody``, Swagger 2
  ``in: body`` for each ``consumes`` type); ``Method.request_validator_id``: id of a
  ``RestAPI.request_validators`` entry (operation-level ``x-amazon-apigateway-request-validator``
  or the root default); ``Method.authorization_type`` (``NONE``, or ``AWS_IAM`` for a
  ``x-amazon-apigateway-authtype: awsSigv4`` scheme), ``Method.api_key_required``,
  ``Method.operation_name`` (``operationId``).
- ``Method.method_responses``: ``{status_code: MethodResponse}`` with ``response_parameters``
  ``{"method.response.header.{name}": required}`` and ``response_models`` ``{content_type: name}``.
- ``Method.method_integration``: ``Integration`` with ``integration_type`` (upper case),
  ``uri``, ``http_method``, ``credentials``, ``request_parameters``, ``request_templates``
  (``{content_type: template}``), ``passthrough_behaviour`` (moto's spelling; upper case,
  default ``WHEN_NO_MATCH``), ``timeout_in_millis`` (int, default 29000), ``content_handling``,
  ``cache_namespace``, ``cache_key_parameters``, ``connection_type``, ``tls_config`` and
  ``integration_responses``: ``{status_code: IntegrationResponse}`` with ``selection_pattern``
  (the ``responses`` key, ``None`` for ``default``), ``response_parameters``,
  ``response_templates``, ``content_handling``.
- ``RestAPI.models``: ``{name: Model}`` from ``components.schemas`` / ``definitions``;
  ``Model.schema`` is JSON text in draft 4 as API Gateway stores it (``$schema`` and ``title``
  added), with references between models in API Gateway's form
  ``https://apigateway.amazonaws.com/restapis/{restApiId}/models/{name}`` (resolve them against
  ``RestAPI.models``). An inline schema becomes a model named
  ``{Method}{PathWithoutPunctuation}{Request|Response{code}}Model``.
- ``RestAPI.request_validators``: ``{id: RequestValidator}`` with ``name``,
  ``validate_request_body``, ``validate_request_parameters``.
- ``RestAPI.gateway_responses``: ``{RESPONSE_TYPE: GatewayResponse}`` with ``status_code`` (text),
  ``response_parameters``, ``response_templates``.

Not imported (known gaps): authorizers (``x-amazon-apigateway-authorizer``), documentation
parts, ``basepath`` modes other than ``ignore``, VPC links; ``x-amazon-apigateway-*``
extensions not listed above are ignored, as API Gateway ignores unknown ones with a warning.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml
from moto.apigateway.exceptions import BadRequestException
from moto.apigateway.models import APIGatewayBackend, Resource, RestAPI

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
ANY_METHOD = "x-amazon-apigateway-any-method"
MODEL_URL = "https://apigateway.amazonaws.com/restapis/{api_id}/models/{name}"
DRAFT4 = "http://json-schema.org/draft-04/schema#"
DEFAULT_TIMEOUT_MILLIS = 29000
PARAMETER_LOCATIONS = {"query": "querystring", "header": "header", "path": "path"}


class InvalidDocument(BadRequestException):
    """The body is not an OpenAPI 3 / Swagger 2 document API Gateway can import."""


def load_document(body: str | bytes | dict[str, Any]) -> dict[str, Any]:
    """Parse a JSON or YAML OpenAPI document; raise API Gateway's BadRequestException."""
    if isinstance(body, dict):
        document = body
    else:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        try:
            document = json.loads(text)
        except ValueError:
            try:
                document = yaml.safe_load(text)
            except yaml.YAMLError as exc:
                raise InvalidDocument(f"Invalid OpenAPI input: {exc}") from exc
    if not isinstance(document, dict):
        raise InvalidDocument("Invalid OpenAPI input: the document is not an object.")
    version = str(document.get("openapi") or "")
    if not version.startswith("3") and str(document.get("swagger")) != "2.0":
        raise InvalidDocument(
            "Invalid OpenAPI input: only OpenAPI 3.x.x and Swagger 2.0 definitions are "
            "supported.")
    return document


def _validate(document: dict[str, Any]) -> None:
    from moto.apigateway.models import OpenAPIValidationError, validate

    try:
        validate(document)
    except OpenAPIValidationError as exc:
        raise InvalidDocument(
            f"Failed to parse the uploaded OpenAPI document due to: {exc.message}") from exc


def import_rest_api(backend: APIGatewayBackend, document: dict[str, Any], *,
                    fail_on_warnings: bool = False,
                    parameters: dict[str, str] | None = None) -> RestAPI:
    """ImportRestApi: a new API from the document."""
    if fail_on_warnings:
        _validate(document)
    info = document.get("info") or {}
    title = info.get("title")
    if not title:
        raise InvalidDocument("Invalid OpenAPI input: info.title is required.")
    types = (parameters or {}).get("endpointConfigurationTypes")
    endpoint_configuration = {"types": [t.strip().upper() for t in types.split(",")]} \
        if types else None
    api = backend.create_rest_api(name=title, description=info.get("description") or "",
                                  endpoint_configuration=endpoint_configuration)
    apply_document(backend, api, document, mode="overwrite")
    return api


def put_rest_api(backend: APIGatewayBackend, api_id: str, document: dict[str, Any], *,
                 mode: str = "merge", fail_on_warnings: bool = False) -> RestAPI:
    """PutRestApi: overwrite or merge the document into an existing API."""
    if mode not in ("merge", "overwrite"):
        raise BadRequestException(
            'Enumeration value of OpenAPI import mode must be "overwrite" or "merge"')
    api = backend.get_rest_api(api_id)
    if fail_on_warnings:
        _validate(document)
    apply_document(backend, api, document, mode=mode)
    return api


def apply_document(backend: APIGatewayBackend, api: RestAPI, document: dict[str, Any],
                   mode: str = "overwrite") -> None:
    """Write the document's definition into ``api`` (see the module docstring for where)."""
    _Importer(backend, api, document).run(mode)


class _Importer:
    def __init__(self, backend: APIGatewayBackend, api: RestAPI,
                 document: dict[str, Any]) -> None:
        self.backend = backend
        self.api = api
        self.doc = document
        self.is_v3 = str(document.get("openapi") or "").startswith("3")
        self.validator_ids: dict[str, str] = {}

    # -- entry ---------------------------------------------------------------------------

    def run(self, mode: str) -> None:
        if mode == "overwrite":
            self._clear()
        self._api_settings(mode)
        self._models()
        self._validators()
        self._gateway_responses()
        for path in sorted(self.doc.get("paths") or {}):
            item = self._deref(self.doc["paths"][path]) or {}
            resource = self._ensure_resource(path)
            for key, operation in item.items():
                if key in HTTP_METHODS or key == ANY_METHOD:
                    method = "ANY" if key == ANY_METHOD else key.upper()
                    self._method(resource, path, method, self._deref(operation) or {},
                                 item.get("parameters") or [])

    def _clear(self) -> None:
        root = self.api.resources[self.api.root_resource_id]
        root.resource_methods = {}
        self.api.resources = {root.id: root}
        self.api.default = root
        self.api.models.clear()
        self.api.request_validators.clear()
        self.api.gateway_responses.clear()

    def _api_settings(self, mode: str) -> None:
        info = self.doc.get("info") or {}
        if info.get("title"):
            self.api.name = info["title"]
        if "description" in info:
            self.api.description = info.get("description") or ""
        binary = self.doc.get("x-amazon-apigateway-binary-media-types")
        if binary is not None:
            self.api.binaryMediaTypes = list(binary)
        elif mode == "overwrite":
            self.api.binaryMediaTypes = []
        if self.doc.get("x-amazon-apigateway-api-key-source"):
            self.api.api_key_source = self.doc["x-amazon-apigateway-api-key-source"]
        policy = self.doc.get("x-amazon-apigateway-policy")
        if policy is not None:
            self.api.policy = policy if isinstance(policy, str) else json.dumps(policy)
        if self.doc.get("x-amazon-apigateway-minimum-compression-size") is not None:
            self.api.minimum_compression_size = int(
                self.doc["x-amazon-apigateway-minimum-compression-size"])
        endpoint = self.doc.get("x-amazon-apigateway-endpoint-configuration")
        for server in self.doc.get("servers") or []:
            endpoint = server.get("x-amazon-apigateway-endpoint-configuration") or endpoint
        if endpoint:
            if "disableExecuteApiEndpoint" in endpoint:
                self.api.disableExecuteApiEndpoint = bool(endpoint["disableExecuteApiEndpoint"])
            if endpoint.get("vpcEndpointIds"):
                self.api.endpoint_configuration["vpcEndpointIds"] = list(
                    endpoint["vpcEndpointIds"])

    # -- references and models ------------------------------------------------------------

    def _deref(self, node: Any) -> Any:
        """Follow local ``$ref``s of non-schema objects (parameters, responses, bodies)."""
        seen = 0
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if not ref.startswith("#/") or seen > 20:
                raise InvalidDocument(f"Invalid OpenAPI input: unresolvable reference {ref}")
            target: Any = self.doc
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                if not isinstance(target, dict) or part not in target:
                    raise InvalidDocument(
                        f"Invalid OpenAPI input: unresolvable reference {ref}")
                target = target[part]
            node = target
            seen += 1
        return node

    def _schemas(self) -> dict[str, Any]:
        if self.is_v3:
            return (self.doc.get("components") or {}).get("schemas") or {}
        return self.doc.get("definitions") or {}

    def _model_ref(self, ref: str) -> str | None:
        for prefix in ("#/components/schemas/", "#/definitions/"):
            if ref.startswith(prefix):
                return ref[len(prefix):]
        return None

    def _convert_schema(self, schema: Any) -> Any:
        if isinstance(schema, dict):
            converted = {}
            for key, value in schema.items():
                name = self._model_ref(value) if key == "$ref" and isinstance(value, str) \
                    else None
                converted[key] = (MODEL_URL.format(api_id=self.api.id, name=name) if name
                                  else self._convert_schema(value))
            return converted
        if isinstance(schema, list):
            return [self._convert_schema(v) for v in schema]
        return schema

    def _put_model(self, name: str, schema: dict[str, Any],
                   content_type: str = "application/json") -> str:
        converted = self._convert_schema(schema)
        body = {"$schema": DRAFT4, "title": name}
        body.update({k: v for k, v in converted.items() if k != "$schema"})
        if "title" in converted:
            body["title"] = converted["title"]
        self.api.models.pop(name, None)
        self.backend.create_model(self.api.id, name, content_type,
                                  schema.get("description"), json.dumps(body, indent=2))
        return name

    def _models(self) -> None:
        for name, schema in self._schemas().items():
            self._put_model(name, schema if isinstance(schema, dict) else {})

    def _schema_model(self, schema: Any, fallback_name: str) -> str | None:
        """The model a body schema stands for, creating one for an inline schema."""
        if not isinstance(schema, dict) or not schema:
            return None
        ref = schema.get("$ref")
        if isinstance(ref, str) and len(schema) == 1:
            name = self._model_ref(ref)
            if name is None:
                raise InvalidDocument(f"Invalid OpenAPI input: unresolvable reference {ref}")
            return name
        return self._put_model(fallback_name, schema)

    # -- validators and gateway responses --------------------------------------------------

    def _validators(self) -> None:
        existing = {v.name: v.id for v in self.api.request_validators.values()}
        for name, spec in (self.doc.get("x-amazon-apigateway-request-validators") or {}).items():
            body = bool(spec.get("validateRequestBody", False))
            params = bool(spec.get("validateRequestParameters", False))
            if name in existing:
                validator = self.api.request_validators[existing[name]]
                validator.validate_request_body = body
                validator.validate_request_parameters = params
                self.validator_ids[name] = validator.id
            else:
                created = self.backend.create_request_validator(self.api.id, name, body, params)
                self.validator_ids[name] = created.id
        for validator in self.api.request_validators.values():
            self.validator_ids.setdefault(validator.name, validator.id)

    def _validator_id(self, name: str | None) -> str | None:
        if not name:
            return None
        if name not in self.validator_ids:
            raise InvalidDocument(
                f"Invalid OpenAPI input: request validator '{name}' is not defined in "
                "x-amazon-apigateway-request-validators.")
        return self.validator_ids[name]

    def _gateway_responses(self) -> None:
        for response_type, spec in (
                self.doc.get("x-amazon-apigateway-gateway-responses") or {}).items():
            status = spec.get("statusCode")
            self.backend.put_gateway_response(
                self.api.id, response_type,
                status_code=str(status) if status is not None else None,
                response_parameters=spec.get("responseParameters"),
                response_templates=spec.get("responseTemplates"),
            )

    # -- resources and methods ---------------------------------------------------------------

    def _ensure_resource(self, path: str) -> Resource:
        current = self.api.resources[self.api.root_resource_id]
        for part in [p for p in path.split("/") if p]:
            child = next((r for r in self.api.resources.values()
                          if r.parent_id == current.id and r.path_part == part), None)
            if child is None:
                child = self.backend.create_resource(self.api.id, current.id, part)
            current = child
        return current

    def _security_schemes(self) -> dict[str, Any]:
        if self.is_v3:
            return (self.doc.get("components") or {}).get("securitySchemes") or {}
        return self.doc.get("securityDefinitions") or {}

    def _authorization(self, operation: dict[str, Any]) -> tuple[str, bool]:
        requirements = operation.get("security", self.doc.get("security")) or []
        schemes = self._security_schemes()
        auth_type, api_key = "NONE", False
        for requirement in requirements:
            for name in requirement:
                scheme = schemes.get(name) or {}
                if scheme.get("x-amazon-apigateway-authtype") == "awsSigv4":
                    auth_type = "AWS_IAM"
                elif scheme.get("type") == "apiKey" and \
                        str(scheme.get("name", "")).lower() == "x-api-key":
                    api_key = True
        return auth_type, api_key

    def _request_parameters(self, path_parameters: list[Any],
                            operation: dict[str, Any]) -> dict[str, bool]:
        merged: dict[tuple[str, str], dict[str, Any]] = {}
        for parameter in list(path_parameters) + list(operation.get("parameters") or []):
            parameter = self._deref(parameter)
            if isinstance(parameter, dict) and parameter.get("in") in PARAMETER_LOCATIONS:
                merged[(parameter["in"], parameter["name"])] = parameter
        result = {}
        for (location, name), parameter in merged.items():
            required = True if location == "path" else bool(parameter.get("required", False))
            result[f"method.request.{PARAMETER_LOCATIONS[location]}.{name}"] = required
        return result

    def _name_base(self, method: str, path: str) -> str:
        words = re.findall(r"[A-Za-z0-9]+", path)
        return method.capitalize() + "".join(w[:1].upper() + w[1:] for w in words)

    def _request_models(self, path: str, method: str, path_parameters: list[Any],
                        operation: dict[str, Any]) -> dict[str, str]:
        fallback = f"{self._name_base(method, path)}RequestModel"
        models: dict[str, str] = {}
        if self.is_v3:
            body = self._deref(operation.get("requestBody")) or {}
            for content_type, media in (body.get("content") or {}).items():
                name = self._schema_model((media or {}).get("schema"), fallback)
                if name:
                    models[content_type] = name
            return models
        for parameter in list(path_parameters) + list(operation.get("parameters") or []):
            parameter = self._deref(parameter)
            if isinstance(parameter, dict) and parameter.get("in") == "body":
                name = self._schema_model(parameter.get("schema"), fallback)
                consumes = operation.get("consumes") or self.doc.get("consumes") \
                    or ["application/json"]
                if name:
                    for content_type in consumes:
                        models[content_type] = name
        return models

    def _method(self, resource: Resource, path: str, method: str, operation: dict[str, Any],
                path_parameters: list[Any]) -> None:
        auth_type, api_key = self._authorization(operation)
        validator = operation.get("x-amazon-apigateway-request-validator",
                                  self.doc.get("x-amazon-apigateway-request-validator"))
        self.backend.put_method(
            self.api.id, resource.id, method, auth_type,
            api_key_required=api_key,
            request_parameters=self._request_parameters(path_parameters, operation) or None,
            request_models=self._request_models(path, method, path_parameters, operation)
            or None,
            operation_name=operation.get("operationId"),
            request_validator_id=self._validator_id(validator),
        )
        self._method_responses(resource, path, method, operation)
        integration = operation.get("x-amazon-apigateway-integration")
        if integration:
            self._integration(resource, method, integration)

    def _method_responses(self, resource: Resource, path: str, method: str,
                          operation: dict[str, Any]) -> None:
        for code, response in (operation.get("responses") or {}).items():
            if not str(code).isdigit():
                continue
            response = self._deref(response) or {}
            parameters = {
                f"method.response.header.{header}": bool(
                    (self._deref(spec) or {}).get("required", False))
                for header, spec in (response.get("headers") or {}).items()
            }
            fallback = f"{self._name_base(method, path)}Response{code}Model"
            models: dict[str, str] = {}
            if self.is_v3:
                for content_type, media in (response.get("content") or {}).items():
                    name = self._schema_model((media or {}).get("schema"), fallback)
                    if name:
                        models[content_type] = name
            elif response.get("schema"):
                name = self._schema_model(response["schema"], fallback)
                produces = operation.get("produces") or self.doc.get("produces") \
                    or ["application/json"]
                if name:
                    models = dict.fromkeys(produces, name)
            self.backend.put_method_response(
                self.api.id, resource.id, method, str(code),
                response_models=models or None, response_parameters=parameters or None)

    def _integration(self, resource: Resource, method: str, spec: dict[str, Any]) -> None:
        integration_type = str(spec.get("type", "")).upper()
        if not integration_type:
            raise InvalidDocument(
                "Invalid OpenAPI input: x-amazon-apigateway-integration needs a type.")
        timeout = spec.get("timeoutInMillis")
        passthrough = spec.get("passthroughBehavior")
        self.backend.put_integration(
            self.api.id, resource.id, method,
            integration_type=integration_type,
            uri=spec.get("uri"),
            integration_method=(str(spec["httpMethod"]).upper()
                                if spec.get("httpMethod") else None),
            credentials=spec.get("credentials"),
            request_templates=spec.get("requestTemplates"),
            passthrough_behavior=str(passthrough).upper() if passthrough else "WHEN_NO_MATCH",
            tls_config=spec.get("tlsConfig"),
            cache_namespace=spec.get("cacheNamespace") or resource.id,
            timeout_in_millis=int(timeout) if timeout is not None else DEFAULT_TIMEOUT_MILLIS,
            request_parameters=spec.get("requestParameters"),
            content_handling=spec.get("contentHandling"),
            connection_type=spec.get("connectionType"),
        )
        integration = resource.resource_methods[method].method_integration
        if integration is not None and spec.get("cacheKeyParameters"):
            integration.cache_key_parameters = list(spec["cacheKeyParameters"])
        for pattern, response in (spec.get("responses") or {}).items():
            status = response.get("statusCode")
            if status is None:
                raise InvalidDocument(
                    f"Invalid OpenAPI input: integration response '{pattern}' needs a "
                    "statusCode.")
            self.backend.put_integration_response(
                self.api.id, resource.id, method, str(status),
                selection_pattern=None if pattern == "default" else pattern,
                response_templates=response.get("responseTemplates"),
                response_parameters=response.get("responseParameters"),
                content_handling=response.get("contentHandling"),
            )
