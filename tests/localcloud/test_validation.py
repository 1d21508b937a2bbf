"""Requests are validated against their service model before moto sees them, as AWS does.

Each case sends what AWS refuses (botocore's own checks are off, as with the ``aws`` CLI or
another SDK) and asserts the code, HTTP status and message a user would get.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError
from conftest import PRIMARY, REPO, LocalCloudProcess
from test_gateway import JSON, RestApi
from test_gateway_services import gateway_role

AWS_CLI = REPO / ".venv" / "bin" / "aws"
LOG_GROUP_PATTERN = r"[\.\-_/#A-Za-z0-9]+"


def unchecked_client(cloud: LocalCloudProcess, service: str) -> Any:
    """A client that sends what botocore would refuse client-side."""
    return boto3.client(
        service, region_name=PRIMARY, endpoint_url=cloud.url, aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=BotoConfig(parameter_validation=False, retries={"max_attempts": 0}))


def refusal(call: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response


@dataclass
class Case:
    service: str
    operation: str
    params: dict[str, Any]
    code: str
    message: str
    status: int = 400
    headers: dict[str, str] = field(default_factory=dict)


CASES = {
    # rest-xml; a nested member: AWS's documented range is 1-10.
    "route53 nested member too large": Case(
        "route53", "create_health_check",
        {"CallerReference": "too-large", "HealthCheckConfig": {
            "Type": "HTTP", "FullyQualifiedDomainName": "a.example.com", "FailureThreshold": 11}},
        "InvalidInput",
        "1 validation error detected: Value '11' at 'healthCheckConfig.failureThreshold' failed "
        "to satisfy constraint: Member must have value less than or equal to 10"),
    # rest-xml; a URI label.
    "route53 id too long": Case(
        "route53", "get_health_check", {"HealthCheckId": "h" * 65},
        "InvalidInput",
        f"1 validation error detected: Value '{'h' * 65}' at 'healthCheckId' failed to satisfy "
        "constraint: Member must have length less than or equal to 64"),
    # query; a required member missing.
    "cloudformation missing stack name": Case(
        "cloudformation", "create_stack", {"TemplateBody": '{"Resources": {}}'},
        "ValidationError",
        "1 validation error detected: Value null at 'stackName' failed to satisfy constraint: "
        "Member must not be null"),
    # query; a pattern (a search would have accepted "my" of "my_stack").
    "cloudformation stack name pattern": Case(
        "cloudformation", "create_change_set",
        {"StackName": "my_stack", "ChangeSetName": "first", "TemplateBody": "{}"},
        "ValidationError",
        "1 validation error detected: Value 'my_stack' at 'stackName' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: "
        r"([a-zA-Z][-a-zA-Z0-9]*)|(arn:\b(aws|aws-us-gov|aws-cn)\b:[-a-zA-Z0-9:/._+]*)"),
    # query; a list longer than its maximum.
    "cloudformation list too long": Case(
        "cloudformation", "create_stack",
        {"StackName": "listy", "TemplateBody": "{}",
         "NotificationARNs": [f"arn:aws:sns:{PRIMARY}:123456789012:t{n}" for n in range(6)]},
        "ValidationError",
        "1 validation error detected: Value '["
        + ", ".join(f"arn:aws:sns:{PRIMARY}:123456789012:t{n}" for n in range(6))
        + "]' at 'notificationARNs' failed to satisfy constraint: Member must have length "
        "less than or equal to 5"),
    # query; list elements outside their enum are reported once, for the list.
    "cloudformation list element enum": Case(
        "cloudformation", "list_stacks", {"StackStatusFilter": ["CREATE_COMPLETE", "DONE"]},
        "ValidationError",
        "1 validation error detected: Value '[CREATE_COMPLETE, DONE]' at 'stackStatusFilter' "
        "failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy "
        "enum value set: [CREATE_IN_PROGRESS, CREATE_FAILED, CREATE_COMPLETE, "
        "ROLLBACK_IN_PROGRESS, ROLLBACK_FAILED, ROLLBACK_COMPLETE, DELETE_IN_PROGRESS, "
        "DELETE_FAILED, DELETE_COMPLETE, UPDATE_IN_PROGRESS, "
        "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS, UPDATE_COMPLETE, UPDATE_FAILED, "
        "UPDATE_ROLLBACK_IN_PROGRESS, UPDATE_ROLLBACK_FAILED, "
        "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS, UPDATE_ROLLBACK_COMPLETE, "
        "REVIEW_IN_PROGRESS, IMPORT_IN_PROGRESS, IMPORT_COMPLETE, IMPORT_ROLLBACK_IN_PROGRESS, "
        "IMPORT_ROLLBACK_FAILED, IMPORT_ROLLBACK_COMPLETE]]"),
    # query; two members at once, in the model's order.
    "sts two errors": Case(
        "sts", "assume_role",
        {"RoleArn": "arn:aws:iam::123456789012:role/r", "RoleSessionName": "a b",
         "DurationSeconds": 100},
        "ValidationError",
        "2 validation errors detected: Value 'a b' at 'roleSessionName' failed to satisfy "
        r"constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*; Value '100' "
        "at 'durationSeconds' failed to satisfy constraint: Member must have value greater than "
        "or equal to 900"),
    # query; list elements failing their shape's constraints: all of them are listed.
    "sts list element constraints": Case(
        "sts", "assume_role",
        {"RoleArn": "arn:aws:iam::123456789012:role/r", "RoleSessionName": "session",
         "TransitiveTagKeys": ["team", "cost*centre"]},
        "ValidationError",
        "1 validation error detected: Value '[team, cost*centre]' at 'transitiveTagKeys' failed "
        "to satisfy constraint: Member must satisfy constraint: [Member must have length less "
        "than or equal to 128, Member must have length greater than or equal to 1, Member must "
        r"satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+]"),
    # rest-json; a map value failing its shape's constraints (the map is not shown).
    "lambda map value constraints": Case(
        "lambda", "tag_resource",
        {"Resource": f"arn:aws:lambda:{PRIMARY}:123456789012:function:tagged",
         "Tags": {"team": "ok", "owner": "a*b"}},
        "ValidationException",
        "1 validation error detected: Value at 'tags' failed to satisfy constraint: Map value "
        "must satisfy constraint: [Member must have length less than or equal to 256, Member "
        "must have length greater than or equal to 0, Member must satisfy regular expression "
        r"pattern: ([\p{L}\p{Z}\p{N}_.:/=+\-@]*)]"),
    # json; an enum inside a list element.
    "dynamodb list member enum": Case(
        "dynamodb", "create_table",
        {"TableName": "enum-table", "BillingMode": "PAY_PER_REQUEST",
         "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "STRING"}],
         "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]},
        "ValidationException",
        "1 validation error detected: Value 'STRING' at "
        "'attributeDefinitions.1.member.attributeType' failed to satisfy constraint: Member "
        "must satisfy enum value set: [S, N, B]"),
    # json; a value of the wrong JSON type.
    "dynamodb wrong type": Case(
        "dynamodb", "list_tables", {"Limit": "5"},
        "SerializationException", "STRING_VALUE cannot be converted to Integer"),
    # json; one member breaking two constraints (AWS's own answer for this request,
    # fluent-plugins-nursery/fluent-plugin-cloudwatch-logs#223).
    "logs two errors on one member": Case(
        "logs", "describe_log_groups", {"logGroupNamePrefix": ""},
        "InvalidParameterException",
        "2 validation errors detected: Value '' at 'logGroupNamePrefix' failed to satisfy "
        f"constraint: Member must satisfy regular expression pattern: {LOG_GROUP_PATTERN}; "
        "Value '' at 'logGroupNamePrefix' failed to satisfy constraint: Member must have "
        "length greater than or equal to 1"),
    "logs pattern": Case(
        "logs", "create_log_group", {"logGroupName": "service:latest"},
        "InvalidParameterException",
        "1 validation error detected: Value 'service:latest' at 'logGroupName' failed to "
        f"satisfy constraint: Member must satisfy regular expression pattern: "
        f"{LOG_GROUP_PATTERN}"),
    # json; a list member's pattern, with a Unicode property class.
    "acm tag value pattern": Case(
        "acm", "request_certificate",
        {"DomainName": "example.com", "Tags": [{"Key": "domain", "Value": "*.example.com"}]},
        "ValidationException",
        "1 validation error detected: Value '*.example.com' at 'tags.1.member.value' failed to "
        r"satisfy constraint: Member must satisfy regular expression pattern: "
        r"([\p{L}\p{Z}\p{N}_.:/=+\-@]*)"),
    # rest-json; a URI label (a name, a qualifier and one part too many).
    "lambda function name pattern": Case(
        "lambda", "get_function", {"FunctionName": "my-function:prod:extra"},
        "ValidationException",
        "1 validation error detected: Value 'my-function:prod:extra' at 'functionName' failed "
        "to satisfy "
        r"constraint: Member must satisfy regular expression pattern: "
        r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?"
        r"(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?"),
    # rest-json; a body member's enum.
    "apigateway enum": Case(
        "apigateway", "create_rest_api", {"name": "enum-api", "apiKeySource": "QUERY"},
        "BadRequestException",
        "1 validation error detected: Value 'QUERY' at 'apiKeySource' failed to satisfy "
        "constraint: Member must satisfy enum value set: [HEADER, AUTHORIZER]"),
    # json, awsQueryCompatible: SQS's own code, also in x-amzn-query-error.
    "sqs missing member": Case(
        "sqs", "send_message", {"QueueUrl": "http://localhost/123456789012/any-queue"},
        "MissingParameter", "The request must contain the parameter MessageBody.",
        headers={"x-amzn-query-error": "MissingParameter;Sender"}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_request_aws_refuses_is_refused(localcloud: LocalCloudProcess, name: str) -> None:
    case = CASES[name]
    client = unchecked_client(localcloud, case.service)

    answer = refusal(lambda: getattr(client, case.operation)(**case.params))

    assert answer["Error"]["Code"] == case.code
    assert answer["Error"]["Message"] == case.message
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == case.status
    headers = answer["ResponseMetadata"]["HTTPHeaders"]
    for header, value in case.headers.items():
        assert headers[header] == value


def test_eventbridge_entries_over_the_limit(localcloud: LocalCloudProcess) -> None:
    events = unchecked_client(localcloud, "events")
    entry = {"Source": "validation.test", "DetailType": "t", "Detail": "{}"}

    answer = refusal(lambda: events.put_events(Entries=[entry] * 11))

    assert answer["Error"]["Code"] == "ValidationException"
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 400
    message = answer["Error"]["Message"]
    assert message.startswith("1 validation error detected: Value '[{Source=validation.test")
    assert message.endswith("' at 'entries' failed to satisfy constraint: Member must have "
                            "length less than or equal to 10")


def test_valid_request_goes_through_where_an_invalid_one_is_refused(
        localcloud: LocalCloudProcess) -> None:
    route53 = unchecked_client(localcloud, "route53")
    config = {"Type": "HTTP", "FullyQualifiedDomainName": "valid.example.com",
              "ResourcePath": "/health", "RequestInterval": 30}

    refused = refusal(lambda: route53.create_health_check(
        CallerReference=f"refused-{uuid.uuid4()}",
        HealthCheckConfig={**config, "FailureThreshold": 0}))
    created = route53.create_health_check(CallerReference=f"valid-{uuid.uuid4()}",
                                          HealthCheckConfig={**config, "FailureThreshold": 10})

    assert refused["Error"]["Message"].endswith(
        "Member must have value greater than or equal to 1")
    check = route53.get_health_check(HealthCheckId=created["HealthCheck"]["Id"])["HealthCheck"]
    assert check["HealthCheckConfig"]["FailureThreshold"] == 10
    route53.delete_health_check(HealthCheckId=created["HealthCheck"]["Id"])


def test_aws_cli_gets_the_validation_error(localcloud: LocalCloudProcess, tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_CONFIG_FILE": str(tmp_path / "config"),
                "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials")})

    result = subprocess.run(
        [str(AWS_CLI), "--endpoint-url", localcloud.url, "--region", PRIMARY,
         "route53", "create-health-check", "--caller-reference", f"cli-{uuid.uuid4()}",
         "--health-check-config",
         "Type=HTTPS,FullyQualifiedDomainName=cli.example.com,FailureThreshold=11"],
        env=env, capture_output=True, text=True, timeout=120)

    assert result.returncode != 0
    assert ("An error occurred (InvalidInput) when calling the CreateHealthCheck operation: "
            "1 validation error detected: Value '11' at 'healthCheckConfig.failureThreshold' "
            "failed to satisfy constraint: Member must have value less than or equal to 10"
            ) in result.stderr


def test_api_gateway_aws_integration_is_validated(localcloud: LocalCloudProcess) -> None:
    """The data plane's in-process calls are validated too: the integration response sees
    DynamoDB's ValidationException and passes it through."""
    dynamodb = localcloud.client("dynamodb")
    table = f"validated-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                          AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                          KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    api = RestApi(localcloud, "validated")
    put_item = (f'{{"TableName": "{table}", "Item": {{"id": {{"S": "$input.params(\'id\')"}}}}, '
                '"ReturnValues": "$input.params(\'returnValues\')"}')
    api.method("/items/{id}", "PUT", {
        "type": "AWS", "integrationHttpMethod": "POST", "credentials": gateway_role(localcloud),
        "uri": f"arn:aws:apigateway:{PRIMARY}:dynamodb:action/PutItem",
        "requestTemplates": {JSON: put_item},
    }, [{"statusCode": "200", "responseTemplates": {JSON: '{"stored": true}'}},
        {"statusCode": "400", "selectionPattern": r"4\d{2}"}])  # the service's body passes
    api.deploy("prod")

    refused = api.call("prod", "/items/a1?returnValues=EVERYTHING", "PUT", json={})
    stored = api.call("prod", "/items/a2?returnValues=NONE", "PUT", json={})

    assert refused.status_code == 400
    assert refused.json() == {
        "__type": "com.amazon.coral.validate#ValidationException",
        "message": "1 validation error detected: Value 'EVERYTHING' at 'returnValues' failed to "
                   "satisfy constraint: Member must satisfy enum value set: [NONE, ALL_OLD, "
                   "UPDATED_OLD, ALL_NEW, UPDATED_NEW]"}
    assert (stored.status_code, stored.json()) == (200, {"stored": True})
    assert "Item" in dynamodb.get_item(TableName=table, Key={"id": {"S": "a2"}})
    assert "Item" not in dynamodb.get_item(TableName=table, Key={"id": {"S": "a1"}})


def test_sqs_query_request_to_a_queue_url_needs_no_queue_url(localcloud: LocalCloudProcess
                                                             ) -> None:
    """An SQS query-protocol request sent to the queue's URL names the queue by its path (the
    gateway's SQS path integrations do this); only a missing MessageBody is refused."""
    sqs = localcloud.client("sqs")
    queue = f"validated-{uuid.uuid4().hex[:8]}"
    sqs.create_queue(QueueName=queue)
    api = RestApi(localcloud, "queue")
    api.method("/queue", "POST", {
        "type": "AWS", "integrationHttpMethod": "POST", "credentials": gateway_role(localcloud),
        "uri": f"arn:aws:apigateway:{PRIMARY}:sqs:path/123456789012/{queue}",
        "requestParameters": {"integration.request.header.Content-Type":
                              "'application/x-www-form-urlencoded'"},
        "requestTemplates": {JSON: "Action=SendMessage#if($input.path('$.body') != '')"
                                   "&MessageBody=$util.urlEncode($input.path('$.body'))#end"},
    }, [{"statusCode": "200", "responseTemplates": {JSON: '{"queued": true}'}},
        {"statusCode": "400", "selectionPattern": r"4\d{2}"}])
    api.deploy("prod")

    refused = api.call("prod", "/queue", "POST", json={"body": ""})
    queued = api.call("prod", "/queue", "POST", json={"body": "hello"})

    assert refused.status_code == 400
    assert "<Code>MissingParameter</Code>" in refused.text
    assert "The request must contain the parameter MessageBody." in refused.text
    assert (queued.status_code, queued.json()) == (200, {"queued": True})
    messages = sqs.receive_message(QueueUrl=sqs.get_queue_url(QueueName=queue)["QueueUrl"])
    assert [message["Body"] for message in messages["Messages"]] == ["hello"]

