"""CloudFormation drift detection: what changed out of band since a stack deployed it.

Each test deploys a stack of its own (a REST API with a MOCK method, a deployment, a stage with
method settings and variables, a custom domain mapping, a queue, a function), changes or
deletes something through the services' APIs, and asks CloudFormation what drifted.
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
STAGE = "live"
METHOD_SETTINGS = [{"ResourcePath": "/*", "HttpMethod": "*", "ThrottlingRateLimit": 50,
                    "ThrottlingBurstLimit": 20, "MetricsEnabled": True}]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def api_template(domain: str, api_name: str) -> dict[str, Any]:
    """A regional API on a custom domain, with a queue and a function beside it."""
    return {"Resources": {
        "Cert": {"Type": "AWS::CertificateManager::Certificate",
                 "Properties": {"DomainName": domain, "ValidationMethod": "DNS"}},
        "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": api_name}},
        "Get": {"Type": "AWS::ApiGateway::Method", "Properties": {
            "RestApiId": {"Ref": "Api"},
            "ResourceId": {"Fn::GetAtt": ["Api", "RootResourceId"]},
            "HttpMethod": "GET", "AuthorizationType": "NONE",
            "Integration": {"Type": "MOCK",
                            "RequestTemplates": {"application/json": '{"statusCode": 200}'},
                            "IntegrationResponses": [{"StatusCode": 200}]},
            "MethodResponses": [{"StatusCode": 200}]}},
        "Deployment": {"Type": "AWS::ApiGateway::Deployment", "DependsOn": "Get",
                       "Properties": {"RestApiId": {"Ref": "Api"}}},
        "Stage": {"Type": "AWS::ApiGateway::Stage", "Properties": {
            "RestApiId": {"Ref": "Api"}, "DeploymentId": {"Ref": "Deployment"},
            "StageName": STAGE, "Description": "the live stage",
            "Variables": {"color": "blue"}, "MethodSettings": METHOD_SETTINGS}},
        "Domain": {"Type": "AWS::ApiGateway::DomainName", "Properties": {
            "DomainName": domain, "RegionalCertificateArn": {"Ref": "Cert"},
            "EndpointConfiguration": {"Types": ["REGIONAL"]}}},
        "Mapping": {"Type": "AWS::ApiGateway::BasePathMapping", "Properties": {
            "DomainName": {"Ref": "Domain"}, "RestApiId": {"Ref": "Api"},
            "Stage": {"Ref": "Stage"}}},
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 45}},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                           "Principal": {"Service": "lambda.amazonaws.com"}}]}}},
        "Function": {"Type": "AWS::Lambda::Function", "Properties": {
            "Runtime": "python3.12", "Handler": "index.handler",
            "Role": {"Fn::GetAtt": ["Role", "Arn"]}, "Timeout": 5, "MemorySize": 256,
            "Environment": {"Variables": {"MODE": "test"}},
            "Code": {"ZipFile": "def handler(event, context):\n    return event\n"}}},
    }}


def deploy(cloud: Any, template: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """Create the stack; return its name and each resource's physical id."""
    cfn = cloud.client("cloudformation")
    name = unique("drift")
    cfn.create_stack(StackName=name, TemplateBody=yaml.safe_dump(template))
    assert cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    resources = cfn.describe_stack_resources(StackName=name)["StackResources"]
    return name, {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources}


@pytest.fixture
def api_stack(localcloud: Any) -> dict[str, Any]:
    domain, api_name = f"{unique('api')}.drift.test", unique("drift-api")
    name, ids = deploy(localcloud, api_template(domain, api_name))
    return {"name": name, "ids": ids, "domain": domain, "api_name": api_name}


def detect(cloud: Any, stack_name: str, **kwargs: Any) -> dict[str, Any]:
    cfn = cloud.client("cloudformation")
    detection_id = cfn.detect_stack_drift(StackName=stack_name, **kwargs)["StackDriftDetectionId"]
    return cfn.describe_stack_drift_detection_status(StackDriftDetectionId=detection_id)


def drifts(cloud: Any, stack_name: str, *statuses: str) -> dict[str, dict[str, Any]]:
    """The last drift result of each resource, by logical id (only ``statuses`` if given)."""
    filters = {"StackResourceDriftStatusFilters": list(statuses)} if statuses else {}
    found = cloud.client("cloudformation").describe_stack_resource_drifts(
        StackName=stack_name, **filters)["StackResourceDrifts"]
    return {d["LogicalResourceId"]: d for d in found}


def resource_drift_status(cloud: Any, stack_name: str, logical_id: str) -> str:
    detail = cloud.client("cloudformation").describe_stack_resource(
        StackName=stack_name, LogicalResourceId=logical_id)["StackResourceDetail"]
    return detail["DriftInformation"]["StackResourceDriftStatus"]


def restore_stage(apigw: Any, api_id: str, deployment_id: str) -> None:
    """Recreate the stage through the API, as a restore after a drill does."""
    apigw.create_stage(restApiId=api_id, stageName=STAGE, deploymentId=deployment_id,
                       description="the live stage", variables={"color": "blue"})


def throttle(apigw: Any, api_id: str, rate: str, burst: str) -> None:
    apigw.update_stage(restApiId=api_id, stageName=STAGE, patchOperations=[
        {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": rate},
        {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": burst},
        {"op": "replace", "path": "/*/*/metrics/enabled", "value": "true"},
    ])


# -- a stack as deployed -------------------------------------------------------------------


def test_a_fresh_stack_is_in_sync(localcloud: Any, api_stack: dict[str, Any]) -> None:
    cfn = localcloud.client("cloudformation")
    name = api_stack["name"]
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["DriftInformation"] == {"StackDriftStatus": "NOT_CHECKED"}
    assert drifts(localcloud, name) == {}

    status = detect(localcloud, name)

    assert status["DetectionStatus"] == "DETECTION_COMPLETE"
    assert status["StackDriftStatus"] == "IN_SYNC"
    assert status["DriftedStackResourceCount"] == 0
    assert status["StackId"] == stack["StackId"]
    found = drifts(localcloud, name)
    # Only the types whose properties are compared are listed, as AWS lists only types with
    # drift support.
    assert {lid: d["StackResourceDriftStatus"] for lid, d in found.items()} == {
        "Stage": "IN_SYNC", "Mapping": "IN_SYNC", "Queue": "IN_SYNC", "Function": "IN_SYNC"}
    stage = found["Stage"]
    assert stage["PhysicalResourceId"] == STAGE
    assert stage["PropertyDifferences"] == []
    expected = json.loads(stage["ExpectedProperties"])
    assert expected["MethodSettings"] == METHOD_SETTINGS
    assert expected["DeploymentId"] == api_stack["ids"]["Deployment"]
    assert json.loads(stage["ActualProperties"]) == expected
    # The function's code cannot be read back, so it is not part of the comparison.
    assert "Code" not in json.loads(found["Function"]["ExpectedProperties"])

    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["DriftInformation"]["StackDriftStatus"] == "IN_SYNC"
    assert "LastCheckTimestamp" in stack["DriftInformation"]
    assert resource_drift_status(localcloud, name, "Stage") == "IN_SYNC"
    assert resource_drift_status(localcloud, name, "Api") == "NOT_CHECKED"
    summaries = {s["LogicalResourceId"]: s["DriftInformation"]
                 for s in cfn.list_stack_resources(StackName=name)["StackResourceSummaries"]}
    assert summaries["Queue"]["StackResourceDriftStatus"] == "IN_SYNC"
    assert summaries["Deployment"] == {"StackResourceDriftStatus": "NOT_CHECKED"}


# -- a drill deletes the stage and the mapping; a restore recreates them ----------------------


def test_deleted_stage_drifts_until_recreated_with_the_same_settings(
        localcloud: Any, api_stack: dict[str, Any]) -> None:
    apigw = localcloud.client("apigateway")
    name, ids = api_stack["name"], api_stack["ids"]
    apigw.delete_base_path_mapping(domainName=api_stack["domain"], basePath="(none)")
    apigw.delete_stage(restApiId=ids["Api"], stageName=STAGE)

    status = detect(localcloud, name)

    assert status["StackDriftStatus"] == "DRIFTED"
    assert status["DriftedStackResourceCount"] == 2
    deleted = drifts(localcloud, name, "DELETED")
    assert set(deleted) == {"Stage", "Mapping"}
    assert "ActualProperties" not in deleted["Stage"]
    assert json.loads(deleted["Stage"]["ExpectedProperties"])["StageName"] == STAGE
    assert set(drifts(localcloud, name, "IN_SYNC")) == {"Queue", "Function"}
    stack = localcloud.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
    assert stack["DriftInformation"]["StackDriftStatus"] == "DRIFTED"

    # A stage recreated without its method settings still differs from the template.
    restore_stage(apigw, ids["Api"], ids["Deployment"])
    apigw.create_base_path_mapping(domainName=api_stack["domain"], restApiId=ids["Api"],
                                   stage=STAGE)
    assert detect(localcloud, name)["DriftedStackResourceCount"] == 1
    [difference] = drifts(localcloud, name, "MODIFIED")["Stage"]["PropertyDifferences"]
    assert (difference["PropertyPath"], difference["ActualValue"],
            difference["DifferenceType"]) == ("/MethodSettings/0", "null", "REMOVE")
    assert json.loads(difference["ExpectedValue"]) == METHOD_SETTINGS[0]

    throttle(apigw, ids["Api"], "50", "20")
    status = detect(localcloud, name)
    assert (status["StackDriftStatus"], status["DriftedStackResourceCount"]) == ("IN_SYNC", 0)
    assert resource_drift_status(localcloud, name, "Mapping") == "IN_SYNC"



def test_an_api_deleted_out_of_band_deletes_its_parts(
        localcloud: Any, api_stack: dict[str, Any]) -> None:
    apigw = localcloud.client("apigateway")
    name, ids = api_stack["name"], api_stack["ids"]
    apigw.delete_base_path_mapping(domainName=api_stack["domain"], basePath="(none)")
    apigw.delete_domain_name(domainName=api_stack["domain"])
    apigw.delete_rest_api(restApiId=ids["Api"])
    localcloud.client("iam").delete_role(RoleName=ids["Role"])

    status = detect(localcloud, name)

    deleted = {"Api", "Get", "Deployment", "Stage", "Domain", "Mapping", "Role"}
    assert (status["StackDriftStatus"], status["DriftedStackResourceCount"]) == \
        ("DRIFTED", len(deleted))
    assert set(drifts(localcloud, name, "DELETED")) == deleted
    assert set(drifts(localcloud, name, "IN_SYNC")) == {"Queue", "Function"}
    assert resource_drift_status(localcloud, name, "Cert") == "NOT_CHECKED"


# -- settings changed through the service APIs ---------------------------------------------


def test_throttling_changed_through_update_stage_is_modified(
        localcloud: Any, api_stack: dict[str, Any]) -> None:
    cfn = localcloud.client("cloudformation")
    name, ids = api_stack["name"], api_stack["ids"]
    throttle(localcloud.client("apigateway"), ids["Api"], "75", "20")

    drift = cfn.detect_stack_resource_drift(StackName=name,
                                            LogicalResourceId="Stage")["StackResourceDrift"]

    assert drift["StackResourceDriftStatus"] == "MODIFIED"
    assert drift["PropertyDifferences"] == [
        {"PropertyPath": "/MethodSettings/0/ThrottlingRateLimit", "ExpectedValue": "50",
         "ActualValue": "75", "DifferenceType": "NOT_EQUAL"}]
    assert json.loads(drift["ActualProperties"])["MethodSettings"][0]["ThrottlingRateLimit"] \
        == 75
    status = detect(localcloud, name)
    assert (status["StackDriftStatus"], status["DriftedStackResourceCount"]) == ("DRIFTED", 1)
    assert set(drifts(localcloud, name, "MODIFIED")) == {"Stage"}
    assert resource_drift_status(localcloud, name, "Stage") == "MODIFIED"


def test_stage_variables_removed_and_added_are_differences(
        localcloud: Any, api_stack: dict[str, Any]) -> None:
    apigw = localcloud.client("apigateway")
    apigw.update_stage(restApiId=api_stack["ids"]["Api"], stageName=STAGE, patchOperations=[
        {"op": "remove", "path": "/variables/color"},
        {"op": "replace", "path": "/variables/size", "value": "large"},
    ])

    detect(localcloud, api_stack["name"])

    stage = drifts(localcloud, api_stack["name"], "MODIFIED")["Stage"]
    assert stage["PropertyDifferences"] == [
        {"PropertyPath": "/Variables/color", "ExpectedValue": "blue", "ActualValue": "null",
         "DifferenceType": "REMOVE"},
        {"PropertyPath": "/Variables/size", "ExpectedValue": "null", "ActualValue": "large",
         "DifferenceType": "ADD"}]


def test_queue_attribute_changed_is_modified_until_the_template_says_so(
        localcloud: Any, api_stack: dict[str, Any]) -> None:
    name, ids = api_stack["name"], api_stack["ids"]
    localcloud.client("sqs").set_queue_attributes(QueueUrl=ids["Queue"],
                                                  Attributes={"VisibilityTimeout": "90"})

    assert detect(localcloud, name)["StackDriftStatus"] == "DRIFTED"

    queue = drifts(localcloud, name, "MODIFIED")["Queue"]
    assert queue["PhysicalResourceId"] == ids["Queue"]
    assert json.loads(queue["ExpectedProperties"]) == {"VisibilityTimeout": 45}
    assert json.loads(queue["ActualProperties"]) == {"VisibilityTimeout": 90}
    assert queue["PropertyDifferences"] == [
        {"PropertyPath": "/VisibilityTimeout", "ExpectedValue": "45", "ActualValue": "90",
         "DifferenceType": "NOT_EQUAL"}]

    # A stack update that adopts the value makes the expectation follow.
    template = api_template(api_stack["domain"], api_stack["api_name"])
    template["Resources"]["Queue"]["Properties"]["VisibilityTimeout"] = 90
    cfn = localcloud.client("cloudformation")
    cfn.update_stack(StackName=name, TemplateBody=yaml.safe_dump(template))
    assert cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"
    assert detect(localcloud, name)["StackDriftStatus"] == "IN_SYNC"


def test_function_configuration_changed_is_modified(
        localcloud: Any, api_stack: dict[str, Any]) -> None:
    localcloud.client("lambda").update_function_configuration(
        FunctionName=api_stack["ids"]["Function"], Timeout=9,
        Environment={"Variables": {"MODE": "test", "DEBUG": "1"}})

    detect(localcloud, api_stack["name"])

    function = drifts(localcloud, api_stack["name"], "MODIFIED")["Function"]
    differences = sorted(function["PropertyDifferences"], key=lambda d: d["PropertyPath"],
                         reverse=True)
    assert differences == [
        {"PropertyPath": "/Timeout", "ExpectedValue": "5", "ActualValue": "9",
         "DifferenceType": "NOT_EQUAL"},
        {"PropertyPath": "/Environment/Variables/DEBUG", "ExpectedValue": "null",
         "ActualValue": "1", "DifferenceType": "ADD"}]


# -- health checks and rules ---------------------------------------------------------------


def watch_template() -> dict[str, Any]:
    """A rule feeding a queue and a health check a drill would invert."""
    return {"Resources": {
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"MessageRetentionPeriod": 3600}},
        "Rule": {"Type": "AWS::Events::Rule", "Properties": {
            "EventPattern": {"source": ["drift.test"]}, "State": "ENABLED",
            "Targets": [{"Id": "queue", "Arn": {"Fn::GetAtt": ["Queue", "Arn"]}}]}},
        "Check": {"Type": "AWS::Route53::HealthCheck", "Properties": {"HealthCheckConfig": {
            "Type": "HTTP", "IPAddress": "127.0.0.1", "Port": 9, "ResourcePath": "/health",
            "RequestInterval": 30, "FailureThreshold": 3, "Inverted": False}}},
        "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 7}},
    }}


def test_inverted_health_check_and_changed_rule_are_modified(localcloud: Any) -> None:
    name, ids = deploy(localcloud, watch_template())
    assert detect(localcloud, name)["StackDriftStatus"] == "IN_SYNC"
    assert set(drifts(localcloud, name, "IN_SYNC")) == {"Queue", "Rule", "Check"}

    localcloud.client("route53").update_health_check(HealthCheckId=ids["Check"],
                                                     Inverted=True)
    localcloud.client("events").put_rule(
        Name=ids["Rule"], State="DISABLED",
        EventPattern=json.dumps({"source": ["drift.test"], "detail-type": ["order"]}))

    status = detect(localcloud, name)

    assert (status["StackDriftStatus"], status["DriftedStackResourceCount"]) == ("DRIFTED", 2)
    modified = drifts(localcloud, name, "MODIFIED")
    assert modified["Check"]["PropertyDifferences"] == [
        {"PropertyPath": "/HealthCheckConfig/Inverted", "ExpectedValue": "false",
         "ActualValue": "true", "DifferenceType": "NOT_EQUAL"}]
    assert sorted(modified["Rule"]["PropertyDifferences"], key=lambda d: d["PropertyPath"]) == [
        {"PropertyPath": "/EventPattern/detail-type", "ExpectedValue": "null",
         "ActualValue": '["order"]', "DifferenceType": "ADD"},
        {"PropertyPath": "/State", "ExpectedValue": "ENABLED", "ActualValue": "DISABLED",
         "DifferenceType": "NOT_EQUAL"}]


def test_resources_deleted_out_of_band_are_deleted(localcloud: Any) -> None:
    name, ids = deploy(localcloud, watch_template())
    events = localcloud.client("events")
    events.remove_targets(Rule=ids["Rule"], Ids=["queue"])
    events.delete_rule(Name=ids["Rule"])
    localcloud.client("route53").delete_health_check(HealthCheckId=ids["Check"])
    localcloud.client("sqs").delete_queue(QueueUrl=ids["Queue"])
    localcloud.client("logs").delete_log_group(logGroupName=ids["Logs"])

    status = detect(localcloud, name)

    assert (status["StackDriftStatus"], status["DriftedStackResourceCount"]) == ("DRIFTED", 4)
    deleted = drifts(localcloud, name, "DELETED")
    assert set(deleted) == {"Queue", "Rule", "Check", "Logs"}
    assert json.loads(deleted["Logs"]["ExpectedProperties"]) == {"RetentionInDays": 7}


# -- the API around detections -------------------------------------------------------------


def test_detection_limited_to_named_resources_and_paged_results(localcloud: Any) -> None:
    cfn = localcloud.client("cloudformation")
    name, ids = deploy(localcloud, watch_template())
    localcloud.client("route53").update_health_check(HealthCheckId=ids["Check"],
                                                     Inverted=True)

    status = detect(localcloud, name, LogicalResourceIds=["Queue"])

    assert (status["StackDriftStatus"], status["DriftedStackResourceCount"]) == ("IN_SYNC", 0)
    assert set(drifts(localcloud, name)) == {"Queue"}
    assert resource_drift_status(localcloud, name, "Check") == "NOT_CHECKED"

    assert detect(localcloud, name)["DriftedStackResourceCount"] == 1
    first = cfn.describe_stack_resource_drifts(StackName=name, MaxResults=2)
    second = cfn.describe_stack_resource_drifts(StackName=name, MaxResults=2,
                                                NextToken=first["NextToken"])
    assert "NextToken" not in second
    paged = first["StackResourceDrifts"] + second["StackResourceDrifts"]
    assert sorted(d["LogicalResourceId"] for d in paged) == ["Check", "Queue", "Rule"]
    # A type checked for existence only answers NOT_CHECKED while it exists.
    logs = cfn.detect_stack_resource_drift(StackName=name, LogicalResourceId="Logs")
    assert logs["StackResourceDrift"]["StackResourceDriftStatus"] == "NOT_CHECKED"


@pytest.mark.parametrize("call, message", [
    (lambda cfn, stack: cfn.detect_stack_drift(StackName="no-such-stack"),
     "Stack with id no-such-stack does not exist"),
    (lambda cfn, stack: cfn.detect_stack_drift(StackName=stack, LogicalResourceIds=["Nope"]),
     "Resource Nope does not exist for stack"),
    (lambda cfn, stack: cfn.detect_stack_resource_drift(StackName=stack,
                                                        LogicalResourceId="Nope"),
     "Resource Nope does not exist for stack"),
    (lambda cfn, stack: cfn.describe_stack_drift_detection_status(
        StackDriftDetectionId=str(uuid.uuid4())), "does not exist"),
    (lambda cfn, stack: cfn.describe_stack_resource_drifts(StackName="no-such-stack"),
     "Stack with id no-such-stack does not exist"),
])
def test_what_does_not_exist_is_a_validation_error(localcloud: Any, call: Any,
                                                   message: str) -> None:
    cfn = localcloud.client("cloudformation")
    name = unique("drift")
    cfn.create_stack(StackName=name, TemplateBody=yaml.safe_dump(
        {"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}}))

    with pytest.raises(ClientError) as error:
        call(cfn, name)

    assert error.value.response["Error"]["Code"] == "ValidationError"
    assert message in error.value.response["Error"]["Message"]
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def aws(cloud: Any, *args: str) -> dict[str, Any]:
    proc = subprocess.run(
        [str(AWS_CLI), "--endpoint-url", cloud.url, "--region", "us-east-1", "--output", "json",
         *args],
        capture_output=True, text=True, timeout=60,
        env={"AWS_ACCESS_KEY_ID": "localcloud", "AWS_SECRET_ACCESS_KEY": "localcloud",
             "PATH": os.environ.get("PATH", "")},
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout or "{}")


def test_the_aws_cli_reports_drift(localcloud: Any) -> None:
    name, ids = deploy(localcloud, watch_template())
    localcloud.client("sqs").set_queue_attributes(QueueUrl=ids["Queue"],
                                                  Attributes={"MessageRetentionPeriod": "600"})

    detection = aws(localcloud, "cloudformation", "detect-stack-drift", "--stack-name", name)
    status = aws(localcloud, "cloudformation", "describe-stack-drift-detection-status",
                 "--stack-drift-detection-id", detection["StackDriftDetectionId"])
    found = aws(localcloud, "cloudformation", "describe-stack-resource-drifts",
                "--stack-name", name, "--stack-resource-drift-status-filters", "MODIFIED")

    assert (status["DetectionStatus"], status["StackDriftStatus"]) == \
        ("DETECTION_COMPLETE", "DRIFTED")
    [queue] = found["StackResourceDrifts"]
    assert queue["LogicalResourceId"] == "Queue"
    assert queue["PropertyDifferences"] == [
        {"PropertyPath": "/MessageRetentionPeriod", "ExpectedValue": "3600",
         "ActualValue": "600", "DifferenceType": "NOT_EQUAL"}]


def test_a_resource_that_cannot_be_read_fails_the_detection(monkeypatch: Any) -> None:
    """In process, without a server: a reader that raises makes the detection DETECTION_FAILED
    and names the resource, while the other resources are still reported."""
    from types import SimpleNamespace

    from localcloud.cfn import core, drift

    def unreadable(target: Any) -> dict[str, Any]:
        raise RuntimeError("the backend is unavailable")

    monkeypatch.setitem(drift.COMPARED, "Test::Broken::Thing", drift.Comparison(unreadable))
    monkeypatch.setitem(drift.COMPARED, "Test::Fine::Thing", drift.Comparison(
        lambda target: {"Size": 3}))
    resource_map = SimpleNamespace(
        _parsed_resources={"Broken": object(), "Fine": object()},
        localcloud_expected={"Broken": {"Size": 1}, "Fine": {"Size": "3"}})
    stack = SimpleNamespace(stack_id="stack-1", name="in-process", account_id="123456789012",
                            region_name="us-east-1", resource_map=resource_map)
    for logical_id, resource_type in (("Broken", "Test::Broken::Thing"),
                                      ("Fine", "Test::Fine::Thing")):
        core.states(stack)[logical_id] = core.ResourceState(
            logical_id, resource_type, f"{logical_id}-id", "CREATE_COMPLETE")
    backend = SimpleNamespace()

    detection = drift.detect_stack_drift(backend, stack, None).as_dict()

    assert detection["DetectionStatus"] == "DETECTION_FAILED"
    assert detection["DetectionStatusReason"] == "Failed to detect drift on resources [Broken]"
    assert (detection["StackDriftStatus"], detection["DriftedStackResourceCount"]) == \
        ("IN_SYNC", 0)
    assert drift.resource_drift_information(stack, "Fine")["StackResourceDriftStatus"] \
        == "IN_SYNC"
    assert drift.resource_drift_information(stack, "Broken") == \
        {"StackResourceDriftStatus": "NOT_CHECKED"}
