"""Route 53 answers as clients see them: the DNS server (UDP and TCP) and TestDNSAnswer.

Health comes from real checks: a TCP check of the local cloud's own port is healthy, and
inverting it (the drill lever) makes it unhealthy.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from conftest import LocalCloudProcess, wait_for
from dnslib import QTYPE, RCODE, DNSRecord

SYNTHETIC = ipaddress.ip_network("198.18.0.0/15")


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudProcess]:
    process = LocalCloudProcess(Path(tmp_path_factory.mktemp("dns")), time_scale=0.02)
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def route53(cloud: LocalCloudProcess) -> Any:
    return cloud.client("route53")


def dig(cloud: LocalCloudProcess, name: str, rtype: str = "A", tcp: bool = False) -> DNSRecord:
    question = DNSRecord.question(name, rtype)
    return DNSRecord.parse(question.send("127.0.0.1", cloud.dns_port, tcp=tcp, timeout=2))


def answers(reply: DNSRecord, rtype: str = "A") -> list[str]:
    return [str(rr.rdata) for rr in reply.rr if QTYPE[rr.rtype] == rtype]


def zone(route53: Any, name: str) -> str:
    return route53.create_hosted_zone(Name=name, CallerReference=name)["HostedZone"]["Id"]


def change(route53: Any, zone_id: str, *record_sets: dict[str, Any]) -> None:
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={
        "Changes": [{"Action": "UPSERT", "ResourceRecordSet": r} for r in record_sets]})


def healthy_check(cloud: LocalCloudProcess, route53: Any, reference: str) -> str:
    """A check of the local cloud's own port: healthy until inverted."""
    return route53.create_health_check(CallerReference=reference, HealthCheckConfig={
        "Type": "TCP", "IPAddress": "127.0.0.1", "Port": cloud.port, "RequestInterval": 10,
        "FailureThreshold": 1})["HealthCheck"]["Id"]


def custom_domain(cloud: LocalCloudProcess, region: str, name: str) -> str:
    """A REGIONAL API Gateway custom domain (with its certificate); its regional name."""
    certificate = cloud.client("acm", region).request_certificate(
        DomainName=name, ValidationMethod="DNS")["CertificateArn"]
    return cloud.client("apigateway", region).create_domain_name(
        domainName=name, regionalCertificateArn=certificate,
        endpointConfiguration={"types": ["REGIONAL"]})["regionalDomainName"]


def test_dns_server_answers_on_its_reported_port(cloud):
    assert cloud.status()["dns"]["port"] == cloud.dns_port


def test_failover_switches_the_answer_in_dns_and_test_dns_answer(cloud, route53):
    zone_id = zone(route53, "failover.test")
    check_id = healthy_check(cloud, route53, "failover-primary")
    change(route53, zone_id,
           {"Name": "api.failover.test", "Type": "A", "TTL": 30, "SetIdentifier": "main",
            "Failover": "PRIMARY", "HealthCheckId": check_id,
            "ResourceRecords": [{"Value": "192.0.2.1"}]},
           {"Name": "api.failover.test", "Type": "A", "TTL": 30, "SetIdentifier": "standby",
            "Failover": "SECONDARY", "ResourceRecords": [{"Value": "192.0.2.2"}]})

    def test_answer() -> list[str]:
        return route53.test_dns_answer(HostedZoneId=zone_id, RecordName="api.failover.test",
                                       RecordType="A")["RecordData"]

    reply = dig(cloud, "api.failover.test")
    assert (RCODE[reply.header.rcode], answers(reply)) == ("NOERROR", ["192.0.2.1"])
    assert reply.rr[0].ttl == 30 and reply.header.aa == 1
    assert test_answer() == ["192.0.2.1"]

    route53.update_health_check(HealthCheckId=check_id, Inverted=True)
    wait_for(lambda: answers(dig(cloud, "api.failover.test")) == ["192.0.2.2"],
             message="DNS to answer the secondary")
    response = route53.test_dns_answer(HostedZoneId=zone_id, RecordName="api.failover.test",
                                       RecordType="A")
    assert (response["RecordData"], response["ResponseCode"], response["Protocol"]) == (
        ["192.0.2.2"], "NOERROR", "UDP")
    assert response["Nameserver"].startswith("ns-")

    route53.update_health_check(HealthCheckId=check_id, Inverted=False)
    wait_for(lambda: test_answer() == ["192.0.2.1"], message="the primary to come back")


def test_alias_to_custom_domains_points_dns_at_the_serving_region(cloud, route53):
    regional = {region: custom_domain(cloud, region, "orders.alias.test")
                for region in ("us-east-1", "us-west-2")}
    zone_id = zone(route53, "alias.test")
    check_id = healthy_check(cloud, route53, "alias-primary")
    change(route53, zone_id, *[
        {"Name": "orders.alias.test", "Type": "A", "SetIdentifier": region, "Failover": role,
         "AliasTarget": {"HostedZoneId": "Z1UJRXOUMOOFQ8", "DNSName": regional[region],
                         "EvaluateTargetHealth": True},
         **({"HealthCheckId": check_id} if role == "PRIMARY" else {})}
        for region, role in (("us-east-1", "PRIMARY"), ("us-west-2", "SECONDARY"))])

    primary = answers(dig(cloud, "orders.alias.test"))
    route53.update_health_check(HealthCheckId=check_id, Inverted=True)
    secondary = wait_for(lambda: (a := answers(dig(cloud, "orders.alias.test"))) != primary
                         and a, message="the answer to switch region")

    assert len(primary) == len(secondary) == 1
    assert all(ipaddress.ip_address(a) in SYNTHETIC for a in primary + secondary)


def test_api_gateway_names_answer_the_addresses_their_aliases_answer(cloud, route53):
    """AWS's public DNS answers a custom domain's regional domain name and an API's execute-api
    host; a client compares them with an alias's answer to tell which target answered."""
    regional = {region: custom_domain(cloud, region, "shop.targets.test")
                for region in ("us-east-1", "us-west-2")}
    zone_id = zone(route53, "targets.test")
    check_id = healthy_check(cloud, route53, "targets-primary")
    change(route53, zone_id, *[
        {"Name": "shop.targets.test", "Type": "A", "SetIdentifier": region, "Failover": role,
         "AliasTarget": {"HostedZoneId": "Z1UJRXOUMOOFQ8", "DNSName": regional[region],
                         "EvaluateTargetHealth": True},
         **({"HealthCheckId": check_id} if role == "PRIMARY" else {})}
        for region, role in (("us-east-1", "PRIMARY"), ("us-west-2", "SECONDARY"))])
    api_id = cloud.client("apigateway", "us-west-2").create_rest_api(name="targets")["id"]

    direct = {region: dig(cloud, name) for region, name in regional.items()}
    assert all(RCODE[reply.header.rcode] == "NOERROR" for reply in direct.values())
    assert answers(dig(cloud, "shop.targets.test")) == answers(direct["us-east-1"])
    route53.update_health_check(HealthCheckId=check_id, Inverted=True)
    wait_for(lambda: answers(dig(cloud, "shop.targets.test")) == answers(direct["us-west-2"]),
             message="the alias to answer the secondary's regional domain name")
    assert answers(direct["us-east-1"]) != answers(direct["us-west-2"])
    assert all(ipaddress.ip_address(a) in SYNTHETIC
               for reply in direct.values() for a in answers(reply))

    api_host = f"{api_id}.execute-api.us-west-2.amazonaws.com"
    assert [ipaddress.ip_address(a) in SYNTHETIC for a in answers(dig(cloud, api_host))] == [True]
    # Names of nothing that exists here are not answered.
    cloud.client("apigateway", "us-east-1").delete_domain_name(domainName="shop.targets.test")
    for gone in (regional["us-east-1"], "nosuchapi.execute-api.us-west-2.amazonaws.com",
                 "d-nosuchname.execute-api.us-west-2.amazonaws.com"):
        assert RCODE[dig(cloud, gone).header.rcode] == "NXDOMAIN", gone


def test_unknown_names_are_nxdomain_with_the_zone_soa(cloud, route53):
    zone(route53, "nx.test")

    missing = dig(cloud, "nothing.nx.test")
    assert RCODE[missing.header.rcode] == "NXDOMAIN"
    assert [QTYPE[rr.rtype] for rr in missing.auth] == ["SOA"]
    assert RCODE[dig(cloud, "nowhere.invalid").header.rcode] == "NXDOMAIN"


def test_cname_txt_aaaa_ns_and_tcp(cloud, route53):
    zone_id = zone(route53, "types.test")
    change(route53, zone_id,
           {"Name": "origin.types.test", "Type": "AAAA", "TTL": 60,
            "ResourceRecords": [{"Value": "2001:db8::5"}]},
           {"Name": "www.types.test", "Type": "CNAME", "TTL": 60,
            "ResourceRecords": [{"Value": "origin.types.test"}]},
           {"Name": "types.test", "Type": "TXT", "TTL": 60,
            "ResourceRecords": [{"Value": '"v=spf1 -all"'}]})

    www = dig(cloud, "www.types.test", "AAAA")
    assert answers(www, "CNAME") == ["origin.types.test."]
    assert answers(www, "AAAA") == ["2001:db8::5"]
    assert answers(dig(cloud, "types.test", "TXT"), "TXT") == ['"v=spf1 -all"']
    assert len(answers(dig(cloud, "types.test", "NS", tcp=True), "NS")) == 4


def test_test_dns_answer_for_an_unknown_zone(route53):
    with pytest.raises(ClientError) as missing:
        route53.test_dns_answer(HostedZoneId="ZNOSUCHZONE", RecordName="a.b.test",
                                RecordType="A")
    assert missing.value.response["Error"]["Code"] == "NoSuchHostedZone"
