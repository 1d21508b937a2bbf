"""CloudFormation models for API Gateway (REST APIs), built on moto's backend methods.

moto's own models ignore ``Body``, keep only three properties of a Method and have no Stage,
DomainName, BasePathMapping, RequestValidator, Model, GatewayResponse or Account. These models
create everything through the same backend calls the API uses (``put_method``,
``put_integration``, ``create_stage`` + ``update_stage``, ``create_domain_name`` …), so a
stack-made API is indistinguishable from an API-made one.

Ref / Fn::GetAtt follow the AWS resource reference: RestApi → id (GetAtt RootResourceId,
RestApiId); Resource → resource id (ResourceId); Method → a generated method id; Deployment →
deployment id (DeploymentId); Stage → stage name; DomainName → domain name (RegionalDomainName,
RegionalHostedZoneId, DistributionDomainName, DistributionHostedZoneId, DomainNameArn);
RequestValidator → id (RequestValidatorId); Model → name; GatewayResponse and Account → a
generated id (Id). BasePathMapping has no documented Ref; it is ``{domain}/{basePath}`` here.

Account settings go through the API's checks (``apigateway/account.py``): an Account's
``CloudWatchRoleArn`` must exist and trust ``apigateway.amazonaws.com``, and a Stage (or a
Deployment's ``StageDescription``) with ``AccessLogSetting``, ``LoggingLevel`` INFO/ERROR or
``DataTraceEnabled`` fails with "CloudWatch Logs role ARN must be set in account settings to
enable logging" until the region's account has a role (set earlier, or by an
``AWS::ApiGateway::Account`` the stage depends on).

Deviation: removing an ``AWS::ApiGateway::Account`` from a stack keeps the account-level
CloudWatch role, as AWS does not reset account settings either.
"""

from __future__ import annotations

import json
from typing import Any

from moto.apigateway.exceptions import BadRequestException
from moto.apigateway.models import APIGatewayBackend, apigateway_backends
from moto.core.common_models import CloudFormationModel

from ..apigateway import control, openapi
from . import core
from .model import LocalModel, as_bool, tags_dict


def backend(account_id: str, region_name: str) -> APIGatewayBackend:
    return apigateway_backends[account_id][region_name]


def _ignore_missing(call: Any, *args: Any) -> None:
    try:
        call(*args)
    except KeyError:
        pass
    except Exception as exc:
        if not core.is_not_found(exc):
            raise


# -- RestApi ---------------------------------------------------------------------------------


def _endpoint_configuration(value: Any) -> dict[str, Any] | None:
    if not value:
        return None
    configuration: dict[str, Any] = {"types": [str(t).upper() for t in value.get("Types") or []]}
    if value.get("VpcEndpointIds"):
        configuration["vpcEndpointIds"] = list(value["VpcEndpointIds"])
    return configuration


def _document(account_id: str, properties: dict[str, Any]) -> dict[str, Any] | None:
    if properties.get("Body") is not None:
        return openapi.load_document(properties["Body"])
    location = properties.get("BodyS3Location")
    if not location:
        return None
    from moto.s3.models import s3_backends

    s3 = s3_backends[account_id]["aws"]
    key = s3.get_object(location["Bucket"], location["Key"], location.get("Version"))
    if key is None:
        raise BadRequestException(
            f"BodyS3Location s3://{location['Bucket']}/{location['Key']} does not exist")
    return openapi.load_document(key.value)


class RestApi(LocalModel, CloudFormationModel):
    TYPE = "AWS::ApiGateway::RestApi"
    ATTRIBUTES = ("RootResourceId", "RestApiId")

    @classmethod
    def create(cls, account_id: str, region_name: str, properties: dict[str, Any],
               context: dict[str, str]) -> RestApi:
        apis = backend(account_id, region_name)
        document = _document(account_id, properties)
        if document is not None:
            api = openapi.import_rest_api(
                apis, document, fail_on_warnings=bool(as_bool(properties.get("FailOnWarnings"))),
                parameters=properties.get("Parameters"))
        else:
            if not properties.get("Name"):
                raise BadRequestException("A REST API without Body needs a Name.")
            api = apis.create_rest_api(name=properties["Name"],
                                       description=properties.get("Description", ""))
        handle = cls(account_id, region_name, api.id, properties)
        handle._apply_settings(properties)
        return handle

    def _apply_settings(self, properties: dict[str, Any]) -> None:
        api = backend(self.account_id, self.region_name).get_rest_api(self.physical_id)
        if properties.get("Name"):
            api.name = properties["Name"]
        if "Description" in properties:
            api.description = properties.get("Description") or ""
        configuration = _endpoint_configuration(properties.get("EndpointConfiguration"))
        if configuration:
            api.endpoint_configuration = configuration
        if properties.get("BinaryMediaTypes") is not None:
            api.binaryMediaTypes = list(properties["BinaryMediaTypes"])
        if properties.get("ApiKeySourceType"):
            api.api_key_source = properties["ApiKeySourceType"]
        if properties.get("Policy") is not None:
            policy = properties["Policy"]
            api.policy = policy if isinstance(policy, str) else json.dumps(policy)
        if properties.get("MinimumCompressionSize") is not None:
            api.minimum_compression_size = int(properties["MinimumCompressionSize"])
        if properties.get("DisableExecuteApiEndpoint") is not None:
            api.disableExecuteApiEndpoint = bool(as_bool(properties["DisableExecuteApiEndpoint"]))
        if properties.get("Tags"):
            api.tags = tags_dict(properties["Tags"])

    def update(self, properties: dict[str, Any], new_name: str) -> RestApi:
        apis = backend(self.account_id, self.region_name)
        document = _document(self.account_id, properties)
        if document is not None and (properties.get("Body") != self.properties.get("Body") or
                                     properties.get("BodyS3Location")
                                     != self.properties.get("BodyS3Location")):
            openapi.put_rest_api(apis, self.physical_id, document,
                                 mode=str(properties.get("Mode") or "overwrite").lower(),
                                 fail_on_warnings=bool(as_bool(properties.get("FailOnWarnings"))))
        self.properties = properties
        self._apply_settings(properties)
        return self

    def remove(self) -> None:
        _ignore_missing(backend(self.account_id, self.region_name).delete_rest_api,
                        self.physical_id)

    def attribute(self, name: str) -> Any:
        if name == "RestApiId":
            return self.physical_id
        return backend(self.account_id, self.region_name).get_rest_api(
            self.physical_id).root_resource_id


# -- Resource, Method ------------------------------------------------------------------------


class Resource(LocalModel, CloudFormationModel):
    TYPE = "AWS::ApiGateway::Resource"
    ATTRIBUTES = ("ResourceId",)

    @classmethod
    def create(cls, account_id: str, region_name: str, properties: dict[str, Any],
               context: dict[str, str]) -> Resource:
        resource = backend(account_id, region_name).create_resource(
            properties["RestApiId"], properties["ParentId"], properties["PathPart"])
        return cls(account_id, region_name, resource.id, properties)

    def remove(self) -> None:
        _ignore_missing(backend(self.account_id, self.region_name).delete_resource,
                        self.properties["RestApiId"], self.physical_id)

    def attribute(self, name: str) -> Any:
        return self.physical_id


def put_method(apis: APIGatewayBackend, properties: dict[str, Any]) -> None:
    """PutMethod, PutMethodResponse, PutIntegration, PutIntegrationResponse from a template."""
    api_id, resource_id = properties["RestApiId"], properties["ResourceId"]
    http_method = str(properties["HttpMethod"]).upper()
    apis.put_method(
        api_id, resource_id, http_method, properties.get("AuthorizationType") or "NONE",
        api_key_required=bool(as_bool(properties.get("ApiKeyRequired"), False)),
        request_parameters=properties.get("RequestParameters"),
        request_models=properties.get("RequestModels"),
        operation_name=properties.get("OperationName"),
        authorizer_id=properties.get("AuthorizerId"),
        authorization_scopes=properties.get("AuthorizationScopes"),
        request_validator_id=properties.get("RequestValidatorId"),
    )
    for response in properties.get("MethodResponses") or []:
        apis.put_method_response(api_id, resource_id, http_method, str(response["StatusCode"]),
                                 response.get("ResponseModels"),
                                 response.get("ResponseParameters"))
    integration = properties.get("Integration")
    if not integration:
        return
    integration_type = str(integration.get("Type", "")).upper()
    timeout = integration.get("TimeoutInMillis")
    passthrough = integration.get("PassthroughBehavior")
    created = apis.put_integration(
        api_id, resource_id, http_method,
        integration_type=integration_type,
        uri=integration.get("Uri"),
        integration_method=integration.get("IntegrationHttpMethod"),
        credentials=integration.get("Credentials"),
        request_templates=integration.get("RequestTemplates"),
        passthrough_behavior=str(passthrough).upper() if passthrough else "WHEN_NO_MATCH",
        tls_config=integration.get("TlsConfig"),
        cache_namespace=integration.get("CacheNamespace") or resource_id,
        timeout_in_millis=int(timeout) if timeout is not None
        else openapi.DEFAULT_TIMEOUT_MILLIS,
        request_parameters=integration.get("RequestParameters"),
        content_handling=integration.get("ContentHandling"),
        connection_type=integration.get("ConnectionType"),
    )
    if integration.get("CacheKeyParameters"):
        created.cache_key_parameters = list(integration["CacheKeyParameters"])
    for response in integration.get("IntegrationResponses") or []:
        apis.put_integration_response(
            api_id, resource_id, http_method, str(response["StatusCode"]),
            selection_pattern=response.get("SelectionPattern"),
            response_templates=response.get("ResponseTemplates"),
            response_parameters=response.get("ResponseParameters"),
            content_handling=response.get("ContentHandling"),
        )


class Method(LocalModel, CloudFormationModel):
    TYPE = "AWS::ApiGateway::Method"

    @classmethod
    def create(cls, account_id: str, region_name: str, properties: dict[str, Any],
               context: dict[str, str]) -> Method:
        put_method(backend(account_id, region_name), properties)
        return cls(account_id, region_name,
                   core.generated_id(context["stack_name"], context["logical_id"]), properties)

    def _key(self, properties: dict[str, Any]) -> tuple[str, str, str]:
        return (properties["RestApiId"], properties["ResourceId"],
                str(properties["HttpMethod"]).upper())

    def update(self, properties: dict[str, Any], new_name: str) -> Method | None:
        if self._key(properties) != self._key(self.properties):
            return None
        put_method(backend(self.account_id, self.region_name), properties)
        self.properties = properties
        return self

    def remove(self) -> None:
        _ignore_missing(backend(self.account_id, self.region_name).delete_method,
                        *self._key(self.properties))


# -- RequestValidator, Model, GatewayResponse, Account -----------------------------------------


class RequestValidator(LocalModel, CloudFormationModel):
    TYPE = "AWS::ApiGateway::RequestValidator"
    ATTRIBUTES = ("RequestValidatorId",)

    @classmethod
    def create(cls, account_id: str, region_name: str, properties: dict[str, Any],
               context: dict[str, str]) -> RequestValidator:
        validator = backend(account_id, region_name).create_request_validator(
            properties["RestApiId"], properties.get("Name") or context["resource_name"],
            bool(as_bool(properties.get("ValidateRequestBody"), False)),
            bool(as_bool(properties.get("ValidateRequestParameters"), False)))
        return cls(account_id, region_name, validator.id, properties)

    def update(self, properties: dict[str, Any], new_name: str) -> RequestValidator | None:
        if properties["RestApiId"] != self.properties["RestApiId"]:
            return None
        validator = backend(self.account_id, self.region_name).get_request_validator(
            properties["RestApiId"], self.physical_id)
        if properties.get("Name"):
            validator.name = properties["Name"]
        validator.validate_request_body = bool(as_bool(properties.get("ValidateRequestBody"),
                                                       False))
        validator.validate_request_parameters = bool(
            as_bool(properties.get("ValidateRequestParameters"), False))
        self.properties = properties
        return self

    def remove(self) -> None:
        _ignore_missing(backend(self.account_id, self.region_name).delete_request_validator,
                        self.properties["RestApiId"], self.physical_id)

    def attribute(self, name: str) -> Any:
        return self.physical_id


def _schema_text(schema: Any) -> str | None:
    if schema is None:
        return None
    return schema if isinstance(schema, str) else json.dumps(schema)


class Model(LocalModel, CloudFormationModel):
    TYPE = "AWS::ApiGateway::Model"

    @classmethod
    def create(cls, account_id: str, region_name: str, properties: dict[str, Any],
               context: dict[str, str]) -> Model:
        name = properties.get("Name") or "".join(
            c for c in context["resource_name"] if c.isalnum())
        backend(account_id, region_name).create_model(
            properties["RestApiId"], name, properties.get("ContentType") or "application/json",
            properties.get("Description"), _schema_text(properties.get("Schema")))
        return cls(account_id, region_name, name, properties)

    def update(self, properties: dict[str, Any], new_name: str) -> Model | None:
        if properties["RestApiId"] != self.properties["RestApiId"] or \
                (properties.get("Name") or self.physical_id) != self.physical_id:
            return None
        model = backend(self.account_id, self.region_name).get_model(
            properties["RestApiId"], self.physical_id)
        model.schema = _schema_text(properties.get("Schema"))
        model.description = properties.get("Description")
        model.content_type = properties.get("ContentType") or "application/json"
        self.properties = properties
        return self

    def remove(self) -> None:
        _ignore_missing(backend(self.account_id, self.region_name).delete_model,
                        self.properties["RestApiId"], self.physical_id)


class GatewayResponse(LocalModel, CloudFormationModel):
    TYPE = "AWS::ApiGateway::GatewayResponse"
    ATTRIBUTES = ("Id",)

    @classmethod
    def create(cls, account_id: str, region_name: str, properties: dict[str, Any],
               context: dict[str, str]) -> GatewayResponse:
        handle = cls(account_id, region_name,
                     core.generated_id(context["stack_name"], context["logical_id"]), properties)
        handle._put(properties)
        return handle

    def _put(self, properties: dict[str, Any]) -> None:
        status = properties.get("StatusCode")
        backend(self.account_id, self.region_name).put_gateway_response(
            properties["RestApiId"], properties["ResponseType"],
            status_code=str(status) if status is not None else None,
            response_parameters=properties.get("ResponseParameters"),
            response_templates=properties.get("ResponseTemplates"))

    def update(self, properties: dict[str, Any], new_name: str) -> GatewayResponse:
        if (properties["RestApiId"], properties["ResponseType"]) != \
                (self.properties["RestApiId"], self.properties["ResponseType"]):
            self.remove()
        self._put(properties)
        self.properties = properties
        return self

    def remove(self) -> None:
        _ignore_missing(backend(self.account_id, self.region_name).delete_gateway_response,
                        self.properties["RestApiId"], self.properties["ResponseType"])

    def attribute(self, name: str) -> Any:
        return self.physical_id


class Account(LocalModel, CloudFormationModel):
    TYPE = "AWS::ApiGateway::Account"
    ATTRIBUTES = ("Id",)

    @classmethod
    def create(cls, account_id: str, region_name: str, properties: dict[str, Any],
               context: dict[str, str]) -> Account:
        handle = cls(account_id, region_name,
                     core.generated_id(context["stack_name"], context["logical_id"]), properties)
        handle.update(properties, "")
        return handle

    def update(self, properties: dict[str, Any], new_name: str) -> Account:
        if properties.get("CloudWatchRoleArn"):
            backend(self.account_id, self.region_name).update_account([
                {"op": "replace", "path": "/cloudwatchRoleArn",
                 "value": properties["CloudWatchRoleArn"]}])
        self.properties = properties
        return self

    def remove(self) -> None:
        return None

    def attribute(self, name: str) -> Any:
        return self.physical_id


# -- Deployment, Stage -----------------------------------------------------------------------

METHOD_SETTING_PATHS = {
    "ThrottlingRateLimit": "throttling/rateLimit",
    "ThrottlingBurstLimit": "throttling/burstLimit",
    "LoggingLevel": "logging/loglevel",
    "DataTraceEnabled": "logging/dataTrace",
    "MetricsEnabled": "metrics/enabled",
    "CachingEnabled": "caching/enabled",
    "CacheTtlInSeconds": "caching/ttlInSeconds",
    "CacheDataEncrypted": "caching/dataEncrypted",
}


def _value(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def stage_patch_operations(settings: dict[str, Any], old: dict[str, Any] | None = None
                           ) -> list[dict[str, str]]:
    """UpdateStage operations that give a stage the settings of a template.

    ``settings`` uses the Stage resource's names (also StageDescription's: its
    Throttling*/Logging*/Metrics*/Caching* keys apply to every method, ``*/*``).
    """
    old = old or {}
    ops: list[dict[str, str]] = []
    if "Description" in settings:
        ops.append({"op": "replace", "path": "/description",
                    "value": settings.get("Description") or ""})
    variables = settings.get("Variables") or {}
    for key in (old.get("Variables") or {}):
        if key not in variables:
            ops.append({"op": "remove", "path": f"/variables/{key}"})
    for key, value in variables.items():
        ops.append({"op": "replace", "path": f"/variables/{key}", "value": str(value)})
    method_settings = list(settings.get("MethodSettings") or [])
    stage_wide = {k: settings[k] for k in METHOD_SETTING_PATHS if settings.get(k) is not None}
    if stage_wide:
        method_settings.insert(0, {"ResourcePath": "/*", "HttpMethod": "*", **stage_wide})
    for setting in method_settings:
        key = control.method_settings_key(setting.get("ResourcePath", "/*"),
                                          setting.get("HttpMethod", "*"))
        for prop, path in METHOD_SETTING_PATHS.items():
            if setting.get(prop) is not None:
                ops.append({"op": "replace", "path": f"/{key}/{path}",
                            "value": _value(setting[prop])})
    access_log = settings.get("AccessLogSetting")
    if access_log:
        for prop, field in (("DestinationArn", "destinationArn"), ("Format", "format")):
            if access_log.get(prop) is not None:
                ops.append({"op": "replace", "path": f"/accessLogSettings/{field}",
                            "value": access_log[prop]})
    elif old.get("AccessLogSetting"):
        ops.append({"op": "remove", "path": "/accessLogSettings"})
    if settings.get("TracingEnabled") is not None:
        ops.append({"op": "replace", "path": "/tracingEnabled",
                    "value": _value(as_bool(settings["TracingEnabled"]))})
    return ops


def create_stage(apis: APIGatewayBackend, api_id: str, stage_name: str, deployment_id: str,
                 settings: dict[str, Any]) -> None:
    """CreateStage then UpdateStage, as a client of the API would make the same stage."""
    apis.create_stage(
        api_id, stage_name, deployment_id,
        variables={k: str(v) for k, v in (settings.get("Variables") or {}).items()},
        description=settings.get("Description") or "",
        cacheClusterEnabled=as_bool(settings.get("CacheClusterEnabled"), False),
        cacheClusterSize=settings.get("CacheClusterSize"),
        tags=tags_dict(settings.get("Tags")) or None,
        tracing_enabled=as_bool(settings.get("TracingEnabled")),
    )
    ops = [op for op in stage_patch_operations(settings)
           if not op["path"].startswith(("/variables/", "/description", "/tracingEnabled"))]
    if ops:
        apis.update_stage(api_id, stage_name, ops)


class Deployment(LocalModel, CloudFormationModel):
    TYPE = "AWS::ApiGateway::Deployment"
    ATTRIBUTES = ("DeploymentId",)

    @classmethod
    def create(cls, account_id: str, region_name: str, properties: dict[str, Any],
               context: dict[str, str]) -> Deployment:
        apis = backend(account_id, region_name)
        api_id = properties["RestApiId"]
        deployment = apis.create_deployment(api_id, None, properties.get("Description") or "")
        handle = cls(account_id, region_name, deployment.id, properties)
        handle._point_stage(properties)
        return handle

    def _point_stage(self, properties: dict[str, Any]) -> None:
        stage_name = properties.get("StageName")
        if not stage_name:
            return
        apis = backend(self.account_id, self.region_name)
        api = apis.get_rest_api(properties["RestApiId"])
        settings = dict(properties.get("StageDescription") or {})
        if stage_name in api.stages:
            ops = [{"op": "replace", "path": "/deploymentId", "value": self.physical_id}]
            apis.update_stage(api.id, stage_name, ops + stage_patch_operations(settings))
        else:
            create_stage(apis, api.id, stage_name, self.physical_id, settings)

    def update(self, properties: dict[str, Any], new_name: str) -> Deployment | None:
        if properties["RestApiId"] != self.properties["RestApiId"]:
            return None
        # A new deployment takes over; the stack's cleanup deletes this one afterwards.
        return Deployment.create(self.account_id, self.region_name, properties, {})

    def restore(self) -> None:
        self._point_stage(self.properties)

    def remove(self) -> None:
        apis = backend(self.account_id, self.region_name)
        api_id = self.properties["RestApiId"]
        stage_name = self.properties.get("StageName")
        try:
            api = apis.get_rest_api(api_id)
        except Exception as exc:
            if core.is_not_found(exc):
                return
            raise
        stage = api.stages.get(stage_name) if stage_name else None
        if stage is not None and stage.deployment_id == self.physical_id:
            apis.delete_stage(api_id, stage_name)
        _ignore_missing(apis.delete_deployment, api_id, self.physical_id)

    def attribute(self, name: str) -> Any:
        return self.physical_id


class Stage(LocalModel, CloudFormationModel):
    TYPE = "AWS::ApiGateway::Stage"

    @classmethod
    def create(cls, account_id: str, region_name: str, properties: dict[str, Any],
               context: dict[str, str]) -> Stage:
        stage_name = properties.get("StageName") or context["resource_name"]
        create_stage(backend(account_id, region_name), properties["RestApiId"], stage_name,
                     properties["DeploymentId"], properties)
        return cls(account_id, region_name, stage_name, properties)

    def update(self, properties: dict[str, Any], new_name: str) -> Stage | None:
        if properties["RestApiId"] != self.properties["RestApiId"] or \
                (properties.get("StageName") or self.physical_id) != self.physical_id:
            return None
        apis = backend(self.account_id, self.region_name)
        stage = apis.get_stage(properties["RestApiId"], self.physical_id)
        stage.method_settings = {}
        ops = stage_patch_operations(properties, self.properties)
        if properties.get("DeploymentId") != stage.deployment_id:
            ops.insert(0, {"op": "replace", "path": "/deploymentId",
                           "value": properties["DeploymentId"]})
        apis.update_stage(properties["RestApiId"], self.physical_id, ops)
        self.properties = properties
        return self

    def remove(self) -> None:
        _ignore_missing(backend(self.account_id, self.region_name).delete_stage,
                        self.properties["RestApiId"], self.physical_id)


# -- DomainName, BasePathMapping ---------------------------------------------------------------


class DomainName(LocalModel, CloudFormationModel):
    TYPE = "AWS::ApiGateway::DomainName"
    ATTRIBUTES = ("RegionalDomainName", "RegionalHostedZoneId", "DistributionDomainName",
                  "DistributionHostedZoneId", "DomainNameArn")

    @classmethod
    def create(cls, account_id: str, region_name: str, properties: dict[str, Any],
               context: dict[str, str]) -> DomainName:
        configuration = _endpoint_configuration(properties.get("EndpointConfiguration"))
        domain = backend(account_id, region_name).create_domain_name(
            domain_name=properties.get("DomainName"),
            certificate_name=None,
            tags=tags_dict(properties.get("Tags")) or None,
            certificate_arn=properties.get("CertificateArn"),
            certificate_body=None, certificate_private_key=None, certificate_chain=None,
            regional_certificate_name=None,
            regional_certificate_arn=properties.get("RegionalCertificateArn"),
            endpoint_configuration=configuration,
            security_policy=properties.get("SecurityPolicy"),
        )
        return cls(account_id, region_name, domain.domain_name, properties)

    def update(self, properties: dict[str, Any], new_name: str) -> DomainName | None:
        if properties.get("DomainName") != self.physical_id or \
                properties.get("EndpointConfiguration") != \
                self.properties.get("EndpointConfiguration"):
            return None
        domain = backend(self.account_id, self.region_name).get_domain_name(self.physical_id)
        if "REGIONAL" in control.endpoint_types(domain):
            control.check_certificate(self.account_id, self.region_name,
                                      properties.get("RegionalCertificateArn"), self.physical_id)
            domain.regional_certificate_arn = properties.get("RegionalCertificateArn")
        else:
            control.check_certificate(self.account_id, "us-east-1",
                                      properties.get("CertificateArn"), self.physical_id)
            domain.certificate_arn = properties.get("CertificateArn")
        domain.security_policy = properties.get("SecurityPolicy") or "TLS_1_0"
        self.properties = properties
        return self

    def remove(self) -> None:
        _ignore_missing(backend(self.account_id, self.region_name).delete_domain_name,
                        self.physical_id)

    def attribute(self, name: str) -> Any:
        domain = backend(self.account_id, self.region_name).get_domain_name(self.physical_id)
        regional = "REGIONAL" in control.endpoint_types(domain)
        values = {
            "RegionalDomainName": domain.regional_domain_name if regional else "",
            "RegionalHostedZoneId": domain.regional_hosted_zone_id if regional else "",
            "DistributionDomainName": "" if regional else domain.distribution_domain_name,
            "DistributionHostedZoneId": "" if regional else domain.distribution_hosted_zone_id,
            "DomainNameArn": getattr(domain, "domain_name_arn", ""),
        }
        return values[name]


class BasePathMapping(LocalModel, CloudFormationModel):
    TYPE = "AWS::ApiGateway::BasePathMapping"

    @classmethod
    def create(cls, account_id: str, region_name: str, properties: dict[str, Any],
               context: dict[str, str]) -> BasePathMapping:
        mapping = backend(account_id, region_name).create_base_path_mapping(
            properties["DomainName"], properties["RestApiId"], properties.get("BasePath"),
            properties.get("Stage"))
        return cls(account_id, region_name,
                   f"{properties['DomainName']}/{mapping.base_path}", properties)

    def update(self, properties: dict[str, Any], new_name: str) -> BasePathMapping | None:
        if properties["DomainName"] != self.properties["DomainName"]:
            return None
        self.remove()
        return BasePathMapping.create(self.account_id, self.region_name, properties, {})

    def remove(self) -> None:
        _ignore_missing(backend(self.account_id, self.region_name).delete_base_path_mapping,
                        self.properties["DomainName"],
                        control.normalize_base_path(self.properties.get("BasePath")))
