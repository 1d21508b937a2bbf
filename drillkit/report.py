"""``drillkit report``: the drill's figures and verdict, from what clients saw.

Inputs: the run's traffic log (requests, health samples and DNS answers), ``reconcile.json``,
and the run's timeline (``timeline.py``: when the fault was injected, the restore started, the
primary was healthy again; the steps and checks). Detection is when the custom domain's name
servers first answered with the secondary's target after the fault, from the log's DNS samples
(the detect step waited for the same sample); GetHealthCheckStatus samples are reported beside
it, as when Route 53's checkers reported the primary unhealthy. Every figure and rule is
described in ``docs/drill-report.md``; the functions here are the single place they are
computed.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path
from typing import Any

from . import dns, records, timeutil

TIMELINE_MARKS = ("fault_injected_at", "restore_started_at", "healthy_again_at")
#: Times the verdict needs besides the timeline's marks.
REQUIRED_TIMES = ("dns_switched_at", "dns_back_at", "first_secondary_response_at",
                  "first_primary_response_after_restore_at", "detection_seconds",
                  "failover_seconds", "failback_seconds")
CHECKS = ("failover_verified", "secondary_processed", "failback_verified", "restored")
PHASES = ("before_fault", "outage", "after_failback")
RECONCILIATION_FIGURES = ("waited_seconds", "polls", "missing_at_first_look")


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least ``share`` of values ≤ it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def first_accepted(requests: list[dict[str, Any]], region: str | None,
                   since: datetime | None) -> datetime | None:
    """When the first 2xx answered by ``region`` arrived at or after ``since``."""
    if region is None or since is None:
        return None
    answers = [timeutil.parse(r["received_at"]) for r in requests
               if records.is_accepted(r) and r.get("region") == region]
    later = [moment for moment in answers if moment is not None and moment >= since]
    return min(later) if later else None


def phase_of(answered_at: datetime, fault: datetime | None,
             failback: datetime | None) -> str:
    """``before_fault`` / ``outage`` (until failback) / ``after_failback``."""
    if fault is None or answered_at < fault:
        return "before_fault"
    if failback is None or answered_at < failback:
        return "outage"
    return "after_failback"


def latency_by_phase(requests: list[dict[str, Any]], fault: datetime | None,
                     failback: datetime | None) -> dict[str, dict[str, Any]]:
    """p50/p95 of answered requests' latency (ms), by the phase in which they were answered.

    By the answer, not the send: the request whose answer marks the failback belongs after it.
    """
    samples: dict[str, list[float]] = {phase: [] for phase in PHASES}
    for request in requests:
        answered_at = timeutil.parse(request.get("received_at"))
        if request.get("status") is None or answered_at is None:
            continue
        samples[phase_of(answered_at, fault, failback)].append(float(request["latency_ms"]))
    return {phase: {"count": len(values), "p50": percentile(values, 0.50),
                    "p95": percentile(values, 0.95)}
            for phase, values in samples.items()}


def answered(samples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The samples that got an answer, by time (a failed one says nothing of the state; it is
    counted in ``samples``)."""
    return sorted((s for s in samples if not s.get("error")), key=lambda s: s["at"])


def health_transitions(log: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Per health-check label, the samples at which its state changed (the first one too)."""
    transitions: dict[str, list[dict[str, Any]]] = {}
    for sample in answered(records.of_type(log, "health")):
        changes = transitions.setdefault(sample["label"], [])
        if not changes or changes[-1]["healthy"] != sample.get("healthy"):
            changes.append({"at": sample["at"], "healthy": sample.get("healthy"),
                            "status": sample.get("status")})
    return transitions


def dns_transitions(log: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The DNS samples at which the answer's label changed (the first one too)."""
    changes: list[dict[str, Any]] = []
    for sample in answered(records.of_type(log, "dns")):
        if not changes or changes[-1]["label"] != sample.get("label"):
            changes.append({"at": sample["at"], "label": sample.get("label"),
                            "answer": sample.get("answer"), "server": sample.get("server")})
    return changes


def first_reported_unhealthy(log: list[dict[str, Any]], label: str,
                             since: datetime | None) -> datetime | None:
    """When a GetHealthCheckStatus sample of ``label`` first showed it unhealthy at or after
    ``since``."""
    if since is None:
        return None
    moments = [timeutil.parse(s["at"]) for s in records.of_type(log, "health")
               if s.get("label") == label and s.get("healthy") is False]
    later = [moment for moment in moments if moment is not None and moment >= since]
    return min(later) if later else None


def _sample_time(sample: dict[str, Any] | None) -> datetime | None:
    return timeutil.parse(sample["at"]) if sample else None


def _iso(moment: datetime | None) -> str | None:
    return timeutil.iso(moment) if moment is not None else None


def verdict_reasons(report: dict[str, Any]) -> list[str]:
    """Why the drill did not pass; empty when it did."""
    reasons: list[str] = []
    checks = report.get("checks") or {}
    reasons += [f"check {name} is not true" for name in CHECKS if checks.get(name) is not True]
    steps = report.get("steps") or []
    if not steps:
        reasons.append("the timeline lists no steps")
    for step in steps:
        if step.get("result") != "ok":
            message = f": {step['message']}" if step.get("message") else ""
            reasons.append(f"step {step.get('name')} {step.get('result') or 'has no result'}"
                           f"{message}")
    traffic = report["traffic"]
    if traffic.get("lost") is None:
        reasons.append("no reconciliation (run `drillkit reconcile` first)")
    elif traffic["lost"] > 0:
        reasons.append(f"{traffic['lost']} accepted event(s) lost")
    for name in (*TIMELINE_MARKS, *REQUIRED_TIMES):
        if report.get(name) is None:
            reasons.append(f"no {name}")
    reasons += [f"playbook error: {error}" for error in report.get("errors") or []]
    return reasons


def build_report(log: list[dict[str, Any]], reconciliation: dict[str, Any] | None,
                 timeline: dict[str, Any], generated_at: datetime) -> dict[str, Any]:
    """The report's JSON document."""
    requests = records.requests(log)
    marks = {name: timeutil.parse(timeline.get(name)) for name in TIMELINE_MARKS}
    fault, restore = marks["fault_injected_at"], marks["restore_started_at"]
    first_secondary = first_accepted(requests, timeline.get("secondary_region"), fault)
    first_primary = first_accepted(requests, timeline.get("primary_region"), restore)
    dns_switched = _sample_time(dns.first_answer(log, "SECONDARY", fault))
    dns_back = _sample_time(dns.first_answer(log, "PRIMARY", restore))
    reported_unhealthy = first_reported_unhealthy(log, "PRIMARY", fault)
    health_check = timeline.get("health_check") or {}
    try:
        limit = (float(health_check["request_interval"])
                 * float(health_check["failure_threshold"])
                 * float(health_check.get("time_scale") or 1.0))
    except (KeyError, TypeError, ValueError):
        limit = None
    summary = records.summarize(log)
    source = reconciliation or {}
    traffic = {
        "sent": source.get("sent", summary["sent"]),
        "accepted": source.get("accepted", summary["accepted"]),
        "rejected": source.get("rejected", summary["rejected"]),
        "errors": source.get("errors", summary["errors"]),
        "persisted": source.get("persisted"),
        "lost": source.get("lost"),
        "duplicates": source.get("duplicates"),
        "by_region": summary["by_region"],
    }
    report: dict[str, Any] = {
        "generated_at": timeutil.iso(generated_at),
        "run_id": records.run_id(log),
        "mode": timeline.get("mode"),
        "deployment_name": timeline.get("deployment_name"),
        "primary_region": timeline.get("primary_region"),
        "secondary_region": timeline.get("secondary_region"),
        # The Route 53 budget detection is measured against, with the settings it comes from.
        "health_check": {**health_check,
                         "effective_limit_seconds": round(limit, 6) if limit is not None else None},
        **{name: _iso(moment) for name, moment in marks.items()},
        "dns_switched_at": _iso(dns_switched),
        "dns_back_at": _iso(dns_back),
        "first_secondary_response_at": _iso(first_secondary),
        "first_primary_response_after_restore_at": _iso(first_primary),
        "detection_seconds": timeutil.seconds_between(fault, dns_switched),
        "failover_seconds": timeutil.seconds_between(fault, first_secondary),
        "dns_back_seconds": timeutil.seconds_between(restore, dns_back),
        "failback_seconds": timeutil.seconds_between(restore, first_primary),
        # GetHealthCheckStatus's view, for information: not what clients act on.
        "route53_reported_unhealthy_at": _iso(reported_unhealthy),
        "route53_reported_unhealthy_seconds": timeutil.seconds_between(fault,
                                                                       reported_unhealthy),
        "traffic": traffic,
        "lost_markers": source.get("lost_markers", []),
        # How long reconciliation waited for replication, and what was missing when it began.
        "reconciliation": {key: source.get(key) for key in RECONCILIATION_FIGURES},
        "latency_ms": latency_by_phase(requests, fault,
                                       first_primary or marks["healthy_again_at"]),
        "health": health_transitions(log),
        "dns": dns_transitions(log),
        "samples": records.sample_counts(log),
        "steps": timeline.get("steps") or [],
        "checks": timeline.get("checks") or {},
        "errors": timeline.get("errors") or [],
    }
    reasons = verdict_reasons(report)
    report["verdict"] = "fail" if reasons else "pass"
    report["reasons"] = reasons
    return report


def _unique_stem(out_dir: Path, stamp: str) -> Path:
    stem = out_dir / f"drill-{stamp}"
    counter = 2
    while stem.with_suffix(".json").exists():
        stem = out_dir / f"drill-{stamp}-{counter}"
        counter += 1
    return stem


def write_report(report: dict[str, Any], log: list[dict[str, Any]], out_dir: Path,
                 generated_at: datetime) -> dict[str, str]:
    """Write ``drill-<stamp>.{json,md,svg}`` and ``latest.json``; return their paths."""
    from . import chart, markdown

    out_dir.mkdir(parents=True, exist_ok=True)
    stem = _unique_stem(out_dir, generated_at.strftime("%Y%m%dT%H%M%SZ"))
    paths = {"json_path": str(stem.with_suffix(".json")),
             "markdown_path": str(stem.with_suffix(".md")),
             "svg_path": str(stem.with_suffix(".svg"))}
    chart.write_svg(report, log, Path(paths["svg_path"]))
    Path(paths["markdown_path"]).write_text(
        markdown.render(report, Path(paths["svg_path"]).name), encoding="utf-8")
    Path(paths["json_path"]).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (out_dir / "latest.json").write_text(json.dumps({**report, **paths}, indent=2) + "\n",
                                         encoding="utf-8")
    return paths


def _waited(report: dict[str, Any]) -> str:
    """`` (reconciliation waited 3.20s for replication)``, or nothing without a figure."""
    waited = (report.get("reconciliation") or {}).get("waited_seconds")
    return f" (reconciliation waited {waited:.2f}s for replication)" if waited is not None else ""


def summary_lines(report: dict[str, Any], paths: dict[str, str]) -> list[str]:
    """The short human summary ``drillkit report`` prints."""
    traffic = report["traffic"]

    def seconds(name: str) -> str:
        value = report.get(name)
        return f"{value:.2f}s" if value is not None else "n/a"

    limit = (report.get("health_check") or {}).get("effective_limit_seconds")
    limit_seconds = f"{limit:.2f}s" if limit is not None else "n/a"
    samples = report.get("samples") or {}
    health, dns_samples = samples.get("health") or {}, samples.get("dns") or {}
    lines = [
        f"drill {report.get('deployment_name') or ''} ({report.get('mode') or 'unknown mode'}): "
        f"{report['verdict'].upper()}",
        f"detection {seconds('detection_seconds')} (DNS answered the secondary; health-check "
        f"budget {limit_seconds}; checkers reported unhealthy after "
        f"{seconds('route53_reported_unhealthy_seconds')}), failover "
        f"{seconds('failover_seconds')}, failback {seconds('failback_seconds')}",
        f"traffic: {traffic['sent']} sent, {traffic['accepted']} accepted, "
        f"{traffic['rejected']} rejected, {traffic['errors']} without answer",
        f"events: {traffic['persisted']} persisted, {traffic['lost']} lost, "
        f"{traffic['duplicates']} duplicated{_waited(report)}",
        f"samples: health {health.get('taken', 0)} ({health.get('failed', 0)} failed, "
        f"{health.get('throttled', 0)} throttled), DNS {dns_samples.get('taken', 0)} "
        f"({dns_samples.get('failed', 0)} failed, {dns_samples.get('unclassified', 0)} "
        "unclassified)",
    ]
    lines += [f"  reason: {reason}" for reason in report["reasons"][:4]]
    if len(report["reasons"]) > 4:
        lines.append(f"  ... and {len(report['reasons']) - 4} more (see the report)")
    lines.append(f"report: {paths['markdown_path']} (timeline {paths['svg_path']})")
    return lines
