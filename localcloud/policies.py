"""Resource-policy evaluation shared by the services that enforce one locally.

Only what resource policies for this kind of architecture use in practice: Effect, Principal
(``*``, ``{"AWS": "*"}`` or a service principal), Action/NotAction and Resource with wildcards,
and the condition operators below. An operator it does not know makes its statement not apply,
with a warning, rather than guess.
"""

from __future__ import annotations

import fnmatch
import json
import logging
from typing import Any

log = logging.getLogger("localcloud.policies")

ALLOWED, DENIED, NEUTRAL = "allowed", "denied", "neutral"


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _compare(op: str, actual: str, values: list[str]) -> bool | None:
    if op in ("StringEquals", "ArnEquals"):
        return actual in values
    if op == "StringEqualsIgnoreCase":
        return actual.lower() in [v.lower() for v in values]
    if op in ("StringLike", "ArnLike"):
        return any(fnmatch.fnmatchcase(actual, v) for v in values)
    if op in ("StringNotEquals", "ArnNotEquals"):
        return actual not in values
    if op in ("StringNotLike", "ArnNotLike"):
        return not any(fnmatch.fnmatchcase(actual, v) for v in values)
    if op == "Bool":
        return actual.lower() in [v.lower() for v in values]
    return None


def condition_holds(condition: dict[str, Any], context: dict[str, str]) -> bool:
    """Whether every clause of a statement's Condition block holds for the request context.

    ``context`` keys are lower-case condition keys (``aws:sourcearn``); values are strings.
    """
    for operator, clauses in condition.items():
        if_exists = operator.endswith("IfExists")
        op = operator.removesuffix("IfExists")
        for key, expected in clauses.items():
            actual = context.get(key.lower())
            if actual is None:
                if if_exists or op == "Null":
                    continue
                return False
            result = _compare(op, actual, [str(v) for v in as_list(expected)])
            if result is None:
                log.warning("policy condition operator %s is not evaluated locally", operator)
                return False
            if not result:
                return False
    return True


def _principal_matches(principal: Any, service: str | None) -> bool:
    if principal in (None, "*"):
        return True
    if isinstance(principal, dict):
        if "*" in as_list(principal.get("AWS")):
            return True
        return service is not None and service in as_list(principal.get("Service"))
    return False


def _matches(patterns: Any, value: str, case_sensitive: bool = True) -> bool:
    for pattern in as_list(patterns):
        pattern = str(pattern)
        if case_sensitive and fnmatch.fnmatchcase(value, pattern):
            return True
        if not case_sensitive and fnmatch.fnmatchcase(value.lower(), pattern.lower()):
            return True
    return False


def evaluate(policy: str | bytes | dict[str, Any] | None, action: str, resource: str,
             context: dict[str, str], service_principal: str | None = None) -> str:
    """ALLOWED, DENIED or NEUTRAL for one action on one resource; an explicit Deny wins."""
    if not policy:
        return NEUTRAL
    if isinstance(policy, bytes):
        policy = policy.decode()
    if isinstance(policy, str):
        try:
            policy = json.loads(policy)
        except ValueError:
            return NEUTRAL
    result = NEUTRAL
    for statement in as_list(policy.get("Statement")):
        if not _principal_matches(statement.get("Principal"), service_principal):
            continue
        if "NotAction" in statement:
            if _matches(statement["NotAction"], action, case_sensitive=False):
                continue
        elif not _matches(statement.get("Action"), action, case_sensitive=False):
            continue
        if "NotResource" in statement:
            if _matches(statement["NotResource"], resource):
                continue
        elif not _matches(statement.get("Resource", "*"), resource):
            continue
        if not condition_holds(statement.get("Condition", {}), context):
            continue
        if statement.get("Effect") == "Deny":
            return DENIED
        if statement.get("Effect") == "Allow":
            result = ALLOWED
    return result
