"""Route 53 answers by routing policy, resolved in-process from records made through the API.

The health of each health check comes from a dict here, so every policy decision is tested
without waiting for probes (test_route53_healthchecks.py covers the probes themselves).
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from localcloud import route53
from localcloud.dns import SYNTHETIC_V4, SYNTHETIC_V6, Resolver

REGION_A, REGION_B = "eu-west-1", "ap-southeast-2"


class Deployment:
    """Hosted zones and health checks made through boto3 against moto in this process."""

    def __init__(self) -> None:
        self.route53 = boto3.client("route53", region_name="us-east-1")
        self.health: dict[str, bool] = {}
        self.resolver = Resolver(health=self.health.get)

    def zone(self, name: str) -> str:
        return self.route53.create_hosted_zone(Name=name, CallerReference=name)["HostedZone"]["Id"]

    def check(self, healthy: bool = True) -> str:
        check_id = self.route53.create_health_check(
            CallerReference=f"check-{len(self.health)}",
            HealthCheckConfig={"Type": "HTTP", "IPAddress": "192.0.2.10", "Port": 80},
        )["HealthCheck"]["Id"]
        self.health[check_id] = healthy
        return check_id

    def records(self, zone_id: str, *record_sets: dict[str, Any]) -> None:
        self.route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={
            "Changes": [{"Action": "CREATE", "ResourceRecordSet": r} for r in record_sets]})

    def answer(self, name: str, rtype: str = "A") -> list[str]:
        return self.resolver.resolve(name, rtype).values


def a_record(name: str, value: str, ttl: int = 60, **policy: Any) -> dict[str, Any]:
    return {"Name": name, "Type": "A", "TTL": ttl, "ResourceRecords": [{"Value": value}],
            **policy}


@pytest.fixture
def deployed() -> Iterator[Deployment]:
    route53.install()  # the local cloud's Route 53 fixes, in this process
    with mock_aws():
        yield Deployment()


def test_simple_record_answers_case_insensitively_with_or_without_trailing_dot(deployed):
    zone = deployed.zone("shop.test")
    deployed.records(zone, a_record("www.shop.test", "192.0.2.1", ttl=42))

    for name in ("www.shop.test", "WWW.Shop.Test.", "www.shop.test."):
        answer = deployed.resolver.resolve(name, "A")
        assert (answer.rcode, answer.values, answer.ttl) == ("NOERROR", ["192.0.2.1"], 42)


def test_the_most_specific_zone_answers(deployed):
    parent = deployed.zone("corp.test")
    child = deployed.zone("eu.corp.test")
    deployed.records(parent, a_record("api.eu.corp.test", "192.0.2.1"))
    deployed.records(child, a_record("api.eu.corp.test", "192.0.2.2"))

    assert deployed.answer("api.eu.corp.test") == ["192.0.2.2"]


def test_unknown_names_are_nxdomain_and_other_types_are_empty(deployed):
    zone = deployed.zone("shop.test")
    deployed.records(zone, a_record("www.shop.test", "192.0.2.1"),
                     a_record("a.b.deep.shop.test", "192.0.2.3"))

    assert deployed.resolver.resolve("nope.shop.test", "A").rcode == "NXDOMAIN"
    assert deployed.resolver.resolve("elsewhere.test", "A").rcode == "NXDOMAIN"
    no_aaaa = deployed.resolver.resolve("www.shop.test", "AAAA")
    assert (no_aaaa.rcode, no_aaaa.values) == ("NOERROR", [])
    # An empty non-terminal exists without records of its own.
    assert deployed.resolver.resolve("deep.shop.test", "A").rcode == "NOERROR"


def test_wildcard_answers_names_that_do_not_exist_only(deployed):
    zone = deployed.zone("shop.test")
    deployed.records(zone, a_record("*.shop.test", "192.0.2.9"),
                     a_record("www.shop.test", "192.0.2.1"))

    assert deployed.answer("anything.shop.test") == ["192.0.2.9"]
    assert deployed.answer("two.levels.shop.test") == ["192.0.2.9"]
    assert deployed.answer("www.shop.test") == ["192.0.2.1"]
    assert deployed.resolver.resolve("x.www.shop.test", "A").rcode == "NXDOMAIN"


def test_zone_ns_and_soa_records_are_answered(deployed):
    deployed.zone("shop.test")

    assert deployed.answer("shop.test", "NS")[0].startswith("ns-")
    assert "hostmaster" in deployed.answer("shop.test", "SOA")[0]


FAILOVER_CASES = [
    # primary healthy, secondary healthy -> answer
    (True, True, "192.0.2.1"),
    (False, True, "192.0.2.2"),
    (True, False, "192.0.2.1"),
    # Both unhealthy: Route 53 answers with the primary.
    (False, False, "192.0.2.1"),
]


@pytest.mark.parametrize(("primary_ok", "secondary_ok", "expected"), FAILOVER_CASES)
def test_failover_follows_health(deployed, primary_ok, secondary_ok, expected):
    zone = deployed.zone("shop.test")
    deployed.records(
        zone,
        a_record("api.shop.test", "192.0.2.1", SetIdentifier="one", Failover="PRIMARY",
                 HealthCheckId=deployed.check(primary_ok)),
        a_record("api.shop.test", "192.0.2.2", SetIdentifier="two", Failover="SECONDARY",
                 HealthCheckId=deployed.check(secondary_ok)),
    )

    assert deployed.answer("api.shop.test") == [expected]


def test_failover_secondary_without_health_check_takes_over(deployed):
    zone = deployed.zone("shop.test")
    deployed.records(
        zone,
        a_record("api.shop.test", "192.0.2.1", SetIdentifier="one", Failover="PRIMARY",
                 HealthCheckId=deployed.check(False)),
        a_record("api.shop.test", "192.0.2.2", SetIdentifier="two", Failover="SECONDARY"),
    )

    assert deployed.answer("api.shop.test") == ["192.0.2.2"]


def test_alias_to_a_record_takes_its_values_and_ttl(deployed):
    zone = deployed.zone("shop.test")
    zone_id = zone.rsplit("/", 1)[-1]
    deployed.records(zone, a_record("origin.shop.test", "192.0.2.7", ttl=123))
    deployed.records(zone, {"Name": "shop.test", "Type": "A", "AliasTarget": {
        "HostedZoneId": zone_id, "DNSName": "origin.shop.test", "EvaluateTargetHealth": False}})

    answer = deployed.resolver.resolve("shop.test", "A")
    assert (answer.values, answer.ttl) == (["192.0.2.7"], 123)


def test_failover_alias_evaluates_target_health(deployed):
    zone = deployed.zone("shop.test")
    zone_id = zone.rsplit("/", 1)[-1]
    deployed.records(
        zone,
        a_record("east.shop.test", "192.0.2.1", SetIdentifier="east", Weight=1,
                 HealthCheckId=deployed.check(False)),
        a_record("west.shop.test", "192.0.2.2"),
    )

    def alias(name: str, target: str, role: str) -> dict[str, Any]:
        return {"Name": name, "Type": "A", "SetIdentifier": role, "Failover": role,
                "AliasTarget": {"HostedZoneId": zone_id, "DNSName": target,
                                "EvaluateTargetHealth": True}}

    deployed.records(zone, alias("api.shop.test", "east.shop.test", "PRIMARY"),
                     alias("api.shop.test", "west.shop.test", "SECONDARY"))

    assert deployed.answer("api.shop.test") == ["192.0.2.2"]


def test_weighted_records_split_by_weight_and_skip_unhealthy_and_zero(deployed):
    zone = deployed.zone("shop.test")
    deployed.records(
        zone,
        a_record("w.shop.test", "192.0.2.1", SetIdentifier="a", Weight=50),
        a_record("w.shop.test", "192.0.2.2", SetIdentifier="b", Weight=50),
        a_record("w.shop.test", "192.0.2.3", SetIdentifier="c", Weight=0),
        a_record("w.shop.test", "192.0.2.4", SetIdentifier="d", Weight=100,
                 HealthCheckId=deployed.check(False)),
    )

    seen = Counter(deployed.answer("w.shop.test")[0] for _ in range(200))
    assert set(seen) == {"192.0.2.1", "192.0.2.2"}
    assert min(seen.values()) > 50


def test_weighted_zero_weight_records_serve_when_the_others_are_unhealthy(deployed):
    zone = deployed.zone("shop.test")
    deployed.records(
        zone,
        a_record("w.shop.test", "192.0.2.1", SetIdentifier="a", Weight=10,
                 HealthCheckId=deployed.check(False)),
        a_record("w.shop.test", "192.0.2.3", SetIdentifier="standby", Weight=0),
    )

    assert {deployed.answer("w.shop.test")[0] for _ in range(20)} == {"192.0.2.3"}


def test_cname_answers_any_type_and_is_followed_in_zone(deployed):
    zone = deployed.zone("shop.test")
    deployed.records(zone, a_record("origin.shop.test", "192.0.2.7"),
                     {"Name": "www.shop.test", "Type": "CNAME", "TTL": 30,
                      "ResourceRecords": [{"Value": "origin.shop.test"}]})

    answer = deployed.resolver.resolve("www.shop.test", "A")
    assert answer.values == ["origin.shop.test"]
    assert [(rr.name, rr.rtype, rr.value) for rr in answer.records] == [
        ("www.shop.test", "CNAME", "origin.shop.test"), ("origin.shop.test", "A", "192.0.2.7")]


def _custom_domain(region: str, name: str) -> str:
    client = boto3.client("apigateway", region_name=region)
    return client.create_domain_name(
        domainName=name, regionalCertificateArn=f"arn:aws:acm:{region}:123456789012:certificate/x",
        endpointConfiguration={"types": ["REGIONAL"]})["regionalDomainName"]


def test_alias_to_api_gateway_regional_names_points_at_that_region(deployed):
    zone = deployed.zone("shop.test")
    regional_a = _custom_domain(REGION_A, "api.shop.test")
    regional_b = _custom_domain(REGION_B, "api.shop.test")
    primary_check = deployed.check(True)

    def alias(regional: str, role: str, **extra: Any) -> dict[str, Any]:
        return {"Name": "api.shop.test", "Type": "A", "SetIdentifier": role, "Failover": role,
                "AliasTarget": {"HostedZoneId": "Z2FDTNDATAQYW2", "DNSName": regional,
                                "EvaluateTargetHealth": True}, **extra}

    deployed.records(zone, alias(regional_a, "PRIMARY", HealthCheckId=primary_check),
                     alias(regional_b, "SECONDARY"))

    healthy = deployed.resolver.resolve("api.shop.test", "A")
    deployed.health[primary_check] = False
    failed_over = deployed.resolver.resolve("api.shop.test", "A")

    assert (healthy.target.region, healthy.target.name) == (REGION_A, "api.shop.test")
    assert failed_over.target.region == REGION_B
    assert healthy.values != failed_over.values
    for answer in (healthy, failed_over):
        assert ipaddress.ip_address(answer.values[0]) in SYNTHETIC_V4
        assert answer.ttl == 60
    deployed.records(zone, {"Name": "v6.shop.test", "Type": "AAAA", "AliasTarget": {
        "HostedZoneId": "Z2FDTNDATAQYW2", "DNSName": regional_a, "EvaluateTargetHealth": False}})
    aaaa = deployed.resolver.resolve("v6.shop.test", "AAAA")
    assert ipaddress.ip_address(aaaa.values[0]) in SYNTHETIC_V6


def test_alias_to_a_deleted_custom_domain_is_unhealthy(deployed):
    zone = deployed.zone("shop.test")
    regional_a = _custom_domain(REGION_A, "api.shop.test")
    regional_b = _custom_domain(REGION_B, "api.shop.test")
    deployed.records(zone, *[
        {"Name": "api.shop.test", "Type": "A", "SetIdentifier": role, "Failover": role,
         "AliasTarget": {"HostedZoneId": "Z2FDTNDATAQYW2", "DNSName": regional,
                         "EvaluateTargetHealth": True}}
        for regional, role in ((regional_a, "PRIMARY"), (regional_b, "SECONDARY"))])

    boto3.client("apigateway", region_name=REGION_A).delete_domain_name(
        domainName="api.shop.test")

    assert deployed.resolver.resolve("api.shop.test", "A").target.region == REGION_B


def test_delete_with_set_identifier_removes_only_that_record(deployed):
    zone = deployed.zone("shop.test")
    first = a_record("a.shop.test", "192.0.2.1", SetIdentifier="blue", Weight=1)
    second = a_record("b.shop.test", "192.0.2.2", SetIdentifier="blue", Weight=1)
    deployed.records(zone, first, second)

    deployed.route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={
        "Changes": [{"Action": "DELETE", "ResourceRecordSet": first}]})

    assert deployed.resolver.resolve("a.shop.test", "A").rcode == "NXDOMAIN"
    assert deployed.answer("b.shop.test") == ["192.0.2.2"]


def test_names_are_case_insensitive_and_stored_lower_case(deployed):
    zone = deployed.zone("Shop.Test")
    deployed.records(zone, a_record("API.Shop.TEST.", "192.0.2.7"))

    stored = deployed.route53.list_resource_record_sets(
        HostedZoneId=zone, StartRecordName="Api.Shop.Test", StartRecordType="A")
    assert stored["ResourceRecordSets"][0]["Name"] == "api.shop.test."
    assert deployed.route53.get_hosted_zone(Id=zone)["HostedZone"]["Name"] == "shop.test."
    assert deployed.answer("api.shop.test") == ["192.0.2.7"]
    by_name = deployed.route53.list_hosted_zones_by_name(DNSName="SHOP.test")["HostedZones"]
    assert [z["Id"] for z in by_name] == [zone]

    deployed.route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={
        "Changes": [{"Action": "DELETE", "ResourceRecordSet": a_record("api.SHOP.test",
                                                                       "192.0.2.7")}]})
    assert deployed.resolver.resolve("api.shop.test", "A").rcode == "NXDOMAIN"
