"""The pause program that holds a task's network namespace: a static ELF assembled by hand (no compiler needed)."""

from __future__ import annotations

import io
import struct
import tarfile

PAUSE_IMAGE = "cronbridge/pause:1"
_BASE = 0x400000
_HEADERS = 64 + 56  # one ELF64 header, one program header
_SA_RESTORER = 0x04000000
_SIGINT, _SIGTERM = 2, 15
_DOCKERFILE = b'FROM scratch\nCOPY pause /pause\nENTRYPOINT ["/pause"]\n'


def _x86_64_code(entry: int) -> bytes:
    """rt_sigaction(SIGTERM and SIGINT -> exit_group(0)); then pause() forever.

    A handler is needed: as PID 1 of its PID namespace, the process gets no signal it has no handler for (but
    SIGKILL). x86_64 delivers a signal only with SA_RESTORER; the handler never returns, so it is its own restorer.
    """

    def sigaction(signal: int, here: int) -> bytes:
        lea_end = here + 5 + 5 + 7  # mov eax; mov edi; lea rsi, [rip + act]
        return (
            b"\xb8" + struct.pack("<I", 13)  # mov eax, 13 (rt_sigaction)
            + b"\xbf" + struct.pack("<I", signal)  # mov edi, signal
            + b"\x48\x8d\x35" + struct.pack("<i", act - lea_end)  # lea rsi, [rip + act]
            + b"\x31\xd2"  # xor edx, edx (no old action)
            + b"\x41\xba" + struct.pack("<I", 8)  # mov r10d, 8 (sizeof sigset_t)
            + b"\x0f\x05"  # syscall
        )  # fmt: skip

    one = 5 + 5 + 7 + 2 + 6 + 2
    loop = entry + 2 * one
    pause = b"\xb8" + struct.pack("<I", 34) + b"\x0f\x05" + b"\xeb\xf7"  # mov eax, 34 (pause); syscall; jmp loop
    handler = loop + len(pause)
    exit_group = b"\xb8" + struct.pack("<I", 231) + b"\x31\xff" + b"\x0f\x05"  # mov eax, 231; xor edi, edi; syscall
    act = handler + len(exit_group)
    action = struct.pack("<QQQQ", handler, _SA_RESTORER, handler, 0)  # handler, flags, restorer, mask
    return sigaction(_SIGTERM, entry) + sigaction(_SIGINT, entry + one) + pause + exit_group + action


def _aarch64_code(entry: int) -> bytes:
    """The same program for aarch64: rt_sigaction (134) for SIGTERM and SIGINT, then ppoll (73) with no descriptors
    and no timeout (aarch64 has no pause syscall) in a loop; the handler calls exit_group (94) with 0."""

    def movz(reg: int, value: int) -> int:
        return 0xD2800000 | (value << 5) | reg

    def adr(reg: int, here: int, target: int) -> int:
        offset = target - here
        return 0x10000000 | ((offset & 3) << 29) | (((offset >> 2) & 0x7FFFF) << 5) | reg

    svc, nop = 0xD4000001, 0xD503201F
    act = entry + 96

    def sigaction(signal: int, here: int) -> list[int]:
        return [movz(0, signal), adr(1, here + 4, act), movz(2, 0), movz(3, 8), movz(8, 134), svc]

    loop = [movz(0, 0), movz(1, 0), movz(2, 0), movz(3, 0), movz(4, 0), movz(8, 73), svc]
    words = sigaction(_SIGTERM, entry) + sigaction(_SIGINT, entry + 24) + loop
    words.append(0x14000000 | ((-len(loop) * 4 >> 2) & 0x3FFFFFF))  # b loop
    handler = entry + 4 * len(words)
    words += [movz(0, 0), movz(8, 94), svc, nop]  # exit_group(0); the nop aligns the action to 8 bytes
    assert entry + 4 * len(words) == act
    return struct.pack(f"<{len(words)}I", *words) + struct.pack("<QQQQ", handler, _SA_RESTORER, handler, 0)


def _elf(machine: int, code: bytes) -> bytes:
    """ET_EXEC, one PT_LOAD segment (R+X) holding the whole file at _BASE; entry right after the headers."""
    size = _HEADERS + len(code)
    header = (
        b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)  # 64-bit, little-endian, version 1, System V ABI
        + struct.pack("<HHIQQQIHHHHHH", 2, machine, 1, _BASE + _HEADERS, 64, 0, 0, 64, 56, 1, 0, 0, 0)
    )  # fmt: skip
    program = struct.pack("<IIQQQQQQ", 1, 5, 0, _BASE, _BASE, size, size, 0x1000)
    return header + program + code


def pause_binary(machine: str) -> bytes | None:
    """The pause program for `machine` (uname -m / the engine's Architecture), or None when there is none."""
    if machine in ("x86_64", "amd64"):
        return _elf(62, _x86_64_code(_BASE + _HEADERS))
    if machine in ("aarch64", "arm64"):
        return _elf(183, _aarch64_code(_BASE + _HEADERS))
    return None


def build_context(binary: bytes) -> io.BytesIO:
    """An in-memory tar build context: the Dockerfile and the pause program."""
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as tar:
        for name, content, mode in (("Dockerfile", _DOCKERFILE, 0o644), ("pause", binary, 0o755)):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(content), mode
            tar.addfile(info, io.BytesIO(content))
    data.seek(0)
    return data
