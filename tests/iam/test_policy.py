"""Checking policy documents as IAM does: what it accepts, and the message it gives for the first problem it meets.

The messages are IAM's own (see the table in docs/iam.md for where each rule is documented); the order of the
checks is IAM's, so a document with two problems gets the message IAM gives for it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from cronbridge.iam.policy import Condition, MalformedPolicy, Policy, parse_policy, split_operator
from cronbridge.iam.resource_format import IAM_PATH_MESSAGE
from fixtures.terraform import seed_folder

OK = {"Effect": "Allow", "Action": "ecs:RunTask", "Resource": "*"}
SEED = seed_folder() / "policies"
SYNTAX = "Syntax errors in policy."
LEGACY = "The policy failed legacy parsing"
OLD = "Policy document must be version 2012-10-17 or greater."
NO_ACTIONS = "Policy statement must contain actions."
NO_RESOURCES = "Policy statement must contain resources."
NO_VENDOR = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
NO_PRINCIPALS = ("Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: "
                 "The passed in policy has a statement with no principals!")
SID_CHARACTERS = ("Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular "
                  "expression [0-9A-Za-z]*")


def doc(*statements: Any, **top: Any) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements), **top}


def on(resource: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": "s3:GetObject", "Resource": resource, **extra}


def when(block: Any, **extra: Any) -> dict[str, Any]:
    return OK | {"Condition": block} | extra


def trust(principal: Any, **extra: Any) -> dict[str, Any]:
    return doc({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole", **extra})


# (case, document or text, kind, IAM's message)
REFUSED: list[tuple[str, Any, str, str]] = [
    # JSON and the shape of each element: "Syntax errors in policy."
    ("text that is not JSON", "{not json", "managed", SYNTAX),
    ("a JSON list", "[]", "managed", SYNTAX),
    ("an element given twice", '{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Effect": "Deny", '
     '"Action": "*", "Resource": "*"}}', "managed", SYNTAX),
    ("a JSON NaN", '{"Version": "2012-10-17", "Statement": [], "Id": NaN}', "managed", SYNTAX),
    ("an unknown top-level field", doc(OK, Policy="x"), "managed", SYNTAX),
    ("a version IAM never had", doc(OK, Version="2012-10-18"), "managed", SYNTAX),
    ("an Id that is a list", doc(OK, Id=["x"]), "managed", SYNTAX),
    ("no Statement", {"Version": "2012-10-17"}, "managed", SYNTAX),
    ("an empty Statement list", doc(), "managed", SYNTAX),
    ("a statement that is a string", doc("Allow everything"), "managed", SYNTAX),
    ("an unknown statement field", doc(OK | {"Effects": "Allow"}), "managed", SYNTAX),
    ("no Effect", doc({"Action": "ecs:*", "Resource": "*"}), "managed", SYNTAX),
    ("an Effect that is neither allow nor deny", doc(OK | {"Effect": "Permit"}), "managed", SYNTAX),
    ("an Effect that is not a string", doc(OK | {"Effect": True}), "managed", SYNTAX),
    ("both Action and NotAction", doc(OK | {"NotAction": "iam:*"}), "managed", SYNTAX),
    ("both Action and an empty NotAction", doc(OK | {"NotAction": []}), "managed", SYNTAX),
    ("both Resource and NotResource", doc(OK | {"NotResource": "*"}), "managed", SYNTAX),
    ("both Principal and NotPrincipal", trust("*", NotPrincipal="*"), "trust", SYNTAX),
    ("an Action that is a number", doc(OK | {"Action": 3}), "managed", SYNTAX),
    ("an Action list holding a list", doc(OK | {"Action": [[]]}), "managed", SYNTAX),
    ("a Resource that is an object", doc(on({"bucket": "arn:aws:s3:::b"})), "managed", SYNTAX),
    ("a Resource list holding an object", doc(on(["arn:aws:s3:::b", {}])), "managed", SYNTAX),
    ("a Resource list holding null", doc(on(["arn:aws:s3:::b", None])), "managed", SYNTAX),
    ("a Sid that is an object", doc(OK | {"Sid": {}}), "managed", SYNTAX),
    ("a Condition that is a list", doc(when([{"StringEquals": {"a:b": "c"}}])), "managed", SYNTAX),
    ("a Condition that is a string", doc(when("StringEquals")), "managed", SYNTAX),
    ("an operator whose block is a string", doc(when({"StringEquals": "x"})), "managed", SYNTAX),
    ("an operator whose block is a list", doc(when({"DateLessThan": []})), "managed", SYNTAX),
    ("a condition value that is an object", doc(when({"StringEquals": {"a:b": {}}})), "managed", SYNTAX),
    ("a condition value that is null", doc(when({"StringEquals": {"a:b": None}})), "managed", SYNTAX),
    ("an unknown operator with keys", doc(when({"StringEqualz": {"a:b": "c"}})), "managed", SYNTAX),
    ("a qualifier with two colons", doc(when({"ForAnyValue::StringEquals": {"a": "b"}})), "managed", SYNTAX),
    ("an unknown set qualifier", doc(when({"ForSomeValues:StringEquals": {"a": "b"}})), "managed", SYNTAX),
    ("Null with IfExists", doc(when({"NullIfExists": {"a:b": "true"}})), "managed", SYNTAX),
    ("an operator spelt in lower case", doc(when({"stringequals": {"a:b": "c"}})), "managed", SYNTAX),
    ("shapes come before the legacy parser",
     doc(OK | {"Effect": "allow"}, {"Effect": "Allow"}, OK | {"Sid": []}), "managed", SYNTAX),
    # the version: managed policies need 2012-10-17
    ("a managed policy without Version", {"Statement": [OK]}, "managed", OLD),
    ("a managed policy of 2008-10-17", doc(OK, Version="2008-10-17"), "managed", OLD),
    ("the version comes before the legacy parser", {"Statement": [OK | {"Effect": "deny"}]}, "managed", OLD),
    # IAM's older parser: "The policy failed legacy parsing"
    ("an Effect spelt in lower case", doc(OK | {"Effect": "allow"}), "managed", LEGACY),
    ("an Effect in mixed case", doc(OK | {"Effect": "DENY"}), "identity", LEGACY),
    ("a date that is a word", doc(when({"DateGreaterThan": {"aws:CurrentTime": "tomorrow"}})), "managed", LEGACY),
    ("a date with month 13", doc(when({"DateLessThan": {"aws:CurrentTime": "2026-13-01"}})), "managed", LEGACY),
    ("a date whose zone has one digit",
     doc(when({"DateLessThan": {"aws:CurrentTime": "2026-01-01T10:00:00+1"}})), "managed", LEGACY),
    ("a date with ten fraction digits",
     doc(when({"DateLessThan": {"aws:CurrentTime": "2026-01-01T10:00:00.1234567890Z"}})), "managed", LEGACY),
    ("an epoch beyond 2^63-1", doc(when({"DateLessThan": {"aws:EpochTime": "9223372036854775808"}})), "managed",
     LEGACY),
    ("a date in a list", doc(when({"DateLessThanIfExists": {"aws:CurrentTime": ["2026-01-01", "x"]}})), "managed",
     LEGACY),
    ("a date that is a boolean", doc(when({"DateEquals": {"aws:CurrentTime": True}})), "managed", LEGACY),
    ("a short ARN with an empty part", doc(on("arn:aws:s3::bucket")), "managed", LEGACY),
    ("a NotResource short ARN with an empty part",
     doc({"Effect": "Deny", "Action": "*", "NotResource": "arn:aws:s3::b"}), "managed", LEGACY),
    ("an ARN with an empty service", doc(on("arn:aws::::bucket")), "managed", LEGACY),
    ("a three-part ARN with an empty part", doc(on("arn:aws::bucket")), "managed", LEGACY),
    ("legacy parsing comes before Sid uniqueness",
     doc(OK | {"Sid": "A", "Effect": "aLLow"}, OK | {"Sid": "A"}), "managed", LEGACY),
    ("legacy parsing comes before missing actions", doc({"Effect": "Allow", "Resource": "arn:aws:s3::b"}),
     "managed", LEGACY),
    ("a bad date comes before a bad partition",
     doc(on("arn:nope:s3:::b", Condition={"DateGreaterThan": {"a": "never"}})), "managed", LEGACY),
    # statement ids
    ("a repeated Sid", doc(OK | {"Sid": "A"}, OK | {"Sid": "A"}), "managed",
     "Statement IDs (SID) in a single policy must be unique."),
    ("a repeated Sid comes before missing actions", doc(OK | {"Sid": "A"}, {"Sid": "A", "Effect": "Allow"}),
     "managed", "Statement IDs (SID) in a single policy must be unique."),
    ("a Sid with a hyphen", doc(OK | {"Sid": "run-task"}), "managed", SID_CHARACTERS),
    ("a Sid with spaces in an inline policy", doc(OK | {"Sid": "run task"}), "identity", SID_CHARACTERS),
    # actions present
    ("no Action", doc({"Effect": "Allow", "Resource": "*"}), "managed", NO_ACTIONS),
    ("an empty Action list", doc(OK | {"Action": []}), "managed", NO_ACTIONS),
    ("an effect alone", doc({"Effect": "Deny"}), "managed", NO_ACTIONS),
    ("one statement of two without actions", doc({"Effect": "Deny"}, OK), "managed", NO_ACTIONS),
    ("missing actions come before a bad Resource", doc({"Effect": "Allow", "Resource": "bucket"}), "managed",
     NO_ACTIONS),
    # resources: ARN form, partition, vendor, per-service rules
    ("a Resource that is not an ARN", doc(on("my-bucket")), "managed",
     'Resource my-bucket must be in ARN format or "*".'),
    ("an empty Resource", doc(on("")), "managed", 'Resource  must be in ARN format or "*".'),
    ("a Resource list with a name in it", doc(on(["arn:aws:s3:::b", "b"])), "managed",
     'Resource b must be in ARN format or "*".'),
    ("an unknown partition", doc(on("arn:amazon:s3:::b")), "managed",
     'Partition "amazon" is not valid for resource "arn:amazon:s3:::b".'),
    ("a partition with nothing after it", doc(on("x:nope")), "managed",
     'Partition "nope" is not valid for resource "arn:nope:*:*:*:*".'),
    ("a partition with a service only", doc(on("x:nope:logs")), "managed",
     'Partition "nope" is not valid for resource "arn:nope:logs:*:*:*".'),
    ("an ARN without its arn: prefix", doc(on("aws:s3:::b")), "managed",
     'Partition "s3" is not valid for resource "arn:s3:::b:*".'),
    ("an unknown partition with a long resource", doc(on("arn:nope:logs:r:1:log-group:g:*")), "managed",
     'Partition "nope" is not valid for resource "arn:nope:logs:r:1:log-group:g:*".'),
    ("the first bad Resource is named", doc(on(["arn:one:s3:::b", "arn:two:s3:::b"])), "managed",
     'Partition "one" is not valid for resource "arn:one:s3:::b".'),
    ("a bad Resource silences a later short ARN", doc(on("arn:one:s3:::b"), on("arn:aws:s3::b")), "managed",
     'Partition "one" is not valid for resource "arn:one:s3:::b".'),
    ("no vendor after the partition", doc(on("arn:aws")), "managed",
     "Resource vendor must be fully qualified and cannot contain regexes."),
    ("an IAM ARN with a region", doc(on("arn:aws:iam:us-east-1:123456789012:role/r")), "managed",
     "IAM resource arn:aws:iam:us-east-1:123456789012:role/r cannot contain region information."),
    ("an S3 bucket ARN with a region", doc(on("arn:aws:s3:us-east-1::b")), "managed",
     "Resource arn:aws:s3:us-east-1::b can not contain region information."),
    ("an IAM ARN naming no IAM resource type", doc(on("arn:aws:iam::123456789012:bucket")), "managed",
     IAM_PATH_MESSAGE),
    ("a bad Resource comes before a bad action", doc(on("b") | {"Action": "s3:Get:Object"}), "managed",
     'Resource b must be in ARN format or "*".'),
    # action prefixes
    ("an action without a vendor", doc(OK | {"Action": "RunTask"}), "managed", NO_VENDOR),
    ("an empty action", doc(OK | {"Action": ""}), "managed", NO_VENDOR),
    ("an empty NotAction", doc({"Effect": "Allow", "NotAction": "", "Resource": "*"}), "managed", NO_VENDOR),
    ("an action with an empty vendor", doc(OK | {"Action": ":RunTask"}), "managed", NO_VENDOR),
    ("an action with two colons", doc(OK | {"Action": "ecs:Run:Task"}), "managed",
     "Actions/Condition can contain only one colon."),
    ("a vendor with a space", doc(OK | {"Action": "e cs:RunTask"}), "managed", "Vendor e cs is not valid"),
    ("a vendor with a wildcard", doc(OK | {"Action": "e*:RunTask"}), "managed", "Vendor e* is not valid"),
    ("a bad action comes before missing resources", doc({"Effect": "Allow", "Action": "RunTask"}), "managed",
     NO_VENDOR),
    # the rules of each kind of policy
    ("a principal in a managed policy", doc(OK | {"Principal": "*"}), "managed",
     "Policy document should not specify a principal."),
    ("a principal in an inline policy", doc(OK | {"Principal": {"AWS": "*"}}), "identity",
     "Policy document should not specify a principal."),
    ("a NotPrincipal in a session policy", doc(OK | {"NotPrincipal": "*"}), "session",
     "Policy document should not specify a principal."),
    ("no Resource in an identity policy", doc({"Effect": "Allow", "Action": "ecs:*"}), "managed", NO_RESOURCES),
    ("an empty Resource list", doc(on([])), "identity", NO_RESOURCES),
    ("an empty NotResource list", doc({"Effect": "Deny", "Action": "*", "NotResource": []}), "session",
     NO_RESOURCES),
    ("no principal in a trust policy", doc({"Effect": "Allow", "Action": "sts:AssumeRole"}), "trust",
     NO_PRINCIPALS),
    ("a Resource in a trust policy", trust("*", Resource="*"), "trust", "Has prohibited field Resource"),
    ("a partial wildcard AWS principal", trust({"AWS": "arn:aws:iam::123456789012:user/*"}), "trust",
     'Invalid principal in policy: "AWS":"arn:aws:iam::123456789012:user/*"'),
    ("an AWS principal that is a name", trust({"AWS": ["123456789012", "Bob"]}), "trust",
     'Invalid principal in policy: "AWS":"Bob"'),
    ("an AWS principal with a short account", trust({"AWS": "arn:aws:iam::1:root"}), "trust",
     'Invalid principal in policy: "AWS":"arn:aws:iam::1:root"'),
    ("a service principal that is no service", trust({"Service": "amazonaws.com"}), "trust",
     'Invalid principal in policy: "SERVICE":"amazonaws.com"'),
    ("a service principal given as a name", trust({"Service": ["events.amazonaws.com", "ecs"]}), "trust",
     'Invalid principal in policy: "SERVICE":"ecs"'),
    ("a federated principal that is neither a domain nor a provider ARN",
     trust({"Federated": "arn:aws:iam::123456789012:role/r"}), "trust",
     "Federated principals must be valid domain names or SAML metadata ARNs"),
    ("an unknown principal type", trust({"Robot": "x"}), "trust", "Invalid principal in policy"),
    ("an empty principal", trust({}), "trust", "Invalid principal in policy"),
    ("an empty principal list", trust({"AWS": []}), "trust", "Invalid principal in policy"),
    ("a principal string other than *", trust("arn:aws:iam::123456789012:root"), "trust",
     "Invalid principal in policy"),
    ("an action a trust policy cannot allow", trust({"Service": "ec2.amazonaws.com"}, Action=["sts:BadAssumeRole"]),
     "trust", "AssumeRole policy may only specify STS AssumeRole actions."),
    ("a misspelt session-tag action", trust({"Service": "ec2.amazonaws.com"}, Action=["sts:AssumeRole",
                                                                                   "sts:TagSessions"]),
     "trust", "AssumeRole policy may only specify STS AssumeRole actions."),
    ("another service's action in a trust policy", trust("*", Action="iam:PassRole"), "trust",
     "AssumeRole policy may only specify STS AssumeRole actions."),
]


@pytest.mark.parametrize(("document", "kind", "message"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_a_malformed_policy_is_refused_with_iams_message(document: Any, kind: Any, message: str) -> None:
    text = document if isinstance(document, str) else json.dumps(document)
    with pytest.raises(MalformedPolicy) as caught:
        parse_policy(text, kind=kind)
    assert (caught.value.code, caught.value.status, caught.value.message) == (
        "MalformedPolicyDocument", 400, message)


# (case, document, kind): documents IAM accepts
ACCEPTED: list[tuple[str, Any, str]] = [
    ("one statement as an object", {"Version": "2012-10-17", "Statement": OK}, "managed"),
    ("an inline policy of 2008-10-17", doc(OK, Version="2008-10-17"), "identity"),
    ("an inline policy without Version", {"Statement": [OK]}, "identity"),
    ("a trust policy of 2008-10-17", trust({"Service": "ecs-tasks.amazonaws.com"}, Sid="") | {"Version":
                                                                                              "2008-10-17"}, "trust"),
    ("an Id", doc(OK, Id="cd3ad3d9-2776-4ef1-a904-4c229d1642ee"), "managed"),
    ("empty Sids, repeated", doc(OK | {"Sid": ""}, OK | {"Sid": ""}), "managed"),
    ("NotAction with NotResource *", doc({"Effect": "Deny", "NotAction": "iam:*", "NotResource": "*"}), "managed"),
    ("a full wildcard action", doc(OK | {"Action": "*"}), "managed"),
    ("a wildcard vendor", doc(OK | {"Action": "*:Describe*"}), "managed"),
    ("a vendor with a dot and a hyphen", doc(OK | {"Action": ["s3-object.x:Get", "a.b:c"]}), "managed"),
    ("an action name with spaces", doc(OK | {"Action": "iam: any name at all "}), "managed"),
    ("an unknown service in an ARN", doc(on("arn:aws:nosuchservice:::thing")), "managed"),
    ("a three-part ARN", doc(on("arn:aws:anything")), "managed"),
    ("every partition", doc(on(["arn:aws-cn:s3:::b", "arn:aws-us-gov:s3:::b", "arn:*:s3:::b"])), "managed"),
    ("regional ARNs of any other service", doc(on("arn:aws:logs:us-east-1:123456789012:log-group:/ecs/x:*")),
     "managed"),
    ("an S3 access point in a region", doc(on("arn:aws:s3:us-west-2:123456789012:accesspoint/ap/object/*")),
     "managed"),
    ("an S3 batch job in a region", doc(on("arn:aws:s3:us-west-2:123456789012:job/*")), "managed"),
    ("IAM resource types", doc(on(["arn:aws:iam::123456789012:role/a/b", "arn:aws:iam::aws:policy/P",
                                   "arn:aws:iam::*:user/${aws:username}", "arn:aws:iam::123456789012:*",
                                   "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"])),
     "managed"),
    ("a mixed list with *", doc(on(["arn:aws:s3:::b", "*"])), "managed"),
    ("an empty Condition", doc(when({})), "managed"),
    ("an empty operator block", doc(when({"DateGreaterThan": {}})), "managed"),
    ("an empty value list", doc(when({"DateGreaterThan": {"aws:CurrentTime": []}})), "managed"),
    ("an unknown operator with no keys", doc(when({"Whatever": {}, "Other": {}})), "managed"),
    ("a condition key without a vendor", doc(when({"StringEqualsIfExists": {"color": "red"}})), "managed"),
    ("boolean, number and string values", doc(when({"Bool": {"aws:SecureTransport": True},
                                                    "NumericLessThan": {"aws:MultiFactorAuthAge": 3600},
                                                    "ForAnyValue:Bool": {"a:b": "True"},
                                                    "Null": {"a:c": False}})), "managed"),
    ("every operator with its qualifiers",
     doc(when({"ForAllValues:StringLikeIfExists": {"aws:TagKeys": ["a*"]},
               "ForAnyValue:ArnNotEqualsIfExists": {"aws:SourceArn": "arn:aws:sns:*:*:t"},
               "IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "2001:db8::/32"]}})), "managed"),
    ("dates as IAM writes them", doc(when({"DateGreaterThan": {"aws:CurrentTime": [
        "2026-07-01T00:00:00Z", "2026-12-31T23:59:59.999-05:00", "2026-07-01", "2026", "01T", "1767225600",
        "2026-07-01T12:00+0100", "2026-07-01t1:02:03z"]},
        "DateLessThan": {"aws:EpochTime": 1767225600}})), "managed"),
    ("the trust policies of the seed", trust({"Service": ["ecs-tasks.amazonaws.com", "events.amazonaws.com"]}),
     "trust"),
    ("every principal form", doc(
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": [
            "*", "123456789012", "arn:aws:iam::123456789012:root", "arn:aws:iam::123456789012:role/path/R",
            "arn:aws:iam::123456789012:user/Bob", "arn:aws:sts::123456789012:assumed-role/R/session",
            "AIDAJQABLZS4A3QDU576Q"]}},
        {"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity", "Principal": {"Federated": [
            "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com",
            "arn:aws:iam::123456789012:saml-provider/Okta", "accounts.google.com",
            "cognito-identity.amazonaws.com"]}},
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {
            "Service": "scheduler.amazonaws.com",
            "CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}},
        {"Effect": "Deny", "Action": "sts:AssumeRole", "NotPrincipal": {"AWS": "arn:aws:iam::123456789012:root"}},
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": "*"}), "trust"),
    ("a trust policy's conditions", trust({"Federated": "arn:aws:iam::123456789012:oidc-provider/example.com"},
                                          Condition={"StringLike": {"example.com:sub": "repo:o/r:*"}}), "trust"),
    ("every STS action a trust policy can allow, in any case, and wildcards",
     trust({"Service": "rolesanywhere.amazonaws.com"}, Action=[
         "sts:AssumeRole", "sts:assumerolewithsaml", "sts:AssumeRoleWithWebIdentity", "sts:TagSession",
         "sts:SetSourceIdentity", "sts:SetContext", "sts:*", "*"]), "trust"),
]


@pytest.mark.parametrize(("document", "kind"), [r[1:] for r in ACCEPTED], ids=[r[0] for r in ACCEPTED])
def test_iam_accepts(document: Any, kind: Any) -> None:
    policy = parse_policy(json.dumps(document), kind=kind)
    assert len(policy.statements) == len(document["Statement"]) if isinstance(document["Statement"], list) else 1


def test_the_tables_cover_every_class_of_refusal() -> None:
    assert len(REFUSED) >= 100 and len({r[3] for r in REFUSED}) >= 30


def test_a_json_text_parses_into_statements() -> None:
    policy = parse_policy(json.dumps(doc(OK | {"Sid": "Run"})))
    assert policy.statements[0].sid == "Run"
    assert policy.statements[0].actions == ("ecs:RunTask",)
    assert policy.statements[0].resources == ("*",)


def test_a_missing_version_means_the_legacy_2008_grammar() -> None:
    policy = parse_policy({"Statement": [OK]})
    assert policy.version == "2008-10-17" and not policy.uses_variables


def test_conditions_are_flattened_with_their_qualifiers() -> None:
    statement = OK | {"Condition": {"ForAnyValue:StringLikeIfExists": {"aws:TagKeys": ["a*"]},
                                    "Bool": {"aws:SecureTransport": True}, "Unused": {}}}
    conditions = parse_policy(doc(statement)).statements[0].conditions
    assert conditions == (Condition("StringLike", "aws:TagKeys", ("a*",), "ForAnyValue", True),
                          Condition("Bool", "aws:SecureTransport", ("true",)))


def test_a_stored_document_is_read_without_the_rules_added_since() -> None:
    stored = json.dumps(doc(on("my-bucket"), OK | {"Sid": "run-task"}))
    policy = parse_policy(stored, check=False)
    assert isinstance(policy, Policy) and policy.statements[0].resources == ("my-bucket",)


def test_a_stored_document_of_the_wrong_shape_is_still_refused() -> None:
    with pytest.raises(MalformedPolicy, match="Syntax errors in policy."):
        parse_policy('{"Statement": "x"}', check=False)


@pytest.mark.parametrize(("text", "parts"), [
    ("StringEquals", (None, "StringEquals", False)),
    ("StringLikeIfExists", (None, "StringLike", True)),
    ("ForAllValues:StringEquals", ("ForAllValues", "StringEquals", False)),
    ("ForAnyValue:ArnLikeIfExists", ("ForAnyValue", "ArnLike", True)),
    ("Null", (None, "Null", False)),
])
def test_an_operator_splits_into_qualifier_base_and_ifexists(text: str, parts: Any) -> None:
    assert split_operator(text) == parts


def test_every_seed_policy_is_accepted_once_terraform_renders_it() -> None:
    files = sorted(SEED.glob("*.json"))
    assert files, f"the seed's policies are in {SEED}"
    arn = "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/batch:1"
    for path in files:
        text = path.read_text().replace("${task_definition_arn}", arn)
        parse_policy(text, kind="trust" if "assume" in path.name else "managed")
