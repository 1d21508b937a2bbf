"""``AWS::CertificateManager::Certificate``, issued at once, and ACM requests likewise.

There is no DNS or e-mail validation locally, so a requested certificate is ``ISSUED``
immediately: the CloudFormation resource marks it so itself (``request-certificate`` is issued at
once by ``localcloud/acm.py``). Ref is the ARN.

Deviation: ``ValidationMethod`` and ``DomainValidationOptions`` are kept on the resource but
nothing is validated; ``describe-certificate`` reports DNS validation as moto does.
"""

from __future__ import annotations

from typing import Any

from moto.acm.models import acm_backends
from moto.core.common_models import CloudFormationModel

from .model import LocalModel, tags_list


class Certificate(LocalModel, CloudFormationModel):
    TYPE = "AWS::CertificateManager::Certificate"

    @classmethod
    def create(cls, account_id: str, region_name: str, properties: dict[str, Any],
               context: dict[str, str]) -> Certificate:
        backend = acm_backends[account_id][region_name]
        domain = properties["DomainName"]
        names = list(properties.get("SubjectAlternativeNames") or [])
        arn = backend.request_certificate(domain, None, names,
                                          tags_list(properties.get("Tags")))
        bundle = backend.get_certificate(arn)
        bundle.status = "ISSUED"
        bundle.validation_method = properties.get("ValidationMethod", "DNS")
        return cls(account_id, region_name, arn, properties)

    def update(self, properties: dict[str, Any], new_name: str) -> Certificate | None:
        immutable = ("DomainName", "SubjectAlternativeNames", "ValidationMethod",
                     "DomainValidationOptions", "CertificateAuthorityArn", "KeyAlgorithm")
        if any(properties.get(k) != self.properties.get(k) for k in immutable):
            return None
        backend = acm_backends[self.account_id][self.region_name]
        bundle = backend.get_certificate(self.physical_id)
        bundle.tags.clear()
        bundle.tags.add(tags_list(properties.get("Tags")))
        self.properties = properties
        return self

    def remove(self) -> None:
        backend = acm_backends[self.account_id][self.region_name]
        if self.physical_id in backend._certificates:
            backend.delete_certificate(self.physical_id)
