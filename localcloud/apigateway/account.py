"""API Gateway's account settings (GetAccount, UpdateAccount) and what they gate: logging.

Settings are per account and region, as on AWS (moto keeps one ``Account`` per backend).

- UpdateAccount ``replace /cloudwatchRoleArn`` stores the role only if it exists and trusts
  ``apigateway.amazonaws.com``: API Gateway assumes the role through STS when the setting
  changes ("Set up CloudWatch logging for REST APIs in API Gateway", API Gateway developer
  guide), and refuses a role it cannot assume with a ``BadRequestException``. The wording is
  what AWS answers (API reference does not document it; seen in terraform and CDK reports:
  tmobile/jazz-installer#597, 2020; older accounts got "... set to API Gateway",
  aws/aws-cdk#2194). ``AWS::ApiGateway::Account`` goes through the same call, so its resource
  fails the same way.
- A stage cannot turn on access logging (``/accessLogSettings/destinationArn``) or execution
  logging (``/{resource}/{method}/logging/loglevel`` INFO or ERROR,
  ``/{resource}/{method}/logging/dataTrace`` true) while the region's account settings have no
  CloudWatch role: ``BadRequestException`` "CloudWatch Logs role ARN must be set in account
  settings to enable logging" (same developer guide page: the role is set "at the account
  level for each Region"; AWS::ApiGateway::Account in the CloudFormation reference). UpdateStage
  is the one call that enables either (CreateStage takes neither), and a stack's Stage or
  Deployment ``StageDescription`` uses it too, so a stack's stage fails with that message.
- GetAccount answers as AWS does: ``cloudwatchRoleArn`` only once set, ``features``
  ``["UsagePlans"]`` and ``apiKeyVersion`` ``"4"`` (usage plans are on for every account), and
  the region's default account throttle ("Amazon API Gateway quotas": 10,000 RPS with a burst
  of 5,000, or 2,500 / 1,250 in the Regions that page lists). moto answered ``null`` fields,
  no features and key version 1.

Deviation: the role's permissions policy (AmazonAPIGatewayPushToCloudWatchLogs) is not
evaluated, only its trust policy, as for integration roles.
"""

from __future__ import annotations

from typing import Any

from moto.apigateway import models as apigw_models
from moto.apigateway.exceptions import BadRequestException

from .integrations import trusts_apigateway

LOGGING_NEEDS_ROLE = "CloudWatch Logs role ARN must be set in account settings to enable logging"
ROLE_NOT_ASSUMABLE = ("The role ARN does not have required permissions configured. Please grant "
                      "trust permission for API Gateway and add the required role policy.")
CLOUDWATCH_ROLE_PATH = "/cloudwatchRoleArn"
ACCESS_LOG_DESTINATION_PATH = "/accessLogSettings/destinationArn"
EXECUTION_LOG_LEVELS = {"INFO", "ERROR"}

# "Amazon API Gateway quotas": account-level throttle per Region.
DEFAULT_THROTTLE_SETTINGS = {"burstLimit": 5000, "rateLimit": 10000.0}
LOW_QUOTA_THROTTLE_SETTINGS = {"burstLimit": 1250, "rateLimit": 2500.0}
LOW_QUOTA_REGIONS = frozenset({
    "af-south-1", "eu-south-1", "ap-southeast-3", "me-central-1", "ap-south-2",
    "ap-southeast-4", "eu-south-2", "eu-central-2", "il-central-1", "ca-west-1",
    "ap-southeast-5", "ap-southeast-7", "mx-central-1",
})


def default_throttle_settings(region: str) -> dict[str, Any]:
    settings = LOW_QUOTA_THROTTLE_SETTINGS if region in LOW_QUOTA_REGIONS \
        else DEFAULT_THROTTLE_SETTINGS
    return dict(settings)


# -- GetAccount ------------------------------------------------------------------------------


def _with_aws_account_defaults(original: Any) -> Any:
    def __init__(self: Any, region_name: str, account_id: str) -> None:
        original(self, region_name, account_id)
        self.account.throttle_settings = default_throttle_settings(region_name)
        self.account.features = ["UsagePlans"]
        self.account.api_key_version = "4"

    return __init__


def account_to_json(self: Any) -> dict[str, Any]:
    data = {
        "cloudwatchRoleArn": self.cloudwatch_role_arn,
        "throttleSettings": self.throttle_settings,
        "features": self.features,
        "apiKeyVersion": self.api_key_version,
    }
    return {key: value for key, value in data.items() if value is not None}


# -- UpdateAccount ---------------------------------------------------------------------------


def _role(account_id: str, role_arn: str) -> Any:
    from moto.iam.models import iam_backends

    try:
        return iam_backends[account_id]["aws"].get_role_by_arn(role_arn)
    except Exception:
        return None


def check_cloudwatch_role(account_id: str, role_arn: str) -> None:
    """Refuse a role API Gateway could not assume: missing, or not trusting API Gateway."""
    role = _role(account_id, role_arn)
    if role is None or not trusts_apigateway(role.assume_role_policy_document):
        raise BadRequestException(ROLE_NOT_ASSUMABLE)


def _checking_cloudwatch_role(original: Any) -> Any:
    def update_account(self: Any, patch_operations: list[dict[str, Any]]) -> Any:
        for op in patch_operations or []:
            if op.get("path") == CLOUDWATCH_ROLE_PATH and op.get("value"):
                check_cloudwatch_role(self.account_id, op["value"])
        return original(self, patch_operations)

    return update_account


# -- logging needs the role ------------------------------------------------------------------


def enables_logging(op: dict[str, Any]) -> bool:
    """Whether one UpdateStage patch operation turns access or execution logging on."""
    if op.get("op") not in ("replace", "add"):
        return False
    path, value = str(op.get("path") or ""), str(op.get("value") or "")
    if path == ACCESS_LOG_DESTINATION_PATH:
        return bool(value)
    # A method setting: /{resource path}/{http method}/{setting}, e.g. /*/*/logging/loglevel.
    setting = path.split("/", 3)[3:]
    if setting == ["logging/loglevel"]:
        return value.upper() in EXECUTION_LOG_LEVELS
    if setting == ["logging/dataTrace"]:
        return value.lower() == "true"
    return False


def _requiring_cloudwatch_role(original: Any) -> Any:
    def update_stage(self: Any, function_id: str, stage_name: str,
                     patch_operations: Any) -> Any:
        self.get_stage(function_id, stage_name)  # a missing stage is NotFound first
        if not self.account.cloudwatch_role_arn and \
                any(enables_logging(op) for op in patch_operations or []):
            raise BadRequestException(LOGGING_NEEDS_ROLE)
        return original(self, function_id, stage_name, patch_operations)

    return update_stage


_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    backend = apigw_models.APIGatewayBackend
    backend.__init__ = _with_aws_account_defaults(backend.__init__)  # type: ignore[method-assign]
    backend.update_account = _checking_cloudwatch_role(backend.update_account)
    backend.update_stage = _requiring_cloudwatch_role(backend.update_stage)
    apigw_models.Account.to_json = account_to_json
