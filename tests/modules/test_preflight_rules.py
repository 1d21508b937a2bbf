"""The preflight's rules (plugins/module_utils/preflight.py): each case gives the values or module
results a check sees and the exact line the operator reads."""

from __future__ import annotations

import datetime
import sys

import pytest
from ansible_run import REPO

sys.path.insert(0, str(REPO / "collections"))
from ansible_collections.failover.aws.plugins.module_utils import preflight
from ansible_collections.failover.aws.plugins.module_utils.stacks import (
    BLOCKING_STATES,
)

S = "inventories/local/group_vars/all"
MAIN = f"{S}/main.yml"
TUNING = f"{S}/deployment.yml"
PRIMARY_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"

# What inventories/local gives, evaluated.
VALID = {
    "deployment_name": "evfail", "primary_region": "us-east-1", "secondary_region": "us-west-2",
    "custom_domain": "api.example.com", "hosted_zone_name": "example.com", "target_cloud": "local",
    "edge_url": "http://127.0.0.1:4566", "api_stage_name": "Prod", "api_throttling_rate_limit": 100,
    "api_throttling_burst_limit": 200, "log_retention_days": 14, "queue_max_receive_count": 5,
    "health_check_request_interval": 30, "health_check_failure_threshold": 3,
    "function_timeout": 30, "manage_apigateway_account": True,
    "aws_endpoint_url": "http://127.0.0.1:4566", "aws_profile": "", "aws_access_key": "localcloud",
    "aws_secret_key": "localcloud", "localcloud_status_url": "http://127.0.0.1:4566/_localcloud/status",
    "aws_connection": {"region": "us-east-1", "endpoint_url": "http://127.0.0.1:4566"},
}


def check(certificate_variable: str = "localcloud_certificate_arn", **changes):
    values = {**VALID, **changes}
    values = {name: value for name, value in values.items() if value is not ABSENT}
    return preflight.check_variables(values, S, certificate_variable)


ABSENT = object()


def problems(**changes) -> list[str]:
    return check(**changes)["problems"]


# -- the deployment-wide variables --------------------------------------------------------------

def test_the_local_inventory_is_valid_and_every_check_runs() -> None:
    found = check()
    assert found["problems"] == []
    assert found["invalid"] == []
    assert found["checks"] == {"identity": True, "zone": True, "certificate": True,
                               "apigateway": True, "stack": True}
    assert found["zone_domain"] == "api.example.com"
    # Secrets never leave the plugin.
    assert "aws_secret_key" not in found["settings"]
    assert found["settings"]["log_retention_days"] == 14


@pytest.mark.parametrize("name, line", [
    ("deployment_name", f"not set; set it in {MAIN} (prefix of every stack and resource name)"),
    ("primary_region", f"not set; set it in {MAIN} (region that serves traffic while healthy "
                       "(an AWS region name such as us-east-1))"),
    ("custom_domain", f"not set; set it in {MAIN} (the API's public name (lowercase DNS name), "
                      "within hosted_zone_name)"),
    ("target_cloud", f"not set; set it in {MAIN} (local starts and bootstraps the local cloud; "
                     "aws targets a real account)"),
    ("log_retention_days", f"not set; set it in {TUNING} (retention of the function's and the "
                           "API's log groups (a value CloudWatch Logs allows))"),
    ("manage_apigateway_account", f"not set; set it in {TUNING} (whether the stacks set each "
                                  "region's API Gateway CloudWatch Logs role (an account-wide "
                                  "setting per region, which access logging needs))"),
])
@pytest.mark.parametrize("unset", [ABSENT, None], ids=["absent", "empty"])
def test_a_required_variable_not_set_says_where_and_what_it_is(name, line, unset) -> None:
    found = check(**{name: unset})
    assert found["problems"] == [f"{name}: {line}"]
    assert found["invalid"] == [name]


@pytest.mark.parametrize("name", ["aws_endpoint_url", "aws_profile", "aws_access_key",
                                  "primary_certificate_arn", "localcloud_status_url"])
def test_an_optional_variable_may_be_absent(name) -> None:
    assert problems(**{name: ABSENT}) == []


def test_a_value_that_refers_to_an_undefined_variable_is_named() -> None:
    found = check(edge_url=preflight.UNRESOLVABLE)
    assert found["problems"] == [
        f"edge_url: its value refers to an undefined variable; fix it in {MAIN}"]
    assert "edge_url" not in found["settings"]


@pytest.mark.parametrize("name, value, line", [
    ("queue_max_receive_count", "two", f'"two" is not an integer; set it in {TUNING}'),
    ("api_throttling_rate_limit", 12.5, f"12.5 is not an integer; set it in {TUNING}"),
    ("api_throttling_rate_limit", 12.0, f"12.0 is not an integer; set it in {TUNING}"),
    # A boolean would reach CloudFormation as "True".
    ("log_retention_days", True,
     "true is not an integer (allowed: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, "
     f"731, 1096, 1827, 2192, 2557, 2922, 3288, 3653); set it in {TUNING}"),
    ("health_check_request_interval", "fast",
     f'"fast" is not an integer (allowed: 10, 30); set it in {TUNING}'),
    ("health_check_failure_threshold", "eleven",
     f'"eleven" is not an integer (allowed: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10); set it in {TUNING}'),
    ("api_stage_name", False, f"false is not a string; set it in {TUNING}"),
    ("deployment_name", ["evfail"], f'["evfail"] is not a string; set it in {MAIN}'),
    ("manage_apigateway_account", "maybe", f'"maybe" is not true or false; set it in {TUNING}'),
    ("manage_apigateway_account", 1, f"1 is not true or false; set it in {TUNING}"),
    ("aws_connection", "us-east-1", f'"us-east-1" is not a mapping; set it in {MAIN}'),
    # A secret's value is never shown.
    ("aws_secret_key", ["k"], f"(hidden) is not a string; set it in {MAIN}"),
])
def test_a_value_of_the_wrong_type(name, value, line) -> None:
    found = check(**{name: value})
    assert found["problems"] == [f"{name}: {line}"]
    assert found["invalid"] == [name]


@pytest.mark.parametrize("name, value, line", [
    ("target_cloud", "azure", f'"azure" is not one of local, aws; set it in {MAIN}'),
    ("log_retention_days", "15",
     '"15" is not one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, '
     f"1827, 2192, 2557, 2922, 3288, 3653; set it in {TUNING}"),
    ("function_timeout", 45,
     f"45 is not one of 10, 15, 20, 30, 60, 120, 300, 600, 900; set it in {TUNING}"),
    ("health_check_request_interval", 20, f"20 is not one of 10, 30; set it in {TUNING}"),
])
def test_a_value_not_allowed(name, value, line) -> None:
    assert problems(**{name: value}) == [f"{name}: {line}"]


@pytest.mark.parametrize("name, value, converted", [
    # What -e name=value gives: strings.
    ("log_retention_days", "30", 30),
    ("api_throttling_burst_limit", " 200 ", 200),
    ("manage_apigateway_account", "false", False),
    ("manage_apigateway_account", "Yes", True),
    ("api_stage_name", 7, "7"),
])
def test_a_string_of_the_right_type_is_taken(name, value, converted) -> None:
    found = check(**{name: value})
    assert found["problems"] == []
    assert found["settings"][name] == converted


@pytest.mark.parametrize("value", ["Evfail", "ab", "a" * 33, "1abc", "abc-", "ab_c"])
def test_deployment_name_pattern(value) -> None:
    assert problems(deployment_name=value) == [
        f'deployment_name: "{value}" must be 3-32 lowercase letters, digits or hyphens, starting '
        "with a letter and ending with a letter or digit (it prefixes every resource name); set "
        f"it in {MAIN}"]


@pytest.mark.parametrize("value", ["abc", "a" * 32, "ev-fail-2"])
def test_deployment_name_accepted(value) -> None:
    assert problems(deployment_name=value) == []


@pytest.mark.parametrize("value, ok", [
    ("eu-central-1", True), ("us-gov-west-1", True), ("us-isob-east-1", True),
    ("useast1", False), ("US-EAST-1", False), ("us-east", False),
])
def test_region_names(value, ok) -> None:
    expected = [] if ok else [
        f'primary_region: "{value}" is not an AWS region name such as us-east-1; set it in {MAIN}']
    assert problems(primary_region=value) == expected


def test_equal_regions_are_a_relation_not_an_invalid_region() -> None:
    found = check(secondary_region="us-east-1")
    assert found["problems"] == [
        f"secondary_region: equal to primary_region (us-east-1); set two different regions in "
        f"{MAIN}"]
    assert found["invalid"] == []
    assert all(found["checks"].values())


@pytest.mark.parametrize("name, value", [
    ("custom_domain", "API.example.com"), ("custom_domain", "api_x.example.com"),
    ("hosted_zone_name", "example"), ("hosted_zone_name", "-bad.example.com"),
])
def test_dns_names(name, value) -> None:
    found = check(**{name: value})
    assert found["problems"] == [
        f'{name}: "{value}" is not a lowercase DNS name such as api.example.com; set it in {MAIN}']
    assert found["zone_domain"] == ""


@pytest.mark.parametrize("domain, zone", [
    ("api.example.com", "example.com."), ("example.com", "example.com"),
    ("a.b.example.com.", "example.com"),
])
def test_a_domain_in_the_zone(domain, zone) -> None:
    found = check(custom_domain=domain, hosted_zone_name=zone)
    assert found["problems"] == []
    assert found["zone_domain"] == domain.rstrip(".")


def test_a_domain_outside_the_zone_is_named_and_the_checks_still_run() -> None:
    found = check(custom_domain="api.elsewhere.example")
    assert found["problems"] == [
        "custom_domain: api.elsewhere.example is not within hosted_zone_name example.com; set a "
        f"name in that zone (or the zone that holds the name) in {MAIN}"]
    assert found["checks"]["zone"] and found["checks"]["certificate"]
    # DNS is asked about the zone only.
    assert found["zone_domain"] == ""


def test_a_domain_that_only_ends_like_the_zone_is_outside_it() -> None:
    assert problems(custom_domain="api.notexample.com")[0].startswith(
        "custom_domain: api.notexample.com is not within hosted_zone_name example.com;")


@pytest.mark.parametrize("name, value, line", [
    ("edge_url", "example.com", f'"example.com" must start with http:// or https:// and a host; '
                                f"set it in {MAIN}"),
    ("api_stage_name", "prod stage", f'"prod stage" must be 1-64 letters, digits, _ or -; set it '
                                     f"in {TUNING}"),
    ("api_throttling_rate_limit", 0, f"0 is out of range; set it between 1 and 10000 in {TUNING}"),
    ("api_throttling_rate_limit", 10001, f"10001 is out of range; set it between 1 and 10000 in "
                                         f"{TUNING}"),
    ("api_throttling_burst_limit", "9000", f"9000 is out of range; set it between 1 and 5000 in "
                                           f"{TUNING}"),
    ("queue_max_receive_count", 1001, f"1001 is out of range; set it between 1 and 1000 in "
                                      f"{TUNING}"),
    ("localcloud_status_url", "localhost:4566",
     f'"localhost:4566" must be empty or start with http:// or https:// and a host; set it in '
     f"{MAIN}"),
])
def test_patterns_and_ranges(name, value, line) -> None:
    found = check(**{name: value})
    assert found["problems"] == [f"{name}: {line}"]
    assert found["invalid"] == [name]


@pytest.mark.parametrize("name, value", [
    ("api_throttling_rate_limit", 1), ("api_throttling_rate_limit", 10000),
    ("api_throttling_burst_limit", 5000), ("queue_max_receive_count", 1),
    ("edge_url", "https://api.example.com"), ("localcloud_status_url", ""),
])
def test_bounds_are_allowed(name, value) -> None:
    assert problems(**{name: value}) == []


# -- certificate ARNs ---------------------------------------------------------------------------

def test_the_certificate_variable_a_host_names_must_be_set() -> None:
    found = check(certificate_variable="primary_certificate_arn")
    assert found["problems"] == [
        "primary_certificate_arn: not set; set the ARN of an ISSUED ACM certificate for "
        f"api.example.com in us-east-1 in {MAIN}"]
    assert found["checks"]["certificate"] is False


def test_a_certificate_variable_no_host_names_is_optional() -> None:
    assert problems(certificate_variable="secondary_certificate_arn",
                    secondary_certificate_arn=PRIMARY_ARN.replace("us-east-1", "us-west-2")) == []


@pytest.mark.parametrize("value, line", [
    ("arn:aws:acm:us-east-1:1234:certificate/x",
     '"arn:aws:acm:us-east-1:1234:certificate/x" is not an ACM certificate ARN; set the ARN of an '
     f"ISSUED certificate for api.example.com in us-east-1 in {MAIN}"),
    (PRIMARY_ARN.replace("us-east-1", "eu-west-1"),
     "the certificate is in eu-west-1, not primary_region us-east-1; set the ARN of a certificate "
     f"in us-east-1 in {MAIN}"),
])
def test_a_certificate_arn_must_be_one_in_its_region(value, line) -> None:
    found = check(certificate_variable="primary_certificate_arn", primary_certificate_arn=value)
    assert found["problems"] == [f"primary_certificate_arn: {line}"]
    assert found["checks"]["certificate"] is False


def test_a_certificate_arn_of_another_partition_is_an_arn() -> None:
    arn = PRIMARY_ARN.replace("arn:aws:", "arn:aws-us-gov:").replace("us-east-1", "us-gov-west-1")
    assert problems(primary_region="us-gov-west-1", primary_certificate_arn=arn) == []


# -- what invalidates which check ---------------------------------------------------------------

@pytest.mark.parametrize("name, value, skipped", [
    ("primary_region", "nowhere", {"identity"}),
    ("aws_profile", ["p"], {"identity"}),
    ("aws_connection", preflight.UNRESOLVABLE, {"identity"}),
    ("hosted_zone_name", "example", {"zone"}),
    ("custom_domain", "API", {"certificate"}),
    ("manage_apigateway_account", "maybe", {"apigateway"}),
    ("deployment_name", "X", {"apigateway", "stack"}),
    ("log_retention_days", 15, set()),
])
def test_a_check_skips_when_a_variable_it_reads_is_invalid(name, value, skipped) -> None:
    checks = check(**{name: value})["checks"]
    assert {check for check, runs in checks.items() if not runs} == skipped


def test_a_derived_variable_is_reported_only_when_every_setting_is_valid() -> None:
    """A broken aws_connection usually follows from a broken setting (its region)."""
    alone = check(aws_connection=preflight.UNRESOLVABLE)
    assert alone["problems"] == [
        f"aws_connection: its value refers to an undefined variable; fix it in {MAIN}"]

    with_cause = check(aws_connection=preflight.UNRESOLVABLE, primary_region=ABSENT)
    assert [line.split(":")[0] for line in with_cause["problems"]] == ["primary_region"]
    assert with_cause["checks"]["identity"] is False


def test_every_problem_is_listed_at_once_in_the_order_of_the_checks() -> None:
    assert [line.split(":")[0] for line in problems(
        deployment_name=ABSENT, log_retention_days="15", api_throttling_burst_limit=9000,
        health_check_failure_threshold="eleven", secondary_region="us-east-1")] == [
        "deployment_name", "log_retention_days", "health_check_failure_threshold",
        "secondary_region", "api_throttling_burst_limit"]


@pytest.mark.parametrize("path, project, shown", [
    ("/work/p/inventories/local/group_vars/all", "/work/p", "inventories/local/group_vars/all"),
    ("/tmp/inventory/group_vars/all", "/work/p", "/tmp/inventory/group_vars/all"),
    ("/work/p/inventories/local/group_vars/all", "", "/work/p/inventories/local/group_vars/all"),
])
def test_paths_are_shown_relative_to_the_project_when_in_it(path, project, shown) -> None:
    assert preflight.shown_path(path, project) == shown


# -- identity -----------------------------------------------------------------------------------

SKIPPED = {"skipped": True, "changed": False}
LOCAL = {"status": 200, "url": "http://127.0.0.1:4566/_localcloud/status"}


@pytest.mark.parametrize("localcloud, identity, expected", [
    (LOCAL, {"account": "123456789012", "arn": "arn:aws:iam::123456789012:root"}, []),
    (SKIPPED, {"account": "123456789012"}, []),
    ({"status": -1, "url": "http://127.0.0.1:4566/_localcloud/status", "msg": "refused"}, SKIPPED,
     ["local cloud: nothing answers on http://127.0.0.1:4566; start it and create the hosted zone "
      "and certificates with `ansible-playbook playbooks/deploy.yml --tags bootstrap` (same "
      "LOCALCLOUD_PORT)"]),
    (SKIPPED, {"msg": "Couldn't connect to AWS: The config profile (ops) could not be found"},
     ["AWS credentials: Couldn't connect to AWS: The config profile (ops) could not be found; "
      f"export AWS_PROFILE (or set aws_profile in {S}/main.yml) or AWS_ACCESS_KEY_ID and "
      "AWS_SECRET_ACCESS_KEY"]),
    (SKIPPED, {"msg": "An error occurred (InvalidClientTokenId) when calling GetCallerIdentity"},
     ["AWS credentials: An error occurred (InvalidClientTokenId) when calling GetCallerIdentity; "
      f"export AWS_PROFILE (or set aws_profile in {S}/main.yml) or AWS_ACCESS_KEY_ID and "
      "AWS_SECRET_ACCESS_KEY"]),
    (SKIPPED, {"msg": "Could not connect to the endpoint URL"},
     ["secondary_region: AWS does not answer in ap-east-1 (Could not connect to the endpoint "
      "URL); check that the region exists and is enabled for the account, or set another in "
      f"{S}/main.yml"]),
    (SKIPPED, SKIPPED, []),
])
def test_identity(localcloud, identity, expected) -> None:
    found = preflight.identity_problems(localcloud, identity, "ap-east-1", "secondary", S)
    assert found == expected


# -- hosted zone --------------------------------------------------------------------------------

FIX_NS = "; set the domain's NS records (at the registrar or in the parent zone) to "


@pytest.mark.parametrize("found, expected", [
    ({"exists": True, "authoritative": True}, []),
    (SKIPPED, []),
    ({"msg": "timed out"}, ["hosted_zone_name: could not check example.com: timed out; make sure "
                            "Route 53 and the resolver answer (preflight_dns_resolver sets another "
                            "resolver)"]),
    ({"exists": False, "hosted_zones": [{"id": "Z1", "private": True}]},
     ["hosted_zone_name: example.com is only a private hosted zone; create a public hosted zone "
      "example.com and delegate the domain to its name servers, or set a public zone in "
      f"{MAIN}"]),
    ({"exists": False, "hosted_zones": []},
     ["hosted_zone_name: Route 53 has no hosted zone example.com; create the public hosted zone "
      f"and delegate the domain to its name servers, or set an existing zone in {MAIN}"]),
    ({"exists": True, "authoritative": False, "domain_zone": "api.example.com",
      "reason": "api.example.com is delegated to other name servers"},
     ["hosted_zone_name: api.example.com is delegated to other name servers; set "
      "hosted_zone_name to api.example.com (if it is a Route 53 zone of yours) or remove that "
      "delegation"]),
    ({"exists": True, "authoritative": False, "domain_zone": "example.com",
      "reason": "8.8.8.8 answers NXDOMAIN for example.com NS",
      "name_servers": ["ns-1.awsdns-01.org", "ns-2.awsdns-02.com"]},
     ["hosted_zone_name: 8.8.8.8 answers NXDOMAIN for example.com NS" + FIX_NS
      + "ns-1.awsdns-01.org, ns-2.awsdns-02.com"]),
])
def test_zone(found, expected) -> None:
    assert preflight.zone_problems(found, "Example.com.", S) == expected


# -- certificates -------------------------------------------------------------------------------

NOW = datetime.datetime(2026, 12, 3, 12, 0, tzinfo=datetime.UTC)
IN_A_YEAR = "2027-12-03T12:00:00+00:00"
IN_FIVE_DAYS = "2026-12-08T13:00:00+00:00"
DOMAIN_FIX = "api.example.com (or *.example.com)"


def certificate(arn=PRIMARY_ARN, domain="api.example.com", status="ISSUED", not_after=IN_A_YEAR,
                names=()):
    found = {"certificate_arn": arn, "domain_name": domain, "status": status,
             "subject_alternative_names": [domain, *names]}
    if not_after:
        found["not_after"] = not_after
    return found


def judge_certificate(certificates, arn="", variable="primary_certificate_arn", min_days=30):
    found = {"certificates": certificates} if certificates is not None else {"msg": "AccessDenied"}
    return preflight.certificate_problems(found, arn, variable, "api.example.com", "us-east-1",
                                          min_days, S, NOW)


@pytest.mark.parametrize("certificates, expected", [
    ([certificate()], []),
    ([certificate(domain="*.example.com")], []),
    ([certificate(domain="example.com", names=["*.example.com"])], []),
    ([certificate(status="PENDING_VALIDATION", not_after=None)],
     [f"primary_certificate_arn: {PRIMARY_ARN} is PENDING_VALIDATION, not ISSUED; complete its DNS "
      "validation (the CNAME records ACM lists for it)"]),
    ([certificate(status="EXPIRED")],
     [f"primary_certificate_arn: {PRIMARY_ARN} is EXPIRED, not ISSUED; request or import a new "
      f"certificate for {DOMAIN_FIX} and set its ARN in {MAIN}"]),
    ([certificate(domain="*.api.example.com")],
     [f"primary_certificate_arn: {PRIMARY_ARN} covers *.api.example.com, not api.example.com; "
      f"set the ARN of a certificate for {DOMAIN_FIX} in us-east-1 in {MAIN}"]),
    ([certificate(not_after=IN_FIVE_DAYS)],
     [f"primary_certificate_arn: {PRIMARY_ARN} expires on 2026-12-08 (in 5 days, fewer than "
      f"preflight_certificate_min_days 30); renew or replace it and set the new ARN in {MAIN}"]),
    ([certificate(arn=PRIMARY_ARN[:-1] + "6")],
     [f"primary_certificate_arn: {PRIMARY_ARN} does not exist in us-east-1; set the ARN of an "
      f"ISSUED ACM certificate for {DOMAIN_FIX} in us-east-1 in {MAIN}"]),
    (None, ["ACM in us-east-1: could not list the certificates: AccessDenied; check the "
            "acm:ListCertificates and acm:DescribeCertificate permissions"]),
])
def test_the_given_certificate(certificates, expected) -> None:
    assert judge_certificate(certificates, arn=PRIMARY_ARN) == expected


def test_a_certificate_the_operator_does_not_set_names_no_file() -> None:
    """The local cloud's bootstrap imported it: renewing is not a setting."""
    assert judge_certificate([certificate(not_after=IN_FIVE_DAYS)], arn=PRIMARY_ARN,
                             variable="localcloud_certificate_arn") == [
        f"localcloud_certificate_arn: {PRIMARY_ARN} expires on 2026-12-08 (in 5 days, fewer than "
        "preflight_certificate_min_days 30); renew or replace it"]


OTHER_ARN = PRIMARY_ARN[:-1] + "9"


@pytest.mark.parametrize("certificates, expected", [
    ([certificate(arn=OTHER_ARN, domain="other.example.net"), certificate()], []),
    ([], [f"ACM certificate in us-east-1: none covers api.example.com (found: none); request or "
          f"import an ISSUED certificate for {DOMAIN_FIX} in us-east-1"]),
    ([certificate(domain="other.example.net"), certificate(domain="www.example.com",
                                                           status="FAILED")],
     ["ACM certificate in us-east-1: none covers api.example.com (found: other.example.net "
      "ISSUED, www.example.com FAILED); request or import an ISSUED certificate for "
      f"{DOMAIN_FIX} in us-east-1"]),
    ([certificate(status="PENDING_VALIDATION", not_after=None)],
     [f"ACM certificate in us-east-1: {PRIMARY_ARN} for api.example.com is PENDING_VALIDATION, "
      "not ISSUED; complete its DNS validation (the CNAME records ACM lists for it)"]),
    ([certificate(status="REVOKED")],
     [f"ACM certificate in us-east-1: {PRIMARY_ARN} for api.example.com is REVOKED, not ISSUED; "
      f"request or import a new certificate for {DOMAIN_FIX}"]),
    # The one valid the longest counts.
    ([certificate(not_after=IN_FIVE_DAYS), certificate(arn=OTHER_ARN)], []),
    ([certificate(not_after=IN_FIVE_DAYS)],
     [f"ACM certificate in us-east-1: {PRIMARY_ARN} for api.example.com expires on 2026-12-08 "
      "(in 5 days, fewer than preflight_certificate_min_days 30); renew or replace it"]),
    (None, ["ACM in us-east-1: could not list the certificates: AccessDenied; check the "
            "acm:ListCertificates and acm:DescribeCertificate permissions"]),
])
def test_any_certificate_for_the_domain(certificates, expected) -> None:
    assert judge_certificate(certificates) == expected


def test_the_margin_is_a_setting() -> None:
    assert judge_certificate([certificate()], min_days=400)[0].endswith(
        "(in 365 days, fewer than preflight_certificate_min_days 400); renew or replace it")


# -- API Gateway's logging role -----------------------------------------------------------------

OWN_ROLE = "arn:aws:iam::123456789012:role/evfail-us-east-1-apigw-logs"
OTHER_ROLE = "arn:aws:iam::123456789012:role/apigateway-logs"


@pytest.mark.parametrize("found, manage, problems_, notes", [
    ({"cloudwatch_role_arn": OTHER_ROLE}, False, 0, 0),
    ({"cloudwatch_role_arn": ""}, True, 0, 0),
    ({"cloudwatch_role_arn": OWN_ROLE}, True, 0, 0),
    ({"cloudwatch_role_arn": OTHER_ROLE}, True, 0, 1),
    ({"cloudwatch_role_arn": ""}, False, 1, 0),
    ({"msg": "AccessDenied"}, True, 1, 0),
    (SKIPPED, False, 0, 0),
])
def test_api_gateway_logging_role(found, manage, problems_, notes) -> None:
    found_problems, found_notes = preflight.apigateway_findings(
        found, "us-east-1", manage, "evfail", "aws", S)
    assert (len(found_problems), len(found_notes)) == (problems_, notes)


def test_api_gateway_messages() -> None:
    assert preflight.apigateway_findings({"cloudwatch_role_arn": ""}, "us-east-1", False,
                                         "evfail", "aws", S)[0] == [
        "API Gateway in us-east-1 has no CloudWatch Logs role in its account settings, so it "
        "would refuse the stage's access logging and the stack would roll back; set "
        f"manage_apigateway_account: true in {S}/deployment.yml (the stack then sets it), or set "
        "a role once for the account and region (aws apigateway update-account --region "
        "us-east-1 --patch-operations op=replace,path=/cloudwatchRoleArn,value=<ARN of a role "
        "API Gateway can assume, with AmazonAPIGatewayPushToCloudWatchLogs>)"]
    assert preflight.apigateway_findings({"msg": "denied"}, "cn-north-1", True, "evfail",
                                         "aws-cn", S)[0] == [
        "API Gateway in cn-north-1: its account settings could not be read (denied); allow "
        "apigateway:GET on arn:aws-cn:apigateway:cn-north-1::/account"]
    assert preflight.apigateway_findings({"cloudwatch_role_arn": OTHER_ROLE}, "us-east-1", True,
                                         "evfail", "aws", S)[1] == [
        f"API Gateway in us-east-1 already writes logs with role {OTHER_ROLE}; with "
        "manage_apigateway_account true the stack replaces it with its own, which other APIs of "
        "the account and region then use too (and lose when the stack is deleted)"]


# -- the template -------------------------------------------------------------------------------

LINT_ARGS = ("/p/files/regional.yml", "files/regional.yml")


@pytest.mark.parametrize("lint, expected", [
    ({"rc": 0, "stdout_lines": []}, []),
    # Informational findings only.
    ({"rc": 8, "stdout_lines": ["files/regional.yml:3:1:3:5:I3011:note"]}, []),
    (SKIPPED, []),
    ({"rc": 2, "stdout_lines": ["files/regional.yml:12:7:12:20:E3002:Additional properties",
                                "files/regional.yml:40:3:40:9:W2001:Unused parameter"]},
     ["template files/regional.yml: cfn-lint finds 2 problem(s), the first: line 12, column 7: "
      "E3002:Additional properties; fix them (`cfn-lint files/regional.yml` lists them all)"]),
    ({"rc": 32, "stdout_lines": [], "stderr_lines": ["Template needs a Resources section"]},
     ["template files/regional.yml: cfn-lint finds 0 problem(s), the first: Template needs a "
      "Resources section; fix them (`cfn-lint files/regional.yml` lists them all)"]),
    ({"finished": 0, "msg": "timed out"},
     ["template files/regional.yml: cfn-lint finds 0 problem(s), the first: timed out; fix them "
      "(`cfn-lint files/regional.yml` lists them all)"]),
])
def test_lint(lint, expected) -> None:
    assert preflight.lint_problems(lint, *LINT_ARGS, True, "/v/cfn-lint", True) == expected


def test_lint_needs_the_template_and_cfn_lint() -> None:
    assert preflight.lint_problems({}, *LINT_ARGS, False, "/v/cfn-lint", True) == [
        "template: /p/files/regional.yml does not exist; set preflight_template to the regional "
        "template"]
    assert preflight.lint_problems({}, *LINT_ARGS, True, "/v/cfn-lint", False) == [
        "template: cfn-lint not found at /v/cfn-lint; run `make setup` (it installs cfn-lint in "
        ".venv) or set preflight_cfn_lint_command"]


@pytest.mark.parametrize("validation, expected", [
    ({"parameters": []}, []),
    (SKIPPED, []),
    ({"error": {"code": "ValidationError", "message": "Unresolved resource dependencies [X]"},
      "msg": "Couldn't validate"},
     ["template files/regional.yml: CloudFormation in us-east-1 refuses it: Unresolved resource "
      "dependencies [X]; fix the template"]),
    ({"msg": "Template format error"},
     ["template files/regional.yml: CloudFormation in us-east-1 refuses it: Template format "
      "error; fix the template"]),
])
def test_validation(validation, expected) -> None:
    assert preflight.validation_problems(validation, "us-east-1", "files/regional.yml") == expected


# -- the deployment's stack ---------------------------------------------------------------------

def stack(status):
    return {"cloudformation": {"evfail-primary": {"stack_description": {"stack_status": status}}}}


@pytest.mark.parametrize("status", sorted(BLOCKING_STATES))
def test_every_blocking_stack_state_is_a_problem_with_what_to_do(status) -> None:
    assert preflight.stack_findings(stack(status), "evfail-primary", "us-east-1", "primary") == (
        [f"stack evfail-primary in us-east-1: {status}; {BLOCKING_STATES[status]}"], [])


@pytest.mark.parametrize("status", ["CREATE_COMPLETE", "UPDATE_COMPLETE",
                                    "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE"])
def test_a_stack_a_deploy_can_update_is_fine(status) -> None:
    assert preflight.stack_findings(stack(status), "evfail-primary", "us-east-1", "primary") == (
        [], [])


def test_no_stack_yet_is_fine() -> None:
    assert preflight.stack_findings({"cloudformation": {}}, "evfail-primary", "us-east-1",
                                    "primary") == ([], [])


def test_a_rolled_back_first_create_is_a_note() -> None:
    assert preflight.stack_findings(stack("ROLLBACK_COMPLETE"), "evfail-primary", "us-east-1",
                                    "primary") == ([], [
        "Stack evfail-primary in us-east-1 is ROLLBACK_COMPLETE (its first create failed, so "
        "CloudFormation cannot update it): deploy.yml reports the failure, deletes the stack and "
        "creates it again."])


def test_cloudformation_not_answering() -> None:
    assert preflight.stack_findings({"msg": "AccessDenied"}, "evfail-primary", "us-east-1",
                                    "primary")[0] == [
        "primary_region: CloudFormation does not answer in us-east-1 (AccessDenied); check that "
        "the region is enabled for the account and the cloudformation:DescribeStacks permission"]


@pytest.mark.parametrize("name, expected", [
    ("a" * 25, []),
    ("a" * 27, ['deployment_name: "' + "a" * 27 + '" makes the artifact bucket name ' + "a" * 27
                + "-artifacts-123456789012-ap-southeast-2 65 characters long (S3 allows 63); "
                f"shorten deployment_name to at most 25 characters in {MAIN}"]),
])
def test_the_artifact_bucket_name(name, expected) -> None:
    bucket = f"{name}-artifacts-123456789012-ap-southeast-2"
    assert preflight.bucket_problems(bucket, name, S) == expected


# -- the report ---------------------------------------------------------------------------------

def region(name, role, **results):
    return {"region": name, "deployment_role": role, "stack_name": f"evfail-{role}",
            "certificate_arn": "", "certificate_variable": "localcloud_certificate_arn",
            "artifact_bucket": f"evfail-artifacts-123456789012-{name}",
            "variables": check(), "identity": {"account": "123456789012", "arn": "arn:aws:x"},
            "certificates": {"certificates": [certificate()]},
            "apigateway": {"cloudwatch_role_arn": ""}, "validation": {"parameters": []},
            "stack": {"cloudformation": {}}, **results}


def test_the_report_lists_every_problem_once_in_the_order_of_the_checks() -> None:
    equal_regions = check(secondary_region="us-east-1")
    regions = [
        region("us-east-1", "primary", variables=equal_regions,
               certificates={"certificates": []},
               stack={"cloudformation": stack("CREATE_FAILED")["cloudformation"]}),
        region("us-west-2", "secondary", variables=equal_regions,
               certificates={"certificates": [certificate(domain="other.example.net")]},
               stack={"cloudformation": {"evfail-secondary": {
                   "stack_description": {"stack_status": "ROLLBACK_COMPLETE"}}}}),
    ]
    found = preflight.report(regions, LOCAL, {"exists": False, "hosted_zones": []},
                             ["template files/regional.yml: cfn-lint finds 1 problem(s)"],
                             "files/regional.yml", 30, S, NOW)
    assert [line.split(";")[0] for line in found["problems"]] == [
        "secondary_region: equal to primary_region (us-east-1)",
        "hosted_zone_name: Route 53 has no hosted zone example.com",
        "ACM certificate in us-east-1: none covers api.example.com (found: none)",
        "ACM certificate in us-west-2: none covers api.example.com (found: other.example.net "
        "ISSUED)",
        "template files/regional.yml: cfn-lint finds 1 problem(s)",
        "stack evfail-primary in us-east-1: CREATE_FAILED",
    ]
    assert [line.split(" (")[0] for line in found["notes"]] == [
        "Stack evfail-secondary in us-west-2 is ROLLBACK_COMPLETE"]


def test_a_report_with_nothing_wrong() -> None:
    regions = [region("us-east-1", "primary"), region("us-west-2", "secondary")]
    assert preflight.report(regions, SKIPPED, {"exists": True, "authoritative": True}, [],
                            "files/regional.yml", 30, S, NOW) == {"problems": [], "notes": []}


def test_a_region_that_does_not_answer_is_one_line_and_its_checks_are_skipped() -> None:
    down = {"msg": "Could not connect to the endpoint URL"}
    regions = [region("us-east-1", "primary"),
               region("us-west-2", "secondary", identity=down, certificates=SKIPPED,
                      apigateway=SKIPPED, validation=SKIPPED, stack=SKIPPED)]
    assert [line.split(" (")[0] for line in preflight.report(
        regions, SKIPPED, {"exists": True, "authoritative": True}, [], "files/regional.yml", 30,
        S, NOW)["problems"]] == ["secondary_region: AWS does not answer in us-west-2"]


def test_the_artifact_bucket_is_checked_with_the_stack() -> None:
    long_name = "a" * 31
    regions = [region("us-east-1", "primary",
                      artifact_bucket=f"{long_name}-artifacts-123456789012-us-east-1",
                      variables=check(deployment_name=long_name))]
    found = preflight.report(regions, SKIPPED, SKIPPED, [], "files/regional.yml", 30, S, NOW)
    assert found["problems"] == [
        f'deployment_name: "{long_name}" makes the artifact bucket name {long_name}-artifacts-'
        "123456789012-us-east-1 64 characters long (S3 allows 63); shorten deployment_name to at "
        f"most 30 characters in {MAIN}"]
