#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: preflight_variables
short_description: Validate a two-region deployment's variables and list every problem
version_added: 0.6.0
description:
  - Reads the deployment-wide variables (C(inventories/<env>/group_vars/all)) from the task's
    variables and checks each one - set when required, something that can be evaluated, its
    type, its allowed values, then the patterns, ranges and relations the template imposes
    (C(deployment_name) 3-32 lowercase letters, digits or hyphens; AWS region names that differ;
    lowercase DNS names with C(custom_domain) within C(hosted_zone_name); throttling limits; ACM
    certificate ARNs in their region).
  - Never fails - it returns every problem, one line each, naming the variable, what is wrong and
    the file to fix it in (C(main.yml) or, for the tuning variables, C(deployment.yml) in
    O(settings_dir)).
  - The rules live in C(plugins/module_utils/preflight.py) of this collection.
  - This is an action plugin; it runs on the controller and changes nothing.
options:
  settings_dir:
    description:
      - Where the operator sets the deployment-wide variables (usually
        C(<inventory>/group_vars/all)), named in every fix.
    type: str
    required: true
  project_dir:
    description: O(settings_dir) is shown relative to it when it is inside it.
    type: str
    default: ""
  certificate_variable:
    description:
      - The variable that gives this host's certificate ARN. When it is C(primary_certificate_arn)
        or C(secondary_certificate_arn), it must be set.
    type: str
    default: ""
author:
  - Event failover project team (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Check the deployment-wide variables
  failover.aws.preflight_variables:
    settings_dir: "{{ inventory_dir }}/group_vars/all"
    certificate_variable: "{{ deployment_role }}_certificate_arn"
  register: deployment_variables

- name: Stop on the first run with a broken variable
  ansible.builtin.assert:
    that: deployment_variables.problems | length == 0
    fail_msg: "{{ deployment_variables.problems | join('; ') }}"
"""

RETURN = r"""
problems:
  description: One line per problem, naming the variable and where to set it.
  type: list
  elements: str
  returned: always
  sample: ["secondary_region: equal to primary_region (us-east-1); set two different regions in inventories/local/group_vars/all/main.yml"]
invalid:
  description: The variables with a problem of their own (a broken relation between valid values is not listed).
  type: list
  elements: str
  returned: always
  sample: ["log_retention_days"]
checks:
  description:
    - Which checks of the preflight role can run, because every variable they read is valid -
      C(identity), C(zone), C(certificate), C(apigateway) and C(stack).
  type: dict
  returned: always
  sample: {"identity": true, "zone": true, "certificate": true, "apigateway": false, "stack": true}
settings:
  description: The valid variables' values, converted to their types (secrets left out).
  type: dict
  returned: always
  sample: {"deployment_name": "evfail", "log_retention_days": 14, "manage_apigateway_account": true}
zone_domain:
  description: The custom domain DNS must place in the hosted zone; empty when it is not a valid name in the zone.
  type: str
  returned: always
  sample: api.example.com
"""
