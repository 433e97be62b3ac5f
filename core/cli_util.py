"""Small helpers of the core CLI: time arguments, key files, output."""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from core.srs_config import SrsConfig

_REL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_since(text: str, now: float | None = None) -> float:
    """``1h``, ``30m``, ``2d``, ``45s`` ago, or an ISO time (UTC if no zone) -> epoch s."""
    m = _REL.match(text)
    if m:
        return (time.time() if now is None else now) - float(m.group(1)) * _UNIT[m.group(2)]
    try:
        dt = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"--since {text!r}: use an ISO time (2026-01-31T14:00) or an age such as 30m, 1h, 2d"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def read_public_key(path: Path) -> str:
    """A ``.pub`` file (base64url) or a PEM public key -> base64url raw key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from srs.wire.signing import public_key_to_b64

    text = path.read_text().strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_public_key(text.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError(f"{path} holds a public key that is not Ed25519")
        return public_key_to_b64(key)
    return text


def iso(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def emit_json(data: object) -> None:
    json.dump(data, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


def fail(message: str) -> int:
    print(f"srs: {message}", file=sys.stderr)
    return 1


def with_store(cfg: SrsConfig, fn: Callable[[Session], Any]) -> tuple[int, Any]:
    """Run ``fn`` in one transaction; (0, result), or (exit code, None) after saying why.

    Callers check the code before using the result."""
    from core.store import StoreError, open_store

    try:
        db = open_store(cfg)
    except StoreError as exc:  # e.g. a PostgreSQL URL without its driver
        return fail(str(exc)), None
    try:
        with db.session() as s:
            return 0, fn(s)
    except StoreError as exc:
        return fail(str(exc)), None
    finally:
        db.close()
