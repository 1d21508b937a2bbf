#!/usr/bin/env python3
"""Run every benchmark, write ``bench/results.json`` and render ``docs/benchmarks.md``.

``make bench`` runs this. Each benchmark is a script of its own, run here as a subprocess with
``--json`` into ``build/bench/`` (its printed table goes to ``build/bench/<name>.log``); one
that fails or is missing is recorded with a null figure and its error, and the others still
run. The figures that matter are ratios taken in the same run, because these machines are
shared and noisy: the table records the machine, its load average before and after, and the
versions.

    .venv/bin/python bench/run_all.py           # the full run (about 25-35 minutes)
    .venv/bin/python bench/run_all.py --quick   # fewer starts, events, drills and load steps
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
OUT = REPO / "build" / "bench"
RESULTS = BENCH / "results.json"
DOC = REPO / "docs" / "benchmarks.md"

# Arguments per benchmark: the full run, then --quick.
RUNS: dict[str, tuple[list[str], list[str]]] = {
    "localcloud": (["--starts", "5", "--events", "200"], ["--starts", "2", "--events", "40"]),
    "deploy": (["--events", "50"], ["--events", "20"]),
    "drill": (["--drills", "3", "--modes", "unplanned,planned"],
              ["--drills", "2", "--modes", "unplanned"]),
    "load": ([], ["--start", "10", "--step-seconds", "6", "--resolution", "10"]),
}
SCRIPTS = {"localcloud": "localcloud_bench.py", "deploy": "deploy_bench.py",
           "drill": "drill_bench.py", "load": "load_bench.py"}

# figure: (goal, direction, what it measures, why it misses when it does)
GOALS: dict[str, tuple[float | None, str, str, str]] = {
    "deploy_parallel_ratio": (
        1.3, "<=", "cold two-region deploy / slowest single region (to the end of the stacks)",
        "tasks run one after the other for both hosts, so the slower host sets each task's "
        "pace, and preflight's once-per-run steps (cfn-lint, the variable check) are the same "
        "work either way; on 2 shared cores two module processes at a time also compete"),
    "noop_redeploy_ratio": (
        0.35, "<=", "no-op redeploy / cold deploy (wall time)",
        "the no-op run starts {noop_tasks} module/controller tasks against the cold run's "
        "{cold_tasks}: every role checks the state it owns again (bootstrap, preflight, "
        "artifact, stack, Route 53, smoke test), and on the local cloud a stack create takes "
        "about a second (the plain boto3 deploy: {sequential_seconds} s), so a cold deploy is "
        "hardly more than those checks; on AWS the creates take minutes"),
    "detection_ratio_median": (
        1.2, "<=", "unplanned drill detection / (health check interval x failure threshold), "
        "median",
        "the fault is timed from the first delete request (one module run deletes the "
        "mappings and the stage); what remains is Route 53's own spread (the first failed "
        "probe comes up to one interval after the fault) and the wait's 0.25 s poll, "
        "stretched when the machine is loaded"),
    "failover_minus_detection_median": (
        5.0, "<=", "drill failover - detection seconds, median", ""),
    "pipeline_p95_seconds": (
        None, "", "POST through the custom domain to the item in both replicas, p95", ""),
    "max_sustained_rate": (
        None, "", "highest request rate with zero loss (events/s)", ""),
    "localcloud_ready_seconds": (
        3.0, "<=", "`localcloud start` to the endpoint answering, median",
        "importing moto and its services in a fresh interpreter; slower under load"),
    "localcloud_rss_mb": (
        400.0, "<=", "server + Lambda workers RSS, both stacks deployed (MB)",
        "moto's CloudFormation models import every service (about 57 MB)"),
}


def machine() -> dict[str, Any]:
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    memory = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("MemTotal", "MemAvailable"):
            memory[key] = round(int(value.split()[0]) / 1024 / 1024, 1)
    return {"cpus": os.cpu_count(), "cpu_model": model,
            "memory_total_gb": memory.get("MemTotal"),
            "memory_available_gb_at_start": memory.get("MemAvailable"),
            "load_average_start": [round(v, 2) for v in os.getloadavg()]}


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in ("ansible-core", "ansible", "moto", "boto3", "botocore"):
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def run_bench(name: str, quick: bool) -> dict[str, Any]:
    """Run one benchmark; its JSON figures, or None with the error."""
    script = BENCH / SCRIPTS[name]
    output = OUT / f"{name}.json"
    log = OUT / f"{name}.log"
    output.unlink(missing_ok=True)
    record: dict[str, Any] = {"script": f"bench/{SCRIPTS[name]}", "figures": None,
                              "error": None, "seconds": None}
    if not script.exists():
        record["error"] = f"{record['script']} is missing"
        return record
    args = RUNS[name][1 if quick else 0]
    print(f"== {name}: {record['script']} {' '.join(args)}", flush=True)
    began = time.monotonic()
    with log.open("w") as handle:
        result = subprocess.run([sys.executable, str(script), *args, "--json", str(output)],
                                cwd=REPO, stdout=handle, stderr=subprocess.STDOUT, text=True,
                                timeout=3 * 3600)
    record["seconds"] = round(time.monotonic() - began, 1)
    if output.exists():
        record["figures"] = json.loads(output.read_text())
    if result.returncode:
        tail = log.read_text()[-1500:].strip()
        record["error"] = f"exit {result.returncode}; see build/bench/{name}.log: {tail}"
    print(f"   {'ok' if not result.returncode else 'FAILED'} in {record['seconds']} s",
          flush=True)
    return record


def reuse(name: str) -> dict[str, Any]:
    """The figures an earlier run left in build/bench/ (for a benchmark left out by --only)."""
    output = OUT / f"{name}.json"
    record: dict[str, Any] = {"script": f"bench/{SCRIPTS[name]}", "figures": None,
                              "error": None, "seconds": None, "reused": True}
    if output.exists():
        record["figures"] = json.loads(output.read_text())
    else:
        record["error"] = "not run (--only) and no earlier figures in build/bench/"
    return record


def _get(record: dict[str, Any], *path: str) -> Any:
    value: Any = record.get("figures")
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def summarize(benches: dict[str, dict[str, Any]]) -> dict[str, Any]:
    deploy, drill = benches["deploy"], benches["drill"]
    drills = _get(drill, "drills") or []
    # The detection goal is about an outage Route 53 has to notice: the unplanned drills. A
    # planned drill inverts the check, which the local cloud applies at its next evaluation, so
    # its detection says nothing about Route 53's budget; it is reported by mode below.
    unplanned = [d for d in drills if d.get("mode") == "unplanned"] or drills
    ratios = [d["detection_ratio"] for d in unplanned if d.get("detection_ratio") is not None]
    after = [d["failover_seconds"] - d["detection_seconds"] for d in unplanned
             if d.get("failover_seconds") is not None]
    failback = [d["failback_seconds"] for d in drills if d.get("failback_seconds") is not None]

    def spread(values: list[float]) -> dict[str, float] | None:
        if not values:
            return None
        return {"median": round(statistics.median(values), 3), "min": round(min(values), 3),
                "max": round(max(values), 3), "n": len(values)}

    return {
        "deploy_parallel_ratio": _get(deploy, "deploy_parallel_ratio"),
        "noop_redeploy_ratio": _get(deploy, "noop_redeploy_ratio"),
        "detection_ratio_median": spread(ratios)["median"] if ratios else None,
        "failover_minus_detection_median": spread(after)["median"] if after else None,
        "pipeline_p95_seconds": _get(deploy, "pipeline", "p95_seconds"),
        "max_sustained_rate": _get(benches["load"], "max_sustained_rate"),
        "localcloud_ready_seconds": _get(benches["localcloud"], "start", "median_seconds"),
        "localcloud_rss_mb": _get(benches["localcloud"], "memory", "deployed", "total_rss_mb"),
        "detection_ratio": spread(ratios),
        "failover_minus_detection_seconds": spread(after),
        "failback_seconds": spread(failback),
        "drills_passed": f"{sum(d.get('verdict') == 'pass' for d in drills)}/{len(drills)}",
        "drill_modes": _get(drill, "modes"),
        "pipeline_p50_seconds": _get(deploy, "pipeline", "p50_seconds"),
        "cold_deploy_seconds": (_get(deploy, "runs", "cold", "wall_seconds")
                                if _get(deploy, "runs", "cold", "rc") == 0 else None),
        "slowest_single_region_seconds": _get(deploy, "slowest_single_region_seconds"),
        "noop_redeploy_seconds": (_get(deploy, "runs", "noop", "wall_seconds")
                                  if _get(deploy, "runs", "noop", "rc") == 0 else None),
        "sequential_boto3": {
            "seconds": _get(deploy, "sequential_boto3", "total_seconds"),
            "calls": _get(deploy, "sequential_boto3", "calls"),
            "cold_deploy_ratio": _get(deploy, "cold_vs_sequential_boto3"),
        },
        "slowest_tasks": {label: _get(deploy, "runs", label, "slowest_tasks")
                          for label in ("cold", "noop")
                          if _get(deploy, "runs", label, "rc") == 0},
        "ansible_overhead": {
            label: {key: _get(deploy, "runs", label, key)
                    for key in ("tasks_run", "seconds_per_task", "requests", "plays")}
            for label in ("cold", "noop") if _get(deploy, "runs", label, "rc") == 0
        },
    }


def verdict(name: str, value: Any, figures: dict[str, Any] | None = None) -> tuple[str, str]:
    """(met?, by how much it misses and why)."""
    goal, _, _, why = GOALS[name]
    if value is None:
        return "n/a", "not measured (see the errors below)"
    if goal is None:
        return "-", ""
    if value <= goal:
        return "yes", ""
    facts = figures or {}
    overhead = facts.get("ansible_overhead", {})
    why = why.format(
        noop_tasks=_fmt(overhead.get("noop", {}).get("tasks_run")),
        cold_tasks=_fmt(overhead.get("cold", {}).get("tasks_run")),
        sequential_seconds=_fmt(facts.get("sequential_boto3", {}).get("seconds")))
    return "no", f"{(value / goal - 1) * 100:.0f} % over: {why}"


def _fmt(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict) and "median" in value:
        count = f", n={value['n']}" if "n" in value else ""
        low, high = _fmt(value["min"]), _fmt(value["max"])
        return f"median {_fmt(value['median'])} ({low} to {high}{count})"
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def render(results: dict[str, Any]) -> str:
    m, v, fig = results["machine"], results["versions"], results["figures"]
    lines = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (`bench/run_all.py`"
        f"{' --quick' if results['quick'] else ''}) on {results['date']}; the figures are in "
        "`bench/results.json`, each benchmark's own output in `build/bench/`. Ratios are taken "
        "within one run, because the machine is shared and noisy: quote ratios, not seconds.",
        "",
        "## Machine and versions",
        "",
        f"- {m['cpus']} CPUs ({m['cpu_model']}), {m['memory_total_gb']} GB memory "
        f"({m['memory_available_gb_at_start']} GB available at the start)",
        f"- load average (1, 5, 15 min) at the start {m['load_average_start']}, at the end "
        f"{m['load_average_end']}",
        "- " + ", ".join(f"{k} {val}" for k, val in v.items()),
        f"- local cloud time scale 0.1 for the deploy and drill runs; total {results['seconds']} s",
        "",
        "## Figures",
        "",
        "| figure | measured | goal | met? | miss and why |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, (goal, direction, what, _) in GOALS.items():
        met, note = verdict(name, fig[name], fig)
        goal_text = f"{direction} {goal:g}" if goal is not None else "-"
        lines.append(f"| `{name}`: {what} | {_fmt(fig[name])} | {goal_text} | {met} | {note} |")
    seq = fig["sequential_boto3"]
    lines += [
        "",
        "## Deploy and Ansible overhead",
        "",
        f"- cold deploy of both regions {_fmt(fig['cold_deploy_seconds'])} s; slowest single "
        f"region (to the end of the stacks) {_fmt(fig['slowest_single_region_seconds'])} s; "
        f"no-op redeploy {_fmt(fig['noop_redeploy_seconds'])} s",
        f"- the same creates and Route 53 changes by a plain boto3 script, one after the other: "
        f"{_fmt(seq['seconds'])} s in {_fmt(seq['calls'])} API calls; the cold Ansible deploy "
        f"takes {_fmt(seq['cold_deploy_ratio'])} x as long",
    ]
    for label, over in fig["ansible_overhead"].items():
        requests = over["requests"] or {}
        lines.append(f"- {label}: {_fmt(over['tasks_run'])} tasks run (host x task), "
                     f"{_fmt(over['seconds_per_task'])} s per task, "
                     f"{_fmt(requests.get('counted'))} requests to the local cloud "
                     "(AWS API calls plus the smoke event's)"
                     + (f", of which {requests['aws_api_calls']} AWS API calls"
                        if "aws_api_calls" in requests else ""))
    plays = {label: over.get("plays") or [] for label, over in fig["ansible_overhead"].items()}
    if plays.get("cold") and plays.get("noop"):
        noop = {play["name"]: play["seconds"] for play in plays["noop"]}
        lines += ["", "Seconds per play, cold deploy and no-op redeploy:", "",
                  "| play | cold | no-op |", "| --- | --- | --- |"]
        lines += [f"| {play['name']} | {_fmt(play['seconds'])} | {_fmt(noop.get(play['name']))} |"
                  for play in plays["cold"]]
        lines += ["", "The no-op run repeats every check of the cold run. Preflight alone "
                  "(cfn-lint, ValidateTemplate, identity, zone, certificate and stack reads in "
                  "each region) costs about as much in both runs. So on the local cloud, where "
                  "the creates themselves take seconds, the ratio cannot approach 0.35 without "
                  "skipping checks an operator relies on. On AWS, creating the stacks and the "
                  "global table's replica takes minutes, and those checks cost the same."]
    lines += [
        "",
        "## Drill and pipeline",
        "",
        f"- detection / limit, unplanned drills: {_fmt(fig['detection_ratio'])}",
        f"- failover - detection, unplanned drills: "
        f"{_fmt(fig['failover_minus_detection_seconds'])} s",
        f"- failback, all drills: {_fmt(fig['failback_seconds'])} s; drills passed "
        f"{fig['drills_passed']}",
    ]
    for mode, per_mode in (fig.get("drill_modes") or {}).items():
        lines.append(
            f"- {mode} ({per_mode.get('passed')} passed, lost {per_mode.get('lost')}): "
            f"detection / limit {_fmt(per_mode.get('detection_ratio'))}, failover - detection "
            f"{_fmt(per_mode.get('failover_minus_detection'))} s, failback "
            f"{_fmt(per_mode.get('failback_seconds'))} s")
    lines += [
        "- the limit is interval x threshold; Route 53 needs threshold failed probes an "
        "interval apart and the first can come right after the fault, so an unplanned "
        "drill's ratio lies between (threshold - 1) / threshold and 1, plus the wait's poll; "
        "a planned drill's inversion takes effect at the next evaluation",
        f"- pipeline POST to both replicas: p50 {_fmt(fig['pipeline_p50_seconds'])} s, "
        f"p95 {_fmt(fig['pipeline_p95_seconds'])} s",
        "",
    ]
    reused = [b["script"] for b in results["benchmarks"].values()
              if b.get("reused") and b["figures"] is not None]
    if reused and results.get("only"):
        lines += [f"Figures of {', '.join(reused)} are from an earlier run (`--only`).", ""]
    errors = {name: b["error"] for name, b in results["benchmarks"].items() if b["error"]}
    if errors:
        lines += ["## Errors", ""]
        lines += [f"- {name}: {error.splitlines()[0][:300]}" for name, error in errors.items()]
        lines.append("")
    lines += [
        "## Where the time goes",
        "",
        "On the local cloud the cloud's "
        "own work is seconds (the plain boto3 script above); nearly all of a deploy is Ansible "
        "starting one Python process per module task and host, each importing boto3 (0.5 s to "
        "5 s depending on the load). What costs a run is the number of module tasks on the "
        "critical path, not the number of API calls.",
        "",
    ]
    for label, tasks in fig["slowest_tasks"].items():
        lines += [f"Slowest tasks, {label} deploy (seconds, both hosts together):", ""]
        lines += [f"- {task['seconds']:.1f} {task['name']}" for task in tasks or []]
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="fewer starts, events, drills and load steps")
    parser.add_argument("--only", help="comma-separated benchmarks to run (default: all); the "
                        "others' figures are taken from their last run in build/bench/")
    parser.add_argument("--render-only", action="store_true",
                        help="run nothing: rebuild the results and the table from build/bench/")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    names = [] if args.render_only else args.only.split(",") if args.only else list(SCRIPTS)
    began = time.monotonic()
    results: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "quick": args.quick, "machine": machine(), "versions": versions(),
        "only": args.only,
    }
    benches = {name: run_bench(name, args.quick) if name in names else reuse(name)
               for name in SCRIPTS}
    results["machine"]["load_average_end"] = [round(v, 2) for v in os.getloadavg()]
    results["seconds"] = round(time.monotonic() - began, 1)
    if args.render_only and RESULTS.is_file():
        # The run that measured the figures keeps its date, machine load and duration.
        earlier = json.loads(RESULTS.read_text())
        results.update({key: earlier[key] for key in ("date", "quick", "machine", "versions",
                                                      "seconds", "only") if key in earlier})
    results["figures"] = summarize(benches)
    results["goals"] = {name: {"goal": goal, "direction": direction, "what": what,
                               "met": verdict(name, results["figures"][name])[0]}
                        for name, (goal, direction, what, _) in GOALS.items()}
    results["benchmarks"] = benches
    results.update({name: results["figures"][name] for name in GOALS})
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    DOC.write_text(render(results))
    print(f"wrote {RESULTS.relative_to(REPO)} and {DOC.relative_to(REPO)}")
    for name in GOALS:
        met, note = verdict(name, results["figures"][name], results["figures"])
        print(f"  {name}: {_fmt(results['figures'][name])} ({met}) {note[:100]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
