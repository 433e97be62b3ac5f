"""gui/core_key.py: which core key the dashboard trusts (pinned, or first seen)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gui.core_key import CoreKey, load_pinned
from srs.config import SecurityConfig
from srs.wire import Reason, SigningKey, WireError, payloads, sign, topics
from srs.wire.keys import public_key_to_b64


def test_pinned_key_file_problems_are_sentences(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        load_pinned(tmp_path / "missing.pub")
    bad = tmp_path / "bad.pub"
    bad.write_text("not-a-key")
    with pytest.raises(ValueError, match="not an Ed25519 public key"):
        load_pinned(bad)


SEC = SecurityConfig()


def announce(key: SigningKey, signer: SigningKey | None = None) -> bytes:
    """Core's retained PublicKey message (signed by ``signer``, by default the key itself)."""
    topic = topics.key(topics.CORE_SENDER)
    payload = payloads.PublicKey(sender=topics.CORE_SENDER, public_key=key.public_key_b64)
    return sign(payload, topic, signer or key)


KEY_TOPIC = topics.key(topics.CORE_SENDER)


def test_a_pinned_key_is_loaded_from_its_pub_file(tmp_path: Path) -> None:
    core = SigningKey.generate("core")
    core.save(tmp_path / "core.key")
    loaded = load_pinned(tmp_path / "core.key.pub")
    assert public_key_to_b64(loaded) == core.public_key_b64


def test_the_pinned_key_answers_only_for_core() -> None:
    core = SigningKey.generate("core")
    key = CoreKey(core.public_key, SEC)
    assert key.pinned
    found = key.lookup("core")
    assert found is not None
    assert public_key_to_b64(found) == core.public_key_b64
    assert key.lookup("camera:door") is None
    assert key.offer(KEY_TOPIC, announce(core)) is False  # the same key: nothing new
    other = SigningKey.generate("core")
    with pytest.raises(WireError, match="signature does not match"):
        key.offer(KEY_TOPIC, announce(other))  # self-signed by another key
    with pytest.raises(WireError, match="differs from the pinned one"):
        key.offer(KEY_TOPIC, announce(other, signer=core))  # signed, but another key


def test_without_a_pin_the_first_self_signed_key_is_trusted_and_kept() -> None:
    key = CoreKey(None, SEC)
    assert key.lookup("core") is None
    first = SigningKey.generate("core")
    assert key.offer(KEY_TOPIC, announce(first)) is True
    assert key.key is not None
    assert public_key_to_b64(key.key) == first.public_key_b64
    with pytest.raises(WireError, match="differs from the first seen one"):
        key.offer(KEY_TOPIC, announce(SigningKey.generate("core"), signer=first))
    assert public_key_to_b64(key.key) == first.public_key_b64


def test_a_key_not_signed_by_itself_or_unreadable_is_refused() -> None:
    key = CoreKey(None, SEC)
    claimed, forger = SigningKey.generate("core"), SigningKey.generate("core")
    with pytest.raises(WireError) as refused:
        key.offer(KEY_TOPIC, announce(claimed, signer=forger))
    assert refused.value.reason is Reason.BAD_SIGNATURE
    with pytest.raises(WireError) as garbage:
        key.offer(KEY_TOPIC, b"not a token")
    assert garbage.value.reason is Reason.MALFORMED
    assert key.key is None
