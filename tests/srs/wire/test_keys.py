"""srs/wire/keys.py: Ed25519 keys on disk and public keys as base64url."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from srs.wire.keys import SigningKey, public_key_from_b64, public_key_to_b64


def test_a_public_key_round_trips_through_base64url() -> None:
    key = SigningKey.generate("core")
    text = public_key_to_b64(key.public_key)
    assert len(text) == 43
    assert "=" not in text
    assert public_key_to_b64(public_key_from_b64(text + "\n")) == text


@pytest.mark.parametrize("text", ["", "abc", "A" * 44, "not base64 at all!"])
def test_a_bad_public_key_says_what_was_expected(text: str) -> None:
    with pytest.raises(ValueError, match="32 bytes as base64url"):
        public_key_from_b64(text)


def test_a_saved_key_is_private_and_loads_back(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "core.key"
    key = SigningKey.generate("core")
    key.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert (tmp_path / "keys" / "core.key.pub").read_text().strip() == key.public_key_b64
    again = SigningKey.load("core", path)
    assert again.public_key_b64 == key.public_key_b64
    assert SigningKey.load_or_create("core", path).public_key_b64 == key.public_key_b64


def test_load_or_create_creates_once(tmp_path: Path) -> None:
    path = tmp_path / "cam.key"
    first = SigningKey.load_or_create("camera:a", path)
    assert path.exists()
    assert SigningKey.load_or_create("camera:a", path).public_key_b64 == first.public_key_b64


def test_the_private_key_is_never_printed() -> None:
    assert "private_key" not in repr(SigningKey.generate("core"))


def test_bad_key_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        SigningKey.load("core", tmp_path / "missing.key")
    junk = tmp_path / "junk.key"
    junk.write_text("not a key")
    with pytest.raises(ValueError, match="not a PEM private key"):
        SigningKey.load("core", junk)
