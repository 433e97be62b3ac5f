"""`srs camera provision` and `revoke`: one step each, on the server."""

from __future__ import annotations

from pathlib import Path

import pytest

from broker.users import UserStore, default_path
from core import store
from core.provision import provision, revoke
from core.store import StoreError
from srs.bundle import CameraBundle
from tests.site_helpers import server_config


def test_provision_registers_the_camera_its_user_and_key_in_one_bundle(tmp_path: Path) -> None:
    cfg = server_config(tmp_path / "server")
    done = provision(cfg, "lobby", host="srs.lan", edge={"source": "0"})
    b = done.bundle
    assert not done.replaced
    assert (b.camera_id, b.broker.host, b.broker.port) == ("lobby", "srs.lan", cfg.broker.tls_port)
    assert b.broker.username == "lobby" and b.edge == {"source": "0"}
    users = UserStore(default_path(cfg))
    assert users.role_of("lobby") == "camera"
    assert users.verify("lobby", b.broker.password.get_secret_value())
    assert b.ca_pem == (cfg.data_dir / "tls" / "ca.pem").read_text()
    db = store.open_store(cfg)
    with db.session() as s:
        cams = {c.id: c for c in store.list_cameras(s)}
    db.close()
    assert cams["lobby"].enabled
    out = tmp_path / "lobby.bundle"
    b.save(out)
    assert out.stat().st_mode & 0o777 == 0o600
    again = CameraBundle.load(out)
    assert again.private_key_pem.get_secret_value() == b.private_key_pem.get_secret_value()
    assert "PRIVATE KEY" not in repr(again) and b.broker.password.get_secret_value() not in repr(
        again
    )


def test_a_provisioned_camera_is_refused_unless_replaced(tmp_path: Path) -> None:
    cfg = server_config(tmp_path)
    first = provision(cfg, "lobby").bundle
    with pytest.raises(StoreError, match="already provisioned"):
        provision(cfg, "lobby")
    second = provision(cfg, "lobby", replace=True)
    assert second.replaced
    users = UserStore(default_path(cfg))
    assert not users.verify("lobby", first.broker.password.get_secret_value())
    with pytest.raises(StoreError, match="role core"):
        provision(cfg, "core")


def test_revoke_removes_the_user_and_burns_the_key_keeping_the_camera(tmp_path: Path) -> None:
    cfg = server_config(tmp_path)
    provision(cfg, "lobby")
    db = store.open_store(cfg)
    with db.session() as s:
        old_key = {c.id: c for c in store.list_cameras(s)}["lobby"].public_key
    lines = revoke(cfg, "lobby")
    assert len(lines) == 2 and "sightings are kept" in lines[1]
    assert UserStore(default_path(cfg)).role_of("lobby") is None
    with db.session() as s:
        cam = {c.id: c for c in store.list_cameras(s)}["lobby"]
    db.close()
    assert not cam.enabled and cam.public_key != old_key
    with pytest.raises(StoreError, match="no camera"):
        revoke(cfg, "nowhere")


def test_provision_needs_srs_init_first(tmp_path: Path) -> None:
    from srs.app.config import SrsConfig

    with pytest.raises(StoreError, match="srs init"):
        provision(SrsConfig(data_dir=tmp_path), "lobby")
