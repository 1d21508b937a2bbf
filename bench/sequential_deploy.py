#!/usr/bin/env python3
"""The deployment ``playbooks/deploy.yml`` makes, done by a plain boto3 script one step at a time.

The reference for what the cloud itself needs: no preflight, no idempotence checks, no
concurrency, each step waited for before the next. ``bench/deploy_bench.py`` runs it on a fresh
local cloud of its own and compares the cold Ansible deploy with it. It can also run alone
against a local cloud started by hand::

    .venv/bin/python bench/sequential_deploy.py --endpoint http://127.0.0.1:4566

Steps, in order (each timed): the public hosted zone; per region a self-signed certificate for
the custom domain imported into ACM (what the local bootstrap does), the artifact bucket
(encrypted, private) and the Lambda zip; the primary stack, waited for; the secondary stack,
waited for; the global table active with both replicas; per region an HTTPS health check on the
execute-api host (SNI on); the two failover alias records in one change batch. The stack
parameters are the local inventory's, so the same template sees the same values.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

sys.path.insert(0, str(Path(__file__).resolve().parent))
from localcloud_bench import TEMPLATE, processor_zip, wait_for

REPO = Path(__file__).resolve().parent.parent
GROUP_VARS = REPO / "inventories" / "local" / "group_vars" / "all"


def self_signed(domain: str) -> tuple[bytes, bytes]:
    """A certificate and key for the domain, PEM, as the local bootstrap issues one."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=365))
                   .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain)]),
                                  critical=False)
                   .sign(key, hashes.SHA256()))
    return (certificate.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))


class SequentialDeploy:
    """One deployment on ``cloud`` (anything with ``client(service, region)``)."""

    def __init__(self, cloud: Any) -> None:
        self.cloud = cloud
        self.settings: dict[str, Any] = {}
        for name in ("main.yml", "deployment.yml"):
            self.settings.update(yaml.safe_load((GROUP_VARS / name).read_text()))
        self.calls = 0
        self.steps: dict[str, float] = {}

    def client(self, service: str, region: str) -> Any:
        client = self.cloud.client(service, region)
        client.meta.events.register("before-send", self._count)
        return client

    def _count(self, **_: Any) -> None:
        self.calls += 1

    def step(self, name: str, action: Any) -> Any:
        began = time.perf_counter()
        result = action()
        self.steps[name] = round(time.perf_counter() - began, 3)
        return result

    def run(self) -> dict[str, Any]:
        s = self.settings
        primary, secondary = s["primary_region"], s["secondary_region"]
        began = time.perf_counter()
        zone_id = self.step("hosted zone", self.hosted_zone)
        code = processor_zip()
        key = f"processor-{hashlib.sha256(code).hexdigest()[:16]}.zip"
        certificates, buckets = {}, {}
        for region in (primary, secondary):
            certificates[region] = self.step(f"certificate {region}",
                                             lambda r=region: self.certificate(r))
            buckets[region] = self.step(f"artifact {region}",
                                        lambda r=region: self.artifact(r, key, code))
        outputs = {}
        for region, role, peer in ((primary, "primary", secondary),
                                   (secondary, "secondary", primary)):
            outputs[role] = self.step(f"stack {role}", lambda r=region, ro=role, p=peer: self.stack(
                r, ro, p, certificates[r], buckets[r], key))
        self.step("global table replicas", lambda: self.table_ready(outputs["primary"]))
        checks = {role: self.step(f"health check {role}",
                                  lambda o=outputs[role], ro=role: self.health_check(ro, o))
                  for role in ("primary", "secondary")}
        self.step("failover records", lambda: self.records(zone_id, outputs, checks))
        return {"total_seconds": round(time.perf_counter() - began, 3), "calls": self.calls,
                "steps": self.steps}

    def hosted_zone(self) -> str:
        route53 = self.client("route53", "us-east-1")
        zone = self.settings["hosted_zone_name"]
        return route53.create_hosted_zone(Name=zone, CallerReference=f"seq-{time.time()}")[
            "HostedZone"]["Id"]

    def certificate(self, region: str) -> str:
        pem, key = self_signed(self.settings["custom_domain"])
        return self.client("acm", region).import_certificate(Certificate=pem, PrivateKey=key)[
            "CertificateArn"]

    def artifact(self, region: str, key: str, code: bytes) -> str:
        account = self.client("sts", region).get_caller_identity()["Account"]
        bucket = f"{self.settings['deployment_name']}-artifacts-{account}-{region}"
        s3 = self.client("s3", region)
        location = {} if region == "us-east-1" else {
            "CreateBucketConfiguration": {"LocationConstraint": region}}
        s3.create_bucket(Bucket=bucket, **location)
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
        s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True})
        s3.put_object(Bucket=bucket, Key=key, Body=code)
        return bucket

    def stack(self, region: str, role: str, peer: str, certificate: str, bucket: str,
              key: str) -> dict[str, str]:
        s = self.settings
        parameters = {
            "DeploymentName": s["deployment_name"], "DeploymentRole": role, "PeerRegion": peer,
            "CustomDomainName": s["custom_domain"], "CertificateArn": certificate,
            "ArtifactBucket": bucket, "ArtifactKey": key, "StageName": s["api_stage_name"],
            "ThrottlingRateLimit": str(s["api_throttling_rate_limit"]),
            "ThrottlingBurstLimit": str(s["api_throttling_burst_limit"]),
            "LogRetentionDays": str(s["log_retention_days"]),
            "MaxReceiveCount": str(s["queue_max_receive_count"]),
            "FunctionTimeout": str(s["function_timeout"]),
            "ManageApiGatewayAccount": str(bool(s["manage_apigateway_account"])).lower(),
        }
        cfn = self.client("cloudformation", region)
        name = f"{s['deployment_name']}-{role}"
        cfn.create_stack(StackName=name, TemplateBody=TEMPLATE.read_text(),
                         Capabilities=["CAPABILITY_NAMED_IAM"],
                         Parameters=[{"ParameterKey": k, "ParameterValue": v}
                                     for k, v in parameters.items()])

        def finished() -> str | None:
            status = cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
            return status if status.endswith(("_COMPLETE", "_FAILED")) else None

        status = wait_for(finished, 600, f"stack {name}", interval=0.5)
        if status != "CREATE_COMPLETE":
            raise RuntimeError(f"stack {name} ended {status}")
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        return {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}

    def table_ready(self, outputs: dict[str, str]) -> None:
        s = self.settings
        wanted = {s["primary_region"], s["secondary_region"]}
        dynamodb = self.client("dynamodb", s["primary_region"])

        def ready() -> bool:
            table = dynamodb.describe_table(TableName=outputs["TableName"])["Table"]
            active = {r["RegionName"] for r in table.get("Replicas", [])
                      if r.get("ReplicaStatus") == "ACTIVE"} | {s["primary_region"]}
            return table["TableStatus"] == "ACTIVE" and active >= wanted

        wait_for(ready, 600, "the global table's replicas", interval=0.5)

    def health_check(self, role: str, outputs: dict[str, str]) -> str:
        s = self.settings
        route53 = self.client("route53", "us-east-1")
        return route53.create_health_check(
            CallerReference=f"seq-{role}-{time.time()}",
            HealthCheckConfig={
                "Type": "HTTPS", "FullyQualifiedDomainName": outputs["ExecuteApiHost"],
                "Port": 443, "ResourcePath": outputs["HealthPath"],
                "RequestInterval": int(s["health_check_request_interval"]),
                "FailureThreshold": int(s["health_check_failure_threshold"]),
                "EnableSNI": True})["HealthCheck"]["Id"]

    def records(self, zone_id: str, outputs: dict[str, dict[str, str]],
                checks: dict[str, str]) -> None:
        s = self.settings
        changes = [{"Action": "UPSERT", "ResourceRecordSet": {
            "Name": s["custom_domain"], "Type": "A",
            "SetIdentifier": f"{s['deployment_name']}-{role}", "Failover": role.upper(),
            "HealthCheckId": checks[role],
            "AliasTarget": {"HostedZoneId": outputs[role]["RegionalHostedZoneId"],
                            "DNSName": outputs[role]["RegionalDomainName"],
                            "EvaluateTargetHealth": True}}} for role in ("primary", "secondary")]
        self.client("route53", "us-east-1").change_resource_record_sets(
            HostedZoneId=zone_id, ChangeBatch={"Changes": changes})


class _Endpoint:
    """A cloud at a given endpoint URL (for running this script alone)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def client(self, service: str, region: str) -> Any:
        import boto3

        return boto3.client(service, region_name=region, endpoint_url=self.url,
                            aws_access_key_id="testing", aws_secret_access_key="testing")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", required=True, help="the local cloud's URL")
    args = parser.parse_args(argv)
    print(json.dumps(SequentialDeploy(_Endpoint(args.endpoint)).run(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
