"""Shared by the property-based hostile-input tests (test_fuzz_readers.py, test_fuzz_run_files.py): the
hypothesis settings (``PINNGEN_FUZZ_EXAMPLES`` cases, derandomized unless ``PINNGEN_FUZZ_RANDOM``), the one-line
error check and a mutator that makes a valid file hostile."""

from __future__ import annotations

import os
import struct

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

FUZZ = settings(max_examples=int(os.environ.get("PINNGEN_FUZZ_EXAMPLES", "150")), deadline=None,
                derandomize=not os.environ.get("PINNGEN_FUZZ_RANDOM"), database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def one_line(err: BaseException, name: str | None = None) -> None:
    msg = str(err).strip()
    assert msg and "\n" not in msg, f"not one line: {msg!r}"
    if name is not None:
        assert name in msg, f"{msg!r} does not name {name!r}"


def expect(fn, errors, name=None):
    """Run ``fn``: a result, or one of ``errors`` with a one-line message naming ``name``; anything else fails."""
    try:
        return fn()
    except errors as e:
        one_line(e, name)
        return None


def mutate(data: bytes, draw) -> bytes:
    """A valid file made hostile: cut, bytes flipped, garbage spliced in, or a 32-bit field overwritten."""
    op = draw(st.sampled_from(["cut", "flip", "splice", "u32"]))
    if not data:
        return draw(st.binary(max_size=64))
    if op == "cut":
        return data[:draw(st.integers(0, len(data) - 1))]
    if op == "flip":
        b = bytearray(data)
        for _ in range(draw(st.integers(1, 8))):
            i = draw(st.integers(0, len(b) - 1))
            b[i] ^= draw(st.integers(1, 255))
        return bytes(b)
    if op == "splice":
        i = draw(st.integers(0, len(data)))
        return data[:i] + draw(st.binary(min_size=1, max_size=64)) + data[i:]
    i = draw(st.integers(0, max(0, len(data) - 4)))
    big = draw(st.sampled_from([0, 1, 2**31 - 1, 2**32 - 1, 60000, 2**20]))
    return data[:i] + struct.pack(">I", big) + data[i + 4:]

