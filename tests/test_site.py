"""A site in two commands, end to end: provision a camera on the server, install its
bundle on a "Pi" (a temporary root), run that node over TLS against the embedded
broker and core, see its detections stored; revoke it, and see the next connection
refused and a message already in flight rejected."""

from __future__ import annotations

import argparse
import os
import pwd
import shutil
from pathlib import Path

from pydantic import SecretStr

from broker.server import EmbeddedBroker
from core import store
from core.cli_cameras import camera_remove
from core.provision import provision, revoke
from core.service import CoreService
from edge.install import Installer
from edge.node import EdgeNode
from srs.app.config import load_config
from srs.config import MqttConfig
from srs.wire.signing import SigningKey
from tests.broker.probe import Probe
from tests.core.ingest_helpers import FakeCamera, batch, face_data
from tests.site_helpers import server_config
from tests.waiting import wait_until

CAM = "lobby"
USER = "nobody" if os.geteuid() == 0 else pwd.getpwuid(os.getuid()).pw_name


def _sightings(cfg: object) -> list[dict[str, object]]:
    db = store.open_store(cfg)  # type: ignore[arg-type]
    try:
        with db.session() as s:
            return list(store.query_sightings(s, camera=CAM, limit=1000))
    finally:
        db.close()


def test_provision_install_run_over_tls_then_revoke(tmp_path: Path, media: Path) -> None:
    frames = tmp_path / "frames"
    frames.mkdir()
    for name in ("obama1.jpg", "alex_lacamoire1.jpg"):
        shutil.copy(media / "faces" / "test" / name, frames / name)
    server = server_config(tmp_path / "server")
    bundle = provision(server, CAM, host="127.0.0.1", edge={"source": str(frames)}).bundle

    root = tmp_path / "pi"
    said: list[str] = []
    Installer(bundle, root=root, user=USER, dry_run=True, say=said.append).run()
    assert not root.exists() or not any(p.is_file() for p in root.rglob("*"))
    Installer(bundle, root=root, user=USER, say=said.append).run()
    etc, var = root / "etc" / "srs", root / "var" / "lib" / "srs"
    env_file = etc / f"edge-{CAM}.env"
    assert env_file.stat().st_mode & 0o777 == 0o600
    assert env_file.stat().st_uid == pwd.getpwnam(USER).pw_uid
    password = env_file.read_text().strip().split("=", 1)[1]

    # The Pi's configuration as installed (its /etc and /var live under the root here).
    pi = load_config(
        etc / "srs.toml",
        data_dir=var,
        environ={
            "SRS_MQTT__PASSWORD": password,
            "SRS_MQTT__CA_FILE": str(etc / "ca.pem"),
            "SRS_EDGE__ONCE_TIMEOUT_S": "90",
        },
    )
    assert pi.mqtt.tls and pi.mqtt.port == server.broker.tls_port

    with EmbeddedBroker(server) as broker:
        assert broker.tls_port == server.broker.tls_port
        with CoreService(server) as core:
            assert core.wait_connected(10)
            with EdgeNode(pi) as node:
                assert node.run(once=True) == 0  # every message acknowledged by core
        stored = _sightings(server)
        assert stored, "the camera's detections were not stored"

        # A message the broker took while core was down, signed with the old key...
        camera_mqtt = MqttConfig(
            host="127.0.0.1",
            port=broker.tls_port,
            username=CAM,
            password=SecretStr(password),
            tls=True,
            ca_file=etc / "ca.pem",
        )
        key = SigningKey.load(f"camera:{CAM}", var / "keys" / f"camera-{CAM}.key")
        late = FakeCamera(camera_mqtt, key, CAM)
        late.send(batch(CAM, 10_000, face_data()["test/obama1.jpg"]))
        late.close()

        # ...then one step: the broker user and the key are gone.
        assert len(revoke(server, CAM)) == 2
        assert not Probe(camera_mqtt, CAM).connect()  # the next connection is refused

        with CoreService(server) as core:  # core reads the backlog: the late message
            assert core.wait_connected(10)
            wait_until(
                core.counters.rejected_total,
                timeout=10,
                interval=0.1,
                message="the late message was not rejected",
            )
            print("rejected:", dict(core.counters.rejected))
    # Rejected, not stored; the camera's history is kept.
    assert len(_sightings(server)) == len(stored)

    # `srs camera remove` keeps that history unless told to purge it.
    keep = argparse.Namespace(camera_id=CAM, purge=False)
    assert camera_remove(keep, server) == 1
    assert len(_sightings(server)) == len(stored)
    assert camera_remove(argparse.Namespace(camera_id=CAM, purge=True), server) == 0
    assert _sightings(server) == []
