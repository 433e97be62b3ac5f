"""edge.core_key: core's public key, read at the node when first needed."""

from __future__ import annotations

import logging

from edge.core_key import AnyClock, CoreKey
from srs.wire import topics
from srs.wire.keys import SigningKey, public_key_to_b64


def test_only_core_is_answered_for(tmp_path) -> None:
    key = SigningKey.generate(topics.CORE_SENDER)
    path = tmp_path / "core.pub"
    path.write_text(key.public_key_b64)
    keys = CoreKey(path)
    assert keys("cam-1") is None
    got = keys(topics.CORE_SENDER)
    assert got is not None
    assert public_key_to_b64(got) == key.public_key_b64


def test_a_key_installed_later_is_read_then(tmp_path) -> None:
    path = tmp_path / "core.pub"
    keys = CoreKey(path)
    assert keys(topics.CORE_SENDER) is None  # core not installed yet
    key = SigningKey.generate(topics.CORE_SENDER)
    path.write_text(key.public_key_b64)
    got = keys(topics.CORE_SENDER)
    assert got is not None and public_key_to_b64(got) == key.public_key_b64


def test_an_unusable_key_is_logged_once(tmp_path, caplog) -> None:
    path = tmp_path / "core.pub"
    path.write_text("not a key")
    keys = CoreKey(path)
    with caplog.at_level(logging.ERROR, logger="edge.core_key"):
        assert keys(topics.CORE_SENDER) is None
        assert keys(topics.CORE_SENDER) is None
    assert len([r for r in caplog.records if "unusable" in r.getMessage()]) == 1


def test_any_clock_allows_a_century_of_offset() -> None:
    policy = AnyClock(audience="srs", max_message_age_s=30.0, max_payload_bytes=65536)
    assert policy.clock_skew_s >= 100 * 365 * 86400.0
