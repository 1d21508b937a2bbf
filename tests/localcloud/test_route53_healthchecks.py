"""Route 53 health checks really probe their targets, and the Route 53 API reports it.

Targets are small HTTP servers the tests start on free ports, so the tests decide when an
endpoint fails. A time scale of 0.02 makes a 10 s RequestInterval 0.2 s.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from conftest import REPO, LocalCloudProcess, wait_for


class Target:
    """An HTTP endpoint under the test's control that remembers what it was asked."""

    def __init__(self) -> None:
        self.code = 200
        self.body = b"all good"
        self.delay = 0.0
        self.requests: list[dict[str, str]] = []
        target = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                target.requests.append({"path": self.path, **dict(self.headers)})
                time.sleep(target.delay)
                self.send_response(target.code)
                self.send_header("Content-Length", str(len(target.body)))
                self.end_headers()
                self.wfile.write(target.body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def hits(self, path: str) -> int:
        return sum(1 for r in list(self.requests) if r["path"] == path)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudProcess]:
    process = LocalCloudProcess(Path(tmp_path_factory.mktemp("r53hc")), time_scale=0.02)
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def target() -> Iterator[Target]:
    server = Target()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def route53(cloud: LocalCloudProcess) -> Any:
    return cloud.client("route53")


def create_check(route53: Any, **config: Any) -> str:
    config = {"Type": "HTTP", "IPAddress": "127.0.0.1", "RequestInterval": 10,
              "FailureThreshold": 1, **config}
    reference = f"{config['Type']}-{config.get('ResourcePath')}-{dt.datetime.now().timestamp()}"
    return route53.create_health_check(
        CallerReference=reference, HealthCheckConfig=config)["HealthCheck"]["Id"]


def reported(cloud: LocalCloudProcess, check_id: str) -> dict[str, Any] | None:
    return next((c for c in cloud.status()["health_checks"]["checks"]
                 if c["id"] == check_id), None)


def wait_status(cloud: LocalCloudProcess, check_id: str, status: str,
                probe_prefix: str | None = None) -> dict[str, Any]:
    def matches() -> dict[str, Any] | None:
        seen = reported(cloud, check_id)
        if seen is None or seen["status"] != status:
            return None
        if probe_prefix and not (seen["last_probe"] or "").startswith(probe_prefix):
            return None
        return seen

    return wait_for(matches, timeout=10, message=f"{check_id} {status} ({probe_prefix})")


def observations(route53: Any, check_id: str) -> list[dict[str, Any]]:
    return route53.get_health_check_status(HealthCheckId=check_id)["HealthCheckObservations"]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_http_check_fails_after_threshold_and_recovers(cloud, route53, target):
    check_id = create_check(route53, Port=target.port, ResourcePath="/health",
                            FailureThreshold=3)
    wait_status(cloud, check_id, "Healthy", "Success")
    statuses = {o["StatusReport"]["Status"] for o in observations(route53, check_id)}
    assert statuses == {"Success: HTTP Status Code 200, OK"}

    target.code = 503
    hits_before = target.hits("/health")
    wait_status(cloud, check_id, "Unhealthy")
    assert target.hits("/health") - hits_before >= 3
    report = observations(route53, check_id)
    assert {o["Region"] for o in report} >= {"us-east-1", "eu-west-1", "sa-east-1"}
    assert report[0]["StatusReport"]["Status"] == \
        "Failure: HTTP Status Code 503, Service Unavailable"

    target.code = 302
    wait_status(cloud, check_id, "Healthy")
    assert observations(route53, check_id)[0]["StatusReport"]["Status"].startswith(
        "Success: HTTP Status Code 302")


def test_checkers_report_a_change_only_after_the_failure_threshold(cloud, route53, target):
    """A single failed probe below the threshold leaves the checkers' report at Success."""
    check_id = create_check(route53, Port=target.port, ResourcePath="/threshold",
                            FailureThreshold=10)
    wait_status(cloud, check_id, "Healthy", "Success")
    target.code = 500
    hits_before = target.hits("/threshold")
    wait_for(lambda: target.hits("/threshold") - hits_before >= 3, message="three failed probes")
    assert (reported(cloud, check_id) or {})["status"] == "Healthy"
    assert observations(route53, check_id)[0]["StatusReport"]["Status"] == \
        "Success: HTTP Status Code 200, OK"

    wait_status(cloud, check_id, "Unhealthy")
    assert observations(route53, check_id)[0]["StatusReport"]["Status"] == \
        "Failure: HTTP Status Code 500, Internal Server Error"


def test_probe_sends_the_domain_name_and_path(cloud, route53, target):
    check_id = create_check(route53, Port=target.port, ResourcePath="/ping?deep=1",
                            FullyQualifiedDomainName="status.example.net",
                            Regions=["us-west-2", "eu-west-1", "ap-southeast-1"])
    wait_status(cloud, check_id, "Healthy", "Success")

    request = next(r for r in target.requests if r["path"] == "/ping?deep=1")
    assert request["Host"] == f"status.example.net:{target.port}"
    assert request["User-Agent"].startswith("Amazon-Route53-Health-Check-Service")
    assert sorted(o["Region"] for o in observations(route53, check_id)) == [
        "ap-southeast-1", "eu-west-1", "us-west-2"]


def test_string_match_needs_the_string_in_the_body(cloud, route53, target):
    target.body = b"status: starting"
    check_id = create_check(route53, Type="HTTP_STR_MATCH", Port=target.port,
                            ResourcePath="/ready", SearchString="status: ready")
    wait_status(cloud, check_id, "Unhealthy")
    assert "search string" in observations(route53, check_id)[0]["StatusReport"]["Status"]

    target.body = b"x" * 100 + b"status: ready"
    wait_status(cloud, check_id, "Healthy")


def test_tcp_check_needs_a_listener(cloud, route53, target):
    refused = create_check(route53, Type="TCP", Port=closed_port())
    listening = create_check(route53, Type="TCP", Port=target.port)

    assert wait_status(cloud, refused, "Unhealthy")["last_probe"].startswith(
        "Failure: Connection refused")
    assert wait_status(cloud, listening, "Healthy", "Success")


def test_a_slow_endpoint_fails_in_time_without_holding_up_other_checks(cloud, route53, target):
    target.delay = 5.0
    slow = create_check(route53, Port=target.port, ResourcePath="/slow")
    wait_for(lambda: target.hits("/slow"), message="the slow probe to start")
    quick = create_check(route53, Type="TCP", Port=closed_port(), FailureThreshold=2)

    wait_status(cloud, quick, "Unhealthy")
    assert reported(cloud, slow)["last_probe"] is None  # its first probe is still waiting
    seen = wait_status(cloud, slow, "Unhealthy")
    assert seen["last_probe"] == "Failure: The endpoint did not respond within 2 seconds."


def test_inverted_reports_the_opposite(cloud, route53, target):
    check_id = create_check(route53, Port=target.port, ResourcePath="/inv", Inverted=True)
    wait_status(cloud, check_id, "Unhealthy", "Success")

    route53.update_health_check(HealthCheckId=check_id, Inverted=False)
    wait_status(cloud, check_id, "Healthy", "Success")


def test_disabled_stays_healthy_and_sends_nothing(cloud, route53, target):
    target.code = 500
    disabled = create_check(route53, Port=target.port, ResourcePath="/disabled",
                            Disabled=True, Inverted=True)
    # A sibling check on the same endpoint shows time passing: 3 failed probes.
    witness = create_check(route53, Port=target.port, ResourcePath="/witness",
                           FailureThreshold=3)
    wait_status(cloud, witness, "Unhealthy")

    assert reported(cloud, disabled)["status"] == "Healthy"
    assert target.hits("/disabled") == 0

    route53.update_health_check(HealthCheckId=disabled, Disabled=False, Inverted=False)
    wait_status(cloud, disabled, "Unhealthy")
    assert target.hits("/disabled") >= 1


def test_status_metric_is_published(cloud, route53, target):
    check_id = create_check(route53, Port=target.port, ResourcePath="/metric")
    wait_status(cloud, check_id, "Healthy", "Success")
    target.code = 500
    wait_status(cloud, check_id, "Unhealthy")

    now = dt.datetime.now(dt.UTC)
    cloudwatch = cloud.client("cloudwatch", "us-east-1")
    points = cloudwatch.get_metric_statistics(
        Namespace="AWS/Route53", MetricName="HealthCheckStatus",
        Dimensions=[{"Name": "HealthCheckId", "Value": check_id}],
        StartTime=now - dt.timedelta(minutes=5), EndTime=now + dt.timedelta(minutes=1),
        Period=600, Statistics=["Minimum", "Maximum"])["Datapoints"]
    assert [(p["Minimum"], p["Maximum"]) for p in points] == [(0.0, 1.0)]


def test_update_checks_version_resets_elements_and_moves_the_probe(cloud, route53, target):
    check_id = create_check(route53, Port=target.port, ResourcePath="/old")
    wait_for(lambda: target.hits("/old"), message="a probe of /old")

    with pytest.raises(ClientError) as stale:
        route53.update_health_check(HealthCheckId=check_id, HealthCheckVersion=7,
                                    ResourcePath="/new")
    assert stale.value.response["Error"]["Code"] == "HealthCheckVersionMismatch"
    assert stale.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409

    updated = route53.update_health_check(HealthCheckId=check_id, HealthCheckVersion=1,
                                          ResourcePath="/new", FailureThreshold=4)["HealthCheck"]
    assert updated["HealthCheckVersion"] == 2
    assert updated["HealthCheckConfig"]["FailureThreshold"] == 4
    wait_for(lambda: target.hits("/new"), message="a probe of /new")

    reset = route53.update_health_check(HealthCheckId=check_id,
                                        ResetElements=["ResourcePath"])["HealthCheck"]
    assert "ResourcePath" not in reset["HealthCheckConfig"]
    wait_for(lambda: target.hits("/"), message="a probe of /")


def test_calculated_check_counts_healthy_children(cloud, route53, target):
    alive = create_check(route53, Port=target.port, ResourcePath="/alive")
    dead = create_check(route53, Type="TCP", Port=closed_port())
    parent = route53.create_health_check(CallerReference="calculated", HealthCheckConfig={
        "Type": "CALCULATED", "ChildHealthChecks": [alive, dead], "HealthThreshold": 2,
    })["HealthCheck"]["Id"]
    wait_status(cloud, parent, "Unhealthy")

    route53.update_health_check(HealthCheckId=parent, HealthThreshold=1)
    wait_status(cloud, parent, "Healthy")
    config = route53.get_health_check(HealthCheckId=parent)["HealthCheck"]["HealthCheckConfig"]
    assert sorted(config["ChildHealthChecks"]) == sorted([alive, dead])
    with pytest.raises(ClientError) as refused:
        route53.get_health_check_status(HealthCheckId=parent)
    assert refused.value.response["Error"]["Code"] == "InvalidInput"


def test_cloudwatch_metric_check_follows_its_alarm(cloud, route53):
    cloudwatch = cloud.client("cloudwatch", "us-west-2")
    cloudwatch.put_metric_alarm(
        AlarmName="queue-depth", Namespace="Shop", MetricName="Depth", Statistic="Maximum",
        Period=60, EvaluationPeriods=1, Threshold=10, ComparisonOperator="GreaterThanThreshold")
    check_id = route53.create_health_check(CallerReference="alarm", HealthCheckConfig={
        "Type": "CLOUDWATCH_METRIC", "InsufficientDataHealthStatus": "Unhealthy",
        "AlarmIdentifier": {"Region": "us-west-2", "Name": "queue-depth"},
    })["HealthCheck"]["Id"]

    for state, status in (("ALARM", "Unhealthy"), ("OK", "Healthy"),
                          ("INSUFFICIENT_DATA", "Unhealthy")):
        cloudwatch.set_alarm_state(AlarmName="queue-depth", StateValue=state, StateReason="t")
        wait_status(cloud, check_id, status)


def test_names_the_local_cloud_serves_are_probed_through_it(cloud, route53):
    zone_id = route53.create_hosted_zone(Name="probe.test", CallerReference="probe")[
        "HostedZone"]["Id"]
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [{
        "Action": "CREATE", "ResourceRecordSet": {
            "Name": "far.probe.test", "Type": "A", "TTL": 60,
            "ResourceRecords": [{"Value": "192.0.2.44"}]}}]})
    # HTTPS on 443: the local cloud has no TLS, its edge answers over HTTP.
    check_id = route53.create_health_check(CallerReference="far", HealthCheckConfig={
        "Type": "HTTPS", "FullyQualifiedDomainName": "far.probe.test", "Port": 443,
        "RequestInterval": 10, "FailureThreshold": 1})["HealthCheck"]["Id"]

    seen = wait_status(cloud, check_id, "Unhealthy")
    assert seen["last_probe"] == "Failure: HTTP Status Code 502, Bad Gateway"


def test_deleted_checks_are_forgotten(cloud, route53, target):
    check_id = create_check(route53, Port=target.port, ResourcePath="/gone")
    wait_status(cloud, check_id, "Healthy", "Success")

    route53.delete_health_check(HealthCheckId=check_id)
    wait_for(lambda: reported(cloud, check_id) is None, message="the check to be forgotten")
    with pytest.raises(ClientError) as missing:
        route53.delete_health_check(HealthCheckId=check_id)
    assert missing.value.response["Error"]["Code"] == "NoSuchHealthCheck"


def test_cloudformation_health_check_keeps_inverted(cloud, route53, target):
    template = f"""
Resources:
  Check:
    Type: AWS::Route53::HealthCheck
    Properties:
      HealthCheckConfig:
        Type: HTTP
        IPAddress: 127.0.0.1
        Port: {target.port}
        ResourcePath: /cfn
        RequestInterval: 10
        FailureThreshold: 1
        Inverted: true
Outputs:
  CheckId:
    Value: !Ref Check
"""
    cfn = cloud.client("cloudformation")
    cfn.create_stack(StackName="inverted-check", TemplateBody=template)
    stack = wait_for(lambda: next(
        (s for s in cfn.describe_stacks(StackName="inverted-check")["Stacks"]
         if s["StackStatus"] == "CREATE_COMPLETE"), None), message="the stack")
    check_id = stack["Outputs"][0]["OutputValue"]

    assert route53.get_health_check(HealthCheckId=check_id)["HealthCheck"][
        "HealthCheckConfig"]["Inverted"] is True
    wait_status(cloud, check_id, "Unhealthy", "Success")


@pytest.mark.parametrize(("config", "sni"), [
    ({"Type": "HTTPS"}, True),
    ({"Type": "HTTPS_STR_MATCH", "SearchString": "ok"}, True),
    ({"Type": "HTTPS", "EnableSNI": False}, False),
    ({"Type": "HTTP"}, False),
    ({"Type": "TCP"}, False),
])
def test_enable_sni_defaults_to_true_for_https_checks(cloud, route53, config, sni):
    check_id = create_check(route53, Port=closed_port(), **config)

    stored = route53.get_health_check(HealthCheckId=check_id)["HealthCheck"]
    assert stored["HealthCheckConfig"]["EnableSNI"] is sni
    route53.delete_health_check(HealthCheckId=check_id)


def test_localcloud_status_shows_each_check_with_its_status(cloud, route53, target):
    healthy = create_check(route53, Port=target.port, ResourcePath="/cli")
    failing = create_check(route53, Type="TCP", Port=closed_port())
    wait_status(cloud, healthy, "Healthy", "Success")
    wait_status(cloud, failing, "Unhealthy")

    shown = subprocess.run(
        [sys.executable, "-m", "localcloud", "status", "--port", str(cloud.port)],
        cwd=REPO, env=cloud.env, capture_output=True, text=True, timeout=30)

    assert shown.returncode == 0, shown.stderr
    checks = {c["id"]: c for c in json.loads(shown.stdout)["health_checks"]["checks"]}
    assert checks[healthy]["status"] == "Healthy"
    assert checks[healthy]["last_probe"] == "Success: HTTP Status Code 200, OK"
    assert checks[failing]["status"] == "Unhealthy"


def test_a_target_that_resets_the_connection_at_once_is_a_failed_probe(monkeypatch) -> None:
    """The peer's address is read right after connecting; a target that resets the connection
    in between made the probe raise (logged as a crash) instead of recording a failure."""
    from localcloud import healthchecks

    class ResetSocket:
        def getpeername(self) -> Any:
            raise OSError(107, "Transport endpoint is not connected")

        def close(self) -> None:
            pass

    def connect(self: Any) -> None:
        self.sock = ResetSocket()

    monkeypatch.setattr(healthchecks.http.client.HTTPConnection, "connect", connect)
    spec = healthchecks.CheckSpec(id="reset", account_id="123456789012", type="HTTP",
                                  ip_address="127.0.0.1", port=9, resource_path="/")

    result = healthchecks.probe(spec)

    assert result.ok is False
    assert result.status.startswith("Failure:") and "not connected" in result.status
