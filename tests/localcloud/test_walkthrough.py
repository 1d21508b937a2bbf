"""The architecture's walkthrough, performed as its reader would: the ``aws`` CLI and ``curl``.

A stack pair of this test's own (bus, REST API on a custom domain, rule, queue with its
policy, a Lambda function writing to a DynamoDB global table) is deployed with
``aws cloudformation deploy`` into two regions of a local cloud; the Route 53 health checks and
the PRIMARY/SECONDARY alias records are made with ``aws route53``. Then the failover drill:
break the primary's base path mapping and stage with ``aws apigateway``, watch the health check
fail, see requests answered (and processed, and stored) by the secondary, restore the primary
and see it come back. Every step is an unmodified CLI or curl process against the local
cloud's endpoint; DNS answers come from its DNS server, whose port ``localcloud status`` gives.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import PRIMARY, SECONDARY, LocalCloudProcess, wait_for
from dnslib import QTYPE, DNSRecord

BIN = Path(sys.executable).parent
AWS_CLI = BIN / "aws"
LOCALCLOUD_CLI = BIN / "localcloud"
CURL = shutil.which("curl") or "/usr/bin/curl"

ZONE = "walkthrough.test"
DOMAIN = f"orders.{ZONE}"
TABLE = "walkthrough-orders"
STAGE = "Prod"
SOURCE = "walkthrough.shop"
STACKS = {PRIMARY: "walkthrough-primary", SECONDARY: "walkthrough-secondary"}
# The health checks as the architecture sets them; the local cloud's time scale turns their
# 30 s interval into 0.6 s, so failing over takes about 2 s instead of 90.
HEALTH_CHECK = {"Type": "HTTPS", "Port": 443, "ResourcePath": f"/{STAGE}/health",
                "RequestInterval": 30, "FailureThreshold": 3}
TIME_SCALE = 0.02
CLI_POLL = 0.3  # each CLI call is a Python start-up: poll it gently

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Description: One region of the walkthrough's failover pair.
Parameters:
  Role: {Type: String, AllowedValues: [primary, secondary]}
  PeerRegion: {Type: String}
  DomainName: {Type: String}
  TableName: {Type: String}
  Source: {Type: String}
Conditions:
  IsPrimary: !Equals [!Ref Role, primary]
Resources:
  Bus:
    Type: AWS::Events::EventBus
    Properties: {Name: !Sub "walkthrough-${Role}"}
  Queue:
    Type: AWS::SQS::Queue
    Properties: {VisibilityTimeout: 60}
  ToQueue:
    Type: AWS::Events::Rule
    Properties:
      EventBusName: !Ref Bus
      EventPattern: {source: [!Ref Source]}
      Targets: [{Id: queue, Arn: !GetAtt Queue.Arn}]
  QueuePolicy:
    Type: AWS::SQS::QueuePolicy
    Properties:
      Queues: [!Ref Queue]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: events.amazonaws.com}
            Action: sqs:SendMessage
            Resource: !GetAtt Queue.Arn
            Condition: {ArnEquals: {aws:SourceArn: !GetAtt ToQueue.Arn}}
  Table:
    Type: AWS::DynamoDB::GlobalTable
    Condition: IsPrimary
    Properties:
      TableName: !Ref TableName
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      StreamSpecification: {StreamViewType: NEW_AND_OLD_IMAGES}
      Replicas: [{Region: !Ref "AWS::Region"}, {Region: !Ref PeerRegion}]
  FunctionRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - {Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}
  Function:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: !GetAtt FunctionRole.Arn
      Timeout: 10
      Environment: {Variables: {TABLE_NAME: !Ref TableName}}
      Code:
        ZipFile: |
          import json, os
          from decimal import Decimal
          import boto3

          table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])

          def handler(event, context):
              for record in event["Records"]:
                  envelope = json.loads(record["body"], parse_float=Decimal)
                  print("received", envelope["id"], "from", envelope["source"])
                  table.put_item(Item={
                      "id": envelope["id"],
                      "source": envelope["source"],
                      "detailType": envelope["detail-type"],
                      "detail": envelope["detail"],
                      "processedIn": os.environ["AWS_REGION"],
                  })
                  print("stored", envelope["id"])
  FromQueue:
    Type: AWS::Lambda::EventSourceMapping
    Properties: {EventSourceArn: !GetAtt Queue.Arn, FunctionName: !Ref Function}
  ApiRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - {Effect: Allow, Principal: {Service: apigateway.amazonaws.com},
             Action: sts:AssumeRole}
      Policies:
        - PolicyName: put-events
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - {Effect: Allow, Action: events:PutEvents, Resource: !GetAtt Bus.Arn}
  Api:
    Type: AWS::ApiGateway::RestApi
    Properties:
      Name: !Sub "walkthrough-${Role}"
      EndpointConfiguration: {Types: [REGIONAL]}
      Body:
        openapi: 3.0.1
        info:
          title: !Sub "walkthrough-${Role}"
          description: Puts a posted event on this region's bus.
          version: "1"
        paths:
          /:
            post:
              responses:
                "200":
                  description: The bus took the event.
                  headers: {X-Region: {schema: {type: string}}}
              x-amazon-apigateway-integration:
                type: aws
                uri: !Sub "arn:aws:apigateway:${AWS::Region}:events:path//"
                httpMethod: POST
                credentials: !GetAtt ApiRole.Arn
                requestParameters:
                  integration.request.header.X-Amz-Target: "'AWSEvents.PutEvents'"
                  integration.request.header.Content-Type: "'application/x-amz-json-1.1'"
                requestTemplates:
                  application/json: !Sub >-
                    {"Entries": [{"EventBusName": "${Bus}",
                    "Source": "$input.path('$.Source')",
                    "DetailType": "$input.path('$.DetailType')",
                    "Detail": "$util.escapeJavaScript($input.json('$.Detail'))"}]}
                responses:
                  default:
                    statusCode: "200"
                    responseParameters:
                      method.response.header.X-Region: !Sub "'${AWS::Region}'"
                    responseTemplates:
                      application/json: >-
                        {"eventId": "$input.path('$.Entries[0].EventId')"}
          /health:
            get:
              responses:
                "200":
                  description: The stage serves.
                  headers: {X-Region: {schema: {type: string}}}
              x-amazon-apigateway-integration:
                type: mock
                requestTemplates: {application/json: '{"statusCode": 200}'}
                responses:
                  default:
                    statusCode: "200"
                    responseParameters:
                      method.response.header.X-Region: !Sub "'${AWS::Region}'"
                    responseTemplates: {application/json: '{"healthy": true}'}
  Deployment:
    Type: AWS::ApiGateway::Deployment
    Properties: {RestApiId: !Ref Api}
  Stage:
    Type: AWS::ApiGateway::Stage
    Properties: {RestApiId: !Ref Api, DeploymentId: !Ref Deployment, StageName: Prod}
  Certificate:
    Type: AWS::CertificateManager::Certificate
    Properties: {DomainName: !Ref DomainName, ValidationMethod: DNS}
  CustomDomain:
    Type: AWS::ApiGateway::DomainName
    Properties:
      DomainName: !Ref DomainName
      RegionalCertificateArn: !Ref Certificate
      EndpointConfiguration: {Types: [REGIONAL]}
  RootMapping:
    Type: AWS::ApiGateway::BasePathMapping
    Properties: {DomainName: !Ref CustomDomain, RestApiId: !Ref Api, Stage: !Ref Stage}
Outputs:
  ApiId: {Value: !Ref Api}
  ExecuteApiHost: {Value: !Sub "${Api}.execute-api.${AWS::Region}.amazonaws.com"}
  RegionalDomainName: {Value: !GetAtt CustomDomain.RegionalDomainName}
  RegionalHostedZoneId: {Value: !GetAtt CustomDomain.RegionalHostedZoneId}
  FunctionName: {Value: !Ref Function}
"""


# -- the tools a reader of the walkthrough uses ------------------------------------------------


class Aws:
    """The ``aws`` CLI against the local cloud, with dummy credentials and no user config."""

    def __init__(self, cloud: LocalCloudProcess, home: Path) -> None:
        self.endpoint = cloud.url
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        self.env.update({
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_CONFIG_FILE": str(home / "config"),  # absent: nothing from the user's profile
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
        })

    def run(self, region: str, *args: str) -> str:
        command = [str(AWS_CLI), "--endpoint-url", self.endpoint, "--region", region,
                   "--output", "json", *args]
        result = subprocess.run(command, env=self.env, capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 0, f"{' '.join(args[:2])} failed: {result.stderr}"
        return result.stdout

    def __call__(self, region: str, *args: str) -> Any:
        """Run a command and parse its JSON answer (None when it prints nothing)."""
        out = self.run(region, *args)
        return json.loads(out) if out.strip() else None


@dataclass
class HttpAnswer:
    status: int
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


def curl(cloud: LocalCloudProcess, method: str, path: str, host: str,
         body: dict[str, Any] | None = None) -> HttpAnswer:
    """``curl -i`` to the local cloud's endpoint, as a client whose DNS answered for ``host``."""
    command = [CURL, "-sS", "-i", "--max-time", "15", "-X", method, "-H", f"Host: {host}"]
    if body is not None:
        command += ["-H", "Content-Type: application/json", "-d", json.dumps(body)]
    # Bytes, not text: universal newlines would blur the CRLF that ends the head.
    result = subprocess.run([*command, f"{cloud.url}{path}"], capture_output=True, timeout=30)
    assert result.returncode == 0, result.stderr.decode()
    head, _, text = result.stdout.decode().partition("\r\n\r\n")
    while head.split()[1].startswith("1"):  # an interim answer (100 Continue) comes first
        head, _, text = text.partition("\r\n\r\n")
    lines = head.split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return HttpAnswer(int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, text)


def dig(dns_port: int, name: str) -> list[str]:
    """The A records the local cloud's DNS server answers for ``name``."""
    reply = DNSRecord.parse(DNSRecord.question(name, "A").send("127.0.0.1", dns_port, timeout=2))
    return [str(rr.rdata) for rr in reply.rr if QTYPE[rr.rtype] == "A"]


# -- the deployment ----------------------------------------------------------------------------


@dataclass
class Walkthrough:
    cloud: LocalCloudProcess
    aws: Aws
    dns_port: int
    zone_id: str
    outputs: dict[str, dict[str, str]]
    health_checks: dict[str, str] = field(default_factory=dict)

    def post_event(self, detail: dict[str, Any]) -> HttpAnswer:
        return curl(self.cloud, "POST", "/", DOMAIN,
                    {"Detail": detail, "DetailType": "OrderPlaced", "Source": SOURCE})

    def check_statuses(self, region: str) -> list[str]:
        status = self.aws(PRIMARY, "route53", "get-health-check-status",
                          "--health-check-id", self.health_checks[region])
        return [o["StatusReport"]["Status"] for o in status["HealthCheckObservations"]]

    def scan(self, region: str) -> dict[str, dict[str, Any]]:
        items = self.aws(region, "dynamodb", "scan", "--table-name", TABLE)["Items"]
        return {item["id"]["S"]: item for item in items}


def deploy(aws: Aws, template: Path, region: str, role: str, peer: str) -> dict[str, str]:
    aws.run(region, "cloudformation", "deploy", "--template-file", str(template),
            "--stack-name", STACKS[region], "--capabilities", "CAPABILITY_IAM",
            "--parameter-overrides", f"Role={role}", f"PeerRegion={peer}",
            f"DomainName={DOMAIN}", f"TableName={TABLE}", f"Source={SOURCE}")
    stack = aws(region, "cloudformation", "describe-stacks",
                "--stack-name", STACKS[region])["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    return {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}


@pytest.fixture(scope="module")
def walkthrough(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Walkthrough]:
    home = tmp_path_factory.mktemp("walkthrough")
    cloud = LocalCloudProcess(home / "localcloud", time_scale=TIME_SCALE)
    cloud.start()
    try:
        aws = Aws(cloud, home)
        status = subprocess.run([str(LOCALCLOUD_CLI), "--port", str(cloud.port), "status"],
                                env=cloud.env, capture_output=True, text=True, timeout=30)
        assert status.returncode == 0, status.stderr
        template = home / "region.yml"
        template.write_text(TEMPLATE)
        # Primary first: its stack creates the global table the secondary's function writes to.
        outputs = {PRIMARY: deploy(aws, template, PRIMARY, "primary", SECONDARY),
                   SECONDARY: deploy(aws, template, SECONDARY, "secondary", PRIMARY)}
        zone_id = aws(PRIMARY, "route53", "create-hosted-zone", "--name", ZONE,
                      "--caller-reference", "walkthrough-zone")["HostedZone"]["Id"]
        walk = Walkthrough(cloud, aws, json.loads(status.stdout)["dns"]["port"], zone_id,
                           outputs)
        for region in (PRIMARY, SECONDARY):
            config = {**HEALTH_CHECK, "FullyQualifiedDomainName": outputs[region]["ExecuteApiHost"]}
            walk.health_checks[region] = aws(
                PRIMARY, "route53", "create-health-check",
                "--caller-reference", f"walkthrough-{region}",
                "--health-check-config", json.dumps(config))["HealthCheck"]["Id"]
        changes = [{"Action": "CREATE", "ResourceRecordSet": {
            "Name": DOMAIN, "Type": "A", "SetIdentifier": region, "Failover": failover,
            "HealthCheckId": walk.health_checks[region],
            "AliasTarget": {"HostedZoneId": outputs[region]["RegionalHostedZoneId"],
                            "DNSName": outputs[region]["RegionalDomainName"],
                            "EvaluateTargetHealth": True}}}
            for region, failover in ((PRIMARY, "PRIMARY"), (SECONDARY, "SECONDARY"))]
        batch = home / "failover-records.json"
        batch.write_text(json.dumps({"Changes": changes}))
        aws(PRIMARY, "route53", "change-resource-record-sets", "--hosted-zone-id", zone_id,
            "--change-batch", f"file://{batch}")
        yield walk
    finally:
        cloud.stop()


def wait_until_checks_say(walk: Walkthrough, region: str, verdict: str) -> list[str]:
    """Poll ``get-health-check-status`` until every checker reports ``verdict``."""
    return wait_for(
        lambda: (s := walk.check_statuses(region)) and all(x.startswith(verdict) for x in s) and s,
        timeout=30, interval=CLI_POLL, message=f"the {region} health check to report {verdict}")


def stored_item(walk: Walkthrough, region: str, event_id: str) -> dict[str, Any]:
    return wait_for(lambda: walk.scan(region).get(event_id), timeout=30, interval=CLI_POLL,
                    message=f"event {event_id} in the {region} table")


# -- the walkthrough ---------------------------------------------------------------------------


def test_each_region_answers_its_health_path_with_its_region(walkthrough):
    for region in (PRIMARY, SECONDARY):
        answer = curl(walkthrough.cloud, "GET", f"/{STAGE}/health",
                      walkthrough.outputs[region]["ExecuteApiHost"])

        assert (answer.status, answer.headers["x-region"], answer.json()) == (
            200, region, {"healthy": True})


def test_health_checks_pass_and_the_dns_server_agrees_with_test_dns_answer(walkthrough):
    for region in (PRIMARY, SECONDARY):
        statuses = wait_until_checks_say(walkthrough, region, "Success")
        assert set(statuses) == {"Success: HTTP Status Code 200, OK"}

    answer = walkthrough.aws(PRIMARY, "route53", "test-dns-answer",
                             "--hosted-zone-id", walkthrough.zone_id,
                             "--record-name", DOMAIN, "--record-type", "A")
    assert answer["ResponseCode"] == "NOERROR"
    assert dig(walkthrough.dns_port, DOMAIN) == answer["RecordData"]
    assert len(answer["RecordData"]) == 1


def test_an_event_posted_to_the_custom_domain_is_processed_in_the_primary(walkthrough):
    answer = walkthrough.post_event({"orderId": "o-1001", "lines": [{"sku": "tea", "qty": 2}]})

    assert (answer.status, answer.headers["x-region"]) == (200, PRIMARY)
    event_id = answer.json()["eventId"]
    item = stored_item(walkthrough, PRIMARY, event_id)
    assert item["source"] == {"S": SOURCE}
    assert item["detailType"] == {"S": "OrderPlaced"}
    assert item["processedIn"] == {"S": PRIMARY}
    assert item["detail"]["M"]["orderId"] == {"S": "o-1001"}
    # The global table brings it to the secondary's replica too.
    assert stored_item(walkthrough, SECONDARY, event_id)["processedIn"] == {"S": PRIMARY}


def test_failover_drill_moves_requests_to_the_secondary_and_back(walkthrough):
    aws, primary = walkthrough.aws, walkthrough.outputs[PRIMARY]
    wait_until_checks_say(walkthrough, PRIMARY, "Success")
    primary_address = dig(walkthrough.dns_port, DOMAIN)

    # 1. The base path mapping goes: the domain still resolves to the primary, which no
    #    longer maps it; the health check aims at the execute-api host and does not notice.
    aws.run(PRIMARY, "apigateway", "delete-base-path-mapping", "--domain-name", DOMAIN,
            "--base-path", "(none)")
    refused = walkthrough.post_event({"orderId": "o-1002"})
    assert (refused.status, refused.json()) == (403, {"message": "Forbidden"})
    assert all(s.startswith("Success") for s in walkthrough.check_statuses(PRIMARY))
    assert dig(walkthrough.dns_port, DOMAIN) == primary_address

    # 2. The stage goes: the health check fails, and Route 53 answers with the secondary.
    aws.run(PRIMARY, "apigateway", "delete-stage", "--rest-api-id", primary["ApiId"],
            "--stage-name", STAGE)
    statuses = wait_until_checks_say(walkthrough, PRIMARY, "Failure")
    assert all(s.startswith("Failure: HTTP Status Code 403") for s in statuses)
    secondary_address = wait_for(
        lambda: (a := dig(walkthrough.dns_port, DOMAIN)) != primary_address and a,
        timeout=30, message="DNS to answer with the secondary")
    assert len(secondary_address) == 1

    # 3. The same request now lands in the secondary, which processes and stores it.
    answer = walkthrough.post_event({"orderId": "o-1003"})
    assert (answer.status, answer.headers["x-region"]) == (200, SECONDARY)
    event_id = answer.json()["eventId"]
    function_log = f"/aws/lambda/{walkthrough.outputs[SECONDARY]['FunctionName']}"

    def log_lines() -> list[str]:
        found = aws(SECONDARY, "logs", "filter-log-events", "--log-group-name", function_log,
                    "--filter-pattern", f'"{event_id}"')
        lines = [e["message"].strip() for e in found["events"]]
        return lines if any(line.startswith("stored") for line in lines) else []

    lines = wait_for(log_lines, timeout=30, interval=CLI_POLL,
                     message="the secondary function's log to show the event")
    assert lines == [f"received {event_id} from {SOURCE}", f"stored {event_id}"]
    item = stored_item(walkthrough, SECONDARY, event_id)
    assert (item["processedIn"], item["detail"]) == (
        {"S": SECONDARY}, {"M": {"orderId": {"S": "o-1003"}}})
    assert stored_item(walkthrough, PRIMARY, event_id)["processedIn"] == {"S": SECONDARY}

    # 4. Restore: the stage from the API's deployment, then the mapping.
    deployments = aws(PRIMARY, "apigateway", "get-deployments",
                      "--rest-api-id", primary["ApiId"])["items"]
    assert len(deployments) == 1
    stage = aws(PRIMARY, "apigateway", "create-stage", "--rest-api-id", primary["ApiId"],
                "--stage-name", STAGE, "--deployment-id", deployments[0]["id"])
    assert (stage["stageName"], stage["deploymentId"]) == (STAGE, deployments[0]["id"])
    mapping = aws(PRIMARY, "apigateway", "create-base-path-mapping", "--domain-name", DOMAIN,
                  "--rest-api-id", primary["ApiId"], "--stage", STAGE)
    assert mapping == {"basePath": "(none)", "restApiId": primary["ApiId"], "stage": STAGE}

    # 5. The health check passes again and requests return to the primary.
    wait_until_checks_say(walkthrough, PRIMARY, "Success")
    wait_for(lambda: dig(walkthrough.dns_port, DOMAIN) == primary_address, timeout=30,
             message="DNS to answer with the primary again")
    back = walkthrough.post_event({"orderId": "o-1004"})
    assert (back.status, back.headers["x-region"]) == (200, PRIMARY)
    assert stored_item(walkthrough, PRIMARY, back.json()["eventId"])["processedIn"] == {
        "S": PRIMARY}


def test_a_stack_created_the_moment_the_cloud_is_ready_gets_the_full_cloudformation(
        tmp_path: Path) -> None:
    """CloudFormation support finishes installing after the endpoint answers; a request that
    arrives first waits for it instead of meeting moto's bare CloudFormation."""
    cloud = LocalCloudProcess(tmp_path / "early")
    cloud.start()
    try:
        cfn = cloud.client("cloudformation", "eu-west-1")
        template = {"Resources": {"Unsupported": {"Type": "AWS::Example::Nothing"}}}
        cfn.create_stack(StackName="early", TemplateBody=json.dumps(template))
        stack = cfn.describe_stacks(StackName="early")["Stacks"][0]
        # moto alone would skip the unknown type and report CREATE_COMPLETE.
        assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
        assert cloud.status()["cloudformation_ready"] is True
    finally:
        cloud.stop()
