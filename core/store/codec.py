"""Encodings as bytes (float32) and back; person keys as strings and back."""

from __future__ import annotations

import numpy as np

from core.observation import known_key, unknown_key
from srs.wire.payloads import ENCODING_SIZE


def to_blob(vector: np.ndarray | list[float]) -> bytes:
    arr = np.asarray(vector, dtype=np.float32)
    if arr.shape != (ENCODING_SIZE,):
        raise ValueError(f"an encoding has {ENCODING_SIZE} values, not {arr.shape}")
    return arr.tobytes()


def from_blob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.float32)


def parse_key(key: str) -> tuple[str, int] | None:
    """``p12`` -> ("known", 12); ``u7`` -> ("unknown", 7); anything else None."""
    if len(key) > 1 and key[0] in "pu" and key[1:].isdigit():
        return ("known" if key[0] == "p" else "unknown", int(key[1:]))
    return None


__all__ = ["from_blob", "known_key", "parse_key", "to_blob", "unknown_key"]
