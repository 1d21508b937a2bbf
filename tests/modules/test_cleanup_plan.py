"""failover.aws.cleanup_plan's decision (plugins/module_utils/cleanup.py), without AWS: what the
cleanup deletes, in which order, why each resource is the deployment's, and what it refuses.

The inventories are what failover.aws.deployment_inventory_info returns (with stack_resources)
for a deployment like the project's: a stack per region, a global table, the failover records
and health checks, artifact buckets and log groups the stacks do not own.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest
from ansible_run import run_module
from conftest import REPO

sys.path.insert(0, str(REPO / "collections"))
from ansible_collections.failover.aws.plugins.module_utils.cleanup import (
    GLOBAL_KINDS,
    REGIONAL_KINDS,
    input_problems,
    listing,
    owned,
    plan,
    report,
)

D = "evfail"
P, S = "us-east-1", "us-west-2"
DOMAIN = "api.example.com"
STAMP = "20260101T000000Z"


def resource(logical: str, kind: str, physical: str, status: str = "CREATE_COMPLETE",
             reason: str | None = None) -> dict[str, Any]:
    return {"logical_id": logical, "type": kind, "physical_id": physical, "status": status,
            "status_reason": reason}


def stack(name: str, region: str, *resources: dict[str, Any], status: str = "CREATE_COMPLETE",
          reason: str | None = None) -> dict[str, Any]:
    return {"name": name, "stack_id": f"arn:aws:cloudformation:{region}:1:stack/{name}/x",
            "status": status, "status_reason": reason, "resources": list(resources)}


def queue_url(region: str, name: str) -> str:
    return f"https://sqs.{region}.amazonaws.com/111122223333/{name}"


def record(role: str, check_id: str) -> dict[str, Any]:
    return {"hosted_zone_id": "Z1", "zone_name": "example.com.", "name": f"{DOMAIN}.", "type": "A",
            "set_identifier": f"{D}-{role.lower()}", "failover": role, "weight": None,
            "latency_region": None, "ttl": None, "values": [], "alias": True,
            "alias_dns_name": f"d-{role.lower()}.execute-api.amazonaws.com.",
            "alias_hosted_zone_id": "Z2", "alias_evaluate_target_health": True,
            "health_check_id": check_id}


def inventory(region: str, **found: list[dict[str, Any]]) -> dict[str, Any]:
    return {"region": region,
            "resources": {kind: found.get(kind, []) for kind in REGIONAL_KINDS + GLOBAL_KINDS}}


def region_inventory(region: str, role: str, api_id: str, with_stack: bool = True,
                     **extra: list[dict[str, Any]]) -> dict[str, Any]:
    """One region of the deployment as deploy.yml leaves it."""
    queue = f"{D}-{role}-queue"
    table = [resource("EventsTable", "AWS::DynamoDB::GlobalTable", f"{D}-events")]
    stacks = [stack(f"{D}-{role}", region, *(table if role == "primary" else []),
                    resource("Queue", "AWS::SQS::Queue", queue_url(region, queue)),
                    resource("Processor", "AWS::Lambda::Function", f"{D}-processor"),
                    resource("ProcessorLogs", "AWS::Logs::LogGroup", f"/aws/lambda/{D}-processor"),
                    resource("Api", "AWS::ApiGateway::RestApi", api_id),
                    resource("Domain", "AWS::ApiGateway::DomainName", DOMAIN),
                    resource("Role", "AWS::IAM::Role", f"{D}-{role}-processor"))]
    found: dict[str, list[dict[str, Any]]] = {
        "stacks": stacks if with_stack else [],
        "tables": [{"name": f"{D}-events", "status": "ACTIVE", "replica_regions": [P, S]}],
        "queues": [{"name": queue, "url": queue_url(region, queue)}],
        "functions": [{"name": f"{D}-processor"}],
        "rest_apis": [{"id": api_id, "name": f"{D}-api"}],
        "domain_names": [{"domain_name": DOMAIN}],
        "buckets": [{"name": f"{D}-artifacts-111122223333-{region}", "region": region}],
        "log_groups": [{"name": f"/aws/lambda/{D}-processor"},
                       {"name": f"API-Gateway-Execution-Logs_{api_id}/Prod"}],
    }
    if role == "primary":
        found |= {"health_checks": [{"id": "hc-p", "name": f"{D}-primary"},
                                    {"id": "hc-s", "name": f"{D}-secondary"}],
                  "records": [record("PRIMARY", "hc-p"), record("SECONDARY", "hc-s")],
                  "iam_roles": [{"name": f"{D}-primary-processor"},
                                {"name": f"{D}-secondary-processor"}]}
    for kind, more in extra.items():
        found[kind] = found.get(kind, []) + more
    return inventory(region, **found)


def deployed(**extra: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [region_inventory(P, "primary", "api111", **extra),
            region_inventory(S, "secondary", "api222")]


def make(inventories: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
    return plan(D, P, S, inventories, custom_domain=DOMAIN, backup_dir="/backups", stamp=STAMP,
                **kwargs)


def steps(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    """What the cleanup deletes itself, in order: (step, region, name or id)."""
    return [(e["step"], e["region"], e.get("name") if e["kind"] != "health_checks" else e["id"])
            for e in result["plan"] if e["step"] and not e["action"].startswith("deleted with")]


# -- what is in the plan, and in which order -------------------------------------------------

DEPLOYED_ORDER = [
    ("records", "global", f"{DOMAIN}."),
    ("records", "global", f"{DOMAIN}."),
    ("health_checks", "global", "hc-p"),
    ("health_checks", "global", "hc-s"),
    ("execution_log_groups", P, "API-Gateway-Execution-Logs_api111/Prod"),
    ("execution_log_groups", S, "API-Gateway-Execution-Logs_api222/Prod"),
    ("stacks", S, f"{D}-secondary"),
    ("stacks", P, f"{D}-primary"),
    ("buckets", P, f"{D}-artifacts-111122223333-{P}"),
    ("buckets", S, f"{D}-artifacts-111122223333-{S}"),
]


@pytest.mark.parametrize(("case", "inventories", "links", "expected"), [
    ("a deployment as deploy.yml leaves it", deployed(), None, DEPLOYED_ORDER),
    ("a log group Lambda made at run time is a leftover",
     deployed(log_groups=[{"name": f"/aws/lambda/{D}-made-at-run-time"}]), None,
     [*DEPLOYED_ORDER, ("log_groups", P, f"/aws/lambda/{D}-made-at-run-time")]),
    ("a rerun after the secondary stack went and the primary's delete failed",
     [region_inventory(P, "primary", "api111"),
      inventory(S, buckets=[{"name": f"{D}-artifacts-111122223333-{S}", "region": S}])], None,
     [step for step in DEPLOYED_ORDER
      if step[1] != S or step[0] == "buckets"]),
    ("after the stacks: what is left, with the earlier plan's links",
     [inventory(P, buckets=[{"name": f"{D}-artifacts-111122223333-{P}", "region": P}],
                log_groups=[{"name": "API-Gateway-Execution-Logs_api111/Prod"},
                            {"name": f"/aws/lambda/{D}-processor"}]),
      inventory(S)],
     {"stack_owned": [f"/aws/lambda/{D}-processor"], "rest_api_ids": ["api111"]},
     [("buckets", P, f"{D}-artifacts-111122223333-{P}"),
      ("log_groups", P, "API-Gateway-Execution-Logs_api111/Prod")]),
    ("nothing of the deployment", [inventory(P), inventory(S)], None, []),
])
def test_the_plan_deletes_in_the_reverse_order_of_a_deploy(case, inventories, links,
                                                           expected) -> None:
    result = make(inventories, links=links)
    assert steps(result) == expected, case
    assert [e["order"] for e in result["plan"]] == list(range(1, len(result["plan"]) + 1))
    assert result["refusal"] == ""
    for step, entries in result["delete"].items():
        assert [e["step"] for e in entries] == [step] * len(entries)


def test_each_stack_is_followed_by_what_it_deletes_with_it() -> None:
    result = make(deployed())
    lines = [(e["line"], e["action"]) for e in result["plan"]
             if e["step"] == "stacks"]
    secondary = lines.index((f"{S} CloudFormation stack {D}-secondary (CREATE_COMPLETE)",
                             "delete and wait for DELETE_COMPLETE"))
    primary = lines.index((f"{P} CloudFormation stack {D}-primary (CREATE_COMPLETE)",
                           "delete and wait for DELETE_COMPLETE"))
    assert secondary < primary
    with_secondary = {line for line, _ in lines[secondary + 1:primary]}
    with_primary = {line for line, _ in lines[primary + 1:]}
    assert f"{S} SQS queue {D}-secondary-queue" in with_secondary
    assert f"{S} log group /aws/lambda/{D}-processor" in with_secondary
    assert f"{S} DynamoDB table {D}-events (ACTIVE)" in with_primary  # the global table's replica
    assert f"{P} DynamoDB table {D}-events (ACTIVE)" in with_primary
    assert f"{P} REST API api111 ({D}-api)" in with_primary
    assert f"{P} API Gateway custom domain {DOMAIN}" in with_primary
    assert {action for _, action in lines[primary + 1:]} == {f"deleted with stack {D}-primary"}


@pytest.mark.parametrize("listed_url", [
    queue_url(P, f"{D}-primary-queue"),                       # as AWS lists it
    f"http://127.0.0.1:4566/111122223333/{D}-primary-queue",  # a local endpoint's URL
])
def test_a_queue_goes_with_its_stack_whatever_host_its_url_names(listed_url) -> None:
    inventories = deployed()
    inventories[0]["resources"]["queues"] = [{"name": f"{D}-primary-queue", "url": listed_url}]
    (entry,) = [e for e in make(inventories)["plan"] if e["kind"] == "queues" and e["region"] == P]
    assert entry["action"] == f"deleted with stack {D}-primary"


@pytest.mark.parametrize(("kind", "found", "step", "action"), [
    ("queues", {"name": f"{D}-dlq", "url": queue_url(P, f"{D}-dlq")}, "",
     "not deleted by the cleanup, as no stack of the deployment lists it"),
    ("iam_roles", {"name": f"{D}-made-by-hand"}, "",
     "not deleted by the cleanup, as no stack of the deployment lists it"),
    ("buckets", {"name": f"{D}-reports", "region": P}, "buckets",
     "empty (every object version) and delete"),
    ("log_groups", {"name": f"/aws/apigateway/{D}-access"}, "log_groups", "delete"),
])
def test_what_no_stack_owns(kind, found, step, action) -> None:
    result = make(deployed(**{kind: [found]}))
    (entry,) = [e for e in result["plan"] if e["kind"] == kind and e.get("name") == found["name"]]
    assert (entry["step"], entry["action"][:len(action)]) == (step, action)
    if not step:
        assert entry["order"] == len(result["plan"])  # after everything the cleanup deletes


def test_a_record_carries_what_route53_needs_to_delete_it_and_no_empty_fields() -> None:
    plain = dict(record("PRIMARY", "hc-p"), alias=False, ttl=60, values=["192.0.2.1"],
                 alias_dns_name=None, alias_hosted_zone_id=None,
                 alias_evaluate_target_health=None)
    result = make([inventory(P, records=[record("SECONDARY", "hc-s"), plain]), inventory(S)])
    alias, value = result["delete"]["records"]
    assert alias["value"] == ["d-secondary.execute-api.amazonaws.com."]
    assert "ttl" not in alias and "weight" not in alias
    assert value["value"] == ["192.0.2.1"]
    assert "alias_hosted_zone_id" not in value


# -- why each resource is the deployment's ---------------------------------------------------

@pytest.mark.parametrize(("kind", "found", "reason"), [
    ("stacks", {"name": D}, f"its name is {D}"),
    ("tables", {"name": f"{D}-events"}, f"its name starts with {D}-"),
    ("log_groups", {"name": f"/aws/lambda/{D}-processor"},
     f"its path part {D}-processor starts with {D}-"),
    ("log_groups", {"name": "API-Gateway-Execution-Logs_api111/Prod"},
     "it is the execution log group of the deployment's REST API api111"),
    ("health_checks", {"id": "hc", "name": f"{D}-secondary"},
     f"its Name tag is {D}-secondary, the deployment's secondary health check"),
    ("records", {"name": "API.example.com."}, f"it is the deployment's custom domain {DOMAIN}"),
    ("domain_names", {"domain_name": DOMAIN}, f"it is the deployment's custom domain {DOMAIN}"),
])
def test_owned_says_which_name_tag_or_link_matched(kind, found, reason) -> None:
    assert owned(D, kind, found, DOMAIN, ["api111"]) == reason


@pytest.mark.parametrize(("kind", "found"), [
    ("stacks", {"name": f"{D}x-primary"}),
    ("buckets", {"name": f"x{D}-artifacts"}),
    ("iam_roles", {"name": D.upper() + "-role"}),
    ("log_groups", {"name": f"/aws/lambda/{D}x-processor"}),
    ("log_groups", {"name": "API-Gateway-Execution-Logs_api999/Prod"}),
    ("health_checks", {"id": "hc", "name": f"{D}-primary-old"}),
    ("health_checks", {"id": "hc", "name": f"{D}x-primary"}),
    ("records", {"name": f"www.{DOMAIN}."}),
    ("domain_names", {"domain_name": f"{DOMAIN}.other"}),
])
def test_owned_rejects_look_alikes(kind, found) -> None:
    assert owned(D, kind, found, DOMAIN, ["api111"]) == ""


# -- what is refused, and why ----------------------------------------------------------------

OTHER = f"{D}-eu"  # another deployment, whose name starts with this one's


def test_a_prefix_another_deployment_shares_is_refused_with_its_stacks_named() -> None:
    other_stack = stack(f"{OTHER}-primary", P, resource("Queue", "AWS::SQS::Queue", "q"))
    other_queue = {"name": f"{OTHER}-queue", "url": queue_url(P, f"{OTHER}-queue")}
    result = make(deployed(stacks=[other_stack], queues=[other_queue],
                           buckets=[{"name": f"{OTHER}-artifacts-1-{P}", "region": P}],
                           log_groups=[{"name": f"/aws/lambda/{OTHER}-processor"}]))
    assert result["refusal"].startswith(
        f"Stacks {OTHER}-primary ({P}) are not this deployment's ({D}-secondary, {D}-primary) "
        f"but share its name prefix {D}-, so a cleanup by prefix would reach their resources too. "
        "Nothing was deleted.")
    refused = {e["line"]: e["reason"] for e in result["refused"]}
    assert refused[f"{P} CloudFormation stack {OTHER}-primary (CREATE_COMPLETE)"] == (
        f"it shares the name prefix {D}- but is not {D}-secondary ({S}) or {D}-primary ({P})")
    for line in (f"{P} SQS queue {OTHER}-queue", f"{P} S3 bucket {OTHER}-artifacts-1-{P}",
                 f"{P} log group /aws/lambda/{OTHER}-processor"):
        assert refused[line] == f"it is deployment {OTHER}'s (its stacks share the name prefix)"
    planned = " ".join(result["found"])
    assert OTHER not in planned
    assert steps(result) == DEPLOYED_ORDER


@pytest.mark.parametrize(("where", "name"), [
    (P, f"{D}-secondary"),      # the deployment's secondary stack's name in the wrong region
    (S, f"{D}-primary"),
    (P, f"{D}-tools"),          # not named <deployment>-<role>: which deployment is unknown
])
def test_any_stack_but_the_deployments_two_is_refused(where, name) -> None:
    inventories = deployed()
    index = 0 if where == P else 1
    inventories[index]["resources"]["stacks"].append(stack(name, where))
    result = make(inventories)
    assert f"Stacks {name} ({where}) are not this deployment's" in result["refusal"]
    assert [(s["name"], s["region"]) for s in result["delete"]["stacks"]] == [
        (f"{D}-secondary", S), (f"{D}-primary", P)]


def test_what_nothing_makes_the_deployments_is_refused_not_planned() -> None:
    """A caller that listed by a shorter prefix (evf) gets no look-alike into the plan."""
    decoys = inventory(P, tables=[{"name": "evfx-events"}], buckets=[{"name": "evf", "region": P}],
                       health_checks=[{"id": "hc-x", "name": f"{D}-primary-old"}])
    result = make([decoys, inventory(S)])
    assert result["plan"] == []
    assert {e["reason"] for e in result["refused"]} == {f"nothing makes it deployment {D}'s"}
    assert result["backups"] == []


@pytest.mark.parametrize(("regions", "name", "confirmation", "expected"), [
    ((P, S), D, "", []),
    ((P, S), D, D, []),
    ((P, P), D, "", [f"The primary and the secondary region are both {P}"]),
    ((P, S), "ev fail", "", ['The deployment\'s name "ev fail" is not a resource name prefix']),
    ((P, S), "", "", ['The deployment\'s name "" is not a resource name prefix']),
    ((P, S), D, "evfial", [f'The confirmation "evfial" is not the deployment\'s name {D}: '
                           "nothing was deleted"]),
])
def test_inputs_that_are_refused_before_anything_is_listed(regions, name, confirmation,
                                                           expected) -> None:
    problems = input_problems(name, *regions, confirmation)
    assert [p[:len(e)] for p, e in zip(problems, expected, strict=False)] == expected
    assert len(problems) == len(expected)


# -- backups, blocked deletes, what the operator reads ---------------------------------------

def test_each_table_is_backed_up_once_in_the_primary_region_first() -> None:
    inventories = deployed()
    inventories[1]["resources"]["tables"].append({"name": f"{D}-audit"})
    result = make(inventories)
    assert result["backups"] == [
        {"table": f"{D}-events", "region": P, "file": f"/backups/{D}-events-{STAMP}.json",
         "backup_name": f"{D}-events-cleanup-{STAMP}"},
        {"table": f"{D}-audit", "region": S, "file": f"/backups/{D}-audit-{STAMP}.json",
         "backup_name": f"{D}-audit-cleanup-{STAMP}"}]


@pytest.mark.parametrize(("blocked", "expected"), [
    (stack(f"{D}-primary", P, resource("EventsTable", "AWS::DynamoDB::GlobalTable", f"{D}-events",
                                       "DELETE_FAILED", "DeletionProtectionEnabled is set to True"),
           resource("Queue", "AWS::SQS::Queue", "q", "DELETE_COMPLETE"), status="DELETE_FAILED"),
     f"Stack {D}-primary in {P} is DELETE_FAILED; these resources block its delete: EventsTable "
     f"(AWS::DynamoDB::GlobalTable {D}-events): DeletionProtectionEnabled is set to True."),
    (stack(f"{D}-primary", P, status="DELETE_FAILED", reason="Access denied"),
     f"Stack {D}-primary in {P} is DELETE_FAILED: Access denied."),
    (stack(f"{D}-primary", P), None),
])
def test_a_stack_that_cannot_be_deleted_is_explained(blocked, expected) -> None:
    result = make([inventory(P, stacks=[blocked]), inventory(S)])
    assert result["stack_problems"].get(f"{D}-primary") == expected


@pytest.mark.parametrize(("confirmed", "check_mode", "head"), [
    (False, False, f"Deployment {D}: these 24 resources would be deleted"),
    (True, False, f"Deployment {D}: backing up 1 table(s), then deleting these 24 resources:"),
    (True, True, f"Dry run, nothing is deleted: deployment {D} would have 1 table(s) backed up"),
])
def test_the_listing_shows_the_plan_with_its_reasons(confirmed, check_mode, head) -> None:
    result = make(deployed())
    lines = listing(result, D, [P, S], confirmed, check_mode)
    assert lines[0].startswith(head)
    assert (f"Back up {D}-events ({P}) to /backups/{D}-events-{STAMP}.json" in lines) == confirmed
    assert (f"1. global Route 53 record {DOMAIN}. (A {D}-primary): delete first, so that no "
            f"client is sent to a stack being deleted (it is the deployment's custom domain "
            f"{DOMAIN})") in lines
    assert any(line.endswith(f"{S} CloudFormation stack {D}-secondary (CREATE_COMPLETE): delete "
                             f"and wait for DELETE_COMPLETE (it is the deployment's secondary "
                             f"stack, {D}-secondary in {S})") for line in lines)


def test_the_listing_names_the_deployment_that_shares_the_prefix() -> None:
    result = make(deployed(stacks=[stack(f"{OTHER}-primary", P)]))
    lines = listing(result, D, [P, S], False, False)
    assert f"Other deployments share the name prefix {D}-: {OTHER}-primary ({P})" in lines


@pytest.mark.parametrize(("inventories", "check_mode", "expected"), [
    ([inventory(P), inventory(S)], False,
     f"Nothing to do: nothing of deployment {D} is left in {P}, {S}, Route 53 or IAM."),
    (deployed(), False, f"Deployment {D} is gone from {P}, {S}, Route 53 and IAM (24 resources "
                        "deleted); the hosted zone and the certificates are kept."),
    (deployed(), True, f"Dry run, nothing deleted: deployment {D} would be gone from {P}, {S}, "
                       "Route 53 and IAM (24 resources found)."),
])
def test_the_report_that_ends_a_confirmed_run(inventories, check_mode, expected) -> None:
    assert report(make(inventories), D, [P, S], check_mode) == expected


# -- the module, as the role calls it ---------------------------------------------------------

def test_the_module_returns_the_plan_and_refuses_a_wrong_confirmation() -> None:
    args = {"deployment_name": D, "primary_region": P, "secondary_region": S,
            "custom_domain": DOMAIN, "inventories": deployed(), "backup_dir": "/backups"}
    planned = run_module("failover.aws.cleanup_plan", {**args, "confirmation": D})
    assert (planned["changed"], planned["confirmed"], planned["refusal"]) == (False, True, "")
    assert [s["name"] for s in planned["delete"]["stacks"]] == [f"{D}-secondary", f"{D}-primary"]
    assert planned["listing"][0].startswith(f"Deployment {D}: backing up 1 table(s)")
    assert planned["backups"][0]["file"].startswith(f"/backups/{D}-events-")
    assert planned["backups"][0]["file"].endswith("Z.json")

    refused = run_module("failover.aws.cleanup_plan", {**args, "confirmation": "evfial"})
    assert refused["failed"] is True
    assert f"is not the deployment's name {D}: nothing was deleted" in refused["msg"]
