"""failover.aws.deployment_health_checks_info and module_utils/route53.py: the one way to find a
deployment's health checks (their Name tags), whatever region the play works in."""

from __future__ import annotations

import sys
import uuid

import pytest
from ansible_run import run_module
from conftest import REPO

sys.path.insert(0, str(REPO / "collections"))
from ansible_collections.failover.aws.plugins.module_utils import route53

MODULE = "failover.aws.deployment_health_checks_info"


def make_check(cloud, name: str | None, path: str = "/Prod/health", **config) -> str:
    client = cloud.client("route53")
    check_id = client.create_health_check(
        CallerReference=str(uuid.uuid4()),
        HealthCheckConfig={"Type": "HTTPS", "FullyQualifiedDomainName": "example.invalid",
                           "Port": 443, "ResourcePath": path, "RequestInterval": 10,
                           "FailureThreshold": 2, **config},
    )["HealthCheck"]["Id"]
    if name is not None:
        client.change_tags_for_resource(ResourceType="healthcheck", ResourceId=check_id,
                                        AddTags=[{"Key": "Name", "Value": name}])
    return check_id


@pytest.fixture
def deployment(localcloud) -> dict[str, str]:
    """A deployment's two checks among look-alikes that are not its own."""
    name = f"dep{uuid.uuid4().hex[:6]}"
    checks = {"primary": make_check(localcloud, f"{name}-primary", EnableSNI=True),
              "secondary": make_check(localcloud, f"{name}-secondary", Inverted=True)}
    for other in (f"{name}-primary-old", f"{name}x-primary", f"other-{name}-secondary",
                  f"{name}-PRIMARY", None):
        make_check(localcloud, other)
    return {"name": name, **checks}


@pytest.mark.parametrize("region", ["us-east-1", "us-west-2", "eu-central-1"])
def test_finds_exactly_the_deployments_checks_in_any_region(localcloud, deployment,
                                                            region) -> None:
    result = run_module(MODULE, {"deployment_name": deployment["name"]}, localcloud,
                        region=region)
    assert result["changed"] is False
    checks = result["health_checks"]
    assert sorted(checks) == ["primary", "secondary"]
    assert checks["primary"] == {
        "id": deployment["primary"], "name": f"{deployment['name']}-primary",
        "tags": {"Name": f"{deployment['name']}-primary"}, "type": "HTTPS",
        "fqdn": "example.invalid", "resource_path": "/Prod/health", "port": 443,
        "inverted": False, "disabled": False, "enable_sni": True, "request_interval": 10,
        "failure_threshold": 2,
    }
    assert checks["secondary"]["id"] == deployment["secondary"]
    assert checks["secondary"]["inverted"] is True
    assert "healthy" not in checks["primary"]


def test_a_missing_role_is_absent_and_an_unknown_deployment_finds_nothing(localcloud) -> None:
    name = f"dep{uuid.uuid4().hex[:6]}"
    only_primary = make_check(localcloud, f"{name}-primary")
    found = run_module(MODULE, {"deployment_name": name}, localcloud)["health_checks"]
    assert list(found) == ["primary"]
    assert found["primary"]["id"] == only_primary
    nothing = run_module(MODULE, {"deployment_name": f"{name}-none"}, localcloud, check=True)
    assert nothing["health_checks"] == {}


def test_include_status_says_whether_route53_considers_each_check_healthy(localcloud,
                                                                           deployment) -> None:
    result = run_module(MODULE, {"deployment_name": deployment["name"],
                                 "include_status": True}, localcloud, check=True)
    checks = result["health_checks"]
    for check in checks.values():
        assert isinstance(check["healthy"], bool)
        assert isinstance(check["observations"], list)
        for observation in check["observations"]:
            assert set(observation) == {"region", "ip_address", "status_report"}
    # The same observations, read by the rule: the inverted secondary reports the opposite.
    for role, check in checks.items():
        raw = [{"StatusReport": {"Status": o["status_report"]["status"]}}
               for o in check["observations"]]
        assert check["healthy"] is route53.reported_healthy(raw, check), role


def test_finds_checks_beyond_the_first_page_of_the_listing(localcloud) -> None:
    name = f"dep{uuid.uuid4().hex[:6]}"
    for index in range(105):  # Route 53 lists 100 checks a page
        make_check(localcloud, f"{name}-filler-{index}")
    last = make_check(localcloud, f"{name}-secondary")
    found = route53.deployment_health_checks(localcloud.client("route53"), name)
    assert found["secondary"]["id"] == last


def report(status: str) -> dict:
    return {"StatusReport": {"Status": status}}


OK, DOWN = report("Success: HTTP Status Code 200, OK"), report("Failure: Connection timed out")


@pytest.mark.parametrize(("observations", "flags", "healthy"), [
    ([], {}, True),                                   # no data yet: healthy, as Route 53 says
    ([OK] * 8, {}, True),
    ([DOWN] * 8, {}, False),
    ([OK] * 2 + [DOWN] * 8, {}, True),                # 20 % report success: more than 18 %
    ([OK] + [DOWN] * 9, {}, False),                   # 10 %: not enough
    ([OK] * 8, {"inverted": True}, False),
    ([DOWN] * 8, {"inverted": True}, True),
    ([DOWN] * 8, {"disabled": True}, True),
    ([DOWN] * 8, {"disabled": True, "inverted": True}, True),
])
def test_reported_healthy_follows_route53s_rule(observations, flags, healthy) -> None:
    assert route53.reported_healthy(observations, flags) is healthy


@pytest.mark.parametrize(("region", "signing_region"), [
    ("us-west-2", "us-east-1"), ("eu-central-1", "us-east-1"), (None, "us-east-1"),
    ("cn-north-1", "cn-northwest-1"), ("us-gov-east-1", "us-gov-west-1"),
])
def test_route53_is_reached_through_its_partitions_global_region(region, signing_region) -> None:
    assert route53.global_region(region) == signing_region
