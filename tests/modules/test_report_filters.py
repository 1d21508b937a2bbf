"""failover.aws.drift_summary (the restore's drift line) and failover.aws.s3_tls_only_policy
(the artifact bucket's policy)."""

from __future__ import annotations

import sys

import pytest
from ansible_run import REPO

sys.path.insert(0, str(REPO / "collections"))
from ansible_collections.failover.aws.plugins.filter import cloudformation, s3

drift_summary = cloudformation.FilterModule().filters()["drift_summary"]
tls_only = s3.FilterModule().filters()["s3_tls_only_policy"]


def _result(role, *drifts):
    return {"item": {"role": role, "region": "us-east-1"},
            "drifted_resources": [{"logical_resource_id": logical, "drift_status": status}
                                  for logical, status in drifts]}


@pytest.mark.parametrize(("results", "expected"), [
    ([], "CloudFormation drift: none"),
    ([_result("primary"), _result("secondary")], "CloudFormation drift: none"),
    ([_result("primary", ("ApiStage", "DELETED")), _result("secondary")],
     "CloudFormation drift left: primary ApiStage DELETED. "),
    ([_result("primary", ("ApiStage", "DELETED"), ("ApiMapping", "DELETED")),
      _result("secondary", ("Queue", "MODIFIED"))],
     "CloudFormation drift left: primary ApiStage DELETED, primary ApiMapping DELETED, "
     "secondary Queue MODIFIED. "),
])
def test_drift_summary_names_each_drifted_resource(results, expected) -> None:
    line = drift_summary(results)
    assert line.startswith(expected)
    if "left" in line:
        assert "restore.yml again" in line and "deploy.yml does not repair drift" in line


@pytest.mark.parametrize(("partition", "arn"), [
    ("aws", "arn:aws:s3:::artifacts"),
    ("aws-cn", "arn:aws-cn:s3:::artifacts"),
    ("aws-us-gov", "arn:aws-us-gov:s3:::artifacts"),
])
def test_the_bucket_policy_denies_requests_without_tls(partition, arn) -> None:
    policy = tls_only("artifacts", partition)
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Deny" and statement["Action"] == "s3:*"
    assert statement["Resource"] == [arn, arn + "/*"]
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_bucket_policy_needs_a_bucket() -> None:
    with pytest.raises(ValueError, match="bucket name"):
        tls_only("", "aws")
