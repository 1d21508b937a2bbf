"""CloudFormation updates in dependency order: a resource added by an update that refers to a
resource the same update modifies is created after that one is updated, as on AWS. The case
that shows it: a REST API whose Body changes and a new deployment of it (a new logical id), which
must snapshot the changed API, so that the stage serves the change."""

from __future__ import annotations

import json
import urllib.request
import uuid
from typing import Any

REGION = "eu-west-1"


def template(message: str, deployment: str) -> str:
    integration = {
        "type": "mock",
        "requestTemplates": {"application/json": '{"statusCode": 200}'},
        "responses": {"default": {"statusCode": "200",
                                  "responseTemplates": {"application/json": message}}},
    }
    body = {
        "openapi": "3.0.1",
        "info": {"title": "ordered", "description": "update order", "version": "1"},
        "paths": {"/hello": {"get": {"responses": {"200": {"description": "ok"}},
                                     "x-amazon-apigateway-integration": integration}}},
    }
    return json.dumps({
        "Resources": {
            "Api": {"Type": "AWS::ApiGateway::RestApi",
                    "Properties": {"Name": "ordered", "Body": body}},
            deployment: {"Type": "AWS::ApiGateway::Deployment",
                         "Properties": {"RestApiId": {"Ref": "Api"}}},
            "Stage": {"Type": "AWS::ApiGateway::Stage",
                      "Properties": {"RestApiId": {"Ref": "Api"},
                                     "DeploymentId": {"Ref": deployment}, "StageName": "live"}},
        },
        "Outputs": {"ApiId": {"Value": {"Ref": "Api"}},
                    "DeploymentId": {"Value": {"Ref": deployment}}},
    })


def outputs(cfn: Any, name: str) -> dict[str, str]:
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}


def hello(cloud: Any, api_id: str) -> Any:
    request = urllib.request.Request(
        f"{cloud.url}/live/hello", headers={"Host": f"{api_id}.execute-api.{REGION}.amazonaws.com"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_a_new_deployment_of_a_changed_api_serves_the_change(localcloud: Any) -> None:
    cfn = localcloud.client("cloudformation", REGION)
    apigateway = localcloud.client("apigateway", REGION)
    name = f"order-{uuid.uuid4().hex[:8]}"
    cfn.create_stack(StackName=name, TemplateBody=template('{"version": 1}', "DeploymentA"))
    first = outputs(cfn, name)
    assert hello(localcloud, first["ApiId"]) == {"version": 1}

    cfn.update_stack(StackName=name, TemplateBody=template('{"version": 2}', "DeploymentB"))

    second = outputs(cfn, name)
    assert cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"
    assert hello(localcloud, second["ApiId"]) == {"version": 2}
    stage = apigateway.get_stage(restApiId=second["ApiId"], stageName="live")
    assert stage["deploymentId"] == second["DeploymentId"] != first["DeploymentId"]
    # The old deployment goes in the cleanup phase, once the stage has moved.
    assert [d["id"] for d in apigateway.get_deployments(restApiId=second["ApiId"])["items"]] == [
        second["DeploymentId"]]
    events = [(e["LogicalResourceId"], e["ResourceStatus"]) for e in reversed(
        cfn.describe_stack_events(StackName=name)["StackEvents"])]
    update = events[events.index((name, "UPDATE_IN_PROGRESS")):]
    assert update.index(("Api", "UPDATE_COMPLETE")) < update.index(
        ("DeploymentB", "CREATE_IN_PROGRESS")) < update.index(("Stage", "UPDATE_IN_PROGRESS"))
    assert update.index(("Stage", "UPDATE_COMPLETE")) < update.index(
        ("DeploymentA", "DELETE_IN_PROGRESS"))
