"""A JSON-protocol request whose body is not a JSON object is a 400, as on AWS.

Services on AWS's JSON protocol (``X-Amz-Target`` plus ``Content-Type:
application/x-amz-json-1.0|1.1``: EventBridge, SQS, DynamoDB, CloudWatch Logs, ...) refuse a
body they cannot deserialize before the action runs: HTTP 400 with
``{"__type": "com.amazon.coral.service#SerializationException"}``, which SDKs read as the
error code ``SerializationException``. moto reads such a body as no parameters at all, so the
action runs on nothing: EventBridge PutEvents and DynamoDB answer HTTP 500, SQS a misleading
QueueDoesNotExist. The gateway's AWS integrations pass a client's body on as it came, so a
malformed request to an API reached the local cloud's own error path instead of the API's
integration responses.

``install()`` wraps ``BaseResponse._dispatch``, the step every moto service takes for a
request, and answers the error there. An empty body is left to moto (it means ``{}``, and SDKs
always send at least that); so is a compressed one.

Deviation: the ``Message`` is the local cloud's wording (AWS's text depends on the service's
deserializer and is not documented).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from moto.core.responses import BaseResponse

ERROR_TYPE = "com.amazon.coral.service#SerializationException"

_installed = False


def serialization_error(request: Any) -> tuple[int, dict[str, str], str] | None:
    """The 400 answer for a JSON-protocol request with an undeserializable body, else None."""
    content_type = (request.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
    if not content_type.startswith("application/x-amz-json-"):
        return None
    if not request.headers.get("X-Amz-Target") or request.headers.get("Content-Encoding"):
        return None
    body = request.get_data()
    if not body.strip():
        return None
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        message = f"The request body is not valid JSON: {exc}"
    else:
        if isinstance(parsed, dict):
            return None
        message = "The request body must be a JSON object."
    headers = {"Content-Type": content_type, "x-amzn-RequestId": str(uuid.uuid4())}
    return 400, headers, json.dumps({"__type": ERROR_TYPE, "Message": message})


def install() -> None:
    """Answer malformed JSON-protocol bodies before moto's actions run (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    original = BaseResponse._dispatch

    def _dispatch(self: BaseResponse, request: Any, full_url: str | None = None,
                  headers: Any = None) -> Any:
        return serialization_error(request) or original(self, request, full_url, headers)

    BaseResponse._dispatch = _dispatch  # type: ignore[method-assign]
