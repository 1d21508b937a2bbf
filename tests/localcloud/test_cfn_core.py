"""CloudFormation stack lifecycle on the local cloud: failures, rollback, complete deletes."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from ansible_run import run_module
from botocore.exceptions import ClientError
from conftest import LocalCloudProcess


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def events(cfn: Any, stack: str) -> list[tuple[str, str, str]]:
    """(logical id, status, reason) in the order they happened."""
    raw = cfn.describe_stack_events(StackName=stack)["StackEvents"][::-1]
    return [(e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason") or "")
            for e in raw]


def stack_of(cfn: Any, name_or_id: str) -> dict[str, Any]:
    return cfn.describe_stacks(StackName=name_or_id)["Stacks"][0]


def queue_names(cloud: LocalCloudProcess) -> list[str]:
    urls = cloud.client("sqs").list_queues().get("QueueUrls", [])
    return [u.rsplit("/", 1)[-1] for u in urls]


def queue(name: str, **properties: Any) -> dict[str, Any]:
    return {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": name, **properties}}


def bad_domain(depends_on: str) -> dict[str, Any]:
    """A resource that fails: its certificate does not exist."""
    return {
        "Type": "AWS::ApiGateway::DomainName",
        "DependsOn": depends_on,
        "Properties": {
            "DomainName": f"{unique('nocert')}.example.test",
            "EndpointConfiguration": {"Types": ["REGIONAL"]},
            "RegionalCertificateArn":
                "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-0000",
        },
    }


def test_unsupported_type_fails_the_stack_with_the_reason_and_rolls_back(localcloud):
    cfn = localcloud.client("cloudformation")
    name, queue_name = unique("unsupported"), unique("keep-q")
    template = {"Resources": {
        "Queue": queue(queue_name),
        "Thing": {"Type": "AWS::Made::Up", "DependsOn": "Queue", "Properties": {}},
    }}
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(template))

    stack = stack_of(cfn, name)
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    assert "[Thing]" in stack["StackStatusReason"]
    assert ("Thing", "CREATE_FAILED",
            "Resource type AWS::Made::Up is not supported by the local cloud") in events(cfn, name)
    assert ("Queue", "DELETE_COMPLETE", "") in events(cfn, name)
    assert queue_name not in queue_names(localcloud)
    assert "Outputs" not in stack


def test_failing_resource_rolls_back_what_was_created(localcloud):
    cfn = localcloud.client("cloudformation")
    name, queue_name = unique("rollback"), unique("rollback-q")
    cfn.create_stack(StackName=name, TemplateBody=json.dumps({"Resources": {
        "Queue": queue(queue_name), "Domain": bad_domain("Queue")}}))

    history = events(cfn, name)
    failed = [e for e in history if e[1] == "CREATE_FAILED"]
    assert [e[0] for e in failed] == ["Domain"]
    assert "certificate" in failed[0][2] and "does not exist" in failed[0][2]
    statuses = [e[1] for e in history if e[0] == name]
    assert statuses == ["CREATE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS", "ROLLBACK_COMPLETE"]
    assert queue_name not in queue_names(localcloud)
    resources = cfn.describe_stack_resources(StackName=name)["StackResources"]
    assert {r["LogicalResourceId"]: r["ResourceStatus"] for r in resources} == {
        "Queue": "DELETE_COMPLETE", "Domain": "CREATE_FAILED"}
    with pytest.raises(ClientError, match="ROLLBACK_COMPLETE state and can not be updated"):
        cfn.update_stack(StackName=name, TemplateBody=json.dumps(
            {"Resources": {"Queue": queue(queue_name)}}))
    cfn.delete_stack(StackName=name)
    with pytest.raises(ClientError, match="does not exist"):
        cfn.describe_stacks(StackName=name)


@pytest.mark.parametrize("options", [{"OnFailure": "DO_NOTHING"}, {"DisableRollback": True}])
def test_do_nothing_keeps_created_resources_until_the_stack_is_deleted(localcloud, options):
    cfn = localcloud.client("cloudformation")
    name, queue_name = unique("donothing"), unique("kept-q")
    cfn.create_stack(StackName=name, TemplateBody=json.dumps({"Resources": {
        "Queue": queue(queue_name), "Domain": bad_domain("Queue")}}), **options)

    stack = stack_of(cfn, name)
    assert stack["StackStatus"] == "CREATE_FAILED"
    assert stack["StackStatusReason"].startswith("The following resource(s) failed to create: "
                                                 "[Domain]")
    assert queue_name in queue_names(localcloud)
    cfn.delete_stack(StackName=name)
    assert queue_name not in queue_names(localcloud)


def test_on_failure_delete_removes_the_stack(localcloud):
    cfn = localcloud.client("cloudformation")
    name, queue_name = unique("ondelete"), unique("gone-q")
    stack_id = cfn.create_stack(StackName=name, OnFailure="DELETE", TemplateBody=json.dumps(
        {"Resources": {"Queue": queue(queue_name), "Domain": bad_domain("Queue")}}))["StackId"]

    assert stack_of(cfn, stack_id)["StackStatus"] == "DELETE_COMPLETE"
    with pytest.raises(ClientError, match="does not exist"):
        cfn.describe_stacks(StackName=name)
    assert queue_name not in queue_names(localcloud)


def test_failed_update_rolls_back_to_the_previous_template(localcloud):
    cfn, sqs = localcloud.client("cloudformation"), localcloud.client("sqs")
    name, kept, added = unique("upd"), unique("kept"), unique("added")
    cfn.create_stack(StackName=name, TemplateBody=json.dumps({
        "Resources": {"Kept": queue(kept, VisibilityTimeout=30)},
        "Outputs": {"Url": {"Value": {"Ref": "Kept"}}}}))

    cfn.update_stack(StackName=name, TemplateBody=json.dumps({"Resources": {
        "Kept": queue(kept, VisibilityTimeout=45),
        "Added": queue(added),
        "Domain": bad_domain("Added"),
    }}))

    stack = stack_of(cfn, name)
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert "[Domain]" in stack["StackStatusReason"]
    assert added not in queue_names(localcloud)
    url = sqs.get_queue_url(QueueName=kept)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])
    assert attributes["Attributes"]["VisibilityTimeout"] == "30"
    assert stack["Outputs"][0]["OutputValue"].endswith(f"/{kept}")
    # The stack stays usable: a good update goes through.
    cfn.update_stack(StackName=name, TemplateBody=json.dumps(
        {"Resources": {"Kept": queue(kept, VisibilityTimeout=50)}}))
    assert stack_of(cfn, name)["StackStatus"] == "UPDATE_COMPLETE"
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])
    assert attributes["Attributes"]["VisibilityTimeout"] == "50"
    cfn.delete_stack(StackName=name)


def test_update_removes_dropped_resources_after_the_new_ones_exist(localcloud):
    cfn = localcloud.client("cloudformation")
    name, old, new = unique("swap"), unique("old"), unique("new")
    cfn.create_stack(StackName=name, TemplateBody=json.dumps({"Resources": {"Old": queue(old)}}))
    cfn.update_stack(StackName=name, TemplateBody=json.dumps({"Resources": {"New": queue(new)}}))

    assert stack_of(cfn, name)["StackStatus"] == "UPDATE_COMPLETE"
    order = [(lid, status) for lid, status, _ in events(cfn, name)]
    assert order.index(("New", "CREATE_COMPLETE")) < order.index(("Old", "DELETE_COMPLETE"))
    names = queue_names(localcloud)
    assert new in names and old not in names
    cfn.delete_stack(StackName=name)


def test_delete_leaves_nothing_behind(localcloud):
    cfn, r53 = localcloud.client("cloudformation"), localcloud.client("route53")
    apigw, events_client = localcloud.client("apigateway"), localcloud.client("events")
    name, bus = unique("teardown"), unique("bus")
    template = {"Resources": {
        "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": unique("api")}},
        "Check": {"Type": "AWS::Route53::HealthCheck", "Properties": {"HealthCheckConfig": {
            "Type": "HTTPS", "FullyQualifiedDomainName": "teardown.example.test",
            "ResourcePath": "/health", "RequestInterval": 30, "FailureThreshold": 3}}},
        "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": bus}},
        "Retained": {"Type": "AWS::SQS::Queue", "DeletionPolicy": "Retain",
                     "Properties": {"QueueName": f"{name}-retained"}},
    }, "Outputs": {"Api": {"Value": {"Ref": "Api"}}, "Check": {"Value": {"Ref": "Check"}}}}
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(template))
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack_of(cfn, name)["Outputs"]}

    cfn.delete_stack(StackName=name)

    assert outputs["Api"] not in [a["id"] for a in apigw.get_rest_apis()["items"]]
    assert outputs["Check"] not in [h["Id"] for h in r53.list_health_checks()["HealthChecks"]]
    assert bus not in [b["Name"] for b in events_client.list_event_buses()["EventBuses"]]
    assert f"{name}-retained" in queue_names(localcloud)
    summaries = cfn.list_stacks(StackStatusFilter=["DELETE_COMPLETE"])["StackSummaries"]
    assert name in [s["StackName"] for s in summaries]


def test_ref_of_an_event_bus_is_its_name_and_rules_can_use_it(localcloud):
    cfn, events_client = localcloud.client("cloudformation"), localcloud.client("events")
    name, bus = unique("busref"), unique("bus")
    cfn.create_stack(StackName=name, TemplateBody=json.dumps({
        "Resources": {
            "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": bus}},
            "Rule": {"Type": "AWS::Events::Rule", "Properties": {
                "EventBusName": {"Ref": "Bus"}, "EventPattern": {"source": ["test"]}}},
        },
        "Outputs": {"Ref": {"Value": {"Ref": "Bus"}},
                    "Arn": {"Value": {"Fn::GetAtt": ["Bus", "Arn"]}},
                    "Name": {"Value": {"Fn::GetAtt": ["Bus", "Name"]}}},
    }))

    stack = stack_of(cfn, name)
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert outputs["Ref"] == outputs["Name"] == bus
    assert outputs["Arn"] == f"arn:aws:events:us-east-1:123456789012:event-bus/{bus}"
    assert len(events_client.list_rules(EventBusName=bus)["Rules"]) == 1
    detail = cfn.describe_stack_resource(StackName=name, LogicalResourceId="Bus")[
        "StackResourceDetail"]
    assert (detail["PhysicalResourceId"], detail["ResourceStatus"]) == (bus, "CREATE_COMPLETE")
    cfn.delete_stack(StackName=name)


@pytest.mark.parametrize("body", ["Resources: [", "[1, 2]", '{"Parameters": {}}'])
def test_malformed_template_is_a_validation_error_not_a_server_error(localcloud, body):
    cfn = localcloud.client("cloudformation")
    with pytest.raises(ClientError) as raised:
        cfn.create_stack(StackName=unique("malformed"), TemplateBody=body)
    assert raised.value.response["Error"]["Code"] == "ValidationError"
    assert "Template format error" in raised.value.response["Error"]["Message"]


def test_change_set_create_and_failed_update_roll_back_like_stacks(localcloud):
    cfn = localcloud.client("cloudformation")
    name, first, added = unique("changeset"), unique("first"), unique("added")
    created = cfn.create_change_set(StackName=name, ChangeSetName="create",
                                    ChangeSetType="CREATE",
                                    TemplateBody=json.dumps({"Resources": {"Q": queue(first)}}))
    cfn.execute_change_set(ChangeSetName=created["Id"])
    assert stack_of(cfn, name)["StackStatus"] == "CREATE_COMPLETE"
    assert first in queue_names(localcloud)

    updated = cfn.create_change_set(StackName=name, ChangeSetName="update", ChangeSetType="UPDATE",
                                    TemplateBody=json.dumps({"Resources": {
                                        "Q": queue(first), "Added": queue(added),
                                        "Domain": bad_domain("Added")}}))
    cfn.execute_change_set(ChangeSetName=updated["Id"])
    assert stack_of(cfn, name)["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert added not in queue_names(localcloud)
    cfn.delete_stack(StackName=name)
    assert first not in queue_names(localcloud)


def test_number_parameter_selects_a_string_mapping_key(localcloud):
    cfn, sqs = localcloud.client("cloudformation"), localcloud.client("sqs")
    name, queue_name = unique("mapping"), unique("mapped")
    template = {
        "Parameters": {"Timeout": {"Type": "Number", "Default": 10}},
        "Mappings": {"Visibility": {"10": {"Seconds": 60}, "20": {"Seconds": 120}}},
        "Resources": {"Queue": queue(queue_name, VisibilityTimeout={
            "Fn::FindInMap": ["Visibility", {"Ref": "Timeout"}, "Seconds"]})},
    }
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(template),
                     Parameters=[{"ParameterKey": "Timeout", "ParameterValue": "20"}])

    assert stack_of(cfn, name)["StackStatus"] == "CREATE_COMPLETE"
    url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])
    assert attributes["Attributes"]["VisibilityTimeout"] == "120"
    cfn.delete_stack(StackName=name)


def test_missing_mapping_key_names_the_lookup(localcloud):
    cfn = localcloud.client("cloudformation")
    name = unique("nomapping")
    cfn.create_stack(StackName=name, TemplateBody=json.dumps({
        "Mappings": {"Visibility": {"10": {"Seconds": 60}}},
        "Resources": {"Queue": queue(unique("unmapped"), VisibilityTimeout={
            "Fn::FindInMap": ["Visibility", "99", "Seconds"]})}}))

    assert stack_of(cfn, name)["StackStatus"] == "ROLLBACK_COMPLETE"
    reason = "Template error: Unable to get mapping for Visibility::99::Seconds"
    assert ("Queue", "CREATE_FAILED", reason) in events(cfn, name)
    cfn.delete_stack(StackName=name)


def test_unchanged_update_is_refused_as_on_aws(localcloud):
    cfn = localcloud.client("cloudformation")
    name = unique("noop")
    body = json.dumps({"Resources": {"Queue": queue(unique("same"))}})
    cfn.create_stack(StackName=name, TemplateBody=body)
    with pytest.raises(ClientError, match="No updates are to be performed"):
        cfn.update_stack(StackName=name, TemplateBody=body)
    assert stack_of(cfn, name)["StackStatus"] == "CREATE_COMPLETE"
    cfn.delete_stack(StackName=name)


NO_CHANGES = ("The submitted information didn't contain changes. Submit different information "
              "to create a change set.")


def resource_changes(cfn: Any, change_set_id: str) -> set[tuple[str, str, str]]:
    described = cfn.describe_change_set(ChangeSetName=change_set_id)
    return {(c["ResourceChange"]["Action"], c["ResourceChange"]["LogicalResourceId"],
             c["ResourceChange"]["ResourceType"]) for c in described["Changes"]}


def test_change_set_without_changes_is_created_failed_and_type_defaults_to_update(localcloud):
    cfn = localcloud.client("cloudformation")
    name = unique("nochange")
    body = json.dumps({"Resources": {"Queue": queue(unique("steady"))}})
    cfn.create_stack(StackName=name, TemplateBody=body)

    # No ChangeSetType: AWS's default is UPDATE of the existing stack.
    created = cfn.create_change_set(StackName=name, ChangeSetName="same", TemplateBody=body)
    described = cfn.describe_change_set(ChangeSetName=created["Id"])

    assert created["StackId"] == stack_of(cfn, name)["StackId"]
    assert (described["Status"], described["ExecutionStatus"]) == ("FAILED", "UNAVAILABLE")
    assert described["StatusReason"] == NO_CHANGES
    assert described["Changes"] == []
    with pytest.raises(ClientError, match="cannot be executed in its current status"):
        cfn.execute_change_set(ChangeSetName=created["Id"])
    assert stack_of(cfn, name)["StackStatus"] == "CREATE_COMPLETE"
    with pytest.raises(ClientError) as missing:
        cfn.create_change_set(StackName=unique("absent"), ChangeSetName="update",
                              TemplateBody=body)
    assert missing.value.response["Error"]["Code"] == "ValidationError"
    cfn.delete_stack(StackName=name)


def test_change_set_lists_what_is_added_modified_and_removed(localcloud):
    cfn = localcloud.client("cloudformation")
    name, kept, changed, dropped, added = (unique(p) for p in
                                           ("diff", "kept", "changed", "dropped", "added"))
    cfn.create_stack(StackName=name, TemplateBody=json.dumps({"Resources": {
        "Kept": queue(kept), "Changed": queue(changed, VisibilityTimeout=30),
        "Dropped": queue(dropped)}}))

    update = cfn.create_change_set(StackName=name, ChangeSetName="diff",
                                   TemplateBody=json.dumps({"Resources": {
                                       "Kept": queue(kept),
                                       "Changed": queue(changed, VisibilityTimeout=60),
                                       "Added": queue(added)}}))
    described = cfn.describe_change_set(ChangeSetName=update["Id"])

    assert (described["Status"], described["ExecutionStatus"]) == (
        "CREATE_COMPLETE", "AVAILABLE")
    assert resource_changes(cfn, update["Id"]) == {
        ("Modify", "Changed", "AWS::SQS::Queue"), ("Add", "Added", "AWS::SQS::Queue"),
        ("Remove", "Dropped", "AWS::SQS::Queue")}
    assert stack_of(cfn, name)["StackStatus"] == "CREATE_COMPLETE"  # nothing applied yet

    cfn.execute_change_set(ChangeSetName=update["Id"])
    assert stack_of(cfn, name)["StackStatus"] == "UPDATE_COMPLETE"
    names = queue_names(localcloud)
    assert kept in names and changed in names and added in names and dropped not in names
    cfn.delete_stack(StackName=name)


def test_change_set_for_a_changed_parameter_modifies_the_resources_using_it(localcloud):
    cfn = localcloud.client("cloudformation")
    name = unique("paramdiff")
    body = json.dumps({
        "Parameters": {"Timeout": {"Type": "Number"}},
        "Resources": {"Uses": queue(unique("uses"), VisibilityTimeout={"Ref": "Timeout"}),
                      "Ignores": queue(unique("ignores"))}})
    cfn.create_stack(StackName=name, TemplateBody=body,
                     Parameters=[{"ParameterKey": "Timeout", "ParameterValue": "30"}])

    same = cfn.create_change_set(StackName=name, ChangeSetName="same", TemplateBody=body,
                                 Parameters=[{"ParameterKey": "Timeout", "ParameterValue": "30"}])
    changed = cfn.create_change_set(StackName=name, ChangeSetName="changed", TemplateBody=body,
                                    Parameters=[{"ParameterKey": "Timeout",
                                                 "ParameterValue": "60"}])

    assert cfn.describe_change_set(ChangeSetName=same["Id"])["Status"] == "FAILED"
    assert resource_changes(cfn, changed["Id"]) == {("Modify", "Uses", "AWS::SQS::Queue")}
    cfn.delete_stack(StackName=name)


def test_cloudformation_module_dry_run_reports_only_real_changes(localcloud):
    name = unique("dryrun")
    body = json.dumps({"Resources": {"Queue": queue(unique("dry"))}})
    localcloud.client("cloudformation").create_stack(StackName=name, TemplateBody=body)
    connection = {"endpoint_url": localcloud.url, "access_key": "testing",
                  "secret_key": "testing", "region": "us-east-1"}

    unchanged = run_module("amazon.aws.cloudformation", {
        "stack_name": name, "state": "present", "template_body": body, **connection},
        cloud=localcloud, check=True)
    changed = run_module("amazon.aws.cloudformation", {
        "stack_name": name, "state": "present", **connection,
        "template_body": json.dumps({"Resources": {"Queue": queue(unique("other"))}})},
        cloud=localcloud, check=True)

    assert unchanged.get("failed") is not True, unchanged
    assert unchanged["changed"] is False
    assert "didn't contain changes" in unchanged["msg"]
    assert changed["changed"] is True
    assert [c["ResourceChange"]["LogicalResourceId"] for c in changed["meta"]] == ["Queue"]
    cfn = localcloud.client("cloudformation")
    assert stack_of(cfn, name)["StackStatus"] == "CREATE_COMPLETE"
    assert cfn.list_change_sets(StackName=name)["Summaries"] == []
    cfn.delete_stack(StackName=name)
