"""failover.aws.api_gateway_outage against a real local cloud: the drill's unplanned fault
and its restore, each one module run, as an operator sees them (the stage answers or not, the
custom domain's mappings, the pending-restore record)."""

from __future__ import annotations

import datetime
import json
import time
from pathlib import Path
from typing import Any

import pytest
from ansible_run import run_module
from test_drill_modules import Api, log_group, mappings, unique

STAGE_FIELDS = ("deployment_id", "description", "variables", "method_settings",
                "access_log_settings", "tracing_enabled", "tags")


@pytest.fixture
def custom_domain(localcloud) -> str:
    """A regional custom domain name with an ISSUED ACM certificate and no mappings."""
    name = f"{unique('api')}.example.test"
    arn = localcloud.client("acm").request_certificate(DomainName=name)["CertificateArn"]
    localcloud.client("apigateway").create_domain_name(
        domainName=name, regionalCertificateArn=arn,
        endpointConfiguration={"types": ["REGIONAL"]})
    return name


class Outage:
    """A deployed API with a fully configured ``prod`` stage mapped at (none) and at v2 of a
    custom domain, and a ``canary`` stage no mapping of the drill touches."""

    def __init__(self, cloud: Any, domain: str, record_path: Path) -> None:
        self.cloud, self.domain, self.record_path = cloud, domain, record_path
        self.api = Api(cloud)
        self.api.stage("prod", log_group(cloud))
        self.api.stage("canary")
        apigw = cloud.client("apigateway")
        apigw.create_base_path_mapping(domainName=domain, restApiId=self.api.id, stage="prod")
        apigw.create_base_path_mapping(domainName=domain, restApiId=self.api.id, stage="prod",
                                       basePath="v2")
        self.original = self.api.get_stage("prod")

    def run(self, state: str, check: bool = False, **args: Any) -> dict[str, Any]:
        return run_module("failover.aws.api_gateway_outage",
                          {"state": state, "rest_api_id": self.api.id, "stage_name": "prod",
                           "domain_name": self.domain, "record_path": str(self.record_path),
                           **args}, self.cloud, check=check)

    def healthy(self) -> bool:
        return (self.api.call("prod").status_code == 200
                and mappings(self.cloud, self.domain) == {"(none)": (self.api.id, "prod"),
                                                          "v2": (self.api.id, "prod")})


@pytest.fixture
def outage(localcloud, custom_domain, tmp_path) -> Outage:
    return Outage(localcloud, custom_domain, tmp_path / "reports" / "pending-restore-demo.json")


@pytest.mark.parametrize("state", ["recorded", "injected"])
def test_the_record_holds_what_the_restore_needs(outage, state) -> None:
    before = time.time()
    result = outage.run(state, record={"mode": "unplanned", "run_id": "r1"})
    assert result["changed"] is True
    record = json.loads(outage.record_path.read_text())
    assert record == result["record"]
    assert (record["mode"], record["run_id"], record["rest_api_id"]) == ("unplanned", "r1",
                                                                       outage.api.id)
    assert record["region"] == "us-east-1"
    assert record["stage"]["method_settings"]["~1pets/GET"]["cache_ttl_in_seconds"] == 60
    assert record["stage"]["variables"] == {"color": "blue", "tier": "1"}
    assert sorted(m["base_path"] for m in record["mappings"]) == ["(none)", "v2"]
    if state == "recorded":
        assert result["deleted_at"] is None
        assert outage.healthy()
        return
    sent = datetime.datetime.fromisoformat(result["deleted_at"]).timestamp()
    assert before - 1 < sent < time.time()
    assert sorted(result["deleted"]["mappings"]) == ["(none)", "v2"]
    assert outage.api.call("prod").status_code == 403
    assert mappings(outage.cloud, outage.domain) == {}
    # The canary stage is not part of the outage.
    assert outage.api.call("canary").status_code == 200

    # A second injection deletes nothing and keeps the record of the stage as it was.
    again = outage.run(state)
    assert (again["changed"], again["deleted_at"]) == (False, None)
    assert json.loads(outage.record_path.read_text()) == record


def test_check_mode_injects_and_records_nothing(outage) -> None:
    dry = outage.run("injected", check=True)
    assert (dry["changed"], dry["deleted_at"]) == (True, None)
    assert dry["deleted"]["stage"] is True
    assert not outage.record_path.exists()
    assert outage.healthy()


def stack_expectation(outage: Outage) -> dict[str, Any]:
    """What a stack's template would say of the stage: its deployment and throttling only."""
    return {"deployment_id": outage.api.deployment_id, "description": "as the stack says",
            "method_settings": {"*/*": {"throttling_rate_limit": 7}}}


@pytest.mark.parametrize("source", ["record", "expected_stage", "deployment_id"])
def test_restore_puts_the_stage_and_mappings_back(outage, source) -> None:
    outage.run("injected")
    if source != "record":
        outage.record_path.unlink()  # a stage deleted by hand: no record
    args = {"deployment_id": outage.api.deployment_id}
    if source != "deployment_id":
        args["expected_stage"] = stack_expectation(outage)

    dry = outage.run("restored", check=True, **args)
    assert dry["changed"] is True
    assert dry["restored"]["stage"] == source
    assert outage.api.call("prod").status_code == 403

    restored = outage.run("restored", **args)
    assert restored["restored"]["stage"] == source
    assert outage.api.call("prod").status_code == 200
    stage = outage.api.get_stage("prod")
    assert not outage.record_path.exists()
    if source == "record":
        # Back with every setting it had, and both mappings as recorded.
        assert stage == outage.original
        assert outage.healthy()
    else:
        # Without a record: the (none) mapping to the stage, as the stack deploys it.
        assert mappings(outage.cloud, outage.domain) == {"(none)": (outage.api.id, "prod")}
        assert stage["deploymentId"] == outage.api.deployment_id
        if source == "expected_stage":
            assert stage["description"] == "as the stack says"
            assert stage["methodSettings"]["*/*"]["throttlingRateLimit"] == 7.0

    second = outage.run("restored", **args)
    assert second["changed"] is False
    assert second["restored"] == {"stage": None, "mappings": []}


def test_restore_changes_nothing_on_a_healthy_api(outage) -> None:
    for check in (True, False):
        result = outage.run("restored", check=check, deployment_id=outage.api.deployment_id)
        assert result["changed"] is False
    assert outage.api.get_stage("prod") == outage.original
    assert outage.healthy()


def test_restore_repoints_a_mapping_moved_elsewhere(outage) -> None:
    outage.run("recorded")
    outage.cloud.client("apigateway").update_base_path_mapping(
        domainName=outage.domain, basePath="v2",
        patchOperations=[{"op": "replace", "path": "/stage", "value": "canary"}])
    result = outage.run("restored")
    assert result["restored"] == {"stage": None, "mappings": ["v2"]}
    assert outage.healthy()


def test_restore_without_a_deployment_fails_clearly(outage) -> None:
    outage.run("injected")
    outage.record_path.unlink()
    failed = outage.run("restored")
    assert failed.get("failed") is True
    assert "set deployment_id" in failed["msg"]
    assert outage.api.call("prod").status_code == 403
