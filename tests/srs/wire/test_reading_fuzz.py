"""srs.wire.reading's unverified peek under hypothesis: a dict or a WireError, never
another exception (targets in tests/srs/wire/fuzz_targets.py)."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.srs.wire import fuzz_targets as targets


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
@example(b"a.b.c")
@example(b"eyJhbGciOiJFZERTQSJ9.W10.")  # a JSON array as claims
def test_unverified_data_of_arbitrary_bytes(data: bytes) -> None:
    targets.check_unverified(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
@example(b"[" * 20_000)
@example(b'{"data": []}')
@example(b'{"data": {}}')
def test_unverified_data_of_a_token_with_any_payload(data: bytes) -> None:
    targets.check_unverified_signed(data)
