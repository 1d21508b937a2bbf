"""failover.aws.redeploy_api_on_change: a changed API definition means a new deployment's logical
id (so CloudFormation creates the deployment and moves the stage), an unchanged one the same id."""

from __future__ import annotations

import importlib.util
import json

import pytest
from conftest import REPO

FILTER = (REPO / "collections/ansible_collections/failover/aws/plugins/filter"
          / "redeploy_api_on_change.py")
spec = importlib.util.spec_from_file_location("redeploy_api_on_change", FILTER)
redeploy = importlib.util.module_from_spec(spec)
spec.loader.exec_module(redeploy)

TEMPLATE = """\
Parameters:
  Name: {Type: String}
  Greeting: {Type: String, Default: hello}
  Unrelated: {Type: String, Default: x}
Conditions:
  Loud: !Equals [!Ref Greeting, HELLO]
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      RoleName: !Sub ${Name}-role
  Api:
    Type: AWS::ApiGateway::RestApi
    Properties:
      Name: !Ref Name
      Body:
        paths:
          /hello:
            get:
              x-amazon-apigateway-integration:
                type: mock
                credentials: !GetAtt Role.Arn
                responses:
                  default:
                    responseTemplates:
                      application/json:
                        !If [Loud, '{"say": "HELLO"}', !Sub '{"say": "${Greeting}"}']
  Deployment:
    Type: AWS::ApiGateway::Deployment
    Properties:
      RestApiId: !Ref Api
  Stage:
    Type: AWS::ApiGateway::Stage
    DependsOn: [Deployment]
    Properties:
      RestApiId: !Ref Api
      DeploymentId: !Ref Deployment
      Description: !Sub "serves ${Deployment} (${Deployment.DeploymentId})"
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Ref Unrelated
Outputs:
  DeploymentId:
    Value: !Ref Deployment
  Literal:
    Value: !Sub "${!Deployment} stays"
"""
PARAMETERS = {"Name": "demo"}


def render(text: str = TEMPLATE, parameters: dict | None = None) -> dict:
    return json.loads(redeploy.redeploy_api_on_change(text, parameters or PARAMETERS))


def deployment_id(template: dict) -> str:
    [found] = [name for name, resource in template["Resources"].items()
               if resource["Type"] == "AWS::ApiGateway::Deployment"]
    return found


def test_the_deployment_gets_a_hashed_id_and_every_reference_follows() -> None:
    template = render()
    new_id = deployment_id(template)

    assert new_id.startswith("Deployment") and len(new_id) == len("Deployment") + 10
    stage = template["Resources"]["Stage"]
    assert stage["DependsOn"] == [new_id]
    assert stage["Properties"]["DeploymentId"] == {"Ref": new_id}
    assert stage["Properties"]["Description"] == {
        "Fn::Sub": f"serves ${{{new_id}}} (${{{new_id}.DeploymentId}})"}
    assert template["Outputs"]["DeploymentId"]["Value"] == {"Ref": new_id}
    # ${!Name} is a literal in Fn::Sub, not a reference.
    assert template["Outputs"]["Literal"]["Value"] == {"Fn::Sub": "${!Deployment} stays"}
    assert template["Resources"]["Role"]["Properties"]["RoleName"] == {"Fn::Sub": "${Name}-role"}


@pytest.mark.parametrize(("change", "new_deployment"), [
    pytest.param(lambda t, p: (t.replace("/hello:", "/hi:"), p), True, id="a path of the Body"),
    pytest.param(lambda t, p: (t, {**p, "Greeting": "hi"}), True,
                 id="a parameter the Body uses"),
    pytest.param(lambda t, p: (t, {**p, "Name": "other"}), True,
                 id="a parameter of a resource the Body refers to"),
    pytest.param(lambda t, p: (t, {**p, "Greeting": "HELLO"}), True,
                 id="a parameter of a condition the Body uses"),
    pytest.param(lambda t, p: (t, {**p, "Unrelated": "y"}), False,
                 id="a parameter the API does not use"),
    pytest.param(lambda t, p: (t.replace("QueueName: !Ref Unrelated", "QueueName: other"), p),
                 False, id="another resource"),
    pytest.param(lambda t, p: (t, {**p, "Greeting": "hello"}), False,
                 id="a parameter given its default"),
    pytest.param(lambda t, p: (t.replace("Outputs:", "# a comment\nOutputs:"), p), False,
                 id="a comment"),
])
def test_only_a_change_of_the_api_changes_the_deployment(change, new_deployment: bool) -> None:
    before = deployment_id(render())
    text, parameters = change(TEMPLATE, PARAMETERS)

    assert (deployment_id(render(text, parameters)) != before) is new_deployment


def test_json_templates_and_templates_without_deployments_pass_through() -> None:
    as_json = json.dumps(redeploy.load_template(TEMPLATE))
    assert render(as_json) == render()
    plain = "Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n"
    assert render(plain) == {"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}}


def test_a_deployment_of_an_api_outside_the_template_keeps_its_id() -> None:
    text = ("Resources:\n  D:\n    Type: AWS::ApiGateway::Deployment\n"
            "    Properties:\n      RestApiId: abc123\n")
    assert deployment_id(render(text)) == "D"


def test_the_project_template_renders_within_cloudformation_limits() -> None:
    text = (REPO / "files" / "regional.yml").read_text()
    body = redeploy.redeploy_api_on_change(text, {"DeploymentName": "evfail"})

    # TemplateBody is limited to 51,200 bytes (CloudFormation quotas).
    assert len(body.encode()) < 51_200
    assert deployment_id(json.loads(body)).startswith("ApiDeployment")


def test_a_template_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(ValueError, match="not a mapping"):
        redeploy.redeploy_api_on_change("- just a list\n")
