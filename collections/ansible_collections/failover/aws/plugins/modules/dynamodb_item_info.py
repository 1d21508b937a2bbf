#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: dynamodb_item_info
short_description: Read items from a DynamoDB table by key
version_added: 0.1.0
description:
  - Reads one item (GetItem) or many (BatchGetItem) by their keys, with plain JSON values, so a
    playbook can assert on what a table holds.
  - Why a module of our own - neither amazon.aws nor community.aws has a module that reads
    DynamoDB items (M(community.aws.dynamodb_table) manages tables only).
options:
  table:
    description: Table name.
    type: str
    required: true
  keys:
    description: Keys of the items to read, each a dict of key attribute name to value (string or number).
    type: list
    elements: dict
    required: true
  consistent_read:
    description: Use strongly consistent reads (within one region; replicas of a global table are always eventually consistent).
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to keep reading until every key is found (a replica that has not caught up
        yet, an event still in its pipeline); RV(missing) lists those still missing after it.
        Not finding them is not a failure; assert on RV(missing) or RV(found).
      - Polling inside the module reacts within O(wait_poll_interval) and costs one module
        start, where C(until)/C(retries) on the task start the module again each round.
      - C(0) reads once.
    type: int
    default: 0
    version_added: 0.4.0
  wait_poll_interval:
    description: Seconds between reads while waiting.
    type: float
    default: 0.25
    version_added: 0.4.0
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
author:
  - Event failover project team (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Wait up to 30 s for the smoke event in the secondary replica
  failover.aws.dynamodb_item_info:
    table: evfail-events
    keys:
      - id: "{{ smoke_event_id }}"
    wait_timeout: 30
    region: us-west-2
  register: smoke_item
  failed_when: smoke_item.missing | length > 0
"""

RETURN = r"""
items:
  description: Items found, with DynamoDB types turned into plain JSON values.
  type: list
  elements: dict
  returned: always
found:
  description: Keys that were found (as given).
  type: list
  elements: dict
  returned: always
missing:
  description: Keys that were not found (as given).
  type: list
  elements: dict
  returned: always
waited_seconds:
  description: How long the module read before every key was found or O(wait_timeout) passed.
  type: float
  returned: always
"""

import time
from decimal import Decimal

try:
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

BATCH_LIMIT = 100  # BatchGetItem's maximum keys per call


def plain(value):
    """DynamoDB's Decimal numbers and sets as JSON-friendly values."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, set, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", "replace")
    return value


def read_items(client, table, keys, consistent):
    serializer = TypeSerializer()
    deserializer = TypeDeserializer()
    items = []
    for start in range(0, len(keys), BATCH_LIMIT):
        chunk = [{k: serializer.serialize(v) for k, v in key.items()} for key in keys[start:start + BATCH_LIMIT]]
        request = {table: {"Keys": chunk, "ConsistentRead": consistent}}
        while request:
            response = client.batch_get_item(RequestItems=request, aws_retry=True)
            for raw in response.get("Responses", {}).get(table, []):
                items.append({k: plain(deserializer.deserialize(v)) for k, v in raw.items()})
            request = response.get("UnprocessedKeys") or None
    return items


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            table=dict(type="str", required=True),
            keys=dict(type="list", elements="dict", required=True, no_log=False),
            consistent_read=dict(type="bool", default=False),
            wait_timeout=dict(type="int", default=0),
            wait_poll_interval=dict(type="float", default=0.25),
        ),
        supports_check_mode=True,
    )
    client = module.client("dynamodb", retry_decorator=AWSRetry.jittered_backoff())
    params = module.params
    keys = params["keys"]

    def matches(item, key):
        return all(str(item.get(name)) == str(value) for name, value in key.items())

    started = time.monotonic()
    deadline = started + max(params["wait_timeout"], 0)
    while True:
        try:
            items = read_items(client, params["table"], keys, params["consistent_read"])
        except (BotoCoreError, ClientError) as e:
            module.fail_json_aws(e, msg=f"Could not read items from table {params['table']}")
        found = [key for key in keys if any(matches(item, key) for item in items)]
        missing = [key for key in keys if key not in found]
        if not missing or time.monotonic() + params["wait_poll_interval"] > deadline:
            break
        time.sleep(params["wait_poll_interval"])
    module.exit_json(changed=False, items=items, found=found, missing=missing,
                     waited_seconds=round(time.monotonic() - started, 3))


if __name__ == "__main__":
    main()
