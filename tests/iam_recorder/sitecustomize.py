"""Records every AWS API call of a run, for tests/playbooks/test_iam_tables.py (tests only).

On PYTHONPATH only in that test's runs: every Python process started there (Ansible's module
processes, drillkit) imports this at start-up. With IAM_RECORD_LOG set, each botocore API call
appends one JSON line: which role's task started the process (what the iam_task_marker
callback wrote to IAM_RECORD_TASK when the task started; Ansible's linear strategy runs one task
at a time), which module or program made the call, the service, the operation and its HTTP
method (API Gateway's IAM actions are HTTP methods).
"""

import contextlib
import json
import os
import re
import sys

_LOG = os.environ.get("IAM_RECORD_LOG")
_CALLER = re.compile(
    r"ansible_collections/(?P<ns>\w+)/(?P<name>\w+)/plugins/modules/(?P<module>\w+)\.py$")


def _caller():
    frame = sys._getframe(2)
    while frame is not None:
        path = frame.f_code.co_filename
        match = _CALLER.search(path)
        if match:
            return f"{match['ns']}.{match['name']}.{match['module']}"
        if f"{os.sep}drillkit{os.sep}" in path:
            return "drillkit"
        frame = frame.f_back
    return os.path.basename(sys.argv[0] or "python")


def _task(cache={}):  # noqa: B006 - read once per process: the task that started it
    if "task" not in cache:
        try:
            with open(os.environ["IAM_RECORD_TASK"], encoding="utf-8") as handle:
                cache["task"] = json.load(handle)
        except (KeyError, OSError, ValueError):
            cache["task"] = {}
    return cache["task"]


def _install():
    import botocore.client

    original = botocore.client.BaseClient._make_api_call

    def _make_api_call(self, operation_name, api_params):
        model = self.meta.service_model
        http = model.operation_model(operation_name).http
        task = _task()
        line = json.dumps({
            "role": task.get("role", ""), "task": task.get("task", ""), "caller": _caller(),
            "service": model.service_name, "signing_name": model.signing_name,
            "operation": operation_name, "http_method": http.get("method"),
            # S3 deletes of object versions need s3:DeleteObjectVersion as well.
            "versioned": "VersionId" in api_params or any(
                "VersionId" in item for item in (api_params.get("Delete") or {}).get(
                    "Objects", [])),
        })
        with open(_LOG, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
        return original(self, operation_name, api_params)

    botocore.client.BaseClient._make_api_call = _make_api_call


if _LOG:
    # A process without botocore makes no AWS call.
    with contextlib.suppress(ImportError):
        _install()
