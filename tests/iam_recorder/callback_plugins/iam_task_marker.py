"""Writes the task that starts, with its role, to IAM_RECORD_TASK (tests only; see
../sitecustomize.py)."""

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: iam_task_marker
type: aggregate
short_description: Write the starting task and its role to a file (the IAM tables test)
description: Used by tests/playbooks/test_iam_tables.py only.
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "iam_task_marker"
    CALLBACK_NEEDS_ENABLED = True

    def _mark(self, task):
        path = os.environ.get("IAM_RECORD_TASK")
        if not path:
            return
        role = task._role.get_name() if task._role else ""
        partial = f"{path}.partial"
        with open(partial, "w", encoding="utf-8") as handle:
            json.dump({"role": role, "task": task.get_name(), "action": task.action}, handle)
        os.replace(partial, path)

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._mark(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._mark(task)
