"""The timeline's history: search by name, and what happened before sign-in."""

from __future__ import annotations

import time

from gui import mqtt_worker as mw
from gui.main_window import MainWindow
from gui.session import Credentials, build_worker
from srs.wire import commands, topics
from srs.wire.payloads import Alert, ZoneEvent
from tests.brokers import BrokerHandle
from tests.gui.helpers import OPERATOR, FakeCore, demo_plan, gui_config, operator_password, position


def test_history_search_by_a_name(qtbot, window: MainWindow, fake_core: FakeCore) -> None:
    """The bug: typing a name did nothing and logged an error (only keys like p6
    passed the form). A name on this desk is sent as its key; another name is sent
    for core to look up."""
    u7 = position("u7", 4, 4, identity="unknown", label="Unknown 7")
    fake_core.publish(topics.position("u7"), u7, retain=True)
    qtbot.waitUntil(lambda: window.people.get("u7") is not None, timeout=5_000)
    fake_core.on_request = lambda user, req: fake_core.reply(user, req, ok=True, result=[])
    panel = window.events_panel
    for typed, key, name in (
        ("unknown 7", "u7", None),
        ("Kit  Harington", None, "Kit Harington"),
        ("p6", "p6", None),
    ):
        panel.person.setText(typed)
        before = len(fake_core.requests)
        panel.search.click()
        qtbot.waitUntil(lambda n=before: len(fake_core.requests) == n + 1, timeout=5_000)
        query = fake_core.requests[-1].command
        assert isinstance(query, commands.QueryHistory)
        assert (query.person_key, query.person_name) == (key, name)
    panel.person.setText("x" * 200)  # too long for a name: said, not raised
    panel.search.click()
    assert panel.mode.text().startswith("cannot search")


def test_recent_alerts_and_events_are_there_at_sign_in(
    qtbot, tmp_path, core_key, srs_broker: BrokerHandle, fake_core: FakeCore
) -> None:
    now = time.time()
    fake_core.publish(topics.site(), demo_plan(), retain=True)
    enter = ZoneEvent(
        person_key="u3",
        identity="unknown",
        label="Unknown 3",
        zone="lab",
        action="enter",
        at=now - 120,
        restricted=True,
    )
    alert = Alert(
        alert_id="a1",
        kind="unknown_in_restricted",
        severity="critical",
        message="Unknown 3 (not a known person) entered restricted zone 'Lab'",
        at=now - 120,
        person_key="u3",
        zone="lab",
    )
    events = [alert.model_dump(mode="json"), enter.model_dump(mode="json")]

    def core_side(user: str, request: commands.Request) -> None:
        query = request.command
        assert isinstance(query, commands.QueryHistory) and query.recent_events
        assert query.since is not None and now - 3700 < query.since < now - 3500
        fake_core.reply(user, request, ok=True, result={"sightings": [], "events": events})

    fake_core.on_request = core_side
    cfg = gui_config(tmp_path, core_key, srs_broker, recent_history_s=3600)
    creds = Credentials(srs_broker.host, srs_broker.port, OPERATOR, operator_password(srs_broker))
    worker = build_worker(cfg, creds)
    win = MainWindow(cfg.gui, worker)
    qtbot.addWidget(win)
    worker.start()
    qtbot.waitUntil(lambda: worker.state == mw.CONNECTED, timeout=10_000)
    qtbot.waitUntil(lambda: win.events.rowCount() == 2, timeout=5_000)
    rows = win.events.rows()
    assert [r.kind for r in rows] == ["alert", "enter"]
    assert rows[1].detail == "entered Lab (restricted)"  # the zone by its name
    assert win.banner.isVisibleTo(win) and "entered restricted zone" in win.banner.text.text()
    assert len(fake_core.requests) == 1  # asked once
