"""core/store/codec.py: encodings as float32 bytes, identity keys as text."""

from __future__ import annotations

import numpy as np
import pytest

from core.store.codec import from_blob, known_key, parse_key, to_blob, unknown_key


def test_an_encoding_round_trips_as_float32() -> None:
    vec = np.linspace(-0.5, 0.5, 128)
    blob = to_blob(vec)
    assert len(blob) == 128 * 4
    back = from_blob(blob)
    assert back.dtype == np.float32
    assert np.allclose(back, vec, atol=1e-7)
    assert to_blob([0.25] * 128) == to_blob(np.full(128, 0.25))


@pytest.mark.parametrize("shape", [(127,), (129,), (2, 64)])
def test_an_encoding_of_the_wrong_shape_is_refused(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="128 values"):
        to_blob(np.zeros(shape))


@pytest.mark.parametrize(
    "key, parsed",
    [("p12", ("known", 12)), ("u7", ("unknown", 7)), ("p", None), ("x3", None), ("p1a", None),
     ("Ada", None), ("", None), ("u-1", None)],
)  # fmt: skip
def test_keys_parse(key: str, parsed: tuple[str, int] | None) -> None:
    assert parse_key(key) == parsed


def test_keys_round_trip() -> None:
    assert parse_key(known_key(3)) == ("known", 3)
    assert parse_key(unknown_key(9)) == ("unknown", 9)
