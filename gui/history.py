"""What the timeline shows: the live feed, a history search, what happened before
sign-in.

Live rows are kept in time order by the model (gui/timeline.py). A history search
replaces them until *Live* is pressed (live events that arrive meanwhile are kept).
At sign-in the desk asks core once for the last ``recent_history_s`` of zone
events and alerts (core keeps them in memory, core/recent.py) and of sightings
(stored), so a guard starting a shift sees what happened before.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from gui.actions import history_rows
from gui.models import PeopleTableModel
from gui.panels import EventsPanel
from gui.timeline import EventRow, EventTableModel, camera_row, event_from
from srs.wire import commands, payloads

log = logging.getLogger(__name__)
RECENT_LIMIT = 100  # sightings asked for at sign-in (events: all core kept)


class TimelineFeed:
    def __init__(
        self,
        events: EventTableModel,
        panel: EventsPanel,
        people: PeopleTableModel,
        send: Callable[[Any], str | None],
    ) -> None:
        self.events, self.panel, self.people, self.send = events, panel, people, send
        self.zone_names: dict[str, str] = {}
        self.history_mode = False
        self.live_buffer: list[EventRow] = []  # live rows held while history is shown
        self._live_rows: list[EventRow] = []
        self.recent_query: commands.QueryHistory | None = None
        self._cameras_heard: set[str] = set()

    # --- live -----------------------------------------------------------------------

    def add(self, payload: Any) -> None:
        """A sighting, zone event or alert as it arrives."""
        self.add_row(self.row(payload))

    def add_row(self, row: EventRow) -> None:
        if self.history_mode:
            self.live_buffer.append(row)
        else:
            self.events.add(row)

    def camera(self, camera_id: str, state: str, at: float) -> None:
        """A camera went online, offline or disabled. Its first word after sign-in
        ("online") is how things are, not something that happened: no row."""
        first = camera_id not in self._cameras_heard
        self._cameras_heard.add(camera_id)
        if not (first and state == "online"):
            self.add_row(camera_row(camera_id, state, at))

    def row(self, payload: Any) -> EventRow:
        row = event_from(payload, self.zone_names)
        person = self.people.get(row.person_key) if row.person_key else None
        return replace(row, label=person.label) if person and row.kind == "alert" else row

    # --- what happened before sign-in -----------------------------------------------------

    def ask_recent(self, seconds: float, now: float | None = None) -> None:
        if seconds <= 0 or self.recent_query is not None:
            return
        since = (time.time() if now is None else now) - seconds
        query = commands.QueryHistory(since=since, limit=RECENT_LIMIT, recent_events=True)
        if self.send(query) is not None:
            self.recent_query = query

    def is_recent(self, command: Any) -> bool:
        return command is not None and command is self.recent_query

    def on_recent(self, response: commands.Response) -> list[payloads.Alert]:
        """Merge core's answer into the live timeline; returns its alerts (for the
        banner). An older core that does not keep events answers with sightings only
        or refuses the field: then there is just less to show."""
        if not response.ok:
            log.info("core did not give the recent events: %s", response.error)
            return []
        result = response.result if isinstance(response.result, dict) else {}
        items = [*result.get("events", []), *result.get("sightings", [])]
        if isinstance(response.result, list):
            items = response.result
        have = {(r.at, r.kind, r.person_key) for r in self.events.rows()}
        for row in reversed(history_rows(items, self.zone_names)):  # oldest first
            if (row.at, row.kind, row.person_key) not in have:
                self.events.add(row)
        alerts = []
        for item in result.get("events", []):
            try:
                alerts.append(payloads.Alert.model_validate(item))
            except ValueError:
                continue
        return alerts

    # --- history ----------------------------------------------------------------------

    def show_history(self, result: Any) -> None:
        if not self.history_mode:
            self._live_rows = self.events.rows()
        self.history_mode = True
        self.panel.set_history(True)
        self.events.set_rows(history_rows(result, self.zone_names))
        self.panel.mode.setText(f"history: {self.events.rowCount()} events")

    def show_live(self) -> None:
        self.history_mode = False
        self.panel.set_history(False)
        self.events.set_rows(self._live_rows + self.live_buffer)
        self._live_rows, self.live_buffer = [], []
        self.panel.mode.setText("live")
