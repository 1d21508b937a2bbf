"""The report as Markdown: verdict, figures, traffic, latency, steps, and the timeline image."""

from __future__ import annotations

from typing import Any

from .report import PHASES


def _cell(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".")
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return [*lines, ""]


def _samples(samples: dict[str, Any]) -> list[str]:
    """How many samples the figures rest on, and how many failed (not silently dropped)."""
    health, dns = samples.get("health") or {}, samples.get("dns") or {}
    lines = ["## Samples", ""]
    lines += _table(["samples", "taken", "failed", "of which throttled", "unclassified"], [
        ["Route 53 health (GetHealthCheckStatus)", health.get("taken"), health.get("failed"),
         health.get("throttled"), ""],
        ["DNS answers of the name servers", dns.get("taken"), dns.get("failed"), "",
         dns.get("unclassified")],
    ])
    lines += ["A failed sample (no answer; for Route 53 also a call it throttled, after which "
              "the sampler slowed down) carries no state: the figures use only the samples that "
              "were answered. An unclassified DNS answer matched no failover record's target.",
              ""]
    return lines


def render(report: dict[str, Any], svg_name: str) -> str:
    traffic = report["traffic"]
    lines = [
        f"# Failover drill: {report.get('deployment_name') or 'unnamed deployment'}",
        "",
        f"**Verdict: {report['verdict'].upper()}** — mode `{report.get('mode')}`, primary "
        f"`{report.get('primary_region')}`, secondary `{report.get('secondary_region')}`, "
        f"run `{report.get('run_id')}`, generated {report['generated_at']}.",
        "",
    ]
    if report["reasons"]:
        lines += ["Why it failed:", ""] + [f"- {reason}" for reason in report["reasons"]] + [""]
    lines += ["## Figures", ""]
    lines += _table(["figure", "seconds", "from", "to"], [
        ["detection (the name servers answer with the secondary)",
         report["detection_seconds"], report["fault_injected_at"], report["dns_switched_at"]],
        ["failover (first answer from the secondary)", report["failover_seconds"],
         report["fault_injected_at"], report["first_secondary_response_at"]],
        ["DNS back (the name servers answer with the primary)", report["dns_back_seconds"],
         report["restore_started_at"], report["dns_back_at"]],
        ["failback (first answer from the primary)", report["failback_seconds"],
         report["restore_started_at"], report["first_primary_response_after_restore_at"]],
        ["health-check budget (interval x threshold x time scale)",
         report["health_check"].get("effective_limit_seconds"), "", ""],
        ["checkers reported the primary unhealthy (GetHealthCheckStatus; information, "
         "not detection)", report["route53_reported_unhealthy_seconds"],
         report["fault_injected_at"], report["route53_reported_unhealthy_at"]],
    ])
    lines += _samples(report.get("samples") or {})
    lines += ["## Traffic", ""]
    lines += _table(["sent", "accepted", "rejected", "no answer", "persisted", "lost",
                     "duplicates"],
                    [[traffic[k] for k in ("sent", "accepted", "rejected", "errors",
                                           "persisted", "lost", "duplicates")]])
    if traffic.get("by_region"):
        lines += _table(["answered by (2xx)", "requests"],
                        [[region, count] for region, count in traffic["by_region"].items()])
    reconciliation = report.get("reconciliation") or {}
    if reconciliation.get("waited_seconds") is not None:
        owed = reconciliation.get("missing_at_first_look") or {}
        lines += [f"Reconciliation waited {_cell(reconciliation['waited_seconds'])} s for "
                  f"replication ({_cell(reconciliation.get('polls'))} polls; missing at its first "
                  "look: " + (", ".join(f"{region} {count}" for region, count in owed.items())
                              or "n/a") + ").", ""]
    if report.get("lost_markers"):
        lines += ["Lost: " + ", ".join(f"`{m}`" for m in report["lost_markers"][:20]), ""]
    lines += ["## Latency (ms, answered requests, by when the answer came)", ""]
    lines += _table(["phase", "requests", "p50", "p95"],
                    [[phase, report["latency_ms"][phase]["count"],
                      report["latency_ms"][phase]["p50"], report["latency_ms"][phase]["p95"]]
                     for phase in PHASES])
    lines += ["## Steps", ""]
    lines += _table(["step", "result", "started", "finished", "message"],
                    [[s.get("name"), s.get("result"), s.get("started_at"), s.get("finished_at"),
                      s.get("message") or ""] for s in report["steps"]])
    lines += ["## Checks", ""]
    lines += _table(["check", "result"], [[name, value] for name, value
                                          in report["checks"].items()])
    if report["errors"]:
        lines += ["## Errors", ""] + [f"- {_cell(error)}" for error in report["errors"]] + [""]
    lines += ["## Timeline", "", f"![timeline]({svg_name})", ""]
    return "\n".join(lines)
