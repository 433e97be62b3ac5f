"""The dashboard window: floor plan, panels, alert banner, status; wired to the worker."""

from __future__ import annotations

import logging
import time
from typing import Any

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gui import mqtt_worker as mw
from gui.actions import describe, outcome
from gui.alerts import AlertBanners
from gui.config import GuiConfig
from gui.face_cache import ICON_PX, FaceCache
from gui.faces import FacesGallery
from gui.floorplan import FloorPlanView, legend
from gui.history import TimelineFeed
from gui.models import CameraTableModel, PeopleTableModel
from gui.naming import Naming
from gui.operator_actions import OperatorActions
from gui.panels import CamerasPanel, EventsPanel, PeoplePanel
from gui.person_card import PersonCard
from gui.timeline import EventTableModel
from gui.wording import broker_counts, broker_drops
from srs.wire import commands, payloads, site, topics

log = logging.getLogger(__name__)
# Core's answer to a request signed with a key it does not know (core/commands.py).
KEY_FORGOTTEN = "session key is not registered"


class MainWindow(QMainWindow):
    def __init__(self, gui_cfg: GuiConfig, worker: mw.MqttWorker | None = None) -> None:
        super().__init__()
        self.setWindowTitle("SRS — who is where")
        self.cfg = gui_cfg
        self.worker = worker
        self.cameras = CameraTableModel(gui_cfg.offline_after_heartbeats)
        self.people = PeopleTableModel()
        self.events = EventTableModel(gui_cfg.max_events)
        self.plan = FloorPlanView(gui_cfg.trail_length)
        self.alerts = AlertBanners()  # security above operational (gui/alerts.py)
        self.banner = self.alerts.security
        self.ops_banner = self.alerts.operational
        self.cameras_panel = CamerasPanel(self.cameras)
        self.people_panel = PeoplePanel(self.people)
        self.events_panel = EventsPanel(self.events)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.people_panel, "People")
        self.tabs.addTab(self.cameras_panel, "Cameras")
        self._build_faces()
        self.cards: list[PersonCard] = []
        self._core_state = ""
        self._site_wait = 0
        self._build_layout()
        self.actions_ = OperatorActions(self, self)
        self.gallery.name_requested.connect(self.actions_.name_person)
        self.gallery.merge_requested.connect(self.actions_.merge)
        self.gallery.command_requested.connect(self.actions_.send)
        self.feed = TimelineFeed(self.events, self.events_panel, self.people, self.actions_.send)
        self.naming = Naming(self)
        self._build_status()
        self.cameras.state_changed.connect(self.on_camera_state)
        self.plan.person_clicked.connect(self.show_person)
        self.events_panel.search_requested.connect(self.search_history)
        self.events_panel.live_requested.connect(self.show_live)
        self.events_panel.resolve = self.key_named
        self._frame = QTimer(self)
        self._frame.setInterval(int(1000 / gui_cfg.frame_hz))
        self._frame.timeout.connect(self.tick)
        self._second = QTimer(self)
        self._second.setInterval(1000)
        self._second.timeout.connect(self.tick_second)
        if worker is not None:
            self.attach(worker)

    def _build_layout(self) -> None:
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.tabs)
        right.addWidget(self.events_panel)
        right.setSizes([380, 420])
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.plan, 1)
        left_layout.addWidget(legend())
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([900, 600])
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.alerts)
        layout.addWidget(split, 1)
        self.setCentralWidget(central)
        find = QAction("Filter people", self)
        find.setShortcut(QKeySequence.StandardKey.Find)
        find.triggered.connect(self._focus_filter)
        self.addAction(find)
        self.resize(1400, 820)

    def _build_faces(self) -> None:
        """Faces to go by: beside each name, in cards, in the alert banner, and the
        "Faces to name" gallery of strangers (gui/face_cache.py, gui/faces.py)."""
        self.faces = FaceCache()
        self.people.face_icon = self.faces.icon
        self.faces.changed.connect(self.people.face_changed)
        self.people_panel.view.setIconSize(QSize(ICON_PX, ICON_PX))
        self.alerts.use_faces(self.faces)
        self.gallery = FacesGallery(self.people, self.faces)
        self.tabs.addTab(self.gallery, "Faces to name")

    def _build_status(self) -> None:
        self.connection = QLabel("not connected")
        self.core_label = QLabel("core: —")
        self.dropped_label = QLabel("refused messages: 0")
        self.result_label = QLabel("")
        bar = self.statusBar()
        bar.addWidget(self.connection)
        bar.addWidget(self.result_label, 1)
        bar.addPermanentWidget(self.core_label)
        bar.addPermanentWidget(self.dropped_label)

    # --- wiring -----------------------------------------------------------------

    def attach(self, worker: mw.MqttWorker) -> None:
        """Show ``worker``'s session (already started or not); starts the frame timers."""
        self.worker = worker
        self.faces.send = worker.send
        worker.state_changed.connect(self.on_state)
        worker.site_received.connect(self.on_site)
        worker.camera_status.connect(self.cameras.update_status)
        worker.sightings.connect(self.on_sightings)
        worker.zone_event.connect(self.on_event)
        worker.alert.connect(self.on_alert)
        worker.core_status.connect(self.on_core_status)
        worker.response.connect(self.on_response)
        worker.dropped.connect(self.on_dropped)
        worker.camera_vouched.connect(lambda cam, on: self.cameras.set_disabled(cam, not on))
        self.on_state(
            worker.state,
            f"signed in as {worker.user}" if worker.state == mw.CONNECTED else worker.state,
        )
        self._frame.start()
        self._second.start()

    def on_state(self, state: str, sentence: str) -> None:
        colour = "#2e9d50" if state == mw.CONNECTED else "#c0392b"
        self.connection.setText(f"<span style='color:{colour}'>●</span> {state} — {sentence}")
        if state == mw.CONNECTED and self.worker is not None:
            self.feed.ask_recent(self.cfg.recent_history_s)  # once per session

    def on_site(self, plan: site.SitePlan) -> None:
        log.info(
            "site plan %r: %d zones, %d cameras", plan.name, len(plan.zones), len(plan.cameras)
        )
        self.plan.set_site(plan)
        self.people.set_zone_names(self.plan.zone_names)
        self.feed.zone_names = dict(self.plan.zone_names)
        self.cameras.add_cameras(c.camera_id for c in plan.cameras)
        for camera_id in self.cameras.camera_ids():
            self.plan.set_camera_state(camera_id, self.cameras.state(camera_id))
        self.setWindowTitle(f"SRS — {plan.name}")

    def on_camera_state(self, camera_id: str, state: str) -> None:
        self.plan.set_camera_state(camera_id, state)
        self.feed.camera(camera_id, state, time.time())

    def on_sightings(self, batch: payloads.SightingBatch) -> None:
        for sighting in batch.sightings:
            self.on_event(sighting)

    def on_event(self, payload: Any) -> None:
        self.feed.add(payload)

    def on_alert(self, alert: payloads.Alert) -> None:
        self.alerts.add(alert)
        self.on_event(alert)

    def on_core_status(self, status: payloads.CoreStatus) -> None:
        if status.state == "online" and self._core_state != "online" and self.worker:
            self.worker.register_key()  # a restarted core has forgotten this session's key
        self._core_state = status.state
        self.core_label.setText(
            f"core: {status.state}, {status.accepted} accepted, {status.matched} recognised"
            + broker_drops(status)
        )
        self.core_label.setToolTip(broker_counts(status))

    def on_dropped(self, total: int) -> None:
        self.dropped_label.setText(f"refused messages: {total}")
        if self.worker is not None:
            self.dropped_label.setToolTip(self.worker.inbox.last_drop)

    def on_response(self, response: commands.Response, command: Any) -> None:
        if self.faces.on_response(response, command):
            return  # faces arrive quietly; no status line for them
        if self.feed.is_recent(command):
            for alert in self.feed.on_recent(response):
                self.alerts.add(alert)
            return
        what = describe(command) if command is not None else "request"
        if not response.ok:
            error = response.error or "refused by core"
            if KEY_FORGOTTEN in error and self.worker is not None:
                # Core restarted without us seeing it: announce the key again at once.
                self.worker.register_key()
                error = (
                    "core had forgotten this session's key (it restarted); the key "
                    "was sent again: try once more"
                )
            self.show_result(f"✖ {what}: {error}", error=True)
            return
        self.show_result(f"✔ {what}: {outcome(command, response.result)}", error=False)
        result = response.result if isinstance(response.result, dict) else {}
        new_key = result.get("person_key") if isinstance(result.get("person_key"), str) else None
        if isinstance(command, commands.QueryHistory):
            self.feed.show_history(response.result)
        elif isinstance(command, commands.NameIdentity):
            self.rename(command.person_key, command.name, new_key)
            self._faces_follow(command.person_key, new_key)
        elif isinstance(command, commands.MergePeople):
            target = self.people.get(command.target_key)
            if target is not None:
                self.rename(command.source_key, target.label, new_key or command.target_key)
            self._faces_follow(command.source_key, new_key)
        elif isinstance(command, commands.SetCameraEnabled):
            self.cameras.set_disabled(command.camera_id, not command.enabled)

    def _faces_follow(self, old_key: str, new_key: str | None) -> None:
        if new_key is not None:
            self.faces.rename(old_key, new_key)

    def rename(self, person_key: str, name: str, new_key: str | None = None) -> None:
        """Show a name core accepted at once, everywhere (gui/naming.py)."""
        self.naming.named(person_key, name, new_key)

    def key_named(self, name: str) -> str | None:
        """The key of someone on this desk called ``name`` (any case), if any."""
        wanted = name.casefold()
        return next(
            (p.person_key for p in self.people.people() if p.label.casefold() == wanted), None
        )

    def show_result(self, text: str, *, error: bool) -> None:
        self.result_label.setStyleSheet("color:#c0392b" if error else "color:#2e7d32")
        self.result_label.setText(text)

    # --- timers -------------------------------------------------------------------

    def tick(self) -> None:
        """One frame: apply the latest position per person, then glide the markers."""
        if self.worker is not None:
            latest = self.worker.take_positions()
            if latest:
                updates = [p for p in latest.values() if p is not None]
                for key in [k for k, p in latest.items() if p is None]:
                    self.people.remove(key)
                    self.plan.remove(key)
                self.people.apply(updates)
                self.plan.apply_positions(updates)
                self.naming.follow()
        self.plan.step()

    def tick_second(self, now: float | None = None) -> None:
        self.cameras.refresh(now)
        if self.worker is not None and self.plan.plan is None and self.worker.state == mw.CONNECTED:
            # The retained plan should come with the subscription; ask again a few times
            # (then every half minute) in case the broker lost it or core published late.
            self._site_wait += 1
            if self._site_wait in (3, 6, 12) or self._site_wait % 30 == 0:
                log.info("no site plan yet; subscribing to it again")
                self.worker.resubscribe(topics.SITE)
        if self.worker is not None:
            for command in self.worker.expire_requests(self.cfg.request_timeout_s):
                if self.faces.expired(command):
                    continue
                if self.feed.is_recent(command):
                    continue  # an older core that cannot answer it: nothing to report
                self.show_result(
                    f"✖ {describe(command)}: core did not answer within "
                    f"{self.cfg.request_timeout_s:.0f} s (is core running?); "
                    "try again",
                    error=True,
                )
                self.worker.register_key()

    # --- views ----------------------------------------------------------------------

    def search_history(self, query: commands.QueryHistory) -> None:
        self.actions_.send(query)

    def show_live(self) -> None:
        self.feed.show_live()

    def show_person(self, person_key: str) -> PersonCard | None:
        pos = self.people.get(person_key)
        if pos is None:
            return None
        card = PersonCard(
            pos, self.events.rows(), self, faces=self.faces, zones=self.plan.zone_names
        )
        card.name_requested.connect(self.actions_.name_person)
        card.merge_requested.connect(self.actions_.merge)
        self.cards = [c for c in self.cards if c.isVisible()] + [card]
        card.show()
        self.people_panel.select(person_key)  # toolbar actions now apply to this person
        return card

    def _focus_filter(self) -> None:
        self.tabs.setCurrentWidget(self.people_panel)
        self.people_panel.filter.setFocus()

    def closeEvent(self, event: Any) -> None:
        self._frame.stop()
        self._second.stop()
        if self.worker is not None:
            self.worker.stop()
        super().closeEvent(event)
