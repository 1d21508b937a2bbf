"""The drill's timeline: which steps ran, when, how they ended, and the moments the report
measures from (``timeline.json`` in the run directory).

The playbook tells drillkit what happens (``drillkit timeline step|mark|check|fail|end``) and
drillkit writes it down with its own clock, so every time in a run's files comes from one
place. The document is what ``drillkit report`` reads:

- ``run_id``, ``mode``, ``deployment_name``, ``primary_region``, ``secondary_region``,
  ``custom_domain``, ``health_check`` (``request_interval``, ``failure_threshold``,
  ``time_scale``, the two checks' ids): written once by ``start``;
- ``fault_injected_at``, ``restore_started_at``, ``healthy_again_at``: ``mark`` (now, or a time
  a module reported, such as when the fault's first delete was sent);
- ``steps``: ``{name, started_at, finished_at, result, message}``. ``step NAME`` opens a step
  and closes the one still open as ``ok``; ``end`` closes it as ``ok``; ``fail`` closes it as
  ``failed`` with the reason of the task that failed, also listed in ``errors``;
- ``checks``: ``failover_verified`` and ``secondary_processed`` (the ``verify_failover`` step
  ended well: the secondary answered, logged and stored the probe event), ``restored`` (the
  ``restore`` step ended well: the primary is back and Route 53 reports it healthy),
  ``failback_verified`` (the ``verify_failback`` step ended well); false until then.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from . import timeutil

TIMELINE_FILE = "timeline.json"
MARKS = ("fault_injected_at", "restore_started_at", "healthy_again_at")
CHECKS = ("failover_verified", "secondary_processed", "restored", "failback_verified")
#: The checks a step proves when it ends well.
STEP_CHECKS = {"verify_failover": ("failover_verified", "secondary_processed"),
               "restore": ("restored",), "verify_failback": ("failback_verified",)}
#: How much of a failed command's stderr a step's message keeps.
DETAIL_LIMIT = 500


def new(run_id: str, mode: str, deployment_name: str, primary_region: str,
        secondary_region: str, custom_domain: str,
        health_check: dict[str, Any]) -> dict[str, Any]:
    """A run's timeline before any step."""
    return {"run_id": run_id, "mode": mode, "deployment_name": deployment_name,
            "primary_region": primary_region, "secondary_region": secondary_region,
            "custom_domain": custom_domain, "health_check": health_check,
            **{name: None for name in MARKS},
            "steps": [], "checks": {name: False for name in CHECKS}, "errors": []}


def run_id_for(runs_dir: Path, started: datetime) -> str:
    """``drill-<UTC stamp>``, with ``-2``, ``-3``… when a run of that second exists."""
    base = f"drill-{started.strftime('%Y%m%dT%H%M%SZ')}"
    run_id, counter = base, 2
    while (runs_dir / run_id).exists():
        run_id, counter = f"{base}-{counter}", counter + 1
    return run_id


def load(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / TIMELINE_FILE).read_text(encoding="utf-8"))


def save(run_dir: Path, timeline: dict[str, Any]) -> None:
    """Write the whole document at once (a reader never sees half of it)."""
    path = run_dir / TIMELINE_FILE
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(timeline, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, path)


def open_step(timeline: dict[str, Any]) -> dict[str, Any] | None:
    """The step that started and has not ended."""
    steps = timeline["steps"]
    return steps[-1] if steps and steps[-1].get("result") is None else None


def end(timeline: dict[str, Any], at: datetime) -> dict[str, Any] | None:
    """Close the open step as ``ok``; the step closed, if any."""
    step = open_step(timeline)
    if step is not None:
        step.update(finished_at=timeutil.iso(at), result="ok")
        for name in STEP_CHECKS.get(step["name"], ()):
            timeline["checks"][name] = True
    return step


def start_step(timeline: dict[str, Any], name: str, at: datetime) -> dict[str, Any]:
    """Open step ``name`` (the step still open ended well: nothing failed in it)."""
    end(timeline, at)
    step = {"name": name, "started_at": timeutil.iso(at), "finished_at": None, "result": None}
    timeline["steps"].append(step)
    return step


def failure_message(result: dict[str, Any]) -> str:
    """What a failed task's result says went wrong: its ``msg`` (for a loop, that of the first
    failed item), with the end of a command's stderr."""
    failed_items = [item for item in result.get("results") or []
                    if isinstance(item, dict) and item.get("failed")]
    source = failed_items[0] if failed_items else result
    message = str(source.get("msg") or "failed").strip()
    detail = str(source.get("stderr") or "").strip()
    if detail:
        message += f": {detail[-DETAIL_LIMIT:]}"
    return message


def fail(timeline: dict[str, Any], result: dict[str, Any], at: datetime) -> dict[str, Any] | None:
    """Close the open step as ``failed`` with the failed task's reason; the step, if any.

    Without an open step the failure was already recorded where it happened (a step's failure
    re-raised after the restore ran) and nothing changes.
    """
    step = open_step(timeline)
    if step is None:
        return None
    message = failure_message(result)
    step.update(finished_at=timeutil.iso(at), result="failed", message=message)
    timeline["errors"].append(f"{step['name']}: {message}")
    return step


def mark(timeline: dict[str, Any], name: str, at: datetime) -> None:
    if name not in MARKS:
        raise ValueError(f"unknown mark {name!r}: one of {', '.join(MARKS)}")
    timeline[name] = timeutil.iso(at)
