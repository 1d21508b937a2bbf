"""API Gateway integrations that reach other services, and custom domains.

AWS service integrations (EventBridge PutEvents by path, SQS SendMessage by path, DynamoDB
PutItem by action) go through the local cloud's own services; custom domains are reached
through the edge with the domain as ``Host``.
"""

from __future__ import annotations

import io
import json
import threading
import time
import uuid
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from conftest import PRIMARY, LocalCloudProcess, wait_for
from test_gateway import JSON, RestApi

ACCOUNT = "123456789012"


def gateway_role(cloud: LocalCloudProcess) -> str:
    """A role API Gateway may assume (permissions are not evaluated locally)."""
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"},
        "Action": "sts:AssumeRole"}]}
    return cloud.client("iam").create_role(
        RoleName=f"gw-{uuid.uuid4().hex[:8]}",
        AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def receive_one(sqs: Any, queue_url: str) -> dict[str, Any]:
    def poll() -> list[dict[str, Any]]:
        return sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=0).get("Messages", [])

    return wait_for(poll, message="a message in the queue")[0]


def test_eventbridge_putevents_integration_delivers_to_a_queue(localcloud: LocalCloudProcess
                                                               ) -> None:
    events, sqs = localcloud.client("events"), localcloud.client("sqs")
    suffix = uuid.uuid4().hex[:8]
    bus = events.create_event_bus(Name=f"gw-bus-{suffix}")["EventBusArn"].rsplit("/", 1)[1]
    rule_arn = events.put_rule(Name=f"gw-rule-{suffix}", EventBusName=bus,
                               EventPattern=json.dumps({"source": ["gw.test"]}))["RuleArn"]
    queue_url = sqs.create_queue(QueueName=f"gw-events-{suffix}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sqs:SendMessage", "Resource": queue_arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}}}]})})
    events.put_targets(Rule=f"gw-rule-{suffix}", EventBusName=bus,
                       Targets=[{"Id": "queue", "Arn": queue_arn}])
    template = (
        '{"Entries": [{"EventBusName": "' + bus + '", '
        '"Source": "$util.escapeJavaScript($input.path(\'$.Source\'))", '
        '"DetailType": "$util.escapeJavaScript($input.path(\'$.DetailType\'))", '
        '"Detail": "$util.escapeJavaScript($input.json(\'$.Detail\'))"}]}')
    api = RestApi(localcloud, "events")
    api.method("/", "POST", {
        "type": "AWS", "integrationHttpMethod": "POST",
        "uri": f"arn:aws:apigateway:{PRIMARY}:events:path//",
        "credentials": gateway_role(localcloud),
        "requestParameters": {
            "integration.request.header.X-Amz-Target": "'AWSEvents.PutEvents'",
            "integration.request.header.Content-Type": "'application/x-amz-json-1.1'"},
        "requestTemplates": {JSON: template},
    }, [
        {"statusCode": "200", "responseParameters": {"method.response.header.X-Region":
                                                     f"'{PRIMARY}'"},
         "responseTemplates": {JSON: '{"eventId": "$input.path(\'$.Entries[0].EventId\')", '
                                     '"failed": $input.path(\'$.FailedEntryCount\')}'}},
        {"statusCode": "400", "selectionPattern": r"4\d{2}"},
    ])
    api.deploy("prod")
    detail = {"msg": 'a "quoted" text / é', "n": 3, "nested": {"ok": True}}

    response = api.call("prod", "/", "POST",
                        json={"Source": "gw.test", "DetailType": "Greeting", "Detail": detail})

    assert response.status_code == 200
    assert response.headers["X-Region"] == PRIMARY
    answer = response.json()
    assert answer["failed"] == 0 and answer["eventId"]
    event = json.loads(receive_one(sqs, queue_url)["Body"])
    assert event["id"] == answer["eventId"]
    assert (event["source"], event["detail-type"], event["detail"]) == (
        "gw.test", "Greeting", detail)


def test_a_body_the_service_cannot_read_is_its_400(localcloud: LocalCloudProcess) -> None:
    """A client's malformed JSON passed through to PutEvents gets EventBridge's
    SerializationException, which the integration responses select like any 4xx."""
    api = RestApi(localcloud, "events-passthrough")
    api.method("/", "POST", {
        "type": "AWS", "integrationHttpMethod": "POST",
        "uri": f"arn:aws:apigateway:{PRIMARY}:events:path//",
        "credentials": gateway_role(localcloud), "passthroughBehavior": "WHEN_NO_TEMPLATES",
        "requestParameters": {
            "integration.request.header.X-Amz-Target": "'AWSEvents.PutEvents'",
            "integration.request.header.Content-Type": "'application/x-amz-json-1.1'"},
    }, [
        {"statusCode": "200"},
        {"statusCode": "400", "selectionPattern": r"4\d{2}",
         "responseParameters": {"method.response.header.X-Region": f"'{PRIMARY}'"},
         "responseTemplates": {JSON: '{"rejected": "$input.path(\'$.__type\')"}'}},
    ])
    api.deploy("prod")

    malformed = api.call("prod", "/", "POST", data=b'{"Entries": [{"Source": ',
                         headers={"Content-Type": JSON})
    well_formed = api.call("prod", "/", "POST", json={"Entries": [
        {"Source": "gw.test", "DetailType": "t", "Detail": "{}"}]})

    assert malformed.status_code == 400
    assert malformed.headers["X-Region"] == PRIMARY
    assert malformed.json()["rejected"].endswith("SerializationException")
    assert well_formed.status_code == 200


def test_sqs_path_and_dynamodb_action_integrations(localcloud: LocalCloudProcess) -> None:
    sqs, dynamodb = localcloud.client("sqs"), localcloud.client("dynamodb")
    suffix = uuid.uuid4().hex[:8]
    queue = f"gw-direct-{suffix}"
    queue_url = sqs.create_queue(QueueName=queue)["QueueUrl"]
    table = f"gw-items-{suffix}"
    dynamodb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                          AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                          KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    role = gateway_role(localcloud)
    api = RestApi(localcloud, "services")
    api.method("/queue", "POST", {
        "type": "AWS", "integrationHttpMethod": "POST", "credentials": role,
        "uri": f"arn:aws:apigateway:{PRIMARY}:sqs:path/{ACCOUNT}/{queue}",
        "requestParameters": {"integration.request.header.Content-Type":
                              "'application/x-www-form-urlencoded'"},
        "requestTemplates": {JSON: "Action=SendMessage&MessageBody=$util.urlEncode($input.body)"},
    }, [{"statusCode": "200", "responseTemplates": {JSON: '{"queued": true}'}}])
    put_item = ('{"TableName": "$stageVariables.table", "Item": {'
                '"id": {"S": "$input.params(\'id\')"}, '
                '"note": {"S": "$util.escapeJavaScript($input.path(\'$.note\'))"}}}')
    api.method("/items/{id}", "PUT", {
        "type": "AWS", "integrationHttpMethod": "POST", "credentials": role,
        "uri": f"arn:aws:apigateway:{PRIMARY}:dynamodb:action/PutItem",
        "requestTemplates": {JSON: put_item},
    }, [
        {"statusCode": "200", "responseTemplates": {JSON: '{"stored": "$input.params(\'id\')"}'}},
        {"statusCode": "404", "selectionPattern": r"4\d{2}",
         "responseTemplates": {JSON: '{"error": "$input.path(\'$.__type\')"}'}},
    ])
    api.method("/tables", "GET", {
        "type": "AWS", "integrationHttpMethod": "POST", "credentials": role,
        "uri": f"arn:aws:apigateway:{PRIMARY}:dynamodb:action/ListTables",
        "requestTemplates": {JSON: "{}"},
    }, [{"statusCode": "200"}])  # no response template: the service's body passes through
    deployment = api.deploy("prod")
    api.client.update_stage(restApiId=api.id, stageName="prod", patchOperations=[
        {"op": "replace", "path": "/variables/table", "value": table}])
    api.client.create_stage(restApiId=api.id, stageName="broken", deploymentId=deployment,
                            variables={"table": "no-such-table"})

    queued = api.call("prod", "/queue", "POST", json={"order": 7})
    stored = api.call("prod", "/items/a1", "PUT", json={"note": "first / note"})
    missing_table = api.call("broken", "/items/a2", "PUT", json={"note": "x"})
    tables = api.call("prod", "/tables")

    assert (queued.status_code, queued.json()) == (200, {"queued": True})
    assert json.loads(receive_one(sqs, queue_url)["Body"]) == {"order": 7}
    assert (stored.status_code, stored.json()) == (200, {"stored": "a1"})
    item = dynamodb.get_item(TableName=table, Key={"id": {"S": "a1"}})["Item"]
    assert item["note"] == {"S": "first / note"}
    assert missing_table.status_code == 404
    assert "ResourceNotFoundException" in missing_table.json()["error"]
    assert tables.status_code == 200
    assert table in tables.json()["TableNames"]


def test_integration_role_must_exist_and_trust_api_gateway(localcloud: LocalCloudProcess
                                                           ) -> None:
    api = RestApi(localcloud, "norole")
    api.method("/", "POST", {
        "type": "AWS", "integrationHttpMethod": "POST",
        "credentials": f"arn:aws:iam::{ACCOUNT}:role/does-not-exist-{uuid.uuid4().hex[:6]}",
        "uri": f"arn:aws:apigateway:{PRIMARY}:dynamodb:action/ListTables",
        "requestTemplates": {JSON: "{}"},
    }, [{"statusCode": "200"}])
    api.deploy("prod")

    response = api.call("prod", "/", "POST", json={})

    assert response.status_code == 500
    assert response.json() == {"message": "Internal server error"}


@pytest.fixture
def http_backend() -> Iterator[str]:
    """A plain HTTP server that echoes what it received."""

    class Echo(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.dumps({"path": self.path, "body": self.rfile.read(length).decode(),
                               "header": self.headers.get("X-Mapped"),
                               "override": self.headers.get("XOverride")}).encode()
            self.send_response(201)
            self.send_header("Content-Type", JSON)
            self.send_header("X-Backend", "echo")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # a backend too slow for the integration timeout
            time.sleep(1.5)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_http_integrations(localcloud: LocalCloudProcess, http_backend: str) -> None:
    api = RestApi(localcloud, "http")
    api.method("/proxy/{proxy+}", "POST", {
        "type": "HTTP_PROXY", "integrationHttpMethod": "POST",
        "uri": f"{http_backend}/{{proxy}}",
        "requestParameters": {"integration.request.path.proxy": "method.request.path.proxy",
                              "integration.request.header.X-Mapped": "'from-gateway'"},
    }, [], requestParameters={"method.request.path.proxy": True})
    api.method("/custom", "POST", {
        "type": "HTTP", "integrationHttpMethod": "POST", "uri": f"{http_backend}/custom",
        "requestTemplates": {JSON: '#set($context.requestOverride.header.XOverride = "yes")'
                                   '#set($context.requestOverride.querystring.extra = "1")'
                                   '{"wrapped": $input.json(\'$\')}'},
    }, [{"statusCode": "200", "selectionPattern": r"2\d{2}",
         "responseParameters": {"method.response.header.X-From":
                                "integration.response.header.X-Backend"},
         "responseTemplates": {JSON: '#set($context.responseOverride.status = 202)'
                                     '#set($context.responseOverride.header.XOut = "set")'
                                     '{"seen": $input.json(\'$.body\'), '
                                     '"path": "$input.path(\'$.path\')", '
                                     '"override": "$input.path(\'$.override\')"}'}}])
    api.method("/slow", "GET", {
        "type": "HTTP", "integrationHttpMethod": "GET", "uri": f"{http_backend}/slow",
        "timeoutInMillis": 300,
    }, [{"statusCode": "200"}])
    api.deploy("prod")

    proxied = api.call("prod", "/proxy/a/b?x=1", "POST", json={"k": "v"})
    custom = api.call("prod", "/custom", "POST", json={"k": "v"})
    slow = api.call("prod", "/slow")

    assert proxied.status_code == 201
    assert proxied.headers["X-Backend"] == "echo"
    assert proxied.json() == {"path": "/a/b?x=1", "body": '{"k": "v"}', "header": "from-gateway",
                              "override": None}
    assert custom.status_code == 202
    assert (custom.headers["X-From"], custom.headers["XOut"]) == ("echo", "set")
    seen = custom.json()
    assert json.loads(seen["seen"]) == {"wrapped": {"k": "v"}}
    assert (seen["path"], seen["override"]) == ("/custom?extra=1", "yes")
    assert (slow.status_code, slow.json()) == (504, {"message": "Endpoint request timed out"})


def test_custom_domain_base_path_mappings(localcloud: LocalCloudProcess) -> None:
    zone = f"gw{uuid.uuid4().hex[:8]}.example.com"
    acm = localcloud.client("acm")
    certificate = acm.request_certificate(DomainName=f"*.{zone}",
                                          ValidationMethod="DNS")["CertificateArn"]
    wait_for(lambda: acm.describe_certificate(CertificateArn=certificate)["Certificate"][
        "Status"] == "ISSUED", message="certificate issued")
    whole, versioned = RestApi(localcloud, "domain-a"), RestApi(localcloud, "domain-b")
    for api, label in ((whole, "whole"), (versioned, "versioned")):
        api.mock("/items", responses=[{"statusCode": "200", "responseTemplates": {
            JSON: f'{{"api": "{label}", "stage": "$context.stage", '
                  f'"domain": "$context.domainName"}}'}}])
        api.deploy("live")
        api.deploy("beta")
    client = whole.client
    for name in (f"api.{zone}", f"v.{zone}"):
        client.create_domain_name(domainName=name, regionalCertificateArn=certificate,
                                  endpointConfiguration={"types": ["REGIONAL"]})
    client.create_base_path_mapping(domainName=f"api.{zone}", restApiId=whole.id, stage="live")
    client.create_base_path_mapping(domainName=f"v.{zone}", restApiId=versioned.id,
                                    basePath="v1", stage="live")
    client.create_base_path_mapping(domainName=f"v.{zone}", restApiId=versioned.id,
                                    basePath="any")

    def call(host: str, path: str) -> requests.Response:
        return requests.get(f"{localcloud.url}{path}", headers={"Host": host}, timeout=10)

    root = call(f"api.{zone}", "/items")
    assert (root.status_code, root.json()) == (
        200, {"api": "whole", "stage": "live", "domain": f"api.{zone}"})
    assert call(f"v.{zone}", "/v1/items").json()["api"] == "versioned"
    assert call(f"v.{zone}", "/any/beta/items").json()["stage"] == "beta"
    for unmapped in (call(f"v.{zone}", "/v2/items"), call(f"v.{zone}", "/items")):
        assert (unmapped.status_code, unmapped.json()) == (403, {"message": "Forbidden"})
    assert call(f"api.{zone}", "/v1/items").status_code == 403  # (none) keeps the whole path

    client.delete_base_path_mapping(domainName=f"api.{zone}", basePath="(none)")
    after = call(f"api.{zone}", "/items")
    assert (after.status_code, after.json()) == (403, {"message": "Forbidden"})


FUNCTION_CODE = """
import json


def handler(event, context):
    if "httpMethod" in event:  # the REST API proxy event
        if (event.get("queryStringParameters") or {}).get("broken"):
            return "not a proxy result"
        seen = {key: event[key] for key in ("resource", "path", "httpMethod", "pathParameters",
                                             "queryStringParameters", "body")}
        seen["stage"] = event["requestContext"]["stage"]
        return {"statusCode": 201, "headers": {"X-Fn": context.function_name},
                "multiValueHeaders": {"X-Multi": ["a", "b"]}, "body": json.dumps(seen)}
    if event.get("fail"):
        raise ValueError("NotFound: " + event["fail"])
    return {"echo": event}
"""


def test_lambda_integrations(localcloud: LocalCloudProcess) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("app.py", FUNCTION_CODE)
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole"}]}
    role = localcloud.client("iam").create_role(
        RoleName=f"gw-fn-{uuid.uuid4().hex[:8]}",
        AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    name = f"gw-fn-{uuid.uuid4().hex[:8]}"
    function_arn = localcloud.client("lambda").create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
        Code={"ZipFile": archive.getvalue()}, Timeout=10)["FunctionArn"]
    invoke_uri = (f"arn:aws:apigateway:{PRIMARY}:lambda:path/2015-03-31/functions/"
                  f"{function_arn}/invocations")
    api = RestApi(localcloud, "lambda")
    api.method("/proxy/{item}", "POST", {
        "type": "AWS_PROXY", "integrationHttpMethod": "POST", "uri": invoke_uri}, [])
    api.method("/custom", "POST", {
        "type": "AWS", "integrationHttpMethod": "POST", "uri": invoke_uri,
        "requestTemplates": {JSON: '{"fail": "$input.params(\'fail\')"}'},
    }, [
        {"statusCode": "200", "responseTemplates": {JSON: '{"ok": true}'}},
        {"statusCode": "404", "selectionPattern": "NotFound: .*",
         "responseTemplates": {JSON: '{"error": "$input.path(\'$.errorMessage\')"}'}},
    ])
    api.deploy("prod")

    proxied = api.call("prod", "/proxy/i-1?q=x", "POST", data="raw body")
    broken = api.call("prod", "/proxy/i-1?broken=1", "POST", data="")
    succeeded = api.call("prod", "/custom", "POST", json={})
    failed = api.call("prod", "/custom?fail=thing", "POST", json={})

    assert proxied.status_code == 201
    assert proxied.headers["X-Fn"] == name
    assert proxied.headers["X-Multi"] == "a, b"
    assert proxied.json() == {
        "resource": "/proxy/{item}", "path": "/proxy/i-1", "httpMethod": "POST",
        "pathParameters": {"item": "i-1"}, "queryStringParameters": {"q": "x"},
        "body": "raw body", "stage": "prod"}
    assert (broken.status_code, broken.json()) == (502, {"message": "Internal server error"})
    assert (succeeded.status_code, succeeded.json()) == (200, {"ok": True})
    assert (failed.status_code, failed.json()) == (404, {"error": "NotFound: thing"})
