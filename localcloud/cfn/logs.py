"""``AWS::Logs::LogGroup`` with everything the template sets.

moto's model passes the template's properties straight to its constructor, which expects
``kmsKeyId`` (so ``KmsKeyId`` is dropped), updates nothing in place, and answers GetAtt ``Arn``
without the ``:*`` suffix AWS's attribute has. This model creates and updates through the
backend calls the API uses (``create_log_group``, ``put_retention_policy``). Ref is the name.
"""

from __future__ import annotations

from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.logs.models import logs_backends

from .model import LocalModel, tags_dict


class LogGroup(LocalModel, CloudFormationModel):
    TYPE = "AWS::Logs::LogGroup"
    NAME_PROPERTY = "LogGroupName"
    ATTRIBUTES = ("Arn",)

    @classmethod
    def create(cls, account_id: str, region_name: str, properties: dict[str, Any],
               context: dict[str, str]) -> LogGroup:
        name = properties.get("LogGroupName") or context["resource_name"]
        backend = logs_backends[account_id][region_name]
        kwargs: dict[str, Any] = {}
        if properties.get("KmsKeyId"):
            kwargs["kmsKeyId"] = properties["KmsKeyId"]
        backend.create_log_group(name, tags_dict(properties.get("Tags")), **kwargs)
        if properties.get("RetentionInDays") is not None:
            backend.put_retention_policy(name, int(properties["RetentionInDays"]))
        return cls(account_id, region_name, name, properties)

    def update(self, properties: dict[str, Any], new_name: str) -> LogGroup | None:
        if (properties.get("LogGroupName") or self.physical_id) != self.physical_id:
            return None
        backend = logs_backends[self.account_id][self.region_name]
        if properties.get("RetentionInDays") is not None:
            backend.put_retention_policy(self.physical_id, int(properties["RetentionInDays"]))
        else:
            backend.delete_retention_policy(self.physical_id)
        backend.groups[self.physical_id].kms_key_id = properties.get("KmsKeyId")
        self.properties = properties
        return self

    def remove(self) -> None:
        backend = logs_backends[self.account_id][self.region_name]
        if self.physical_id in backend.groups:
            backend.delete_log_group(self.physical_id)

    def attribute(self, name: str) -> Any:
        return (f"arn:aws:logs:{self.region_name}:{self.account_id}:log-group:"
                f"{self.physical_id}:*")
