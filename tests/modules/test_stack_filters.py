"""failover.aws.stack_blocking_advice and failover.aws.stack_failure_reason: the collection's one
list of blocking stack states and its reading of stack events, for YAML."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from ansible_run import BIN, REPO, ansible_env

sys.path.insert(0, str(REPO / "collections"))
from ansible_collections.failover.aws.plugins.filter import (
    stack_blocking_advice,
    stack_failure_reason,
)
from ansible_collections.failover.aws.plugins.module_utils.stacks import (
    BLOCKING_STATES,
)

advice = stack_blocking_advice.FilterModule().filters()["stack_blocking_advice"]
reason = stack_failure_reason.FilterModule().filters()["stack_failure_reason"]


@pytest.mark.parametrize("status", sorted(BLOCKING_STATES))
def test_every_blocking_state_says_what_to_do(status) -> None:
    said = advice(status)
    assert said.endswith(".")
    assert len(said) > 20


@pytest.mark.parametrize(("status", "expected"), [
    ("UPDATE_ROLLBACK_FAILED", "continue-update-rollback"),
    ("CREATE_IN_PROGRESS", "Another run is creating it"),
    ("REVIEW_IN_PROGRESS", "change set"),
    ("DELETE_FAILED", "delete the stack"),
])
def test_advice_names_the_way_out(status, expected) -> None:
    assert expected in advice(status)


@pytest.mark.parametrize("status", [
    "CREATE_COMPLETE", "UPDATE_COMPLETE", "ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_COMPLETE",
    "DELETE_COMPLETE", "NONE", "", None,
])
def test_a_state_that_does_not_block_has_no_advice(status) -> None:
    assert advice(status) == ""


def event(logical, kind, status, why=""):
    return {"logical_resource_id": logical, "resource_type": kind, "resource_status": status,
            "resource_status_reason": why}


STACK = "AWS::CloudFormation::Stack"
START = event("app", STACK, "CREATE_IN_PROGRESS", "User Initiated")
EARLIER_RUN = [event("Old", "AWS::SQS::Queue", "CREATE_FAILED", "an older failure"),
               event("app", STACK, "CREATE_IN_PROGRESS", "User Initiated")]


@pytest.mark.parametrize(("events", "expected"), [
    ([], "not recorded"),
    (None, "not recorded"),
    ([event("app", STACK, "CREATE_COMPLETE"), START], "not recorded"),
    # newest first: the domain failed first, the rest was cancelled because of it
    ([event("app", STACK, "ROLLBACK_COMPLETE"),
      event("Api", "AWS::ApiGateway::RestApi", "CREATE_FAILED",
            "Resource creation cancelled"),
      event("Domain", "AWS::ApiGateway::DomainName", "CREATE_FAILED", "Invalid certificate ARN"),
      START],
     "Domain (AWS::ApiGateway::DomainName): Invalid certificate ARN"),
    # two real failures: the earliest is the cause
    ([event("Queue", "AWS::SQS::Queue", "CREATE_FAILED", "second"),
      event("Table", "AWS::DynamoDB::Table", "CREATE_FAILED", "first"), START],
     "Table (AWS::DynamoDB::Table): first"),
    # a failure of an earlier operation is not this one's cause
    ([event("app", STACK, "UPDATE_COMPLETE"), START, *EARLIER_RUN], "not recorded"),
    # botocore's own CamelCase events
    ([{"LogicalResourceId": "Fn", "ResourceType": "AWS::Lambda::Function",
       "ResourceStatus": "UPDATE_FAILED", "ResourceStatusReason": "bad zip"},
      {"LogicalResourceId": "app", "ResourceType": STACK,
       "ResourceStatus": "UPDATE_IN_PROGRESS", "ResourceStatusReason": "User Initiated"}],
     "Fn (AWS::Lambda::Function): bad zip"),
])
def test_the_cause_is_the_earliest_failure_of_the_latest_operation(events, expected) -> None:
    assert reason(events) == expected


def test_the_filters_resolve_by_their_names_in_a_play() -> None:
    expression = ("{{ ['UPDATE_ROLLBACK_FAILED' | failover.aws.stack_blocking_advice, "
                  "[] | failover.aws.stack_failure_reason] }}")
    run = subprocess.run(
        [str(BIN / "ansible"), "localhost", "-m", "ansible.builtin.debug",
         "-a", json.dumps({"msg": expression})],
        cwd=REPO, capture_output=True, text=True, timeout=120,
        env=ansible_env(ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="json"))
    result = json.loads(run.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    assert result["msg"] == [BLOCKING_STATES["UPDATE_ROLLBACK_FAILED"], "not recorded"]


@pytest.mark.parametrize(("status", "expected"), [
    ("ROLLBACK_COMPLETE", "the next run deletes the rolled-back stack"),
    ("UPDATE_ROLLBACK_COMPLETE", "back on its previous template"),
    ("UPDATE_ROLLBACK_FAILED", "continue-update-rollback"),   # blocking: the same advice
    ("CREATE_COMPLETE", ""),
])
def test_after_a_failure_the_advice_says_what_the_next_run_does(status, expected) -> None:
    said = advice(status, after_failure=True)
    assert (expected in said) if expected else said == ""


def test_before_a_run_a_rolled_back_create_does_not_block() -> None:
    assert advice("ROLLBACK_COMPLETE") == ""
