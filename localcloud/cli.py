"""``localcloud start|stop|status|reset|serve``: a thin command line over the server."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any

from .config import Config

READY_TIMEOUT_SECONDS = 30.0


def _get_status(config: Config, timeout: float = 2.0) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(f"{config.url}/_localcloud/status", timeout=timeout) as resp:
            return json.loads(resp.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None


def _read_pid(config: Config) -> int | None:
    try:
        pid = int(config.pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    return pid


def start(config: Config) -> int:
    status = _get_status(config)
    if status is not None:
        pid = _read_pid(config)
        if pid is not None and pid != status.get("pid"):
            print(f"port {config.port} answers, but not as the local cloud of {config.pid_file}",
                  file=sys.stderr)
            return 1
        print(f"local cloud already running on {config.url} (pid {status.get('pid')})")
        return 0
    if _read_pid(config) is not None:
        print(f"a local cloud process from {config.pid_file} is alive but not answering on "
              f"{config.url}; run `localcloud stop` first", file=sys.stderr)
        return 1
    config.state_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **config.as_env()}
    started = time.monotonic()
    with open(config.log_file, "ab") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "localcloud", "serve"],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # survives the shell (and Ansible) that started it
        )
    config.pid_file.write_text(f"{process.pid}\n")
    deadline = started + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            config.pid_file.unlink(missing_ok=True)
            print(f"local cloud exited with code {process.returncode} before it was ready; "
                  f"see {config.log_file}", file=sys.stderr)
            return 1
        status = _get_status(config, timeout=0.5)
        if status is not None and status.get("pid") == process.pid:
            print(f"local cloud ready on {config.url} (pid {process.pid}, "
                  f"{time.monotonic() - started:.2f}s)")
            return 0
        time.sleep(0.05)
    process.terminate()
    config.pid_file.unlink(missing_ok=True)
    print(f"local cloud not ready after {READY_TIMEOUT_SECONDS:.0f}s; see {config.log_file}",
          file=sys.stderr)
    return 1


def stop(config: Config) -> int:
    pid = _read_pid(config)
    if pid is None:
        config.pid_file.unlink(missing_ok=True)
        print(f"no local cloud running from {config.pid_file}")
        return 0
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
    config.pid_file.unlink(missing_ok=True)
    print(f"local cloud stopped (pid {pid})")
    return 0


def status(config: Config) -> int:
    body = _get_status(config)
    if body is None:
        print(json.dumps({"url": config.url, "running": False}, indent=2))
        return 3
    body["running"] = True
    print(json.dumps(body, indent=2))
    return 0


def reset(config: Config) -> int:
    request = urllib.request.Request(f"{config.url}/_localcloud/reset", method="POST", data=b"")
    try:
        with urllib.request.urlopen(request, timeout=10):
            pass
    except (urllib.error.URLError, OSError) as exc:
        print(f"cannot reset the local cloud on {config.url}: {exc}", file=sys.stderr)
        return 1
    print(f"local cloud on {config.url} reset")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="localcloud",
        description="A local two-region AWS cloud. Settings come from LOCALCLOUD_* variables.",
    )
    parser.add_argument("--port", type=int, help="HTTP port (default: $LOCALCLOUD_PORT or 4566)")
    parser.add_argument("command", choices=["start", "stop", "status", "reset", "serve"])
    args = parser.parse_args(argv)
    config = Config.from_env()
    if args.port is not None:
        config.port = args.port
    if args.command == "serve":
        from .server import serve

        serve(config)
        return 0
    return {"start": start, "stop": stop, "status": status, "reset": reset}[args.command](config)


if __name__ == "__main__":
    sys.exit(main())
