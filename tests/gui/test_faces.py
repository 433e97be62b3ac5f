"""The "faces to name" gallery with the real core: a stranger's crop from a camera is
stored by core, fetched by the dashboard, and the guard names him from it; every
panel then shows the new name (and his face)."""

from __future__ import annotations

import base64
import io
import re
import time
from pathlib import Path

from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QInputDialog

from gui import mqtt_worker as mw
from gui.main_window import MainWindow
from gui.session import Credentials, build_worker
from srs.app.config import SrsConfig
from srs.wire import commands
from tests.brokers import BrokerHandle
from tests.gui.helpers import OPERATOR, operator_password
from tests.gui.test_with_core import ROOT, core, send_face

__all__ = ["core"]  # the fixture, shared with test_with_core
KIT = ROOT / "tests/data/media/faces/train/kit_harington/john1.jpeg"


def kit_crop(path: Path = KIT) -> str:
    """A 112 px face crop of the photo's face, as an edge would send it."""
    import face_recognition
    import numpy as np

    with Image.open(path) as raw:
        img = raw.convert("RGB")
        img.thumbnail((400, 400))
    ((top, right, bottom, left),) = face_recognition.face_locations(np.asarray(img))
    face = img.crop((left, top, right, bottom)).resize((112, 112))
    out = io.BytesIO()
    face.save(out, "JPEG", quality=80)
    return base64.b64encode(out.getvalue()).decode()


def test_a_stranger_is_named_from_his_face_in_the_gallery(
    qtbot, monkeypatch, core: SrsConfig, srs_broker: BrokerHandle
) -> None:
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

    send_face(srs_broker, core, seq=1, face_jpeg_b64=kit_crop())
    gallery = window.gallery
    qtbot.waitUntil(lambda: len(gallery.keys()) == 1, timeout=15_000)
    (key,) = gallery.keys()
    stranger = window.people.get(key)
    assert stranger is not None and stranger.identity == "unknown"
    # The dashboard fetched his face from core: in the gallery, the table and the card.
    qtbot.waitUntil(lambda: window.faces.best(key) is not None, timeout=10_000)
    qtbot.waitUntil(lambda: not gallery.grid.item(0).icon().isNull(), timeout=5_000)
    assert gallery.selected_face() is None or gallery.selected_key() == key
    row = window.people.index(window.people._rows[key], 0)
    assert isinstance(window.people.data(row, Qt.ItemDataRole.DecorationRole), QPixmap)
    best = window.faces.best(key)
    assert best is not None and best.width() == 112
    assert worker.inbox.dropped_total == 0

    # The guard picks him by his face and names him.
    assert gallery.select(key)
    assert gallery.name_button.isEnabled()
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Kit Harington", True))
    qtbot.mouseClick(gallery.name_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "✔ name person" in window.result_label.text(), timeout=15_000)
    match = re.search(r"\((p\d+)", window.result_label.text())
    assert match is not None
    new_key = match.group(1)

    # Every panel shows the name: table, plan, timeline, card (with his face); the
    # gallery of strangers no longer lists him.
    qtbot.waitUntil(lambda: window.people.get(new_key) is not None, timeout=10_000)
    known = window.people.get(new_key)
    assert known is not None and (known.label, known.identity) == ("Kit Harington", "known")
    qtbot.waitUntil(lambda: key not in window.plan.markers, timeout=10_000)
    assert window.plan.markers[new_key].label.text() == "Kit Harington"
    assert all(r.label == "Kit Harington" for r in window.events.rows() if r.person_key == key)
    qtbot.waitUntil(lambda: gallery.keys() == [], timeout=5_000)
    qtbot.waitUntil(lambda: window.faces.best(new_key) is not None, timeout=10_000)
    card = window.show_person(new_key)
    assert card is not None and "Kit Harington" in card.windowTitle()
    assert card.face_labels and card.face_labels[0].pixmap() is not None
    assert not card.face_labels[0].pixmap().isNull()
    new_row = window.people.index(window.people._rows[new_key], 0)
    assert isinstance(window.people.data(new_row, Qt.ItemDataRole.DecorationRole), QPixmap)
    assert worker.inbox.dropped_total == 0


def test_gallery_and_alert_show_the_face_and_not_this_person_splits_it_off(
    qtbot, window, fake_core
) -> None:
    """A stranger's face in the gallery and in the alert banner that names him; the
    gallery's "Not this person" sends split_identity for the chosen face's track."""
    from srs.wire import payloads, topics

    fake_core.publish_key()
    face = {"jpeg_b64": kit_crop(), "seen_at": time.time(), "camera_id": "cam1"}
    fake_core.faces["u4"] = [{**face, "track_id": 9, "sighting_id": 1}]
    fake_core.publish(
        topics.position("u4"),
        payloads.PersonPosition(
            person_key="u4",
            identity="unknown",
            label="Unknown 4",
            x=1.0,
            y=1.0,
            confidence=0.5,
            last_seen=time.time(),
            cameras=["cam1"],
        ),
        retain=True,
    )
    gallery = window.gallery
    qtbot.waitUntil(lambda: gallery.keys() == ["u4"], timeout=10_000)
    qtbot.waitUntil(lambda: window.faces.best("u4") is not None, timeout=10_000)
    fake_core.publish(
        topics.alerts(),
        payloads.Alert(
            alert_id="a1",
            kind="unknown_in_restricted",
            severity="critical",
            message="Unknown 4 entered restricted zone 'Lab'",
            at=time.time(),
            person_key="u4",
        ),
    )
    qtbot.waitUntil(lambda: window.banner.face.isVisibleTo(window.banner), timeout=10_000)
    assert window.banner.face.pixmap().height() == 48
    assert gallery.select("u4")
    qtbot.waitUntil(gallery.reject_button.isEnabled, timeout=5_000)
    qtbot.mouseClick(gallery.reject_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: any(isinstance(r.command, commands.SplitIdentity) for r in fake_core.requests),
        timeout=10_000,
    )
    split = next(r.command for r in fake_core.requests if r.command.action == "split_identity")
    assert (split.person_key, split.camera_id, split.track_id) == ("u4", "cam1", 9)
