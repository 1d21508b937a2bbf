# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that turn CloudFormation resource properties into this collection's module shapes."""

DOCUMENTATION = r"""
---
name: stage_from_cloudformation
short_description: An AWS::ApiGateway::Stage's template properties as failover.aws.api_gateway_stage options
version_added: 0.2.0
description:
  - Takes the properties CloudFormation expects of an C(AWS::ApiGateway::Stage) (for example
    the C(expected_properties) M(failover.aws.cloudformation_drift_info) returns) and gives the
    options M(failover.aws.api_gateway_stage) takes, so a stage deleted out-of-band can be
    recreated exactly as the stack deployed it.
options:
  _input:
    description: The stage's CloudFormation properties.
    type: dict
    required: true
author:
  - Event failover project team (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Recreate the stage as the template defines it
  failover.aws.api_gateway_stage: "{{ {'rest_api_id': api_id, 'state': 'present'}
                                      | combine(stage_properties | failover.aws.stage_from_cloudformation) }}"
"""

RETURN = r"""
_value:
  description: stage_name, deployment_id, description, variables, method_settings (keyed C(*/*), C(~1pets/GET)), access_log_settings, tracing_enabled, tags.
  type: dict
"""

# CloudFormation MethodSetting property -> api_gateway_stage method setting option
METHOD_SETTING_OPTIONS = {
    "ThrottlingRateLimit": "throttling_rate_limit",
    "ThrottlingBurstLimit": "throttling_burst_limit",
    "LoggingLevel": "logging_level",
    "MetricsEnabled": "metrics_enabled",
    "DataTraceEnabled": "data_trace_enabled",
    "CachingEnabled": "caching_enabled",
    "CacheTtlInSeconds": "cache_ttl_in_seconds",
    "CacheDataEncrypted": "cache_data_encrypted",
}


def method_settings_key(resource_path, http_method):
    """``*/*`` for ``/*`` and ``*``; ``~1pets/GET`` for ``/pets`` (or the encoded ``/~1pets``)."""
    if resource_path in ("/*", "*"):
        path = "*"
    elif "~1" in resource_path:
        path = resource_path[1:] if resource_path.startswith("/") else resource_path
    else:
        path = resource_path.replace("/", "~1")
    return f"{path}/{http_method}"


def stage_from_cloudformation(properties):
    properties = properties or {}
    stage = {}
    if properties.get("StageName"):
        stage["stage_name"] = properties["StageName"]
    if properties.get("DeploymentId"):
        stage["deployment_id"] = properties["DeploymentId"]
    if "Description" in properties:
        stage["description"] = properties["Description"]
    if "Variables" in properties:
        stage["variables"] = dict(properties["Variables"] or {})
    if "MethodSettings" in properties:
        stage["method_settings"] = {
            method_settings_key(setting.get("ResourcePath", "/*"), setting.get("HttpMethod", "*")): {
                option: setting[field] for field, option in METHOD_SETTING_OPTIONS.items() if field in setting
            }
            for setting in properties["MethodSettings"] or []
        }
    if "AccessLogSetting" in properties:
        log = properties["AccessLogSetting"] or {}
        stage["access_log_settings"] = {
            name: log[field] for field, name in (("DestinationArn", "destination_arn"), ("Format", "format"))
            if field in log
        }
    if "TracingEnabled" in properties:
        stage["tracing_enabled"] = bool(properties["TracingEnabled"])
    if properties.get("Tags"):
        stage["tags"] = {tag["Key"]: tag["Value"] for tag in properties["Tags"]}
    return stage


DRIFT_ADVICE = (
    "Put each resource back as the stack expects it (aws cloudformation "
    "describe-stack-resource-drifts shows the expected and actual properties; a missing stage or "
    "mapping: restore.yml again). deploy.yml does not repair drift: CloudFormation answers an "
    "unchanged template with \"No updates are to be performed\" and recreates nothing."
)


def drift_summary(results):
    """One line on the drift a set of ``cloudformation_drift_info`` loop results shows.

    ``results`` are the loop's results, each with ``item.role`` (the stack's role) and
    ``drifted_resources``. Returns ``CloudFormation drift: none``, or the drifted resources as
    ``<role> <logical id> <drift status>`` followed by what to do about them.
    """
    drifted = [
        f"{result['item']['role']} {resource['logical_resource_id']} {resource['drift_status']}"
        for result in results or []
        for resource in result.get("drifted_resources") or []
    ]
    if not drifted:
        return "CloudFormation drift: none"
    return f"CloudFormation drift left: {', '.join(drifted)}. {DRIFT_ADVICE}"


class FilterModule:
    def filters(self):
        return {"stage_from_cloudformation": stage_from_cloudformation, "drift_summary": drift_summary}
