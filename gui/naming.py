"""After core accepts a name (or a merge): show it at once, and follow the person.

Core answers with the person's new key (``u7`` named becomes ``p3``), then
republishes their position under it and a ``gone`` one for the old key. Until then
the old row shows the new name; once the new key's row is there the People
selection moves to it and an open card of the person is reopened on it, so the
next Ctrl+N names the same person, not whoever slid into the old row.
"""

from __future__ import annotations

import time
from typing import Protocol

from gui.floorplan import FloorPlanView
from gui.history import TimelineFeed
from gui.models import PeopleTableModel
from gui.panels import PeoplePanel
from gui.person_card import PersonCard
from gui.timeline import EventTableModel, named_row


class NamingHost(Protocol):
    """What naming touches of the window (gui/main_window.py)."""

    people: PeopleTableModel
    events: EventTableModel
    plan: FloorPlanView
    feed: TimelineFeed
    people_panel: PeoplePanel
    cards: list[PersonCard]

    def show_person(self, person_key: str) -> PersonCard | None: ...


class Naming:
    def __init__(self, host: NamingHost) -> None:
        self.host = host
        self.pending: str | None = None  # the key to select once its row shows
        self._reopen = False  # a card of the person was open: open it on the new key

    def named(self, person_key: str, name: str, new_key: str | None = None) -> None:
        h = self.host
        pos = h.people.get(person_key)
        if pos is not None:
            named = pos.model_copy(update={"label": name, "identity": "known"})
            h.people.apply([named])
            h.plan.apply_positions([named])
        was = pos.label if pos is not None else person_key  # core may have been quicker
        h.feed.add_row(named_row(new_key or person_key, was, name, time.time()))
        h.events.relabel(person_key, name)
        stale = [c for c in h.cards if c.isVisible() and c.person_key == person_key]
        for card in stale:
            card.close()
        h.cards[:] = [c for c in h.cards if c not in stale]
        self.pending = new_key or person_key
        self._reopen = self._reopen or bool(stale)
        self.follow()

    def follow(self) -> None:
        """Select the named person (and reopen their card) once their row is there."""
        key = self.pending
        if key is None or self.host.people.get(key) is None:
            return
        self.pending = None
        if self._reopen:
            self._reopen = False
            self.host.show_person(key)  # also selects the row
        else:
            self.host.people_panel.select(key)
