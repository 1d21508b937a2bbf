# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the cleanup deletes, in which order and why, and what it refuses: the whole decision.

Pure Python, no AWS calls: the input is what M(failover.aws.deployment_inventory_info) listed
in the deployment's two regions (Route 53 and IAM come with the primary's listing, each stack
with its resources); the output is the plan the ``cleanup`` role carries out, step by step.

Ownership. ``owned()`` is the one test of "this is the deployment's" and says why. Today a name
is the deployment's when it is the deployment's name or starts with it followed by ``-`` (for a
log group, any ``/``-separated part of its name), a health check when its ``Name`` tag is
``<deployment>-primary`` or ``<deployment>-secondary``, a record or API Gateway custom domain
when it is the custom domain, and an execution log group when it belongs to one of the
deployment's REST APIs. (A later change to "exact name or Deployment tag" happens there.)

Order, the reverse of a deploy (``STEPS``):

1. ``records``: the custom domain's Route 53 records, so that no client is sent to a region
   while its stack is deleted;
2. ``health_checks``: the deployment's Route 53 health checks (the records referred to them);
3. ``execution_log_groups``: the log groups API Gateway made for the deployment's APIs
   (``API-Gateway-Execution-Logs_<api id>/<stage>``), while a stack is still there: the API id
   is their only link to the deployment and goes with the stacks;
4. ``stacks``: the secondary stack, then the primary stack (it owns the global table), each
   with everything it lists as its resources;
5. ``buckets``: buckets no stack owned (emptied of every object version first);
6. ``log_groups``: log groups no stack owned (with no stack left, the execution log groups too).

Before step 1 every table is backed up (``backups``), once, read in the primary region when it
has a replica there. What the steps do not delete (a queue no stack lists, say) stays in the
plan as "not deleted by the cleanup", and the final check names it if it is still there.

Refused: a stack that shares the deployment's name prefix but is not one of its two stacks is
another deployment's (``shop`` and ``shop-eu``): a cleanup by prefix would reach that
deployment's resources too, so the cleanup refuses as a whole (``refusal``), and the resources
named after the other deployment are left out of the plan.
"""

from __future__ import annotations

import json
import posixpath
import re

from ansible_collections.failover.aws.plugins.module_utils.route53 import ROLES

EXECUTION_LOGS = "API-Gateway-Execution-Logs_"
STEPS = ("records", "health_checks", "execution_log_groups", "stacks", "buckets", "log_groups")
REGIONAL_KINDS = ("stacks", "tables", "queues", "functions", "rest_apis", "domain_names",
                  "event_buses", "buckets", "log_groups")
GLOBAL_KINDS = ("health_checks", "records", "iam_roles")
# The kinds only a stack deletes (the cleanup deletes none of them itself).
STACK_KINDS = ("tables", "queues", "functions", "rest_apis", "domain_names", "event_buses",
               "iam_roles")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*$")

# One summary line per resource: label, the key that names it, the key shown in brackets.
LABELS = {
    "stacks": ("CloudFormation stack", "name", "status"),
    "tables": ("DynamoDB table", "name", "status"),
    "queues": ("SQS queue", "name", None),
    "functions": ("Lambda function", "name", None),
    "rest_apis": ("REST API", "id", "name"),
    "domain_names": ("API Gateway custom domain", "domain_name", None),
    "event_buses": ("EventBridge bus", "name", None),
    "buckets": ("S3 bucket", "name", None),
    "log_groups": ("log group", "name", None),
    "health_checks": ("Route 53 health check", "id", "name"),
    "records": ("Route 53 record", "name", "type"),
    "iam_roles": ("IAM role", "name", None),
}

ACTIONS = {
    "records": "delete first, so that no client is sent to a stack being deleted",
    "health_checks": "delete",
    "execution_log_groups": "delete before the stacks, while its API's id is known",
    "stacks": "delete and wait for DELETE_COMPLETE",
    "buckets": "empty (every object version) and delete",
    "log_groups": "delete",
}
GONE_STACK = ("not deleted by the cleanup, as a stack that is gone owned it; the final check "
              "names it if it is still there")
NOT_DELETED = ("not deleted by the cleanup, as no stack of the deployment lists it; the final "
               "check names it if it is still there")


def dns_name(name):
    """``name`` in lower case with the final dot, as Route 53 returns it."""
    name = (name or "").lower().replace("\\052", "*")
    return name if name.endswith(".") else name + "."


def named(name, deployment, what="its name"):
    """Why ``name`` is named after ``deployment``, or ''."""
    if not name or not deployment:
        return ""
    if name == deployment:
        return f"{what} is {deployment}"
    if name.startswith(deployment + "-"):
        return f"{what} starts with {deployment}-"
    return ""


def owned(deployment, kind, resource, custom_domain="", api_ids=()):
    """Why ``resource`` (a ``kind`` as deployment_inventory_info lists it) is the deployment's,
    or '' when nothing makes it so. The one ownership test of the cleanup and its listing."""
    if kind == "health_checks":
        name = resource.get("name") or ""
        for role in ROLES:
            if name == f"{deployment}-{role}":
                return f"its Name tag is {name}, the deployment's {role} health check"
        return ""
    if kind in ("records", "domain_names"):
        name = resource.get("name" if kind == "records" else "domain_name")
        if custom_domain and dns_name(name) == dns_name(custom_domain):
            return f"it is the deployment's custom domain {custom_domain}"
        return ""
    if kind == "log_groups":
        name = resource.get("name") or ""
        for api_id in api_ids:
            if name.startswith(f"{EXECUTION_LOGS}{api_id}/"):
                return f"it is the execution log group of the deployment's REST API {api_id}"
        for part in name.split("/"):
            why = named(part, deployment, "its name" if part == name else f"its path part {part}")
            if why:
                return why
        return ""
    return named(resource.get("name"), deployment)


def summary_line(kind, region, resource):
    """One line for people: ``us-east-1 DynamoDB table evfail-events (ACTIVE)``."""
    label, key, detail = LABELS[kind]
    where = "global" if kind in GLOBAL_KINDS else region
    line = f"{where} {label} {resource[key]}"
    if kind == "records" and resource.get("set_identifier"):
        line += f" ({resource['type']} {resource['set_identifier']})"
    elif detail and resource.get(detail):
        line += f" ({resource[detail]})"
    return line


def input_problems(deployment, primary_region, secondary_region, confirmation):
    """What is wrong with the inputs, one message each (nothing is listed or deleted then)."""
    problems = []
    if primary_region == secondary_region:
        problems.append(
            f"The primary and the secondary region are both {primary_region}: set the "
            "deployment's two regions (primary_region and secondary_region in "
            "inventories/<env>/group_vars/all/main.yml).")
    if not NAME.match(deployment or ""):
        problems.append(
            f"The deployment's name {json.dumps(deployment)} is not a resource name prefix "
            "(letters, digits and hyphens): set deployment_name in "
            "inventories/<env>/group_vars/all/main.yml.")
    if confirmation not in ("", deployment):
        problems.append(
            f"The confirmation {json.dumps(confirmation)} is not the deployment's name "
            f"{deployment}: nothing was deleted. Confirm with the deployment's name "
            f"(cleanup_confirmation; with playbooks/cleanup.yml, -e confirm_cleanup={deployment}).")
    return problems


def identifiers(resource):
    """Every value a stack may record as the resource's physical id (name, id, URL, ARN)."""
    return {resource.get(key) for key in ("name", "id", "url", "arn", "domain_name")} - {None}


def physical_ids(stack):
    """The physical ids of ``stack``'s resources; for a URL (an SQS queue's) also its last part,
    the queue's name, since the URL's host differs from endpoint to endpoint."""
    ids = {r.get("physical_id") for r in stack.get("resources") or []} - {None, ""}
    return ids | {i.rstrip("/").rsplit("/", 1)[-1] for i in ids if "://" in i}


def stack_problem(stack, region):
    """Why ``stack`` is not deleted, from its status and its resources' (or '' if unknown)."""
    blocking = [f"{r['logical_id']} ({r['type']} {r.get('physical_id') or ''}): "
                f"{r.get('status_reason') or 'no reason given'}"
                for r in stack.get("resources") or [] if r.get("status") == "DELETE_FAILED"]
    status = stack.get("status") or "not deleted"
    if blocking:
        return (f"Stack {stack['name']} in {region} is {status}; these resources block its "
                f"delete: {'; '.join(blocking)}.")
    if stack.get("status_reason"):
        return f"Stack {stack['name']} in {region} is {status}: {stack['status_reason']}."
    return ""


def plan(deployment, primary_region, secondary_region, inventories, primary_stack="",
         secondary_stack="", custom_domain="", backup_dir="backups", stamp="", links=None):
    """The cleanup of ``deployment`` from ``inventories`` (deployment_inventory_info results,
    each with its ``region``), as the ``cleanup_plan`` module returns it.

    ``links`` is what an earlier plan of the same run returned as ``links``: the stacks' physical
    resource ids and the REST API ids, which go with the stacks, so that a plan made after them
    still knows which buckets and log groups were the stacks' and which execution log groups
    are the deployment's.
    """
    links = links or {}
    wanted = [(secondary_stack or f"{deployment}-secondary", secondary_region, "secondary"),
              (primary_stack or f"{deployment}-primary", primary_region, "primary")]
    found = [(kind, inventory["region"], resource)
             for inventory in inventories
             for kind in REGIONAL_KINDS + GLOBAL_KINDS
             for resource in (inventory.get("resources") or {}).get(kind) or []]

    # The deployment's stacks by exact name and region, secondary first; any other is foreign.
    stacks = [dict(stack, kind="stacks", region=region,
                   reason=f"it is the deployment's {role} stack, {name} in {region}")
              for name, region, role in wanted
              for kind, where, stack in found
              if kind == "stacks" and stack["name"] == name and where == region]
    ours = {(stack["name"], stack["region"]) for stack in stacks}
    expected = " or ".join(f"{name} ({region})" for name, region, role in wanted)
    foreign = [dict(stack, kind="stacks", region=where,
                    reason=f"it shares the name prefix {deployment}- but is not {expected}")
               for kind, where, stack in found
               if kind == "stacks" and (stack["name"], where) not in ours]
    # A foreign stack named <other>-primary or <other>-secondary names another deployment.
    others = sorted({stack["name"].rsplit("-", 1)[0] for stack in foreign
                     if stack["name"].rsplit("-", 1)[-1] in ROLES}, key=len, reverse=True)

    by_stack = {stack["name"]: physical_ids(stack) for stack in stacks}
    stack_owned = set(links.get("stack_owned") or []).union(*by_stack.values())
    api_ids = list(links.get("rest_api_ids") or [])
    api_ids += [api["id"] for kind, where, api in found
                if kind == "rest_apis" and api["id"] not in api_ids]

    steps = {step: [] for step in STEPS}
    steps["stacks"] = stacks
    with_stack = {stack["name"]: [] for stack in stacks}
    left, refused = [], list(foreign)
    for kind, region, resource in found:
        if kind == "stacks":
            continue
        entry = dict(resource, kind=kind, region="global" if kind in GLOBAL_KINDS else region)
        other = next((o for o in others if owned(o, kind, resource)), None)
        entry["reason"] = owned(deployment, kind, resource, custom_domain, api_ids)
        # The stack of the resource's own region first: the primary's global table owns the
        # secondary's replica too, and IAM is global.
        owner = next((s["name"] for s in sorted(stacks, key=lambda s: s["region"] != region)
                      if identifiers(resource) & by_stack[s["name"]]), "")
        if other:
            entry["reason"] = f"it is deployment {other}'s (its stacks share the name prefix)"
            refused.append(entry)
        elif not entry["reason"]:
            entry["reason"] = f"nothing makes it deployment {deployment}'s"
            refused.append(entry)
        elif owner:
            with_stack[owner].append(dict(entry, action=f"deleted with stack {owner}"))
        elif identifiers(resource) & stack_owned:
            left.append(dict(entry, action=GONE_STACK))
        elif kind in ("records", "health_checks", "buckets"):
            steps[kind].append(entry)
        elif kind == "log_groups":
            execution = stacks and resource["name"].startswith(EXECUTION_LOGS)
            steps["execution_log_groups" if execution else "log_groups"].append(entry)
        else:
            left.append(dict(entry, action=NOT_DELETED))
    for entry in steps["records"]:
        entry["value"] = [entry["alias_dns_name"]] if entry.get("alias") else entry.get("values")

    ordered = []
    for step in STEPS:
        for entry in steps[step]:
            entry.update(step=step, action=ACTIONS[step])
            ordered.append(entry)
            ordered.extend(dict(e, step=step) for e in with_stack.get(entry["name"], [])
                           if step == "stacks")
    ordered.extend(dict(entry, step="") for entry in left)
    for number, entry in enumerate(ordered, 1):
        entry.update(order=number, line=summary_line(entry["kind"], entry["region"], entry))
    for entry in refused:
        entry["line"] = summary_line(entry["kind"], entry["region"], entry)

    backups, seen = [], set()
    for entry in sorted((e for e in ordered if e["kind"] == "tables"),
                        key=lambda e: e["region"] != primary_region):
        if entry["name"] not in seen:
            seen.add(entry["name"])
            backups.append({"table": entry["name"], "region": entry["region"],
                            "file": posixpath.join(backup_dir, f"{entry['name']}-{stamp}.json"),
                            "backup_name": f"{entry['name']}-cleanup-{stamp}"})

    refusal = ""
    if foreign:
        refusal = (f"Stacks {', '.join(s['name'] + ' (' + s['region'] + ')' for s in foreign)} "
                   f"are not this deployment's ({wanted[0][0]}, {wanted[1][0]}) but share its "
                   f"name prefix {deployment}-, so a cleanup by prefix would reach their "
                   "resources too. Nothing was deleted. Tear that deployment down first, or "
                   "delete this one's stacks by hand.")
    problems = {stack["name"]: stack_problem(stack, stack["region"]) for stack in stacks}
    return {
        "plan": [without_none(entry) for entry in ordered],
        "delete": {step: [without_none(entry) for entry in steps[step]] for step in STEPS},
        "backups": backups,
        "refused": [without_none(entry) for entry in refused],
        "refusal": refusal,
        "found": [entry["line"] for entry in ordered],
        "links": {"stack_owned": sorted(stack_owned), "rest_api_ids": api_ids},
        "stack_problems": {name: problem for name, problem in problems.items() if problem},
    }


def without_none(entry):
    """``entry`` without its empty fields, so that a task can pass each one with default(omit)."""
    return {key: value for key, value in entry.items() if value is not None}


def listing(result, deployment, regions, confirmed, check_mode):
    """What the operator reads before anything happens: a heading, then the plan line by line
    (``<order>. <resource>: <action> (<why it is the deployment's>)``), then what is refused."""
    where = ", ".join(regions)
    count = len(result["plan"])
    if not count:
        head = f"Deployment {deployment}: nothing to delete in {where}, Route 53 or IAM."
    elif confirmed and check_mode:
        head = (f"Dry run, nothing is deleted: deployment {deployment} would have "
                f"{len(result['backups'])} table(s) backed up, then these {count} resources "
                "deleted:")
    elif confirmed:
        head = (f"Deployment {deployment}: backing up {len(result['backups'])} table(s), then "
                f"deleting these {count} resources:")
    else:
        head = (f"Deployment {deployment}: these {count} resources would be deleted (the stacks "
                "with what they own; the records, health checks, buckets and log groups outside "
                "the stacks by this role). Nothing was deleted: confirm with the deployment's "
                "name to back up and delete them.")
    lines = [head]
    lines += [f"Back up {b['table']} ({b['region']}) to {b['file']}" for b in result["backups"]
              if confirmed]
    lines += [f"{e['order']}. {e['line']}: {e['action']} ({e['reason']})" for e in result["plan"]]
    foreign = [f"{e['name']} ({e['region']})" for e in result["refused"] if e["kind"] == "stacks"]
    if foreign:
        lines.append(f"Other deployments share the name prefix {deployment}-: {', '.join(foreign)}")
    lines += [f"Not deleted: {e['line']} ({e['reason']})" for e in result["refused"]
              if e["kind"] != "stacks"]
    return lines


def report(result, deployment, regions, check_mode):
    """The line that ends a confirmed run."""
    where = ", ".join(regions)
    count = len(result["plan"])
    if not count:
        return (f"Nothing to do: nothing of deployment {deployment} is left in {where}, "
                "Route 53 or IAM.")
    if check_mode:
        return (f"Dry run, nothing deleted: deployment {deployment} would be gone from {where}, "
                f"Route 53 and IAM ({count} resources found).")
    return (f"Deployment {deployment} is gone from {where}, Route 53 and IAM ({count} resources "
            "deleted); the hosted zone and the certificates are kept.")
