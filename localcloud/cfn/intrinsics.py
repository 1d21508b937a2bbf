"""Intrinsic functions where moto resolves them differently from AWS.

``Fn::FindInMap``: a ``Number`` parameter is a string wherever a template uses it, so
``!FindInMap [Map, !Ref Timeout, Seconds]`` looks up the key ``"10"``; moto looked up the int
10 and failed with a bare ``KeyError``. A key that is missing is AWS's template error
(``Unable to get mapping for Map::Key::Name``). Everything else goes to moto's resolver.
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.exceptions import ValidationError

_original_clean_json = parsing.clean_json


def clean_json(resource_json: Any, resources_map: Any) -> Any:
    """moto's resolver with Fn::FindInMap as AWS does it (moto recurses through here)."""
    if isinstance(resource_json, dict) and "Fn::FindInMap" in resource_json:
        arguments = resource_json["Fn::FindInMap"]
        keys = [clean_json(argument, resources_map) for argument in arguments[:3]]
        try:
            result: Any = resources_map[keys[0]]
        except KeyError:
            result = None
        for key in keys[1:]:
            # Mapping keys are strings on AWS, however YAML typed them.
            found = [k for k in result if str(k) == str(key)] if isinstance(result, dict) else []
            if not found:
                raise ValidationError(message="Template error: Unable to get mapping for "
                                              + "::".join(str(k) for k in keys))
            result = result[found[0]]
        return result
    return _original_clean_json(resource_json, resources_map)


_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    parsing.clean_json = clean_json
