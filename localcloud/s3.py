"""S3: bucket policies evaluated with their conditions.

moto applies a bucket policy's statements without their Condition blocks, so the common
"deny everything that is not TLS" statement (``aws:SecureTransport: false``) denies every
request. Here a statement applies only when its conditions hold. The local endpoint is plain
HTTP, but it stands for AWS's HTTPS endpoints, so requests count as ``aws:SecureTransport``
true: a TLS-only policy behaves as it does for clients of AWS, which always use TLS.
"""

from __future__ import annotations

from typing import Any

from moto.iam.access_control import PermissionResult
from moto.s3.models import FakeBucket

from . import policies

REQUEST_CONTEXT = {"aws:securetransport": "true"}

_RESULTS = {
    policies.ALLOWED: PermissionResult.PERMITTED,
    policies.DENIED: PermissionResult.DENIED,
    policies.NEUTRAL: PermissionResult.NEUTRAL,
}

_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True

    def get_permission(self: Any, action: str, resource: str) -> Any:
        context = {**REQUEST_CONTEXT, "aws:sourceaccount": self.account_id}
        return _RESULTS[policies.evaluate(self.policy, action, resource, context)]

    FakeBucket.get_permission = get_permission
