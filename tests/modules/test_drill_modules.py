"""The failover drill's modules against a real local cloud.

Each test builds its own REST API (MOCK methods), deployment, stage, custom domain and log
group with boto3, then drives the modules through the ``ansible`` CLI as a playbook would.
"""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from ansible_run import BIN, REPO, ansible_env, run_module
from conftest import PRIMARY, LocalCloudProcess, wait_for

JSON = "application/json"
LOG_FORMAT = '{"requestId": "$context.requestId", "status": "$context.status"}'
VOLATILE = {"createdDate", "lastUpdatedDate", "ResponseMetadata"}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def run_modules(cloud: LocalCloudProcess, tmp_path: Path, *calls: tuple[Any, ...],
                region: str = PRIMARY) -> list[dict[str, Any]]:
    """Independent module calls in one playbook run (one Ansible start-up instead of many).

    Each call is (module, args) or (module, args, check_mode); a failing call does not stop
    the others.
    """
    connection = {"endpoint_url": cloud.url, "access_key": "localcloud",
                  "secret_key": "localcloud", "region": region}
    tasks = [{"name": f"Call {index}", call[0]: {**connection, **call[1]},
              "check_mode": bool(call[2:] and call[2]), "ignore_errors": True}
             for index, call in enumerate(calls)]
    playbook = tmp_path / f"calls-{uuid.uuid4().hex[:6]}.yml"
    playbook.write_text(yaml.safe_dump([{"name": "Calls", "hosts": "localhost",
                                         "gather_facts": False, "tasks": tasks}]))
    proc = subprocess.run(
        [str(BIN / "ansible-playbook"), str(playbook)], cwd=REPO, capture_output=True,
        text=True, timeout=300,
        env=ansible_env(cloud, ANSIBLE_STDOUT_CALLBACK="json",
                        ANSIBLE_PYTHON_INTERPRETER=sys.executable),
    )
    try:
        played = json.loads(proc.stdout)["plays"][0]["tasks"]
    except (ValueError, KeyError, IndexError) as exc:
        raise AssertionError(f"ansible crashed:\n{proc.stdout}\n{proc.stderr}") from exc
    return [task["hosts"]["localhost"] for task in played]


def allow_cloudwatch_logging(cloud: LocalCloudProcess, region: str) -> None:
    """Give the region's API Gateway account settings a CloudWatch role, as AWS requires
    before a stage may log ("Set up CloudWatch logging for REST APIs in API Gateway")."""
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"},
        "Action": "sts:AssumeRole"}]}
    role = cloud.client("iam").create_role(RoleName=unique("apigw-logs"),
                                           AssumeRolePolicyDocument=json.dumps(trust))
    cloud.client("apigateway", region).update_account(patchOperations=[
        {"op": "replace", "path": "/cloudwatchRoleArn", "value": role["Role"]["Arn"]}])


class Api:
    """A REST API with MOCK methods GET /health and GET /pets, deployed once, no stage yet,
    in a region whose account settings let stages log."""

    def __init__(self, cloud: LocalCloudProcess, region: str = PRIMARY) -> None:
        self.cloud = cloud
        self.region = region
        self.client = cloud.client("apigateway", region)
        allow_cloudwatch_logging(cloud, region)
        self.id = self.client.create_rest_api(
            name=unique("drill"), endpointConfiguration={"types": ["REGIONAL"]})["id"]
        root = next(r["id"] for r in self.client.get_resources(restApiId=self.id)["items"]
                    if r["path"] == "/")
        for part in ("health", "pets"):
            resource = self.client.create_resource(restApiId=self.id, parentId=root,
                                                   pathPart=part)["id"]
            self.client.put_method(restApiId=self.id, resourceId=resource, httpMethod="GET",
                                   authorizationType="NONE")
            self.client.put_integration(restApiId=self.id, resourceId=resource,
                                        httpMethod="GET", type="MOCK",
                                        requestTemplates={JSON: '{"statusCode": 200}'})
            self.client.put_method_response(restApiId=self.id, resourceId=resource,
                                            httpMethod="GET", statusCode="200")
            self.client.put_integration_response(
                restApiId=self.id, resourceId=resource, httpMethod="GET", statusCode="200",
                responseTemplates={JSON: '{"ok": true}'})
        self.deployment_id = self.client.create_deployment(restApiId=self.id)["id"]

    def stage(self, name: str, log_group_arn: str | None = None) -> dict[str, Any]:
        """A stage with variables, tags, tracing, method settings and access logging."""
        self.client.create_stage(
            restApiId=self.id, stageName=name, deploymentId=self.deployment_id,
            description="the drill's stage", variables={"color": "blue", "tier": "1"},
            tracingEnabled=True, tags={"team": "drill"})
        ops = [
            {"op": "replace", "path": "/*/*/metrics/enabled", "value": "true"},
            {"op": "replace", "path": "/*/*/logging/loglevel", "value": "INFO"},
            {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "100"},
            {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "50"},
            {"op": "replace", "path": "/~1pets/GET/throttling/rateLimit", "value": "5"},
            {"op": "replace", "path": "/~1pets/GET/caching/ttlInSeconds", "value": "60"},
        ]
        if log_group_arn:
            ops += [
                {"op": "replace", "path": "/accessLogSettings/destinationArn",
                 "value": log_group_arn},
                {"op": "replace", "path": "/accessLogSettings/format", "value": LOG_FORMAT},
            ]
        return self.client.update_stage(restApiId=self.id, stageName=name, patchOperations=ops)

    def get_stage(self, name: str) -> dict[str, Any]:
        stage = self.client.get_stage(restApiId=self.id, stageName=name)
        return {k: v for k, v in stage.items() if k not in VOLATILE}

    def stage_names(self) -> set[str]:
        return {s["stageName"] for s in self.client.get_stages(restApiId=self.id)["item"]}

    @property
    def host(self) -> str:
        return f"{self.id}.execute-api.{self.region}.amazonaws.com"

    def call(self, stage: str, path: str = "/health") -> requests.Response:
        return requests.get(f"{self.cloud.url}/{stage}{path}", headers={"Host": self.host},
                            timeout=30)


def log_group(cloud: LocalCloudProcess, region: str = PRIMARY) -> str:
    logs = cloud.client("logs", region)
    name = f"/drill/{unique('access')}"
    logs.create_log_group(logGroupName=name)
    return next(g["arn"] for g in logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
                ).removesuffix(":*")


def stage_module(cloud: LocalCloudProcess, api: Api, check: bool = False,
                 **args: Any) -> dict[str, Any]:
    return run_module("failover.aws.api_gateway_stage",
                      {"rest_api_id": api.id, **args}, cloud, check=check, region=api.region)


def recreate_args(recorded: dict[str, Any]) -> dict[str, Any]:
    """The options of api_gateway_stage, taken as is from a stage api_gateway_stage_info gave."""
    keys = ("stage_name", "deployment_id", "description", "variables", "method_settings",
            "access_log_settings", "tracing_enabled", "tags")
    return {key: recorded[key] for key in keys}


# -- stages ---------------------------------------------------------------------------------


def test_recorded_stage_recreates_the_deleted_stage_as_it_was(localcloud) -> None:
    api = Api(localcloud)
    api.stage("prod", log_group(localcloud))
    original = api.get_stage("prod")
    assert api.call("prod").status_code == 200

    info = run_module("failover.aws.api_gateway_stage_info",
                      {"rest_api_id": api.id, "stage_name": "prod"}, localcloud)
    assert info["changed"] is False
    recorded = info["stages"][0]
    assert recorded["method_settings"]["*/*"]["logging_level"] == "INFO"
    assert recorded["method_settings"]["*/*"]["throttling_burst_limit"] == 50
    assert recorded["method_settings"]["~1pets/GET"]["throttling_rate_limit"] == 5.0
    assert recorded["method_settings"]["~1pets/GET"]["cache_ttl_in_seconds"] == 60
    assert recorded["access_log_settings"]["format"] == LOG_FORMAT
    assert recorded["variables"] == {"color": "blue", "tier": "1"}
    assert recorded["tags"] == {"team": "drill"}
    assert recorded["tracing_enabled"] is True

    deleted = stage_module(localcloud, api, stage_name="prod", state="absent")
    assert deleted["changed"] is True
    assert "prod" not in api.stage_names()
    assert api.call("prod").status_code == 403
    again = stage_module(localcloud, api, stage_name="prod", state="absent")
    assert again["changed"] is False

    restored = stage_module(localcloud, api, **recreate_args(recorded))
    assert restored["changed"] is True
    assert api.get_stage("prod") == original
    assert restored["stage"] == {k: v for k, v in recorded.items()
                                 if k not in ("created_date", "last_updated_date")}
    assert api.call("prod").status_code == 200

    second = stage_module(localcloud, api, **recreate_args(recorded))
    assert second["changed"] is False
    assert second["patch_operations"] == []


STAGE_STACK = """
Resources:
  Api:
    Type: AWS::ApiGateway::RestApi
    Properties:
      Name: tagged
      Body:
        openapi: 3.0.1
        info: {title: tagged, description: a stack-made stage, version: "1"}
        paths:
          /health:
            get:
              responses: {"200": {description: ok}}
              x-amazon-apigateway-integration:
                type: mock
                requestTemplates: {application/json: '{"statusCode": 200}'}
                responses: {default: {statusCode: "200"}}
  Deployment:
    Type: AWS::ApiGateway::Deployment
    Properties: {RestApiId: !Ref Api}
  Stage:
    Type: AWS::ApiGateway::Stage
    Properties:
      RestApiId: !Ref Api
      DeploymentId: !Ref Deployment
      StageName: live
      Tags: [{Key: team, Value: drill}]
Outputs:
  ApiId: {Value: !Ref Api}
"""


def test_a_stage_cloudformation_made_is_recreated_from_its_record(localcloud) -> None:
    """CloudFormation tags its stages with aws:cloudformation:* (the schema's
    cloudFormationSystemTags); API Gateway refuses aws: keys from clients, so a restore that
    sent the recorded tags back as they were would fail and leave the primary down."""
    cfn = localcloud.client("cloudformation")
    stack = unique("tagged")
    cfn.create_stack(StackName=stack, TemplateBody=STAGE_STACK,
                     Tags=[{"Key": "Deployment", "Value": "drill"}])
    api_id = cfn.describe_stacks(StackName=stack)["Stacks"][0]["Outputs"][0]["OutputValue"]
    apigateway = localcloud.client("apigateway")
    info = run_module("failover.aws.api_gateway_stage_info",
                      {"rest_api_id": api_id, "stage_name": "live"}, localcloud)
    recorded = info["stages"][0]
    assert recorded["tags"]["aws:cloudformation:logical-id"] == "Stage"
    assert recorded["tags"]["team"] == "drill"

    deleted = run_module("failover.aws.api_gateway_stage",
                         {"rest_api_id": api_id, "stage_name": "live", "state": "absent"},
                         localcloud)
    assert deleted["changed"] is True
    restored = run_module("failover.aws.api_gateway_stage",
                          {"rest_api_id": api_id, **recreate_args(recorded)}, localcloud)

    assert restored.get("failed") is not True, restored
    assert restored["changed"] is True
    tags = apigateway.get_stage(restApiId=api_id, stageName="live")["tags"]
    assert tags == {"team": "drill", "Deployment": "drill"}
    # A second run with the same record changes nothing: aws: keys are never sent nor removed.
    again = run_module("failover.aws.api_gateway_stage",
                       {"rest_api_id": api_id, **recreate_args(recorded)}, localcloud)
    assert (again["changed"], again["patch_operations"]) == (False, [])


def test_stage_info_lists_every_stage_and_nothing_for_an_unknown_one(localcloud,
                                                                     tmp_path) -> None:
    api = Api(localcloud)
    api.stage("blue")
    api.stage("green")

    every, unknown, no_api = run_modules(
        localcloud, tmp_path,
        ("failover.aws.api_gateway_stage_info", {"rest_api_id": api.id}),
        ("failover.aws.api_gateway_stage_info", {"rest_api_id": api.id, "stage_name": "nope"}),
        ("failover.aws.api_gateway_stage_info",
         {"rest_api_id": "missing123", "stage_name": "prod"}),
    )

    assert [s["stage_name"] for s in every["stages"]] == ["blue", "green"]
    assert every["stages"][0]["access_log_settings"] == {}
    assert unknown["stages"] == []
    assert no_api["failed"] is True
    assert "REST API missing123 does not exist" in no_api["msg"]


def test_stage_update_patches_only_what_differs(localcloud) -> None:
    api = Api(localcloud)
    api.stage("prod", log_group(localcloud))
    before = api.get_stage("prod")
    wanted = {
        "stage_name": "prod",
        "description": "throttled harder",
        "variables": {"color": "green", "tier": 1},  # tier as a number: the same value
        "method_settings": {"*/*": {"throttling_rate_limit": 10, "metrics_enabled": True},
                            "/pets/GET": {"throttling_rate_limit": 5}},
        "tracing_enabled": False,
        "tags": {"team": "drill", "owner": "ops"},
    }

    dry = stage_module(localcloud, api, check=True, **wanted)
    assert dry["changed"] is True
    assert dry["stage"]["description"] == "throttled harder"
    assert api.get_stage("prod") == before

    applied = stage_module(localcloud, api, **wanted)
    assert applied["changed"] is True
    assert applied["patch_operations"] == dry["patch_operations"]
    assert applied["diff"]["before"]["description"] == "the drill's stage"
    assert applied["diff"]["after"]["description"] == "throttled harder"
    assert {op["path"] for op in applied["patch_operations"]} == {
        "/description", "/variables/color", "/*/*/throttling/rateLimit", "/tracingEnabled"}
    after = api.get_stage("prod")
    assert after["description"] == "throttled harder"
    assert after["variables"] == {"color": "green", "tier": "1"}
    assert after["methodSettings"]["*/*"]["throttlingRateLimit"] == 10.0
    assert after["methodSettings"]["*/*"]["loggingLevel"] == "INFO"  # not given: kept
    assert after["tracingEnabled"] is False
    assert after["tags"] == {"team": "drill", "owner": "ops"}
    assert after["accessLogSettings"] == before["accessLogSettings"]  # not given: kept

    assert stage_module(localcloud, api, **wanted)["changed"] is False

    logging_off = stage_module(localcloud, api, stage_name="prod", access_log_settings={},
                               tags={"owner": "ops"}, variables={})
    assert logging_off["changed"] is True
    after = api.get_stage("prod")
    assert not after.get("accessLogSettings")
    assert after["tags"] == {"owner": "ops"}
    assert after.get("variables", {}) == {}
    assert logging_off["stage"]["access_log_settings"] == {}


def test_stage_creation_needs_an_existing_deployment_and_check_mode_creates_nothing(
        localcloud, tmp_path) -> None:
    api = Api(localcloud)
    stage = "failover.aws.api_gateway_stage"
    settings = {"*/*": {"logging_level": "ERROR"}}

    no_deployment, bad_deployment, dry, unknown_setting = run_modules(
        localcloud, tmp_path,
        (stage, {"rest_api_id": api.id, "stage_name": "prod"}),
        (stage, {"rest_api_id": api.id, "stage_name": "prod", "deployment_id": "nope42"}, True),
        (stage, {"rest_api_id": api.id, "stage_name": "prod",
                 "deployment_id": api.deployment_id, "method_settings": settings}, True),
        (stage, {"rest_api_id": api.id, "stage_name": "prod",
                 "deployment_id": api.deployment_id,
                 "method_settings": {"*/*": {"throttle": 5}}}),
    )

    assert no_deployment["failed"] is True
    assert "set deployment_id" in no_deployment["msg"]
    assert bad_deployment["failed"] is True
    assert unknown_setting["failed"] is True
    assert "unknown settings ['throttle']" in unknown_setting["msg"]
    assert dry["changed"] is True
    assert dry["stage"]["method_settings"] == {"*/*": {"logging_level": "ERROR"}}
    assert dry["patch_operations"] == [
        {"op": "replace", "path": "/*/*/logging/loglevel", "value": "ERROR"}]
    assert api.stage_names() == set()

    created = stage_module(localcloud, api, stage_name="prod", deployment_id=api.deployment_id,
                           method_settings=settings)
    assert created["changed"] is True
    assert api.get_stage("prod")["methodSettings"]["*/*"]["loggingLevel"] == "ERROR"
    assert api.call("prod").status_code == 200


# -- base path mappings ---------------------------------------------------------------------


@pytest.fixture
def domain(localcloud) -> str:
    """A regional custom domain name with an ISSUED ACM certificate and no mappings."""
    name = f"{unique('api')}.example.test"
    arn = localcloud.client("acm").request_certificate(DomainName=name)["CertificateArn"]
    localcloud.client("apigateway").create_domain_name(
        domainName=name, regionalCertificateArn=arn,
        endpointConfiguration={"types": ["REGIONAL"]})
    return name


def mappings(cloud: LocalCloudProcess, domain_name: str) -> dict[str, tuple[str, str | None]]:
    items = cloud.client("apigateway").get_base_path_mappings(domainName=domain_name)
    return {m["basePath"]: (m["restApiId"], m.get("stage")) for m in items.get("items", [])}


def test_base_path_mappings_record_delete_and_restore(localcloud, domain) -> None:
    api = Api(localcloud)
    api.stage("blue")
    api.stage("green")
    localcloud.client("apigateway").create_base_path_mapping(
        domainName=domain, restApiId=api.id, stage="blue")

    recorded = run_module("failover.aws.api_gateway_base_path_mapping_info",
                          {"domain_name": domain}, localcloud)
    assert recorded["mappings"] == [{"base_path": "(none)", "rest_api_id": api.id,
                                     "stage": "blue"}]

    dry = run_module("failover.aws.api_gateway_base_path_mapping",
                     {"domain_name": domain, "state": "absent"}, localcloud, check=True)
    assert dry["changed"] is True
    assert mappings(localcloud, domain) == {"(none)": (api.id, "blue")}

    deleted = run_module("failover.aws.api_gateway_base_path_mapping",
                         {"domain_name": domain, "state": "absent"}, localcloud)
    again = run_module("failover.aws.api_gateway_base_path_mapping",
                       {"domain_name": domain, "state": "absent"}, localcloud)
    assert deleted["changed"] is True
    assert again["changed"] is False
    assert mappings(localcloud, domain) == {}

    for mapping in recorded["mappings"]:
        restored = run_module("failover.aws.api_gateway_base_path_mapping",
                              {"domain_name": domain, **mapping}, localcloud)
        assert restored["changed"] is True
        assert restored["mapping"] == mapping
    assert mappings(localcloud, domain) == {"(none)": (api.id, "blue")}

    unchanged = run_module("failover.aws.api_gateway_base_path_mapping",
                           {"domain_name": domain, **recorded["mappings"][0]}, localcloud)
    assert unchanged["changed"] is False


def test_stage_and_its_mappings_go_in_one_run(localcloud, domain) -> None:
    """The drill's unplanned outage: mappings and stage deleted in one module run."""
    api = Api(localcloud)
    api.stage("prod")
    api.stage("other")
    apigw = localcloud.client("apigateway")
    apigw.create_base_path_mapping(domainName=domain, restApiId=api.id, stage="prod")
    apigw.create_base_path_mapping(domainName=domain, restApiId=api.id, stage="other",
                                   basePath="v2")
    outage = {"stage_name": "prod", "state": "absent",
              "base_path_mappings": [{"domain_name": domain}]}

    dry = stage_module(localcloud, api, check=True, **outage)
    assert (dry["changed"], dry["deleted_at"]) == (True, None)
    assert dry["deleted_base_path_mappings"] == [{"domain_name": domain, "base_path": "(none)"}]
    assert "(none)" in mappings(localcloud, domain) and "prod" in api.stage_names()

    before = time.time()
    gone = stage_module(localcloud, api, **outage)
    assert gone["changed"] is True
    assert gone["deleted_base_path_mappings"] == [{"domain_name": domain,
                                                   "base_path": "(none)"}]
    sent = datetime.datetime.fromisoformat(gone["deleted_at"]).timestamp()
    assert before - 1 < sent < time.time()
    # Only the listed mapping and the stage went; the other path and stage still answer.
    assert mappings(localcloud, domain) == {"v2": (api.id, "other")}
    assert api.stage_names() == {"other"}
    assert api.call("prod").status_code == 403
    assert api.call("other").status_code == 200

    again = stage_module(localcloud, api, **outage)
    assert (again["changed"], again["deleted_base_path_mappings"], again["deleted_at"]) == (
        False, [], None)

    wrong = stage_module(localcloud, api, stage_name="prod", deployment_id=api.deployment_id,
                         base_path_mappings=[{"domain_name": domain}])
    assert wrong.get("failed") is True
    assert "base_path_mappings is for state=absent only" in wrong["msg"]
    assert api.stage_names() == {"other"}


def test_base_path_mapping_updates_in_place_and_adds_named_paths(localcloud, domain) -> None:
    api = Api(localcloud)
    api.stage("blue")
    api.stage("green")
    args = {"domain_name": domain, "rest_api_id": api.id}

    run_module("failover.aws.api_gateway_base_path_mapping", {**args, "stage": "blue"},
               localcloud)
    dry = run_module("failover.aws.api_gateway_base_path_mapping", {**args, "stage": "green"},
                     localcloud, check=True)
    assert dry["changed"] is True
    assert mappings(localcloud, domain) == {"(none)": (api.id, "blue")}

    moved = run_module("failover.aws.api_gateway_base_path_mapping",
                       {**args, "base_path": "", "stage": "green"}, localcloud)
    assert moved["changed"] is True
    assert moved["patch_operations"] == [{"op": "replace", "path": "/stage", "value": "green"}]
    added = run_module("failover.aws.api_gateway_base_path_mapping",
                       {**args, "base_path": "v1", "stage": "blue"}, localcloud)
    assert added["changed"] is True
    assert mappings(localcloud, domain) == {"(none)": (api.id, "green"), "v1": (api.id, "blue")}

    listed = run_module("failover.aws.api_gateway_base_path_mapping_info",
                        {"domain_name": domain}, localcloud)
    assert [m["base_path"] for m in listed["mappings"]] == ["(none)", "v1"]


def test_base_path_mappings_of_a_missing_domain_fail_clearly(localcloud, tmp_path) -> None:
    nowhere = {"domain_name": "nowhere.example.test"}
    info, create, absent = run_modules(
        localcloud, tmp_path,
        ("failover.aws.api_gateway_base_path_mapping_info", nowhere),
        ("failover.aws.api_gateway_base_path_mapping", {**nowhere, "rest_api_id": "abc"}),
        ("failover.aws.api_gateway_base_path_mapping", {**nowhere, "state": "absent"}),
    )
    for result in (info, create):
        assert result["failed"] is True
        assert "nowhere.example.test does not exist in region us-east-1" in result["msg"]
    assert absent["changed"] is False


# -- health checks --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fast_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudProcess]:
    """A local cloud whose 10 s RequestInterval lasts 0.2 s."""
    cloud = LocalCloudProcess(Path(tmp_path_factory.mktemp("drillhc")), time_scale=0.02)
    cloud.start()
    try:
        yield cloud
    finally:
        cloud.stop()


def stage_health_check(cloud: LocalCloudProcess, api: Api, stage: str) -> str:
    return cloud.client("route53").create_health_check(
        CallerReference=unique("drill"),
        HealthCheckConfig={"Type": "HTTPS", "FullyQualifiedDomainName": api.host,
                           "ResourcePath": f"/{stage}/health", "RequestInterval": 10,
                           "FailureThreshold": 1},
    )["HealthCheck"]["Id"]


def wait_module(cloud: LocalCloudProcess, check_id: str, status: str, timeout: float = 10,
                check: bool = False) -> dict[str, Any]:
    return run_module("failover.aws.route53_health_check_wait",
                      {"health_check_id": check_id, "status": status, "timeout": timeout,
                       "poll_interval": 0.1}, cloud, check=check)


def test_health_check_wait_follows_a_stage_deleted_and_restored(fast_cloud) -> None:
    api = Api(fast_cloud)
    api.stage("prod")
    check_id = stage_health_check(fast_cloud, api, "prod")
    route53 = fast_cloud.client("route53")
    wait_for(lambda: route53.get_health_check_status(
        HealthCheckId=check_id)["HealthCheckObservations"], message="first observations")

    healthy = wait_module(fast_cloud, check_id, "healthy")
    assert healthy["reached"] is True
    assert healthy["changed"] is False

    deleted_at = time.time()
    stage_module(fast_cloud, api, stage_name="prod", state="absent")
    down = wait_module(fast_cloud, check_id, "unhealthy", check=True)
    assert down["reached"] is True
    assert down["status"] == "unhealthy"
    assert down["observed_at"].endswith("+00:00")
    assert down["waited_seconds"] < 10
    reports = {o["status_report"]["status"].lower() for o in down["observations"]}
    assert reports == {"failure: http status code 403, forbidden"}
    assert {o["region"] for o in down["observations"]} >= {"us-east-1", "eu-west-1"}
    checked = down["observations"][0]["status_report"]["checked_time"]
    assert checked >= time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(deleted_at - 1))

    once = wait_module(fast_cloud, check_id, "healthy", timeout=0)
    assert once.get("failed") is not True
    assert once["reached"] is False
    assert once["status"] == "unhealthy"

    stage_module(fast_cloud, api, stage_name="prod", deployment_id=api.deployment_id)
    up = wait_module(fast_cloud, check_id, "healthy")
    assert up["reached"] is True
    assert {o["status_report"]["status"] for o in up["observations"]} == {
        "Success: HTTP Status Code 200, OK"}


def test_health_check_wait_applies_inversion_and_names_what_it_waited_for(fast_cloud) -> None:
    api = Api(fast_cloud)
    api.stage("prod")
    check_id = stage_health_check(fast_cloud, api, "prod")
    route53 = fast_cloud.client("route53")
    wait_for(lambda: route53.get_health_check_status(
        HealthCheckId=check_id)["HealthCheckObservations"], message="first observations")

    timed_out = wait_module(fast_cloud, check_id, "unhealthy", timeout=0.5)
    assert timed_out["failed"] is True
    assert timed_out["reached"] is False
    assert check_id in timed_out["msg"]
    assert "not unhealthy" in timed_out["msg"]
    assert "0.5 s" in timed_out["msg"]
    assert "Success: HTTP Status Code 200, OK" in timed_out["msg"]
    assert 0.5 <= timed_out["waited_seconds"] < 5

    route53.update_health_check(HealthCheckId=check_id, Inverted=True)
    inverted = run_module("failover.aws.route53_health_check_wait",  # `state`: alias of status
                          {"health_check_id": check_id, "state": "unhealthy", "timeout": 10,
                           "poll_interval": 0.1}, fast_cloud)
    assert inverted["reached"] is True
    assert inverted["inverted"] is True
    assert api.call("prod").status_code == 200  # the endpoint itself is fine

    missing = wait_module(fast_cloud, str(uuid.uuid4()), "healthy")
    assert missing["failed"] is True
    assert "does not exist" in missing["msg"]


# -- log events -----------------------------------------------------------------------------


def test_log_events_found_by_pattern_time_and_limit(localcloud, tmp_path) -> None:
    logs = localcloud.client("logs", "us-west-2")
    group = f"/aws/lambda/{unique('processor')}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="2026/11/28/[$LATEST]abc")
    event_id = str(uuid.uuid4())
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName=group, logStreamName="2026/11/28/[$LATEST]abc", logEvents=[
        {"timestamp": now - 3000 + i, "message": f"START RequestId: r{i}"} for i in range(4)
    ] + [{"timestamp": now, "message": f"processed event {event_id}"}])

    since = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime((now - 1000) / 1000)) + "Z"
    module = "failover.aws.cloudwatchlogs_log_events_info"
    args = {"log_group_name": group}
    found, recent, before, limited = run_modules(
        localcloud, tmp_path,
        (module, {**args, "filter_pattern": f'"{event_id}"'}),
        (module, {**args, "start_time": since}),
        (module, {**args, "end_time": str(now - 3000)}),
        (module, {**args, "limit": 3}),
        region="us-west-2",
    )
    assert found["changed"] is False
    assert found["log_group_exists"] is True
    assert [e["message"] for e in found["events"]] == [f"processed event {event_id}"]
    event = found["events"][0]
    assert event["timestamp"] == now
    assert event["log_stream_name"] == "2026/11/28/[$LATEST]abc"
    assert event["timestamp_iso"] == time.strftime(
        "%Y-%m-%dT%H:%M:%S", time.gmtime(now / 1000)) + f".{now % 1000:03d}000+00:00"

    assert [e["message"] for e in recent["events"]] == [f"processed event {event_id}"]
    assert [e["message"] for e in before["events"]] == ["START RequestId: r0"]
    assert len(limited["events"]) == 3


def test_log_events_of_a_missing_group(localcloud, tmp_path) -> None:
    args = {"log_group_name": "/aws/lambda/not-deployed"}
    failed, tolerated = run_modules(
        localcloud, tmp_path,
        ("failover.aws.cloudwatchlogs_log_events_info", args),
        ("failover.aws.cloudwatchlogs_log_events_info", {**args, "missing_ok": True}),
    )
    assert failed["failed"] is True
    assert "log group /aws/lambda/not-deployed does not exist in region us-east-1" in \
        failed["msg"]
    assert tolerated["events"] == []
    assert tolerated["log_group_exists"] is False
