# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""At the end of a failed run, say whether the local cloud it used restarted or stopped."""

DOCUMENTATION = r"""
---
name: localcloud_restart
type: notification
short_description: Say when a failed run's local cloud restarted or stopped during the run
version_added: 0.6.0
description:
  - The local cloud keeps its state in memory only, so when it restarts or stops during a run
    everything deployed to it is gone and the next task fails on whatever it finds missing. This
    callback names that cause once, at the end of a failed run, instead of a rescue in every play.
  - It remembers the local cloud the run started with - the C(localcloud_instance) fact the
    C(localcloud) role sets (C(url), C(pid), C(started_at), C(rerun_advice)). When the run has a
    failed or unreachable host, it asks that URL's C(/_localcloud/status) which process answers
    now (waiting a few seconds for one being restarted), and prints what happened and what to do
    when it is another process or none.
  - A run without C(localcloud_instance) (on AWS) is left alone.
requirements:
  - enable in ansible.cfg (C(callbacks_enabled))
options:
  wait_seconds:
    description: Seconds to wait for a local cloud that does not answer.
    type: float
    default: 15
    env:
      - name: LOCALCLOUD_RESTART_WAIT_SECONDS
author:
  - Event failover project team (!UNKNOWN)
"""

# Ansible wants the imports after the documentation (ansible-test validate-modules).
import datetime  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

from ansible.module_utils.urls import open_url  # noqa: E402
from ansible.plugins.callback import CallbackBase  # noqa: E402

# The start time is derived from the uptime, so it is compared with a margin for the time the
# status request took.
SAME_START_MARGIN = 5.0
TIME_FORMAT = "%Y-%m-%d %H:%M:%S UTC"
DEFAULT_ADVICE = ("Run playbooks/deploy.yml again: it starts the local cloud if needed and "
                  "deploys everything anew.")


def started(timestamp):
    moment = datetime.datetime.fromtimestamp(int(float(timestamp)), datetime.timezone.utc)  # noqa: UP017
    return moment.strftime(TIME_FORMAT)


def read_status(url, wait_seconds, sleep=time.sleep, clock=time.monotonic):
    """The local cloud's status answer and when it was read, or (None, None) when it did not
    answer within ``wait_seconds``."""
    deadline = clock() + wait_seconds
    while True:
        try:
            with open_url(url + "/_localcloud/status", timeout=5) as response:
                return json.loads(response.read()), time.time()
        except (OSError, ValueError):
            if clock() >= deadline:
                return None, None
            sleep(1)


def restart_message(instance, now, read_at, wait_seconds):
    """What to tell the operator, or '' when ``now`` is the process the run started with."""
    was = f"pid {instance['pid']}, started {started(instance['started_at'])}"
    advice = instance.get("rerun_advice") or DEFAULT_ADVICE
    if now:
        now_started = read_at - float(now.get("uptime_seconds", 0))
        if (int(now.get("pid", -1)) == int(instance["pid"])
                and abs(now_started - float(instance["started_at"])) < SAME_START_MARGIN):
            return ""
        what = (f"The local cloud on {instance['url']} restarted during this run ({was}; now pid "
                f"{now.get('pid')}, started {started(now_started)}).")
    else:
        what = (f"The local cloud on {instance['url']} ({was}) stopped during this run and has "
                f"not answered for {wait_seconds:g} s.")
    return (f"{what} It keeps its state in memory only, so everything deployed to it is gone and "
            f"the failure above follows from that. {advice}")


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "failover.aws.localcloud_restart"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance = None

    def v2_runner_on_ok(self, result):
        facts = result._result.get("ansible_facts") or {}
        if isinstance(facts.get("localcloud_instance"), dict) and self.instance is None:
            self.instance = dict(facts["localcloud_instance"])

    def v2_playbook_on_stats(self, stats):
        failed = any(stats.failures.values()) or any(stats.dark.values())
        if not failed or not self.instance:
            return
        wait_seconds = float(self.get_option("wait_seconds"))
        now, read_at = read_status(self.instance["url"], wait_seconds)
        message = restart_message(self.instance, now, read_at, wait_seconds)
        if message:
            self._display.error(message, wrap_text=False, stderr=False)
