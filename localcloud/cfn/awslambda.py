"""Lambda in templates: what moto's Function and EventSourceMapping models lose on the way.

moto's own models stay (they create through the same backend calls as the API), with two
fixes around them:

- ``AWS::Lambda::Function`` passes only some properties to CreateFunction and drops
  ``LoggingConfig``, so a function would log to ``/aws/lambda/{name}`` whatever the template
  says. The template's ``LoggingConfig`` is set on create and on update, whole: a property the
  template no longer sets returns to its default (``Text``, ``/aws/lambda/{name}``).
- Values that come from template parameters arrive as strings. moto compares a mapping's
  ``BatchSize`` with an int (a string fails) and stores ``Enabled: "false"`` as it is, which
  reads as enabled. Numbers and booleans of both models are converted before moto sees them,
  so ``"false"`` disables a mapping and ``"5"`` is a batch of five.

On update, a mapping setting the template no longer sets returns to its default (enabled,
batch size of the source, no batching window), as CloudFormation does; moto's update keeps
what it is not given.
"""

from __future__ import annotations

from typing import Any

from ..lambda_runtime import set_logging_config
from .model import as_bool

FUNCTION_INTEGERS = ("MemorySize", "Timeout", "ReservedConcurrentExecutions")
MAPPING_INTEGERS = ("BatchSize", "MaximumBatchingWindowInSeconds", "MaximumRecordAgeInSeconds",
                    "MaximumRetryAttempts", "ParallelizationFactor", "TumblingWindowInSeconds")
MAPPING_BOOLEANS = ("Enabled", "BisectBatchOnFunctionError")
# What an update gives a mapping setting its new template leaves out.
MAPPING_DEFAULTS: dict[str, Any] = {
    "Enabled": True, "BatchSize": None, "MaximumBatchingWindowInSeconds": None,
}

_installed = False


def _integer(name: str, value: Any) -> Any:
    if value is None or isinstance(value, int):  # bools are ints: left as they are
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {value!r}") from None


def _typed(properties: dict[str, Any], integers: tuple[str, ...],
           booleans: tuple[str, ...] = ()) -> dict[str, Any]:
    """A shallow copy of ``properties`` with template strings turned into ints and bools."""
    typed = dict(properties)
    for key in integers:
        if key in typed:
            typed[key] = _integer(key, typed[key])
    for key in booleans:
        if key in typed:
            typed[key] = as_bool(typed[key])
    return typed


def function_properties(properties: dict[str, Any]) -> dict[str, Any]:
    return _typed(properties, FUNCTION_INTEGERS)


def mapping_properties(properties: dict[str, Any]) -> dict[str, Any]:
    typed = _typed(properties, MAPPING_INTEGERS, MAPPING_BOOLEANS)
    scaling = typed.get("ScalingConfig")
    if isinstance(scaling, dict) and "MaximumConcurrency" in scaling:
        typed["ScalingConfig"] = {
            **scaling,
            "MaximumConcurrency": _integer("MaximumConcurrency", scaling["MaximumConcurrency"]),
        }
    return typed


def _with_properties(cloudformation_json: dict[str, Any],
                     properties: dict[str, Any]) -> dict[str, Any]:
    return {**cloudformation_json, "Properties": properties}


def install() -> None:
    """Wrap moto's Function and EventSourceMapping template hooks (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    from moto.awslambda.models import EventSourceMapping, LambdaFunction

    create_function = LambdaFunction.create_from_cloudformation_json
    update_function = LambdaFunction.update_from_cloudformation_json
    create_mapping = EventSourceMapping.create_from_cloudformation_json
    update_mapping = EventSourceMapping.update_from_cloudformation_json

    def create_function_from_template(cls: Any, resource_name: str,
                                      cloudformation_json: dict[str, Any], account_id: str,
                                      region_name: str, **kwargs: Any) -> Any:
        properties = function_properties(cloudformation_json["Properties"])
        fn = create_function(resource_name, _with_properties(cloudformation_json, properties),
                             account_id, region_name, **kwargs)
        set_logging_config(fn, properties.get("LoggingConfig"))
        return fn

    def update_function_from_template(cls: Any, original_resource: Any, new_resource_name: str,
                                      cloudformation_json: dict[str, Any], account_id: str,
                                      region_name: str) -> Any:
        properties = function_properties(cloudformation_json["Properties"])
        fn = update_function(original_resource, new_resource_name,
                             _with_properties(cloudformation_json, properties), account_id,
                             region_name)
        set_logging_config(fn, properties.get("LoggingConfig"))
        return fn

    def create_mapping_from_template(cls: Any, resource_name: str,
                                     cloudformation_json: dict[str, Any], account_id: str,
                                     region_name: str, **kwargs: Any) -> Any:
        properties = mapping_properties(cloudformation_json["Properties"])
        return create_mapping(resource_name, _with_properties(cloudformation_json, properties),
                              account_id, region_name, **kwargs)

    def update_mapping_from_template(cls: Any, original_resource: Any, new_resource_name: str,
                                     cloudformation_json: dict[str, Any], account_id: str,
                                     region_name: str) -> Any:
        properties = {**MAPPING_DEFAULTS,
                      **mapping_properties(cloudformation_json["Properties"])}
        return update_mapping(original_resource, new_resource_name,
                              _with_properties(cloudformation_json, properties), account_id,
                              region_name)

    LambdaFunction.create_from_cloudformation_json = classmethod(  # type: ignore[method-assign]
        create_function_from_template)
    LambdaFunction.update_from_cloudformation_json = classmethod(  # type: ignore[method-assign]
        update_function_from_template)
    EventSourceMapping.create_from_cloudformation_json = classmethod(  # type: ignore[method-assign]
        create_mapping_from_template)
    EventSourceMapping.update_from_cloudformation_json = classmethod(  # type: ignore[method-assign]
        update_mapping_from_template)
