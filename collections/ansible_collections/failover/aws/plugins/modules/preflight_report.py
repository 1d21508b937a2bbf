#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: preflight_report
short_description: Judge the results of a two-region deployment's preflight checks
version_added: 0.6.0
description:
  - Takes what the preflight role's checks registered in every region - its variables
    (M(failover.aws.preflight_variables)), the caller's identity, the region's certificates, its
    API Gateway account settings, CloudFormation's validation of the template and the
    deployment's stack - and what ran once (the local cloud's status, the hosted zone's
    delegation, cfn-lint), and returns every problem, one line each, in the order of the checks.
  - A problem found the same in both regions is one line. A skipped result is no problem (what
    made the check skip is reported by the check that found it).
  - Never fails; the caller decides. The rules live in C(plugins/module_utils/preflight.py) of
    this collection.
  - This is an action plugin; it runs on the controller and changes nothing.
options:
  regions:
    description:
      - One entry per region host, with C(region), C(deployment_role), C(stack_name),
        C(certificate_arn) (empty - any ISSUED certificate covering the domain will do),
        C(certificate_variable) (named in problems with that ARN), C(artifact_bucket) and the
        registered results C(variables), C(identity) (M(amazon.aws.aws_caller_info)),
        C(certificates) (M(community.aws.acm_certificate_info)), C(apigateway)
        (M(failover.aws.api_gateway_account_info)), C(validation)
        (M(failover.aws.cloudformation_template_validate)) and C(stack)
        (M(amazon.aws.cloudformation_info)).
    type: list
    elements: dict
    required: true
  localcloud:
    description: The local cloud's status (M(ansible.builtin.uri)); skipped or empty on a real account.
    type: dict
    default: {}
  zone:
    description: The hosted zone's delegation (M(failover.aws.route53_delegation_info)).
    type: dict
    default: {}
  lint:
    description: cfn-lint's run (its C(rc), C(stdout_lines), C(stderr_lines)).
    type: dict
    default: {}
  template:
    description: Path of the CloudFormation template on the controller.
    type: path
    required: true
  cfn_lint_command:
    description: Path of the C(cfn-lint) command.
    type: path
    required: true
  certificate_min_days:
    description: A certificate must stay valid at least this many more days.
    type: int
    default: 30
  settings_dir:
    description: Where the operator sets the deployment-wide variables, named in the fixes.
    type: str
    required: true
  project_dir:
    description: Paths in problems are shown relative to it when they are inside it.
    type: str
    default: ""
author:
  - Event failover project team (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Judge every answer, in the order of the checks
  failover.aws.preflight_report:
    regions: "{{ ansible_play_hosts_all | map('extract', hostvars, 'preflight_answers') }}"
    zone: "{{ zone_delegation }}"
    lint: "{{ template_lint }}"
    template: files/regional.yml
    cfn_lint_command: .venv/bin/cfn-lint
    settings_dir: "{{ inventory_dir }}/group_vars/all"
  run_once: true
  register: preflight_report
"""

RETURN = r"""
problems:
  description: One line per problem, naming the variable or resource and the fix.
  type: list
  elements: str
  returned: always
  sample: ["stack evfail-primary in us-east-1: CREATE_FAILED; Its create failed without rollback; delete the stack, then run again."]
notes:
  description: What a deploy will do about the current state (not problems).
  type: list
  elements: str
  returned: always
  sample: ["Stack evfail-secondary in us-west-2 is ROLLBACK_COMPLETE (its first create failed, so CloudFormation cannot update it): ..."]
"""
