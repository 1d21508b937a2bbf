#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: cloudwatchlogs_log_events_info
short_description: Find log events in a CloudWatch Logs log group
version_added: 0.2.0
description:
  - Runs FilterLogEvents on a log group, across all its streams or some, following every page
    up to O(limit) events, so a playbook can assert that a log line arrived (a Lambda logged
    the id of the event it processed).
  - Why a module of our own - amazon.aws has modules for log groups
    (M(amazon.aws.cloudwatchlogs_log_group_info)) and metric filters, and none that reads log
    events.
options:
  log_group_name:
    description: Name of the log group.
    type: str
    required: true
  filter_pattern:
    description:
      - CloudWatch Logs filter pattern, for instance C("3f1c...") to find a quoted term. All
        events when not given.
    type: str
  log_stream_names:
    description: Search only these streams of the group.
    type: list
    elements: str
  log_stream_name_prefix:
    description: Search only the streams whose name starts with this prefix.
    type: str
  start_time:
    description:
      - Earliest event time, as epoch milliseconds (C(1764325200000)) or ISO-8601
        (C(2026-11-28T10:20:00Z); without a time zone, UTC).
    type: str
  end_time:
    description: Latest event time, in the same forms as O(start_time).
    type: str
  limit:
    description: Most events to return (pages are followed until this many are found).
    type: int
    default: 1000
  missing_ok:
    description: Return no events, rather than fail, when the log group does not exist.
    type: bool
    default: false
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
author:
  - Event failover project team (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Wait for the secondary's processor to log the drill's event
  failover.aws.cloudwatchlogs_log_events_info:
    log_group_name: /aws/lambda/evfail-processor
    filter_pattern: '"{{ drill_event_id }}"'
    start_time: "{{ drill_started_at }}"
    missing_ok: true
    region: us-west-2
  register: drill_logs
  until: drill_logs.events | length > 0
  retries: 30
  delay: 2
"""

RETURN = r"""
events:
  description: Matching events in the order FilterLogEvents returns them.
  type: list
  elements: dict
  returned: always
  contains:
    timestamp:
      description: Time of the event, epoch milliseconds.
      type: int
    timestamp_iso:
      description: Time of the event, UTC ISO-8601 with time zone.
      type: str
      sample: "2026-11-28T10:20:03.512000+00:00"
    message:
      description: The log line.
      type: str
    log_stream_name:
      description: Stream the event is in.
      type: str
    event_id:
      description: ID of the event.
      type: str
    ingestion_time:
      description: When CloudWatch Logs received the event, epoch milliseconds.
      type: int
log_group_exists:
  description: Whether the log group exists (false only with O(missing_ok=true)).
  type: bool
  returned: always
"""

import datetime

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

UTC = datetime.timezone.utc  # noqa: UP017 - modules may run on a target Python before 3.11


def epoch_ms(value):
    """Epoch milliseconds from epoch milliseconds or an ISO-8601 date (UTC when unzoned)."""
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return int(text)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    moment = datetime.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def iso(ms):
    return datetime.datetime.fromtimestamp(ms / 1000, UTC).isoformat()


def event_to_result(event):
    return {
        "timestamp": event["timestamp"],
        "timestamp_iso": iso(event["timestamp"]),
        "message": event.get("message", ""),
        "log_stream_name": event.get("logStreamName"),
        "event_id": event.get("eventId"),
        "ingestion_time": event.get("ingestionTime"),
    }


def find_events(client, request, limit):
    events = []
    while len(events) < limit:
        page = client.filter_log_events(aws_retry=True, limit=min(10000, limit - len(events)),
                                        **request)
        events += page.get("events", [])
        token = page.get("nextToken")
        if not token:
            break
        request = dict(request, nextToken=token)
    return events[:limit]


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            log_group_name=dict(type="str", required=True),
            filter_pattern=dict(type="str"),
            log_stream_names=dict(type="list", elements="str"),
            log_stream_name_prefix=dict(type="str"),
            start_time=dict(type="str"),
            end_time=dict(type="str"),
            limit=dict(type="int", default=1000),
            missing_ok=dict(type="bool", default=False),
        ),
        mutually_exclusive=[("log_stream_names", "log_stream_name_prefix")],
        supports_check_mode=True,
    )
    params = module.params
    group = params["log_group_name"]
    if params["limit"] < 1:
        module.fail_json(msg="limit must be 1 or more")
    request = {"logGroupName": group}
    for option, field in (("start_time", "startTime"), ("end_time", "endTime")):
        if params[option] is not None:
            try:
                request[field] = epoch_ms(params[option])
            except ValueError:
                module.fail_json(msg=f"{option} {params[option]!r} is neither epoch "
                                     "milliseconds nor an ISO-8601 date")
    if params["filter_pattern"]:
        request["filterPattern"] = params["filter_pattern"]
    if params["log_stream_names"]:
        request["logStreamNames"] = params["log_stream_names"]
    if params["log_stream_name_prefix"]:
        request["logStreamNamePrefix"] = params["log_stream_name_prefix"]

    client = module.client("logs", retry_decorator=AWSRetry.jittered_backoff())
    try:
        events = find_events(client, request, params["limit"])
    except is_boto3_error_code("ResourceNotFoundException") as e:
        if params["missing_ok"]:
            module.exit_json(changed=False, events=[], log_group_exists=False)
        reason = e.response.get("Error", {}).get("Message", "")
        module.fail_json(msg=f"log group {group} does not exist in region {module.region} "
                             f"({reason}): check log_group_name and region, or set missing_ok")
    except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Could not filter the log events of {group}")
    module.exit_json(changed=False, events=[event_to_result(e) for e in events],
                     log_group_exists=True)


if __name__ == "__main__":
    main()
