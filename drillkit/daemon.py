"""``traffic start|stop|status``: the sender as a background process of a run directory.

Like ``localcloud start``, the sender runs in a new session so that it outlives the shell (and
the Ansible task) that started it; its pid file is ``DIR/traffic.pid`` (written and removed by
the sender itself) and its stdout/stderr go to ``DIR/traffic.log``. A pid file can outlive its
process and the pid be reused, so before signalling anything ``stop`` checks in
``/proc/<pid>/cmdline`` that the process is this run directory's sender (Linux only).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from . import records
from .traffic import TrafficOptions

#: Beyond the request timeout: how long the sender may take to start, or to finish its log.
GRACE_SECONDS = 15.0


def sender_command(options: TrafficOptions) -> list[str]:
    """The foreground command (``traffic run``) that ``traffic start`` daemonizes."""
    command = [sys.executable, "-m", "drillkit", "traffic", "run",
               "--run-dir", str(options.run_dir.resolve()), "--url", options.url,
               "--rate", repr(options.rate), "--run-id", options.run_id,
               "--source", options.source, "--detail-type", options.detail_type,
               "--timeout", repr(options.timeout),
               "--health-poll-interval", repr(options.health_poll_interval),
               "--flags-poll-interval", repr(options.flags_poll_interval)]
    if options.host_header:
        command += ["--host-header", options.host_header]
    if options.max_seconds is not None:
        command += ["--max-seconds", repr(options.max_seconds)]
    for label, check_id in options.health_checks.items():
        command += ["--health-check", f"{label}={check_id}"]
    if options.endpoint_url:
        command += ["--endpoint-url", options.endpoint_url]
    if options.region:
        command += ["--region", options.region]
    if options.dns is not None:
        command += ["--dns-name", options.dns.name,
                    "--dns-poll-interval", repr(options.dns.poll_interval)]
        command += [f"--dns-server={server}" for server in options.dns.servers]
        command += [f"--dns-target={label}={name}" for label, name in options.dns.targets.items()]
        if options.dns.resolver:
            command += ["--dns-resolver", options.dns.resolver]
    return command


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def is_our_sender(pid: int, run_dir: Path) -> bool:
    """Whether ``pid`` is ``drillkit traffic run`` for this very run directory."""
    argv = _cmdline(pid)
    run_dir_arg = str(run_dir.resolve())
    has_run_dir = any(argv[i] == "--run-dir" and argv[i + 1] == run_dir_arg
                      for i in range(len(argv) - 1))
    return has_run_dir and "drillkit" in argv and "traffic" in argv and "run" in argv


def is_alive(pid: int) -> bool:
    """A process that exists and is not a zombie (an exited child not yet reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def read_pid(run_dir: Path) -> int | None:
    try:
        return int((run_dir / records.PID_FILE).read_text().strip())
    except (OSError, ValueError):
        return None


def running_sender(run_dir: Path) -> int | None:
    """The pid of this run directory's live sender, if there is one."""
    pid = read_pid(run_dir)
    if pid is not None and is_alive(pid) and is_our_sender(pid, run_dir):
        return pid
    return None


def _child_env() -> dict[str, str]:
    """The environment, with this package importable wherever the sender starts."""
    package_parent = str(Path(__file__).resolve().parent.parent)
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": package_parent + (os.pathsep + path if path else "")}


def start(options: TrafficOptions) -> int:
    """Start the sender; return once its first request is sent."""
    run_dir = options.run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    pid = running_sender(run_dir)
    if pid is not None:
        print(f"a sender is already running for {run_dir} (pid {pid}); "
              "run `drillkit traffic stop` first", file=sys.stderr)
        return 1
    # A new run: the log of an earlier one in the same directory would be counted with it.
    (run_dir / records.TRAFFIC_LOG).unlink(missing_ok=True)
    log_path = run_dir / records.SENDER_LOG
    with open(log_path, "ab") as log_file:
        process = subprocess.Popen(
            sender_command(options), stdin=subprocess.DEVNULL, stdout=log_file,
            stderr=subprocess.STDOUT, env=_child_env(), start_new_session=True,
        )
    deadline = time.monotonic() + options.timeout + GRACE_SECONDS
    while time.monotonic() < deadline:
        start_record = records.start_record(records.read_log(run_dir))
        if start_record is not None and start_record.get("pid") == process.pid:
            print(json.dumps({"pid": process.pid, "log": str(run_dir / records.TRAFFIC_LOG)}))
            return 0
        if process.poll() is not None:
            print(f"the sender exited with code {process.returncode} before its first request; "
                  f"see {log_path}", file=sys.stderr)
            return 1
        time.sleep(0.05)
    process.terminate()
    print(f"the sender sent nothing within {options.timeout + GRACE_SECONDS:.0f}s; "
          f"see {log_path}", file=sys.stderr)
    return 1


def _wait_gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not is_alive(pid):
            return True
        time.sleep(0.05)
    return not is_alive(pid)


def stop(run_dir: Path) -> int:
    """SIGTERM this run directory's sender, wait until it has written its log, summarize."""
    pid = read_pid(run_dir)
    if pid is not None and is_alive(pid):
        if not is_our_sender(pid, run_dir):
            print(f"pid {pid} in {run_dir / records.PID_FILE} is not the drillkit sender of "
                  f"{run_dir}; not signalling it (remove the stale pid file if the sender is "
                  "gone)", file=sys.stderr)
            return 1
        start_record = records.start_record(records.read_log(run_dir)) or {}
        grace = float(start_record.get("timeout") or 5.0) + GRACE_SECONDS
        os.kill(pid, signal.SIGTERM)
        if not _wait_gone(pid, grace):
            os.kill(pid, signal.SIGKILL)
            _wait_gone(pid, 5.0)
            print(f"the sender (pid {pid}) did not stop within {grace:.0f}s and was killed; "
                  "requests in flight are missing from the log", file=sys.stderr)
    (run_dir / records.PID_FILE).unlink(missing_ok=True)
    print(json.dumps(records.summarize(records.read_log(run_dir))))
    return 0


def status_of(run_dir: Path) -> dict[str, Any]:
    """The summary so far, whether the sender runs, and what the latest request got."""
    log = records.read_log(run_dir)
    summary: dict[str, Any] = records.summarize(log)
    sent = records.requests(log)
    last = sent[-1] if sent else {}
    accepted = [r for r in sent if records.is_accepted(r)]
    summary.update({
        "running": running_sender(run_dir) is not None,
        "last_region": last.get("region"),
        "last_status": last.get("status"),
        "last_accepted_region": accepted[-1].get("region") if accepted else None,
    })
    return summary


def status(run_dir: Path) -> int:
    print(json.dumps(status_of(run_dir)))
    return 0
