"""`srs broker export --format mosquitto` files (the running-Mosquitto proof is test_security)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from broker.config import BrokerConfig
from broker.export import export_mosquitto
from broker.users import default_path, mosquitto_verify
from srs.app.config import SrsConfig
from tests.broker.tls_cert import self_signed
from tests.brokers import fast_user_store


def test_export_writes_the_same_users_and_rules(tmp_path: Path) -> None:
    cfg = SrsConfig(data_dir=tmp_path, broker=BrokerConfig(port=1999, max_payload_bytes=4096))
    store = fast_user_store(default_path(cfg))
    store.add("cam1", "camera", "camera-password")
    store.add("ha", "integrator", "integrator-password")
    conf, passwd, acl = (tmp_path / "out" / n for n in ("mosquitto.conf", "passwd", "acl"))
    assert sorted(export_mosquitto(cfg, store, tmp_path / "out")) == sorted([conf, passwd, acl])

    text = conf.read_text()
    assert "allow_anonymous false" in text
    assert "message_size_limit 4096" in text
    assert "listener 1999 127.0.0.1" in text
    assert text.index("listener 1999") < text.index("use_username_as_clientid true")
    assert "certfile" not in text

    entries = dict(line.split(":", 1) for line in passwd.read_text().splitlines())
    assert mosquitto_verify("camera-password", entries["cam1"])
    assert stat.S_IMODE(passwd.stat().st_mode) == 0o600
    assert "camera-password" not in passwd.read_text()

    rules = acl.read_text()
    assert "user cam1\ntopic write srs/v1/cameras/cam1/detections\n" in rules
    assert "topic read srs/v1/cameras/cam1/ack" in rules
    assert "%u" not in rules and "pattern" not in rules.replace("# ", "")
    ha_block = rules.split("user ha\n")[1]
    writes = [line for line in ha_block.splitlines() if line.startswith("topic write")]
    assert "detections" not in ha_block and writes == ["topic write homeassistant/status"]


def test_export_adds_the_tls_listener_with_the_same_rules(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    cfg = SrsConfig(
        data_dir=tmp_path,
        broker=BrokerConfig(bind="0.0.0.0", tls_port=8884, cert_file=cert, key_file=key),
    )
    export_mosquitto(cfg, fast_user_store(default_path(cfg)), tmp_path / "out")
    out = (tmp_path / "out").resolve()
    text = (out / "mosquitto.conf").read_text()
    assert "listener 1883 127.0.0.1\n" in text  # plaintext stays on loopback
    tls = text[text.index("listener 8884 0.0.0.0") :]
    assert f"certfile {out / 'broker.pem'}" in tls and f"keyfile {out / 'broker.key'}" in tls
    assert "use_username_as_clientid true" in tls
    # Copies Mosquitto's user can read (the originals belong to the srs user).
    assert (out / "broker.pem").read_bytes() == cert.read_bytes()
    assert stat.S_IMODE((out / "broker.key").stat().st_mode) == 0o600


def test_export_leaves_out_the_one_time_bootstrap_user(tmp_path: Path) -> None:
    import time

    cfg = SrsConfig(data_dir=tmp_path)
    store = fast_user_store(default_path(cfg))
    store.add("cam1", "camera", "camera-password")
    store.add("bootstrap", "bootstrap", "ABCD-EFGH-JKLM", expires_at=time.time() + 900)
    export_mosquitto(cfg, store, tmp_path / "out")
    assert "bootstrap" not in (tmp_path / "out" / "passwd").read_text()
    assert "bootstrap" not in (tmp_path / "out" / "acl").read_text()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root (chown)")
def test_export_hands_the_files_to_the_brokers_user(tmp_path: Path) -> None:
    import pwd

    cfg = SrsConfig(data_dir=tmp_path)
    store = fast_user_store(default_path(cfg))
    store.add("cam1", "camera", "camera-password")
    owner = pwd.getpwuid(65534).pw_name  # nobody: any user who is not root
    for path in export_mosquitto(cfg, store, tmp_path / "out", owner):
        assert path.stat().st_uid == 65534, path
    assert stat.S_IMODE((tmp_path / "out" / "passwd").stat().st_mode) == 0o600
    with pytest.raises(ValueError, match="no user"):
        export_mosquitto(cfg, store, tmp_path / "out2", "no-such-user-here")
