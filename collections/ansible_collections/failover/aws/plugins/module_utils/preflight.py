# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every rule of the preflight role: what makes a setting or a cloud's answer a problem.

"Why did preflight fail?" is answered here. Each function takes values (the deployment-wide
variables) or module results (as the role registers them) and returns the lines the operator
reads, one per problem, each naming the variable or resource and the fix. The action plugins
``failover.aws.preflight_variables`` and ``failover.aws.preflight_report`` only gather their
inputs; ``tests/modules/test_preflight_rules.py`` holds the cases.

A module result the role skipped (a check whose variables are invalid, or a region that does not
answer) is no problem: the reason it was skipped is reported once, by the check that found it.
"""

from __future__ import annotations

import datetime
import json
import os
import re
from dataclasses import dataclass

from ansible_collections.failover.aws.plugins.module_utils.stacks import blocking_advice

MAIN = "main.yml"
TUNING = "deployment.yml"


@dataclass(frozen=True)
class Setting:
    """A deployment-wide variable: what it is, its type and where the operator sets it."""

    name: str
    kind: str  # str, int, bool or dict
    summary: str  # what it is, shown when it is not set
    required: bool = True
    choices: tuple = ()
    file: str = MAIN  # in <settings_dir>; the tuning ones are in deployment.yml
    secret: bool = False  # its value is never shown


LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                      2192, 2557, 2922, 3288, 3653)

# The deployment-wide variables (inventories/<env>/group_vars/all), in the order problems are
# listed.
SETTINGS = (
    Setting("deployment_name", "str", "prefix of every stack and resource name"),
    Setting("primary_region", "str",
            "region that serves traffic while healthy (an AWS region name such as us-east-1)"),
    Setting("secondary_region", "str",
            "region traffic fails over to; must differ from primary_region"),
    Setting("custom_domain", "str",
            "the API's public name (lowercase DNS name), within hosted_zone_name"),
    Setting("hosted_zone_name", "str",
            "public Route 53 hosted zone that holds custom_domain, delegated to Route 53"),
    Setting("target_cloud", "str",
            "local starts and bootstraps the local cloud; aws targets a real account",
            choices=("local", "aws")),
    Setting("edge_url", "str", "base URL clients use (http:// or https://)"),
    Setting("api_stage_name", "str", "API stage name (1-64 letters, digits, _ or -)",
            file=TUNING),
    Setting("api_throttling_rate_limit", "int",
            "steady-state requests per second the stage accepts (1-10000)", file=TUNING),
    Setting("api_throttling_burst_limit", "int", "burst the stage accepts above the rate (1-5000)",
            file=TUNING),
    Setting("log_retention_days", "int",
            "retention of the function's and the API's log groups (a value CloudWatch Logs "
            "allows)", choices=LOG_RETENTION_DAYS, file=TUNING),
    Setting("queue_max_receive_count", "int",
            "deliveries of a message before SQS moves it to the dead-letter queue (1-1000)",
            file=TUNING),
    Setting("health_check_request_interval", "int",
            "seconds between Route 53 health checks (fixed once a check exists)",
            choices=(10, 30), file=TUNING),
    Setting("health_check_failure_threshold", "int",
            "consecutive results that change a health check's status",
            choices=tuple(range(1, 11)), file=TUNING),
    Setting("function_timeout", "int",
            "seconds the processor function may run on one batch (a value the template allows); "
            "the queue's visibility timeout is six times this",
            choices=(10, 15, 20, 30, 60, 120, 300, 600, 900), file=TUNING),
    Setting("manage_apigateway_account", "bool",
            "whether the stacks set each region's API Gateway CloudWatch Logs role (an "
            "account-wide setting per region, which access logging needs)", file=TUNING),
    Setting("primary_certificate_arn", "str",
            "ACM certificate in primary_region covering custom_domain", required=False),
    Setting("secondary_certificate_arn", "str",
            "ACM certificate in secondary_region covering custom_domain", required=False),
    Setting("aws_endpoint_url", "str", "endpoint of every AWS call (the local cloud's URL)",
            required=False),
    Setting("aws_profile", "str", "AWS profile to use (empty - the environment's credentials)",
            required=False),
    Setting("aws_access_key", "str", "access key", required=False, secret=True),
    Setting("aws_secret_key", "str", "secret key", required=False, secret=True),
)

# Built by the inventory from the settings above. A problem with one of them is usually a
# consequence of a problem with a setting, so it is listed only when every setting is valid.
DERIVED = (
    Setting("aws_connection", "dict",
            "the connection of every AWS module: region, endpoint, credentials"),
    Setting("localcloud_status_url", "str",
            "the local cloud's status URL; empty on a real account", required=False),
)

SETTING = {setting.name: setting for setting in SETTINGS + DERIVED}

# The region each certificate variable's certificate must be in.
CERTIFICATE_REGION = {"primary_certificate_arn": "primary_region",
                      "secondary_certificate_arn": "secondary_region"}

# What each check reads; it runs only when all of them are valid (a broken variable gives one
# line, not one per check that reads it). The certificate check also reads the host's
# certificate variable.
CHECK_INPUTS = {
    "identity": ("primary_region", "secondary_region", "aws_endpoint_url", "aws_profile",
                 "aws_access_key", "aws_secret_key", "aws_connection", "localcloud_status_url"),
    "zone": ("hosted_zone_name",),
    "certificate": ("custom_domain",),
    "apigateway": ("deployment_name", "manage_apigateway_account"),
    "stack": ("deployment_name",),
}

KIND = {"str": "a string", "int": "an integer", "bool": "true or false", "dict": "a mapping"}
TRUE = ("true", "yes", "on", "1")
FALSE = ("false", "no", "off", "0")

DEPLOYMENT_NAME = re.compile(r"^[a-z][a-z0-9-]{1,30}[a-z0-9]$")
REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$")
DNS_NAME = re.compile(r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
URL = re.compile(r"^https?://[^/]+")
STAGE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
CERTIFICATE_ARN = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]+$")
RANGES = {"api_throttling_rate_limit": (1, 10000), "api_throttling_burst_limit": (1, 5000),
          "queue_max_receive_count": (1, 1000)}


class Unresolvable:
    """A variable that is set but whose value refers to an undefined variable."""


UNRESOLVABLE = Unresolvable()


def shown_path(path, project_dir):
    """``path`` relative to the project when it is in it (as messages show it), else as given."""
    if not path or not project_dir:
        return path
    relative = os.path.relpath(os.path.abspath(path), os.path.realpath(project_dir))
    return path if relative == ".." or relative.startswith("../") else relative


def dns_name(value):
    """A DNS name as the checks compare it: lower case, without the final dot."""
    return str(value or "").lower().rstrip(".")


def convert(kind, value):
    """``(True, value as kind)`` when ``value`` is of that kind or a string of it, else
    ``(False, None)``. A boolean is neither an integer nor a string (CloudFormation would get
    "True")."""
    if kind == "dict":
        return (True, value) if isinstance(value, dict) else (False, None)
    if kind == "bool":
        if isinstance(value, bool):
            return True, value
        if isinstance(value, str) and value.strip().lower() in TRUE + FALSE:
            return True, value.strip().lower() in TRUE
        return False, None
    if isinstance(value, bool):
        return False, None
    if kind == "int":
        if isinstance(value, int):
            return True, value
        if isinstance(value, str) and re.fullmatch(r"\s*[+-]?[0-9]+\s*", value):
            return True, int(value)
        return False, None
    if isinstance(value, str):
        return True, value
    if isinstance(value, (int, float)):
        return True, str(value)
    return False, None


def _shown(setting, value):
    return "(hidden)" if setting.secret else json.dumps(value, default=str)


def check_variables(values, settings_dir, certificate_variable=""):
    """Validate the deployment-wide variables.

    ``values`` maps each variable that is set to its value (``UNRESOLVABLE`` when it refers to
    an undefined variable); a variable that is not set is absent. ``certificate_variable`` names
    the variable that gives this host's certificate ARN: when it is one of the settings, it must
    be set.

    Returns a dict: ``problems`` (lines), ``invalid`` (names of the variables with a problem of
    their own: the checks that read them are skipped), ``checks`` (which checks can run),
    ``settings`` (the valid values, converted; secrets left out) and ``zone_domain``.
    """
    problems, invalid, valid = [], [], {}

    def where(name):
        return f"{settings_dir}/{SETTING[name].file}"

    def problem(name, line):
        problems.append(f"{name}: {line}")
        if name not in invalid:
            invalid.append(name)

    def relation(name, line):
        """A broken relation between valid values: the checks that read them still run."""
        problems.append(f"{name}: {line}")

    def ok(name):
        return name in valid and name not in invalid

    def shown(name):
        return json.dumps(valid[name])

    def set_and_typed(settings):
        """Set (to something that can be evaluated) when required, of its type, allowed."""
        for setting in settings:
            value = values.get(setting.name)
            if value is None and setting.required:
                problem(setting.name,
                        f"not set; set it in {where(setting.name)} ({setting.summary})")
            elif value is UNRESOLVABLE:
                problem(setting.name, "its value refers to an undefined variable; fix it in "
                        + where(setting.name))
        for setting in settings:
            value = values.get(setting.name)
            if value is None or value is UNRESOLVABLE:
                continue
            typed, converted = convert(setting.kind, value)
            allowed = ", ".join(str(choice) for choice in setting.choices)
            value = "(hidden)" if setting.secret else json.dumps(value, default=str)
            if not typed:
                allowed = f" (allowed: {allowed})" if allowed else ""
                problem(setting.name, f"{value} is not {KIND[setting.kind]}{allowed}; set it in "
                        + where(setting.name))
            elif setting.choices and converted not in setting.choices:
                problem(setting.name,
                        f"{value} is not one of {allowed}; set it in {where(setting.name)}")
            else:
                valid[setting.name] = converted

    set_and_typed(SETTINGS)

    # The patterns and ranges the template imposes, and the relations between values.
    if ok("deployment_name") and not DEPLOYMENT_NAME.match(valid["deployment_name"]):
        problem("deployment_name", f"{shown('deployment_name')} must be 3-32 lowercase letters, "
                "digits or hyphens, starting with a letter and ending with a letter or digit (it "
                f"prefixes every resource name); set it in {where('deployment_name')}")
    for name in ("primary_region", "secondary_region"):
        if ok(name) and not REGION.match(valid[name]):
            problem(name, f"{shown(name)} is not an AWS region name such as us-east-1; set it in "
                    + where(name))
    if ok("primary_region") and ok("secondary_region") and (
            valid["secondary_region"] == valid["primary_region"]):
        relation("secondary_region", f"equal to primary_region ({valid['primary_region']}); set "
                 f"two different regions in {where('secondary_region')}")
    for name in ("custom_domain", "hosted_zone_name"):
        if ok(name) and not DNS_NAME.match(valid[name].rstrip(".")):
            problem(name, f"{shown(name)} is not a lowercase DNS name such as api.example.com; set "
                    f"it in {where(name)}")
    domain = dns_name(valid.get("custom_domain"))
    zone = dns_name(valid.get("hosted_zone_name"))
    in_zone = ok("custom_domain") and ok("hosted_zone_name") and (
        domain == zone or domain.endswith("." + zone))
    if ok("custom_domain") and ok("hosted_zone_name") and not in_zone:
        relation("custom_domain", f"{domain} is not within hosted_zone_name {zone}; set a name in "
                 f"that zone (or the zone that holds the name) in {where('custom_domain')}")
    if ok("edge_url") and not URL.match(valid["edge_url"]):
        problem("edge_url", f"{shown('edge_url')} must start with http:// or https:// and a host; "
                f"set it in {where('edge_url')}")
    if ok("api_stage_name") and not STAGE_NAME.match(valid["api_stage_name"]):
        problem("api_stage_name", f"{shown('api_stage_name')} must be 1-64 letters, digits, _ or "
                f"-; set it in {where('api_stage_name')}")
    for name, (low, high) in RANGES.items():
        if ok(name) and not low <= valid[name] <= high:
            problem(name, f"{valid[name]} is out of range; set it between {low} and {high} in "
                    + where(name))
    for name, region_name in CERTIFICATE_REGION.items():
        arn, region = valid.get(name), valid.get(region_name, "")
        certificate = f"certificate for {domain} in {region} in {where(name)}"
        if name == certificate_variable and not arn and name not in invalid:
            problem(name, f"not set; set the ARN of an ISSUED ACM {certificate}")
        elif ok(name) and arn and not CERTIFICATE_ARN.match(arn):
            problem(name, f"{shown(name)} is not an ACM certificate ARN; set the ARN of an ISSUED "
                    + certificate)
        elif ok(name) and arn and ok(region_name) and arn.split(":")[3] != region:
            problem(name, f"the certificate is in {arn.split(':')[3]}, not {region_name} {region}; "
                    f"set the ARN of a certificate in {region} in {where(name)}")

    # The variables the inventory builds from the settings: a problem there usually follows from
    # one listed above, so it is listed only when there is none.
    settings_problems = len(problems)
    set_and_typed(DERIVED)
    url = valid.get("localcloud_status_url")
    if ok("localcloud_status_url") and url and not URL.match(url):
        problem("localcloud_status_url", f"{shown('localcloud_status_url')} must be empty or start "
                f"with http:// or https:// and a host; set it in {where('localcloud_status_url')}")
    if settings_problems:
        del problems[settings_problems:]

    checks = {check: not set(names) & set(invalid) for check, names in CHECK_INPUTS.items()}
    checks["certificate"] = checks["certificate"] and certificate_variable not in invalid
    return {
        "problems": problems,
        "invalid": invalid,
        "checks": checks,
        "settings": {name: value for name, value in valid.items()
                     if name not in invalid and not SETTING[name].secret},
        # The name DNS must place in the zone (none when it is not in the zone: that is listed).
        "zone_domain": domain if in_zone else "",
    }


# -- what the cloud answered -------------------------------------------------------------------

# AWS's and botocore's words for credentials it refuses or cannot find.
CREDENTIAL_ERRORS = re.compile(
    r"credentials|security token|InvalidClientTokenId|SignatureDoesNotMatch|ExpiredToken"
    r"|AccessDenied|profile", re.IGNORECASE)


def skipped(result):
    return not result or bool(result.get("skipped"))


def _error(result):
    return (result or {}).get("msg", "")


def identity_problems(localcloud, identity, region, deployment_role, settings_dir):
    """Whether AWS (or the local cloud) answers this region with these credentials."""
    if not skipped(localcloud) and localcloud.get("status") != 200:
        endpoint = (localcloud.get("url") or "its URL").split("/_localcloud/")[0]
        return [f"local cloud: nothing answers on {endpoint}; start it and create the hosted zone "
                "and certificates with `ansible-playbook playbooks/deploy.yml --tags bootstrap` "
                "(same LOCALCLOUD_PORT)"]
    if skipped(identity) or "account" in identity:
        return []
    error = _error(identity)
    if CREDENTIAL_ERRORS.search(error):
        return [f"AWS credentials: {error}; export AWS_PROFILE (or set aws_profile in "
                f"{settings_dir}/main.yml) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"]
    return [f"{deployment_role}_region: AWS does not answer in {region} ({error}); check that the "
            "region exists and is enabled for the account, or set another in "
            f"{settings_dir}/main.yml"]


def zone_problems(found, zone, settings_dir):
    """Whether Route 53 has the public zone and DNS delegates it and places the domain in it
    (failover.aws.route53_delegation_info's answer)."""
    zone = dns_name(zone)
    where = f"{settings_dir}/main.yml"
    if skipped(found) or found.get("authoritative"):
        return []
    if "exists" not in found:
        return [f"hosted_zone_name: could not check {zone}: {_error(found)}; make sure Route 53 "
                "and the resolver answer (preflight_dns_resolver sets another resolver)"]
    if not found["exists"] and found.get("hosted_zones"):
        return [f"hosted_zone_name: {zone} is only a private hosted zone; create a public hosted "
                f"zone {zone} and delegate the domain to its name servers, or set a public zone "
                f"in {where}"]
    if not found["exists"]:
        return [f"hosted_zone_name: Route 53 has no hosted zone {zone}; create the public hosted "
                "zone and delegate the domain to its name servers, or set an existing zone in "
                + where]
    if found.get("domain_zone") and found["domain_zone"] != zone:
        return [f"hosted_zone_name: {found.get('reason')}; set hosted_zone_name to "
                f"{found['domain_zone']} (if it is a Route 53 zone of yours) or remove that "
                "delegation"]
    return [f"hosted_zone_name: {found.get('reason')}; set the domain's NS records (at the "
            f"registrar or in the parent zone) to {', '.join(found.get('name_servers') or [])}"]


def _names(certificate):
    names = [certificate.get("domain_name", ""), *certificate.get("subject_alternative_names", [])]
    return list(dict.fromkeys(name.lower() for name in names))


def _days_left(certificate, now):
    if not certificate.get("not_after"):
        return 100000
    expiry = datetime.datetime.fromisoformat(str(certificate["not_after"]).replace("Z", "+00:00"))
    return (expiry.replace(tzinfo=expiry.tzinfo or datetime.UTC) - now).days


def certificate_problems(found, arn, variable, domain, region, min_days, settings_dir, now=None):
    """This region's certificate for the custom domain (community.aws.acm_certificate_info's
    list of the region's certificates).

    With ``arn``, that certificate must exist, cover the domain (exactly, or by a wildcard one
    level up), be ISSUED and stay valid ``min_days`` more days; without it, one such certificate
    must exist in the region. ``variable`` is named in the problems with ``arn``; when it is a
    setting, the fix names the file to set it in.
    """
    if skipped(found):
        return []
    now = now or datetime.datetime.now(datetime.UTC)
    domain = dns_name(domain)
    wildcard = "*." + domain.partition(".")[2]
    wanted = f"{domain} (or {wildcard})"
    fix_where = f" in {settings_dir}/main.yml" if variable in SETTING else ""
    validate = "complete its DNS validation (the CNAME records ACM lists for it)"
    if "certificates" not in found:
        return [f"ACM in {region}: could not list the certificates: {_error(found)}; check the "
                "acm:ListCertificates and acm:DescribeCertificate permissions"]
    certificates = [c for c in found["certificates"] if c.get("domain_name")]
    covering = [c for c in certificates if domain in _names(c) or wildcard in _names(c)]
    if arn:
        given = [c for c in certificates if c.get("certificate_arn") == arn]
        if not given:
            return [f"{variable}: {arn} does not exist in {region}; set the ARN of an ISSUED ACM "
                    f"certificate for {wanted} in {region}{fix_where}"]
        certificate, status = given[0], given[0].get("status")
        days = _days_left(certificate, now)
        if certificate not in covering:
            return [f"{variable}: {arn} covers {', '.join(_names(certificate))}, not {domain}; set "
                    f"the ARN of a certificate for {wanted} in {region}{fix_where}"]
        if status != "ISSUED":
            fix = validate if status == "PENDING_VALIDATION" else (
                f"request or import a new certificate for {wanted} and set its ARN{fix_where}")
            return [f"{variable}: {arn} is {status}, not ISSUED; {fix}"]
        if days < min_days:
            fix = f" and set the new ARN{fix_where}" if fix_where else ""
            return [f"{variable}: {arn} expires on {str(certificate['not_after'])[:10]} (in {days} "
                    f"days, fewer than preflight_certificate_min_days {min_days}); renew or "
                    f"replace it{fix}"]
        return []
    where = f"ACM certificate in {region}"
    if not covering:
        seen = ", ".join(f"{c['domain_name']} {c.get('status')}" for c in certificates) or "none"
        return [f"{where}: none covers {domain} (found: {seen}); request or import an ISSUED "
                f"certificate for {wanted} in {region}"]
    issued = sorted((c for c in covering if c.get("status") == "ISSUED"),
                    key=lambda c: str(c.get("not_after", "")), reverse=True)
    if not issued:
        status = covering[0].get("status")
        fix = validate if status == "PENDING_VALIDATION" else (
            f"request or import a new certificate for {wanted}")
        return [f"{where}: {covering[0].get('certificate_arn')} for {domain} is {status}, not "
                f"ISSUED; {fix}"]
    days = _days_left(issued[0], now)
    if days < min_days:
        return [f"{where}: {issued[0].get('certificate_arn')} for {domain} expires on "
                f"{str(issued[0]['not_after'])[:10]} (in {days} days, fewer than "
                f"preflight_certificate_min_days {min_days}); renew or replace it"]
    return []


def apigateway_findings(found, region, manage, deployment_name, partition, settings_dir):
    """Whether API Gateway may write this region's logs (failover.aws.api_gateway_account_info).

    API Gateway refuses a stage with access logging while the region's account settings have no
    CloudWatch Logs role, so a first deploy there would roll back - unless the stack sets the
    role (``manage``). Returns ``(problems, notes)``.
    """
    if skipped(found):
        return [], []
    if "cloudwatch_role_arn" not in found:
        return [f"API Gateway in {region}: its account settings could not be read "
                f"({_error(found)}); allow apigateway:GET on "
                f"arn:{partition or 'aws'}:apigateway:{region}::/account"], []
    role = found["cloudwatch_role_arn"]
    if not role and not manage:
        return [f"API Gateway in {region} has no CloudWatch Logs role in its account settings, so "
                "it would refuse the stage's access logging and the stack would roll back; set "
                f"manage_apigateway_account: true in {settings_dir}/deployment.yml (the stack then "
                "sets it), or set a role once for the account and region (aws apigateway "
                f"update-account --region {region} --patch-operations op=replace,path=/"
                "cloudwatchRoleArn,value=<ARN of a role API Gateway can assume, with "
                "AmazonAPIGatewayPushToCloudWatchLogs>)"], []
    # The role the template creates when it manages the setting (ApiGatewayCloudWatchRole).
    own_role = f"{deployment_name}-{region}-apigw-logs"
    if role and manage and role.split("/")[-1] != own_role:
        return [], [f"API Gateway in {region} already writes logs with role {role}; with "
                    "manage_apigateway_account true the stack replaces it with its own, which "
                    "other APIs of the account and region then use too (and lose when the stack "
                    "is deleted)"]
    return [], []


# cfn-lint's parseable output: path:line:column:end line:end column:rule:message
LINT_FINDING = re.compile(r".+:[0-9]+:[0-9]+:[0-9]+:[0-9]+:")
LINT_POSITION = re.compile(r"^.*?:([0-9]+):([0-9]+):[0-9]+:[0-9]+:")


def lint_problems(lint, template, shown, template_exists, cfn_lint_command, cfn_lint_exists):
    """cfn-lint's verdict on the template. It exits 0 when clean and 8 for informational findings
    only (not problems); 2 and 4 (alone or with 8) mean errors and warnings."""
    if not template_exists:
        return [f"template: {template} does not exist; set preflight_template to the regional "
                "template"]
    if not cfn_lint_exists:
        return [f"template: cfn-lint not found at {cfn_lint_command}; run `make setup` (it "
                "installs cfn-lint in .venv) or set preflight_cfn_lint_command"]
    if skipped(lint) or lint.get("rc", 1) in (0, 8):
        return []
    findings = [line for line in lint.get("stdout_lines") or [] if LINT_FINDING.match(line)]
    first = [*findings, *(lint.get("stderr_lines") or []), lint.get("msg") or "no output"][0]
    first = LINT_POSITION.sub(r"line \1, column \2: ", first, count=1)
    return [f"template {shown}: cfn-lint finds {len(findings)} problem(s), the first: {first}; "
            f"fix them (`cfn-lint {shown}` lists them all)"]


def validation_problems(validation, region, shown):
    """CloudFormation's ValidateTemplate in this region (cloudformation_template_validate)."""
    if skipped(validation) or "parameters" in validation:
        return []
    message = (validation.get("error") or {}).get("message") or _error(validation)
    return [f"template {shown}: CloudFormation in {region} refuses it: {message}; fix the template"]


def stack_findings(found, stack_name, region, deployment_role):
    """This region's stack of the deployment (amazon.aws.cloudformation_info). A stack
    CloudFormation can neither update nor create is a problem (stacks.BLOCKING_STATES); one
    deploy.yml replaces by itself (ROLLBACK_COMPLETE) is a note. Returns ``(problems, notes)``."""
    if skipped(found):
        return [], []
    if "cloudformation" not in found:
        return [f"{deployment_role}_region: CloudFormation does not answer in {region} "
                f"({_error(found)}); check that the region is enabled for the account and the "
                "cloudformation:DescribeStacks permission"], []
    stack = (found["cloudformation"] or {}).get(stack_name) or {}
    status = (stack.get("stack_description") or {}).get("stack_status", "NONE")
    if blocking_advice(status):
        return [f"stack {stack_name} in {region}: {status}; {blocking_advice(status)}"], []
    if status == "ROLLBACK_COMPLETE":
        return [], [f"Stack {stack_name} in {region} is ROLLBACK_COMPLETE (its first create "
                    "failed, so CloudFormation cannot update it): deploy.yml reports the failure, "
                    "deletes the stack and creates it again."]
    return [], []


def bucket_problems(bucket, deployment_name, settings_dir):
    """The artifact bucket's name: S3 allows at most 63 characters (deployment_name's pattern
    keeps the rest valid)."""
    if len(bucket or "") <= 63:
        return []
    return [f"deployment_name: {json.dumps(deployment_name)} makes the artifact bucket name "
            f"{bucket} {len(bucket)} characters long (S3 allows 63); shorten deployment_name to "
            f"at most {len(deployment_name) - (len(bucket) - 63)} characters in "
            f"{settings_dir}/main.yml"]


def _once(lines):
    """Each line with its whitespace runs collapsed, each once, in order."""
    return list(dict.fromkeys(" ".join(str(line).split()) for line in lines))


def report(regions, localcloud, zone, lint_lines, template_shown, certificate_min_days,
           settings_dir, now=None):
    """Every problem and note, in the order of the checks; a problem found the same in both
    regions (or by a check that ran once) is one line.

    ``regions`` has one dict per region host: region, deployment_role, stack_name,
    certificate_arn, certificate_variable, artifact_bucket and the results ``variables``
    (preflight_variables), ``identity``, ``certificates``, ``apigateway``, ``validation`` and
    ``stack``. ``localcloud`` and ``zone`` ran once; ``lint_lines`` are lint_problems' lines.
    """
    problems = {check: [] for check in ("variables", "identity", "certificate", "apigateway",
                                        "validation", "stack")}
    notes = []
    for host in regions:
        variables = host.get("variables") or {}
        settings = variables.get("settings") or {}
        region, role = host.get("region"), host.get("deployment_role")
        partition = ((host.get("identity") or {}).get("arn") or "arn:aws").split(":")[1]
        problems["variables"] += variables.get("problems") or []
        problems["identity"] += identity_problems(localcloud, host.get("identity"), region, role,
                                                  settings_dir)
        problems["certificate"] += certificate_problems(
            host.get("certificates"), host.get("certificate_arn"), host.get("certificate_variable"),
            settings.get("custom_domain"), region, certificate_min_days, settings_dir, now)
        found, noted = apigateway_findings(
            host.get("apigateway"), region, settings.get("manage_apigateway_account"),
            settings.get("deployment_name", ""), partition, settings_dir)
        problems["apigateway"] += found
        notes += noted
        problems["validation"] += validation_problems(host.get("validation"), region,
                                                      template_shown)
        found, noted = stack_findings(host.get("stack"), host.get("stack_name"), region, role)
        problems["stack"] += found
        notes += noted
        if not skipped(host.get("stack")):
            problems["stack"] += bucket_problems(host.get("artifact_bucket"),
                                                 settings.get("deployment_name", ""), settings_dir)
    zone_name = ((regions[0].get("variables") or {}).get("settings") or {}).get(
        "hosted_zone_name", "") if regions else ""
    ordered = (problems["variables"] + problems["identity"]
               + zone_problems(zone, zone_name, settings_dir)
               + problems["certificate"] + problems["apigateway"] + lint_lines
               + problems["validation"] + problems["stack"])
    return {"problems": _once(ordered), "notes": _once(notes)}
