#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: cleanup_plan
short_description: Plan a deployment's teardown - what is deleted, in which order, why, and what is refused
version_added: 0.6.0
description:
  - Takes what M(failover.aws.deployment_inventory_info) listed in the deployment's two regions
    and returns the ordered plan the project's C(cleanup) role carries out - the custom
    domain's records, the health checks, the execution log groups of the deployment's APIs, the
    secondary stack, the primary stack (each with what it owns), then the buckets and log groups
    no stack owned - each entry with the reason it is the deployment's; the tables to back up
    first; and what is refused and why.
  - Refuses (O(confirmation) given but wrong, regions equal, a name that is not a resource name
    prefix) by failing; a stack that shares the deployment's name prefix but is not one of its
    two stacks (another deployment, C(shop) and C(shop-eu)) is returned as RV(refusal), which
    the caller must honour by deleting nothing.
  - Makes no AWS call; the decision is in C(module_utils/cleanup.py), tested without AWS.
options:
  deployment_name:
    description: The deployment's name, the prefix of its resource names.
    type: str
    required: true
  primary_region:
    description: The primary region (its stack owns the global table; tables are backed up there).
    type: str
    required: true
  secondary_region:
    description: The secondary region (its stack is deleted first).
    type: str
    required: true
  primary_stack:
    description: Name of the primary region's stack; C(<deployment_name>-primary) when not given.
    type: str
  secondary_stack:
    description: Name of the secondary region's stack; C(<deployment_name>-secondary) when not given.
    type: str
  custom_domain:
    description: The deployment's custom domain (its records and API Gateway custom domain names are the deployment's).
    type: str
    default: ""
  inventories:
    description:
      - The results of M(failover.aws.deployment_inventory_info) with O(failover.aws.deployment_inventory_info#module:stack_resources=true)
        in each region (a registered loop's C(results) will do) - each with its C(region) and
        C(resources).
      - Empty, the plan is empty (only the inputs are checked).
    type: list
    elements: dict
    default: []
  links:
    description:
      - RV(links) of an earlier plan of the same run, before the stacks were deleted - their
        resources' physical ids and the REST API ids, which go with the stacks.
    type: dict
    default: {}
  backup_dir:
    description: Folder the table exports go to (RV(backups[].file)).
    type: path
    default: backups
  confirmation:
    description:
      - Empty - the caller only lists. The deployment's name - the caller backs up and deletes.
        Anything else fails.
    type: str
    default: ""
notes:
  - Supports check mode (it only computes); in check mode RV(listing) and RV(report) say that
    nothing is deleted.
author:
  - Event failover project team (!UNKNOWN)
"""

EXAMPLES = r"""
- name: List what the deployment has in each region
  failover.aws.deployment_inventory_info:
    name_prefix: evfail
    custom_domain: api.example.com
    stack_resources: true
    include_global: "{{ item == 'us-east-1' }}"
    region: "{{ item }}"
  loop: [us-east-1, us-west-2]
  register: inventory

- name: Plan the teardown
  failover.aws.cleanup_plan:
    deployment_name: evfail
    primary_region: us-east-1
    secondary_region: us-west-2
    custom_domain: api.example.com
    inventories: "{{ inventory.results }}"
  register: cleanup

- name: Show it
  ansible.builtin.debug:
    msg: "{{ cleanup.listing }}"

- name: Delete the health checks the plan names
  amazon.aws.route53_health_check:
    state: absent
    health_check_id: "{{ item.id }}"
  loop: "{{ cleanup.delete.health_checks }}"
  when: cleanup.confirmed and not cleanup.refusal
"""

RETURN = r"""
confirmed:
  description: Whether O(confirmation) is the deployment's name (back up and delete).
  type: bool
  returned: always
plan:
  description:
    - Everything of the deployment, in the order it goes - the resource as the inventory listed
      it plus C(kind) (the inventory's kind, such as C(stacks)), C(region) (C(global) for Route 53
      and IAM), C(order) (1, 2, ...), C(step) (one of C(records), C(health_checks),
      C(execution_log_groups), C(stacks), C(buckets), C(log_groups), or empty for what the
      cleanup does not delete itself), C(action) (what happens to it), C(reason) (why it is the
      deployment's - which name, tag or link matched) and C(line) (a summary line).
  type: list
  elements: dict
  returned: always
  sample:
    - {kind: records, region: global, name: api.example.com., type: A, order: 1, step: records,
       action: "delete first, so that no client is sent to a stack being deleted",
       reason: "it is the deployment's custom domain api.example.com",
       line: "global Route 53 record api.example.com. (A evfail-primary)"}
delete:
  description:
    - The entries of RV(plan) the caller deletes itself, by step (the keys of C(step) above), in
      order. A record also has C(value) (its values, or its alias target's DNS name).
  type: dict
  returned: always
backups:
  description: The tables to back up before anything is deleted, each once.
  type: list
  elements: dict
  returned: always
  contains:
    table:
      description: The table's name.
      type: str
    region:
      description: Where to read it (the primary region when it has a replica there).
      type: str
    file:
      description: Where its export goes - C(<backup_dir>/<table>-<UTC stamp>.json).
      type: str
    backup_name:
      description: Name of its on-demand backup - C(<table>-cleanup-<UTC stamp>).
      type: str
refused:
  description:
    - What the inventories listed that the cleanup will not delete, with C(kind), C(region),
      C(reason) and C(line) - stacks of another deployment that shares the name prefix, that
      deployment's resources, and anything C(owned) does not make the deployment's.
  type: list
  elements: dict
  returned: always
refusal:
  description: Why the cleanup must delete nothing at all (another deployment shares the prefix); empty when it may go on.
  type: str
  returned: always
found:
  description: One line per entry of RV(plan), for people.
  type: list
  elements: str
  returned: always
  sample: ["us-east-1 CloudFormation stack evfail-primary (CREATE_COMPLETE)"]
links:
  description: The stacks' resources' physical ids (C(stack_owned)) and the REST API ids (C(rest_api_ids)); pass them to later plans as O(links).
  type: dict
  returned: always
stack_problems:
  description: For each of the deployment's stacks CloudFormation could not delete, why (the resources that block it and their reasons).
  type: dict
  returned: always
  sample: {evfail-primary: "Stack evfail-primary in us-east-1 is DELETE_FAILED; these resources block its delete: EventsTable (...): ..."}
listing:
  description: What to show before anything happens - a heading, the tables to back up, the plan line by line with its reasons, what is refused.
  type: list
  elements: str
  returned: always
report:
  description: The line that ends a confirmed run (gone, dry run, or nothing to do).
  type: str
  returned: always
"""

from datetime import datetime, timezone

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.failover.aws.plugins.module_utils import cleanup


def main():
    module = AnsibleModule(
        argument_spec=dict(
            deployment_name=dict(type="str", required=True),
            primary_region=dict(type="str", required=True),
            secondary_region=dict(type="str", required=True),
            primary_stack=dict(type="str"),
            secondary_stack=dict(type="str"),
            custom_domain=dict(type="str", default=""),
            inventories=dict(type="list", elements="dict", default=[]),
            links=dict(type="dict", default={}),
            backup_dir=dict(type="path", default="backups"),
            confirmation=dict(type="str", default=""),
        ),
        supports_check_mode=True,
    )
    p = module.params
    problems = cleanup.input_problems(p["deployment_name"], p["primary_region"],
                                      p["secondary_region"], p["confirmation"])
    if problems:
        module.fail_json(msg=" ".join(problems), problems=problems)
    regions = [p["primary_region"], p["secondary_region"]]
    result = cleanup.plan(
        p["deployment_name"], p["primary_region"], p["secondary_region"], p["inventories"],
        primary_stack=p["primary_stack"], secondary_stack=p["secondary_stack"],
        custom_domain=p["custom_domain"], backup_dir=p["backup_dir"],
        # timezone.utc, not datetime.UTC: modules run on Python versions before 3.11 too.
        stamp=datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ"),  # noqa: UP017
        links=p["links"])
    confirmed = p["confirmation"] == p["deployment_name"]
    module.exit_json(
        changed=False, confirmed=confirmed, **result,
        listing=cleanup.listing(result, p["deployment_name"], regions, confirmed,
                                module.check_mode),
        report=cleanup.report(result, p["deployment_name"], regions, module.check_mode))


if __name__ == "__main__":
    main()
