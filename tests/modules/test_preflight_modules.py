"""The preflight's modules against a real local cloud.

``cloudformation_template_validate`` gets templates of the test's own (file, body, S3 URL);
``route53_delegation_info`` gets hosted zones of the test's own, asked through the local
cloud's DNS server or through small DNS servers the test runs that answer as a wrongly
delegated domain would.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_run import BIN, REPO, ansible_env
from conftest import PRIMARY, SECONDARY, LocalCloudProcess, free_port
from dnslib import QTYPE, RCODE, RR, DNSRecord
from dnslib.server import DNSServer

TEMPLATE = """\
Description: A bucket for the preflight module test.
Parameters:
  Prefix:
    Type: String
    Description: Start of the bucket name.
  Days:
    Type: Number
    Default: 7
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "${Prefix}-${AWS::Region}"
  Writer:
    Type: AWS::IAM::Role
    Properties:
      RoleName: !Sub "${Prefix}-writer"
      AssumeRolePolicyDocument: {}
"""


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def run_modules(cloud: LocalCloudProcess, tmp_path: Path, *calls: tuple[Any, ...],
                region: str = PRIMARY) -> list[dict[str, Any]]:
    """Independent module calls in one playbook run; each call is (module, args[, check])."""
    connection = {"endpoint_url": cloud.url, "access_key": "preflight-key",
                  "secret_key": "preflight-secret", "region": region}
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


# -- cloudformation_template_validate -----------------------------------------------------------

VALIDATE = "failover.aws.cloudformation_template_validate"


def test_template_file_body_and_url_describe_what_a_stack_needs(
        localcloud: LocalCloudProcess, tmp_path: Path) -> None:
    template = tmp_path / "bucket.yml"
    template.write_text(TEMPLATE)
    bucket = unique("templates")
    s3 = localcloud.client("s3", SECONDARY)
    s3.create_bucket(Bucket=bucket,
                     CreateBucketConfiguration={"LocationConstraint": SECONDARY})
    s3.put_object(Bucket=bucket, Key="bucket.yml", Body=TEMPLATE.encode())

    from_file, from_body, from_url = run_modules(
        localcloud, tmp_path,
        (VALIDATE, {"template": str(template)}),
        (VALIDATE, {"template_body": TEMPLATE}, True),
        (VALIDATE, {"template_url": f"https://{bucket}.s3.amazonaws.com/bucket.yml"}),
        region=SECONDARY)

    assert not from_file.get("failed"), from_file
    assert from_file["changed"] is False
    assert from_file["description"] == "A bucket for the preflight module test."
    assert from_file["parameters"] == [
        {"parameter_key": "Prefix", "no_echo": False, "description": "Start of the bucket name."},
        {"parameter_key": "Days", "default_value": "7", "no_echo": False},
    ]
    assert from_file["capabilities"] == ["CAPABILITY_NAMED_IAM"]
    assert "AWS::IAM::Role" in from_file["capabilities_reason"]
    assert from_file["template_size"] == len(TEMPLATE.encode())
    for other in (from_body, from_url):
        assert not other.get("failed"), other
        assert (other["parameters"], other["capabilities"]) == (
            from_file["parameters"], from_file["capabilities"])


def test_invalid_template_fails_with_cloudformations_message(
        localcloud: LocalCloudProcess, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(TEMPLATE.replace("${Prefix}-writer", "${Owner}-writer"))

    invalid, missing_file, neither = run_modules(
        localcloud, tmp_path,
        (VALIDATE, {"template": str(broken)}),
        (VALIDATE, {"template": str(tmp_path / "absent.yml")}),
        (VALIDATE, {}))

    assert invalid["failed"] is True
    assert invalid["msg"] == (
        f"{broken} is not valid: Template format error: Unresolved resource dependencies "
        "[Owner] in the Resources block of the template")
    assert invalid["error"]["code"] == "ValidationError"
    assert missing_file["failed"] is True
    assert missing_file["msg"].startswith(f"Could not read the template {tmp_path / 'absent.yml'}")
    assert neither["failed"] is True
    assert "one of the following is required" in neither["msg"]


# -- route53_delegation_info --------------------------------------------------------------------

DELEGATION = "failover.aws.route53_delegation_info"


def local_resolver(cloud: LocalCloudProcess) -> str:
    return f"127.0.0.1:{cloud.status()['dns']['port']}"


def create_zone(cloud: LocalCloudProcess, name: str, **vpc: str) -> dict[str, Any]:
    route53 = cloud.client("route53")
    args: dict[str, Any] = {"Name": name, "CallerReference": uuid.uuid4().hex}
    if vpc:
        args.update(VPC=vpc, HostedZoneConfig={"PrivateZone": True})
    return route53.create_hosted_zone(**args)


class _Answering:
    """dnslib resolver answering every question with ``answer(request, reply)``."""

    def __init__(self, answer: Callable[[DNSRecord, DNSRecord], None]) -> None:
        self.answer = answer

    def resolve(self, request: DNSRecord, handler: Any) -> DNSRecord:
        reply = request.reply()
        self.answer(request, reply)
        return reply


@pytest.fixture
def fake_dns() -> Iterator[Callable[[Callable[[DNSRecord, DNSRecord], None]], str]]:
    """Start DNS servers of the test's own (UDP on a free port); yields a factory of them."""
    servers: list[DNSServer] = []

    def start(answer: Callable[[DNSRecord, DNSRecord], None]) -> str:
        port = free_port(socket.SOCK_DGRAM)
        server = DNSServer(_Answering(answer), address="127.0.0.1", port=port)
        server.start_thread()
        servers.append(server)
        return f"127.0.0.1:{port}"

    yield start
    for server in servers:
        server.stop()
        server.server.server_close()


def test_zone_that_dns_delegates_to_is_authoritative(localcloud: LocalCloudProcess,
                                                     tmp_path: Path) -> None:
    zone_name = f"{unique('delegated')}.example"
    created = create_zone(localcloud, zone_name)
    zone_id = created["HostedZone"]["Id"].rsplit("/", 1)[-1]
    expected = sorted(ns.lower() for ns in created["DelegationSet"]["NameServers"])
    resolver = local_resolver(localcloud)

    by_name, by_id, outside = run_modules(
        localcloud, tmp_path,
        (DELEGATION, {"zone": zone_name.upper() + ".", "domain": f"api.{zone_name}",
                      "resolver": resolver, "name_server": resolver}, True),
        (DELEGATION, {"hosted_zone_id": f"/hostedzone/{zone_id}", "resolver": resolver}),
        (DELEGATION, {"zone": zone_name, "domain": "api.elsewhere.example",
                      "resolver": resolver}))

    assert not by_name.get("failed"), by_name
    assert (by_name["authoritative"], by_name["reason"], by_name["exists"]) == (True, "", True)
    assert by_name["hosted_zone_id"] == zone_id
    assert by_name["zone_name"] == zone_name
    assert by_name["name_servers"] == expected
    assert by_name["answered_name_servers"] == expected
    assert (by_name["rcode"], by_name["domain_zone"]) == ("NOERROR", zone_name)
    assert by_name["resolver"] == by_name["name_server"] == resolver
    assert (by_id["authoritative"], by_id["zone_name"]) == (True, zone_name)
    assert outside["authoritative"] is False
    assert outside["domain_in_zone"] is False
    assert outside["reason"] == f"api.elsewhere.example is not within the zone {zone_name}"


def test_the_domain_is_asked_of_the_zones_name_server_never_of_the_resolver(
        localcloud: LocalCloudProcess, tmp_path: Path, fake_dns: Any) -> None:
    """A resolver caches the NXDOMAIN of a domain that does not exist yet for the zone's negative
    TTL (RFC 2308; 900 s with Route 53's default SOA): asked before a first deploy, it would hide
    the record the deploy creates. The resolver is only asked for the zone's NS and for its name
    servers' addresses; the domain goes to a name server of the zone, non-recursively."""
    zone_name = f"{unique('cached')}.example"
    created = create_zone(localcloud, zone_name)
    name_servers = sorted(ns.lower() for ns in created["DelegationSet"]["NameServers"])
    authoritative_port = localcloud.status()["dns"]["port"]
    asked: list[tuple[str, str, int]] = []
    name_server_questions: list[tuple[str, int]] = []

    def resolver(request: DNSRecord, reply: DNSRecord) -> None:
        name, qtype = str(request.q.qname).rstrip(".").lower(), QTYPE[request.q.qtype]
        asked.append((name, qtype, request.header.rd))
        if qtype == "A" and name in name_servers:
            reply.add_answer(*RR.fromZone(f"{name}. 300 IN A 127.0.0.1"))
            return
        answer = DNSRecord.parse(request.send("127.0.0.1", authoritative_port, timeout=3))
        reply.header.rcode = answer.header.rcode
        for rr in answer.rr:
            reply.add_answer(rr)

    def name_server(request: DNSRecord, reply: DNSRecord) -> None:
        name_server_questions.append((str(request.q.qname).rstrip(".").lower(),
                                      request.header.rd))
        answer = DNSRecord.parse(request.send("127.0.0.1", authoritative_port, timeout=3))
        reply.header.rcode = answer.header.rcode
        for rr in answer.auth:
            reply.add_auth(rr)

    caching_resolver = fake_dns(resolver)
    zone_server = fake_dns(name_server)
    [result] = run_modules(localcloud, tmp_path, (DELEGATION, {
        "zone": zone_name, "domain": f"api.{zone_name}", "resolver": caching_resolver,
        "name_server": zone_server}))

    assert (result["authoritative"], result["domain_zone"]) == (True, zone_name), result
    assert [name for name, _, _ in asked] == [zone_name]
    assert name_server_questions == [(f"api.{zone_name}", 0)]

    # Without name_server, the zone's first name server is looked up through the resolver.
    asked.clear()
    [looked_up] = run_modules(localcloud, tmp_path, (DELEGATION, {
        "zone": zone_name, "domain": f"api.{zone_name}", "resolver": caching_resolver,
        "dns_timeout": 0.5}))
    assert [(name, qtype) for name, qtype, _ in asked] == [(zone_name, "NS"),
                                                            (name_servers[0], "A")]
    assert looked_up["name_server"] == "127.0.0.1:53"


def test_missing_or_private_zone_is_reported(localcloud: LocalCloudProcess,
                                             tmp_path: Path) -> None:
    private_name = f"{unique('private')}.internal"
    vpc = localcloud.client("ec2").create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    create_zone(localcloud, private_name, VPCRegion=PRIMARY, VPCId=vpc)
    missing_name = f"{unique('missing')}.example"
    resolver = local_resolver(localcloud)

    missing, private = run_modules(
        localcloud, tmp_path,
        (DELEGATION, {"zone": missing_name, "resolver": resolver}),
        (DELEGATION, {"zone": private_name, "resolver": resolver}))

    assert (missing["exists"], missing["authoritative"], missing["hosted_zones"]) == (
        False, False, [])
    assert missing["reason"] == (
        f"Route 53 has no hosted zone {missing_name}; a public hosted zone is needed")
    assert (private["exists"], private["authoritative"]) == (False, False)
    assert [z["private"] for z in private["hosted_zones"]] == [True]
    assert private["reason"] == (
        f"Route 53 has only a private hosted zone {private_name}; a public hosted zone is needed")


def test_dns_answering_other_name_servers_or_nothing_is_not_authoritative(
        localcloud: LocalCloudProcess, tmp_path: Path, fake_dns: Any) -> None:
    zone_name = f"{unique('moved')}.example"
    created = create_zone(localcloud, zone_name)
    zone_id = created["HostedZone"]["Id"].rsplit("/", 1)[-1]
    ours = sorted(ns.lower() for ns in created["DelegationSet"]["NameServers"])

    def other_name_servers(request: DNSRecord, reply: DNSRecord) -> None:
        for server in ("ns1.old-provider.example.", "ns2.old-provider.example."):
            reply.add_answer(*RR.fromZone(f"{zone_name}. 300 IN NS {server}"))

    def not_delegated(request: DNSRecord, reply: DNSRecord) -> None:
        reply.header.rcode = RCODE.NXDOMAIN

    def subzone_elsewhere(request: DNSRecord, reply: DNSRecord) -> None:
        if QTYPE[request.q.qtype] == "NS":
            for server in ours:
                reply.add_answer(*RR.fromZone(f"{zone_name}. 300 IN NS {server}."))
        else:
            reply.add_auth(*RR.fromZone(
                f"team.{zone_name}. 900 IN SOA ns1.team.example. admin.team.example. "
                "1 7200 900 1209600 86400"))

    moved_to = fake_dns(other_name_servers)
    nowhere = fake_dns(not_delegated)
    subzone = fake_dns(subzone_elsewhere)
    closed = f"127.0.0.1:{free_port(socket.SOCK_DGRAM)}"

    moved, undelegated, delegated_away, silent = run_modules(
        localcloud, tmp_path,
        (DELEGATION, {"zone": zone_name, "resolver": moved_to}),
        (DELEGATION, {"zone": zone_name, "resolver": nowhere}),
        (DELEGATION, {"zone": zone_name, "domain": f"api.team.{zone_name}",
                      "resolver": subzone, "name_server": subzone}),
        (DELEGATION, {"zone": zone_name, "resolver": closed, "dns_timeout": 0.5}))

    assert moved["authoritative"] is False
    assert moved["answered_name_servers"] == [
        "ns1.old-provider.example", "ns2.old-provider.example"]
    assert moved["reason"] == (
        f"{moved_to} answers name servers ns1.old-provider.example, ns2.old-provider.example "
        f"for {zone_name}, but the hosted zone {zone_id} has {', '.join(ours)}: the registrar "
        "or parent zone delegates to other name servers")
    assert (undelegated["authoritative"], undelegated["rcode"]) == (False, "NXDOMAIN")
    assert undelegated["reason"] == (
        f"{nowhere} answers NXDOMAIN and no name servers for {zone_name} NS: the domain is not "
        "delegated to the hosted zone")
    assert delegated_away["authoritative"] is False
    assert delegated_away["domain_zone"] == f"team.{zone_name}"
    assert delegated_away["reason"] == (
        f"{subzone} places api.team.{zone_name} in the zone team.{zone_name}, not in {zone_name}")
    assert silent["failed"] is True
    assert silent["msg"].startswith(f"The resolver {closed} did not answer for {zone_name}")
