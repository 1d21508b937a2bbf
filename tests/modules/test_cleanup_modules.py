"""The teardown's modules against a real local cloud.

Each test makes its own tables, buckets, stacks, APIs, health checks and records with boto3
under a name prefix of its own, then drives the modules through the ``ansible`` CLI as the
cleanup role does, and checks what a user would see: the file written, the backup listed, the
resources named.
"""

from __future__ import annotations

import base64
import io
import json
import os
import threading
import uuid
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from ansible_run import run_module
from conftest import PRIMARY, SECONDARY, LocalCloudProcess

OTHER_REGION = SECONDARY


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def make_table(cloud: LocalCloudProcess, items: list[dict[str, Any]],
               region: str = PRIMARY) -> str:
    name = unique("export-")
    ddb = cloud.client("dynamodb", region)
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    table = boto3.resource("dynamodb", region_name=region, endpoint_url=cloud.url,
                           aws_access_key_id="testing",
                           aws_secret_access_key="testing").Table(name)
    with table.batch_writer() as batch:
        for item in items:
            batch.put_item(Item=item)
    return name


# -- dynamodb_backup ------------------------------------------------------------------------


def test_backup_is_available_reused_by_name_and_check_mode_creates_none(localcloud) -> None:
    table = make_table(localcloud, [{"id": f"item-{n}"} for n in range(3)])
    ddb = localcloud.client("dynamodb")

    def backups() -> list[dict[str, Any]]:
        return ddb.list_backups(TableName=table)["BackupSummaries"]

    dry = run_module("failover.aws.dynamodb_backup",
                     {"table": table, "backup_name": f"{table}-before"}, localcloud, check=True)
    assert dry["changed"] is True
    assert backups() == []

    first = run_module("failover.aws.dynamodb_backup",
                       {"table": table, "backup_name": f"{table}-before", "reuse_existing": True},
                       localcloud)
    assert first["changed"] is True
    assert first["reused"] is False
    assert first["backup"]["backup_status"] == "AVAILABLE"
    assert first["backup"]["item_count"] == 3
    described = ddb.describe_backup(BackupArn=first["backup"]["backup_arn"])["BackupDescription"]
    assert described["BackupDetails"]["BackupStatus"] == "AVAILABLE"
    assert described["SourceTableDetails"]["TableName"] == table

    again = run_module("failover.aws.dynamodb_backup",
                       {"table": table, "backup_name": f"{table}-before", "reuse_existing": True},
                       localcloud)
    assert again["changed"] is False
    assert again["reused"] is True
    assert again["backup"]["backup_arn"] == first["backup"]["backup_arn"]
    assert len(backups()) == 1

    # Without reuse_existing every run is a new backup, as before a destructive step.
    another = run_module("failover.aws.dynamodb_backup",
                         {"table": table, "backup_name": f"{table}-before"}, localcloud)
    assert another["changed"] is True
    assert another["backup"]["backup_arn"] != first["backup"]["backup_arn"]
    assert len(backups()) == 2


def test_backup_of_a_missing_table_fails_clearly(localcloud) -> None:
    missing = unique("missing-")
    result = run_module("failover.aws.dynamodb_backup",
                        {"table": missing, "backup_name": f"{missing}-backup"}, localcloud)
    assert result["failed"] is True
    assert f"table {missing} does not exist in region {PRIMARY}" in result["msg"]


# -- dynamodb_table_export ------------------------------------------------------------------

ITEMS = [
    {"id": "a-int", "count": 7, "flag": True, "nothing": None},
    {"id": "b-decimal", "ratio": Decimal("2.5"), "tags": {"red", "blue"}},
    {"id": "c-binary", "blob": b"\x00\xffraw", "nested": {"list": [1, "two", {"three": 3}]}},
    {"id": "d-numbers", "numbers": {Decimal(3), Decimal(1)}},
    {"id": "e-text", "text": "héllo"},
]


def test_export_writes_every_item_across_pages_and_a_rerun_changes_nothing(
        localcloud, tmp_path: Path) -> None:
    table = make_table(localcloud, ITEMS)
    dest = tmp_path / "export.json"

    first = run_module("failover.aws.dynamodb_table_export",
                       {"table": table, "dest": str(dest), "page_size": 2}, localcloud)
    assert first["changed"] is True
    assert (first["item_count"], first["count_scan"]) == (5, 5)
    assert oct(os.stat(dest).st_mode & 0o777) == "0o600"
    document = json.loads(dest.read_text())
    assert (document["table"], document["region"], document["item_count"]) == (table, PRIMARY, 5)
    by_id = {item["id"]: item for item in document["items"]}
    assert by_id["a-int"] == {"id": "a-int", "count": 7, "flag": True, "nothing": None}
    assert by_id["b-decimal"] == {"id": "b-decimal", "ratio": 2.5, "tags": ["blue", "red"]}
    assert base64.b64decode(by_id["c-binary"]["blob"]) == b"\x00\xffraw"
    assert by_id["c-binary"]["nested"] == {"list": [1, "two", {"three": 3}]}
    assert by_id["d-numbers"]["numbers"] == [1, 3]
    assert by_id["e-text"]["text"] == "héllo"
    assert [item["id"] for item in document["items"]] == sorted(by_id)

    again = run_module("failover.aws.dynamodb_table_export",
                       {"table": table, "dest": str(dest)}, localcloud)
    assert again["changed"] is False
    assert again["sha256"] == first["sha256"]


def test_export_in_dynamodb_format_keeps_the_typed_values(localcloud, tmp_path: Path) -> None:
    table = make_table(localcloud, ITEMS)
    dest = tmp_path / "typed.json"

    result = run_module("failover.aws.dynamodb_table_export",
                        {"table": table, "dest": str(dest), "format": "dynamodb"}, localcloud)
    assert result["item_count"] == 5
    exported = {item["id"]["S"]: item for item in json.loads(dest.read_text())["items"]}
    scanned = {item["id"]["S"]: item
               for item in localcloud.client("dynamodb").scan(TableName=table)["Items"]}
    assert exported["b-decimal"]["ratio"] == {"N": "2.5"}
    assert sorted(exported["b-decimal"]["tags"]["SS"]) == ["blue", "red"]
    assert base64.b64decode(exported["c-binary"]["blob"]["B"]) == scanned["c-binary"]["blob"]["B"]
    assert exported["d-numbers"]["numbers"]["NS"] == scanned["d-numbers"]["numbers"]["NS"]
    assert exported["a-int"] == scanned["a-int"]


def test_export_in_check_mode_counts_and_writes_nothing(localcloud, tmp_path: Path) -> None:
    table = make_table(localcloud, ITEMS[:2])
    dest = tmp_path / "dry.json"

    dry = run_module("failover.aws.dynamodb_table_export",
                     {"table": table, "dest": str(dest)}, localcloud, check=True)
    assert dry["changed"] is True
    assert dry["item_count"] == 2
    assert not dest.exists()
    assert list(tmp_path.iterdir()) == []


class CountRace:
    """A proxy in front of the local cloud that writes one item into a table just before a
    ``Select=COUNT`` scan of it reaches the cloud: the table changes between the export's scan
    and its count, as a live table would."""

    def __init__(self, cloud: LocalCloudProcess, table: str) -> None:
        self.cloud, self.table, self.raced = cloud, table, False
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if (self.headers.get("X-Amz-Target", "").endswith(".Scan")
                        and json.loads(body).get("Select") == "COUNT" and not proxy.raced):
                    proxy.raced = True
                    proxy.cloud.client("dynamodb").put_item(
                        TableName=proxy.table, Item={"id": {"S": "written-meanwhile"}})
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                answer = requests.post(proxy.cloud.url + self.path, data=body, headers=headers,
                                       timeout=30)
                self.send_response(answer.status_code)
                for key in ("Content-Type", "x-amzn-RequestId", "x-amz-crc32"):
                    if key in answer.headers:
                        self.send_header(key, answer.headers[key])
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> CountRace:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_export_fails_and_writes_nothing_when_the_count_differs(localcloud,
                                                                tmp_path: Path) -> None:
    table = make_table(localcloud, ITEMS[:3])
    dest = tmp_path / "raced.json"

    with CountRace(localcloud, table) as race:
        result = run_module("failover.aws.dynamodb_table_export",
                            {"table": table, "dest": str(dest), "endpoint_url": race.url},
                            localcloud)
    assert race.raced
    assert result["failed"] is True
    assert "the scan returned 3 items but a Select=COUNT scan counts 4" in result["msg"]
    assert f"nothing was written to {dest}" in result["msg"]
    assert not dest.exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("case", ["missing table", "missing folder"])
def test_export_fails_clearly_without_a_table_or_a_folder(localcloud, tmp_path: Path,
                                                          case: str) -> None:
    table = unique("missing-") if case == "missing table" else make_table(localcloud, ITEMS[:1])
    dest = tmp_path / ("nowhere" if case == "missing folder" else "") / "export.json"
    result = run_module("failover.aws.dynamodb_table_export",
                        {"table": table, "dest": str(dest)}, localcloud)
    assert result["failed"] is True
    expected = {"missing table": f"table {table} does not exist in region {PRIMARY}",
                "missing folder": f"the folder of dest {dest} does not exist"}[case]
    assert expected in result["msg"]
    assert not dest.exists()


# -- s3_bucket_empty ------------------------------------------------------------------------


def test_bucket_empty_deletes_every_version_the_null_one_too(localcloud) -> None:
    s3 = localcloud.client("s3", OTHER_REGION)
    bucket = unique("empty-")
    s3.create_bucket(Bucket=bucket,
                     CreateBucketConfiguration={"LocationConstraint": OTHER_REGION})
    s3.put_object(Bucket=bucket, Key="before-versioning.txt", Body=b"null version")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for body in (b"one", b"two"):
        s3.put_object(Bucket=bucket, Key="notes.txt", Body=body)
    s3.delete_object(Bucket=bucket, Key="notes.txt")  # a delete marker

    dry = run_module("failover.aws.s3_bucket_empty", {"bucket": bucket}, localcloud,
                     check=True, region=OTHER_REGION)
    assert (dry["changed"], dry["deleted"]) == (True, 4)
    assert len(s3.list_object_versions(Bucket=bucket).get("Versions", [])) == 3

    emptied = run_module("failover.aws.s3_bucket_empty", {"bucket": bucket}, localcloud,
                         region=OTHER_REGION)
    assert (emptied["changed"], emptied["deleted"]) == (True, 4)
    listed = s3.list_object_versions(Bucket=bucket)
    assert listed.get("Versions", []) == listed.get("DeleteMarkers", []) == []
    s3.delete_bucket(Bucket=bucket)  # empty at last: S3 lets it go

    gone = run_module("failover.aws.s3_bucket_empty", {"bucket": bucket}, localcloud,
                      region=OTHER_REGION)
    assert (gone["changed"], gone["deleted"]) == (False, 0)


@pytest.mark.parametrize("check", [True, False], ids=["check-mode", "applied"])
def test_bucket_empty_deletes_the_emptied_bucket_when_asked(localcloud, check) -> None:
    s3 = localcloud.client("s3", OTHER_REGION)
    bucket = unique("delete-")
    s3.create_bucket(Bucket=bucket,
                     CreateBucketConfiguration={"LocationConstraint": OTHER_REGION})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for body in (b"one", b"two"):
        s3.put_object(Bucket=bucket, Key="notes.txt", Body=body)

    result = run_module("failover.aws.s3_bucket_empty", {"bucket": bucket, "delete_bucket": True},
                        localcloud, check=check, region=OTHER_REGION)
    assert (result["changed"], result["deleted"], result["bucket_deleted"]) == (True, 2, True)
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert (bucket in names) == check

    if not check:
        again = run_module("failover.aws.s3_bucket_empty",
                           {"bucket": bucket, "delete_bucket": True}, localcloud,
                           region=OTHER_REGION)
        assert (again["changed"], again["bucket_deleted"]) == (False, False)


# -- deployment_inventory_info --------------------------------------------------------------

STACK_TEMPLATE = {
    "Resources": {"Queue": {"Type": "AWS::SQS::Queue",
                            "Properties": {"QueueName": {"Fn::Sub": "${AWS::StackName}-q"}}}},
}


def handler_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


class Deployment:
    """A deployment of the test's own under ``prefix`` in the primary region, and decoys whose
    names only look alike (``<prefix>x-…``), which must not be listed."""

    def __init__(self, cloud: LocalCloudProcess) -> None:
        self.cloud = cloud
        self.prefix = unique("inv")
        self.zone = f"{self.prefix}.test"
        self.domain = f"api.{self.zone}"
        p, decoy = self.prefix, self.prefix + "x"
        c = cloud.client

        for name in (p, decoy):
            c("cloudformation").create_stack(StackName=f"{name}-primary",
                                             TemplateBody=json.dumps(STACK_TEMPLATE))
            c("dynamodb").create_table(
                TableName=f"{name}-events", BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
            c("sqs").create_queue(QueueName=f"{name}-dlq")
            c("events").create_event_bus(Name=f"{name}-events")
            c("logs").create_log_group(logGroupName=f"/aws/lambda/{name}-processor")
        role = c("iam").create_role(
            RoleName=f"{p}-processor", AssumeRolePolicyDocument=json.dumps({
                "Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
        c("lambda").create_function(FunctionName=f"{p}-processor", Runtime="python3.12",
                                    Handler="index.handler", Role=role,
                                    Code={"ZipFile": handler_zip()})
        self.api_id = c("apigateway").create_rest_api(name=f"{p}-api")["id"]
        c("apigateway").create_rest_api(name=f"{decoy}-api")
        c("logs").create_log_group(logGroupName=f"API-Gateway-Execution-Logs_{self.api_id}/prod")
        self.gone_api_id = "gone123456"
        c("logs").create_log_group(
            logGroupName=f"API-Gateway-Execution-Logs_{self.gone_api_id}/prod")
        c("s3").create_bucket(Bucket=f"{p}-artifacts-{PRIMARY}")
        c("s3", OTHER_REGION).create_bucket(
            Bucket=f"{p}-artifacts-{OTHER_REGION}",
            CreateBucketConfiguration={"LocationConstraint": OTHER_REGION})
        certificate = c("acm").request_certificate(DomainName=self.domain)["CertificateArn"]
        domain = c("apigateway").create_domain_name(
            domainName=self.domain, regionalCertificateArn=certificate,
            endpointConfiguration={"types": ["REGIONAL"]})

        route53 = c("route53")
        self.checks = {}
        for name in (f"{p}-primary", f"{p}-secondary", f"{decoy}-primary"):
            check = route53.create_health_check(CallerReference=str(uuid.uuid4()),
                                                HealthCheckConfig={
                                                    "Type": "HTTPS", "Port": 443,
                                                    "FullyQualifiedDomainName": "example.invalid",
                                                    "ResourcePath": "/health"})["HealthCheck"]
            route53.change_tags_for_resource(ResourceType="healthcheck",
                                             ResourceId=check["Id"],
                                             AddTags=[{"Key": "Name", "Value": name}])
            self.checks[name] = check["Id"]
        self.zone_id = route53.create_hosted_zone(
            Name=self.zone, CallerReference=str(uuid.uuid4()))["HostedZone"]["Id"]
        changes = [{"Action": "CREATE", "ResourceRecordSet": {
            "Name": self.domain, "Type": "A", "SetIdentifier": f"{p}-{role_name.lower()}",
            "Failover": role_name, "HealthCheckId": self.checks[f"{p}-{role_name.lower()}"],
            "AliasTarget": {"DNSName": domain["regionalDomainName"],
                            "HostedZoneId": domain["regionalHostedZoneId"],
                            "EvaluateTargetHealth": True}}}
            for role_name in ("PRIMARY", "SECONDARY")]
        changes.append({"Action": "CREATE", "ResourceRecordSet": {
            "Name": f"www.{self.zone}", "Type": "CNAME", "TTL": 60,
            "ResourceRecords": [{"Value": self.domain}]}})
        route53.change_resource_record_sets(HostedZoneId=self.zone_id,
                                            ChangeBatch={"Changes": changes})


@pytest.fixture(scope="module")
def deployment(localcloud) -> Iterator[Deployment]:
    yield Deployment(localcloud)


def names(resources: list[dict[str, Any]], key: str = "name") -> list[str]:
    return sorted(resource[key] for resource in resources)


def test_inventory_lists_the_deployment_by_prefix_and_domain_and_nothing_alike(
        localcloud, deployment: Deployment) -> None:
    p = deployment.prefix
    result = run_module("failover.aws.deployment_inventory_info",
                        {"name_prefix": p, "custom_domain": deployment.domain,
                         "hosted_zone_name": deployment.zone,
                         "rest_api_ids": [deployment.gone_api_id]}, localcloud)
    found = result["resources"]
    assert [(s["name"], s["status"]) for s in found["stacks"]] == [
        (f"{p}-primary", "CREATE_COMPLETE")]
    assert names(found["tables"]) == [f"{p}-events"]
    assert names(found["queues"]) == [f"{p}-dlq", f"{p}-primary-q"]
    assert names(found["functions"]) == [f"{p}-processor"]
    assert [(a["id"], a["name"]) for a in found["rest_apis"]] == [(deployment.api_id, f"{p}-api")]
    assert names(found["domain_names"], "domain_name") == [deployment.domain]
    assert names(found["event_buses"]) == [f"{p}-events"]
    assert found["buckets"] == [{"name": f"{p}-artifacts-{PRIMARY}", "region": PRIMARY}]
    assert names(found["log_groups"]) == sorted([
        f"/aws/lambda/{p}-processor", f"API-Gateway-Execution-Logs_{deployment.api_id}/prod",
        f"API-Gateway-Execution-Logs_{deployment.gone_api_id}/prod"])
    assert {(c["id"], c["name"]) for c in found["health_checks"]} == {
        (deployment.checks[f"{p}-primary"], f"{p}-primary"),
        (deployment.checks[f"{p}-secondary"], f"{p}-secondary")}
    records = {r["failover"]: r for r in found["records"]}
    assert set(records) == {"PRIMARY", "SECONDARY"}
    primary = records["PRIMARY"]
    assert (primary["name"], primary["type"], primary["set_identifier"], primary["alias"],
            primary["health_check_id"]) == (f"{deployment.domain}.", "A", f"{p}-primary", True,
                                            deployment.checks[f"{p}-primary"])
    assert primary["hosted_zone_id"] == deployment.zone_id.rsplit("/", 1)[-1]
    assert names(found["iam_roles"]) == [f"{p}-processor"]
    assert result["count"] == len(result["summary"]) == 17
    assert f"{PRIMARY} CloudFormation stack {p}-primary (CREATE_COMPLETE)" in result["summary"]
    assert f"global Route 53 record {deployment.domain}. (A {p}-secondary)" in result["summary"]


def test_inventory_of_the_other_region_without_the_global_part(localcloud,
                                                               deployment: Deployment) -> None:
    p = deployment.prefix
    result = run_module("failover.aws.deployment_inventory_info",
                        {"name_prefix": p, "custom_domain": deployment.domain,
                         "include_global": False}, localcloud, region=OTHER_REGION)
    found = result["resources"]
    assert found["buckets"] == [{"name": f"{p}-artifacts-{OTHER_REGION}",
                                 "region": OTHER_REGION}]
    assert all(found[kind] == [] for kind in found if kind != "buckets")
    assert result["summary"] == [f"{OTHER_REGION} S3 bucket {p}-artifacts-{OTHER_REGION}"]


def test_inventory_finds_the_zone_itself_and_skips_its_own_records(localcloud) -> None:
    zone = f"{unique('apex')}.test"
    route53 = localcloud.client("route53")
    zone_id = route53.create_hosted_zone(Name=zone,
                                         CallerReference=str(uuid.uuid4()))["HostedZone"]["Id"]
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [{
        "Action": "CREATE", "ResourceRecordSet": {
            "Name": zone, "Type": "A", "TTL": 300,
            "ResourceRecords": [{"Value": "192.0.2.10"}]}}]})

    result = run_module("failover.aws.deployment_inventory_info",
                        {"name_prefix": unique("nothing"), "custom_domain": zone}, localcloud)
    records = result["resources"]["records"]
    assert [(r["type"], r["values"], r["ttl"]) for r in records] == [
        ("A", ["192.0.2.10"], 300)]


def test_inventory_refuses_an_empty_prefix(localcloud) -> None:
    result = run_module("failover.aws.deployment_inventory_info", {"name_prefix": " "},
                        localcloud)
    assert result["failed"] is True
    assert "name_prefix must not be empty" in result["msg"]


# -- route53_records_delete -----------------------------------------------------------------


@pytest.mark.parametrize("region", ["us-east-1", "us-west-2"])
def test_records_delete_removes_the_named_record_sets_then_the_checks(localcloud, region) -> None:
    r53 = localcloud.client("route53")
    zone_name = f"{unique('zone-')}.example"
    zone = r53.create_hosted_zone(Name=zone_name, CallerReference=unique("ref-"))["HostedZone"]
    zone_id = zone["Id"].split("/")[-1]
    name = f"api.{zone_name}"

    def failover(role: str) -> dict:
        return {"Action": "CREATE", "ResourceRecordSet": {
            "Name": name, "Type": "A", "SetIdentifier": f"dep-{role.lower()}", "Failover": role,
            "AliasTarget": {"HostedZoneId": "Z1UJRXOUMOOFQ8", "EvaluateTargetHealth": True,
                            "DNSName": f"d-{role.lower()}.execute-api.us-east-1.amazonaws.com."}}}
    kept = {"Action": "CREATE", "ResourceRecordSet": {
        "Name": f"other.{zone_name}", "Type": "TXT", "TTL": 60,
        "ResourceRecords": [{"Value": '"kept"'}]}}
    r53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={
        "Changes": [failover("PRIMARY"), failover("SECONDARY"), kept]})
    check_id = r53.create_health_check(CallerReference=unique("hc-"), HealthCheckConfig={
        "Type": "HTTPS", "FullyQualifiedDomainName": "example.invalid", "Port": 443,
        "ResourcePath": "/health"})["HealthCheck"]["Id"]
    args = {"records": None, "health_checks": [{"id": check_id, "line": "ignored"}]}
    # As the cleanup plan passes them: the inventory's fields, the name without its final dot.
    records = [{"hosted_zone_id": zone_id, "name": name.upper(), "type": "A",
                "set_identifier": f"dep-{role}", "failover": role.upper(), "line": "ignored"}
               for role in ("primary", "secondary")]
    args["records"] = records

    def checks() -> list[str]:
        return [c["Id"] for c in r53.list_health_checks()["HealthChecks"] if c["Id"] == check_id]

    def listed() -> list[str]:
        sets = r53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
        return sorted(f"{s['Name']} {s['Type']} {s.get('SetIdentifier', '')}".strip() for s in sets
                      if s["Type"] not in ("NS", "SOA"))

    expected = [f"{name}. A dep-primary", f"{name}. A dep-secondary"]
    dry = run_module("failover.aws.route53_records_delete", args, localcloud,
                     check=True, region=region)
    assert (dry["changed"], sorted(dry["deleted"]), dry["deleted_health_checks"]) == (
        True, expected, [check_id])
    assert listed() == [*expected, f"other.{zone_name}. TXT"]
    assert checks() == [check_id]

    done = run_module("failover.aws.route53_records_delete", args, localcloud, region=region)
    assert (done["changed"], sorted(done["deleted"]), done["deleted_health_checks"]) == (
        True, expected, [check_id])
    assert listed() == [f"other.{zone_name}. TXT"]
    assert checks() == []

    again = run_module("failover.aws.route53_records_delete", args, localcloud, region=region)
    assert (again["changed"], again["deleted"], again["deleted_health_checks"]) == (False, [], [])
