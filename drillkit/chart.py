"""The drill's timeline as an SVG (matplotlib, Agg backend, no display needed).

Top: one lane per region with its health state over time, from the sender's Route 53 samples
(or, without samples, from the DNS switch and the healthy-again mark), and one lane with the
region the custom domain's name servers answered with. Bottom: every request as a dot at (time
sent, latency), coloured by the region that answered; rejections and requests without an answer
get their own markers. Vertical lines mark fault, detection (DNS answers the secondary), first
secondary answer, restore start, healthy again, DNS back to the primary and failback. Time is
in seconds from the fault. Failed samples are left out (the report counts them).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # the backend is chosen before pyplot is imported

from . import records, timeutil

HEALTH_COLOURS = {True: "#4caf50", False: "#e53935", None: "#bdbdbd"}
REGION_COLOURS = ("#1e88e5", "#fb8c00", "#8e24aa", "#00897b")
UNKNOWN_COLOUR = HEALTH_COLOURS[None]
MARKS = (
    ("fault_injected_at", "fault injected", "#e53935", "-"),
    ("dns_switched_at", "detection (DNS answers secondary)", "#fb8c00", "--"),
    ("first_secondary_response_at", "first secondary answer", "#fdd835", "-."),
    ("restore_started_at", "restore started", "#1e88e5", "-"),
    ("healthy_again_at", "healthy again", "#43a047", "--"),
    ("dns_back_at", "DNS answers primary again", "#00acc1", ":"),
    ("first_primary_response_after_restore_at", "failback (first primary answer)",
     "#8e24aa", "-."),
)
DNS_LANE = "DNS answer"
Segment = tuple[float, float, str]


def _origin(report: dict[str, Any], requests: list[dict[str, Any]]) -> datetime | None:
    fault = timeutil.parse(report.get("fault_injected_at"))
    if fault is not None:
        return fault
    times = [timeutil.parse(r["sent_at"]) for r in requests]
    return min((t for t in times if t is not None), default=None)


def _lane_label(label: str, report: dict[str, Any]) -> str:
    region = {"primary": report.get("primary_region"),
              "secondary": report.get("secondary_region")}.get(label.lower())
    return f"{label} {region}" if region else label


def _segments(points: list[tuple[float, str]], end: float) -> list[Segment]:
    """(start, width, colour) from each point until the next one (the last until ``end``)."""
    bounds = [t for t, _ in points[1:]] + [max(end, points[-1][0])]
    return [(t, stop - t, colour) for (t, colour), stop in zip(points, bounds, strict=True)]


def _answered(log: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return sorted((s for s in records.of_type(log, kind) if not s.get("error")),
                  key=lambda s: s["at"])


def _lanes(report: dict[str, Any], log: list[dict[str, Any]], seconds: Any, end: float,
           colour_of: dict[Any, str]) -> dict[str, list[Segment]]:
    """Per lane, segments (start, width, colour) covering the chart."""
    samples: dict[str, list[tuple[float, str]]] = {}
    for sample in _answered(log, "health"):
        samples.setdefault(sample["label"], []).append(
            (seconds(sample["at"]), HEALTH_COLOURS[sample.get("healthy")]))
    lanes = {_lane_label(label, report): _segments(points, end)
             for label, points in samples.items()}
    primary_lane = _lane_label("PRIMARY", report)
    if primary_lane not in lanes:  # no samples: Route 53 routed away from it until healthy again
        start = min(0.0, seconds(report.get("fault_injected_at")) or 0.0)
        down = seconds(report.get("dns_switched_at"))
        up = seconds(report.get("healthy_again_at"))
        points = [(start, HEALTH_COLOURS[True if down is not None else None])]
        if down is not None:
            points.append((down, HEALTH_COLOURS[False]))
            if up is not None:
                points.append((up, HEALTH_COLOURS[True]))
        lanes[primary_lane] = _segments(points, end)
    regions = {"PRIMARY": report.get("primary_region"),
               "SECONDARY": report.get("secondary_region")}

    def answer_colour(label: str | None) -> str:
        region = regions.get(label) if label else None
        return colour_of.get(region, UNKNOWN_COLOUR) if region else UNKNOWN_COLOUR

    answers = [(seconds(s["at"]), answer_colour(s.get("label"))) for s in _answered(log, "dns")]
    if answers:
        lanes[DNS_LANE] = _segments(answers, end)
    return lanes


def write_svg(report: dict[str, Any], log: list[dict[str, Any]], path: Path) -> None:
    requests = records.requests(log)
    origin = _origin(report, requests)

    def seconds(text: str | None) -> float | None:
        moment = timeutil.parse(text)
        if moment is None or origin is None:
            return None
        return (moment - origin).total_seconds()

    times = [seconds(r["sent_at"]) for r in requests]
    mark_times = [seconds(report.get(name)) for name, *_ in MARKS]
    known = [t for t in times + mark_times if t is not None] or [0.0]
    end = max(known) + 1.0

    regions = [report.get("primary_region"), report.get("secondary_region")]
    regions += sorted({r.get("region") for r in requests} - set(regions) - {None})
    colour_of = {region: REGION_COLOURS[i % len(REGION_COLOURS)]
                 for i, region in enumerate(regions)}

    with plt.rc_context({"svg.fonttype": "none", "font.size": 9}):
        figure, (health_axes, request_axes) = plt.subplots(
            2, 1, sharex=True, figsize=(11, 6), gridspec_kw={"height_ratios": [1, 3]})
        lanes = _lanes(report, log, seconds, end, colour_of)
        for row, (_lane, segments) in enumerate(sorted(lanes.items())):
            health_axes.broken_barh([(s, w) for s, w, _ in segments], (row - 0.4, 0.8),
                                    facecolors=[colour for *_, colour in segments])
        health_axes.set_yticks(range(len(lanes)), sorted(lanes))
        health_axes.set_title("Route 53 health (green healthy, red unhealthy, grey unknown); "
                              "DNS answer (the region's colour below, grey unknown)")
        groups: dict[tuple[str, str], tuple[list[float], list[float]]] = {}
        for request, t in zip(requests, times, strict=True):
            if t is None:
                continue
            if request.get("status") is None:
                kind, region = "no answer", "none"
            else:
                kind = "accepted" if records.is_accepted(request) else "rejected"
                region = request.get("region") or "no region"
            xs, ys = groups.setdefault((kind, region), ([], []))
            xs.append(t)
            ys.append(float(request.get("latency_ms") or 0.0))
        style = {"accepted": ("o", 12), "rejected": ("x", 30), "no answer": ("X", 30)}
        for (kind, region), (xs, ys) in sorted(groups.items()):
            marker, size = style[kind]
            colour = "#212121" if kind == "no answer" else colour_of.get(region, "#757575")
            label = kind if kind == "no answer" else f"{kind} by {region}"
            request_axes.scatter(xs, ys, s=size, marker=marker, c=colour, label=label,
                                 linewidths=1)
        for (_mark, label, colour, line), t in zip(MARKS, mark_times, strict=True):
            if t is None:
                continue
            for axes in (health_axes, request_axes):
                axes.axvline(t, color=colour, linestyle=line, linewidth=1.2,
                             label=label if axes is request_axes else None)
        request_axes.set_xlabel("seconds since the fault" if report.get("fault_injected_at")
                                else "seconds since the first request")
        request_axes.set_ylabel("latency (ms)")
        request_axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
        figure.suptitle(f"Failover drill {report.get('deployment_name') or ''}: "
                        f"{report['verdict'].upper()}")
        figure.tight_layout()
        figure.savefig(path, format="svg", metadata={"Date": None})
        plt.close(figure)
