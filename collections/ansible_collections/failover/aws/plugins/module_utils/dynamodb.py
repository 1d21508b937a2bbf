# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""DynamoDB items as JSON, for the failover.aws modules that read or export them.

Two shapes: ``plain`` (what a reader expects: numbers, strings, lists, objects; binary as
base64) and ``dynamodb`` (the typed attribute values Scan returns, as ``aws dynamodb scan``
prints them), which keeps what plain JSON cannot say: sets, binary, and numbers beyond a
double's precision.
"""

import base64
import contextlib
from decimal import Decimal

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing boto3
    from boto3.dynamodb.types import Binary, TypeDeserializer


def plain_value(value):
    """A deserialized DynamoDB value as plain JSON."""
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return int(value)
        return float(value)
    if isinstance(value, Binary):
        return base64.b64encode(value.value).decode("ascii")
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict):
        return {k: plain_value(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted((plain_value(v) for v in value), key=repr)
    if isinstance(value, (list, tuple)):
        return [plain_value(v) for v in value]
    return value


def typed_value(value):
    """An attribute value as the DynamoDB JSON the API returns (binary as base64)."""
    if isinstance(value, dict):
        return {k: typed_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [typed_value(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def item_as_json(raw, shape):
    """One item from Scan (attribute name -> typed value) in the asked ``shape``."""
    if shape == "dynamodb":
        return {name: typed_value(value) for name, value in raw.items()}
    deserializer = TypeDeserializer()
    return {name: plain_value(deserializer.deserialize(value)) for name, value in raw.items()}
