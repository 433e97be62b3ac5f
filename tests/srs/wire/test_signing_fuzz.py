"""srs.wire.signing's verifier under hypothesis: a valid payload or a WireError, never
another exception, for arbitrary bytes, arbitrary JSON (signed, so it reaches the
parser), and mutated valid tokens. The targets are in tests/srs/wire/fuzz_targets.py
(bench/fuzz.py runs the same ones longer, with atheris)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.srs.wire import fuzz_targets as targets

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Every field name of every model the verifier reads, so generated objects often look
# like the real thing and reach the field validators, not just "unknown field".
FIELD_NAMES = sorted(
    {name for model in targets.MODELS for name in model.model_fields}
    | {"bbox", "x", "y", "w", "h", "kind", "track_id", "score", "encoding", "quality"}
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | st.sampled_from(["cam1", "p1", "online", "face", "known", "EdDSA", "", "1", "1.0"])
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=6)
        | st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=12), inner, max_size=8)
    ),
    max_leaves=40,
)
topic_indexes = st.integers(min_value=0, max_value=len(targets.TOPICS) - 1)


@FUZZ
@given(st.binary(max_size=2048))
@example(b"")
@example(b"\x00a.b.c")
@example(b"\x00eyJhbGciOiJub25lIn0.e30.")  # alg none
def test_arbitrary_bytes_as_a_token(data: bytes) -> None:
    targets.check_token(data)


@FUZZ
@given(st.binary(max_size=2048))
@example(b"\x00" + b"[" * 20_000)  # deep nesting, signed
@example(b"\x00{}")
@example(b"\x00null")
def test_arbitrary_bytes_signed_as_the_payload(data: bytes) -> None:
    targets.check_signed_body(data)


@FUZZ
@given(topic_indexes, json_values)
def test_arbitrary_json_signed_as_the_claims(topic: int, claims: Any) -> None:
    targets.check_signed_json(topic, claims)


@FUZZ
@given(topic_indexes, json_values)
@example(0, {"camera_id": "cam1", "seq": "123"})  # coercion is refused, not an error
@example(0, {"camera_id": "cam1", "seq": 1e400})
def test_right_claims_and_arbitrary_json_as_data(topic: int, data: Any) -> None:
    targets.check_signed_data(topic, data)


@FUZZ
@given(st.binary(min_size=1, max_size=64))
def test_a_mutated_valid_token(data: bytes) -> None:
    targets.check_mutated_token(data)


@FUZZ
@given(st.binary(min_size=1, max_size=64))
def test_a_mutated_valid_payload_signed_again(data: bytes) -> None:
    targets.check_mutated_body(data)


def test_every_valid_message_is_read_back() -> None:
    """The mutation targets start from messages the verifier accepts."""
    for topic, payload in targets.VALID.items():
        got = targets.VERIFIER.verify(topic, targets.signed(topic, payload), type(payload))
        assert got.payload == payload
