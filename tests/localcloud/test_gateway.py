"""The API Gateway data plane: deployed REST APIs answer over HTTP as API Gateway does.

Every test builds its own API through the API Gateway API (create-rest-api, put-method,
put-integration, ...) and calls it at ``{api}.execute-api.{region}.amazonaws.com/{stage}/...``
via the ``Host`` header.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import requests
from conftest import PRIMARY, LocalCloudProcess, wait_for

JSON = "application/json"


class RestApi:
    """A REST API a test builds through the API Gateway API."""

    def __init__(self, cloud: LocalCloudProcess, name: str, region: str = PRIMARY,
                 openapi: dict[str, Any] | None = None, endpoint_type: str = "REGIONAL") -> None:
        self.cloud = cloud
        self.region = region
        self.client = cloud.client("apigateway", region)
        if openapi is not None:
            self.id = self.client.import_rest_api(body=json.dumps(openapi).encode())["id"]
        else:
            self.id = self.client.create_rest_api(
                name=f"{name}-{uuid.uuid4().hex[:6]}",
                endpointConfiguration={"types": [endpoint_type]})["id"]
        items = self.client.get_resources(restApiId=self.id)["items"]
        self.resource_ids = {"/": next(r["id"] for r in items if r["path"] == "/")}

    def resource(self, path: str) -> str:
        if path not in self.resource_ids:
            parent, _, part = path.rstrip("/").rpartition("/")
            parent_id = self.resource(parent or "/")
            self.resource_ids[path] = self.client.create_resource(
                restApiId=self.id, parentId=parent_id, pathPart=part)["id"]
        return self.resource_ids[path]

    def method(self, path: str, http_method: str, integration: dict[str, Any],
               responses: list[dict[str, Any]], **method: Any) -> None:
        """A method, its integration and its (method + integration) responses.

        Each response: statusCode, optional selectionPattern, responseParameters (integration
        side), responseTemplates.
        """
        resource_id = self.resource(path)
        self.client.put_method(restApiId=self.id, resourceId=resource_id, httpMethod=http_method,
                               authorizationType="NONE", **method)
        self.client.put_integration(restApiId=self.id, resourceId=resource_id,
                                    httpMethod=http_method, **integration)
        for response in responses:
            headers = {key: False for key in response.get("responseParameters", {})}
            self.client.put_method_response(
                restApiId=self.id, resourceId=resource_id, httpMethod=http_method,
                statusCode=response["statusCode"], responseParameters=headers)
            self.client.put_integration_response(
                restApiId=self.id, resourceId=resource_id, httpMethod=http_method, **response)

    def mock(self, path: str, http_method: str = "GET", *, request_template: str | None = None,
             responses: list[dict[str, Any]] | None = None, **method: Any) -> None:
        integration: dict[str, Any] = {"type": "MOCK"}
        integration["requestTemplates"] = {
            JSON: request_template if request_template is not None else '{"statusCode": 200}'}
        self.method(path, http_method, integration,
                    responses if responses is not None else [{"statusCode": "200"}], **method)

    def deploy(self, stage: str) -> str:
        return self.client.create_deployment(restApiId=self.id, stageName=stage)["id"]

    @property
    def host(self) -> str:
        return f"{self.id}.execute-api.{self.region}.amazonaws.com"

    def call(self, stage: str, path: str, method: str = "GET", **kwargs: Any
             ) -> requests.Response:
        headers = {"Host": self.host, **kwargs.pop("headers", {})}
        return requests.request(method, f"{self.cloud.url}/{stage}{path}", headers=headers,
                                timeout=30, **kwargs)


def test_mock_integration_renders_templates_and_static_headers(localcloud: LocalCloudProcess
                                                               ) -> None:
    api = RestApi(localcloud, "mock")
    template = ('{"id": "$input.params(\'id\')", "q": "$input.params(\'q\')", '
                '"stage": "$context.stage", "path": "$context.resourcePath", '
                '"requestId": "$context.requestId"}')
    api.mock("/items/{id}", responses=[{
        "statusCode": "200",
        "responseParameters": {"method.response.header.X-Static": "'fixed value'",
                               "method.response.header.X-Echo": "method.request.header.X-In"},
        "responseTemplates": {JSON: template},
    }])
    api.deploy("test")

    response = api.call("test", "/items/42?q=hello", headers={"X-In": "echoed"})

    assert response.status_code == 200
    assert response.headers["X-Static"] == "fixed value"
    assert response.headers["Content-Type"] == JSON
    body = response.json()
    assert body == {"id": "42", "q": "hello", "stage": "test", "path": "/items/{id}",
                    "requestId": response.headers["x-amzn-RequestId"]}
    # Integration responses map integration.response.*, not the method request.
    assert "X-Echo" not in response.headers


def test_selection_pattern_must_match_the_whole_status(localcloud: LocalCloudProcess) -> None:
    api = RestApi(localcloud, "selection")
    api.mock("/status", request_template='{"statusCode": $input.params(\'code\')}', responses=[
        {"statusCode": "200", "responseTemplates": {JSON: '{"picked": "default"}'}},
        {"statusCode": "400", "selectionPattern": r"4\d{2}",
         "responseTemplates": {JSON: '{"picked": "client error"}'}},
        {"statusCode": "206", "selectionPattern": "20",
         "responseTemplates": {JSON: '{"picked": "twenty"}'}},
        {"statusCode": "503", "selectionPattern": r"5\d{2}",
         "responseTemplates": {JSON: '{"picked": "server error"}'}},
    ])
    api.deploy("test")

    answers = {code: api.call("test", f"/status?code={code}") for code in (201, 404, 500)}

    assert (answers[201].status_code, answers[201].json()) == (200, {"picked": "default"})
    assert (answers[404].status_code, answers[404].json()) == (400, {"picked": "client error"})
    assert (answers[500].status_code, answers[500].json()) == (503, {"picked": "server error"})


def test_routing_prefers_literal_then_parameter_then_greedy(localcloud: LocalCloudProcess
                                                            ) -> None:
    api = RestApi(localcloud, "routes")
    for path, label in (("/files/special", "literal"), ("/files/{name}", "param"),
                        ("/files/{proxy+}", "greedy")):
        method = "ANY" if label == "greedy" else "GET"
        api.mock(path, method, responses=[{"statusCode": "200", "responseTemplates": {
            JSON: f'{{"route": "{label}", "name": "$input.params(\'name\')", '
                  f'"proxy": "$input.params(\'proxy\')", "method": "$context.httpMethod"}}'}}])
    api.deploy("test")

    assert api.call("test", "/files/special").json()["route"] == "literal"
    assert api.call("test", "/files/a%20b").json() == {
        "route": "param", "name": "a b", "proxy": "", "method": "GET"}
    assert api.call("test", "/files/a/b/c", "DELETE").json() == {
        "route": "greedy", "name": "", "proxy": "a/b/c", "method": "DELETE"}


def test_unknown_route_stage_and_api_answers(localcloud: LocalCloudProcess) -> None:
    api = RestApi(localcloud, "unknown")
    api.mock("/known")
    api.deploy("test")

    missing_route = api.call("test", "/unknown")
    wrong_method = api.call("test", "/known", "POST")
    missing_stage = api.call("nostage", "/known")
    other_api = requests.get(f"{localcloud.url}/test/known", timeout=10,
                             headers={"Host": f"nosuchapi.execute-api.{PRIMARY}.amazonaws.com"})

    for response in (missing_route, wrong_method):
        assert response.status_code == 403
        assert response.json() == {"message": "Missing Authentication Token"}
        assert response.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    for response in (missing_stage, other_api):
        assert response.status_code == 403
        assert response.json() == {"message": "Forbidden"}
        assert response.headers["x-amzn-ErrorType"] == "ForbiddenException"


def test_gateway_responses_customise_errors(localcloud: LocalCloudProcess) -> None:
    api = RestApi(localcloud, "gwresponses")
    api.mock("/known")
    # A MOCK integration without a statusCode is a configuration error (500).
    api.mock("/broken", request_template="{}")
    api.client.put_gateway_response(
        restApiId=api.id, responseType="MISSING_AUTHENTICATION_TOKEN", statusCode="404",
        responseParameters={"gatewayresponse.header.X-Region": "'test-region'",
                            "gatewayresponse.header.X-Asked": "method.request.header.X-Ask"},
        responseTemplates={JSON: '{"error": $context.error.messageString, '
                                 '"type": "$context.error.responseType"}'})
    api.client.put_gateway_response(
        restApiId=api.id, responseType="DEFAULT_5XX",
        responseParameters={"gatewayresponse.header.X-Region": "'test-region'"})
    api.deploy("test")

    not_found = api.call("test", "/nowhere", headers={"X-Ask": "who"})
    broken = api.call("test", "/broken")

    assert not_found.status_code == 404
    assert not_found.json() == {"error": "Missing Authentication Token",
                                "type": "MISSING_AUTHENTICATION_TOKEN"}
    assert not_found.headers["X-Region"] == "test-region"
    assert not_found.headers["X-Asked"] == "who"
    assert broken.status_code == 500
    assert broken.json() == {"message": "Internal server error"}
    assert broken.headers["X-Region"] == "test-region"
    assert broken.headers["x-amzn-ErrorType"] == "InternalServerErrorException"


def test_request_validation_answers_400_through_gateway_responses(localcloud: LocalCloudProcess
                                                                  ) -> None:
    api = RestApi(localcloud, "validation")
    schema = {
        "$schema": "http://json-schema.org/draft-04/schema#", "type": "object",
        "required": ["name", "size"],
        "properties": {"name": {"type": "string", "minLength": 1}, "size": {"type": "integer"}},
    }
    api.client.create_model(restApiId=api.id, name="Thing", contentType=JSON,
                            schema=json.dumps(schema))
    validator = api.client.create_request_validator(
        restApiId=api.id, name="all", validateRequestBody=True,
        validateRequestParameters=True)["id"]
    api.mock("/things", "POST", requestValidatorId=validator, requestModels={JSON: "Thing"},
             requestParameters={"method.request.querystring.mode": True,
                                "method.request.header.X-Token": True,
                                "method.request.header.X-Optional": False},
             responses=[{"statusCode": "200", "responseTemplates": {JSON: '{"ok": true}'}}])
    api.client.put_gateway_response(
        restApiId=api.id, responseType="BAD_REQUEST_BODY",
        responseParameters={"gatewayresponse.header.X-Region": "'test-region'"},
        responseTemplates={JSON: '{"message": $context.error.messageString, '
                                 '"details": "$context.error.validationErrorString"}'})
    api.client.put_gateway_response(
        restApiId=api.id, responseType="DEFAULT_4XX",
        responseParameters={"gatewayresponse.header.X-Fallback": "'default-4xx'"})
    api.deploy("test")
    good = {"name": "box", "size": 3}

    no_params = api.call("test", "/things", "POST", json=good)
    bad_body = api.call("test", "/things?mode=a", "POST", json={"name": ""},
                        headers={"X-Token": "t"})
    not_json = api.call("test", "/things?mode=a", "POST", data="{oops",
                        headers={"X-Token": "t", "Content-Type": JSON})
    valid = api.call("test", "/things?mode=a", "POST", json=good, headers={"X-Token": "t"})

    assert no_params.status_code == 400
    assert no_params.json() == {"message": "Missing required request parameters: [X-Token, mode]"}
    assert no_params.headers["X-Fallback"] == "default-4xx"
    assert no_params.headers["x-amzn-ErrorType"] == "BadRequestException"
    assert bad_body.status_code == 400
    assert bad_body.headers["X-Region"] == "test-region"
    assert "X-Fallback" not in bad_body.headers
    details = bad_body.json()
    assert details["message"] == "Invalid request body"
    assert 'object has missing required properties (["size"])' in details["details"]
    assert 'string "" is too short' in details["details"]
    assert (not_json.status_code, not_json.json()["message"]) == (400, "Invalid request body")
    assert (valid.status_code, valid.json()) == (200, {"ok": True})


def test_passthrough_behaviours(localcloud: LocalCloudProcess) -> None:
    api = RestApi(localcloud, "passthrough")
    echo_status = {JSON: '{"statusCode": 200}'}
    for path, behaviour, templates in (("/never", "NEVER", echo_status),
                                       ("/no-templates", "WHEN_NO_TEMPLATES", echo_status),
                                       ("/no-match", "WHEN_NO_MATCH", echo_status),
                                       ("/none-at-all", "WHEN_NO_TEMPLATES", None)):
        integration = {"type": "MOCK", "passthroughBehavior": behaviour}
        if templates:
            integration["requestTemplates"] = templates
        api.method(path, "POST", integration,
                   [{"statusCode": "200", "responseTemplates": {JSON: '{"ok": true}'}}])
    api.deploy("test")

    def post(path: str, content_type: str, data: str) -> requests.Response:
        return api.call("test", path, "POST", data=data, headers={"Content-Type": content_type})

    # A template for the request's content type always applies.
    assert post("/never", JSON, "{}").status_code == 200
    for path in ("/never", "/no-templates"):
        refused = post(path, "text/plain", "hello")
        assert (refused.status_code, refused.json()) == (415, {"message": "Unsupported Media Type"})
        assert refused.headers["x-amzn-ErrorType"] == "UnsupportedMediaTypeException"
    # Passed through, the body itself is what MOCK reads its statusCode from.
    assert post("/no-match", "text/plain", '{"statusCode": 200}').status_code == 200
    assert post("/none-at-all", "text/plain", '{"statusCode": 200}').status_code == 200


def test_stages_serve_their_deployment_snapshot(localcloud: LocalCloudProcess) -> None:
    api = RestApi(localcloud, "snapshots")
    api.mock("/version", responses=[{"statusCode": "200",
                                     "responseTemplates": {JSON: '{"version": 1}'}}])
    first = api.deploy("one")
    resource_id = api.resource("/version")
    api.client.put_integration_response(
        restApiId=api.id, resourceId=resource_id, httpMethod="GET", statusCode="200",
        responseTemplates={JSON: '{"version": 2}'})
    assert api.call("one", "/version").json() == {"version": 1}  # not deployed yet

    api.deploy("two")
    api.client.create_stage(restApiId=api.id, stageName="three", deploymentId=first)
    assert api.call("two", "/version").json() == {"version": 2}
    assert api.call("three", "/version").json() == {"version": 1}

    api.client.delete_stage(restApiId=api.id, stageName="two")
    gone = api.call("two", "/version")
    assert (gone.status_code, gone.json()) == (403, {"message": "Forbidden"})
    assert api.call("one", "/version").json() == {"version": 1}


def test_stage_throttling_answers_429(localcloud: LocalCloudProcess) -> None:
    api = RestApi(localcloud, "throttle")
    api.mock("/limited")
    api.mock("/other")
    api.deploy("test")
    api.client.update_stage(restApiId=api.id, stageName="test", patchOperations=[
        {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "0.001"},
        {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "2"},
    ])

    statuses = [api.call("test", "/limited").status_code for _ in range(3)]
    throttled = api.call("test", "/limited")
    other = api.call("test", "/other")

    assert statuses == [200, 200, 429]
    assert throttled.json() == {"message": "Too Many Requests"}
    assert throttled.headers["x-amzn-ErrorType"] == "TooManyRequestsException"
    assert other.status_code == 200  # the stage default applies to each method on its own


def allow_cloudwatch_logging(cloud: LocalCloudProcess, region: str) -> None:
    """Give the region's API Gateway account settings a CloudWatch role, as AWS requires
    before a stage may log ("Set up CloudWatch logging for REST APIs in API Gateway")."""
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"},
        "Action": "sts:AssumeRole"}]}
    role = cloud.client("iam").create_role(RoleName=f"apigw-logs-{uuid.uuid4().hex[:6]}",
                                           AssumeRolePolicyDocument=json.dumps(trust))
    cloud.client("apigateway", region).update_account(patchOperations=[
        {"op": "replace", "path": "/cloudwatchRoleArn", "value": role["Role"]["Arn"]}])


def test_access_log_line_is_written_to_the_stage_log_group(localcloud: LocalCloudProcess
                                                           ) -> None:
    logs = localcloud.client("logs")
    group = f"/gateway/access-{uuid.uuid4().hex[:8]}"
    logs.create_log_group(logGroupName=group)
    group_arn = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["arn"]
    api = RestApi(localcloud, "accesslog")
    api.mock("/logged/{id}")
    api.deploy("test")
    allow_cloudwatch_logging(localcloud, api.region)
    log_format = ('{"requestId":"$context.requestId","ip":"$context.identity.sourceIp",'
                  '"method":"$context.httpMethod","resource":"$context.resourcePath",'
                  '"status":"$context.status","error":"$context.error.message"}')
    api.client.update_stage(restApiId=api.id, stageName="test", patchOperations=[
        {"op": "replace", "path": "/accessLogSettings/destinationArn", "value": group_arn},
        {"op": "replace", "path": "/accessLogSettings/format", "value": log_format},
    ])

    ok = api.call("test", "/logged/7")
    missing = api.call("test", "/nothing-here")

    def lines() -> dict[str, dict[str, str]]:
        events = logs.filter_log_events(logGroupName=group)["events"]
        entries = [json.loads(event["message"]) for event in events]
        return {entry["requestId"]: entry for entry in entries} if len(entries) >= 2 else {}

    by_id = wait_for(lines, message="two access log lines")
    assert by_id[ok.headers["x-amzn-RequestId"]] == {
        "requestId": ok.headers["x-amzn-RequestId"], "ip": "127.0.0.1", "method": "GET",
        "resource": "/logged/{id}", "status": "200", "error": "-"}
    failed = by_id[missing.headers["x-amzn-RequestId"]]
    assert (failed["status"], failed["error"]) == ("403", "Missing Authentication Token")


def test_size_limits(localcloud: LocalCloudProcess) -> None:
    """A body over 10 MB: a REGIONAL API answers it itself, through its gateway responses;
    an EDGE API's CloudFront answers before API Gateway, in plain text."""
    regional = RestApi(localcloud, "limits")
    edge = RestApi(localcloud, "limits-edge", endpoint_type="EDGE")
    for api in (regional, edge):
        api.mock("/upload", "POST")
        api.client.put_gateway_response(
            restApiId=api.id, responseType="DEFAULT_4XX",
            responseParameters={"gatewayresponse.header.X-Region": "'test-region'"})
        api.deploy("test")
    over_limit = b"x" * (10 * 1024 * 1024 + 1)

    regional_too_large = regional.call("test", "/upload", "POST", data=over_limit)
    edge_too_large = edge.call("test", "/upload", "POST", data=over_limit)
    at_limit = regional.call("test", "/upload", "POST", data=b"x" * (10 * 1024 * 1024),
                             headers={"Content-Type": JSON})
    huge_header = regional.call("test", "/upload", "POST", headers={"X-Big": "h" * 11_000})

    assert regional_too_large.status_code == 413
    assert regional_too_large.json() == {"message": "Request Too Long"}
    # The API's gateway responses set X-Region, but AWS does not apply customisations to
    # REQUEST_TOO_LARGE: its default answer comes back.
    assert "X-Region" not in regional_too_large.headers
    assert edge_too_large.status_code == 413
    assert edge_too_large.text == "HTTP content length exceeded 10485760 bytes."
    assert "X-Region" not in edge_too_large.headers
    assert at_limit.status_code == 200
    assert huge_header.status_code == 431
    assert huge_header.text == "HTTP header is larger than 10240 bytes."


def test_an_imported_openapi_definition_is_served(localcloud: LocalCloudProcess) -> None:
    """What import-rest-api stores (validators, models, gateway responses, integration
    responses) is what the data plane executes."""
    mock_ok = {"type": "mock", "requestTemplates": {JSON: '{"statusCode": 200}'}}
    document = {
        "openapi": "3.0.1",
        "info": {"title": f"imported-{uuid.uuid4().hex[:6]}", "description": "test",
                 "version": "1"},
        "x-amazon-apigateway-request-validators": {
            "body-only": {"validateRequestBody": True, "validateRequestParameters": False}},
        "x-amazon-apigateway-gateway-responses": {"BAD_REQUEST_BODY": {
            "statusCode": 422,
            "responseParameters": {"gatewayresponse.header.X-Kind": "'validation'"},
            "responseTemplates": {JSON: '{"problem": $context.error.messageString}'}}},
        "paths": {"/things": {"post": {
            "x-amazon-apigateway-request-validator": "body-only",
            "requestBody": {"content": {JSON: {"schema": {"$ref": "#/components/schemas/Thing"}}}},
            "responses": {"200": {"description": "made",
                                  "headers": {"X-Made": {"schema": {"type": "string"}}}}},
            "x-amazon-apigateway-integration": {**mock_ok, "responses": {"default": {
                "statusCode": "200",
                "responseParameters": {"method.response.header.X-Made": "'yes'"},
                "responseTemplates": {JSON: '{"name": "$util.escapeJavaScript('
                                            '$input.params(\'name\'))"}'}}}},
        }}},
        "components": {"schemas": {"Thing": {
            "type": "object", "required": ["name"],
            "properties": {"name": {"type": "string"}}}}},
    }
    api = RestApi(localcloud, "imported", openapi=document)
    api.deploy("v1")

    made = api.call("v1", "/things?name=box", "POST", json={"name": "box"})
    refused = api.call("v1", "/things", "POST", json={"label": "no name"})

    assert (made.status_code, made.json(), made.headers["X-Made"]) == (
        200, {"name": "box"}, "yes")
    assert (refused.status_code, refused.json()) == (422, {"problem": "Invalid request body"})
    assert refused.headers["X-Kind"] == "validation"
