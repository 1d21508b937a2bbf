# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""S3 bucket policies the project puts on its buckets."""

from __future__ import annotations

DOCUMENTATION_URL = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html"


def s3_tls_only_policy(bucket, partition="aws"):
    """A bucket policy refusing every request to ``bucket`` and its objects not made over TLS.

    The statement S3's security best practices give for enforcing encryption in transit
    (``aws:SecureTransport`` false is denied), see DOCUMENTATION_URL. ``partition`` is the ARN
    partition of the account (``aws``, ``aws-cn``, ``aws-us-gov``).
    """
    if not bucket:
        raise ValueError("s3_tls_only_policy needs a bucket name")
    bucket_arn = f"arn:{partition or 'aws'}:s3:::{bucket}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }


class FilterModule:
    def filters(self):
        return {"s3_tls_only_policy": s3_tls_only_policy}
