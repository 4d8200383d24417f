"""A policy's Resource ARNs as IAM checks them: ARN form, partition, vendor, per-service rules, legacy shape."""

from __future__ import annotations

PARTITIONS = frozenset({"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"})
IAM_PATHS = (
    "user/", "federated-user/", "role/", "group/", "instance-profile/", "mfa/", "server-certificate/", "policy/",
    "sms-mfa/", "saml-provider/", "oidc-provider/", "report/", "access-report/",
)
# S3's regional resource types (the Service Authorization Reference); a bucket or object ARN has no region
S3_REGIONAL = ("accesspoint/", "job/", "storage-lens/", "storage-lens-group/", "access-grants/", "async-request/")
IAM_PATH_MESSAGE = 'IAM resource path must either be "*" or start with ' + ", ".join(IAM_PATHS) + "."


def format_error(resource: str) -> str | None:
    """IAM's message for a Resource that is not `*` or a well-formed ARN; None when it is fine."""
    if resource == "*":
        return None
    _, colon, rest = resource.partition(":")
    if not colon:
        return f'Resource {resource} must be in ARN format or "*".'
    partition, colon, rest = rest.partition(":")
    if partition != "*" and partition not in PARTITIONS:
        return f'Partition "{partition}" is not valid for resource "{_spelled_out(partition, rest)}".'
    if not colon:
        return "Resource vendor must be fully qualified and cannot contain regexes."
    service, _, rest = rest.partition(":")
    region, _, rest = rest.partition(":")
    _, _, name = rest.partition(":")
    return _service_error(resource, service, region, name)


def _spelled_out(partition: str, rest: str) -> str:
    """The ARN as IAM repeats it in a partition error: six parts, the missing ones written `*`."""
    parts = rest.split(":")
    service = parts[0] if parts[0] or len(parts) > 1 else "*"
    region = parts[1] if len(parts) > 1 else "*"
    account = parts[2] if len(parts) > 2 else "*"
    name = ":".join(parts[3:]) if len(parts) > 3 else "*"
    return f"arn:{partition}:{service}:{region}:{account}:{name}"


def _service_error(resource: str, service: str, region: str, name: str) -> str | None:
    if service == "iam" and region:
        return f"IAM resource {resource} cannot contain region information."
    if service == "s3" and region and not name.startswith(S3_REGIONAL):
        return f"Resource {resource} can not contain region information."
    if service == "iam" and name != "*" and not name.startswith(IAM_PATHS):
        return IAM_PATH_MESSAGE
    return None


def legacy_shape_ok(resource: str) -> bool:
    """IAM's older parser: an ARN of fewer than six parts has no empty part, and the service is never empty."""
    if resource == "*":
        return True
    parts = resource.split(":")
    short_with_gap = len(parts) < 6 and "::" in resource
    return not short_with_gap and len(parts) > 2 and parts[2] != ""
