"""API Gateway control-plane fixes, so the API shows what AWS shows.

The same backend methods serve the API and CloudFormation, so a stage, domain name or import
made through either looks identical through the other. Fixed here:

- ``import-rest-api`` / ``put-rest-api`` (``overwrite``/``merge``) use the full-fidelity
  importer in ``openapi.py`` (moto's drops validators, models, gateway responses, method
  response parameters, Swagger 2 and MOCK integrations without a URI).
- ``create-domain-name``: a REGIONAL domain needs a certificate in the API's region that
  exists, is ``ISSUED`` and covers the domain (an EDGE one needs it in us-east-1); the domain
  reports ``regionalDomainName`` ``d-<id>.execute-api.<region>.amazonaws.com`` with API
  Gateway's real per-region hosted zone id (moto reports CloudFront's for every domain),
  ``securityPolicy`` defaults to ``TLS_1_0`` as on AWS, and a second domain with the same
  name is a ``ConflictException``. Only the fields of the domain's endpoint type are shown.
- Base path mappings: ``(none)`` and empty mean the same mapping, a duplicate is a conflict,
  listing a domain without mappings works, deleting a domain drops its mappings.
- Deleting a REST API, resource or request validator that does not exist is a 4xx error
  (moto answered with an HTML 500).
- Stages: ``create-stage`` needs an existing deployment; ``create-deployment --stage-name`` on
  an existing stage re-points it and keeps its settings (moto replaced the stage); a
  deployment that a stage uses cannot be deleted; method settings get AWS's defaults.

- Tags: a client's tag key that starts with ``aws:`` (in any case) is refused with a
  ``BadRequestException`` on every operation whose input takes ``tags`` (botocore's model:
  CreateRestApi, CreateStage, CreateDomainName, CreateApiKey, CreateUsagePlan, CreateVpcLink,
  GenerateClientCertificate, CreateDomainNameAccessAssociation, TagResource). The API reference
  says a tag key "must not start with aws:"; the message is the one AWS answers (not in the
  reference; quoted in serverless/serverless#9223 and aws/aws-cdk#23738). The check is on the
  API request only: CloudFormation adds its ``aws:cloudformation:*`` system tags in-process.
- Account settings and the CloudWatch role that logging needs: ``account.py``.

Deviations: the wording of the certificate errors is the local cloud's own (AWS's are
not all documented); domain names become ``AVAILABLE`` at once.
"""

from __future__ import annotations

from functools import cache
from typing import Any
from urllib.parse import unquote

import botocore.session
from moto.apigateway import models as apigw_models
from moto.apigateway import responses as apigw_responses
from moto.apigateway.exceptions import (
    BadRequestException,
    BasePathConflictException,
    BasePathNotFoundException,
    ConflictException,
    DeploymentNotFoundException,
    DomainNameNotFound,
    InvalidBasePathException,
    InvalidDomainName,
    InvalidRestApiIdForBasePathMappingException,
    InvalidStageException,
    RequestValidatorNotFound,
    ResourceIdNotFoundException,
    RestAPINotFound,
)

from . import account, openapi

NONE_BASE_PATH = "(none)"
CLOUDFRONT_HOSTED_ZONE_ID = "Z2FDTNDATAQYW2"

# Route 53 hosted zone ids of API Gateway's regional endpoints (execute-api), from the
# "Amazon API Gateway endpoints and quotas" page of the AWS General Reference.
REGIONAL_HOSTED_ZONE_IDS = {
    "us-east-1": "Z1UJRXOUMOOFQ8",
    "us-east-2": "ZOJJZC49E0EPZ",
    "us-west-1": "Z2MUQ32089INYE",
    "us-west-2": "Z2OJLYMUO9EFXC",
    "af-south-1": "Z2DHW2332DAMTN",
    "ap-east-1": "Z3FD1VL90ND7K5",
    "ap-south-1": "Z3VO1THU9YC4UR",
    "ap-south-2": "Z0853509Q1135NJ66RUH",
    "ap-northeast-1": "Z1YSHQZHG15GKL",
    "ap-northeast-2": "Z20JF4UZKIW1U8",
    "ap-northeast-3": "Z2YQB5RD63NC85",
    "ap-southeast-1": "ZL327KTPIQFUL",
    "ap-southeast-2": "Z2RPCDW04V8134",
    "ap-southeast-3": "Z10132843TYUYSLUG4HA3",
    "ap-southeast-4": "Z092189423Y7RJK61311D",
    "ca-central-1": "Z19DQILCV0OWEC",
    "ca-west-1": "Z04745493436AWVTG1OQY",
    "eu-central-1": "Z1U9ULNL0V5AJ3",
    "eu-central-2": "Z09222482MK253X48U76H",
    "eu-north-1": "Z3UWIKFBOOGXPP",
    "eu-south-1": "Z3BT4WSQ9TDYZV",
    "eu-south-2": "Z02499852UI5HEQ5JVWX3",
    "eu-west-1": "ZLY8HYME6SFDD",
    "eu-west-2": "ZJ5UAJN8Y3Z2Q",
    "eu-west-3": "Z3KY65QIEKYHQQ",
    "il-central-1": "Z07264553HBI44N5X2CKP",
    "me-central-1": "Z08780021BKYYY8U0YHTV",
    "me-south-1": "Z20ZBPC0SS8806",
    "sa-east-1": "ZCMLWB8V5SYIT",
    "us-gov-east-1": "Z3SE9ATJYCRCZJ",
    "us-gov-west-1": "Z1K6XKP9SAGWDV",
}

# What API Gateway reports for a method setting nobody set.
DEFAULT_METHOD_SETTINGS = {
    "metricsEnabled": False,
    "loggingLevel": "OFF",
    "dataTraceEnabled": False,
    "throttlingBurstLimit": 5000,
    "throttlingRateLimit": 10000.0,
    "cachingEnabled": False,
    "cacheTtlInSeconds": 300,
    "cacheDataEncrypted": False,
    "requireAuthorizationForCacheControl": True,
    "unauthorizedCacheControlHeaderStrategy": "SUCCEED_WITH_RESPONSE_HEADER",
}


def regional_hosted_zone_id(region: str) -> str:
    return REGIONAL_HOSTED_ZONE_IDS.get(region, REGIONAL_HOSTED_ZONE_IDS["us-east-1"])


def normalize_base_path(base_path: str | None) -> str:
    return base_path if base_path and base_path != NONE_BASE_PATH else NONE_BASE_PATH


# -- certificates ------------------------------------------------------------------------


def certificate_covers(names: list[str], domain: str) -> bool:
    """Whether a certificate for ``names`` is valid for ``domain`` (one-label wildcards)."""
    domain = domain.lower().rstrip(".")
    for name in names:
        name = name.lower().rstrip(".")
        if name == domain:
            return True
        if name.startswith("*.") and "." in domain and domain.split(".", 1)[1] == name[2:]:
            return True
    return False


def check_certificate(account_id: str, region: str, arn: str | None, domain: str) -> None:
    """Refuse a certificate API Gateway would refuse for ``domain`` in ``region``."""
    from moto.acm.models import acm_backends

    if not arn:
        raise BadRequestException(
            f"A certificate in '{region}' is required for the domain name {domain}.")
    parts = arn.split(":")
    if len(parts) < 6 or parts[2] != "acm":
        raise BadRequestException(f"Invalid certificate ARN: {arn}.")
    if parts[3] != region:
        raise BadRequestException(
            f"Invalid certificate ARN: {arn}. Certificate must be in '{region}'.")
    if parts[4] != account_id:
        raise BadRequestException("Cross-account certificate references are not allowed.")
    certificates = acm_backends[account_id][region]._certificates
    bundle = certificates.get(arn)
    if bundle is None:
        raise BadRequestException(
            f"Invalid certificate ARN: {arn}. The certificate does not exist in '{region}'.")
    bundle.check()
    if bundle.status != "ISSUED":
        raise BadRequestException(
            f"Invalid certificate ARN: {arn}. The certificate is {bundle.status}, "
            "not ISSUED.")
    names = [bundle.common_name, *bundle.sans]
    if not certificate_covers([n for n in names if n], domain):
        raise BadRequestException(
            f"Invalid certificate ARN: {arn}. The certificate for "
            f"{', '.join(sorted(set(filter(None, names))))} does not cover the domain name "
            f"{domain}.")


# -- domain names --------------------------------------------------------------------------


def endpoint_types(domain: Any) -> list[str]:
    configuration = getattr(domain, "endpoint_configuration", None) or {}
    return list(configuration.get("types") or ["EDGE"])


def create_domain_name(self: Any, domain_name: str, certificate_name: str | None,
                       tags: Any, certificate_arn: str | None, certificate_body: str | None,
                       certificate_private_key: str | None, certificate_chain: str | None,
                       regional_certificate_name: str | None,
                       regional_certificate_arn: str | None, endpoint_configuration: Any,
                       security_policy: str | None) -> Any:
    if not domain_name:
        raise InvalidDomainName()
    if domain_name in self.domain_names:
        raise ConflictException("The domain name you provided already exists.")
    configuration = dict(endpoint_configuration or {})
    types = [str(t).upper() for t in configuration.get("types") or ["EDGE"]]
    if len(types) != 1 or types[0] not in ("EDGE", "REGIONAL"):
        raise BadRequestException(
            "A custom domain name needs exactly one endpoint type: EDGE or REGIONAL.")
    configuration["types"] = types
    if types == ["REGIONAL"]:
        if certificate_arn or certificate_name:
            raise BadRequestException(
                "Cannot import certificates for EDGE while REGIONAL is active.")
        check_certificate(self.account_id, self.region_name, regional_certificate_arn,
                          domain_name)
    else:
        if regional_certificate_arn or regional_certificate_name:
            raise BadRequestException(
                "Cannot import certificates for REGIONAL while EDGE is active.")
        check_certificate(self.account_id, "us-east-1", certificate_arn, domain_name)
    domain = apigw_models.DomainName(
        domain_name=domain_name, certificate_name=certificate_name,
        certificate_private_key=certificate_private_key, certificate_arn=certificate_arn,
        certificate_body=certificate_body, certificate_chain=certificate_chain,
        regional_certificate_name=regional_certificate_name,
        regional_certificate_arn=regional_certificate_arn,
        endpoint_configuration=configuration, tags=tags,
        security_policy=security_policy or "TLS_1_0", region_name=self.region_name,
    )
    domain.regional_hosted_zone_id = regional_hosted_zone_id(self.region_name)
    domain.distribution_hosted_zone_id = CLOUDFRONT_HOSTED_ZONE_ID
    domain.domain_name_arn = f"arn:aws:apigateway:{self.region_name}::/domainnames/{domain_name}"
    self.domain_names[domain_name] = domain
    return domain


def domain_to_json(self: Any) -> dict[str, Any]:
    types = endpoint_types(self)
    data: dict[str, Any] = {
        "domainName": self.domain_name,
        "domainNameArn": getattr(self, "domain_name_arn", None),
        "endpointConfiguration": self.endpoint_configuration or {"types": types},
        "domainNameStatus": self.domain_name_status,
        "securityPolicy": self.security_policy,
    }
    if "REGIONAL" in types:
        data.update({
            "regionalDomainName": self.regional_domain_name,
            "regionalHostedZoneId": self.regional_hosted_zone_id,
            "regionalCertificateArn": self.regional_certificate_arn,
            "regionalCertificateName": self.regional_certificate_name,
        })
    else:
        data.update({
            "distributionDomainName": self.distribution_domain_name,
            "distributionHostedZoneId": self.distribution_hosted_zone_id,
            "certificateArn": self.certificate_arn,
            "certificateName": self.certificate_name,
            "certificateUploadDate": self.certificate_upload_date,
        })
    if self.tags:
        data["tags"] = self.tags
    return {k: v for k, v in data.items() if v is not None}


def delete_domain_name(self: Any, domain_name: str) -> None:
    if self.domain_names.pop(domain_name, None) is None:
        raise DomainNameNotFound()
    self.base_path_mappings.pop(domain_name, None)


# -- base path mappings --------------------------------------------------------------------


def _mappings(backend: Any, domain_name: str) -> dict[str, Any]:
    if domain_name not in backend.domain_names:
        raise DomainNameNotFound()
    return backend.base_path_mappings.setdefault(domain_name, {})


def create_base_path_mapping(self: Any, domain_name: str, rest_api_id: str,
                             base_path: str | None, stage: str | None) -> Any:
    mappings = _mappings(self, domain_name)
    if base_path and base_path != NONE_BASE_PATH and "/" in base_path:
        raise InvalidBasePathException()
    if rest_api_id not in self.apis:
        raise InvalidRestApiIdForBasePathMappingException()
    if stage and stage not in self.apis[rest_api_id].stages:
        raise InvalidStageException()
    key = normalize_base_path(base_path)
    if key in mappings:
        raise BasePathConflictException()
    mapping = apigw_models.BasePathMapping(domain_name=domain_name, rest_api_id=rest_api_id,
                                           basePath=key, stage=stage)
    mappings[key] = mapping
    return mapping


def get_base_path_mappings(self: Any, domain_name: str) -> list[Any]:
    return list(_mappings(self, domain_name).values())


def get_base_path_mapping(self: Any, domain_name: str, base_path: str) -> Any:
    mapping = _mappings(self, domain_name).get(normalize_base_path(base_path))
    if mapping is None:
        raise BasePathNotFoundException()
    return mapping


def delete_base_path_mapping(self: Any, domain_name: str, base_path: str) -> None:
    if _mappings(self, domain_name).pop(normalize_base_path(base_path), None) is None:
        raise BasePathNotFoundException()


def base_path_mapping_to_json(self: Any) -> dict[str, Any]:
    data = {"basePath": self.base_path, "restApiId": self.rest_api_id}
    if self.stage is not None:
        data["stage"] = self.stage
    return data


def _with_normalized_base_path(original: Any) -> Any:
    def update_base_path_mapping(self: Any, domain_name: str, base_path: str,
                                 patch_operations: Any) -> Any:
        _mappings(self, domain_name)
        return original(self, domain_name, normalize_base_path(base_path), patch_operations)

    return update_base_path_mapping


# -- stages and deployments ----------------------------------------------------------------


def _with_deployment_check(original: Any) -> Any:
    def create_stage(self: Any, function_id: str, stage_name: str, deploymentId: str,
                     *args: Any, **kwargs: Any) -> Any:
        api = self.get_rest_api(function_id)
        if not deploymentId or deploymentId not in api.deployments:
            raise DeploymentNotFoundException()
        if not stage_name:
            raise BadRequestException("Stage name only allows a-zA-Z0-9_")
        return original(self, function_id, stage_name, deploymentId, *args, **kwargs)

    return create_stage


def _keeping_existing_stage(original: Any) -> Any:
    def create_deployment(self: Any, name: str | None, description: str,
                          stage_variables: Any = None) -> Any:
        if name and name in self.stages:
            deployment = original(self, None, description, None)
            deployment.stage_name = name
            stage = self.stages[name]
            stage.deployment_id = deployment.id
            if stage_variables:
                stage.variables.update(stage_variables)
            return deployment
        return original(self, name, description, stage_variables)

    return create_deployment


def delete_deployment(self: Any, deployment_id: str) -> Any:
    if deployment_id not in self.deployments:
        raise DeploymentNotFoundException()
    if any(stage.deployment_id == deployment_id for stage in self.stages.values()):
        raise BadRequestException(
            "Active stages pointing to this deployment must be moved or deleted")
    return self.deployments.pop(deployment_id)


def _default_method_settings(self: Any) -> dict[str, Any]:
    return dict(DEFAULT_METHOD_SETTINGS)


def method_settings_key(resource_path: str, http_method: str) -> str:
    """The key of a stage's methodSettings entry: ``*/*``, ``~1pets/GET``.

    CloudFormation's ResourcePath is ``/pets`` or, as documented, already encoded ``/~1pets``.
    """
    if resource_path in ("/*", "*"):
        path = "*"
    elif "~1" in resource_path:
        path = resource_path[1:] if resource_path.startswith("/") else resource_path
    else:
        path = resource_path.replace("/", "~1")
    return f"{path}/{http_method}"


# -- deletes of things that are not there ---------------------------------------------------
# moto popped from a dict and answered a missing id with an HTML 500.


def delete_rest_api(self: Any, function_id: str) -> Any:
    if function_id not in self.apis:
        raise RestAPINotFound()
    return self.apis.pop(function_id)


def delete_resource(self: Any, function_id: str, resource_id: str) -> Any:
    api = self.get_rest_api(function_id)
    if resource_id not in api.resources:
        raise ResourceIdNotFoundException()
    return api.resources.pop(resource_id)


def delete_request_validator(self: Any, restapi_id: str, validator_id: str) -> None:
    api = self.get_rest_api(restapi_id)
    if validator_id not in api.request_validators:
        raise RequestValidatorNotFound()
    del api.request_validators[validator_id]


# -- tags ----------------------------------------------------------------------------------

RESERVED_TAG_PREFIX = "aws:"
RESERVED_TAG_KEY = "Invalid tag key. Tag keys cannot start with 'aws:' (case insensitive)"


@cache
def tagging_operations() -> frozenset[str]:
    """Every API Gateway operation whose input has a ``tags`` member, from botocore's model."""
    model = botocore.session.get_session().get_service_model("apigateway")
    return frozenset(name for name in model.operation_names
                     if "tags" in getattr(model.operation_model(name).input_shape, "members", {}))


def check_tag_keys(tags: Any) -> None:
    if isinstance(tags, dict) and any(str(key).lower().startswith(RESERVED_TAG_PREFIX)
                                      for key in tags):
        raise BadRequestException(RESERVED_TAG_KEY)


def _refusing_reserved_tag_keys(original: Any) -> Any:
    """Check a client's tags before moto runs the action (or finds it has none)."""
    def call_action(self: Any) -> Any:
        if self._get_action() in tagging_operations():
            check_tag_keys(self._get_param("tags"))
        return original(self)

    return call_action


# -- import and put ------------------------------------------------------------------------


def _query_parameters(response: Any) -> dict[str, str]:
    reserved = {"mode", "failonwarnings"}
    return {k: v[0] if isinstance(v, list) else v for k, v in response.querystring.items()
            if k.lower() not in reserved}


def import_rest_api_response(self: Any) -> Any:
    import json

    document = openapi.load_document(self.body or "")
    api = openapi.import_rest_api(
        self.backend, document,
        fail_on_warnings=bool(self._get_bool_param("failonwarnings")),
        parameters=_query_parameters(self),
    )
    return 201, {"status": 201}, json.dumps(api.to_dict())


def put_rest_api_response(self: Any) -> Any:
    import json

    api_id = unquote(self.path.replace("/restapis/", "", 1).split("/")[0])
    document = openapi.load_document(self.body or "")
    api = openapi.put_rest_api(
        self.backend, api_id, document,
        mode=self._get_param("mode", "merge"),
        fail_on_warnings=bool(self._get_bool_param("failonwarnings")),
    )
    return 200, {}, json.dumps(api.to_dict())


def import_rest_api_backend(self: Any, api_doc: dict[str, Any], fail_on_warnings: bool) -> Any:
    return openapi.import_rest_api(self, openapi.load_document(api_doc),
                                   fail_on_warnings=fail_on_warnings)


def put_rest_api_backend(self: Any, function_id: str, api_doc: dict[str, Any],
                         fail_on_warnings: bool, mode: str = "merge") -> Any:
    return openapi.put_rest_api(self, function_id, openapi.load_document(api_doc), mode=mode,
                                fail_on_warnings=fail_on_warnings)


_installed = False


def _stage_apply_operations(original: Any) -> Any:
    """UpdateStage that also removes a method setting (``remove /{path}/{method}``), as AWS
    does; moto ignored that operation, so a stage could not be brought back to fewer settings.
    """
    def apply_operations(self: Any, patch_operations: list[dict[str, Any]]) -> Any:
        rest = []
        for op in patch_operations:
            parts = op.get("path", "").split("/")
            # A method setting's path is /{resource path}/{method}: /*/* or /~1pets/GET.
            is_setting = len(parts) == 3 and (parts[1] == "*" or parts[1].startswith("~1"))
            if op.get("op") == "remove" and is_setting and parts[2]:
                key = f"{parts[1]}/{parts[2]}"
                if key not in self.method_settings:
                    raise BadRequestException(
                        f"Cannot remove method setting {key} because there is no method "
                        "setting for this method")
                del self.method_settings[key]
            else:
                rest.append(op)
        return original(self, rest)

    return apply_operations


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    backend = apigw_models.APIGatewayBackend
    backend.import_rest_api = import_rest_api_backend
    backend.put_rest_api = put_rest_api_backend
    backend.create_domain_name = create_domain_name
    backend.delete_rest_api = delete_rest_api
    backend.delete_resource = delete_resource
    backend.delete_request_validator = delete_request_validator
    backend.delete_domain_name = delete_domain_name
    backend.create_base_path_mapping = create_base_path_mapping
    backend.get_base_path_mappings = get_base_path_mappings
    backend.get_base_path_mapping = get_base_path_mapping
    backend.delete_base_path_mapping = delete_base_path_mapping
    backend.update_base_path_mapping = _with_normalized_base_path(
        backend.update_base_path_mapping)
    backend.create_stage = _with_deployment_check(backend.create_stage)
    apigw_models.DomainName.to_json = domain_to_json
    apigw_models.BasePathMapping.to_json = base_path_mapping_to_json
    apigw_models.RestAPI.create_deployment = _keeping_existing_stage(
        apigw_models.RestAPI.create_deployment)
    apigw_models.RestAPI.delete_deployment = delete_deployment
    apigw_models.Stage._get_default_method_settings = _default_method_settings
    apigw_models.Stage.apply_operations = _stage_apply_operations(
        apigw_models.Stage.apply_operations)
    response = apigw_responses.APIGatewayResponse
    response.import_rest_api = import_rest_api_response
    response.put_rest_api = put_rest_api_response
    response.call_action = _refusing_reserved_tag_keys(response.call_action)
    account.install()

