"""What AWS does with a failed target invocation: which errors are retried, how long to wait, when to give up. Pure."""

from __future__ import annotations

import random
from dataclasses import dataclass

from cronbridge.errors import AwsError
from cronbridge.model.events import Target

DEFAULT_MAX_AGE = 86400
DEFAULT_MAX_ATTEMPTS = 185
BACKOFF_BASE = 1.0
BACKOFF_CAP = 60.0

# retried: throttling, server faults (5xx) and no capacity; everything else (permissions, a missing cluster or task
# definition, invalid parameters) goes straight to the dead-letter path, as EventBridge does
RETRYABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ServerException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalFailure",
        "InternalServerException",
        "CapacityUnavailable",
        "InsufficientCapacity",
    }
)
RETRYABLE_FAILURE_PREFIXES = ("RESOURCE:", "AGENT", "CAPACITY")

AGE_EXCEEDED = "MaximumEventAgeExceeded"
ATTEMPTS_EXHAUSTED = "MaximumRetryAttemptsExhausted"


@dataclass(frozen=True)
class RetryRules:
    """A target's RetryPolicy with AWS's defaults filled in."""

    max_retries: int = DEFAULT_MAX_ATTEMPTS
    max_age: float = DEFAULT_MAX_AGE

    @classmethod
    def of(cls, target: Target) -> RetryRules:
        policy = target.retry_policy
        retries = policy.maximum_retry_attempts if policy else None
        age = policy.maximum_event_age_in_seconds if policy else None
        return cls(DEFAULT_MAX_ATTEMPTS if retries is None else retries, float(age or DEFAULT_MAX_AGE))

    def expired(self, scheduled_at: float, now: float) -> bool:
        """Whether an event of that slot is older than the target accepts."""
        return now - scheduled_at > self.max_age

    def next_attempt(self, attempts: int, scheduled_at: float, now: float, rng: random.Random) -> float | str:
        """After `attempts` failed retryable attempts: when to try again, or why not (an exhausted condition)."""
        if attempts > self.max_retries:
            return ATTEMPTS_EXHAUSTED
        when = now + backoff(attempts, rng)
        if when - scheduled_at > self.max_age:
            return AGE_EXCEEDED
        return when


def retryable(err: AwsError) -> bool:
    return err.status >= 500 or err.code in RETRYABLE_CODES


def retryable_failure(reason: str) -> bool:
    """RunTask's failures[] reasons that mean "no capacity right now" (RESOURCE:CPU, RESOURCE:MEMORY, AGENT)."""
    return reason.startswith(RETRYABLE_FAILURE_PREFIXES)


def backoff(attempt: int, rng: random.Random) -> float:
    """Exponential backoff with (equal) jitter: 1 s, 2 s, 4 s ... capped at 60 s, each between half and all of it."""
    ceiling = min(BACKOFF_BASE * 2 ** (attempt - 1), BACKOFF_CAP)
    return ceiling * (0.5 + rng.random() / 2)
