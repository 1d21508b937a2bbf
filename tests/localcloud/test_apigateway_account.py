"""API Gateway refuses what AWS refuses: reserved tag keys, and logging without the account's
CloudWatch role (GetAccount/UpdateAccount, stages through the API, the CLI and CloudFormation).

Account settings are per region and the local cloud is shared by the session, so each test
that needs a region without a role uses one no other test gives a role to.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from botocore.exceptions import ClientError

AWS_CLI = Path(sys.executable).parent / "aws"
ACCOUNT = "123456789012"
TAG_REGION = "us-east-1"
NO_ROLE_REGION = "ap-southeast-2"  # never given a CloudWatch role in this session
LOGGING_NEEDS_ROLE = "CloudWatch Logs role ARN must be set in account settings to enable logging"
ROLE_NOT_ASSUMABLE = "The role ARN does not have required permissions"
RESERVED_TAG_KEY = "Invalid tag key. Tag keys cannot start with 'aws:' (case insensitive)"
PUSH_TO_CLOUDWATCH = "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def trust_policy(service: str) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]}


def role(cloud: Any, service: str = "apigateway.amazonaws.com") -> str:
    """An IAM role that ``service`` may assume; its ARN."""
    return cloud.client("iam").create_role(
        RoleName=unique("apigw-logs"),
        AssumeRolePolicyDocument=json.dumps(trust_policy(service)))["Role"]["Arn"]


def set_cloudwatch_role(apigw: Any, role_arn: str) -> dict[str, Any]:
    return apigw.update_account(patchOperations=[
        {"op": "replace", "path": "/cloudwatchRoleArn", "value": role_arn}])


def deployed_api(apigw: Any) -> tuple[str, str]:
    """A REST API with one MOCK method and a deployment: (api id, deployment id)."""
    api_id = apigw.create_rest_api(name=unique("logging"))["id"]
    root = apigw.get_resources(restApiId=api_id)["items"][0]["id"]
    apigw.put_method(restApiId=api_id, resourceId=root, httpMethod="GET",
                     authorizationType="NONE")
    apigw.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK",
                          requestTemplates={"application/json": '{"statusCode": 200}'})
    return api_id, apigw.create_deployment(restApiId=api_id)["id"]


def new_stage(apigw: Any, name: str = "live") -> str:
    api_id, deployment_id = deployed_api(apigw)
    apigw.create_stage(restApiId=api_id, stageName=name, deploymentId=deployment_id)
    return api_id


def log_group_arn(region: str) -> str:
    return f"arn:aws:logs:{region}:{ACCOUNT}:log-group:{unique('access')}"


def logging_operations(region: str) -> dict[str, list[dict[str, str]]]:
    """UpdateStage patch operations that each turn on access or execution logging."""
    return {
        "access-log": [
            {"op": "replace", "path": "/accessLogSettings/destinationArn",
             "value": log_group_arn(region)},
            {"op": "replace", "path": "/accessLogSettings/format",
             "value": '{"requestId":"$context.requestId"}'}],
        "log-level-info": [{"op": "replace", "path": "/*/*/logging/loglevel", "value": "INFO"}],
        "log-level-error": [{"op": "replace", "path": "/*/*/logging/loglevel", "value": "ERROR"}],
        "data-trace": [{"op": "replace", "path": "/*/*/logging/dataTrace", "value": "true"}],
        "one-method": [{"op": "replace", "path": "/~1/GET/logging/loglevel", "value": "INFO"}],
    }


def refusal(error: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    response = error.value.response
    return (response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"],
            response["Error"]["Message"])


# -- tags ------------------------------------------------------------------------------------


def create_rest_api(apigw: Any, tags: dict[str, str]) -> dict[str, str]:
    name = unique("tagged")
    apigw.create_rest_api(name=name, tags=tags)
    api = next(a for a in apigw.get_rest_apis()["items"] if a["name"] == name)
    return api.get("tags", {})


def create_stage(apigw: Any, tags: dict[str, str]) -> dict[str, str]:
    api_id, deployment_id = deployed_api(apigw)
    apigw.create_stage(restApiId=api_id, stageName="tagged", deploymentId=deployment_id,
                       tags=tags)
    return apigw.get_stage(restApiId=api_id, stageName="tagged")["tags"]


def tag_resource(apigw: Any, tags: dict[str, str]) -> dict[str, str]:
    api_id = new_stage(apigw, "tagged")
    arn = f"arn:aws:apigateway:{TAG_REGION}::/restapis/{api_id}/stages/tagged"
    apigw.tag_resource(resourceArn=arn, tags=tags)
    return apigw.get_tags(resourceArn=arn)["tags"]


@pytest.mark.parametrize("operation", [create_rest_api, create_stage, tag_resource],
                         ids=["CreateRestApi", "CreateStage", "TagResource"])
@pytest.mark.parametrize("reserved_key", ["aws:team", "AWS:Team"])
def test_reserved_tag_keys_are_refused_and_ordinary_ones_kept(localcloud, operation,
                                                              reserved_key):
    apigw = localcloud.client("apigateway", TAG_REGION)

    with pytest.raises(ClientError) as error:
        operation(apigw, {"team": "edge", reserved_key: "x"})
    assert refusal(error) == ("BadRequestException", 400, RESERVED_TAG_KEY)

    assert operation(apigw, {"team": "edge", "awsome": "yes"}) == {"team": "edge",
                                                                   "awsome": "yes"}


def test_refused_tags_create_nothing(localcloud):
    apigw = localcloud.client("apigateway", TAG_REGION)
    name = unique("refused")
    with pytest.raises(ClientError):
        apigw.create_rest_api(name=name, tags={"aws:cloudformation:stack-name": "mine"})
    assert name not in [a["name"] for a in apigw.get_rest_apis()["items"]]

    api_id, deployment_id = deployed_api(apigw)
    with pytest.raises(ClientError):
        apigw.create_stage(restApiId=api_id, stageName="refused", deploymentId=deployment_id,
                           tags={"aws:x": "y"})
    assert apigw.get_stages(restApiId=api_id)["item"] == []


# -- the account and logging through the API -------------------------------------------------


def test_get_account_answers_as_aws_before_any_role(localcloud):
    default = localcloud.client("apigateway", "sa-east-1").get_account()
    low_quota = localcloud.client("apigateway", "ap-southeast-3").get_account()

    assert "cloudwatchRoleArn" not in default
    assert default["throttleSettings"] == {"burstLimit": 5000, "rateLimit": 10000.0}
    assert (default["features"], default["apiKeyVersion"]) == (["UsagePlans"], "4")
    assert low_quota["throttleSettings"] == {"burstLimit": 1250, "rateLimit": 2500.0}


@pytest.mark.parametrize("case", ["access-log", "log-level-info", "log-level-error",
                                  "data-trace", "one-method"])
def test_logging_is_refused_while_the_account_has_no_role(localcloud, case):
    apigw = localcloud.client("apigateway", NO_ROLE_REGION)
    api_id = new_stage(apigw)

    with pytest.raises(ClientError) as error:
        apigw.update_stage(restApiId=api_id, stageName="live",
                           patchOperations=logging_operations(NO_ROLE_REGION)[case])

    assert refusal(error) == ("BadRequestException", 400, LOGGING_NEEDS_ROLE)
    stage = apigw.get_stage(restApiId=api_id, stageName="live")
    assert not stage.get("accessLogSettings")
    assert stage.get("methodSettings", {}) == {}
    # Settings that log nothing still change without a role.
    apigw.update_stage(restApiId=api_id, stageName="live", patchOperations=[
        {"op": "replace", "path": "/*/*/logging/loglevel", "value": "OFF"},
        {"op": "replace", "path": "/*/*/metrics/enabled", "value": "true"}])


@pytest.mark.parametrize("case", ["missing", "trusts-lambda-only"])
def test_update_account_refuses_a_role_api_gateway_cannot_assume(localcloud, case):
    apigw = localcloud.client("apigateway", NO_ROLE_REGION)
    role_arn = {"missing": f"arn:aws:iam::{ACCOUNT}:role/{unique('absent')}",
                "trusts-lambda-only": role(localcloud, "lambda.amazonaws.com")}[case]

    with pytest.raises(ClientError) as error:
        set_cloudwatch_role(apigw, role_arn)

    code, status, message = refusal(error)
    assert (code, status) == ("BadRequestException", 400)
    assert message.startswith(ROLE_NOT_ASSUMABLE)
    assert "cloudwatchRoleArn" not in apigw.get_account()


def test_logging_is_accepted_once_the_account_has_a_role(localcloud):
    region = "eu-north-1"
    apigw = localcloud.client("apigateway", region)
    api_id = new_stage(apigw)
    operations = logging_operations(region)
    with pytest.raises(ClientError):
        apigw.update_stage(restApiId=api_id, stageName="live",
                           patchOperations=operations["access-log"])

    role_arn = role(localcloud)
    assert set_cloudwatch_role(apigw, role_arn)["cloudwatchRoleArn"] == role_arn
    assert apigw.get_account()["cloudwatchRoleArn"] == role_arn
    stage = apigw.update_stage(restApiId=api_id, stageName="live",
                               patchOperations=operations["access-log"]
                               + operations["log-level-error"] + operations["data-trace"])

    assert stage["accessLogSettings"]["destinationArn"].startswith(f"arn:aws:logs:{region}:")
    assert stage["methodSettings"]["*/*"]["loggingLevel"] == "ERROR"
    assert stage["methodSettings"]["*/*"]["dataTraceEnabled"] is True
    # The setting is the region's: another region still has no role.
    other = localcloud.client("apigateway", NO_ROLE_REGION).get_account()
    assert "cloudwatchRoleArn" not in other


def test_aws_cli_sees_the_refusal_and_the_role_that_lifts_it(localcloud, tmp_path):
    region = "eu-west-3"
    api_id = new_stage(localcloud.client("apigateway", region))
    enable_access_log = ["apigateway", "update-stage", "--rest-api-id", api_id,
                         "--stage-name", "live", "--patch-operations",
                         f"op=replace,path=/accessLogSettings/destinationArn,"
                         f"value={log_group_arn(region)}"]

    refused = aws_cli(localcloud, region, tmp_path, *enable_access_log)
    assert refused.returncode != 0
    assert "(BadRequestException)" in refused.stderr
    assert LOGGING_NEEDS_ROLE in refused.stderr

    trust = tmp_path / "trust.json"
    trust.write_text(json.dumps(trust_policy("apigateway.amazonaws.com")))
    created = aws_cli(localcloud, region, tmp_path, "iam", "create-role", "--role-name",
                      unique("cli-logs"), "--assume-role-policy-document", f"file://{trust}")
    role_arn = json.loads(created.stdout)["Role"]["Arn"]
    updated = aws_cli(localcloud, region, tmp_path, "apigateway", "update-account",
                      "--patch-operations", f"op=replace,path=/cloudwatchRoleArn,value={role_arn}")
    assert updated.returncode == 0, updated.stderr
    account = json.loads(aws_cli(localcloud, region, tmp_path, "apigateway",
                                 "get-account").stdout)
    assert account["cloudwatchRoleArn"] == role_arn

    accepted = aws_cli(localcloud, region, tmp_path, *enable_access_log)
    assert accepted.returncode == 0, accepted.stderr
    assert json.loads(accepted.stdout)["accessLogSettings"]["destinationArn"]


def aws_cli(cloud: Any, region: str, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The unmodified ``aws`` CLI with dummy credentials and no user configuration."""
    return subprocess.run(
        [str(AWS_CLI), "--endpoint-url", cloud.url, "--region", region, "--output", "json",
         *args],
        capture_output=True, text=True, timeout=60,
        env={"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
             "AWS_CONFIG_FILE": str(home / "config"),
             "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
             "PATH": os.environ.get("PATH", "")})


# -- CloudFormation --------------------------------------------------------------------------


def logging_stack(stage_settings: dict[str, Any], with_account: bool = False,
                  role_service: str = "apigateway.amazonaws.com") -> dict[str, Any]:
    """A MOCK API and a stage with ``stage_settings``; optionally the account's CloudWatch role
    (an IAM role and AWS::ApiGateway::Account, which the stage depends on)."""
    resources: dict[str, Any] = {
        "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": unique("cfn-log")}},
        "Get": {"Type": "AWS::ApiGateway::Method", "Properties": {
            "RestApiId": {"Ref": "Api"}, "ResourceId": {"Fn::GetAtt": ["Api", "RootResourceId"]},
            "HttpMethod": "GET", "AuthorizationType": "NONE", "Integration": {"Type": "MOCK"}}},
        "Deployment": {"Type": "AWS::ApiGateway::Deployment", "DependsOn": "Get",
                       "Properties": {"RestApiId": {"Ref": "Api"}}},
        "Stage": {"Type": "AWS::ApiGateway::Stage", "Properties": {
            "RestApiId": {"Ref": "Api"}, "DeploymentId": {"Ref": "Deployment"},
            "StageName": "live", **stage_settings}},
    }
    if with_account:
        resources["CloudWatchRole"] = {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": trust_policy(role_service),
            "ManagedPolicyArns": [PUSH_TO_CLOUDWATCH]}}
        resources["Account"] = {"Type": "AWS::ApiGateway::Account", "Properties": {
            "CloudWatchRoleArn": {"Fn::GetAtt": ["CloudWatchRole", "Arn"]}}}
        resources["Stage"]["DependsOn"] = "Account"
    return {"Resources": resources, "Outputs": {"Api": {"Value": {"Ref": "Api"}}}}


def create_stack(cloud: Any, region: str, template: dict[str, Any]) -> dict[str, Any]:
    cfn = cloud.client("cloudformation", region)
    name = unique("logging")
    cfn.create_stack(StackName=name, TemplateBody=yaml.safe_dump(template),
                     Capabilities=["CAPABILITY_IAM"])
    return cfn.describe_stacks(StackName=name)["Stacks"][0]


def failures(cloud: Any, region: str, stack_name: str) -> dict[str, str]:
    events = cloud.client("cloudformation", region).describe_stack_events(
        StackName=stack_name)["StackEvents"]
    return {e["LogicalResourceId"]: e["ResourceStatusReason"] for e in events
            if e["ResourceStatus"] == "CREATE_FAILED" and e["LogicalResourceId"] != stack_name}


LOGGING_STAGE_SETTINGS = {
    "access-log": {"AccessLogSetting": {
        "DestinationArn": f"arn:aws:logs:{NO_ROLE_REGION}:{ACCOUNT}:log-group:access",
        "Format": '{"requestId":"$context.requestId"}'}},
    "log-level": {"MethodSettings": [
        {"ResourcePath": "/*", "HttpMethod": "*", "LoggingLevel": "INFO"}]},
    "data-trace": {"MethodSettings": [
        {"ResourcePath": "/", "HttpMethod": "GET", "DataTraceEnabled": True}]},
}


@pytest.mark.parametrize("case", sorted(LOGGING_STAGE_SETTINGS))
def test_stack_stage_with_logging_rolls_back_without_the_account_role(localcloud, case):
    stack = create_stack(localcloud, NO_ROLE_REGION, logging_stack(LOGGING_STAGE_SETTINGS[case]))

    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    failed = failures(localcloud, NO_ROLE_REGION, stack["StackName"])
    assert list(failed) == ["Stage"]
    assert LOGGING_NEEDS_ROLE in failed["Stage"]


def test_stack_deployment_stage_description_with_logging_rolls_back_without_the_role(
        localcloud):
    template = logging_stack({})
    del template["Resources"]["Stage"]
    template["Resources"]["Deployment"]["Properties"].update(
        {"StageName": "live", "StageDescription": {"LoggingLevel": "ERROR"}})
    stack = create_stack(localcloud, NO_ROLE_REGION, template)

    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    failed = failures(localcloud, NO_ROLE_REGION, stack["StackName"])
    assert list(failed) == ["Deployment"]
    assert LOGGING_NEEDS_ROLE in failed["Deployment"]


def test_stack_account_with_a_role_api_gateway_cannot_assume_fails(localcloud):
    template = logging_stack(LOGGING_STAGE_SETTINGS["log-level"], with_account=True,
                             role_service="lambda.amazonaws.com")
    stack = create_stack(localcloud, NO_ROLE_REGION, template)

    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    failed = failures(localcloud, NO_ROLE_REGION, stack["StackName"])
    assert list(failed) == ["Account"]
    assert ROLE_NOT_ASSUMABLE in failed["Account"]
    assert "cloudwatchRoleArn" not in localcloud.client("apigateway",
                                                          NO_ROLE_REGION).get_account()


def test_stack_with_the_account_role_enables_logging_in_a_fresh_region(localcloud):
    region = "ca-central-1"
    settings = {**LOGGING_STAGE_SETTINGS["access-log"], **LOGGING_STAGE_SETTINGS["log-level"]}
    without_role = create_stack(localcloud, region, logging_stack(settings))
    assert without_role["StackStatus"] == "ROLLBACK_COMPLETE"

    stack = create_stack(localcloud, region, logging_stack(settings, with_account=True))

    assert stack["StackStatus"] == "CREATE_COMPLETE", failures(localcloud, region,
                                                               stack["StackName"])
    apigw = localcloud.client("apigateway", region)
    role_arn = apigw.get_account()["cloudwatchRoleArn"]
    assert role_arn.startswith(f"arn:aws:iam::{ACCOUNT}:role/")
    api_id = stack["Outputs"][0]["OutputValue"]
    stage = apigw.get_stage(restApiId=api_id, stageName="live")
    assert stage["accessLogSettings"]["destinationArn"].endswith(":log-group:access")
    assert stage["methodSettings"]["*/*"]["loggingLevel"] == "INFO"

    # Deleting the stack leaves the account's setting, as on AWS.
    localcloud.client("cloudformation", region).delete_stack(StackName=stack["StackName"])
    assert apigw.get_account()["cloudwatchRoleArn"] == role_arn
