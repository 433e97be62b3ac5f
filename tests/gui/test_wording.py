"""gui/wording.py: how the dashboard words times, ages, zones and identity evidence."""

from __future__ import annotations

import time

from gui.wording import (
    age,
    broker_counts,
    broker_drops,
    clock,
    evidence_note,
    evidence_text,
    zone_name,
)
from srs.wire.payloads import CoreStatus


def test_identity_evidence_in_a_guards_words() -> None:
    from gui.models import identity_text
    from tests.gui.helpers import position

    assert evidence_text("matched", None, None, "known") == "matched"
    assert evidence_text("carried", 4.2, None, "known") == "carried 4 s"
    assert evidence_text("possible", None, "Ada", "unidentified") == "possibly Ada"
    assert evidence_text(None, None, None, "unidentified") == "unidentified"
    assert evidence_text(None, None, None, "known") == "—"  # an older core
    carried = position("p1", 1, 1).model_copy(update={"evidence": "carried", "evidence_age_s": 4})
    assert identity_text(carried) == "known, carried 4 s"
    lone = position("t-a-1", 1, 1, identity="unidentified", label="Unidentified")
    assert identity_text(lone) == "unidentified"


def test_times_and_ages() -> None:
    assert clock(None) == "—"
    assert clock(0.0) == "—"
    assert clock(time.mktime((2026, 1, 31, 14, 5, 9, 0, 0, -1))) == "14:05:09"
    assert age(None, 100.0) == "never"
    assert age(90.0, 100.0) == "10 s ago"
    assert age(110.0, 100.0) == "0 s ago"  # a clock a little ahead is not the future
    assert age(0.5, 600.5) == "10 min ago"


def test_zone_names_come_from_the_plan() -> None:
    assert zone_name("lab", {"lab": "Server room"}) == "Server room"
    assert zone_name("yard", {}) == "yard"  # the plan has not arrived (yet)
    assert zone_name(None, {"lab": "Lab"}) == "—"


def test_the_evidence_note_and_text_agree_on_what_core_said() -> None:
    assert evidence_text("carried", None, None, "known") == "carried"
    assert evidence_text("possible", None, None, "unidentified") == "possible match"
    assert evidence_note("carried", None, None) == " (carried)"
    assert evidence_note("possible", None, None) == " (possible)"
    assert evidence_note("matched", None, None) == ""


def test_the_brokers_drops_in_words() -> None:
    quiet = CoreStatus(state="online", sent_at=1.0)
    assert broker_drops(quiet) == ""  # nothing dropped, or no broker status at all
    assert broker_counts(quiet).startswith("no broker status")
    lost = quiet.model_copy(update={"broker_status_at": 1.0, "broker_retain_refused": 1})
    assert broker_drops(lost) == ", broker dropped 1 (1 retained on a stream)"
    assert "1 retained publishes refused" in broker_counts(lost)
