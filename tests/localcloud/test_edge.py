"""The edge sends a request for a Route 53 name to the region its answer points at.

In-process tests use a fake API Gateway data plane that says which custom domain and region
it was asked to serve; the last tests go through a running local cloud.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from conftest import LocalCloudProcess
from moto import mock_aws

from localcloud.config import Config
from localcloud.dns import Resolver
from localcloud.edge import Edge
from localcloud.runtime import Runtime
from localcloud.server import host_of

EAST, WEST = "us-east-1", "us-west-2"


class FakeGateway:
    """Answers 200 with the custom domain and region it was asked for."""

    def handle_custom_domain(self, environ: dict[str, Any], start_response: Any,
                             domain_name: str, region: str) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps({"domain": domain_name, "region": region,
                            "host": environ.get("HTTP_HOST")}).encode()]


class Deployment:
    def __init__(self) -> None:
        self.route53 = boto3.client("route53", region_name=EAST)
        self.health: dict[str, bool] = {}
        self.edge = Edge(Runtime(Config()), FakeGateway(), Resolver(health=self.health.get))
        self.zone_id = self.route53.create_hosted_zone(
            Name="edge.test", CallerReference="edge")["HostedZone"]["Id"]

    def custom_domain(self, region: str, name: str) -> str:
        return boto3.client("apigateway", region_name=region).create_domain_name(
            domainName=name,
            regionalCertificateArn=f"arn:aws:acm:{region}:123456789012:certificate/c",
            endpointConfiguration={"types": ["REGIONAL"]})["regionalDomainName"]

    def records(self, *record_sets: dict[str, Any]) -> None:
        self.route53.change_resource_record_sets(HostedZoneId=self.zone_id, ChangeBatch={
            "Changes": [{"Action": "UPSERT", "ResourceRecordSet": r} for r in record_sets]})

    def request(self, host: str) -> tuple[str, dict[str, Any]]:
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/orders", "HTTP_HOST": host}
        captured: dict[str, str] = {}

        def start_response(status: str, headers: list[tuple[str, str]]) -> None:
            captured["status"] = status

        body = b"".join(self.edge.handle(environ, start_response, host_of(environ)))
        return captured["status"], json.loads(body)


@pytest.fixture
def deployed() -> Iterator[Deployment]:
    with mock_aws():
        yield Deployment()


def failover_aliases(deployed: Deployment, name: str, check_id: str) -> None:
    regional = {region: deployed.custom_domain(region, name) for region in (EAST, WEST)}
    deployed.records(*[
        {"Name": name, "Type": "A", "SetIdentifier": region, "Failover": role,
         "AliasTarget": {"HostedZoneId": "Z1UJRXOUMOOFQ8", "DNSName": regional[region],
                         "EvaluateTargetHealth": True},
         **({"HealthCheckId": check_id} if role == "PRIMARY" else {})}
        for region, role in ((EAST, "PRIMARY"), (WEST, "SECONDARY"))])


def test_requests_follow_the_failover_answer(deployed):
    deployed.health["primary-check"] = True
    failover_aliases(deployed, "api.edge.test", "primary-check")

    assert deployed.request("API.edge.test:443") == (
        "200 OK", {"domain": "api.edge.test", "region": EAST, "host": "API.edge.test:443"})
    deployed.health["primary-check"] = False
    assert deployed.request("api.edge.test")[1]["region"] == WEST


def test_a_cname_to_a_regional_domain_name_reaches_that_custom_domain(deployed):
    regional = deployed.custom_domain(WEST, "shop.edge.test")
    deployed.records({"Name": "www.edge.test", "Type": "CNAME", "TTL": 60,
                      "ResourceRecords": [{"Value": regional}]})

    assert deployed.request("www.edge.test")[1] == {
        "domain": "shop.edge.test", "region": WEST, "host": "www.edge.test"}


def test_a_custom_domain_without_a_record_is_served_from_its_only_region(deployed):
    deployed.custom_domain(WEST, "solo.example.org")
    deployed.custom_domain(EAST, "twice.example.org")
    deployed.custom_domain(WEST, "twice.example.org")

    assert deployed.edge.serves("solo.example.org")
    assert deployed.request("solo.example.org")[1]["region"] == WEST
    status, body = deployed.request("twice.example.org")
    assert status == "502 Bad Gateway"
    assert f"{EAST}, {WEST}" in " ".join(body["resolved"]["steps"])


def test_names_resolving_elsewhere_get_502_saying_what_they_resolved_to(deployed):
    deployed.records({"Name": "legacy.edge.test", "Type": "A", "TTL": 60,
                      "ResourceRecords": [{"Value": "203.0.113.9"}]})

    status, body = deployed.request("legacy.edge.test")

    assert status == "502 Bad Gateway"
    assert "203.0.113.9" in body["message"]
    assert body["resolved"]["records"] == ["legacy.edge.test 60 A 203.0.113.9"]


def test_serves_only_names_in_hosted_zones_or_custom_domains(deployed):
    deployed.records({"Name": "*.apps.edge.test", "Type": "A", "TTL": 60,
                      "ResourceRecords": [{"Value": "203.0.113.9"}]})

    assert deployed.edge.serves("any.apps.edge.test")
    assert not deployed.edge.serves("unknown.edge.test")
    assert not deployed.edge.serves("example.com")
    assert not deployed.edge.serves("127.0.0.1")
    assert not deployed.edge.serves("localhost")


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudProcess]:
    process = LocalCloudProcess(Path(tmp_path_factory.mktemp("edge")), time_scale=0.02)
    process.start()
    try:
        yield process
    finally:
        process.stop()


def test_the_running_cloud_answers_a_record_name_at_its_edge(cloud):
    route53 = cloud.client("route53")
    zone_id = route53.create_hosted_zone(Name="live.test", CallerReference="live")[
        "HostedZone"]["Id"]
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [{
        "Action": "CREATE", "ResourceRecordSet": {
            "Name": "old.live.test", "Type": "A", "TTL": 60,
            "ResourceRecords": [{"Value": "198.51.100.7"}]}}]})

    request = urllib.request.Request(f"{cloud.url}/anything", headers={"Host": "old.live.test"})
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=5)

    assert error.value.code == 502
    assert "198.51.100.7" in json.loads(error.value.read())["message"]


def regional_api(cloud: LocalCloudProcess, region: str, domain: str) -> tuple[str, str]:
    """A REST API answering GET /whoami with its region, deployed to ``prod`` and mapped to
    the custom domain ``domain`` in ``region``; returns the custom domain's regional name."""
    apigateway = cloud.client("apigateway", region)
    api_id = apigateway.create_rest_api(
        name=f"whoami-{region}", endpointConfiguration={"types": ["REGIONAL"]})["id"]
    root = apigateway.get_resources(restApiId=api_id)["items"][0]["id"]
    resource = apigateway.create_resource(restApiId=api_id, parentId=root,
                                          pathPart="whoami")["id"]
    apigateway.put_method(restApiId=api_id, resourceId=resource, httpMethod="GET",
                          authorizationType="NONE")
    apigateway.put_integration(restApiId=api_id, resourceId=resource, httpMethod="GET",
                               type="MOCK",
                               requestTemplates={"application/json": '{"statusCode": 200}'})
    apigateway.put_method_response(restApiId=api_id, resourceId=resource, httpMethod="GET",
                                   statusCode="200")
    apigateway.put_integration_response(
        restApiId=api_id, resourceId=resource, httpMethod="GET", statusCode="200",
        responseTemplates={"application/json": f'{{"region": "{region}"}}'})
    apigateway.create_deployment(restApiId=api_id, stageName="prod")
    certificate = cloud.client("acm", region).request_certificate(
        DomainName=domain, ValidationMethod="DNS")["CertificateArn"]
    regional = apigateway.create_domain_name(
        domainName=domain, regionalCertificateArn=certificate,
        endpointConfiguration={"types": ["REGIONAL"]})["regionalDomainName"]
    apigateway.create_base_path_mapping(domainName=domain, restApiId=api_id, stage="prod")
    return regional, api_id


def test_the_failover_answer_decides_which_region_serves_the_request(cloud):
    from conftest import wait_for

    domain = "orders.e2e.test"
    apis = {region: regional_api(cloud, region, domain) for region in (EAST, WEST)}
    route53 = cloud.client("route53")
    east_api = apis[EAST][1]
    check_id = route53.create_health_check(CallerReference="e2e", HealthCheckConfig={
        "Type": "HTTPS", "FullyQualifiedDomainName": f"{east_api}.execute-api.{EAST}.amazonaws.com",
        "ResourcePath": "/prod/whoami", "RequestInterval": 10, "FailureThreshold": 1,
    })["HealthCheck"]["Id"]
    zone_id = route53.create_hosted_zone(Name="e2e.test", CallerReference="e2e")[
        "HostedZone"]["Id"]
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [
        {"Action": "CREATE", "ResourceRecordSet": {
            "Name": domain, "Type": "A", "SetIdentifier": region, "Failover": role,
            "AliasTarget": {"HostedZoneId": "Z1UJRXOUMOOFQ8", "DNSName": apis[region][0],
                            "EvaluateTargetHealth": True},
            **({"HealthCheckId": check_id} if role == "PRIMARY" else {})}}
        for region, role in ((EAST, "PRIMARY"), (WEST, "SECONDARY"))]})

    def served_by() -> str:
        request = urllib.request.Request(f"{cloud.url}/whoami", headers={"Host": domain})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read())["region"]
        except urllib.error.HTTPError as error:  # e.g. 403 until the health check notices
            return f"HTTP {error.code}"

    status = wait_for(lambda: next((c for c in cloud.status()["health_checks"]["checks"]
                                    if c["id"] == check_id and c["last_probe"]), None),
                      message="the first probe of the east API")
    assert status["last_probe"] == "Success: HTTP Status Code 200, OK"
    assert served_by() == EAST

    # The drill: the east stage goes away, its health check fails, west answers.
    cloud.client("apigateway", EAST).delete_stage(restApiId=east_api, stageName="prod")
    wait_for(lambda: served_by() == WEST, message="requests to move to the west region")
