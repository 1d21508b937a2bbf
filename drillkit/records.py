"""A run directory's files, and what the traffic log says so far.

``traffic.jsonl`` holds one JSON object per line, each with a ``type``:

- ``start``: the sender's settings and ``first_request_sent_at`` (written once it is running);
- ``request``: one per request, written when it was answered or failed;
- ``health``: one Route 53 GetHealthCheckStatus sample (``error`` when the call failed,
  ``throttled`` when Route 53 throttled it);
- ``dns``: one answer of an authoritative name server for the custom domain (``dns.py``);
- ``stop``: written last, when the sender stopped cleanly.

Lines are appended while the sender runs, so a reader may see a half-written last line; it is
skipped rather than treated as corruption.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

TRAFFIC_LOG = "traffic.jsonl"
PID_FILE = "traffic.pid"
SENDER_LOG = "traffic.log"
RECONCILE_FILE = "reconcile.json"


def read_log(run_dir: Path) -> list[dict[str, Any]]:
    """Every complete record of the run's traffic log (none when there is no log yet)."""
    path = run_dir / TRAFFIC_LOG
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    records = []
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # the line being written right now
        if isinstance(record, dict):
            records.append(record)
    return records


def of_type(records: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [r for r in records if r.get("type") == kind]


def requests(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The request records in the order they were sent."""
    return sorted(of_type(records, "request"), key=lambda r: r.get("seq", 0))


def start_record(records: list[dict[str, Any]]) -> dict[str, Any] | None:
    starts = of_type(records, "start")
    return starts[-1] if starts else None


def run_id(records: list[dict[str, Any]]) -> str | None:
    """The run id the sender put in every Detail; from the start record, else from a marker."""
    start = start_record(records)
    if start and start.get("run_id"):
        return str(start["run_id"])
    for record in requests(records):
        marker = record.get("marker")
        if isinstance(marker, str) and "-" in marker:
            return marker.rsplit("-", 1)[0]
    return None


def is_accepted(record: dict[str, Any]) -> bool:
    status = record.get("status")
    return isinstance(status, int) and 200 <= status < 300


def summarize(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts over the request records.

    ``rejected`` is every answer that is not 2xx (4xx/5xx; the sender follows no redirects, so a
    3xx would count here too); ``errors`` are requests that got no answer at all.
    """
    sent = requests(records)
    accepted = [r for r in sent if is_accepted(r)]
    answered = [r for r in sent if r.get("status") is not None]
    by_region = Counter(str(r.get("region") or "unknown") for r in accepted)
    return {
        "sent": len(sent),
        "answered": len(answered),
        "accepted": len(accepted),
        "rejected": len(answered) - len(accepted),
        "errors": len(sent) - len(answered),
        "by_region": dict(sorted(by_region.items())),
    }


def sample_counts(records: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """How many health and DNS samples were taken, and how many of them failed.

    A failed sample (``error``: the call or query got no answer; for health samples also
    ``throttled``, a subset) says nothing about the state, so the figures skip it; these
    counts are where it shows. ``unclassified`` DNS samples were answered with addresses of no
    known target (or of several).
    """
    health, dns = of_type(records, "health"), of_type(records, "dns")
    return {
        "health": {"taken": len(health),
                   "failed": sum(1 for r in health if r.get("error")),
                   "throttled": sum(1 for r in health if r.get("throttled"))},
        "dns": {"taken": len(dns),
                "failed": sum(1 for r in dns if r.get("error")),
                "unclassified": sum(1 for r in dns
                                    if not r.get("error") and r.get("label") is None)},
    }
