"""Route 53's API and name servers answer as AWS's do.

- Names come back lower case and fully qualified, alias hosted zone ids upper case ("DNS domain
  name format"; what ListResourceRecordSets answers), from the API and from CloudFormation.
- A new hosted zone has Route 53's default NS and SOA records ("NS and SOA records that Amazon
  Route 53 creates for a public hosted zone").
- NXDOMAIN and NODATA answers carry the zone's SOA with the negative-caching TTL (RFC 2308).
- The API is throttled per account with a token bucket ("Throttling for Amazon Route 53 API
  requests"), at AWS's rate divided by the time scale.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError
from conftest import PRIMARY, REPO, LocalCloudProcess
from dnslib import QTYPE, RCODE, DNSRecord

AWS_CLI = REPO / ".venv" / "bin" / "aws"
# What Route 53 answers for an API Gateway regional custom domain in us-east-1.
API_GATEWAY_ZONE_ID = "Z1UJRXOUMOOFQ8"
DEFAULT_NAME_SERVERS = ["ns-2048.awsdns-64.com", "ns-2049.awsdns-65.net",
                        "ns-2050.awsdns-66.org", "ns-2051.awsdns-67.co.uk"]
# The throttled clouds: 5 requests per second in AWS time, 5 at once.
RATE, BURST = 5, 5


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def new_zone(route53: Any, name: str) -> str:
    return route53.create_hosted_zone(Name=name, CallerReference=unique("ref"))["HostedZone"]["Id"]


def record_sets(route53: Any, zone_id: str) -> list[dict[str, Any]]:
    return route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]


def upsert(route53: Any, zone_id: str, *records: dict[str, Any]) -> None:
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={
        "Changes": [{"Action": "UPSERT", "ResourceRecordSet": r} for r in records]})


def alias(dns_name: str, zone_id: str = API_GATEWAY_ZONE_ID) -> dict[str, Any]:
    return {"HostedZoneId": zone_id, "DNSName": dns_name, "EvaluateTargetHealth": False}


def by_name(records: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["Name"], r["Type"]): r for r in records}


def dig(cloud: LocalCloudProcess, name: str, rtype: str = "A") -> DNSRecord:
    port = cloud.status()["dns"]["port"]
    return DNSRecord.parse(DNSRecord.question(name, rtype).send("127.0.0.1", port, timeout=2))


def default_soa(name_server: str = DEFAULT_NAME_SERVERS[0]) -> str:
    return f"{name_server}. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"


# -- Names ---------------------------------------------------------------------------------------


def test_names_and_alias_targets_come_back_lower_case_and_fully_qualified(localcloud):
    route53 = localcloud.client("route53")
    zone = f"{unique('names')}.Example.TEST"
    zone_id = new_zone(route53, zone)
    upsert(route53, zone_id,
           {"Name": f"Api.{zone}", "Type": "A",
            "AliasTarget": alias("D-ABC123.execute-api.us-east-1.amazonaws.com",
                                 API_GATEWAY_ZONE_ID.lower())},
           {"Name": f"WWW.{zone}.", "Type": "A", "TTL": 60,
            "ResourceRecords": [{"Value": "192.0.2.10"}]})

    listed = record_sets(route53, zone_id)
    records = by_name(listed)
    api = records[(f"api.{zone.lower()}.", "A")]
    assert api["AliasTarget"] == {
        "HostedZoneId": API_GATEWAY_ZONE_ID,
        "DNSName": "d-abc123.execute-api.us-east-1.amazonaws.com.",
        "EvaluateTargetHealth": False}
    assert (f"www.{zone.lower()}.", "A") in records
    assert route53.get_hosted_zone(Id=zone_id)["HostedZone"]["Name"] == f"{zone.lower()}."

    # What a tool that compares with the listing sends again changes nothing.
    upsert(route53, zone_id, *[r for r in listed if r["Type"] not in ("NS", "SOA")])
    assert record_sets(route53, zone_id) == listed


def test_records_from_cloudformation_come_back_lower_case_and_fully_qualified(localcloud):
    zone = f"{unique('stack')}.Example.TEST"
    template = {"Resources": {
        "Zone": {"Type": "AWS::Route53::HostedZone", "Properties": {"Name": zone}},
        "Api": {"Type": "AWS::Route53::RecordSet", "Properties": {
            "HostedZoneId": {"Ref": "Zone"}, "Name": f"Api.{zone}", "Type": "A",
            "AliasTarget": alias("D-XYZ789.execute-api.us-east-1.amazonaws.com",
                                 API_GATEWAY_ZONE_ID.lower())}},
        "Group": {"Type": "AWS::Route53::RecordSetGroup", "Properties": {
            "HostedZoneId": {"Ref": "Zone"}, "RecordSets": [{
                "Name": f"Www.{zone}", "Type": "CNAME", "TTL": "60",
                "ResourceRecords": ["origin.example.net"]}]}},
    }, "Outputs": {"Zone": {"Value": {"Ref": "Zone"}}}}
    cfn = localcloud.client("cloudformation")
    stack = unique("names")
    cfn.create_stack(StackName=stack, TemplateBody=json.dumps(template))
    described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    assert described["StackStatus"] == "CREATE_COMPLETE", described.get("StackStatusReason")
    zone_id = described["Outputs"][0]["OutputValue"]

    route53 = localcloud.client("route53")
    records = by_name(record_sets(route53, zone_id))
    assert records[(f"api.{zone.lower()}.", "A")]["AliasTarget"] == {
        "HostedZoneId": API_GATEWAY_ZONE_ID,
        "DNSName": "d-xyz789.execute-api.us-east-1.amazonaws.com.",
        "EvaluateTargetHealth": False}
    assert (f"www.{zone.lower()}.", "CNAME") in records
    assert route53.get_hosted_zone(Id=zone_id)["HostedZone"]["Name"] == f"{zone.lower()}."
    cfn.delete_stack(StackName=stack)


# -- Default records -----------------------------------------------------------------------------


def test_a_new_zone_has_route53s_default_ns_and_soa(localcloud):
    route53 = localcloud.client("route53")
    zone = f"{unique('defaults')}.example.test"
    created = route53.create_hosted_zone(Name=zone, CallerReference=unique("ref"))
    name_servers = created["DelegationSet"]["NameServers"]
    assert name_servers == DEFAULT_NAME_SERVERS

    assert record_sets(route53, created["HostedZone"]["Id"]) == [
        {"Name": f"{zone}.", "Type": "NS", "TTL": 172800,
         "ResourceRecords": [{"Value": f"{ns}."} for ns in name_servers]},
        {"Name": f"{zone}.", "Type": "SOA", "TTL": 900,
         "ResourceRecords": [{"Value": default_soa(name_servers[0])}]},
    ]


# -- DNS answers ---------------------------------------------------------------------------------


def soa_in_authority(reply: DNSRecord) -> tuple[int, str]:
    assert [QTYPE[rr.rtype] for rr in reply.auth] == ["SOA"]
    return reply.auth[0].ttl, str(reply.auth[0].rdata)


def test_negative_answers_carry_the_soa_with_the_negative_caching_ttl(localcloud):
    route53 = localcloud.client("route53")
    zone = f"{unique('negative')}.example.test"
    zone_id = new_zone(route53, zone)
    upsert(route53, zone_id, {"Name": f"www.{zone}", "Type": "A", "TTL": 60,
                              "ResourceRecords": [{"Value": "192.0.2.20"}]})

    missing = dig(localcloud, f"nothing.{zone}")
    assert (RCODE[missing.header.rcode], missing.header.aa, missing.rr) == ("NXDOMAIN", 1, [])
    # min(SOA record TTL 900, SOA minimum 86400)
    assert soa_in_authority(missing) == (900, default_soa())
    no_data = dig(localcloud, f"www.{zone}", "AAAA")
    assert (RCODE[no_data.header.rcode], no_data.rr) == ("NOERROR", [])
    assert soa_in_authority(no_data) == (900, default_soa())

    short_minimum = default_soa().replace(" 86400", " 60")
    upsert(route53, zone_id, {"Name": zone, "Type": "SOA", "TTL": 900,
                              "ResourceRecords": [{"Value": short_minimum}]})
    assert soa_in_authority(dig(localcloud, f"nothing.{zone}")) == (60, short_minimum)
    upsert(route53, zone_id, {"Name": zone, "Type": "SOA", "TTL": 30,
                              "ResourceRecords": [{"Value": short_minimum}]})
    assert soa_in_authority(dig(localcloud, f"www.{zone}", "TXT")) == (30, short_minimum)


def test_the_apex_answers_its_soa_and_ns(localcloud):
    route53 = localcloud.client("route53")
    zone = f"{unique('apex')}.example.test"
    new_zone(route53, zone)

    soa = dig(localcloud, zone, "SOA")
    assert RCODE[soa.header.rcode] == "NOERROR"
    assert [(QTYPE[rr.rtype], rr.ttl, str(rr.rdata)) for rr in soa.rr] == [
        ("SOA", 900, default_soa())]
    ns = dig(localcloud, zone, "NS")
    assert sorted((QTYPE[rr.rtype], rr.ttl, str(rr.rdata)) for rr in ns.rr) == [
        ("NS", 172800, f"{name}.") for name in DEFAULT_NAME_SERVERS]


# -- Throttling ----------------------------------------------------------------------------------


def start_cloud(state_dir: Path, time_scale: float, **settings: str) -> LocalCloudProcess:
    cloud = LocalCloudProcess(state_dir, time_scale=time_scale)
    cloud.env.update(settings)
    cloud.start()
    return cloud


@pytest.fixture(scope="module")
def throttled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudProcess]:
    """A local cloud in AWS time (time scale 1) with a Route 53 bucket of 5, refilled at 5/s."""
    cloud = start_cloud(tmp_path_factory.mktemp("throttled"), 1.0,
                        LOCALCLOUD_ROUTE53_RATE=str(RATE), LOCALCLOUD_ROUTE53_BURST=str(BURST))
    try:
        yield cloud
    finally:
        cloud.stop()


def single_attempt(cloud: LocalCloudProcess, service: str = "route53",
                   account_id: str | None = None) -> Any:
    """A boto3 client that does not retry (``total_max_attempts`` counts the first request;
    ``max_attempts`` counts retries only), optionally for another account."""
    client = boto3.client(service, region_name=PRIMARY, endpoint_url=cloud.url,
                          aws_access_key_id="testing", aws_secret_access_key="testing",
                          config=BotoConfig(retries={"total_max_attempts": 1}))
    if account_id is not None:
        def add_account(request: Any, **_: Any) -> None:
            request.headers["x-moto-account-id"] = account_id

        client.meta.events.register("before-send", add_account)
    return client


def throttled_calls(call: Any, count: int, interval: float = 0.0) -> list[ClientError]:
    """Make ``count`` calls, ``interval`` seconds apart; the Throttling errors they got."""
    errors = []
    for _ in range(count):
        started = time.monotonic()
        try:
            call()
        except ClientError as error:
            if error.response["Error"]["Code"] != "Throttling":
                raise
            errors.append(error)
        time.sleep(max(0.0, interval - (time.monotonic() - started)))
    return errors


def refill() -> None:
    """Wait until a drained bucket of the throttled clouds is full again."""
    time.sleep(BURST / RATE + 0.2)


def drain(route53: Any) -> None:
    """Spend the account's tokens: call until Route 53 throttles (it must, soon)."""
    assert throttled_calls(route53.list_hosted_zones, 2 * BURST), "Route 53 never throttled"


def test_a_burst_past_the_rate_is_throttled_as_aws_answers(throttled):
    route53 = single_attempt(throttled)
    refill()
    started = time.monotonic()
    errors = throttled_calls(route53.list_hosted_zones, 4 * BURST)
    elapsed = time.monotonic() - started

    allowed = BURST + RATE * elapsed
    assert 4 * BURST - len(errors) <= allowed + 1
    response = errors[0].response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert (response["Error"]["Code"], response["Error"]["Message"]) == (
        "Throttling", "Rate exceeded")
    assert throttled.status()["route53_api"]["throttled_requests"] >= len(errors)


def test_calls_within_the_rate_are_never_throttled(throttled):
    route53 = single_attempt(throttled)
    refill()
    assert throttled_calls(route53.list_hosted_zones, 2 * BURST, interval=1.25 / RATE) == []
    assert throttled_calls(route53.list_hosted_zones, 2 * BURST) != []


def test_each_account_has_its_own_bucket(throttled):
    refill()
    drain(single_attempt(throttled))
    other = single_attempt(throttled, account_id="111111111111")
    assert throttled_calls(other.list_hosted_zones, BURST) == []
    assert throttled_calls(other.list_hosted_zones, BURST) != []


def test_other_services_are_not_throttled(throttled):
    refill()
    drain(single_attempt(throttled))
    for service, call in (("sts", "get_caller_identity"), ("sqs", "list_queues"),
                          ("apigateway", "get_rest_apis")):
        client = single_attempt(throttled, service)
        assert throttled_calls(getattr(client, call), 3 * BURST) == [], service


def test_the_rate_follows_the_time_scale(throttled, tmp_path):
    """Ten times faster time, ten times the rate: a pace Route 53 throttles in AWS time passes."""
    pace = 1 / (4 * RATE)  # four times AWS's rate, under the rate ten times faster
    fast = start_cloud(tmp_path, 0.1, LOCALCLOUD_ROUTE53_RATE=str(RATE),
                       LOCALCLOUD_ROUTE53_BURST=str(BURST))
    try:
        assert fast.status()["route53_api"]["local_requests_per_second"] == RATE * 10
        assert throttled_calls(single_attempt(fast).list_hosted_zones, 6 * BURST, pace) == []
    finally:
        fast.stop()
    refill()
    assert throttled_calls(single_attempt(throttled).list_hosted_zones, 6 * BURST, pace) != []


def test_the_aws_cli_is_throttled_and_retries(throttled, tmp_path):
    """Listing a zone one record per page makes a request per record, faster than 5 a second."""
    route53 = throttled.client("route53")
    zone = f"{unique('cli')}.example.test"
    zone_id = new_zone(route53, zone)
    upsert(route53, zone_id, *[
        {"Name": f"host{i}.{zone}", "Type": "A", "TTL": 60,
         "ResourceRecords": [{"Value": f"192.0.2.{i}"}]} for i in range(4 * BURST)])
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_CONFIG_FILE": str(tmp_path / "config"),
                "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials")})
    command = [str(AWS_CLI), "--endpoint-url", throttled.url, "--region", PRIMARY, "route53",
               "list-resource-record-sets", "--hosted-zone-id", zone_id, "--page-size", "1"]

    def aws(**settings: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(command, env={**env, **settings}, capture_output=True, text=True,
                              timeout=120)

    once = aws(AWS_MAX_ATTEMPTS="1")
    assert once.returncode != 0
    assert ("An error occurred (Throttling) when calling the ListResourceRecordSets operation"
            in once.stderr)
    assert "Rate exceeded" in once.stderr

    retried = aws(AWS_RETRY_MODE="standard", AWS_MAX_ATTEMPTS="10")
    assert retried.returncode == 0, retried.stderr
    assert len(json.loads(retried.stdout)["ResourceRecordSets"]) == 4 * BURST + 2


def test_the_default_rate_is_aws_and_follows_the_time_scale(localcloud):
    status = localcloud.status()
    assert status["route53_api"]["requests_per_second"] == 10
    assert status["route53_api"]["burst"] == 50
    assert status["route53_api"]["local_requests_per_second"] == pytest.approx(
        10 / status["time_scale"])
