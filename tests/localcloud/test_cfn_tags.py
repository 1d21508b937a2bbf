"""CloudFormation's tags on the resources of a stack, read through each service's own API.

A stack made with stack tags gives them to every taggable resource, with the resource's own
template tags winning over a stack tag of the same key; types whose resource schema says
``cloudFormationSystemTags`` also get ``aws:cloudformation:stack-name``, ``stack-id`` and
``logical-id``. UpdateStack or a change set with new stack tags (and nothing else) is an update
that gives the resources the new tags.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from botocore.exceptions import ClientError
from conftest import PRIMARY, LocalCloudProcess

AWS_CLI = Path(sys.executable).parent / "aws"
ACCOUNT = "123456789012"
STAGE = "live"
STACK_TAGS = {"team": "payments", "cost-center": "1234"}
NEW_STACK_TAGS = {"team": "payments", "env": "staging"}
SYSTEM_KEYS = ("aws:cloudformation:stack-name", "aws:cloudformation:stack-id",
               "aws:cloudformation:logical-id")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def as_dict(tags: list[dict[str, str]]) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in tags}


def template(suffix: str) -> dict[str, Any]:
    """One resource of each taggable type the local cloud's CloudFormation tags."""
    domain = f"{suffix}.tags.test"
    own = tag_list({"team": "template"})  # the same key as a stack tag: the template's wins
    return {"Resources": {
        "Api": {"Type": "AWS::ApiGateway::RestApi",
                "Properties": {"Name": f"api-{suffix}", "Tags": own}},
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
            "StageName": STAGE, "Tags": tag_list({"tier": "web"})}},
        "Cert": {"Type": "AWS::CertificateManager::Certificate",
                 "Properties": {"DomainName": domain, "ValidationMethod": "DNS"}},
        "Domain": {"Type": "AWS::ApiGateway::DomainName", "Properties": {
            "DomainName": domain, "RegionalCertificateArn": {"Ref": "Cert"},
            "EndpointConfiguration": {"Types": ["REGIONAL"]}}},
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"Tags": own}},
        "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]}},
        "Logs": {"Type": "AWS::Logs::LogGroup",
                 "Properties": {"LogGroupName": f"/tags/{suffix}"}},
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": f"tags-{suffix}"}},
        "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": f"bus-{suffix}"}},
        "Rule": {"Type": "AWS::Events::Rule", "Properties": {
            "ScheduleExpression": "rate(1 hour)", "State": "DISABLED"}},
        "Check": {"Type": "AWS::Route53::HealthCheck", "Properties": {
            "HealthCheckConfig": {"Type": "CALCULATED", "HealthThreshold": 0}}},
        "Zone": {"Type": "AWS::Route53::HostedZone", "Properties": {"Name": domain}},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                           "Principal": {"Service": "lambda.amazonaws.com"}}]}}},
        "Function": {"Type": "AWS::Lambda::Function", "Properties": {
            "Runtime": "python3.12", "Handler": "index.handler",
            "Role": {"Fn::GetAtt": ["Role", "Arn"]},
            "Code": {"ZipFile": "def handler(event, context):\n    return event\n"}}},
        "Mapping": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {
            "FunctionName": {"Ref": "Function"}, "Enabled": False,
            "EventSourceArn": {"Fn::GetAtt": ["Queue", "Arn"]},
            "Tags": tag_list({"purpose": "orders"})}},
    }}


# -- reading tags through each service's API -----------------------------------------------

Reader = Callable[[LocalCloudProcess, dict[str, str]], dict[str, str]]


def _arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{PRIMARY}:{ACCOUNT}:{resource}"


def rest_api_tags(cloud: LocalCloudProcess, ids: dict[str, str]) -> dict[str, str]:
    return cloud.client("apigateway").get_rest_api(restApiId=ids["Api"]).get("tags", {})


def stage_tags(cloud: LocalCloudProcess, ids: dict[str, str]) -> dict[str, str]:
    apigw = cloud.client("apigateway")
    from_stage = apigw.get_stage(restApiId=ids["Api"], stageName=STAGE).get("tags", {})
    arn = f"arn:aws:apigateway:{PRIMARY}::/restapis/{ids['Api']}/stages/{STAGE}"
    assert apigw.get_tags(resourceArn=arn)["tags"] == from_stage
    return from_stage


def domain_tags(cloud: LocalCloudProcess, ids: dict[str, str]) -> dict[str, str]:
    return cloud.client("apigateway").get_domain_name(domainName=ids["Domain"]).get("tags", {})


def certificate_tags(cloud: LocalCloudProcess, ids: dict[str, str]) -> dict[str, str]:
    acm = cloud.client("acm")
    return as_dict(acm.list_tags_for_certificate(CertificateArn=ids["Cert"]).get("Tags", []))


def queue_tags(cloud: LocalCloudProcess, ids: dict[str, str]) -> dict[str, str]:
    return cloud.client("sqs").list_queue_tags(QueueUrl=ids["Queue"]).get("Tags", {})


def table_tags(cloud: LocalCloudProcess, ids: dict[str, str]) -> dict[str, str]:
    arn = _arn("dynamodb", f"table/{ids['Table']}")
    return as_dict(cloud.client("dynamodb").list_tags_of_resource(ResourceArn=arn)["Tags"])


def log_group_tags(cloud: LocalCloudProcess, ids: dict[str, str]) -> dict[str, str]:
    arn = _arn("logs", f"log-group:{ids['Logs']}")
    return cloud.client("logs").list_tags_for_resource(resourceArn=arn)["tags"]


def bucket_tags(cloud: LocalCloudProcess, ids: dict[str, str]) -> dict[str, str]:
    try:
        tagging = cloud.client("s3").get_bucket_tagging(Bucket=ids["Bucket"])
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "NoSuchTagSet":
            return {}
        raise
    return as_dict(tagging["TagSet"])


def bus_tags(cloud: LocalCloudProcess, ids: dict[str, str]) -> dict[str, str]:
    arn = _arn("events", f"event-bus/{ids['Bus']}")
    return as_dict(cloud.client("events").list_tags_for_resource(ResourceARN=arn)["Tags"])


def rule_tags(cloud: LocalCloudProcess, ids: dict[str, str]) -> dict[str, str]:
    arn = _arn("events", f"rule/{ids['Rule']}")
    return as_dict(cloud.client("events").list_tags_for_resource(ResourceARN=arn)["Tags"])


def route53_tags(kind: str, logical_id: str) -> Reader:
    def read(cloud: LocalCloudProcess, ids: dict[str, str]) -> dict[str, str]:
        found = cloud.client("route53").list_tags_for_resource(
            ResourceType=kind, ResourceId=ids[logical_id].split("/")[-1])
        return as_dict(found["ResourceTagSet"].get("Tags", []))

    return read


def role_tags(cloud: LocalCloudProcess, ids: dict[str, str]) -> dict[str, str]:
    return as_dict(cloud.client("iam").list_role_tags(RoleName=ids["Role"])["Tags"])


def function_tags(cloud: LocalCloudProcess, ids: dict[str, str]) -> dict[str, str]:
    arn = _arn("lambda", f"function:{ids['Function']}")
    return cloud.client("lambda").list_tags(Resource=arn).get("Tags", {})


def mapping_tags(cloud: LocalCloudProcess, ids: dict[str, str]) -> dict[str, str]:
    arn = _arn("lambda", f"event-source-mapping:{ids['Mapping']}")
    return cloud.client("lambda").list_tags(Resource=arn).get("Tags", {})


@dataclass(frozen=True)
class Case:
    """A taggable resource of the template and what its type's schema says."""

    logical_id: str
    read: Reader
    system_tags: bool  # tagging.cloudFormationSystemTags of its resource schema
    own: dict[str, str]

    def __str__(self) -> str:
        return self.logical_id


CASES = [
    Case("Api", rest_api_tags, True, {"team": "template"}),
    Case("Stage", stage_tags, True, {"tier": "web"}),
    Case("Domain", domain_tags, True, {}),
    Case("Cert", certificate_tags, True, {}),
    Case("Queue", queue_tags, False, {"team": "template"}),
    Case("Table", table_tags, False, {}),
    Case("Logs", log_group_tags, True, {}),
    Case("Bucket", bucket_tags, True, {}),
    Case("Bus", bus_tags, True, {}),
    Case("Rule", rule_tags, True, {}),
    Case("Check", route53_tags("healthcheck", "Check"), False, {}),
    Case("Zone", route53_tags("hostedzone", "Zone"), False, {}),
    Case("Role", role_tags, False, {}),
    Case("Function", function_tags, True, {}),
    Case("Mapping", mapping_tags, True, {"purpose": "orders"}),
]


def expected_tags(case: Case, stack: dict[str, Any], stack_tags: dict[str, str]
                  ) -> dict[str, str]:
    expected = {**stack_tags, **case.own}
    if case.system_tags:
        expected.update({"aws:cloudformation:stack-name": stack["name"],
                         "aws:cloudformation:stack-id": stack["id"],
                         "aws:cloudformation:logical-id": case.logical_id})
    return expected


# -- stacks -----------------------------------------------------------------------------------


def physical_ids(cloud: LocalCloudProcess, name: str) -> dict[str, str]:
    resources = cloud.client("cloudformation").describe_stack_resources(
        StackName=name)["StackResources"]
    return {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources}


def create(cloud: LocalCloudProcess, prefix: str) -> dict[str, Any]:
    cfn = cloud.client("cloudformation")
    name = unique(prefix)
    stack_id = cfn.create_stack(StackName=name, TemplateBody=json.dumps(template(name)),
                                Tags=tag_list(STACK_TAGS))["StackId"]
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    return {"name": name, "id": stack_id, "ids": physical_ids(cloud, name)}


@pytest.fixture(scope="module")
def created(localcloud: LocalCloudProcess) -> dict[str, Any]:
    return create(localcloud, "tagged")


@pytest.fixture(scope="module")
def retagged(localcloud: LocalCloudProcess) -> dict[str, Any]:
    """A stack whose tags UpdateStack changed, and nothing else."""
    stack = create(localcloud, "retagged")
    cfn = localcloud.client("cloudformation")
    cfn.update_stack(StackName=stack["name"], UsePreviousTemplate=True,
                     Tags=tag_list(NEW_STACK_TAGS))
    return stack


# -- tests ------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=str)
def test_create_gives_stack_tags_and_system_tags_where_the_schema_says(
        localcloud: LocalCloudProcess, created: dict[str, Any], case: Case) -> None:
    tags = case.read(localcloud, created["ids"])

    assert tags == expected_tags(case, created, STACK_TAGS)
    if not case.system_tags:
        assert not any(key.startswith("aws:") for key in tags)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_update_stack_with_new_tags_retags_every_resource(
        localcloud: LocalCloudProcess, retagged: dict[str, Any], case: Case) -> None:
    tags = case.read(localcloud, retagged["ids"])

    assert tags == expected_tags(case, retagged, NEW_STACK_TAGS)
    assert "cost-center" not in tags  # a stack tag the stack no longer has is removed


def test_a_tags_only_update_is_an_update_with_resource_events(
        localcloud: LocalCloudProcess, retagged: dict[str, Any]) -> None:
    cfn = localcloud.client("cloudformation")
    stack = cfn.describe_stacks(StackName=retagged["name"])["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    assert as_dict(stack["Tags"]) == NEW_STACK_TAGS
    events = cfn.describe_stack_events(StackName=retagged["name"])["StackEvents"]
    updated = {e["LogicalResourceId"] for e in events
               if e["ResourceStatus"] == "UPDATE_COMPLETE"}
    assert {"Stage", "Queue", "Function"} <= updated
    assert "Get" not in updated  # a method carries no tags: nothing to update

    # The same tags again change nothing: AWS refuses the update.
    with pytest.raises(ClientError, match="No updates are to be performed"):
        cfn.update_stack(StackName=retagged["name"], UsePreviousTemplate=True,
                         Tags=tag_list(NEW_STACK_TAGS))


def small_template(queue_tags: dict[str, str] | None = None) -> dict[str, Any]:
    queue: dict[str, Any] = {"Type": "AWS::SQS::Queue", "Properties": {}}
    if queue_tags:
        queue["Properties"]["Tags"] = tag_list(queue_tags)
    return {"Resources": {
        "Queue": queue,
        "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {}},
        "Policy": {"Type": "AWS::SQS::QueuePolicy", "Properties": {
            "Queues": [{"Ref": "Queue"}],
            "PolicyDocument": {"Version": "2012-10-17", "Statement": []}}},
    }}


def test_a_change_set_with_only_new_tags_modifies_the_tagged_resources(
        localcloud: LocalCloudProcess) -> None:
    cfn = localcloud.client("cloudformation")
    name = unique("tagset")
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(small_template()),
                     Tags=tag_list(STACK_TAGS))
    change_set_id = cfn.create_change_set(
        StackName=name, ChangeSetName="retag", ChangeSetType="UPDATE",
        UsePreviousTemplate=True, Tags=tag_list(NEW_STACK_TAGS))["Id"]

    described = cfn.describe_change_set(ChangeSetName=change_set_id)
    assert described["Status"] == "CREATE_COMPLETE"
    assert described["ExecutionStatus"] == "AVAILABLE"
    changes = {c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"]
               for c in described["Changes"]}
    assert set(changes) == {"Queue", "Logs"}  # the queue policy carries no tags
    assert {c["Action"] for c in changes.values()} == {"Modify"}
    assert all(c.get("Scope") == ["Tags"] for c in changes.values())

    cfn.execute_change_set(ChangeSetName=change_set_id)
    ids = physical_ids(localcloud, name)
    assert localcloud.client("sqs").list_queue_tags(QueueUrl=ids["Queue"])["Tags"] == \
        NEW_STACK_TAGS
    assert as_dict(cfn.describe_stacks(StackName=name)["Stacks"][0]["Tags"]) == NEW_STACK_TAGS
    cfn.delete_stack(StackName=name)


def test_a_failed_update_puts_the_previous_stack_tags_back(
        localcloud: LocalCloudProcess) -> None:
    cfn = localcloud.client("cloudformation")
    export = unique("taken")
    owner = unique("exporter")
    cfn.create_stack(StackName=owner, TemplateBody=json.dumps({
        **small_template(), "Outputs": {"Out": {"Value": "x", "Export": {"Name": export}}}}))
    name = unique("rollback")
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(small_template()),
                     Tags=tag_list(STACK_TAGS))
    # The resources get the new tags, then the export clashes: the update rolls back.
    cfn.update_stack(StackName=name, Tags=tag_list(NEW_STACK_TAGS), TemplateBody=json.dumps({
        **small_template(), "Outputs": {"Out": {"Value": "y", "Export": {"Name": export}}}}))

    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert as_dict(stack["Tags"]) == STACK_TAGS
    ids = physical_ids(localcloud, name)
    assert localcloud.client("sqs").list_queue_tags(QueueUrl=ids["Queue"])["Tags"] == STACK_TAGS
    arn = _arn("logs", f"log-group:{ids['Logs']}")
    assert localcloud.client("logs").list_tags_for_resource(resourceArn=arn)["tags"] == {
        **STACK_TAGS, "aws:cloudformation:stack-name": name,
        "aws:cloudformation:stack-id": stack["StackId"],
        "aws:cloudformation:logical-id": "Logs"}
    cfn.delete_stack(StackName=name)
    cfn.delete_stack(StackName=owner)


def test_tags_cloudformation_added_are_not_drift(localcloud: LocalCloudProcess,
                                                  created: dict[str, Any]) -> None:
    assert queue_tags(localcloud, created["ids"])["cost-center"] == "1234"
    cfn = localcloud.client("cloudformation")
    detection_id = cfn.detect_stack_drift(StackName=created["name"])["StackDriftDetectionId"]
    status = cfn.describe_stack_drift_detection_status(StackDriftDetectionId=detection_id)

    assert status["StackDriftStatus"] == "IN_SYNC"
    drifts = cfn.describe_stack_resource_drifts(StackName=created["name"])["StackResourceDrifts"]
    found = {d["LogicalResourceId"]: d for d in drifts}
    assert found["Stage"]["StackResourceDriftStatus"] == "IN_SYNC"
    assert json.loads(found["Stage"]["ActualProperties"])["Tags"] == tag_list({"tier": "web"})
    assert found["Queue"]["StackResourceDriftStatus"] == "IN_SYNC"


def test_a_tag_removed_out_of_band_from_the_template_ones_is_drift(
        localcloud: LocalCloudProcess) -> None:
    stack = create(localcloud, "tagdrift")
    apigw = localcloud.client("apigateway")
    arn = f"arn:aws:apigateway:{PRIMARY}::/restapis/{stack['ids']['Api']}/stages/{STAGE}"
    apigw.untag_resource(resourceArn=arn, tagKeys=["tier"])
    cfn = localcloud.client("cloudformation")

    drift = cfn.detect_stack_resource_drift(StackName=stack["name"], LogicalResourceId="Stage")
    assert drift["StackResourceDrift"]["StackResourceDriftStatus"] == "MODIFIED"
    assert stage_tags(localcloud, stack["ids"])["team"] == "payments"  # the stack's stay


def aws(cloud: LocalCloudProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(AWS_CLI), "--endpoint-url", cloud.url, "--region", PRIMARY, "--output", "json",
         *args],
        capture_output=True, text=True, timeout=120,
        env={"AWS_ACCESS_KEY_ID": "localcloud", "AWS_SECRET_ACCESS_KEY": "localcloud",
             "PATH": os.environ.get("PATH", "")},
    )


def test_the_aws_cli_deploys_with_tags_and_sees_them_on_the_stage(
        localcloud: LocalCloudProcess, tmp_path: Path) -> None:
    name = unique("clitags")
    body = template(name)
    for unwanted in ("Cert", "Domain", "Queue", "Table", "Logs", "Bucket", "Bus", "Rule",
                     "Check", "Zone", "Role", "Function", "Mapping"):
        del body["Resources"][unwanted]
    path = tmp_path / "stack.yml"
    path.write_text(yaml.safe_dump(body))

    def deploy(*tags: str) -> None:
        proc = aws(localcloud, "cloudformation", "deploy", "--stack-name", name,
                   "--template-file", str(path), "--tags", *tags)
        assert proc.returncode == 0, proc.stderr

    def stage() -> dict[str, Any]:
        api_id = physical_ids(localcloud, name)["Api"]
        proc = aws(localcloud, "apigateway", "get-stage", "--rest-api-id", api_id,
                   "--stage-name", STAGE)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    deploy("team=payments", "env=dev")
    cfn = localcloud.client("cloudformation")
    stack_id = cfn.describe_stacks(StackName=name)["Stacks"][0]["StackId"]
    assert stage()["tags"] == {"team": "payments", "env": "dev", "tier": "web",
                               "aws:cloudformation:stack-name": name,
                               "aws:cloudformation:stack-id": stack_id,
                               "aws:cloudformation:logical-id": "Stage"}

    deploy("team=payments", "env=prod")  # only the tags change: still a change set to run
    assert stage()["tags"]["env"] == "prod"
    cfn.delete_stack(StackName=name)
