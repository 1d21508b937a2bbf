# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Route 53 as the deployment sees it: its client, its health checks and their status.

Route 53 is a global service: its API has one endpoint per partition and signs requests for
that partition's global region, whatever region the rest of a play works in. ``client()`` is the
one place that knows it, so a module run with a region default of ``us-west-2`` (or none at all)
still reaches Route 53.

A health check belongs to a deployment when its ``Name`` tag is exactly
``<deployment_name>-primary`` or ``<deployment_name>-secondary``: the names the dns_failover role
gives them. Nothing else (path, domain, prefix) identifies "ours".
"""

from __future__ import annotations

from ansible_collections.amazon.aws.plugins.module_utils.retries import (
    AWSRetry,
    RetryingBotoClientWrapper,
)

# The region Route 53's API signs in, by partition (the first part of a region's name).
GLOBAL_REGIONS = {"cn": "cn-northwest-1", "us-gov": "us-gov-west-1"}
DEFAULT_GLOBAL_REGION = "us-east-1"
ROLES = ("primary", "secondary")
HEALTHY_SHARE = 0.18  # Route 53: healthy when MORE than 18 % of the checkers report success


def global_region(region):
    """The region Route 53's API is signed for, in the partition of ``region``."""
    region = region or ""
    for prefix, found in GLOBAL_REGIONS.items():
        if region.startswith(prefix + "-"):
            return found
    return DEFAULT_GLOBAL_REGION


def client(module):
    """A Route 53 client for ``module`` (an AnsibleAWSModule), whatever its region option says,
    retrying throttled calls (Route 53 rate-limits its API per account)."""
    return module.client("route53", region=global_region(module.region),
                         retry_decorator=AWSRetry.jittered_backoff())


def _call(client, operation, **kwargs):
    """``client.<operation>(**kwargs)``, with retries when ``client`` is one of ``client()``'s
    (a plain boto3 client, as in tests, takes no ``aws_retry``)."""
    if isinstance(client, RetryingBotoClientWrapper):
        kwargs["aws_retry"] = True
    return getattr(client, operation)(**kwargs)


def _pages(client, operation, key, **kwargs):
    while True:
        page = _call(client, operation, **kwargs)
        yield from page.get(key, [])
        if not page.get("IsTruncated"):
            return
        kwargs["Marker"] = page["NextMarker"]


def _tags(client, check_ids):
    """Each check's tags, by check id."""
    tags = {}
    for start in range(0, len(check_ids), 10):  # ListTagsForResources takes 10 ids a call
        tag_sets = _call(client, "list_tags_for_resources", ResourceType="healthcheck",
                         ResourceIds=check_ids[start:start + 10])["ResourceTagSets"]
        for tag_set in tag_sets:
            tags[tag_set["ResourceId"]] = {t["Key"]: t["Value"] for t in tag_set.get("Tags", [])}
    return tags


def describe(check, tags):
    """A health check as this collection returns it (snake_case, the fields a playbook reads)."""
    config = check.get("HealthCheckConfig", {})
    return {
        "id": check["Id"],
        "name": tags.get("Name", ""),
        "tags": tags,
        "type": config.get("Type"),
        "fqdn": config.get("FullyQualifiedDomainName"),
        "resource_path": config.get("ResourcePath"),
        "port": config.get("Port"),
        "inverted": bool(config.get("Inverted")),
        "disabled": bool(config.get("Disabled")),
        "enable_sni": bool(config.get("EnableSNI")),
        "request_interval": config.get("RequestInterval"),
        "failure_threshold": config.get("FailureThreshold"),
    }


def deployment_health_checks(client, deployment_name):
    """``{'primary': {...}, 'secondary': {...}}``: the deployment's health checks, by role.

    A role is missing when no check carries its name. When two checks carry the same name (one
    created outside the dns_failover role), the first Route 53 lists is returned.
    """
    checks = list(_pages(client, "list_health_checks", "HealthChecks"))
    tags = _tags(client, [check["Id"] for check in checks])
    wanted = {f"{deployment_name}-{role}": role for role in ROLES}
    found = {}
    for check in checks:
        check_tags = tags.get(check["Id"], {})
        role = wanted.get(check_tags.get("Name", ""))
        if role and role not in found:
            found[role] = describe(check, check_tags)
    return found


def measured_healthy(observations):
    """Route 53's rule, before Inverted and Disabled apply: more than 18 % of the checkers
    report success. A check without observations yet is healthy (Route 53 considers a new check
    healthy until it has data)."""
    if not observations:
        return True
    successes = sum(1 for o in observations
                    if (o.get("StatusReport", {}).get("Status") or "").startswith("Success"))
    return successes / len(observations) > HEALTHY_SHARE


def reported_healthy(observations, check):
    """The status Route 53 routes by: a disabled check is healthy, an inverted one reversed."""
    if check.get("disabled"):
        return True
    healthy = measured_healthy(observations)
    return not healthy if check.get("inverted") else healthy


def observation(item):
    """One GetHealthCheckStatus observation, snake_cased, its time in ISO-8601."""
    report = item.get("StatusReport", {})
    checked = report.get("CheckedTime")
    return {
        "region": item.get("Region"),
        "ip_address": item.get("IPAddress"),
        "status_report": {
            "status": report.get("Status"),
            "checked_time": checked.isoformat() if hasattr(checked, "isoformat") else checked,
        },
    }


def with_status(client, check):
    """``check`` (as ``describe`` returns it) with ``healthy`` and ``observations``."""
    observations = _call(client, "get_health_check_status",
                         HealthCheckId=check["id"])["HealthCheckObservations"]
    return dict(check, healthy=reported_healthy(observations, check),
                observations=[observation(o) for o in observations])
