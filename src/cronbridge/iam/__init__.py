"""IAM, pure: policy documents (checked as IAM checks them, parsed) and their evaluation, explained."""

from cronbridge.iam.evaluate import Decision, NamedPolicy, Request, evaluate, trust_allows
from cronbridge.iam.policy import MalformedPolicy, Policy, parse_policy

__all__ = ["Decision", "MalformedPolicy", "NamedPolicy", "Policy", "Request", "evaluate",
           "parse_policy", "trust_allows"]
