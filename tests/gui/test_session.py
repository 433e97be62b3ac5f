"""gui/session.py: a signed-in session's worker, built from the config and the form."""

from __future__ import annotations

from pathlib import Path

import pytest

from gui import mqtt_worker as mw
from gui.config import GuiConfig
from gui.session import Credentials, build_worker
from srs.app.config import SrsConfig
from srs.wire import SigningKey, topics

CREDS = Credentials("broker.local", 8883, "alice-op", "correct horse", tls=True)


def test_the_password_never_reaches_a_log() -> None:
    assert repr(CREDS) == "Credentials(alice-op@broker.local:8883, tls=True)"
    assert "correct horse" not in repr(CREDS) + str(CREDS)


def test_the_worker_takes_the_form_over_the_config_and_is_not_started(tmp_path: Path) -> None:
    worker = build_worker(SrsConfig(data_dir=tmp_path), CREDS)
    assert worker.state == mw.STOPPED
    assert worker.user == "alice-op"
    assert worker.client_id.startswith("alice-op:gui-")
    assert worker.inbox.core_key.pinned is False  # nothing pinned: trust on first use


def test_the_core_key_in_the_keys_dir_is_pinned(tmp_path: Path) -> None:
    cfg = SrsConfig(data_dir=tmp_path)
    core = SigningKey.generate("core")
    core.save(cfg.keys_dir / "core.key")
    worker = build_worker(cfg, CREDS)
    assert worker.inbox.core_key.pinned
    assert worker.inbox.core_key.lookup(topics.CORE_SENDER) is not None


def test_a_bad_pinned_key_file_is_one_sentence(tmp_path: Path) -> None:
    bad = tmp_path / "core.pub"
    bad.write_text("nonsense")
    cfg = SrsConfig(data_dir=tmp_path, gui=GuiConfig(core_public_key_file=bad))
    with pytest.raises(ValueError, match=r"core public key file .* not an Ed25519 public key"):
        build_worker(cfg, CREDS)


def test_a_user_name_that_is_not_an_id_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        build_worker(SrsConfig(data_dir=tmp_path), Credentials("h", 1883, "alice/op", "pw"))
