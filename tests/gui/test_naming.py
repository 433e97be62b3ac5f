"""After a name: the selection and the card follow the named person (gui/naming.py)."""

from __future__ import annotations

from gui.main_window import MainWindow
from srs.wire import commands, topics
from tests.gui.helpers import FakeCore, position


def test_selection_and_card_follow_the_named_person(
    qtbot, window: MainWindow, fake_core: FakeCore
) -> None:
    """The bug: naming u7 (who becomes p3) left the selection on whoever slid into
    u7's row, so a second Ctrl+N renamed someone else, and the card stayed stale."""
    for key, label, x in (("u7", "Unknown 7", 4), ("u8", "Unknown 8", 6), ("p1", "Alice", 8)):
        identity = "known" if key.startswith("p") else "unknown"
        fake_core.publish(
            topics.position(key), position(key, x, 4, identity=identity, label=label), retain=True
        )
    qtbot.waitUntil(lambda: window.people.rowCount() == 3, timeout=5_000)
    card = window.show_person("u7")  # selects u7 and opens the card
    assert card is not None and window.people_panel.selected_key() == "u7"

    def core_side(user: str, request: commands.Request) -> None:
        # As core does: answer with the new key, publish the person under it, clear u7.
        command = request.command
        if isinstance(command, commands.NameIdentity) and command.person_key == "u7":
            fake_core.reply(user, request, ok=True, result={"person_key": "p3", "name": "Carol"})
            fake_core.publish(
                topics.position("p3"), position("p3", 4, 4, label="Carol"), retain=True
            )
            fake_core.publish(
                topics.position("u7"),
                position("u7", 4, 4, identity="unknown", label="Carol", gone=True),
            )
            fake_core.publish_raw(topics.position("u7"), b"", retain=True)
        else:
            fake_core.reply(user, request, ok=True, result={"person_key": "p3", "name": "Caro"})

    fake_core.on_request = core_side
    assert window.actions_.name_person(name="Carol") is not None  # Ctrl+N on the selection
    qtbot.waitUntil(lambda: window.people.get("u7") is None, timeout=5_000)
    qtbot.waitUntil(lambda: window.people_panel.selected_key() == "p3", timeout=5_000)
    # The card was reopened on the named person.
    open_cards = [c for c in window.cards if c.isVisible()]
    assert [c.person_key for c in open_cards] == ["p3"]
    assert "Carol" in open_cards[0].windowTitle() and not card.isVisible()
    # The timeline says who was named.
    assert any(
        r.kind == "named" and r.detail.endswith(" is now Carol") for r in window.events.rows()
    )
    # A second Ctrl+N names the same person, not Unknown 8 or Alice.
    window.actions_.name_person(name="Caroline")
    qtbot.waitUntil(lambda: len(fake_core.requests) == 2, timeout=5_000)
    assert fake_core.requests[-1].command == commands.NameIdentity(person_key="p3", name="Caroline")
