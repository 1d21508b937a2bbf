"""AWS sessions for drillkit's own calls (health samples, reconciliation).

On the local cloud the role gives drillkit explicit credentials in its environment
(``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, with ``AWS_ENDPOINT_URL``), while the
operator's shell may still export ``AWS_PROFILE`` for a real account, possibly naming a
profile that does not exist on this machine. botocore resolves that profile's configuration
even when the keys make it unnecessary, and fails on every client with ``ProfileNotFound``.
With explicit keys, drillkit therefore uses them and does not read any profile: the keys are
what botocore's credential chain would have used anyway (environment credentials come before
a profile's), so nothing a real account relies on changes. Without keys, the default chain
applies, ``AWS_PROFILE`` included.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

#: botocore session variable spec (config key, env vars, default, converter) that reads the
#: profile from nowhere: neither AWS_PROFILE nor AWS_DEFAULT_PROFILE.
_NO_PROFILE = {"profile": (None, None, None, None)}


def explicit_keys(environ: Mapping[str, str]) -> dict[str, str] | None:
    """The access key, secret key and session token the environment gives, if it gives both
    keys."""
    key, secret = environ.get("AWS_ACCESS_KEY_ID"), environ.get("AWS_SECRET_ACCESS_KEY")
    if not key or not secret:
        return None
    keys = {"aws_access_key_id": key, "aws_secret_access_key": secret}
    if environ.get("AWS_SESSION_TOKEN"):
        keys["aws_session_token"] = environ["AWS_SESSION_TOKEN"]
    return keys


def session(environ: Mapping[str, str] | None = None) -> Any:
    """A boto3 session: the environment's explicit keys without any profile, else the default
    credential chain."""
    import boto3
    import botocore.session

    keys = explicit_keys(os.environ if environ is None else environ)
    if keys is None:
        return boto3.session.Session()
    core = botocore.session.Session(session_vars=_NO_PROFILE)
    return boto3.session.Session(botocore_session=core, **keys)
