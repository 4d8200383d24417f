"""What a request that failed on our side answers: a full disk is a retryable 503 ServiceUnavailableException saying
so (logged once a minute, no traceback); anything else is a bug of ours, 500 and a traceback in the server log."""

from __future__ import annotations

import logging
import time

from cronbridge.errors import AwsError, ServiceUnavailable
from cronbridge.store.faults import disk_full

log = logging.getLogger("cronbridge.api")
DISK_FULL = "The server's disk is full: nothing was written; retry once space is freed."
_QUIET_SECONDS = 60.0
_last_warning = [0.0]


def answer(exc: Exception, where: str, code: str = "InternalFailure") -> AwsError:
    """The AWS error for an unexpected exception while serving `where` (`code`: the service's internal-error code)."""
    if disk_full(exc):
        now = time.monotonic()
        if now - _last_warning[0] >= _QUIET_SECONDS:
            _last_warning[0] = now
            log.warning("disk full: %s refused with 503 ServiceUnavailableException (%s)", where, exc)
        return ServiceUnavailable(DISK_FULL)
    log.exception("internal error in %s", where)
    return AwsError("Internal error; see the server log.", code, 500)
