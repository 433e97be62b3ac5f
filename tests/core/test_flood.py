"""core.flood: one alert for a camera whose captures come too fast; none for catch-up."""

from __future__ import annotations

from core.flood import FloodWatch


def test_a_flood_raises_one_alert_naming_the_camera() -> None:
    watch = FloodWatch(max_rate=100, window=50)
    alerts = []
    for seq in range(500):  # 500 captures within 0.5 s
        alerts += watch.observe("cam7", seq, 1000.0 + seq / 1000, now=2000.0 + seq / 100)
    assert len(alerts) == 1
    assert alerts[0].kind == "camera_flood" and alerts[0].camera_id == "cam7"
    assert "cam7" in alerts[0].message and "flooding" in alerts[0].message


def test_catching_up_after_an_outage_is_not_a_flood() -> None:
    # Captured at 20/s over minutes, arriving all at once: not a flood.
    watch = FloodWatch(max_rate=100, window=50)
    alerts = []
    for seq in range(2000):
        alerts += watch.observe("cam1", seq, 1000.0 + seq / 20, now=2000.0)
    assert alerts == []


def test_re_sent_messages_do_not_count() -> None:
    watch = FloodWatch(max_rate=100, window=50)
    alerts = []
    for _ in range(20):  # the same 40 messages re-sent again and again
        for seq in range(40):
            alerts += watch.observe("cam1", seq, 1000.0, now=2000.0)
    assert alerts == []


def test_a_second_flood_alerts_again_only_after_a_quiet_spell() -> None:
    watch = FloodWatch(max_rate=100, window=10, quiet_s=60)
    seq = 0

    def send(n: int, spacing: float, now: float) -> int:
        nonlocal seq
        count = 0
        for _ in range(n):
            count += len(watch.observe("cam1", seq, 1000.0 + seq * spacing, now))
            seq += 1
        return count

    assert send(50, 0.0001, now=10) == 1
    assert send(50, 0.0001, now=20) == 0  # still the same incident
    send(20, 1.0, now=30)  # normal again...
    send(5, 1.0, now=95)  # ... for over a minute
    assert send(50, 0.0001, now=100) == 1
