# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""API Gateway stages and base path mappings in the shape the failover.aws modules share.

``api_gateway_stage_info`` returns a stage in the shape ``api_gateway_stage`` takes, so a
recorded stage can be fed back to recreate it. The keys of ``variables``, ``tags`` and
``method_settings`` are the user's or AWS's own (``*/*``, ``~1pets/GET``) and are never
snake-cased; only the field names inside each method setting are.
"""

from ansible.module_utils.common.dict_transformations import _camel_to_snake
from ansible.module_utils.parsing.convert_bool import boolean

NONE_BASE_PATH = "(none)"

# snake_case option -> (GetStage field, UpdateStage patch path suffix, type)
METHOD_SETTINGS = {
    "metrics_enabled": ("metricsEnabled", "metrics/enabled", bool),
    "logging_level": ("loggingLevel", "logging/loglevel", str),
    "data_trace_enabled": ("dataTraceEnabled", "logging/dataTrace", bool),
    "throttling_burst_limit": ("throttlingBurstLimit", "throttling/burstLimit", int),
    "throttling_rate_limit": ("throttlingRateLimit", "throttling/rateLimit", float),
    "caching_enabled": ("cachingEnabled", "caching/enabled", bool),
    "cache_ttl_in_seconds": ("cacheTtlInSeconds", "caching/ttlInSeconds", int),
    "cache_data_encrypted": ("cacheDataEncrypted", "caching/dataEncrypted", bool),
    "require_authorization_for_cache_control": (
        "requireAuthorizationForCacheControl", "caching/requireAuthorizationForCacheControl", bool),
    "unauthorized_cache_control_header_strategy": (
        "unauthorizedCacheControlHeaderStrategy",
        "caching/unauthorizedCacheControlHeaderStrategy", str),
}
_SNAKE_OF = {field: name for name, (field, _path, _kind) in METHOD_SETTINGS.items()}

ACCESS_LOG_SETTINGS = {"destination_arn": "destinationArn", "format": "format"}


def _iso(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def method_setting_to_result(setting):
    return {_SNAKE_OF.get(field, _camel_to_snake(field)): value for field, value in setting.items()}


def stage_to_result(stage):
    """A GetStage answer (boto3) as the modules return it."""
    access_log = stage.get("accessLogSettings") or {}
    result = {
        "stage_name": stage["stageName"],
        "deployment_id": stage.get("deploymentId"),
        "description": stage.get("description") or "",
        "variables": dict(stage.get("variables") or {}),
        "method_settings": {
            key: method_setting_to_result(value)
            for key, value in (stage.get("methodSettings") or {}).items()
        },
        "access_log_settings": {
            name: access_log[field] for name, field in ACCESS_LOG_SETTINGS.items()
            if access_log.get(field) is not None
        },
        "tracing_enabled": bool(stage.get("tracingEnabled", False)),
        "tags": dict(stage.get("tags") or {}),
        "cache_cluster_enabled": bool(stage.get("cacheClusterEnabled", False)),
        "cache_cluster_size": stage.get("cacheClusterSize"),
        "cache_cluster_status": stage.get("cacheClusterStatus"),
    }
    for field in ("clientCertificateId", "documentationVersion", "webAclArn"):
        if stage.get(field):
            result[_camel_to_snake(field)] = stage[field]
    if stage.get("canarySettings"):
        result["canary_settings"] = stage["canarySettings"]
    for field in ("createdDate", "lastUpdatedDate"):
        if stage.get(field) is not None:
            result[_camel_to_snake(field)] = _iso(stage[field])
    return result


def method_settings_key(key):
    """AWS's key for a method setting: ``*/*`` or ``~1pets/GET``; ``/pets/GET`` is accepted."""
    if key.startswith("/") and key.count("/") >= 2:
        path, method = key.rsplit("/", 1)
        return path.replace("/", "~1") + "/" + method
    return key


def coerce(kind, value):
    """A method setting value as GetStage reports it, whatever type the playbook gave."""
    if kind is bool:
        return boolean(value, strict=True)
    return kind(value)


def patch_value(kind, value):
    """UpdateStage takes every value as a string; booleans lower-case."""
    if kind is bool:
        return "true" if value else "false"
    return str(value)


def base_path_key(base_path):
    """``(none)`` for the empty base path, as AWS names it; no surrounding slashes."""
    base_path = (base_path or "").strip("/")
    return base_path or NONE_BASE_PATH


def mapping_to_result(mapping):
    return {
        "base_path": base_path_key(mapping.get("basePath")),
        "rest_api_id": mapping.get("restApiId"),
        "stage": mapping.get("stage"),
    }
