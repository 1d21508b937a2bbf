# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""failover.aws.preflight_variables: the deployment-wide variables' problems, from the task's
variables (the rules are in module_utils/preflight.py)."""

from __future__ import annotations

from ansible.errors import AnsibleUndefinedVariable
from ansible.plugins.action import ActionBase
from ansible_collections.failover.aws.plugins.module_utils.preflight import (
    SETTING,
    UNRESOLVABLE,
    check_variables,
    shown_path,
)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        args = self.validate_argument_spec(argument_spec={
            "settings_dir": {"type": "str", "required": True},
            "project_dir": {"type": "str", "default": ""},
            "certificate_variable": {"type": "str", "default": ""},
        })[1]
        values = {}
        for name in SETTING:
            if name not in task_vars:
                continue
            try:
                values[name] = self._templar.template(task_vars[name])
            except AnsibleUndefinedVariable:
                values[name] = UNRESOLVABLE
        result.update(check_variables(
            values, shown_path(args["settings_dir"], args["project_dir"]),
            args["certificate_variable"]))
        result["changed"] = False
        return result
