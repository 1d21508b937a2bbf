"""CloudFormation models for SQS, ACM, Route 53, Lambda, Logs, IAM and S3 on the local cloud."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from typing import Any

import pytest
from botocore.exceptions import ClientError

REGION = "us-east-1"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def deploy(cloud: Any, template: dict[str, Any]) -> tuple[str, dict[str, str]]:
    cfn = cloud.client("cloudformation")
    name = unique("svc")
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(template))
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    return name, {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []}


def update(cloud: Any, name: str, template: dict[str, Any]) -> None:
    cfn = cloud.client("cloudformation")
    cfn.update_stack(StackName=name, TemplateBody=json.dumps(template))
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_COMPLETE", stack.get("StackStatusReason")


def delete(cloud: Any, name: str) -> None:
    cfn = cloud.client("cloudformation")
    cfn.delete_stack(StackName=name)
    with pytest.raises(ClientError, match="does not exist"):
        cfn.describe_stacks(StackName=name)


def queue_policy_template(rule_name: str) -> dict[str, Any]:
    return {
        "Resources": {
            "Queue": {"Type": "AWS::SQS::Queue"},
            "Policy": {"Type": "AWS::SQS::QueuePolicy", "Properties": {
                "Queues": [{"Ref": "Queue"}],
                "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                    "Action": "sqs:SendMessage", "Resource": {"Fn::GetAtt": ["Queue", "Arn"]},
                    "Condition": {"ArnEquals": {"aws:SourceArn": {"Fn::Sub":
                        f"arn:aws:events:${{AWS::Region}}:${{AWS::AccountId}}:rule/{rule_name}"}}},
                }]}}},
        },
        "Outputs": {"Url": {"Value": {"Ref": "Queue"}}, "Policy": {"Value": {"Ref": "Policy"}}},
    }


def queue_policy(cloud: Any, url: str) -> dict[str, Any] | None:
    attributes = cloud.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
    text = attributes["Attributes"].get("Policy")
    return json.loads(text) if text else None


def test_queue_policy_is_the_queues_policy_and_goes_with_the_resource(localcloud):
    name, out = deploy(localcloud, queue_policy_template("first"))
    policy = queue_policy(localcloud, out["Url"])
    assert policy["Statement"][0]["Principal"] == {"Service": "events.amazonaws.com"}
    assert policy["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"].endswith(
        ":rule/first")
    assert out["Policy"] and "{" not in out["Policy"]

    update(localcloud, name, queue_policy_template("second"))
    assert queue_policy(localcloud, out["Url"])["Statement"][0]["Condition"]["ArnEquals"][
        "aws:SourceArn"].endswith(":rule/second")

    without_policy = queue_policy_template("second")
    del without_policy["Resources"]["Policy"]
    del without_policy["Outputs"]["Policy"]
    update(localcloud, name, without_policy)
    assert queue_policy(localcloud, out["Url"]) is None
    delete(localcloud, name)


def health_check(**config: Any) -> dict[str, Any]:
    base = {"Type": "HTTPS", "FullyQualifiedDomainName": "api.example.test", "Port": 443,
            "ResourcePath": "/Prod/health", "RequestInterval": 10, "FailureThreshold": 2}
    return {"Resources": {"Check": {"Type": "AWS::Route53::HealthCheck", "Properties": {
        "HealthCheckConfig": {**base, **config},
        "HealthCheckTags": [{"Key": "Name", "Value": "primary"}]}}},
        "Outputs": {"Id": {"Value": {"Ref": "Check"}},
                    "Att": {"Value": {"Fn::GetAtt": ["Check", "HealthCheckId"]}}}}


def test_health_check_keeps_every_setting_and_updates_in_place(localcloud):
    r53 = localcloud.client("route53")
    name, out = deploy(localcloud, health_check(
        Inverted=True, Disabled=False, EnableSNI=True, MeasureLatency=True,
        SearchString="ok", Regions=["us-east-1", "us-west-2", "eu-west-1"]))
    assert out["Id"] == out["Att"]
    config = r53.get_health_check(HealthCheckId=out["Id"])["HealthCheck"]["HealthCheckConfig"]
    assert config["Inverted"] is True
    assert config["EnableSNI"] is True and config["MeasureLatency"] is True
    assert config["RequestInterval"] == 10 and config["FailureThreshold"] == 2
    assert config["ResourcePath"] == "/Prod/health" and config["SearchString"] == "ok"
    assert config["Regions"] == ["us-east-1", "us-west-2", "eu-west-1"]
    tags = r53.list_tags_for_resource(ResourceType="healthcheck", ResourceId=out["Id"])
    assert tags["ResourceTagSet"]["Tags"] == [{"Key": "Name", "Value": "primary"}]

    update(localcloud, name, health_check(Inverted=False, FailureThreshold=3, MeasureLatency=True))

    updated = r53.get_health_check(HealthCheckId=out["Id"])["HealthCheck"]["HealthCheckConfig"]
    assert updated["Inverted"] is False and updated["FailureThreshold"] == 3
    delete(localcloud, name)
    with pytest.raises(ClientError) as raised:
        r53.get_health_check(HealthCheckId=out["Id"])
    assert raised.value.response["Error"]["Code"] == "NoSuchHealthCheck"


def test_health_checks_get_the_api_defaults_and_extras(localcloud):
    """What CreateHealthCheck would give them: Port 443 and EnableSNI for HTTPS when the
    template omits them, AlarmIdentifier and InsufficientDataHealthStatus kept, and an
    update bumps HealthCheckVersion."""
    r53 = localcloud.client("route53")

    def template(sni: str | None, threshold: int) -> dict[str, Any]:
        https = {"Type": "HTTPS", "FullyQualifiedDomainName": "api.example.test",
                 "ResourcePath": "/health", "FailureThreshold": threshold}
        sni_parameter: dict[str, Any] = {"Type": "String", "Default": "true"}
        if sni is None:
            sni_parameter["Default"] = ""
        else:
            https["EnableSNI"] = {"Ref": "Sni"}
        return {
            "Parameters": {"Sni": sni_parameter},
            "Resources": {
                "Https": {"Type": "AWS::Route53::HealthCheck", "Properties": {
                    "HealthCheckConfig": https}},
                "Alarm": {"Type": "AWS::Route53::HealthCheck", "Properties": {
                    "HealthCheckConfig": {
                        "Type": "CLOUDWATCH_METRIC",
                        "AlarmIdentifier": {"Name": "api-errors", "Region": "us-west-2"},
                        "InsufficientDataHealthStatus": "LastKnownStatus"}}}},
            "Outputs": {"Https": {"Value": {"Ref": "Https"}},
                        "Alarm": {"Value": {"Ref": "Alarm"}}}}

    def https_check(check_id: str) -> dict[str, Any]:
        return r53.get_health_check(HealthCheckId=check_id)["HealthCheck"]

    name, out = deploy(localcloud, template(None, 2))
    created = https_check(out["Https"])
    assert created["HealthCheckConfig"]["Port"] == 443
    assert created["HealthCheckConfig"]["EnableSNI"] is True
    assert created["HealthCheckVersion"] == 1
    alarm = r53.get_health_check(HealthCheckId=out["Alarm"])["HealthCheck"]
    assert alarm["HealthCheckConfig"]["AlarmIdentifier"] == {
        "Name": "api-errors", "Region": "us-west-2"}
    assert alarm["HealthCheckConfig"]["InsufficientDataHealthStatus"] == "LastKnownStatus"

    cfn = localcloud.client("cloudformation")
    cfn.update_stack(StackName=name, TemplateBody=json.dumps(template("false", 3)),
                     Parameters=[{"ParameterKey": "Sni", "ParameterValue": "false"}])
    assert cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"

    updated = https_check(out["Https"])
    assert updated["HealthCheckConfig"]["EnableSNI"] is False
    assert updated["HealthCheckConfig"]["FailureThreshold"] == 3
    assert updated["HealthCheckConfig"]["Port"] == 443
    assert updated["HealthCheckVersion"] == 2
    delete(localcloud, name)


def test_failover_records_are_kept_and_deleted_one_by_one(localcloud):
    r53 = localcloud.client("route53")
    zone_name = f"{unique('zone')}.example.test"
    record = f"api.{zone_name}"

    def failover(identifier: str, role: str, target: str) -> dict[str, Any]:
        return {"Type": "AWS::Route53::RecordSet", "Properties": {
            "HostedZoneId": {"Ref": "Zone"}, "Name": record, "Type": "A",
            "SetIdentifier": identifier, "Failover": role,
            "HealthCheckId": {"Ref": "Check"},
            "AliasTarget": {"DNSName": target, "HostedZoneId": "Z1UJRXOUMOOFQ8",
                            "EvaluateTargetHealth": True}}}

    template = {"Resources": {
        "Zone": {"Type": "AWS::Route53::HostedZone", "Properties": {"Name": zone_name}},
        "Check": health_check()["Resources"]["Check"],
        "Primary": failover("primary", "PRIMARY", "d-1.execute-api.us-east-1.amazonaws.com"),
        "Secondary": failover("secondary", "SECONDARY",
                              "d-2.execute-api.us-west-2.amazonaws.com"),
    }, "Outputs": {"Zone": {"Value": {"Ref": "Zone"}}, "Check": {"Value": {"Ref": "Check"}},
                   "Record": {"Value": {"Ref": "Primary"}}}}
    name, out = deploy(localcloud, template)
    assert out["Record"] == record

    def records() -> dict[str, dict[str, Any]]:
        found = r53.list_resource_record_sets(HostedZoneId=out["Zone"])["ResourceRecordSets"]
        return {r["SetIdentifier"]: r for r in found if r.get("SetIdentifier")}

    pair = records()
    assert pair["primary"]["Failover"] == "PRIMARY"
    assert pair["primary"]["HealthCheckId"] == out["Check"]
    assert pair["primary"]["AliasTarget"]["EvaluateTargetHealth"] is True
    assert pair["secondary"]["AliasTarget"]["DNSName"].startswith("d-2.")

    del template["Resources"]["Secondary"]
    update(localcloud, name, template)
    assert list(records()) == ["primary"]
    delete(localcloud, name)
    assert out["Zone"] not in [z["Id"].split("/")[-1] for z in r53.list_hosted_zones()[
        "HostedZones"]]


def test_certificate_is_issued_at_once(localcloud):
    name, out = deploy(localcloud, {
        "Resources": {"Cert": {"Type": "AWS::CertificateManager::Certificate", "Properties": {
            "DomainName": "svc.example.test", "ValidationMethod": "DNS",
            "SubjectAlternativeNames": ["*.svc.example.test"]}}},
        "Outputs": {"Arn": {"Value": {"Ref": "Cert"}}}})
    acm = localcloud.client("acm")
    described = acm.describe_certificate(CertificateArn=out["Arn"])["Certificate"]
    assert out["Arn"].startswith(f"arn:aws:acm:{REGION}:123456789012:certificate/")
    assert described["Status"] == "ISSUED"
    assert set(described["SubjectAlternativeNames"]) == {"svc.example.test",
                                                          "*.svc.example.test"}
    delete(localcloud, name)
    with pytest.raises(ClientError):
        acm.describe_certificate(CertificateArn=out["Arn"])


def lambda_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return {}\n")
    return buffer.getvalue()


def test_lambda_stack_keeps_what_the_template_sets(localcloud):
    bucket, function = unique("artifacts"), unique("worker")
    localcloud.client("s3").create_bucket(Bucket=bucket)
    localcloud.client("s3").put_object(Bucket=bucket, Key="worker.zip", Body=lambda_zip())
    name, out = deploy(localcloud, {
        "Resources": {
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 60}},
            "Role": {"Type": "AWS::IAM::Role", "Properties": {
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole"}]},
                "Policies": [{"PolicyName": "read-queue", "PolicyDocument": {
                    "Version": "2012-10-17", "Statement": [{
                        "Effect": "Allow", "Action": ["sqs:ReceiveMessage"],
                        "Resource": {"Fn::GetAtt": ["Queue", "Arn"]}}]}}]}},
            "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {
                "LogGroupName": f"/aws/lambda/{function}", "RetentionInDays": 14,
                "KmsKeyId": f"arn:aws:kms:{REGION}:123456789012:key/logs"}},
            "Function": {"Type": "AWS::Lambda::Function", "DependsOn": "Logs", "Properties": {
                "FunctionName": function, "Runtime": "python3.12", "Handler": "app.handler",
                "Role": {"Fn::GetAtt": ["Role", "Arn"]}, "Timeout": 10,
                "Code": {"S3Bucket": bucket, "S3Key": "worker.zip"}}},
            "Mapping": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {
                "FunctionName": {"Ref": "Function"},
                "EventSourceArn": {"Fn::GetAtt": ["Queue", "Arn"]},
                "BatchSize": 5, "MaximumBatchingWindowInSeconds": 2, "Enabled": True,
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
                "ScalingConfig": {"MaximumConcurrency": 3}}},
            "Permission": {"Type": "AWS::Lambda::Permission", "Properties": {
                "FunctionName": {"Ref": "Function"}, "Action": "lambda:InvokeFunction",
                "Principal": "events.amazonaws.com"}},
            "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {
                "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]},
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True, "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
                "VersioningConfiguration": {"Status": "Enabled"}}},
        },
        "Outputs": {"Mapping": {"Value": {"Ref": "Mapping"}}, "Role": {"Value": {"Ref": "Role"}},
                    "LogArn": {"Value": {"Fn::GetAtt": ["Logs", "Arn"]}},
                    "Bucket": {"Value": {"Ref": "Bucket"}},
                    "FunctionArn": {"Value": {"Fn::GetAtt": ["Function", "Arn"]}}}})

    mapping = localcloud.client("lambda").get_event_source_mapping(UUID=out["Mapping"])
    assert mapping["BatchSize"] == 5
    assert mapping["MaximumBatchingWindowInSeconds"] == 2
    assert mapping["State"] == "Enabled"
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": 3}
    assert mapping["FunctionArn"] == out["FunctionArn"]
    policy = localcloud.client("lambda").get_policy(FunctionName=function)["Policy"]
    assert "events.amazonaws.com" in policy
    iam = localcloud.client("iam")
    assert iam.list_role_policies(RoleName=out["Role"])["PolicyNames"] == ["read-queue"]
    (group,) = localcloud.client("logs").describe_log_groups(
        logGroupNamePrefix=f"/aws/lambda/{function}")["logGroups"]
    assert group["retentionInDays"] == 14
    assert group["kmsKeyId"].endswith(":key/logs")
    assert out["LogArn"] == (f"arn:aws:logs:{REGION}:123456789012:log-group:"
                             f"/aws/lambda/{function}:*")
    s3 = localcloud.client("s3")
    assert all(s3.get_public_access_block(Bucket=out["Bucket"])[
        "PublicAccessBlockConfiguration"].values())
    assert s3.get_bucket_versioning(Bucket=out["Bucket"])["Status"] == "Enabled"
    encryption = s3.get_bucket_encryption(Bucket=out["Bucket"])
    assert encryption["ServerSideEncryptionConfiguration"]["Rules"][0][
        "ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"

    delete(localcloud, name)
    assert function not in [f["FunctionName"] for f in
                            localcloud.client("lambda").list_functions()["Functions"]]
    assert out["Mapping"] not in [m["UUID"] for m in localcloud.client(
        "lambda").list_event_source_mappings()["EventSourceMappings"]]
    assert out["Role"] not in [r["RoleName"] for r in iam.list_roles()["Roles"]]
    assert localcloud.client("logs").describe_log_groups(
        logGroupNamePrefix=f"/aws/lambda/{function}")["logGroups"] == []


def mapped_function_template(function: str, log_group: str | None) -> dict[str, Any]:
    """A function and its queue mapping whose settings come from String parameters."""
    properties: dict[str, Any] = {
        "FunctionName": function, "Runtime": "python3.12", "Handler": "index.handler",
        "Timeout": {"Ref": "Timeout"},
        "Role": {"Fn::GetAtt": ["Role", "Arn"]},
        "Code": {"ZipFile": "def handler(event, context):\n    print('hello from the stack')\n"}}
    if log_group is not None:
        properties["LoggingConfig"] = {"LogGroup": log_group, "LogFormat": "Text"}
    return {
        "Parameters": {name: {"Type": "String"} for name in
                       ("Enabled", "BatchSize", "Window", "Timeout")},
        "Resources": {
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 60}},
            "Role": {"Type": "AWS::IAM::Role", "Properties": {
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole"}]}}},
            "Function": {"Type": "AWS::Lambda::Function", "Properties": properties},
            "Mapping": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {
                "FunctionName": {"Ref": "Function"},
                "EventSourceArn": {"Fn::GetAtt": ["Queue", "Arn"]},
                "Enabled": {"Ref": "Enabled"}, "BatchSize": {"Ref": "BatchSize"},
                "MaximumBatchingWindowInSeconds": {"Ref": "Window"}}}},
        "Outputs": {"Mapping": {"Value": {"Ref": "Mapping"}}}}


def parameters(**values: str) -> list[dict[str, str]]:
    return [{"ParameterKey": key, "ParameterValue": value} for key, value in values.items()]


def test_lambda_settings_from_parameters_and_logging_config_are_kept(localcloud):
    cfn, lambda_ = localcloud.client("cloudformation"), localcloud.client("lambda")
    name, function = unique("fromparams"), unique("logged")
    log_group = f"/custom/{function}"
    localcloud.client("logs").create_log_group(logGroupName=log_group)
    cfn.create_stack(StackName=name,
                     TemplateBody=json.dumps(mapped_function_template(function, log_group)),
                     Parameters=parameters(Enabled="false", BatchSize="5", Window="2",
                                           Timeout="20"))
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    mapping_id = stack["Outputs"][0]["OutputValue"]

    mapping = lambda_.get_event_source_mapping(UUID=mapping_id)
    assert mapping["State"] == "Disabled"
    assert (mapping["BatchSize"], mapping["MaximumBatchingWindowInSeconds"]) == (5, 2)
    configuration = lambda_.get_function_configuration(FunctionName=function)
    assert configuration["LoggingConfig"]["LogGroup"] == log_group
    assert configuration["Timeout"] == 20
    lambda_.invoke(FunctionName=function, Payload=b"{}")
    logged = localcloud.client("logs").filter_log_events(logGroupName=log_group)["events"]
    assert any("hello from the stack" in event["message"] for event in logged)

    cfn.update_stack(StackName=name,
                     TemplateBody=json.dumps(mapped_function_template(function, None)),
                     Parameters=parameters(Enabled="true", BatchSize="7", Window="0",
                                           Timeout="20"))
    assert cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"

    mapping = lambda_.get_event_source_mapping(UUID=mapping_id)
    assert (mapping["State"], mapping["BatchSize"]) == ("Enabled", 7)
    configuration = lambda_.get_function_configuration(FunctionName=function)
    assert configuration["LoggingConfig"]["LogGroup"] == f"/aws/lambda/{function}"
    delete(localcloud, name)


def test_record_set_group_creates_and_deletes_its_records(localcloud):
    r53 = localcloud.client("route53")
    zone_name = f"{unique('group')}.example.test"
    zone_id = r53.create_hosted_zone(Name=zone_name, CallerReference=unique("ref"))[
        "HostedZone"]["Id"].split("/")[-1]
    name, out = deploy(localcloud, {
        "Resources": {"Records": {"Type": "AWS::Route53::RecordSetGroup", "Properties": {
            "HostedZoneName": f"{zone_name}.",
            "RecordSets": [
                {"Name": f"www.{zone_name}", "Type": "CNAME", "TTL": "60",
                 "ResourceRecords": [f"api.{zone_name}"]},
                {"Name": f"api.{zone_name}", "Type": "A", "TTL": 30,
                 "ResourceRecords": ["192.0.2.10"]}]}}},
        "Outputs": {"Id": {"Value": {"Fn::GetAtt": ["Records", "Id"]}}}})
    assert out["Id"]

    def own_records() -> dict[str, Any]:
        found = r53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
        return {r["Name"]: r for r in found if r["Type"] in ("A", "CNAME")}

    records = own_records()
    assert records[f"api.{zone_name}."]["ResourceRecords"] == [{"Value": "192.0.2.10"}]
    assert records[f"www.{zone_name}."]["TTL"] == 60
    delete(localcloud, name)
    assert own_records() == {}
    r53.delete_hosted_zone(Id=zone_id)
