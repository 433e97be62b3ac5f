"""The alert banner: one line per incident, acknowledge one or all."""

from __future__ import annotations

from gui.alerts import AlertBanner
from srs.wire import payloads


def alert(n: int, person: str = "u3", kind: str = "unknown_in_restricted") -> payloads.Alert:
    return payloads.Alert(
        alert_id=f"a{n}",
        kind=kind,  # type: ignore[arg-type]
        severity="critical" if kind == "unknown_in_restricted" else "warning",
        message=f"{person} entered restricted zone 'Lab' ({n})",
        at=1000.0 + n,
        person_key=person if kind == "unknown_in_restricted" else None,
        zone="lab" if kind == "unknown_in_restricted" else None,
        camera_id="cam1" if kind == "camera_offline" else None,
    )


def test_a_storm_of_one_incident_is_one_group(qtbot) -> None:
    """The storm: "+29 more" acknowledged one at a time. Alerts of one person in one
    zone are one group; acknowledge all clears every group."""
    banner = AlertBanner()
    qtbot.addWidget(banner)
    for n in range(30):
        banner.add(alert(n))
    banner.add(alert(29))  # the same alert again (a redelivery): not counted twice
    assert len(banner.groups) == 1
    assert "(×30)" in banner.text.text() and "more" not in banner.text.text()
    banner.add(alert(40, person="u4"))
    banner.add(alert(41, kind="camera_offline"))
    assert len(banner.groups) == 3
    # The most severe, latest group is shown: u4's (critical, newer than u3's).
    assert "u4 entered" in banner.text.text() and "(+2 more)" in banner.text.text()
    assert banner.ack_all.isVisibleTo(banner)
    banner.ack.click()  # acknowledges u4's group only
    assert "u3 entered" in banner.text.text() and len(banner.groups) == 2
    banner.ack_all.click()
    assert not banner.groups and not banner.isVisibleTo(banner)


def test_operational_and_security_alerts_are_shown_apart(qtbot) -> None:
    """A full disk is SRS's trouble, not an intrusion: it goes to the "System" banner,
    the intruder to the "Security" one; each is acknowledged on its own. Alerts of an
    older core (no category) go by their kind."""
    from gui.alerts import AlertBanners

    banners = AlertBanners()
    qtbot.addWidget(banners)
    banners.show()
    disk = payloads.Alert(
        alert_id="d1",
        kind="store_error",
        severity="critical",
        message="core cannot write its database: disk full (database or disk is full)",
        at=1000.0,
        category="operational",
    )
    banners.add(disk)
    banners.add(alert(1))  # an unknown person in a restricted zone (no category)
    banners.add(alert(2, kind="camera_offline"))  # no category: operational by kind
    security, system = banners.security, banners.operational
    assert security.isVisible() and system.isVisible()
    assert "Security" in security.text.text() and "u3 entered" in security.text.text()
    assert "System" in system.text.text() and "disk full" in system.text.text()
    assert "(+1 more)" in system.text.text() and "disk" not in security.text.text()
    assert [a.alert_id for a in system.pending] == ["d1", "a2"]
    system.ack_all.click()
    assert not system.isVisible() and security.isVisible()
    security.ack.click()
    assert not security.isVisible()
