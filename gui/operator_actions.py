"""Operator actions: toolbar, context menus and the small dialogs that build commands.

Every method takes its inputs as arguments and asks with a dialog only for what is
missing, so tests (and keyboard users) can drive them directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError
from PySide6.QtCore import QObject, QPoint
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMainWindow, QMenu

from gui.actions import describe, enrol_command
from gui.models import EventTableModel, PeopleTableModel
from gui.mqtt_worker import MqttWorker
from gui.panels import CamerasPanel, EventsPanel, PeoplePanel
from srs.wire import commands
from srs.wire.signing import describe_validation_error


class ActionHost(Protocol):
    """What the actions read and report to: the dashboard window (MainWindow).

    Named here, not imported, so the window can own its actions without the two
    modules importing each other.
    """

    worker: MqttWorker | None
    people: PeopleTableModel
    events: EventTableModel
    people_panel: PeoplePanel
    events_panel: EventsPanel
    cameras_panel: CamerasPanel

    def show_result(self, text: str, *, error: bool) -> None: ...

    def show_person(self, person_key: str) -> object: ...


class OperatorActions(QObject):
    def __init__(self, window: QMainWindow, host: ActionHost) -> None:
        """Put the actions on ``window``'s toolbar; they act through ``host`` (the same
        window, seen as what the actions need)."""
        super().__init__(window)
        self.window = window
        self.host = host
        bar = window.addToolBar("Actions")
        bar.setObjectName("actions")
        for text, shortcut, slot in (
            ("Name person…", "Ctrl+N", self.name_person),
            ("Merge…", "Ctrl+M", self.merge),
            ("Not this person", "Ctrl+R", self.reject_sighting),
            ("Enrol from photos…", "Ctrl+E", self.enrol),
            ("Disable camera", "Ctrl+D", self.disable_camera),
            ("Enable camera", "", self.enable_camera),
        ):
            action = bar.addAction(text)
            if shortcut:
                action.setShortcut(shortcut)
                action.setToolTip(f"{text} ({shortcut})")
            action.triggered.connect(lambda _=False, s=slot: s())
        host.people_panel.view.customContextMenuRequested.connect(self._people_menu)
        host.events_panel.view.customContextMenuRequested.connect(self._events_menu)
        host.cameras_panel.view.customContextMenuRequested.connect(self._cameras_menu)

    def send(self, command: Any) -> str | None:
        if self.host.worker is None:
            self.host.show_result("✖ not signed in", error=True)
            return None
        try:
            rid = self.host.worker.send(command)
        except RuntimeError as exc:
            self.host.show_result(f"✖ {describe(command)}: {exc}", error=True)
            return None
        self.host.show_result(f"… {describe(command)}: sent, waiting for core", error=False)
        return rid

    def _build(self, factory: Any, **fields: Any) -> Any:
        try:
            return factory(**fields)
        except ValidationError as exc:
            self.host.show_result(f"✖ {describe_validation_error(exc)}", error=True)
            return None

    # --- actions ------------------------------------------------------------------

    def name_person(self, person_key: str | None = None, name: str | None = None) -> str | None:
        key = person_key or self.host.people_panel.selected_key()
        if key is None:
            self.host.show_result("✖ select a person (People tab or floor plan) first", error=True)
            return None
        if name is None:
            pos = self.host.people.get(key)
            name, ok = QInputDialog.getText(
                self.window, "Name person", f"Name for {pos.label if pos else key}:"
            )
            if not ok or not name.strip():
                return None
        command = self._build(commands.NameIdentity, person_key=key, name=name.strip())
        return self.send(command) if command else None

    def merge(self, source_key: str | None = None, target_key: str | None = None) -> str | None:
        source = source_key or self.host.people_panel.selected_key()
        if source is None:
            self.host.show_result("✖ select the person to merge first", error=True)
            return None
        if target_key is None:
            others = {
                f"{p.label} ({p.person_key})": p.person_key
                for p in self.host.people.people()
                if p.person_key != source
            }
            if not others:
                self.host.show_result("✖ nobody else to merge with", error=True)
                return None
            choice, ok = QInputDialog.getItem(
                self.window, "Merge", f"Merge {source} into:", list(others), 0, False
            )
            if not ok:
                return None
            target_key = others[choice]
        command = self._build(commands.MergePeople, source_key=source, target_key=target_key)
        return self.send(command) if command else None

    def reject_sighting(self, sighting_id: int | None = None) -> str | None:
        if sighting_id is None:
            row = self.host.events_panel.selected_row()
            event = self.host.events.row(row) if row is not None else None
            if event is None or event.sighting_id is None:
                self.host.show_result("✖ select a sighting in the Events tab first", error=True)
                return None
            sighting_id = event.sighting_id
        command = self._build(commands.RejectSighting, sighting_id=sighting_id)
        return self.send(command) if command else None

    def enrol(self, name: str | None = None, paths: list[Path] | None = None) -> str | None:
        if paths is None:
            files, _ = QFileDialog.getOpenFileNames(
                self.window, "Photos of the person", "", "Images (*.jpg *.jpeg *.png)"
            )
            if not files:
                return None
            paths = [Path(f) for f in files]
        if name is None:
            name, ok = QInputDialog.getText(self.window, "Enrol person", "Name:")
            if not ok or not name.strip():
                return None
        try:
            command = enrol_command(name.strip(), paths)
        except ValidationError as exc:  # a refused name: one sentence, not pydantic's dump
            self.host.show_result(f"✖ enrol: {describe_validation_error(exc)}", error=True)
            return None
        except ValueError as exc:
            self.host.show_result(f"✖ enrol: {exc}", error=True)
            return None
        return self.send(command)

    def disable_camera(self, camera_id: str | None = None) -> str | None:
        return self._camera(camera_id, False)

    def enable_camera(self, camera_id: str | None = None) -> str | None:
        return self._camera(camera_id, True)

    def _camera(self, camera_id: str | None, enabled: bool) -> str | None:
        camera = camera_id or self.host.cameras_panel.selected_camera()
        if camera is None:
            self.host.show_result("✖ select a camera in the Cameras tab first", error=True)
            return None
        command = self._build(commands.SetCameraEnabled, camera_id=camera, enabled=enabled)
        return self.send(command) if command else None

    # --- context menus ----------------------------------------------------------------

    def _people_menu(self, at: QPoint) -> None:
        key = self.host.people_panel.selected_key()
        if key is None:
            return
        menu = QMenu(self.window)
        menu.addAction("Show card", lambda: self.host.show_person(key))
        menu.addAction("Name…", lambda: self.name_person(key))
        menu.addAction("Merge into…", lambda: self.merge(key))
        menu.exec(self.host.people_panel.view.viewport().mapToGlobal(at))

    def _events_menu(self, at: QPoint) -> None:
        menu = QMenu(self.window)
        menu.addAction("Not this person", self.reject_sighting)
        menu.exec(self.host.events_panel.view.viewport().mapToGlobal(at))

    def _cameras_menu(self, at: QPoint) -> None:
        menu = QMenu(self.window)
        menu.addAction("Disable camera", self.disable_camera)
        menu.addAction("Enable camera", self.enable_camera)
        menu.exec(self.host.cameras_panel.view.viewport().mapToGlobal(at))
