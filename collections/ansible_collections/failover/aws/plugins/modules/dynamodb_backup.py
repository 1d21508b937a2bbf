#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: dynamodb_backup
short_description: Take an on-demand backup of a DynamoDB table and wait until it is AVAILABLE
version_added: 0.3.0
description:
  - Creates an on-demand backup of one table (CreateBackup) in the module's region and waits
    until DynamoDB reports it C(AVAILABLE), so that a playbook deletes the table only once its
    backup can be restored (RestoreTableFromBackup).
  - By default every run takes a new backup, as a backup before a destructive step should be.
    With O(reuse_existing=true), a backup of the table with the same O(backup_name) that is
    C(CREATING) or C(AVAILABLE) is taken as the result instead (waited for when still
    C(CREATING)), so a rerun of the same step does not take a second one.
  - For a global table, the backup is of the replica in the module's region; it holds the
    whole table's items (replication copies every item to every replica).
  - The backup outlives the table and is billed for its storage until deleted
    (C(aws dynamodb delete-backup --backup-arn ...)).
  - Why a module of our own - neither amazon.aws nor community.aws has a module for DynamoDB's
    own backups (M(community.aws.dynamodb_table) manages tables only). The C(amazon.aws.backup_*)
    modules manage AWS Backup plans, selections and vaults; none starts an on-demand job, and a
    plan runs on its schedule, not at a playbook's step.
options:
  table:
    description: Name (or ARN) of the table.
    type: str
    required: true
  backup_name:
    description: Name of the backup (3-255 characters - letters, digits, C(_), C(-), C(.)).
    type: str
    required: true
  reuse_existing:
    description:
      - Return a backup of the table that already has O(backup_name) (C(CREATING) or
        C(AVAILABLE)) instead of creating another.
    type: bool
    default: false
  wait:
    description: Wait until the backup is C(AVAILABLE).
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for C(AVAILABLE).
    type: int
    default: 900
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - Supports check mode - it reads the table and any backup of that name, and creates nothing.
author:
  - Event failover project team (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Back up the global table's primary replica before the teardown
  failover.aws.dynamodb_backup:
    table: evfail-events
    backup_name: "evfail-events-cleanup-{{ stamp }}"
    reuse_existing: true
  register: table_backup

- name: Say where the backup is
  ansible.builtin.debug:
    msg: "{{ table_backup.backup.backup_arn }} ({{ table_backup.backup.backup_status }})"
"""

RETURN = r"""
backup:
  description: The backup (in check mode without an existing one, what would be created).
  type: dict
  returned: always
  contains:
    backup_arn:
      description: ARN of the backup (absent in check mode when it would be created).
      type: str
      sample: arn:aws:dynamodb:us-east-1:123456789012:table/evfail-events/backup/01700000000000-a1b2c3d4
    backup_name:
      description: Name of the backup.
      type: str
    backup_status:
      description: C(CREATING), C(AVAILABLE) or C(DELETED).
      type: str
    backup_type:
      description: C(USER) for an on-demand backup.
      type: str
    backup_size_bytes:
      description: Size of the backup, as DynamoDB reports it.
      type: int
    backup_creation_date_time:
      description: When the backup was made (ISO 8601).
      type: str
    table_name:
      description: The table backed up.
      type: str
    table_arn:
      description: ARN of the table backed up.
      type: str
    item_count:
      description: Items in the table when it was backed up (DynamoDB's approximate figure).
      type: int
reused:
  description: Whether an existing backup of that name was returned instead of a new one.
  type: bool
  returned: always
"""

import time

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

LIVE_STATUSES = ("CREATING", "AVAILABLE")


def _iso(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def backup_result(description):
    """DescribeBackup's BackupDescription (or CreateBackup's BackupDetails) as the result."""
    details = description.get("BackupDetails", description)
    source = description.get("SourceTableDetails", {})
    result = {
        "backup_arn": details.get("BackupArn"),
        "backup_name": details.get("BackupName"),
        "backup_status": details.get("BackupStatus"),
        "backup_type": details.get("BackupType"),
        "backup_size_bytes": details.get("BackupSizeBytes"),
        "backup_creation_date_time": _iso(details.get("BackupCreationDateTime")),
    }
    if source:
        result.update(table_name=source.get("TableName"), table_arn=source.get("TableArn"),
                      item_count=source.get("ItemCount"))
    return result


def existing_backup(client, table_arn, backup_name):
    """The newest CREATING or AVAILABLE user backup of the table with that name, or None."""
    kwargs = {"TableName": table_arn, "BackupType": "USER"}
    found = []
    while True:
        page = client.list_backups(aws_retry=True, **kwargs)
        found += [summary for summary in page.get("BackupSummaries", [])
                  if summary.get("BackupName") == backup_name
                  and summary.get("BackupStatus") in LIVE_STATUSES]
        if not page.get("LastEvaluatedBackupArn"):
            break
        kwargs["ExclusiveStartBackupArn"] = page["LastEvaluatedBackupArn"]
    if not found:
        return None
    return max(found, key=lambda summary: summary.get("BackupCreationDateTime") or 0)


def wait_available(module, client, backup_arn, timeout):
    deadline = time.monotonic() + timeout
    while True:
        description = client.describe_backup(BackupArn=backup_arn,
                                             aws_retry=True)["BackupDescription"]
        status = description["BackupDetails"]["BackupStatus"]
        if status == "AVAILABLE":
            return description
        if status not in LIVE_STATUSES:
            module.fail_json(msg=f"backup {backup_arn} is {status}, not AVAILABLE",
                             backup=backup_result(description))
        if time.monotonic() > deadline:
            module.fail_json(msg=f"backup {backup_arn} was still {status} after {timeout} s",
                             backup=backup_result(description))
        time.sleep(2)


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            table=dict(type="str", required=True),
            backup_name=dict(type="str", required=True),
            reuse_existing=dict(type="bool", default=False),
            wait=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=900),
        ),
        supports_check_mode=True,
    )
    client = module.client("dynamodb", retry_decorator=AWSRetry.jittered_backoff())
    params = module.params
    table = params["table"]

    try:
        described = client.describe_table(TableName=table, aws_retry=True)["Table"]
    except is_boto3_error_code("ResourceNotFoundException"):
        module.fail_json(msg=f"table {table} does not exist in region {module.region}: "
                             "check table and region")
    except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Could not read table {table}")

    try:
        found = None
        if params["reuse_existing"]:
            found = existing_backup(client, described["TableArn"], params["backup_name"])
        if found:
            description = client.describe_backup(BackupArn=found["BackupArn"],
                                                 aws_retry=True)["BackupDescription"]
            if params["wait"] and not module.check_mode:
                description = wait_available(module, client, found["BackupArn"],
                                             params["wait_timeout"])
            module.exit_json(changed=False, reused=True, backup=backup_result(description))

        if module.check_mode:
            module.exit_json(changed=True, reused=False, backup={
                "backup_name": params["backup_name"], "backup_type": "USER",
                "table_name": described["TableName"], "table_arn": described["TableArn"],
                "item_count": described.get("ItemCount")})

        details = client.create_backup(TableName=table, BackupName=params["backup_name"],
                                       aws_retry=True)["BackupDetails"]
        if params["wait"]:
            description = wait_available(module, client, details["BackupArn"],
                                         params["wait_timeout"])
        else:
            description = client.describe_backup(BackupArn=details["BackupArn"],
                                                 aws_retry=True)["BackupDescription"]
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Could not back up table {table}")

    module.exit_json(changed=True, reused=False, backup=backup_result(description))


if __name__ == "__main__":
    main()
