#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: s3_bucket_empty
short_description: Delete every object version and delete marker of an S3 bucket
version_added: 0.3.0
description:
  - Lists every object version and delete marker of the bucket (ListObjectVersions, all pages)
    and deletes them by key and version id (DeleteObjects, 1000 a call), including the C(null)
    version of objects written before versioning was turned on, so that the bucket can then be
    deleted (M(amazon.aws.s3_bucket) with O(amazon.aws.s3_bucket#module:state=absent)).
  - A bucket that does not exist is not an error (nothing to empty).
  - Why a module of our own - M(amazon.aws.s3_bucket) with O(amazon.aws.s3_bucket#module:force=true)
    deletes a C(null) version without its version id, which in a bucket whose versioning is on
    only adds a delete marker, so a versioned bucket that holds objects from before versioning
    was turned on can never be emptied by it (the delete ends in C(BucketNotEmpty));
    M(amazon.aws.s3_object) deletes only the current version of one key.
options:
  bucket:
    description: Name of the bucket.
    type: str
    required: true
  delete_bucket:
    description:
      - Also delete the bucket once it is empty (S3 refuses to delete a bucket that holds any
        object version).
    type: bool
    default: false
    version_added: 0.6.0
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - Supports check mode - it counts what it would delete.
  - Deleting every version cannot be undone; a bucket with S3 Object Lock keeps locked versions
    (their deletes are reported as errors).
author:
  - Event failover project team (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Empty the artifact bucket, every version
  failover.aws.s3_bucket_empty:
    bucket: evfail-artifacts-111122223333-us-east-1

- name: Empty the artifact bucket and delete it
  failover.aws.s3_bucket_empty:
    bucket: evfail-artifacts-111122223333-us-east-1
    delete_bucket: true
"""

RETURN = r"""
deleted:
  description: Object versions and delete markers deleted (in check mode, that would be deleted).
  type: int
  returned: always
bucket_deleted:
  description: Whether the bucket was deleted (in check mode, would be deleted).
  type: bool
  returned: always
  version_added: 0.6.0
"""

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

BATCH = 1000  # DeleteObjects' limit


def versions(client, bucket):
    """Every (key, version id) of the bucket: versions and delete markers, the null one too."""
    kwargs = {"Bucket": bucket}
    while True:
        page = client.list_object_versions(aws_retry=True, **kwargs)
        for entry in page.get("Versions", []) + page.get("DeleteMarkers", []):
            yield {"Key": entry["Key"], "VersionId": entry.get("VersionId") or "null"}
        if not page.get("IsTruncated"):
            return
        kwargs = {"Bucket": bucket, "KeyMarker": page.get("NextKeyMarker")}
        if page.get("NextVersionIdMarker"):
            kwargs["VersionIdMarker"] = page["NextVersionIdMarker"]


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(bucket=dict(type="str", required=True),
                           delete_bucket=dict(type="bool", default=False)),
        supports_check_mode=True,
    )
    client = module.client("s3", retry_decorator=AWSRetry.jittered_backoff())
    bucket = module.params["bucket"]
    try:
        found = list(versions(client, bucket))
    except is_boto3_error_code("NoSuchBucket"):
        module.exit_json(changed=False, deleted=0, bucket_deleted=False)
    except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Could not list the object versions of bucket {bucket}")

    if found and not module.check_mode:
        errors = []
        try:
            for start in range(0, len(found), BATCH):
                answer = client.delete_objects(
                    Bucket=bucket, Delete={"Objects": found[start:start + BATCH], "Quiet": True},
                    aws_retry=True)
                errors += answer.get("Errors", [])
        except (BotoCoreError, ClientError) as e:
            module.fail_json_aws(e, msg=f"Could not delete the object versions of bucket {bucket}")
        if errors:
            shown = "; ".join(f"{e.get('Key')} {e.get('VersionId')}: {e.get('Code')} {e.get('Message')}"
                              for e in errors[:10])
            module.fail_json(msg=f"{len(errors)} object versions of bucket {bucket} could not be "
                                 f"deleted: {shown}", deleted=len(found) - len(errors))
    delete_bucket = module.params["delete_bucket"]
    if delete_bucket and not module.check_mode:
        try:
            client.delete_bucket(Bucket=bucket, aws_retry=True)
        except (BotoCoreError, ClientError) as e:
            module.fail_json_aws(e, msg=f"Could not delete the emptied bucket {bucket}", deleted=len(found))
    module.exit_json(changed=bool(found) or delete_bucket, deleted=len(found), bucket_deleted=delete_bucket)


if __name__ == "__main__":
    main()
