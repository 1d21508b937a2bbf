#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: route53_records_delete
short_description: Delete Route 53 record sets, then the health checks they referred to
version_added: 0.6.0
description:
  - Deletes each given record set as Route 53 holds it now (a DELETE must repeat the record
    exactly, so the module reads it first), one change batch per hosted zone, then waits until
    Route 53 reports the changes C(INSYNC).
  - Then deletes the given health checks (after the records, which may refer to them).
  - A record set or health check that is already gone is skipped, so a second run changes nothing.
  - Route 53 is global - the module reaches it whatever O(region) says (or without one).
  - Why a module of our own - M(amazon.aws.route53) needs every field of a record to delete it
    and reads O(region) as a latency-routing region, which excludes failover records; the
    records C(failover.aws.cleanup_plan) lists (from M(failover.aws.deployment_inventory_info))
    go here as they are.
options:
  records:
    description:
      - The record sets to delete, each a dict with C(hosted_zone_id), C(name), C(type) and, for
        a failover, weighted or latency record, C(set_identifier). Other keys (as
        M(failover.aws.deployment_inventory_info) returns a record) are ignored.
    type: list
    elements: dict
    required: true
  health_checks:
    description:
      - Health checks to delete once the records are gone, each a dict with the check's C(id)
        (other keys, as M(failover.aws.cleanup_plan) lists them, are ignored).
    type: list
    elements: dict
    default: []
  wait:
    description: Wait until Route 53 reports the deletions C(INSYNC).
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for C(INSYNC).
    type: int
    default: 300
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - Supports check mode - it reads the records and reports which it would delete.
author:
  - Event failover project team (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Delete the custom domain's failover records
  failover.aws.route53_records_delete:
    records:
      - {hosted_zone_id: Z0123456789ABCDEFGHIJ, name: api.example.com, type: A, set_identifier: evfail-primary}
      - {hosted_zone_id: Z0123456789ABCDEFGHIJ, name: api.example.com, type: A, set_identifier: evfail-secondary}
    health_checks:
      - {id: 0b5e3c1a-7f0e-4f4e-9a55-1c0f3d0f6a11}
"""

RETURN = r"""
deleted:
  description: The record sets deleted (in check mode, that would be deleted), as C(name type [set identifier]).
  type: list
  elements: str
  returned: always
  sample: ["api.example.com. A evfail-primary"]
deleted_health_checks:
  description: Ids of the health checks deleted (in check mode, that would be deleted).
  type: list
  elements: str
  returned: always
  sample: ["0b5e3c1a-7f0e-4f4e-9a55-1c0f3d0f6a11"]
"""

import time

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.failover.aws.plugins.module_utils import route53


def fqdn(name):
    return name.lower().rstrip(".") + "."


def current(client, wanted):
    """The record set Route 53 holds for ``wanted`` (zone, name, type, set identifier), or None."""
    name, kind = fqdn(wanted["name"]), wanted["type"]
    kwargs = {"HostedZoneId": wanted["hosted_zone_id"], "StartRecordName": name,
              "StartRecordType": kind}
    while True:
        page = client.list_resource_record_sets(aws_retry=True, **kwargs)
        for record in page.get("ResourceRecordSets", []):
            if fqdn(record["Name"]) != name or record["Type"] != kind:
                return None  # listed in order: past the name and type
            if record.get("SetIdentifier") == wanted.get("set_identifier"):
                return record
        if not page.get("IsTruncated"):
            return None
        kwargs.update(StartRecordName=page["NextRecordName"], StartRecordType=page["NextRecordType"])
        if page.get("NextRecordIdentifier"):
            kwargs["StartRecordIdentifier"] = page["NextRecordIdentifier"]


def label(record):
    return " ".join(filter(None, (record["Name"], record["Type"], record.get("SetIdentifier"))))


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            records=dict(type="list", elements="dict", required=True),
            health_checks=dict(type="list", elements="dict", default=[]),
            wait=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=300),
        ),
        supports_check_mode=True,
    )
    client = route53.client(module)
    for wanted in module.params["records"]:
        missing = [key for key in ("hosted_zone_id", "name", "type") if not wanted.get(key)]
        if missing:
            module.fail_json(msg=f"A record to delete has no {', '.join(missing)}: {wanted}")
    by_zone = {}
    try:
        for wanted in module.params["records"]:
            record = current(client, wanted)
            if record is not None:
                by_zone.setdefault(wanted["hosted_zone_id"], []).append(record)
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg="Could not read the record sets to delete")

    deleted = [label(record) for records in by_zone.values() for record in records]
    if by_zone and not module.check_mode:
        changes = []
        try:
            for zone, records in by_zone.items():
                batch = {"Changes": [{"Action": "DELETE", "ResourceRecordSet": r} for r in records]}
                answer = client.change_resource_record_sets(
                    aws_retry=True, HostedZoneId=zone, ChangeBatch=batch)
                changes.append(answer["ChangeInfo"]["Id"])
            deadline = time.monotonic() + module.params["wait_timeout"]
            while module.params["wait"] and changes:
                if client.get_change(aws_retry=True, Id=changes[0])["ChangeInfo"]["Status"] == "INSYNC":
                    changes.pop(0)
                elif time.monotonic() > deadline:
                    module.fail_json(msg=f"Route 53 has not applied the deletions within "
                                         f"{module.params['wait_timeout']} s (change {changes[0]})",
                                     deleted=deleted)
                else:
                    time.sleep(2)
        except (BotoCoreError, ClientError) as e:
            module.fail_json_aws(e, msg=f"Could not delete the record sets {', '.join(deleted)}")
    checks = []
    for check_id in [check.get("id") for check in module.params["health_checks"]]:
        try:
            client.get_health_check(aws_retry=True, HealthCheckId=check_id)
            if not module.check_mode:
                client.delete_health_check(aws_retry=True, HealthCheckId=check_id)
            checks.append(check_id)
        except is_boto3_error_code("NoSuchHealthCheck"):
            continue
        except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
            module.fail_json_aws(e, msg=f"Could not delete health check {check_id}",
                                 deleted=deleted, deleted_health_checks=checks)
    module.exit_json(changed=bool(deleted or checks), deleted=deleted, deleted_health_checks=checks)


if __name__ == "__main__":
    main()
