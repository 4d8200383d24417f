"""Fargate's task size rules: which cpu/memory pairs exist, and how sizes are written ("1 vCPU", "0.5 GB")."""

from __future__ import annotations

import re

from cronbridge.errors import ClientError

# cpu units -> allowed memory MiB (range(start, stop+1, step) or explicit)
_PAIRS: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4097, 1024)),
    1024: tuple(range(2048, 8193, 1024)),
    2048: tuple(range(4096, 16385, 1024)),
    4096: tuple(range(8192, 30721, 1024)),
    8192: tuple(range(16384, 61441, 4096)),
    16384: tuple(range(32768, 122881, 8192)),
}


def cpu_units(text: str | int | None) -> int | None:
    """'256' / 256 / '0.25 vCPU' / '1 vcpu' -> 256 / 256 / 256 / 1024."""
    if text is None:
        return None
    raw = str(text).strip()
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*vcpu", raw, re.IGNORECASE)
    if match:
        return int(float(match.group(1)) * 1024)
    if re.fullmatch(r"\d+", raw):
        return int(raw)
    raise ClientError("Invalid 'cpu' setting for task.")


def memory_mib(text: str | int | None) -> int | None:
    """'512' / '0.5 GB' / '2GB' -> MiB."""
    if text is None:
        return None
    raw = str(text).strip()
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*gb", raw, re.IGNORECASE)
    if match:
        return int(float(match.group(1)) * 1024)
    if re.fullmatch(r"\d+", raw):
        return int(raw)
    raise ClientError("Invalid 'memory' setting for task.")


def check_pair(cpu: int | None, memory: int | None) -> None:
    """Raise ECS's ClientException unless (cpu, memory) is a Fargate size."""
    if cpu is None or memory is None:
        raise ClientError("Fargate requires that 'cpu' be defined at the task level.")
    allowed = _PAIRS.get(cpu)
    if allowed is None:
        raise ClientError("Invalid 'cpu' setting for task.")
    if memory not in allowed:
        raise ClientError(
            f"Invalid 'memory' setting for task. For cpu {cpu}, memory must be one of "
            f"{_describe(allowed)} (MiB)."
        )


def _describe(values: tuple[int, ...]) -> str:
    if len(values) <= 4:
        return ", ".join(str(v) for v in values)
    return f"{values[0]} to {values[-1]} in steps of {values[1] - values[0]}"
