# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""failover.aws.preflight_report: every problem the preflight's checks found, from their results
(the rules are in module_utils/preflight.py)."""

from __future__ import annotations

import os

from ansible.plugins.action import ActionBase
from ansible_collections.failover.aws.plugins.module_utils.preflight import (
    lint_problems,
    report,
    shown_path,
)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self.validate_argument_spec(argument_spec={
            "regions": {"type": "list", "elements": "dict", "required": True},
            "localcloud": {"type": "dict", "default": {}},
            "zone": {"type": "dict", "default": {}},
            "lint": {"type": "dict", "default": {}},
            "template": {"type": "path", "required": True},
            "cfn_lint_command": {"type": "path", "required": True},
            "certificate_min_days": {"type": "int", "default": 30},
            "settings_dir": {"type": "str", "required": True},
            "project_dir": {"type": "str", "default": ""},
        })[1]
        template = args["template"]
        template_shown = shown_path(os.path.realpath(template), args["project_dir"])
        lint = lint_problems(args["lint"], template, template_shown, os.path.isfile(template),
                             args["cfn_lint_command"], os.path.isfile(args["cfn_lint_command"]))
        result.update(report(
            args["regions"], args["localcloud"], args["zone"], lint, template_shown,
            args["certificate_min_days"], shown_path(args["settings_dir"], args["project_dir"])))
        result["changed"] = False
        return result
