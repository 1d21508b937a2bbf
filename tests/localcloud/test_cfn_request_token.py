"""Stack events carry the ClientRequestToken of the operation that recorded them, as on AWS."""

from __future__ import annotations

import json
import uuid
from typing import Any

from ansible_run import run_module


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def queue(name: str) -> dict[str, Any]:
    return {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": name}}


def tokens(cfn: Any, stack: str) -> list[tuple[str, str, str | None]]:
    """(logical id, status, token) in the order the events happened."""
    raw = cfn.describe_stack_events(StackName=stack)["StackEvents"][::-1]
    return [(e["LogicalResourceId"], e["ResourceStatus"], e.get("ClientRequestToken"))
            for e in raw]


def test_each_operation_tags_its_events_with_its_token(localcloud):
    cfn = localcloud.client("cloudformation")
    name = unique("token")
    cfn.create_stack(StackName=name, ClientRequestToken="create-1",
                     TemplateBody=json.dumps({"Resources": {"A": queue(unique("token-a"))}}))
    cfn.update_stack(StackName=name, ClientRequestToken="update-1", TemplateBody=json.dumps(
        {"Resources": {"A": queue(unique("token-a")), "B": queue(unique("token-b"))}}))

    history = tokens(cfn, name)
    created = [e for e in history if e[2] == "create-1"]
    updated = [e for e in history if e[2] == "update-1"]
    assert created[0] == (name, "CREATE_IN_PROGRESS", "create-1")
    assert created[-1] == (name, "CREATE_COMPLETE", "create-1")
    assert ("A", "CREATE_COMPLETE", "create-1") in created
    assert updated[0] == (name, "UPDATE_IN_PROGRESS", "update-1")
    assert updated[-1] == (name, "UPDATE_COMPLETE", "update-1")
    assert ("B", "CREATE_COMPLETE", "update-1") in updated
    assert len(created) + len(updated) == len(history)


def test_an_operation_without_a_token_leaves_its_events_without_one(localcloud):
    cfn = localcloud.client("cloudformation")
    name = unique("notoken")
    cfn.create_stack(StackName=name,
                     TemplateBody=json.dumps({"Resources": {"A": queue(unique("notoken-a"))}}))
    assert {token for _, _, token in tokens(cfn, name)} == {None}


def test_the_cloudformation_module_reports_why_a_create_failed(localcloud):
    """amazon.aws.cloudformation follows its own operation's events by token: with them, a
    failed create lists the failing resource and CloudFormation's reason."""
    name = unique("whyfailed")
    template = {"Resources": {
        "Queue": queue(unique("whyfailed-q")),
        "Domain": {"Type": "AWS::ApiGateway::DomainName", "DependsOn": "Queue", "Properties": {
            "DomainName": f"{unique('nocert')}.example.test",
            "EndpointConfiguration": {"Types": ["REGIONAL"]},
            "RegionalCertificateArn":
                "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-0000"}},
    }}
    result = run_module("amazon.aws.cloudformation", {
        "stack_name": name, "template_body": json.dumps(template), "state": "present",
        "endpoint_url": localcloud.url, "access_key": "testing", "secret_key": "testing",
        "region": "us-east-1"})

    assert result["failed"] is True
    assert result["output"] == "Problem with CREATE. Rollback complete"
    failures = [line for line in result["log"] if "CREATE_FAILED" in line]
    assert len(failures) == 1
    assert failures[0].startswith("AWS::ApiGateway::DomainName Domain CREATE_FAILED: ")
    assert "certificate" in failures[0]
    assert any(line.endswith(" ROLLBACK_COMPLETE") for line in result["events"])
