#!/usr/bin/env python3
"""How close the failover drill's measured times come to Route 53's own limits.

Not a test: a measurement to run by hand (``make bench``) and read. It starts a local cloud of
its own on a free port (stopped by its PID at the end), deploys the project with
``playbooks/deploy.yml``, runs ``playbooks/failover_drill.yml`` ``--drills`` times per mode, and
prints, for each mode, the median and spread of:

- ``detection_seconds / effective_limit_seconds`` (goal: 1.2 or less, plus one DNS polling
  interval: detection is when the zone's name servers first answer the custom domain with the
  secondary; Route 53 needs threshold failed probes an interval apart, so between
  (threshold - 1) x interval and interval x threshold after the fault, and the drill should
  notice within a DNS poll of the answer changing);
- ``failover_seconds - detection_seconds`` (goal: 5 s or less: how long clients keep reaching
  the failed primary after Route 53's answer changed);
- ``failback_seconds`` (how long after the restore started traffic is back on the primary).

All figures of one run come from the same machine in the same minutes; quote ratios, not
seconds. ``--json PATH`` writes every drill's figures.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DETECTION_RATIO_GOAL = 1.2
FAILOVER_AFTER_DETECTION_GOAL = 5.0
LOCAL_POLL_INTERVAL = 0.25  # failover_drill.yml's DNS poll interval on the local cloud


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def playbook(name: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "ansible-playbook"), f"playbooks/{name}", *args],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=1800)


def spread(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3),
            "max": round(max(values), 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--drills", type=int, default=3, help="drills per mode (default 3)")
    parser.add_argument("--modes", default="unplanned,planned")
    parser.add_argument("--time-scale", type=float, default=0.1)
    parser.add_argument("--json", type=Path, help="write every drill's figures here")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="drill-bench-"))
    port = free_port()
    env = {**os.environ, "LOCALCLOUD_PORT": str(port), "LOCALCLOUD_STATE_DIR": str(workdir),
           "LOCALCLOUD_TIME_SCALE": str(args.time_scale),
           "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
           "PATH": f"{BIN}:{os.environ.get('PATH', '')}"}
    reports = workdir / "reports"
    drills: list[dict[str, Any]] = []
    try:
        deployed = playbook("deploy.yml", env)
        if deployed.returncode:
            print(deployed.stdout[-4000:], file=sys.stderr)
            return 1
        for mode in args.modes.split(","):
            for n in range(args.drills):
                started = time.monotonic()
                run = playbook("failover_drill.yml", env, "-e", f"drill_mode={mode}",
                               "-e", f"failover_drill_report_dir={reports}")
                report = json.loads((reports / "latest.json").read_text())
                limit = report["health_check"]["effective_limit_seconds"]
                drills.append({
                    "mode": mode, "n": n + 1, "verdict": report["verdict"],
                    "rc": run.returncode, "wall_seconds": round(time.monotonic() - started, 3),
                    "detection_seconds": report["detection_seconds"],
                    "failover_seconds": report["failover_seconds"],
                    "failback_seconds": report["failback_seconds"],
                    "effective_limit_seconds": limit,
                    "detection_ratio": report["detection_seconds"] / limit,
                    # GetHealthCheckStatus's view, for comparison with detection.
                    "route53_reported_unhealthy_seconds":
                        report.get("route53_reported_unhealthy_seconds"),
                    "samples": report.get("samples"),
                    "lost": report["traffic"]["lost"],
                })
                print(f"{mode} #{n + 1}: {report['verdict']}, detection "
                      f"{report['detection_seconds']:.2f}s of {limit:.2f}s, failover "
                      f"{report['failover_seconds']:.2f}s, failback "
                      f"{report['failback_seconds']:.2f}s, lost {report['traffic']['lost']}",
                      flush=True)
    finally:
        pid_file = workdir / f"localcloud-{port}.pid"
        if pid_file.exists():
            os.kill(int(pid_file.read_text()), signal.SIGTERM)

    summary: dict[str, Any] = {"time_scale": args.time_scale, "drills": drills, "modes": {}}
    print(f"\n{'mode':<10} {'drills':>6} {'detection/limit':>22} {'failover-detection s':>24} "
          f"{'failback s':>20} {'lost':>5}")
    for mode in args.modes.split(","):
        ours = [d for d in drills if d["mode"] == mode]
        if not ours:
            continue
        ratio = spread([d["detection_ratio"] for d in ours])
        after = spread([d["failover_seconds"] - d["detection_seconds"] for d in ours])
        back = spread([d["failback_seconds"] for d in ours])
        summary["modes"][mode] = {"detection_ratio": ratio, "failover_minus_detection": after,
                                  "failback_seconds": back,
                                  "lost": sum(d["lost"] for d in ours),
                                  "passed": sum(d["verdict"] == "pass" for d in ours)}

        def fmt(s: dict[str, float]) -> str:
            return f"{s['median']:.2f} ({s['min']:.2f}-{s['max']:.2f})"

        print(f"{mode:<10} {len(ours):>6} {fmt(ratio):>22} {fmt(after):>24} {fmt(back):>20} "
              f"{summary['modes'][mode]['lost']:>5}")
    limit = drills[0]["effective_limit_seconds"] if drills else 0
    goal = DETECTION_RATIO_GOAL + LOCAL_POLL_INTERVAL / limit if limit else DETECTION_RATIO_GOAL
    print(f"\ngoals: detection/limit <= {goal:.2f} (1.2 + one {LOCAL_POLL_INTERVAL}s poll), "
          f"failover-detection <= {FAILOVER_AFTER_DETECTION_GOAL:.0f}s, lost = 0")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
