"""ACM: a requested certificate is issued at once.

The local cloud validates nothing, so it runs moto with ``MOTO_ACM_VALIDATION_WAIT=0``
(``server.serve``). moto reads that variable once, when ``moto.settings`` is first imported,
which happens before the server sets it; ``install()`` applies it, with the endpoint's first
patches (a certificate requested right after start-up, before CloudFormation support is
installed, stayed ``PENDING_VALIDATION`` for moto's default 60 s, and API Gateway refused it as
not issued). moto also issues a requested certificate only once strictly more than the wait has
passed by the wall clock, which two requests within its resolution, or the wall clock stepping
back under load, can miss: with no wait, the certificate is issued when it is first looked at.
"""

from __future__ import annotations

import os

from moto import settings
from moto.acm.models import CertBundle

_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    wait = os.environ.get("MOTO_ACM_VALIDATION_WAIT")
    if wait is not None:
        settings.ACM_VALIDATION_WAIT = int(wait)
    original = CertBundle.check

    def check(self: CertBundle) -> None:
        original(self)
        if (self.type == "AMAZON_ISSUED" and self.status == "PENDING_VALIDATION"
                and settings.ACM_VALIDATION_WAIT <= 0):
            self.status = "ISSUED"

    CertBundle.check = check  # type: ignore[method-assign]
