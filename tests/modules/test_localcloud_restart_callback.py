"""failover.aws.localcloud_restart: at the end of a failed run, the operator learns whether the
local cloud restarted or stopped under it (the cause of the failure), and nothing otherwise."""

from __future__ import annotations

import sys

import pytest
from conftest import REPO

sys.path.insert(0, str(REPO / "collections"))
from ansible_collections.failover.aws.plugins.callback import localcloud_restart as callback

STARTED = 1_764_000_000.0       # 2025-11-24 16:00:00 UTC
INSTANCE = {"url": "http://127.0.0.1:4566", "pid": 4242, "started_at": STARTED,
            "rerun_advice": "Run playbooks/deploy.yml again."}


@pytest.mark.parametrize(("now", "read_at", "expected"), [
    # the same process, its start time read back from its uptime within the margin
    ({"pid": 4242, "uptime_seconds": 600.0}, STARTED + 602.0, ""),
    ({"pid": "4242", "uptime_seconds": 600.0}, STARTED + 600.0, ""),
    # another process
    ({"pid": 5151, "uptime_seconds": 10.0}, STARTED + 610.0,
     "The local cloud on http://127.0.0.1:4566 restarted during this run (pid 4242, started "
     "2025-11-24 16:00:00 UTC; now pid 5151, started 2025-11-24 16:10:00 UTC). It keeps its "
     "state in memory only, so everything deployed to it is gone and the failure above follows "
     "from that. Run playbooks/deploy.yml again."),
    # the same pid reused by a process started later
    ({"pid": 4242, "uptime_seconds": 10.0}, STARTED + 610.0, "restarted during this run"),
    # nobody answers
    (None, None, "The local cloud on http://127.0.0.1:4566 (pid 4242, started 2025-11-24 "
                 "16:00:00 UTC) stopped during this run and has not answered for 15 s."),
])
def test_the_message_names_what_happened_to_the_local_cloud(now, read_at, expected) -> None:
    said = callback.restart_message(INSTANCE, now, read_at, 15.0)
    assert (expected in said) if expected else said == ""


def test_without_advice_of_its_own_the_message_says_to_deploy_again() -> None:
    instance = {key: value for key, value in INSTANCE.items() if key != "rerun_advice"}
    said = callback.restart_message(instance, None, None, 15.0)
    assert said.endswith(callback.DEFAULT_ADVICE)


def test_a_cloud_that_does_not_answer_is_waited_for_then_reported_absent() -> None:
    naps = []
    clock = iter(range(100))
    now, read_at = callback.read_status("http://127.0.0.1:9", 3, sleep=naps.append,
                                        clock=lambda: next(clock))
    assert (now, read_at) == (None, None)
    assert naps == [1, 1]  # tried at 0, 1 and 2 s, gave up at 3 s


def test_a_running_cloud_answers_with_its_status(localcloud) -> None:
    now, read_at = callback.read_status(localcloud.url, 5)
    assert now["pid"] == localcloud.status()["pid"]
    assert read_at > STARTED
