"""gui/person_card.py: the card of a person picked on the plan."""

from __future__ import annotations


def test_the_card_says_how_a_placed_person_was_identified(qtbot) -> None:
    """The bug: placed people read "confidence 0 %". The card shows the evidence."""
    from PySide6.QtWidgets import QLabel

    from gui.person_card import PersonCard
    from tests.gui.helpers import position

    pos = position("p1", 3, 4, zone="lab").model_copy(
        update={"confidence": 0.0, "evidence": "carried", "evidence_age_s": 4.0}
    )
    card = PersonCard(pos, [], None, zones={"lab": "Lab"})
    qtbot.addWidget(card)
    texts = [w.text() for w in card.findChildren(QLabel)]
    assert "carried 4 s" in texts and "Lab" in texts
    assert not any("%" in t for t in texts)
