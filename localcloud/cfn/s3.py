"""``AWS::S3::Bucket``: moto's model, plus the properties it drops.

moto applies ``BucketEncryption`` and ``Tags`` but not ``PublicAccessBlockConfiguration`` or
``VersioningConfiguration``; they are applied here through the backend calls the API uses
(``put_public_access_block``, ``put_bucket_versioning``), on create and on update.
"""

from __future__ import annotations

from typing import Any

from moto.s3 import models as s3_models
from moto.utilities.utils import get_partition


def _apply(bucket: Any, properties: dict[str, Any], account_id: str, region_name: str) -> None:
    backend = s3_models.s3_backends[account_id][get_partition(region_name)]
    block = properties.get("PublicAccessBlockConfiguration")
    if block:
        backend.put_public_access_block(bucket.name, {
            k: str(v).lower() == "true" if not isinstance(v, bool) else v
            for k, v in block.items()
        })
    versioning = properties.get("VersioningConfiguration")
    if versioning and versioning.get("Status"):
        backend.put_bucket_versioning(bucket.name, versioning["Status"])


_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    bucket_cls = s3_models.FakeBucket
    original_create = bucket_cls.create_from_cloudformation_json.__func__
    original_update = bucket_cls.update_from_cloudformation_json.__func__

    def create_from_cloudformation_json(cls: Any, resource_name: str,
                                        cloudformation_json: Any, account_id: str,
                                        region_name: str, **kwargs: Any) -> Any:
        bucket = original_create(cls, resource_name, cloudformation_json, account_id,
                                 region_name, **kwargs)
        _apply(bucket, cloudformation_json.get("Properties", {}), account_id, region_name)
        return bucket

    def update_from_cloudformation_json(cls: Any, original_resource: Any,
                                        new_resource_name: str, cloudformation_json: Any,
                                        account_id: str, region_name: str) -> Any:
        bucket = original_update(cls, original_resource, new_resource_name,
                                 cloudformation_json, account_id, region_name)
        _apply(bucket, cloudformation_json.get("Properties", {}), account_id, region_name)
        return bucket

    bucket_cls.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)
    bucket_cls.update_from_cloudformation_json = classmethod(update_from_cloudformation_json)
