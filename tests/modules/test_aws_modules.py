"""The project collection's AWS modules against a real local cloud."""

from __future__ import annotations

import threading
import uuid

from ansible_run import run_module


def make_health_check(cloud) -> str:
    route53 = cloud.client("route53")
    return route53.create_health_check(
        CallerReference=str(uuid.uuid4()),
        HealthCheckConfig={
            "Type": "HTTPS",
            "FullyQualifiedDomainName": "example.invalid",
            "Port": 443,
            "ResourcePath": "/health",
            "RequestInterval": 30,
            "FailureThreshold": 3,
        },
    )["HealthCheck"]["Id"]


def make_table(cloud, region: str = "eu-west-1"):
    """A new table keyed by the string `id`, and a DynamoDB client of its region."""
    table = f"items-{uuid.uuid4().hex[:8]}"
    dynamodb = cloud.client("dynamodb", region)
    dynamodb.create_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return table, dynamodb


def test_health_check_state_inverts_idempotently_and_honours_check_mode(localcloud) -> None:
    check_id = make_health_check(localcloud)
    route53 = localcloud.client("route53")

    dry = run_module("failover.aws.route53_health_check_state",
                     {"health_check_id": check_id, "inverted": True}, localcloud, check=True)
    assert dry["changed"] is True
    config = route53.get_health_check(HealthCheckId=check_id)["HealthCheck"]["HealthCheckConfig"]
    assert config["Inverted"] is False

    first = run_module("failover.aws.route53_health_check_state",
                       {"health_check_id": check_id, "inverted": True, "enable_sni": True},
                       localcloud)
    assert first["changed"] is True
    assert first["changes"]["inverted"] is True
    config = route53.get_health_check(HealthCheckId=check_id)["HealthCheck"]["HealthCheckConfig"]
    assert config["Inverted"] is True
    assert config["EnableSNI"] is True

    again = run_module("failover.aws.route53_health_check_state",
                       {"health_check_id": check_id, "inverted": True, "enable_sni": True},
                       localcloud)
    assert again["changed"] is False

    back = run_module("failover.aws.route53_health_check_state",
                      {"health_check_id": check_id, "inverted": False}, localcloud)
    assert back["changed"] is True
    config = route53.get_health_check(HealthCheckId=check_id)["HealthCheck"]["HealthCheckConfig"]
    assert config["Inverted"] is False


def test_health_check_state_names_a_missing_check(localcloud) -> None:
    result = run_module("failover.aws.route53_health_check_state",
                        {"health_check_id": str(uuid.uuid4()), "inverted": True}, localcloud)
    assert result["failed"] is True
    assert "does not exist" in result["msg"]


def test_dynamodb_item_info_finds_and_misses_items(localcloud) -> None:
    table, dynamodb = make_table(localcloud)
    dynamodb.put_item(TableName=table, Item={
        "id": {"S": "a"}, "count": {"N": "3"}, "ratio": {"N": "0.5"},
        "detail": {"M": {"flag": {"BOOL": True}}},
    })

    result = run_module("failover.aws.dynamodb_item_info",
                        {"table": table, "keys": [{"id": "a"}, {"id": "b"}]},
                        localcloud, region="eu-west-1")
    assert result["changed"] is False
    assert result["found"] == [{"id": "a"}]
    assert result["missing"] == [{"id": "b"}]
    assert result["items"] == [{"id": "a", "count": 3, "ratio": 0.5, "detail": {"flag": True}}]


def test_dynamodb_item_info_reports_a_missing_table(localcloud) -> None:
    result = run_module("failover.aws.dynamodb_item_info",
                        {"table": "no-such-table", "keys": [{"id": "a"}]}, localcloud)
    assert result["failed"] is True
    assert "no-such-table" in result["msg"]


def test_dynamodb_item_info_waits_for_an_item_that_arrives(localcloud) -> None:
    """wait_timeout: reads until the item is there (written here a moment after the module
    started), or reports it missing when the time is up."""
    table, dynamodb = make_table(localcloud)
    writer = threading.Timer(6.0, lambda: dynamodb.put_item(
        TableName=table, Item={"id": {"S": "late"}}))
    writer.start()
    try:
        arrived = run_module("failover.aws.dynamodb_item_info",
                             {"table": table, "keys": [{"id": "late"}], "wait_timeout": 120},
                             localcloud, region="eu-west-1")
    finally:
        writer.join()
    assert arrived["found"] == [{"id": "late"}]
    assert arrived["items"] == [{"id": "late"}]
    assert 0 < arrived["waited_seconds"] < 120

    never = run_module("failover.aws.dynamodb_item_info",
                       {"table": table, "keys": [{"id": "never"}], "wait_timeout": 2},
                       localcloud, region="eu-west-1")
    assert never["missing"] == [{"id": "never"}]
    assert 1.5 <= never["waited_seconds"] < 10
