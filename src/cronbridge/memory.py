"""The server process's memory returns to where it was after a burst of big requests: glibc's malloc is told to map
each allocation over 128 KiB on its own (unmapped again when freed) instead of raising that threshold as it goes,
and to give freed heap back above 128 KiB. Without it, a few hundred large or malformed bodies leave the process
tens of megabytes larger for good."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger("cronbridge")
M_TRIM_THRESHOLD = -1  # glibc's mallopt parameters (malloc.h)
M_MMAP_THRESHOLD = -3
THRESHOLD = 128 * 1024


def keep_memory_returnable() -> bool:
    """Set the thresholds; False (and nothing changed) where the C library is not glibc."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        log.debug("no glibc mallopt: memory thresholds left as they are")
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, THRESHOLD))
