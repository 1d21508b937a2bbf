"""ValidateTemplate answers as AWS: what a stack would need, or AWS's template format error."""

from __future__ import annotations

import json
import uuid

import pytest
from botocore.exceptions import ClientError
from conftest import PRIMARY, LocalCloudProcess

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Description: A queue and the role that reads it.
Parameters:
  QueueName:
    Type: String
    Description: Name of the queue.
  Retention:
    Type: Number
    Default: 3600
  Secret:
    Type: String
    NoEcho: true
    Default: hidden
  Subnets:
    Type: List<AWS::EC2::Subnet::Id>
    Default: [subnet-1, subnet-2]
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "${QueueName}-${AWS::Region}"
      MessageRetentionPeriod: !Ref Retention
      AnyPropertyAtAll: ValidateTemplate does not check resource properties
  Reader:
    Type: AWS::IAM::Role
    DependsOn: Queue
    Properties:
      AssumeRolePolicyDocument: {}
Outputs:
  QueueArn:
    Value: !GetAtt Queue.Arn
"""


def validate(cloud: LocalCloudProcess, **kwargs: str) -> dict:
    answer = cloud.client("cloudformation", PRIMARY).validate_template(**kwargs)
    answer.pop("ResponseMetadata")
    return answer


def test_answer_describes_parameters_capabilities_and_description(
        localcloud: LocalCloudProcess) -> None:
    answer = validate(localcloud, TemplateBody=TEMPLATE)

    assert answer["Description"] == "A queue and the role that reads it."
    assert answer["Parameters"] == [
        {"ParameterKey": "QueueName", "NoEcho": False, "Description": "Name of the queue."},
        {"ParameterKey": "Retention", "DefaultValue": "3600", "NoEcho": False},
        {"ParameterKey": "Secret", "DefaultValue": "hidden", "NoEcho": True},
        {"ParameterKey": "Subnets", "DefaultValue": "subnet-1,subnet-2", "NoEcho": False},
    ]
    assert answer["Capabilities"] == ["CAPABILITY_IAM"]
    assert answer["CapabilitiesReason"] == (
        "The following resource(s) require capabilities: [AWS::IAM::Role]")
    assert answer["DeclaredTransforms"] == []


def test_a_named_iam_resource_needs_the_named_capability(localcloud: LocalCloudProcess) -> None:
    named = TEMPLATE.replace("AssumeRolePolicyDocument: {}",
                             "AssumeRolePolicyDocument: {}\n      RoleName: reader")

    assert validate(localcloud, TemplateBody=named)["Capabilities"] == ["CAPABILITY_NAMED_IAM"]


def test_json_template_without_iam_needs_no_capability(localcloud: LocalCloudProcess) -> None:
    body = json.dumps({"Transform": "AWS::LanguageExtensions",
                       "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}})

    answer = validate(localcloud, TemplateBody=body)

    assert answer["Capabilities"] == []
    assert "CapabilitiesReason" not in answer
    assert answer["DeclaredTransforms"] == ["AWS::LanguageExtensions"]
    assert answer["Parameters"] == []


def test_template_url_in_s3_is_validated(localcloud: LocalCloudProcess) -> None:
    bucket = f"templates-{uuid.uuid4().hex[:8]}"
    s3 = localcloud.client("s3", PRIMARY)
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="queue.yml", Body=TEMPLATE.encode())

    answer = validate(localcloud, TemplateURL=f"https://{bucket}.s3.amazonaws.com/queue.yml")

    assert [p["ParameterKey"] for p in answer["Parameters"]] == [
        "QueueName", "Retention", "Secret", "Subnets"]


@pytest.mark.parametrize(("body", "message"), [
    ("Resources: [unclosed", "Template format error: YAML not well-formed. (line 1, column 21)"),
    ('{"Resources": ', "Template format error: JSON not well-formed. (line 1, column 15)"),
    ("Description: nothing to create\n",
     "Template format error: At least one Resources member must be defined."),
    ("Resource:\n  Q: {Type: AWS::SQS::Queue}\n",
     "Template format error: Invalid template property or properties [Resource]"),
    ("Resources:\n  Q: {Properties: {}}\n",
     "Template format error: [/Resources/Q] Every Resources object must contain a Type member."),
    ("Parameters:\n  P: {Type: Text}\nResources:\n  Q: {Type: AWS::SQS::Queue}\n",
     "Template format error: Unrecognized parameter type: Text"),
    ("Parameters:\n  P: {Type: String, Pattern: x}\nResources:\n  Q: {Type: AWS::SQS::Queue}\n",
     "Template format error: Invalid template parameter property 'Pattern'"),
    ("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n"
     "      QueueName: !Sub '${Prefix}-q'\n      DelaySeconds: !Ref Delay\n",
     "Template format error: Unresolved resource dependencies [Delay, Prefix] in the Resources "
     "block of the template"),
    ("Resources:\n  Q: {Type: AWS::SQS::Queue, DependsOn: [Topic]}\n",
     "Template format error: Unresolved resource dependencies [Topic] in the Resources block of "
     "the template"),
    ("Resources:\n  Q: {Type: AWS::SQS::Queue}\nOutputs:\n  Id: {Value: !Ref Topic}\n",
     "Template format error: Unresolved resource dependencies [Topic] in the Outputs block of "
     "the template"),
    ("Resources:\n  Q: {Type: AWS::SQS::Queue}\nOutputs:\n  Arn: {Value: !GetAtt Topic.Arn}\n",
     "Template error: instance of Fn::GetAtt references undefined resource Topic"),
    ("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n"
     "      QueueName: !Sub '${Topic.TopicName}-q'\n",
     "Template error: instance of Fn::GetAtt references undefined resource Topic"),
])
def test_template_format_errors_are_aws_validation_errors(
        localcloud: LocalCloudProcess, body: str, message: str) -> None:
    with pytest.raises(ClientError) as caught:
        validate(localcloud, TemplateBody=body)

    error = caught.value.response["Error"]
    assert (caught.value.response["ResponseMetadata"]["HTTPStatusCode"], error["Code"],
            error["Message"]) == (400, "ValidationError", message)


def test_sub_variables_of_its_own_and_literals_are_not_dependencies(
        localcloud: LocalCloudProcess) -> None:
    body = ("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n"
            "      QueueName: !Sub ['${Name}-${!Literal}', {Name: !Ref AWS::StackName}]\n")

    assert validate(localcloud, TemplateBody=body)["Parameters"] == []


def test_body_longer_than_aws_allows_is_refused(localcloud: LocalCloudProcess) -> None:
    body = TEMPLATE + "#" * 51_200

    with pytest.raises(ClientError) as caught:
        validate(localcloud, TemplateBody=body)

    assert "Member must have length less than or equal to 51200" in str(caught.value)
