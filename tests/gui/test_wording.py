"""gui/wording.py: how the dashboard words times, ages, zones and identity evidence."""

from __future__ import annotations


def test_identity_evidence_in_a_guards_words() -> None:
    from gui.models import identity_text
    from gui.wording import evidence_text
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
