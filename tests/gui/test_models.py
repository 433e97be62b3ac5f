"""How the dashboard's tables word core's certainty (pure, no window)."""

from __future__ import annotations

from gui.models import event_from, evidence_note
from srs.wire import payloads


def test_carried_and_possible_identities_are_marked_fresh_matches_are_not() -> None:
    assert evidence_note("matched", None, None) == ""
    assert evidence_note(None, None, None) == ""  # an older core says nothing
    assert evidence_note("carried", 2.4, None) == " (carried 2s)"
    assert evidence_note("possible", None, "Ada Lovelace") == " (possibly Ada Lovelace)"
    row = event_from(
        payloads.Sighting(
            person_key="t-cam1-3",
            identity="unidentified",
            label="Unidentified",
            camera_id="cam1",
            seen_at=1.0,
            distance=0.52,
            evidence="possible",
            candidate="Ada Lovelace",
            confidence=0.25,
        )
    )
    assert row.detail == "seen distance 0.52 (possibly Ada Lovelace)"


def test_history_rows_say_how_sure_core_was() -> None:
    from gui.actions import history_rows

    base = {"id": 7, "person_key": "p1", "identity": "known", "label": "Alice"}
    base |= {"camera_id": "cam2", "seen_at": 10.0, "kind": "profile", "zone": None}
    carried = base | {"evidence": "carried", "evidence_age_s": 3.2, "confidence": 0.4}
    old = dict(base)  # stored before core recorded evidence
    rows = history_rows([carried, old])
    assert [r.detail for r in rows] == ["seen profile (carried 3s)", "seen profile"]
