"""gui/person_card.py: the card of a person picked on the plan."""

from __future__ import annotations

import base64
from pathlib import Path

from gui.face_cache import FaceCache
from gui.person_card import FACE_PX, PersonCard
from gui.timeline import EventRow
from srs.wire import commands
from tests.gui.helpers import position


def test_the_card_says_how_a_placed_person_was_identified(qtbot) -> None:
    """The bug: placed people read "confidence 0 %". The card shows the evidence."""
    from PySide6.QtWidgets import QLabel

    pos = position("p1", 3, 4, zone="lab").model_copy(
        update={"confidence": 0.0, "evidence": "carried", "evidence_age_s": 4.0}
    )
    card = PersonCard(pos, [], None, zones={"lab": "Lab"})
    qtbot.addWidget(card)
    texts = [w.text() for w in card.findChildren(QLabel)]
    assert "carried 4 s" in texts and "Lab" in texts
    assert not any("%" in t for t in texts)


def face_answer(key: str, jpeg: bytes) -> tuple[commands.Response, commands.GetFaces]:
    item = {"jpeg_b64": base64.b64encode(jpeg).decode(), "seen_at": 1.0, "camera_id": "door",
            "track_id": 1, "sighting_id": 9, "quality": 0.8}  # fmt: skip
    result = {"person_key": key, "faces": [item]}
    return commands.Response(request_id="r1", ok=True, result=result), commands.GetFaces(
        person_key=key
    )


def test_the_card_lists_only_this_persons_recent_sightings(qtbot) -> None:
    events = [EventRow(float(i), "sighting", "u7", "Unknown 7", "door", "seen") for i in range(30)]
    events.append(EventRow(99.0, "sighting", "p1", "Ada", "door", "seen"))
    card = PersonCard(position("u7", 1, 1, identity="unknown", label="Unknown 7"), events)
    qtbot.addWidget(card)
    assert card.sightings.count() == 20
    assert card.name_button.text() == "Name…"  # a stranger is named, not renamed
    alone = PersonCard(position("p1", 1, 1, label="Ada"), [])
    qtbot.addWidget(alone)
    assert alone.sightings.item(0).text() == "no recent sightings in the timeline"
    assert alone.name_button.text() == "Rename…"


def test_the_buttons_ask_for_this_person(qtbot) -> None:
    card = PersonCard(position("u7", 1, 1, identity="unknown", label="Unknown 7"), [])
    qtbot.addWidget(card)
    with qtbot.waitSignal(card.name_requested) as named:
        card.name_button.click()
    with qtbot.waitSignal(card.merge_requested) as merged:
        card.merge_button.click()
    assert named.args == ["u7"] and merged.args == ["u7"]


def test_the_card_shows_the_faces_core_kept_when_they_arrive(qtbot, media: Path) -> None:
    asked: list[object] = []
    cache = FaceCache(asked.append)
    card = PersonCard(position("u7", 1, 1, identity="unknown", label="Unknown 7"), [],
                      faces=cache)  # fmt: skip
    qtbot.addWidget(card)
    assert asked == [commands.GetFaces(person_key="u7")]
    assert card.face_labels[0].text() == "no face stored yet"
    jpeg = (media / "faces" / "test" / "obama1.jpg").read_bytes()
    cache.on_response(*face_answer("u7", jpeg))
    assert len(card.face_labels) == 1
    pixmap = card.face_labels[0].pixmap()
    assert not pixmap.isNull() and max(pixmap.width(), pixmap.height()) == FACE_PX
    assert card.face_labels[0].toolTip().startswith("door at ")
