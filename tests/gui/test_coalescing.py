"""A burst of positions is applied once per frame, latest per person (no timing asserted)."""

from __future__ import annotations

import time

from gui.floorplan import scene
from gui.main_window import MainWindow
from srs.wire import sign, topics
from tests.gui.helpers import FakeCore, position


def test_burst_is_coalesced_to_the_latest_position_per_person(
    qtbot, window: MainWindow, fake_core: FakeCore
) -> None:
    worker = window.worker
    assert worker is not None
    window._frame.stop()  # frames are driven by hand below
    people, rounds = 50, 10
    signed = [
        (
            topics.position(f"p{n}"),
            sign(
                position(f"p{n}", n * 0.2, r * 0.5, label=f"P{n}"),
                topics.position(f"p{n}"),
                fake_core.key,
            ),
        )
        for r in range(rounds)
        for n in range(people)
    ]
    start = time.perf_counter()
    for topic, data in signed:  # 500 signed updates through the real broker
        fake_core.client.publish(topic, data, qos=0)
    qtbot.waitUntil(lambda: worker.inbox.accepted >= people * rounds, timeout=20_000)
    received = time.perf_counter() - start
    window.tick()  # one frame applies only the latest position of each person
    assert len(window.plan.markers) == people and window.people.rowCount() == people
    assert window.plan.markers["p42"].target == scene(42 * 0.2, (rounds - 1) * 0.5)
    assert worker.take_positions() == {}  # drained by the frame
    start = time.perf_counter()
    for _ in range(30):
        window.tick()
    frames = time.perf_counter() - start
    print(
        f"\n500 signed positions received+verified in {received * 1000:.0f} ms; "
        f"30 frames with {people} gliding markers in {frames * 1000:.0f} ms (noisy, shared CPU)"
    )
