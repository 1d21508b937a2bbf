#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: deployment_inventory_info
short_description: List what one deployment has in a region (and in Route 53 and IAM)
version_added: 0.3.0
description:
  - Finds everything of one deployment in the module's region that costs money or would block
    a redeploy, by the deployment's name prefix - CloudFormation stacks (any status but
    C(DELETE_COMPLETE)), DynamoDB tables, SQS queues, Lambda functions, REST APIs, EventBridge
    buses, S3 buckets located in the region, CloudWatch log groups - and by its custom domain,
    the API Gateway custom domain names.
  - With O(include_global=true), also what is global - the deployment's Route 53 health checks
    (C(Name) tag C(<health_check_name_prefix>-primary) or C(-secondary), found as
    M(failover.aws.deployment_health_checks_info) finds them), the records of O(custom_domain)
    in its hosted zone, and IAM roles with the prefix (named roles block a redeploy).
  - A name belongs to the deployment when it is O(name_prefix) or starts with O(name_prefix)
    followed by C(-); for a log group, when one of its C(/)-separated parts does (so
    C(/aws/lambda/<prefix>-processor)), or when it is the execution log group
    C(API-Gateway-Execution-Logs_<id>/...) of one of the deployment's REST APIs or of
    O(rest_api_ids). The test is C(owned) in the collection's C(module_utils/cleanup.py), the
    one M(failover.aws.cleanup_plan) applies too.
  - Why a module of our own - the collections cover only part of this, each with its own
    filter, so a teardown and its verification would take a dozen tasks per region and still
    miss some - M(amazon.aws.cloudformation_info), M(amazon.aws.lambda_info),
    M(community.aws.api_gateway_info), M(amazon.aws.s3_bucket_info) (no bucket region filter)
    and M(amazon.aws.cloudwatchlogs_log_group_info) (one prefix, not a path part) list their
    resources; M(community.aws.dynamodb_table_info) describes one table by its exact name;
    M(amazon.aws.route53_info) lists health checks and their tags in separate calls without a
    tag filter; nothing lists SQS queues, EventBridge buses or API Gateway custom domain names
    (M(community.aws.sqs_queue), M(amazon.aws.cloudwatchevent_rule) and
    M(community.aws.api_gateway_domain) only manage them).
  - Reads only; DynamoDB backups, hosted zones and ACM certificates are not listed (a teardown
    keeps them).
options:
  name_prefix:
    description: The deployment's name, the prefix of its resource names.
    type: str
    required: true
  custom_domain:
    description: The deployment's custom domain (API Gateway custom domain name and Route 53 records).
    type: str
  hosted_zone_name:
    description:
      - Hosted zone that holds the records of O(custom_domain). When not given, the most
        specific hosted zone(s) whose name contains O(custom_domain).
    type: str
  health_check_name_prefix:
    description:
      - The name the health checks were given by the C(dns_failover) role (its
        C(dns_failover_name_prefix)) - their C(Name) tags are exactly C(<this>-primary) and
        C(<this>-secondary); O(name_prefix) when not given.
    type: str
  stack_resources:
    description: Also list each stack's resources (C(resources) of each stack in RV(resources)).
    version_added: 0.6.0
    type: bool
    default: false
  rest_api_ids:
    description:
      - IDs of REST APIs of the deployment that may already be deleted, whose execution log
        groups (C(API-Gateway-Execution-Logs_<id>/<stage>), created by API Gateway at run time)
        still belong to it.
    type: list
    elements: str
    default: []
  include_global:
    description: Also list Route 53 health checks and records and IAM roles.
    type: bool
    default: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - Supports check mode (it only reads).
  - A deployment whose name is another's followed by C(-) (C(shop) and C(shop-eu)) shares its
    prefix; the other deployment's resources are listed too. Callers that delete what this
    module lists must refuse in that case (M(failover.aws.cleanup_plan) returns the refusal the
    project's C(cleanup) role honours).
author:
  - Event failover project team (!UNKNOWN)
"""

EXAMPLES = r"""
- name: List what the deployment has in this region and in Route 53
  failover.aws.deployment_inventory_info:
    name_prefix: evfail
    custom_domain: api.example.com
    hosted_zone_name: example.com
  register: inventory

- name: Show it
  ansible.builtin.debug:
    msg: "{{ inventory.summary }}"

- name: Fail when anything of the deployment remains in the secondary region
  failover.aws.deployment_inventory_info:
    name_prefix: evfail
    custom_domain: api.example.com
    include_global: false
    region: us-west-2
  register: leftovers
  failed_when: leftovers.count > 0
"""

RETURN = r"""
resources:
  description:
    - What was found, by kind. Every kind is always present (an empty list when none, and for
      the global kinds when O(include_global=false)).
  type: dict
  returned: always
  contains:
    stacks:
      description:
        - CloudFormation stacks - C(name), C(stack_id), C(status), C(status_reason), and with
          O(stack_resources=true) C(resources), each with C(logical_id), C(type),
          C(physical_id), C(status) and C(status_reason).
      type: list
      elements: dict
    tables:
      description: DynamoDB tables - C(name), C(arn), C(status), C(item_count), C(replica_regions), C(deletion_protection).
      type: list
      elements: dict
    queues:
      description: SQS queues - C(name), C(url).
      type: list
      elements: dict
    functions:
      description: Lambda functions - C(name), C(arn).
      type: list
      elements: dict
    rest_apis:
      description: REST APIs - C(id), C(name).
      type: list
      elements: dict
    domain_names:
      description: API Gateway custom domain names - C(domain_name), C(regional_domain_name).
      type: list
      elements: dict
    event_buses:
      description: EventBridge buses - C(name), C(arn).
      type: list
      elements: dict
    buckets:
      description: S3 buckets located in the region - C(name), C(region).
      type: list
      elements: dict
    log_groups:
      description: CloudWatch log groups - C(name), C(stored_bytes).
      type: list
      elements: dict
    health_checks:
      description: Route 53 health checks, the primary's first - C(id), C(name), C(type), C(fqdn), C(resource_path), C(port) and more.
      type: list
      elements: dict
    records:
      description:
        - Route 53 records of the custom domain (the zone's own NS and SOA excluded) -
          C(hosted_zone_id), C(zone_name), C(name), C(type), C(set_identifier), C(failover),
          C(weight), C(latency_region), C(ttl), C(values), C(alias) (true for an alias),
          C(alias_dns_name), C(alias_hosted_zone_id), C(alias_evaluate_target_health),
          C(health_check_id).
      type: list
      elements: dict
    iam_roles:
      description: IAM roles - C(name), C(arn).
      type: list
      elements: dict
summary:
  description: One line per resource, for people.
  type: list
  elements: str
  returned: always
  sample: ["us-east-1 CloudFormation stack evfail-primary (CREATE_COMPLETE)", "global Route 53 health check 0a1b... (evfail-primary)"]
count:
  description: Number of resources found.
  type: int
  returned: always
region:
  description: The region listed (the global kinds are listed with it).
  type: str
  returned: always
  sample: us-east-1
  version_added: 0.6.0
"""

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.failover.aws.plugins.module_utils import route53
from ansible_collections.failover.aws.plugins.module_utils.cleanup import (
    GLOBAL_KINDS,
    REGIONAL_KINDS,
    dns_name,
    owned,
    summary_line,
)


def pages(call, items_key, token_in, token_out, **kwargs):
    """Every item of a paginated list call (token names differ from service to service)."""
    while True:
        page = call(aws_retry=True, **kwargs)
        yield from page.get(items_key) or []
        token = page.get(token_out)
        if not token:
            return
        kwargs[token_in] = token


class Inventory:
    """The deployment's resources, found kind by kind."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.prefix = module.params["name_prefix"]
        self.region = module.region
        self.retry = AWSRetry.jittered_backoff()

    def client(self, service):
        return self.module.client(service, retry_decorator=self.retry)

    def owned(self, name, kind="stacks", api_ids=()):
        return bool(owned(self.prefix, kind, {"name": name}, api_ids=api_ids))

    # -- regional --------------------------------------------------------------------------

    def stacks(self):
        cfn = self.client("cloudformation")
        found = [{"name": s["StackName"], "stack_id": s["StackId"], "status": s["StackStatus"],
                  "status_reason": s.get("StackStatusReason")}
                 for s in pages(cfn.describe_stacks, "Stacks", "NextToken", "NextToken")
                 if self.owned(s["StackName"]) and s["StackStatus"] != "DELETE_COMPLETE"]
        for stack in found if self.params["stack_resources"] else []:
            stack["resources"] = [
                {"logical_id": r["LogicalResourceId"], "type": r["ResourceType"],
                 "physical_id": r.get("PhysicalResourceId"), "status": r.get("ResourceStatus"),
                 "status_reason": r.get("ResourceStatusReason")}
                for r in pages(cfn.list_stack_resources, "StackResourceSummaries", "NextToken",
                               "NextToken", StackName=stack["stack_id"])]
        return found

    def tables(self):
        ddb = self.client("dynamodb")
        names = [n for n in pages(ddb.list_tables, "TableNames", "ExclusiveStartTableName",
                                  "LastEvaluatedTableName") if self.owned(n)]
        found = []
        for name in names:
            try:
                table = ddb.describe_table(TableName=name, aws_retry=True)["Table"]
            except ClientError as e:
                if e.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                    continue  # deleted since it was listed
                raise
            found.append({
                "name": name, "arn": table.get("TableArn"), "status": table.get("TableStatus"),
                "item_count": table.get("ItemCount"),
                "replica_regions": [r["RegionName"] for r in table.get("Replicas", [])],
                "deletion_protection": bool(table.get("DeletionProtectionEnabled")),
            })
        return found

    def queues(self):
        sqs = self.client("sqs")
        urls = pages(sqs.list_queues, "QueueUrls", "NextToken", "NextToken",
                     QueueNamePrefix=self.prefix, MaxResults=1000)
        return [{"name": url.rstrip("/").rsplit("/", 1)[-1], "url": url} for url in urls
                if self.owned(url.rstrip("/").rsplit("/", 1)[-1])]

    def functions(self):
        lam = self.client("lambda")
        return [{"name": f["FunctionName"], "arn": f["FunctionArn"]}
                for f in pages(lam.list_functions, "Functions", "Marker", "NextMarker")
                if self.owned(f["FunctionName"])]

    def rest_apis(self):
        apigw = self.client("apigateway")
        return [{"id": api["id"], "name": api.get("name")}
                for api in pages(apigw.get_rest_apis, "items", "position", "position", limit=500)
                if self.owned(api.get("name"))]

    def domain_names(self):
        domain = self.params["custom_domain"]
        if not domain:
            return []
        apigw = self.client("apigateway")
        return [{"domain_name": d["domainName"],
                 "regional_domain_name": d.get("regionalDomainName")}
                for d in pages(apigw.get_domain_names, "items", "position", "position", limit=500)
                if dns_name(d["domainName"]) == dns_name(domain)]

    def event_buses(self):
        events = self.client("events")
        return [{"name": bus["Name"], "arn": bus["Arn"]}
                for bus in pages(events.list_event_buses, "EventBuses", "NextToken", "NextToken",
                                 NamePrefix=self.prefix)
                if self.owned(bus["Name"])]

    def buckets(self):
        s3 = self.client("s3")
        found = []
        for bucket in pages(s3.list_buckets, "Buckets", "ContinuationToken",
                            "ContinuationToken"):
            if not self.owned(bucket["Name"]):
                continue
            region = bucket.get("BucketRegion")
            if not region:
                try:
                    location = s3.get_bucket_location(Bucket=bucket["Name"], aws_retry=True)
                except ClientError as e:
                    if e.response.get("Error", {}).get("Code") == "NoSuchBucket":
                        continue
                    raise
                region = location.get("LocationConstraint") or "us-east-1"
                region = "eu-west-1" if region == "EU" else region
            if region == self.region:
                found.append({"name": bucket["Name"], "region": region})
        return found

    def log_groups(self, api_ids):
        logs = self.client("logs")
        return [{"name": g["logGroupName"], "stored_bytes": g.get("storedBytes", 0)}
                for g in pages(logs.describe_log_groups, "logGroups", "nextToken", "nextToken")
                if self.owned(g["logGroupName"], "log_groups", api_ids)]

    # -- global ----------------------------------------------------------------------------

    def health_checks(self):
        name = self.params["health_check_name_prefix"] or self.prefix
        client = route53.client(self.module)
        return list(route53.deployment_health_checks(client, name).values())

    def zones(self, client):
        domain = dns_name(self.params["custom_domain"])
        wanted = self.params["hosted_zone_name"]
        zones = list(pages(client.list_hosted_zones, "HostedZones", "Marker", "NextMarker"))
        if wanted:
            return [z for z in zones if dns_name(z["Name"]) == dns_name(wanted)]
        containing = [z for z in zones
                      if domain == dns_name(z["Name"]) or domain.endswith("." + dns_name(z["Name"]))]
        if not containing:
            return []
        longest = max(len(dns_name(z["Name"])) for z in containing)
        return [z for z in containing if len(dns_name(z["Name"])) == longest]

    def records(self):
        if not self.params["custom_domain"]:
            return []
        client = route53.client(self.module)
        domain = dns_name(self.params["custom_domain"])
        found = []
        for zone in self.zones(client):
            zone_name = dns_name(zone["Name"])
            kwargs = {"HostedZoneId": zone["Id"], "StartRecordName": domain}
            while True:
                page = client.list_resource_record_sets(aws_retry=True, **kwargs)
                sets = page.get("ResourceRecordSets", [])
                for record in sets:
                    if dns_name(record["Name"]) != domain:
                        continue
                    if domain == zone_name and record["Type"] in ("NS", "SOA"):
                        continue  # the zone's own records, not the deployment's
                    found.append(self.record(zone, zone_name, record))
                if not page.get("IsTruncated") or any(dns_name(r["Name"]) != domain
                                                      for r in sets):
                    break
                kwargs = {"HostedZoneId": zone["Id"], "StartRecordName": page["NextRecordName"],
                          "StartRecordType": page["NextRecordType"]}
                if page.get("NextRecordIdentifier"):
                    kwargs["StartRecordIdentifier"] = page["NextRecordIdentifier"]
        return found

    @staticmethod
    def record(zone, zone_name, record):
        alias = record.get("AliasTarget") or {}
        return {
            "hosted_zone_id": zone["Id"].rsplit("/", 1)[-1], "zone_name": zone_name,
            "name": dns_name(record["Name"]), "type": record["Type"],
            "set_identifier": record.get("SetIdentifier"), "failover": record.get("Failover"),
            "weight": record.get("Weight"), "latency_region": record.get("Region"),
            "ttl": record.get("TTL"),
            "values": [r["Value"] for r in record.get("ResourceRecords", [])],
            "alias": bool(alias), "alias_dns_name": alias.get("DNSName"),
            "alias_hosted_zone_id": alias.get("HostedZoneId"),
            "alias_evaluate_target_health": alias.get("EvaluateTargetHealth"),
            "health_check_id": record.get("HealthCheckId"),
        }

    def iam_roles(self):
        iam = self.client("iam")
        return [{"name": role["RoleName"], "arn": role["Arn"]}
                for role in pages(iam.list_roles, "Roles", "Marker", "Marker")
                if self.owned(role["RoleName"])]


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            name_prefix=dict(type="str", required=True),
            custom_domain=dict(type="str"),
            hosted_zone_name=dict(type="str"),
            health_check_name_prefix=dict(type="str"),
            rest_api_ids=dict(type="list", elements="str", default=[]),
            include_global=dict(type="bool", default=True),
            stack_resources=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    if not module.params["name_prefix"].strip():
        module.fail_json(msg="name_prefix must not be empty: it would match every resource")
    inventory = Inventory(module)
    resources = {kind: [] for kind in REGIONAL_KINDS + GLOBAL_KINDS}
    kind = None
    try:
        for kind in REGIONAL_KINDS:
            if kind == "log_groups":
                api_ids = [api["id"] for api in resources["rest_apis"]]
                api_ids += [i for i in module.params["rest_api_ids"] if i not in api_ids]
                resources[kind] = inventory.log_groups(api_ids)
            else:
                resources[kind] = getattr(inventory, kind)()
        if module.params["include_global"]:
            for kind in GLOBAL_KINDS:
                resources[kind] = getattr(inventory, kind)()
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Could not list the deployment's {kind.replace('_', ' ')} "
                                    f"in {module.region}")

    summary = [summary_line(kind, module.region, resource)
               for kind, found in resources.items() for resource in found]
    module.exit_json(changed=False, resources=resources, summary=summary, count=len(summary),
                     region=module.region)


if __name__ == "__main__":
    main()
