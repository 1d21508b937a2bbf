"""API Gateway through CloudFormation: what a stack creates is what the API shows."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import yaml

REGION = "us-east-1"
HOSTED_ZONE_US_EAST_1 = "Z1UJRXOUMOOFQ8"
ROLE_ARN = "arn:aws:iam::123456789012:role/api-events"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def deploy(cloud: Any, template: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    cfn = cloud.client("cloudformation")
    name = unique("apigw")
    cfn.create_stack(StackName=name, TemplateBody=yaml.safe_dump(template), **kwargs)
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    stack["Out"] = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []}
    return stack


def reasons(cloud: Any, stack_name: str) -> list[str]:
    events = cloud.client("cloudformation").describe_stack_events(StackName=stack_name)
    return [e["ResourceStatusReason"] for e in events["StackEvents"]
            if e["ResourceStatus"] == "CREATE_FAILED" and e["LogicalResourceId"] != stack_name]


def openapi_body(title: str) -> dict[str, Any]:
    """An OpenAPI 3 definition with every extension the importer must keep."""
    return {
        "openapi": "3.0.1",
        "info": {"title": title, "version": "1.0"},
        "x-amazon-apigateway-binary-media-types": ["image/png"],
        "x-amazon-apigateway-request-validators": {
            "body-only": {"validateRequestBody": True, "validateRequestParameters": False},
            "params-only": {"validateRequestBody": False, "validateRequestParameters": True},
        },
        "x-amazon-apigateway-request-validator": "body-only",
        "x-amazon-apigateway-gateway-responses": {
            "BAD_REQUEST_BODY": {
                "statusCode": 400,
                "responseParameters": {"gatewayresponse.header.X-Region": "'us-east-1'"},
                "responseTemplates": {
                    "application/json": '{"message": $context.error.messageString}'},
            },
        },
        "components": {"schemas": {
            "Order": {"type": "object", "required": ["item"],
                      "properties": {"item": {"type": "string"},
                                     "meta": {"$ref": "#/components/schemas/Meta"}}},
            "Meta": {"type": "object"},
        }},
        "paths": {
            "/orders": {"post": {
                "operationId": "CreateOrder",
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Order"}}}},
                "responses": {"200": {"description": "ok", "headers": {
                    "X-Region": {"schema": {"type": "string"}}}}},
                "x-amazon-apigateway-integration": {
                    "type": "aws",
                    "uri": f"arn:aws:apigateway:{REGION}:events:path//",
                    "httpMethod": "POST",
                    "credentials": ROLE_ARN,
                    "requestParameters": {
                        "integration.request.header.X-Amz-Target": "'AWSEvents.PutEvents'"},
                    "requestTemplates": {"application/json": '{"Entries": []}'},
                    "passthroughBehavior": "never",
                    "timeoutInMillis": 5000,
                    "responses": {
                        "default": {"statusCode": "200", "responseParameters": {
                            "method.response.header.X-Region": "'us-east-1'"}},
                        "4\\d{2}": {"statusCode": "400",
                                    "responseTemplates": {"application/json": '{"e": 1}'}},
                    },
                },
            }},
            "/orders/{id}": {"get": {
                "x-amazon-apigateway-request-validator": "params-only",
                "parameters": [{"name": "id", "in": "path", "required": True},
                               {"name": "verbose", "in": "query", "required": True},
                               {"name": "X-Trace", "in": "header"}],
                "responses": {"200": {"description": "ok"}},
                "x-amazon-apigateway-integration": {
                    "type": "mock",
                    "requestTemplates": {"application/json": '{"statusCode": 200}'},
                    "responses": {"default": {"statusCode": "200"}},
                },
            }},
        },
    }


def resources_by_path(apigw: Any, api_id: str) -> dict[str, Any]:
    items = apigw.get_resources(restApiId=api_id, embed=["methods"])["items"]
    return {r["path"]: r for r in items}


def assert_openapi_round_trip(apigw: Any, api_id: str, title: str) -> None:
    api = apigw.get_rest_api(restApiId=api_id)
    assert api["name"] == title
    assert api["binaryMediaTypes"] == ["image/png"]
    validators = {v["name"]: v for v in apigw.get_request_validators(restApiId=api_id)["items"]}
    assert validators["body-only"]["validateRequestBody"] is True
    assert validators["params-only"]["validateRequestParameters"] is True

    resources = resources_by_path(apigw, api_id)
    assert set(resources) == {"/", "/orders", "/orders/{id}"}
    post = apigw.get_method(restApiId=api_id, resourceId=resources["/orders"]["id"],
                            httpMethod="POST")
    assert post["requestValidatorId"] == validators["body-only"]["id"]
    assert post["requestModels"] == {"application/json": "Order"}
    assert post["operationName"] == "CreateOrder"
    assert post["methodResponses"]["200"]["responseParameters"] == {
        "method.response.header.X-Region": False}
    integration = apigw.get_integration(restApiId=api_id,
                                        resourceId=resources["/orders"]["id"], httpMethod="POST")
    assert integration["type"] == "AWS"
    assert integration["httpMethod"] == "POST"
    assert integration["credentials"] == ROLE_ARN
    assert integration["requestParameters"] == {
        "integration.request.header.X-Amz-Target": "'AWSEvents.PutEvents'"}
    assert integration["requestTemplates"] == {"application/json": '{"Entries": []}'}
    assert integration["passthroughBehavior"] == "NEVER"
    assert integration["timeoutInMillis"] == 5000
    default = apigw.get_integration_response(
        restApiId=api_id, resourceId=resources["/orders"]["id"], httpMethod="POST",
        statusCode="200")
    assert "selectionPattern" not in default
    assert default["responseParameters"] == {"method.response.header.X-Region": "'us-east-1'"}
    client_error = apigw.get_integration_response(
        restApiId=api_id, resourceId=resources["/orders"]["id"], httpMethod="POST",
        statusCode="400")
    assert client_error["selectionPattern"] == "4\\d{2}"
    assert client_error["responseTemplates"] == {"application/json": '{"e": 1}'}

    get = apigw.get_method(restApiId=api_id, resourceId=resources["/orders/{id}"]["id"],
                           httpMethod="GET")
    assert get["requestValidatorId"] == validators["params-only"]["id"]
    assert get["requestParameters"] == {"method.request.path.id": True,
                                        "method.request.querystring.verbose": True,
                                        "method.request.header.X-Trace": False}
    assert get["methodIntegration"]["type"] == "MOCK"

    models = {m["name"]: m for m in apigw.get_models(restApiId=api_id)["items"]}
    order = json.loads(models["Order"]["schema"])
    assert order["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert order["required"] == ["item"]
    assert order["properties"]["meta"]["$ref"] == (
        f"https://apigateway.amazonaws.com/restapis/{api_id}/models/Meta")
    responses = {r["responseType"]: r for r in apigw.get_gateway_responses(
        restApiId=api_id)["items"]}
    assert responses["BAD_REQUEST_BODY"]["statusCode"] == "400"
    assert responses["BAD_REQUEST_BODY"]["responseParameters"] == {
        "gatewayresponse.header.X-Region": "'us-east-1'"}
    assert "messageString" in responses["BAD_REQUEST_BODY"]["responseTemplates"][
        "application/json"]


def test_rest_api_body_is_imported_with_full_fidelity(localcloud):
    title = unique("orders")
    stack = deploy(localcloud, {
        "Resources": {"Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {
            "Body": openapi_body(title), "EndpointConfiguration": {"Types": ["REGIONAL"]}}}},
        "Outputs": {"Id": {"Value": {"Ref": "Api"}},
                    "Root": {"Value": {"Fn::GetAtt": ["Api", "RootResourceId"]}}},
    })
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    apigw = localcloud.client("apigateway")
    assert_openapi_round_trip(apigw, stack["Out"]["Id"], title)
    assert apigw.get_rest_api(restApiId=stack["Out"]["Id"])["endpointConfiguration"] == {
        "types": ["REGIONAL"]}
    assert resources_by_path(apigw, stack["Out"]["Id"])["/"]["id"] == stack["Out"]["Root"]
    localcloud.client("cloudformation").delete_stack(StackName=stack["StackName"])


def test_rest_api_body_from_s3_and_update_overwrites_the_definition(localcloud):
    s3, cfn = localcloud.client("s3"), localcloud.client("cloudformation")
    bucket, title = unique("specs"), unique("from-s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="api.yaml", Body=yaml.safe_dump(openapi_body(title)))
    stack = deploy(localcloud, {
        "Resources": {"Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {
            "BodyS3Location": {"Bucket": bucket, "Key": "api.yaml"}}}},
        "Outputs": {"Id": {"Value": {"Ref": "Api"}}}})
    api_id = stack["Out"]["Id"]
    apigw = localcloud.client("apigateway")
    assert_openapi_round_trip(apigw, api_id, title)

    smaller = {"openapi": "3.0.1", "info": {"title": title}, "paths": {"/ping": {"get": {
        "responses": {"200": {"description": "ok"}},
        "x-amazon-apigateway-integration": {"type": "mock"}}}}}
    cfn.update_stack(StackName=stack["StackName"], TemplateBody=yaml.safe_dump({
        "Resources": {"Api": {"Type": "AWS::ApiGateway::RestApi",
                              "Properties": {"Body": smaller, "Name": "renamed"}}},
        "Outputs": {"Id": {"Value": {"Ref": "Api"}}}}))
    assert cfn.describe_stacks(StackName=stack["StackName"])["Stacks"][0]["StackStatus"] == \
        "UPDATE_COMPLETE"
    assert set(resources_by_path(apigw, api_id)) == {"/", "/ping"}
    assert apigw.get_rest_api(restApiId=api_id)["name"] == "renamed"
    assert apigw.get_models(restApiId=api_id)["items"] == []
    cfn.delete_stack(StackName=stack["StackName"])


def test_method_resources_keep_every_property(localcloud):
    stack = deploy(localcloud, {
        "Resources": {
            "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": unique("m")}},
            "Validator": {"Type": "AWS::ApiGateway::RequestValidator", "Properties": {
                "RestApiId": {"Ref": "Api"}, "ValidateRequestBody": True,
                "ValidateRequestParameters": True}},
            "Model": {"Type": "AWS::ApiGateway::Model", "Properties": {
                "RestApiId": {"Ref": "Api"}, "Name": "Input", "ContentType": "application/json",
                "Schema": {"type": "object", "required": ["a"]}}},
            "Items": {"Type": "AWS::ApiGateway::Resource", "Properties": {
                "RestApiId": {"Ref": "Api"}, "PathPart": "items",
                "ParentId": {"Fn::GetAtt": ["Api", "RootResourceId"]}}},
            "Post": {"Type": "AWS::ApiGateway::Method", "Properties": {
                "RestApiId": {"Ref": "Api"}, "ResourceId": {"Ref": "Items"},
                "HttpMethod": "POST", "AuthorizationType": "NONE",
                "RequestValidatorId": {"Ref": "Validator"},
                "RequestModels": {"application/json": {"Ref": "Model"}},
                "RequestParameters": {"method.request.header.X-Id": True},
                "MethodResponses": [{"StatusCode": "202", "ResponseParameters": {
                    "method.response.header.X-Region": True}}],
                "Integration": {
                    "Type": "AWS", "IntegrationHttpMethod": "POST",
                    "Uri": f"arn:aws:apigateway:{REGION}:sqs:action/SendMessage",
                    "Credentials": ROLE_ARN,
                    "RequestParameters": {"integration.request.header.Content-Type":
                                          "'application/x-www-form-urlencoded'"},
                    "RequestTemplates": {"application/json": "Action=SendMessage"},
                    "PassthroughBehavior": "NEVER",
                    "IntegrationResponses": [
                        {"StatusCode": "202", "ResponseParameters": {
                            "method.response.header.X-Region": "'us-east-1'"}},
                        {"StatusCode": "500", "SelectionPattern": "5\\d{2}",
                         "ResponseTemplates": {"application/json": '{"m": "failed"}'}}]},
            }},
            "GatewayResponse": {"Type": "AWS::ApiGateway::GatewayResponse", "Properties": {
                "RestApiId": {"Ref": "Api"}, "ResponseType": "DEFAULT_4XX", "StatusCode": "418",
                "ResponseParameters": {"gatewayresponse.header.X-Region": "'us-east-1'"}}},
        },
        "Outputs": {"Id": {"Value": {"Ref": "Api"}}, "Items": {"Value": {"Ref": "Items"}},
                    "Validator": {"Value": {"Fn::GetAtt": ["Validator", "RequestValidatorId"]}},
                    "Model": {"Value": {"Ref": "Model"}},
                    "Method": {"Value": {"Ref": "Post"}},
                    "Response": {"Value": {"Fn::GetAtt": ["GatewayResponse", "Id"]}}},
    })
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    out, apigw = stack["Out"], localcloud.client("apigateway")
    assert out["Model"] == "Input"
    assert out["Method"] and out["Response"] and "{" not in out["Method"]
    method = apigw.get_method(restApiId=out["Id"], resourceId=out["Items"], httpMethod="POST")
    assert method["requestValidatorId"] == out["Validator"]
    assert method["requestModels"] == {"application/json": "Input"}
    assert method["requestParameters"] == {"method.request.header.X-Id": True}
    assert method["methodResponses"]["202"]["responseParameters"] == {
        "method.response.header.X-Region": True}
    integration = method["methodIntegration"]
    assert integration["credentials"] == ROLE_ARN
    assert integration["requestTemplates"] == {"application/json": "Action=SendMessage"}
    assert integration["passthroughBehavior"] == "NEVER"
    assert integration["integrationResponses"]["500"]["selectionPattern"] == "5\\d{2}"
    assert integration["integrationResponses"]["202"]["responseParameters"] == {
        "method.response.header.X-Region": "'us-east-1'"}
    gateway_response = apigw.get_gateway_response(restApiId=out["Id"], responseType="DEFAULT_4XX")
    assert gateway_response["statusCode"] == "418"
    localcloud.client("cloudformation").delete_stack(StackName=stack["StackName"])


def certificate(cloud: Any, domain: str, region: str = REGION) -> str:
    return cloud.client("acm", region).request_certificate(DomainName=domain)["CertificateArn"]


# The region's API Gateway account needs a CloudWatch role before a stage may log
# (AWS::ApiGateway::Account; "Set up CloudWatch logging for REST APIs in API Gateway").
CLOUDWATCH_ROLE = {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {
    "Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"},
        "Action": "sts:AssumeRole"}]}}}
ACCOUNT = {"Type": "AWS::ApiGateway::Account",
           "Properties": {"CloudWatchRoleArn": {"Fn::GetAtt": ["CloudWatchRole", "Arn"]}}}


def domain_stack(api_name: str, domain: str, certificate_arn: str) -> dict[str, Any]:
    return {
        "Resources": {
            "CloudWatchRole": CLOUDWATCH_ROLE,
            "Account": ACCOUNT,
            "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {
                "Name": api_name, "EndpointConfiguration": {"Types": ["REGIONAL"]}}},
            "Health": {"Type": "AWS::ApiGateway::Method", "Properties": {
                "RestApiId": {"Ref": "Api"},
                "ResourceId": {"Fn::GetAtt": ["Api", "RootResourceId"]},
                "HttpMethod": "GET", "AuthorizationType": "NONE",
                "Integration": {"Type": "MOCK"}}},
            "Deployment": {"Type": "AWS::ApiGateway::Deployment", "DependsOn": "Health",
                           "Properties": {"RestApiId": {"Ref": "Api"}}},
            "Stage": {"Type": "AWS::ApiGateway::Stage", "DependsOn": "Account", "Properties": {
                "RestApiId": {"Ref": "Api"}, "DeploymentId": {"Ref": "Deployment"},
                "StageName": "Prod", "Description": "production",
                "Variables": {"color": "blue"}, "TracingEnabled": True,
                "MethodSettings": [
                    {"ResourcePath": "/*", "HttpMethod": "*", "ThrottlingRateLimit": 50,
                     "ThrottlingBurstLimit": 100, "MetricsEnabled": True},
                    {"ResourcePath": "/", "HttpMethod": "GET", "LoggingLevel": "INFO"}],
                "AccessLogSetting": {
                    "DestinationArn": "arn:aws:logs:us-east-1:123456789012:log-group:access",
                    "Format": '{"requestId":"$context.requestId"}'}}},
            "Domain": {"Type": "AWS::ApiGateway::DomainName", "Properties": {
                "DomainName": domain, "RegionalCertificateArn": certificate_arn,
                "EndpointConfiguration": {"Types": ["REGIONAL"]}, "SecurityPolicy": "TLS_1_2"}},
            "Mapping": {"Type": "AWS::ApiGateway::BasePathMapping", "Properties": {
                "DomainName": {"Ref": "Domain"}, "RestApiId": {"Ref": "Api"},
                "Stage": {"Ref": "Stage"}}},
        },
        "Outputs": {
            "Api": {"Value": {"Ref": "Api"}},
            "Deployment": {"Value": {"Ref": "Deployment"}},
            "DeploymentId": {"Value": {"Fn::GetAtt": ["Deployment", "DeploymentId"]}},
            "Stage": {"Value": {"Ref": "Stage"}},
            "Domain": {"Value": {"Ref": "Domain"}},
            "RegionalDomainName": {"Value": {"Fn::GetAtt": ["Domain", "RegionalDomainName"]}},
            "RegionalHostedZoneId": {"Value": {"Fn::GetAtt": ["Domain", "RegionalHostedZoneId"]}},
        },
    }


def test_stage_domain_name_and_base_path_mapping(localcloud):
    domain = f"{unique('api')}.example.test"
    stack = deploy(localcloud, domain_stack(unique("regional"), domain,
                                            certificate(localcloud, domain)))
    assert stack["StackStatus"] == "CREATE_COMPLETE", reasons(localcloud, stack["StackName"])
    out, apigw = stack["Out"], localcloud.client("apigateway")

    assert out["Deployment"] == out["DeploymentId"]
    assert out["Stage"] == "Prod"
    assert out["Domain"] == domain
    assert out["RegionalDomainName"].startswith("d-")
    assert out["RegionalDomainName"].endswith(f".execute-api.{REGION}.amazonaws.com")
    assert out["RegionalHostedZoneId"] == HOSTED_ZONE_US_EAST_1

    stage = apigw.get_stage(restApiId=out["Api"], stageName="Prod")
    assert stage["deploymentId"] == out["Deployment"]
    assert stage["description"] == "production"
    assert stage["variables"] == {"color": "blue"}
    assert stage["tracingEnabled"] is True
    assert stage["methodSettings"]["*/*"]["throttlingRateLimit"] == 50.0
    assert stage["methodSettings"]["*/*"]["throttlingBurstLimit"] == 100
    assert stage["methodSettings"]["*/*"]["metricsEnabled"] is True
    assert stage["methodSettings"]["~1/GET"]["loggingLevel"] == "INFO"
    assert stage["accessLogSettings"]["destinationArn"].endswith(":log-group:access")

    described = apigw.get_domain_name(domainName=domain)
    assert described["regionalDomainName"] == out["RegionalDomainName"]
    assert described["regionalHostedZoneId"] == HOSTED_ZONE_US_EAST_1
    assert described["securityPolicy"] == "TLS_1_2"
    assert described["endpointConfiguration"] == {"types": ["REGIONAL"]}
    assert "distributionDomainName" not in described
    mappings = apigw.get_base_path_mappings(domainName=domain)["items"]
    assert mappings == [{"basePath": "(none)", "restApiId": out["Api"], "stage": "Prod"}]

    localcloud.client("cloudformation").delete_stack(StackName=stack["StackName"])
    assert domain not in [d["domainName"] for d in apigw.get_domain_names()["items"]]
    assert out["Api"] not in [a["id"] for a in apigw.get_rest_apis()["items"]]


def test_deployment_with_stage_name_creates_the_stage(localcloud):
    stack = deploy(localcloud, {
        "Resources": {
            "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {
                "Body": {"openapi": "3.0.1", "info": {"title": unique("dep")}, "paths": {
                    "/": {"get": {"responses": {"200": {"description": "ok"}},
                                  "x-amazon-apigateway-integration": {"type": "mock"}}}}}}},
            "Deployment": {"Type": "AWS::ApiGateway::Deployment", "Properties": {
                "RestApiId": {"Ref": "Api"}, "StageName": "dev",
                "StageDescription": {"Description": "from deployment", "ThrottlingRateLimit": 3,
                                     "Variables": {"v": "1"}}}},
        },
        "Outputs": {"Api": {"Value": {"Ref": "Api"}}, "Dep": {"Value": {"Ref": "Deployment"}}}})
    out, apigw = stack["Out"], localcloud.client("apigateway")
    stage = apigw.get_stage(restApiId=out["Api"], stageName="dev")
    assert stage["deploymentId"] == out["Dep"]
    assert stage["description"] == "from deployment"
    assert stage["variables"] == {"v": "1"}
    assert stage["methodSettings"]["*/*"]["throttlingRateLimit"] == 3.0
    localcloud.client("cloudformation").delete_stack(StackName=stack["StackName"])
    assert out["Api"] not in [a["id"] for a in apigw.get_rest_apis()["items"]]


@pytest.mark.parametrize("case", ["missing", "other-domain", "other-region"])
def test_domain_name_needs_an_issued_certificate_covering_it_in_the_region(localcloud, case):
    domain = f"{unique('cert')}.example.test"
    arn = {
        "missing": f"arn:aws:acm:{REGION}:123456789012:certificate/{uuid.uuid4()}",
        "other-domain": certificate(localcloud, "unrelated.example.test"),
        "other-region": certificate(localcloud, domain, "us-west-2"),
    }[case]
    stack = deploy(localcloud, domain_stack(unique("nocert"), domain, arn))

    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    (reason,) = reasons(localcloud, stack["StackName"])
    expected = {"missing": "does not exist", "other-domain": f"does not cover the domain name "
                f"{domain}", "other-region": "Certificate must be in 'us-east-1'"}[case]
    assert expected in reason
    apigw = localcloud.client("apigateway")
    assert domain not in [d["domainName"] for d in apigw.get_domain_names()["items"]]
    localcloud.client("cloudformation").delete_stack(StackName=stack["StackName"])


def test_wildcard_certificate_covers_one_label(localcloud):
    domain = f"{unique('wild')}.example.test"
    stack = deploy(localcloud, domain_stack(unique("wild"), domain,
                                            certificate(localcloud, "*.example.test")))
    assert stack["StackStatus"] == "CREATE_COMPLETE", reasons(localcloud, stack["StackName"])
    localcloud.client("cloudformation").delete_stack(StackName=stack["StackName"])


def test_account_sets_the_cloudwatch_role(localcloud):
    stack = deploy(localcloud, {
        "Resources": {"CloudWatchRole": CLOUDWATCH_ROLE, "Account": ACCOUNT},
        "Outputs": {"Id": {"Value": {"Fn::GetAtt": ["Account", "Id"]}},
                    "Role": {"Value": {"Fn::GetAtt": ["CloudWatchRole", "Arn"]}}}})
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert stack["Out"]["Id"]
    role = stack["Out"]["Role"]
    assert localcloud.client("apigateway").get_account()["cloudwatchRoleArn"] == role
    localcloud.client("cloudformation").delete_stack(StackName=stack["StackName"])


def test_drifted_resources_keep_outputs_and_the_stack_still_deletes(localcloud):
    domain = f"{unique('drift')}.example.test"
    stack = deploy(localcloud, domain_stack(unique("drift"), domain,
                                            certificate(localcloud, domain)))
    out, apigw = stack["Out"], localcloud.client("apigateway")
    cfn = localcloud.client("cloudformation")

    # A drill removes stack-owned pieces through the API.
    apigw.delete_base_path_mapping(domainName=domain, basePath="(none)")
    apigw.delete_stage(restApiId=out["Api"], stageName="Prod")
    apigw.delete_domain_name(domainName=domain)

    described = cfn.describe_stacks(StackName=stack["StackName"])["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]}
    assert outputs["RegionalDomainName"] == out["RegionalDomainName"]
    cfn.delete_stack(StackName=stack["StackName"])
    assert out["Api"] not in [a["id"] for a in apigw.get_rest_apis()["items"]]
    summaries = cfn.list_stacks(StackStatusFilter=["DELETE_COMPLETE"])["StackSummaries"]
    assert stack["StackName"] in [s["StackName"] for s in summaries]


def test_changed_deployment_moves_the_stage_and_the_old_one_is_cleaned_up(localcloud):
    cfn, apigw = localcloud.client("cloudformation"), localcloud.client("apigateway")
    template = domain_stack(unique("redeploy"), "unused.example.test", "unused")
    for key in ("Domain", "Mapping"):
        del template["Resources"][key]
    for key in ("Domain", "RegionalDomainName", "RegionalHostedZoneId"):
        del template["Outputs"][key]
    stack = deploy(localcloud, template)
    first = stack["Out"]["Deployment"]

    template["Resources"]["Deployment"]["Properties"]["Description"] = "second release"
    cfn.update_stack(StackName=stack["StackName"], TemplateBody=yaml.safe_dump(template))

    described = cfn.describe_stacks(StackName=stack["StackName"])["Stacks"][0]
    assert described["StackStatus"] == "UPDATE_COMPLETE", described.get("StackStatusReason")
    second = {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]}["Deployment"]
    assert second != first
    api_id = stack["Out"]["Api"]
    assert apigw.get_stage(restApiId=api_id, stageName="Prod")["deploymentId"] == second
    assert [d["id"] for d in apigw.get_deployments(restApiId=api_id)["items"]] == [second]
    cfn.delete_stack(StackName=stack["StackName"])
