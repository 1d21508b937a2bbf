#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: cloudformation_template_validate
short_description: Validate a CloudFormation template with CloudFormation itself
version_added: 0.3.0
description:
  - Calls ValidateTemplate in the module's region on a template given as a file, a body or an
    S3 URL, and returns what a stack of it needs - its parameters (with defaults), the
    capabilities CreateStack will ask for and why, its description and declared transforms.
  - Fails with CloudFormation's own message (for example C(Template format error - Unresolved
    resource dependencies [X] in the Resources block of the template)) when CloudFormation
    would refuse the template.
  - Why a module of our own - M(amazon.aws.cloudformation) only validates a template by
    creating or changing a stack (in check mode it skips a stack that does not exist yet), and
    neither amazon.aws nor community.aws has a module for ValidateTemplate, which changes
    nothing and is what a preflight check before the first deploy needs.
  - ValidateTemplate changes nothing, so the module runs in check mode too.
options:
  template:
    description:
      - Path of a template file on the host the module runs on (JSON or YAML).
      - Exactly one of O(template), O(template_body) and O(template_url).
    type: path
  template_body:
    description: The template itself (at most 51,200 bytes; use O(template_url) beyond).
    type: str
  template_url:
    description: URL of a template in an S3 bucket (at most 1 MB).
    type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - ValidateTemplate checks syntax and structure, not resource properties; use cfn-lint for
    those.
author:
  - Event failover project team (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Validate the regional template in this region
  failover.aws.cloudformation_template_validate:
    template: "{{ playbook_dir }}/../files/regional.yml"
  register: regional_template

- name: Validate a template the controller renders
  failover.aws.cloudformation_template_validate:
    template_body: "{{ lookup('ansible.builtin.template', 'stack.yml.j2') }}"

- name: Show the parameters a stack needs
  ansible.builtin.debug:
    msg: "{{ regional_template.parameters | rejectattr('default_value', 'defined') | map(attribute='parameter_key') }}"
"""

RETURN = r"""
description:
  description: The template's Description (empty when it has none).
  type: str
  returned: success
parameters:
  description: The template's parameters, in the order CloudFormation returns them.
  type: list
  elements: dict
  returned: success
  contains:
    parameter_key:
      description: Name of the parameter.
      type: str
    default_value:
      description: Its default, as a string (absent when it has none).
      type: str
    no_echo:
      description: Whether its value is masked.
      type: bool
    description:
      description: Its description (absent when it has none).
      type: str
  sample: [{"parameter_key": "StageName", "default_value": "Prod", "no_echo": false}]
capabilities:
  description: Capabilities CreateStack and UpdateStack need for this template.
  type: list
  elements: str
  returned: success
  sample: ["CAPABILITY_NAMED_IAM"]
capabilities_reason:
  description: The resources that need RV(capabilities) (empty when none do).
  type: str
  returned: success
  sample: "The following resource(s) require capabilities: [AWS::IAM::Role]"
declared_transforms:
  description: The template's transforms.
  type: list
  elements: str
  returned: success
template_size:
  description: Size of the template in bytes (unknown, 0, for O(template_url)).
  type: int
  returned: success
"""

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry


def read_template(module):
    """The ValidateTemplate arguments and a name for the template in messages."""
    if module.params["template_url"]:
        return {"TemplateURL": module.params["template_url"]}, module.params["template_url"], 0
    if module.params["template"]:
        path = module.params["template"]
        try:
            with open(path, encoding="utf-8") as handle:
                body = handle.read()
        except (OSError, UnicodeDecodeError) as e:
            module.fail_json(msg=f"Could not read the template {path}: {e}")
        return {"TemplateBody": body}, path, len(body.encode("utf-8"))
    body = module.params["template_body"]
    return {"TemplateBody": body}, "the template", len(body.encode("utf-8"))


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            template=dict(type="path"),
            template_body=dict(type="str"),
            template_url=dict(type="str"),
        ),
        mutually_exclusive=[["template", "template_body", "template_url"]],
        required_one_of=[["template", "template_body", "template_url"]],
        supports_check_mode=True,
    )
    client = module.client("cloudformation", retry_decorator=AWSRetry.jittered_backoff())
    arguments, name, size = read_template(module)
    try:
        answer = client.validate_template(aws_retry=True, **arguments)
    except is_boto3_error_code("ValidationError") as e:
        module.fail_json(msg=f"{name} is not valid: {e.response['Error']['Message']}",
                         error=camel_dict_to_snake_dict(e.response["Error"]))
    except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Could not validate {name}")

    module.exit_json(
        changed=False,
        description=answer.get("Description", ""),
        parameters=[camel_dict_to_snake_dict(p) for p in answer.get("Parameters", [])],
        capabilities=answer.get("Capabilities", []),
        capabilities_reason=answer.get("CapabilitiesReason", ""),
        declared_transforms=answer.get("DeclaredTransforms", []),
        template_size=size,
    )


if __name__ == "__main__":
    main()
