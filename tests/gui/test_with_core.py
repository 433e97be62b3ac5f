"""End to end with the real core service: a camera's detection becomes a marker; the
operator names the stranger from the dashboard and every panel shows the new name."""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from broker.users import default_path
from core import store
from core.config import CoreConfig
from core.service import CoreService
from gui import mqtt_worker as mw
from gui.main_window import MainWindow
from gui.session import Credentials, build_worker
from srs.app.config import SrsConfig
from srs.wire.payloads import BBox, Detection, DetectionBatch
from tests.brokers import BrokerHandle, fast_user_store
from tests.core.ingest_helpers import FakeCamera, camera_key
from tests.gui.helpers import OPERATOR, operator_password

ROOT = Path(__file__).resolve().parents[2]
CAMERA = "corridor"  # a camera of config/demo-site.toml
CAM_KEY = camera_key(CAMERA)


@functools.lru_cache(maxsize=1)
def kit_encoding() -> list[float]:
    """A real 128-d encoding of one sample photo (computed once)."""
    import face_recognition
    from PIL import Image

    with Image.open(ROOT / "tests/data/media/faces/train/kit_harington/john1.jpeg") as raw:
        img = raw.convert("RGB")
        img.thumbnail((400, 400))
        rgb = np.asarray(img)
    return [float(v) for v in face_recognition.face_encodings(rgb)[0]]


@pytest.fixture
def core(tmp_path: Path, srs_broker: BrokerHandle) -> Iterator[SrsConfig]:
    cfg = SrsConfig(
        data_dir=tmp_path / "var",
        mqtt=srs_broker.client_config("core", "core"),
        core=CoreConfig(site_file=ROOT / "config" / "demo-site.toml", status_interval_s=0.5),
    )
    db = store.open_store(cfg)
    with db.session() as s:
        store.add_camera(s, CAMERA, CAM_KEY.public_key_b64)
    db.close()
    fast_user_store(default_path(cfg)).add(OPERATOR, "operator")  # core's view of roles
    with CoreService(cfg) as svc:
        assert svc.wait_connected(10)
        yield cfg


def send_face(
    broker: BrokerHandle, core: SrsConfig, seq: int, face_jpeg_b64: str | None = None
) -> None:
    """The corridor camera sees Kit's face (a real encoding), ~3 m away; with
    ``face_jpeg_b64`` the edge's crop of it rides along."""
    cam = FakeCamera(
        broker.client_config(CAMERA, "camera"),
        CAM_KEY,
        CAMERA,
        core_key_b64=(core.keys_dir / "core.key.pub").read_text().strip(),
    )
    try:
        face = Detection(
            kind="face",
            bbox=BBox(x=226, y=110, w=28, h=28),
            track_id=seq,
            score=1.0,
            encoding=kit_encoding(),
            face_jpeg_b64=face_jpeg_b64,
        )
        cam.send(
            DetectionBatch(
                camera_id=CAMERA,
                seq=seq,
                captured_at=time.time(),
                frame_width=480,
                frame_height=270,
                detections=[face],
            )
        )
        assert cam.wait_acked({seq}, resend_s=5)
    finally:
        cam.close()


def test_stranger_seen_by_a_camera_is_named_from_the_dashboard(
    qtbot, core: SrsConfig, srs_broker: BrokerHandle
) -> None:
    # The dashboard pins core's key from the data dir, as on the server.
    gui_cfg = core.model_copy(
        update={"mqtt": core.mqtt.model_copy(update={"username": None, "password": None})}
    )
    worker = build_worker(
        gui_cfg,
        Credentials(srs_broker.host, srs_broker.port, OPERATOR, operator_password(srs_broker)),
    )
    window = MainWindow(gui_cfg.gui, worker)
    qtbot.addWidget(window)
    worker.start()
    qtbot.waitUntil(lambda: worker.state == mw.CONNECTED, timeout=10_000)
    qtbot.waitUntil(lambda: CAMERA in window.plan.cameras, timeout=10_000)  # core's site

    send_face(srs_broker, core, seq=1)
    qtbot.waitUntil(
        lambda: any(p.identity == "unknown" for p in window.people.people()), timeout=15_000
    )
    stranger = next(p for p in window.people.people() if p.identity == "unknown")
    assert stranger.label.startswith("Unknown")
    assert window.plan.markers[stranger.person_key].label.text() == stranger.label
    qtbot.waitUntil(lambda: window.events.rowCount() >= 1, timeout=10_000)  # the sighting

    assert window.actions_.name_person(stranger.person_key, "Kit Harington")
    qtbot.waitUntil(lambda: "✔ name person" in window.result_label.text(), timeout=15_000)
    assert "now Kit Harington (p" in window.result_label.text()
    # Core republishes him under his new known key at once (no new sighting needed):
    # every panel shows the name and the unknown key is gone.
    match = re.search(r"\((p\d+)", window.result_label.text())
    assert match is not None
    new_key = match.group(1)
    qtbot.waitUntil(lambda: window.people.get(new_key) is not None, timeout=10_000)
    known = window.people.get(new_key)
    assert known is not None and (known.label, known.identity) == ("Kit Harington", "known")
    qtbot.waitUntil(lambda: window.people.get(stranger.person_key) is None, timeout=10_000)
    qtbot.waitUntil(lambda: stranger.person_key not in window.plan.markers, timeout=10_000)
    assert window.plan.markers[new_key].label.text() == "Kit Harington"
    assert all(
        r.label == "Kit Harington"
        for r in window.events.rows()
        if r.person_key == stranger.person_key
    )
    # Seen again: core recognises him by name.
    send_face(srs_broker, core, seq=2)
    qtbot.waitUntil(
        lambda: any(r.person_key == new_key for r in window.events.rows()), timeout=15_000
    )
    assert next(r for r in window.events.rows() if r.person_key == new_key).label == "Kit Harington"
    assert worker.inbox.dropped_total == 0
