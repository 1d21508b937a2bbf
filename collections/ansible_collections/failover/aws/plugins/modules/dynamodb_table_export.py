#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: dynamodb_table_export
short_description: Export every item of a DynamoDB table to a JSON file, verified by a count
version_added: 0.3.0
description:
  - Scans the whole table in the module's region (following every page), then counts its items
    again with a C(Select=COUNT) scan, and writes the items to O(dest) only when both figures
    agree. When they differ (the table changed during the export) the module fails, says both
    figures and writes nothing, so a playbook never deletes a table on the strength of an
    incomplete copy.
  - The file holds the table's name, region, key schema, C(item_count) and the items, sorted
    by key, so the same items always give the same bytes; a rerun that finds the same items
    at the same O(dest) reports no change.
  - The file is written through a temporary file in the same folder and moved into place,
    with mode C(0600) (it holds the table's data).
  - Why a module of our own - neither amazon.aws nor community.aws reads a table's items
    (M(community.aws.dynamodb_table) and M(community.aws.dynamodb_table_info) manage and describe
    tables only), and DynamoDB's own ExportTableToPointInTime writes to S3 only, needs
    point-in-time recovery and takes minutes, while a teardown needs a file it can check at once.
options:
  table:
    description: Name (or ARN) of the table.
    type: str
    required: true
  dest:
    description:
      - Path of the JSON file to write on the host the module runs on (with the project's
        inventory, the controller). Its folder must exist.
    type: path
    required: true
  format:
    description:
      - V(plain) writes plain JSON values (numbers, strings, lists, objects; sets as sorted
        lists, binary as base64). Numbers beyond a double's precision are rounded and the set
        and binary types are not recorded.
      - V(dynamodb) writes the typed attribute values Scan returns (a string as an object
        with the key C(S), a number as one with the key C(N) and a decimal string, and so on),
        which keep every value exactly and can be written back with PutItem or BatchWriteItem
        as they are.
    type: str
    choices: [plain, dynamodb]
    default: plain
  consistent_read:
    description: Use strongly consistent scans (within the module's region).
    type: bool
    default: true
  page_size:
    description: Most items per Scan call (DynamoDB also stops a page at 1 MB); unset for DynamoDB's default.
    type: int
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - Supports check mode - it scans and counts as in a real run and writes nothing.
  - Every item is held in memory while the file is written.
  - Stop writes to the table first (a teardown does, by removing its DNS records); an export of
    a table that is being written to fails on the count check.
author:
  - Event failover project team (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Export the table before deleting it
  failover.aws.dynamodb_table_export:
    table: evfail-events
    dest: "backups/evfail-events-{{ stamp }}.json"
  register: table_export

- name: Say how many items were saved
  ansible.builtin.debug:
    msg: "{{ table_export.item_count }} items in {{ table_export.dest }}"
"""

RETURN = r"""
dest:
  description: Path of the file (written unless in check mode).
  type: str
  returned: always
item_count:
  description: Items exported (equal to RV(count_scan) when the module succeeds).
  type: int
  returned: always
count_scan:
  description: Items counted by the C(Select=COUNT) scan.
  type: int
  returned: always
sha256:
  description: Hex SHA-256 of the file's content.
  type: str
  returned: always
size:
  description: Size of the file's content in bytes.
  type: int
  returned: always
table_arn:
  description: ARN of the table in the module's region.
  type: str
  returned: always
"""

import hashlib
import json
import os
import tempfile

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.failover.aws.plugins.module_utils.dynamodb import item_as_json


def scan_pages(client, table, consistent, page_size, **extra):
    """Every page of a Scan, following LastEvaluatedKey."""
    kwargs = {"TableName": table, "ConsistentRead": consistent, **extra}
    if page_size:
        kwargs["Limit"] = page_size
    while True:
        page = client.scan(aws_retry=True, **kwargs)
        yield page
        if not page.get("LastEvaluatedKey"):
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def export_document(described, region, shape, items):
    """The file's content: the same items always give the same bytes."""
    keys = [key["AttributeName"] for key in described["KeySchema"]]

    def order(item):
        return json.dumps([item.get(name) for name in keys], sort_keys=True, default=str)

    document = {
        "table": described["TableName"],
        "region": region,
        "format": shape,
        "key_schema": [{"attribute_name": key["AttributeName"], "key_type": key["KeyType"]}
                       for key in described["KeySchema"]],
        "item_count": len(items),
        "items": sorted(items, key=order),
    }
    return (json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()


def write_atomically(module, dest, content):
    folder = os.path.dirname(dest) or "."
    handle, temp = tempfile.mkstemp(prefix=".export-", dir=folder)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
        module.atomic_move(temp, dest)
        # atomic_move gives a new file the umask's mode; the export holds the table's data.
        os.chmod(dest, 0o600)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            table=dict(type="str", required=True),
            dest=dict(type="path", required=True),
            format=dict(type="str", choices=["plain", "dynamodb"], default="plain"),
            consistent_read=dict(type="bool", default=True),
            page_size=dict(type="int"),
        ),
        supports_check_mode=True,
    )
    client = module.client("dynamodb", retry_decorator=AWSRetry.jittered_backoff())
    params = module.params
    table, dest = params["table"], params["dest"]
    if not os.path.isdir(os.path.dirname(dest) or "."):
        module.fail_json(msg=f"the folder of dest {dest} does not exist: create it first")

    try:
        described = client.describe_table(TableName=table, aws_retry=True)["Table"]
        items = [item_as_json(raw, params["format"])
                 for page in scan_pages(client, table, params["consistent_read"],
                                        params["page_size"])
                 for raw in page.get("Items", [])]
        counted = sum(page.get("Count", 0)
                      for page in scan_pages(client, table, params["consistent_read"],
                                             params["page_size"], Select="COUNT"))
    except is_boto3_error_code("ResourceNotFoundException"):
        module.fail_json(msg=f"table {table} does not exist in region {module.region}: "
                             "check table and region")
    except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Could not scan table {table}")

    if len(items) != counted:
        module.fail_json(
            msg=(f"export of table {table} in {module.region} is not complete: the scan returned "
                 f"{len(items)} items but a Select=COUNT scan counts {counted} (was the table "
                 f"written to during the export?); nothing was written to {dest}"),
            item_count=len(items), count_scan=counted, dest=dest)

    content = export_document(described, module.region, params["format"], items)
    result = {"dest": dest, "item_count": len(items), "count_scan": counted,
              "sha256": hashlib.sha256(content).hexdigest(), "size": len(content),
              "table_arn": described["TableArn"]}
    unchanged = False
    if os.path.isfile(dest):
        with open(dest, "rb") as stream:
            unchanged = stream.read() == content
    if not unchanged and not module.check_mode:
        try:
            write_atomically(module, dest, content)
        except OSError as e:
            module.fail_json(msg=f"Could not write {dest}: {e}", **result)
    module.exit_json(changed=not unchanged, **result)


if __name__ == "__main__":
    main()
