"""Worker processes live only as long as the local cloud (and its state) that started them."""

from __future__ import annotations

import io
import json
import os
import zipfile
from typing import Any

from conftest import wait_for

CODE = """
import os
import time

def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return {"pid": os.getpid()}
"""


def deploy(cloud: Any, name: str) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", CODE)
    role = cloud.client("iam").create_role(RoleName=f"{name}-role",
                                           AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    cloud.client("lambda").create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
        Code={"ZipFile": buffer.getvalue()}, Timeout=60)


def process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def invoked_pid(cloud: Any, name: str) -> int:
    payload = cloud.client("lambda").invoke(FunctionName=name, Payload=b"{}")["Payload"]
    return json.loads(payload.read())["pid"]


def busy_worker_pid(cloud: Any, name: str) -> int:
    """Start a long invocation in the background; the pid of the worker running it."""
    cloud.client("lambda").invoke(FunctionName=name, InvocationType="Event",
                                  Payload=b'{"sleep": 60}')
    busy = wait_for(lambda: [w["pid"] for w in cloud.status()["lambda"]["workers"]
                             if w["state"] == "busy"], message="a busy worker")
    return busy[0]


def test_workers_end_with_the_local_cloud(fresh_localcloud: Any) -> None:
    deploy(fresh_localcloud, "lifecycle")
    idle = invoked_pid(fresh_localcloud, "lifecycle")
    busy = busy_worker_pid(fresh_localcloud, "lifecycle")
    workers = fresh_localcloud.status()["lambda"]["workers"]
    assert {w["pid"] for w in workers} == {idle, busy}
    assert not process_gone(idle) and not process_gone(busy)

    fresh_localcloud.stop()

    assert wait_for(lambda: process_gone(idle) and process_gone(busy),
                    message="the worker processes to end")


def test_reset_ends_the_workers(fresh_localcloud: Any) -> None:
    deploy(fresh_localcloud, "reset-me")
    idle = invoked_pid(fresh_localcloud, "reset-me")
    busy = busy_worker_pid(fresh_localcloud, "reset-me")

    fresh_localcloud.reset()

    assert wait_for(lambda: process_gone(idle) and process_gone(busy),
                    message="the worker processes to end")
    assert fresh_localcloud.status()["lambda"]["worker_count"] == 0
