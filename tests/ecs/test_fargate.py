"""Fargate task sizes: the cpu/memory pairs ECS accepts, and how sizes are written."""

import pytest

from cronbridge.ecs import fargate
from cronbridge.errors import ClientError


@pytest.mark.parametrize(
    ("cpu", "memory"),
    [(256, 512), (256, 1024), (256, 2048), (512, 1024), (512, 4096), (1024, 2048), (1024, 8192),
     (2048, 4096), (2048, 16384), (4096, 8192), (4096, 30720), (8192, 16384), (16384, 122880)],
)
def test_fargate_accepts_the_documented_pairs(cpu: int, memory: int) -> None:
    fargate.check_pair(cpu, memory)


@pytest.mark.parametrize(("cpu", "memory"), [(256, 4096), (256, 256), (512, 512), (1024, 1024), (300, 512)])
def test_fargate_rejects_other_pairs_with_a_client_exception(cpu: int, memory: int) -> None:
    with pytest.raises(ClientError) as caught:
        fargate.check_pair(cpu, memory)
    assert caught.value.code == "ClientException"


def test_an_unknown_cpu_size_gives_ecs_own_message() -> None:
    with pytest.raises(ClientError, match=r"Invalid 'cpu' setting for task\."):
        fargate.check_pair(300, 512)


@pytest.mark.parametrize(("text", "units"), [("256", 256), (512, 512), ("1 vCPU", 1024), ("0.25 vcpu", 256)])
def test_cpu_sizes_are_read_in_units_or_vcpus(text: str, units: int) -> None:
    assert fargate.cpu_units(text) == units


@pytest.mark.parametrize(("text", "mib"), [("512", 512), ("0.5 GB", 512), ("2GB", 2048)])
def test_memory_sizes_are_read_in_mib_or_gb(text: str, mib: int) -> None:
    assert fargate.memory_mib(text) == mib
