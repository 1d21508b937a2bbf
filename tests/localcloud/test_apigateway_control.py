"""The API Gateway control plane through the API: import, domain names, stages, mappings."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import yaml
from botocore.exceptions import ClientError

REGION = "us-east-1"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def swagger_document(title: str) -> dict[str, Any]:
    return {
        "swagger": "2.0",
        "info": {"title": title, "description": "pets", "version": "1"},
        "consumes": ["application/json"],
        "x-amazon-apigateway-request-validators": {
            "all": {"validateRequestBody": True, "validateRequestParameters": True}},
        "x-amazon-apigateway-gateway-responses": {
            "MISSING_AUTHENTICATION_TOKEN": {
                "statusCode": 404,
                "responseTemplates": {"application/json": '{"message": "no such route"}'}}},
        "definitions": {"Pet": {"type": "object", "required": ["name"],
                                "properties": {"name": {"type": "string"}}}},
        "paths": {"/pets/{id}": {
            "parameters": [{"name": "id", "in": "path", "required": True, "type": "string"}],
            "put": {
                "x-amazon-apigateway-request-validator": "all",
                "parameters": [{"name": "body", "in": "body",
                                "schema": {"$ref": "#/definitions/Pet"}},
                               {"name": "dryRun", "in": "query", "type": "string"}],
                "responses": {"200": {"description": "ok",
                                      "schema": {"$ref": "#/definitions/Pet"},
                                      "headers": {"X-Pet": {"type": "string"}}}},
                "x-amazon-apigateway-integration": {
                    "type": "mock",
                    "requestTemplates": {"application/json": '{"statusCode": 200}'},
                    "responses": {"default": {"statusCode": "200", "responseParameters": {
                        "method.response.header.X-Pet": "'yes'"}}}},
            }}},
    }


def methods(apigw: Any, api_id: str) -> dict[str, dict[str, Any]]:
    items = apigw.get_resources(restApiId=api_id, embed=["methods"])["items"]
    return {r["path"]: r.get("resourceMethods", {}) for r in items}


def test_import_rest_api_swagger2_keeps_the_whole_definition(localcloud):
    apigw = localcloud.client("apigateway")
    title = unique("pets")
    api = apigw.import_rest_api(body=yaml.safe_dump(swagger_document(title)).encode(),
                                parameters={"endpointConfigurationTypes": "REGIONAL"})

    assert api["name"] == title
    assert api["description"] == "pets"
    assert api["endpointConfiguration"]["types"] == ["REGIONAL"]
    put = methods(apigw, api["id"])["/pets/{id}"]["PUT"]
    validator = apigw.get_request_validator(restApiId=api["id"],
                                            requestValidatorId=put["requestValidatorId"])
    assert validator["name"] == "all" and validator["validateRequestParameters"] is True
    assert put["requestParameters"] == {"method.request.path.id": True,
                                        "method.request.querystring.dryRun": False}
    assert put["requestModels"] == {"application/json": "Pet"}
    assert put["methodResponses"]["200"]["responseModels"] == {"application/json": "Pet"}
    assert put["methodResponses"]["200"]["responseParameters"] == {
        "method.response.header.X-Pet": False}
    assert put["methodIntegration"]["type"] == "MOCK"
    assert put["methodIntegration"]["integrationResponses"]["200"]["responseParameters"] == {
        "method.response.header.X-Pet": "'yes'"}
    schema = json.loads(apigw.get_model(restApiId=api["id"], modelName="Pet")["schema"])
    assert schema["required"] == ["name"] and schema["title"] == "Pet"
    response = apigw.get_gateway_response(restApiId=api["id"],
                                          responseType="MISSING_AUTHENTICATION_TOKEN")
    assert response["statusCode"] == "404"
    apigw.delete_rest_api(restApiId=api["id"])


def test_put_rest_api_overwrite_replaces_and_merge_adds(localcloud):
    apigw = localcloud.client("apigateway")
    title = unique("modes")
    api = apigw.import_rest_api(body=json.dumps(swagger_document(title)).encode())
    root_id = next(r["id"] for r in apigw.get_resources(restApiId=api["id"])["items"]
                   if r["path"] == "/")

    def one_path(path: str, verb: str) -> bytes:
        return json.dumps({"openapi": "3.0.1", "info": {"title": title}, "paths": {path: {verb: {
            "responses": {"200": {"description": "ok"}},
            "x-amazon-apigateway-integration": {"type": "mock"}}}}}).encode()

    apigw.put_rest_api(restApiId=api["id"], mode="overwrite", body=one_path("/a", "get"))
    assert set(methods(apigw, api["id"])) == {"/", "/a"}
    assert apigw.get_models(restApiId=api["id"])["items"] == []
    assert apigw.get_request_validators(restApiId=api["id"])["items"] == []
    assert apigw.get_gateway_responses(restApiId=api["id"])["items"] == []

    apigw.put_rest_api(restApiId=api["id"], mode="merge", body=one_path("/a", "post"))
    apigw.put_rest_api(restApiId=api["id"], mode="merge", body=one_path("/b", "get"))
    found = methods(apigw, api["id"])
    assert set(found) == {"/", "/a", "/b"}
    assert set(found["/a"]) == {"GET", "POST"}
    assert [r["id"] for r in apigw.get_resources(restApiId=api["id"])["items"]
            if r["path"] == "/"] == [root_id]
    apigw.delete_rest_api(restApiId=api["id"])


@pytest.mark.parametrize("body", [b"not: [yaml", b'{"title": "no version"}', b"[]"])
def test_import_of_an_invalid_document_is_a_bad_request(localcloud, body):
    with pytest.raises(ClientError) as raised:
        localcloud.client("apigateway").import_rest_api(body=body)
    assert raised.value.response["Error"]["Code"] == "BadRequestException"
    assert "Invalid OpenAPI input" in raised.value.response["Error"]["Message"]


def request_certificate(cloud: Any, domain: str, region: str = REGION) -> str:
    acm = cloud.client("acm", region)
    arn = acm.request_certificate(DomainName=domain)["CertificateArn"]
    assert acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"] == "ISSUED"
    return arn


def test_a_certificate_requested_right_after_start_up_is_issued_at_once(fresh_localcloud):
    """Before CloudFormation support was installed (a second or two after start-up), moto still
    used its default 60 s validation wait, and a domain name right after was refused."""
    acm = fresh_localcloud.client("acm", REGION)
    arn = acm.request_certificate(DomainName="early.example.test")["CertificateArn"]

    assert acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"] == "ISSUED"
    created = fresh_localcloud.client("apigateway", REGION).create_domain_name(
        domainName="early.example.test", regionalCertificateArn=arn,
        endpointConfiguration={"types": ["REGIONAL"]})
    assert created["domainNameStatus"] == "AVAILABLE"


def test_regional_domain_name_reports_what_aws_reports(localcloud):
    apigw = localcloud.client("apigateway", "us-west-2")
    domain = f"{unique('west')}.example.test"
    arn = request_certificate(localcloud, domain, "us-west-2")
    created = apigw.create_domain_name(domainName=domain, regionalCertificateArn=arn,
                                       endpointConfiguration={"types": ["REGIONAL"]})

    assert created["regionalHostedZoneId"] == "Z2OJLYMUO9EFXC"
    assert created["regionalDomainName"].startswith("d-")
    assert created["regionalDomainName"].endswith(".execute-api.us-west-2.amazonaws.com")
    assert created["securityPolicy"] == "TLS_1_0"
    assert created["domainNameStatus"] == "AVAILABLE"
    assert "distributionDomainName" not in created and "certificateArn" not in created
    assert apigw.get_domain_name(domainName=domain)["regionalDomainName"] == \
        created["regionalDomainName"]
    with pytest.raises(ClientError) as raised:
        apigw.create_domain_name(domainName=domain, regionalCertificateArn=arn,
                                 endpointConfiguration={"types": ["REGIONAL"]})
    assert raised.value.response["Error"]["Code"] == "ConflictException"
    apigw.delete_domain_name(domainName=domain)


@pytest.mark.parametrize("case", ["wrong-region", "not-covering", "missing"])
def test_domain_name_certificate_checks(localcloud, case):
    apigw = localcloud.client("apigateway")
    domain = f"{unique('check')}.example.test"
    arn = {
        "wrong-region": request_certificate(localcloud, domain, "us-west-2"),
        "not-covering": request_certificate(localcloud, "elsewhere.example.test"),
        "missing": None,
    }[case]
    kwargs = {"regionalCertificateArn": arn} if arn else {}
    with pytest.raises(ClientError) as raised:
        apigw.create_domain_name(domainName=domain, endpointConfiguration={"types": ["REGIONAL"]},
                                 **kwargs)
    assert raised.value.response["Error"]["Code"] == "BadRequestException"
    message = raised.value.response["Error"]["Message"]
    assert {"wrong-region": "Certificate must be in 'us-east-1'",
            "not-covering": f"does not cover the domain name {domain}",
            "missing": "certificate in 'us-east-1' is required"}[case] in message


def deployed_api(apigw: Any, stage: str) -> tuple[str, str]:
    api = apigw.create_rest_api(name=unique("staged"),
                                endpointConfiguration={"types": ["REGIONAL"]})
    root = apigw.get_resources(restApiId=api["id"])["items"][0]["id"]
    apigw.put_method(restApiId=api["id"], resourceId=root, httpMethod="GET",
                     authorizationType="NONE")
    apigw.put_integration(restApiId=api["id"], resourceId=root, httpMethod="GET", type="MOCK")
    deployment = apigw.create_deployment(restApiId=api["id"], stageName=stage)
    return api["id"], deployment["id"]


def test_stage_can_be_deleted_and_recreated_from_its_deployment(localcloud):
    apigw = localcloud.client("apigateway")
    api_id, deployment_id = deployed_api(apigw, "live")

    apigw.delete_stage(restApiId=api_id, stageName="live")
    with pytest.raises(ClientError) as raised:
        apigw.get_stage(restApiId=api_id, stageName="live")
    assert raised.value.response["Error"]["Code"] == "NotFoundException"

    apigw.create_stage(restApiId=api_id, stageName="live", deploymentId=deployment_id)
    assert apigw.get_stage(restApiId=api_id, stageName="live")["deploymentId"] == deployment_id
    with pytest.raises(ClientError) as raised:
        apigw.create_stage(restApiId=api_id, stageName="other", deploymentId="nosuchid")
    assert raised.value.response["Error"]["Code"] == "NotFoundException"
    apigw.delete_rest_api(restApiId=api_id)


def test_redeploying_a_stage_keeps_its_settings(localcloud):
    apigw = localcloud.client("apigateway")
    api_id, first = deployed_api(apigw, "live")
    apigw.update_stage(restApiId=api_id, stageName="live", patchOperations=[
        {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "7"},
        {"op": "replace", "path": "/variables/color", "value": "green"}])

    second = apigw.create_deployment(restApiId=api_id, stageName="live")["id"]

    stage = apigw.get_stage(restApiId=api_id, stageName="live")
    assert stage["deploymentId"] == second != first
    assert stage["variables"] == {"color": "green"}
    assert stage["methodSettings"]["*/*"]["throttlingRateLimit"] == 7.0
    assert stage["methodSettings"]["*/*"]["throttlingBurstLimit"] == 5000
    with pytest.raises(ClientError, match="Active stages"):
        apigw.delete_deployment(restApiId=api_id, deploymentId=second)
    apigw.delete_deployment(restApiId=api_id, deploymentId=first)
    apigw.delete_rest_api(restApiId=api_id)


def test_base_path_mapping_none_can_be_listed_conflicts_and_deleted(localcloud):
    apigw = localcloud.client("apigateway")
    api_id, _ = deployed_api(apigw, "live")
    domain = f"{unique('map')}.example.test"
    apigw.create_domain_name(domainName=domain,
                             regionalCertificateArn=request_certificate(localcloud, domain),
                             endpointConfiguration={"types": ["REGIONAL"]})
    assert apigw.get_base_path_mappings(domainName=domain).get("items", []) == []

    apigw.create_base_path_mapping(domainName=domain, restApiId=api_id, stage="live")
    apigw.create_base_path_mapping(domainName=domain, restApiId=api_id, stage="live",
                                   basePath="v1")
    with pytest.raises(ClientError) as raised:
        apigw.create_base_path_mapping(domainName=domain, restApiId=api_id, stage="live")
    assert raised.value.response["Error"]["Code"] == "ConflictException"
    assert apigw.get_base_path_mapping(domainName=domain, basePath="(none)")["stage"] == "live"

    apigw.delete_base_path_mapping(domainName=domain, basePath="(none)")
    assert [m["basePath"] for m in apigw.get_base_path_mappings(domainName=domain)["items"]] \
        == ["v1"]
    with pytest.raises(ClientError) as raised:
        apigw.delete_base_path_mapping(domainName=domain, basePath="(none)")
    assert raised.value.response["Error"]["Code"] == "NotFoundException"

    apigw.delete_domain_name(domainName=domain)
    apigw.create_domain_name(domainName=domain,
                             regionalCertificateArn=request_certificate(localcloud, domain),
                             endpointConfiguration={"types": ["REGIONAL"]})
    assert apigw.get_base_path_mappings(domainName=domain).get("items", []) == []
    apigw.delete_domain_name(domainName=domain)
    apigw.delete_rest_api(restApiId=api_id)


def test_deleting_what_does_not_exist_is_not_found(localcloud):
    apigw = localcloud.client("apigateway")
    with pytest.raises(ClientError) as raised:
        apigw.delete_rest_api(restApiId="nosuchapi")
    assert raised.value.response["Error"]["Code"] == "NotFoundException"
    api_id, _ = deployed_api(apigw, "live")
    with pytest.raises(ClientError) as raised:
        apigw.delete_resource(restApiId=api_id, resourceId="nosuchres")
    assert raised.value.response["Error"]["Code"] == "NotFoundException"
    apigw.delete_rest_api(restApiId=api_id)


@pytest.mark.parametrize(("resource_path", "key"), [
    ("/*", "*/*"), ("/pets", "~1pets/GET"), ("/~1pets", "~1pets/GET"),
    ("/pets/{id}", "~1pets~1{id}/GET"),
])
def test_method_settings_keys_follow_aws_encoding(resource_path: str, key: str) -> None:
    from localcloud.apigateway.control import method_settings_key

    assert method_settings_key(resource_path, "*" if key.startswith("*") else "GET") == key


def test_update_stage_removes_a_method_setting(localcloud) -> None:
    apigw = localcloud.client("apigateway", "eu-west-1")
    api = apigw.create_rest_api(name="remove-setting")["id"]
    root = apigw.get_resources(restApiId=api)["items"][0]["id"]
    apigw.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
    apigw.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK",
                          requestTemplates={"application/json": '{"statusCode": 200}'})
    deployment = apigw.create_deployment(restApiId=api)["id"]
    apigw.create_stage(restApiId=api, stageName="s", deploymentId=deployment)
    apigw.update_stage(restApiId=api, stageName="s", patchOperations=[
        {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "5"},
        {"op": "replace", "path": "/~1/GET/throttling/rateLimit", "value": "7"}])
    assert set(apigw.get_stage(restApiId=api, stageName="s")["methodSettings"]) == {
        "*/*", "~1/GET"}

    apigw.update_stage(restApiId=api, stageName="s",
                       patchOperations=[{"op": "remove", "path": "/~1/GET"}])
    assert set(apigw.get_stage(restApiId=api, stageName="s")["methodSettings"]) == {"*/*"}

    with pytest.raises(apigw.exceptions.BadRequestException, match="no method setting"):
        apigw.update_stage(restApiId=api, stageName="s",
                           patchOperations=[{"op": "remove", "path": "/~1/GET"}])
