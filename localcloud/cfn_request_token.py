"""CloudFormation stack events carry the ClientRequestToken of the operation that caused them.

AWS: "All events triggered by a given stack operation are assigned the same client request
token" (``StackEvent.ClientRequestToken`` in the CloudFormation API reference). moto never sets
it, so a tool that follows one operation's events by the token it sent sees none of them:
``amazon.aws.cloudformation`` filters DescribeStackEvents by its token and then reports a failed
create as "Unknown error", without the resource that failed or why.

The local cloud runs a stack operation to its end inside the API request that starts it
(``localcloud.cfn.core``), so every event the operation records is created while that request's
token is in force; a context variable carries it to moto's ``Event``.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

# The operations whose request takes a ClientRequestToken and that record stack events.
TOKEN_ACTIONS = ("create_stack", "update_stack", "delete_stack", "execute_change_set",
                 "continue_update_rollback", "cancel_update_stack", "rollback_stack")

_TOKEN: ContextVar[str | None] = ContextVar("cfn_client_request_token", default=None)

_installed = False


def _event_init(original: Any) -> Any:
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        token = _TOKEN.get()
        if token:
            self.client_request_token = token

    return __init__


def _with_token(action: Any) -> Any:
    def wrapped(self: Any) -> Any:
        reset = _TOKEN.set(self._get_param("ClientRequestToken") or None)
        try:
            return action(self)
        finally:
            _TOKEN.reset(reset)

    wrapped.__name__ = action.__name__
    return wrapped


def install() -> None:
    """Patch moto's CloudFormation in this process (after ``localcloud.cfn``). Idempotent."""
    global _installed
    if _installed:
        return
    _installed = True
    from moto.cloudformation import models as cfn_models
    from moto.cloudformation import responses as cfn_responses

    cfn_models.Event.__init__ = _event_init(cfn_models.Event.__init__)
    response_cls = cfn_responses.CloudFormationResponse
    for name in TOKEN_ACTIONS:
        action = getattr(response_cls, name, None)
        if action is not None:
            setattr(response_cls, name, _with_token(action))
