"""Render the dashboard with a realistic sample state into a PNG (no broker needed).

    srs gui --screenshot docs/img/dashboard.png
    python -m gui.screenshot docs/img/dashboard.png

Uses the demo site (config/demo-site.toml) when present, else a small built-in plan,
and feeds the window the same payload types core publishes.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from gui.srs_config import SrsConfig
from srs.wire import payloads, site
from srs.wire.payloads import Evidence

DEMO_SITE = Path(__file__).resolve().parent.parent / "config" / "demo-site.toml"
# (key, identity, label, zone, cameras, path of positions in metres)
# How each sample person was identified (default "matched").
EVIDENCE: dict[str, Evidence] = {"p4": "carried", "x3": "unidentified"}
PEOPLE = [
    (
        "p1",
        "known",
        "Alice Martin",
        "corridor",
        ["corridor"],
        [(2.0, 6.6), (3.5, 6.5), (5.0, 6.4), (6.6, 6.5), (8.2, 6.6)],
    ),
    (
        "p2",
        "known",
        "Bruno Keller",
        "classroom",
        ["classroom"],
        [(3.0, 1.2), (3.3, 1.8), (3.7, 2.4), (4.0, 3.0)],
    ),
    ("p4", "known", "Chen Wei", "classroom", ["classroom"], [(5.2, 2.0), (4.5, 2.8)]),
    (
        "u7",
        "unknown",
        "Unknown 7",
        "server-room",
        ["office"],
        [(13.0, 6.2), (14.5, 5.4), (15.5, 4.2), (16.4, 3.1)],
    ),
    (
        "x3",
        "unidentified",
        "Unidentified 3",
        "corridor",
        ["corridor"],
        [(12.0, 7.2), (11.2, 7.1), (10.4, 7.0)],
    ),
]


def fallback_plan() -> site.SitePlan:
    p = site.Point
    return site.SitePlan(
        name="Sample floor",
        width_m=20,
        height_m=8,
        zones=[
            site.Zone(
                zone_id="corridor",
                name="Corridor",
                polygon=[p(x=0, y=5), p(x=20, y=5), p(x=20, y=8), p(x=0, y=8)],
            ),
            site.Zone(
                zone_id="classroom",
                name="Classroom",
                polygon=[p(x=0, y=0), p(x=8, y=0), p(x=8, y=5), p(x=0, y=5)],
            ),
            site.Zone(
                zone_id="server-room",
                name="Server room",
                restricted=True,
                polygon=[p(x=14, y=0), p(x=20, y=0), p(x=20, y=5), p(x=14, y=5)],
            ),
        ],
        cameras=[
            site.CameraPose(camera_id="corridor", x=0.5, y=6.5, yaw_deg=0, hfov_deg=50),
            site.CameraPose(camera_id="classroom", x=4, y=4.9, yaw_deg=-90),
            site.CameraPose(camera_id="office", x=17, y=4.9, yaw_deg=-90),
        ],
    )


def load_plan() -> site.SitePlan:
    if DEMO_SITE.exists():
        try:
            from core.site import load_site  # only to read the file; live data is MQTT

            return load_site(DEMO_SITE).plan
        except (ImportError, ValueError, OSError):
            pass
    return fallback_plan()


def render(path: Path, cfg: SrsConfig | None = None) -> Path:
    """Build the window offscreen with the sample state and save it as PNG."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from gui.config import GuiConfig
    from gui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    window = MainWindow(cfg.gui if cfg else GuiConfig())
    feed(window, load_plan(), time.time())
    window.resize(1500, 860)
    window.show()
    for _ in range(5):
        app.processEvents()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(path)):
        raise OSError(f"could not write {path}")
    window.close()
    window.deleteLater()
    app.processEvents()
    return path


def feed(window: object, plan: site.SitePlan, now: float) -> None:
    """Give ``window`` (a MainWindow) a plausible few minutes of a school day."""
    from gui.main_window import MainWindow

    assert isinstance(window, MainWindow)
    window.on_site(plan)
    cams = [c.camera_id for c in plan.cameras]
    for i, camera_id in enumerate(cams):
        silent = i == len(cams) - 1 and len(cams) > 2  # one camera went quiet
        window.cameras.update_status(
            payloads.CameraStatus(
                camera_id=camera_id,
                state="online",
                sent_at=now - (95 if silent else 4),
                fps=0 if silent else 9.6 - i * 0.7,
                outbox_depth=0 if i else 2,
                frames_analysed=1800 + 97 * i,
            ),
            now,
        )
    zones = {z.zone_id for z in plan.zones}
    for key, identity, label, zone, cameras, path in PEOPLE:
        cams_seen = [c for c in cameras if c in cams] or cams[:1]
        for j, (x, y) in enumerate(path):
            pos = payloads.PersonPosition(
                person_key=key,
                identity=identity,  # type: ignore[arg-type]
                label=label,
                x=x,
                y=y,
                zone=zone if zone in zones else None,
                confidence=0.8,
                last_seen=now - 2 * (len(path) - j),
                cameras=cams_seen,
                evidence=EVIDENCE.get(key, "matched"),
                evidence_age_s=3.0 if key == "p4" else None,
            )
            window.people.apply([pos])
            window.plan.apply_positions([pos])
            for _ in range(12):
                window.plan.step()
    window.on_sightings(
        payloads.SightingBatch(
            sightings=[
                payloads.Sighting(
                    person_key=key,
                    identity=identity,  # type: ignore[arg-type]
                    label=label,
                    camera_id=next((c for c in cameras if c in cams), cams[0]),
                    seen_at=now - 170 + 17 * i,
                    sighting_id=900 + i,
                    distance=0.38 if identity == "known" else None,
                    zone=zone if zone in zones else None,
                )
                for i, (key, identity, label, zone, cameras, _) in enumerate(PEOPLE * 2)
            ]
        )
    )
    restricted = {z.zone_id for z in plan.zones if z.restricted}
    for i, (key, identity, label, zone, _, _) in enumerate(PEOPLE):
        if zone in zones and zone not in restricted:
            window.on_event(
                payloads.ZoneEvent(
                    person_key=key,
                    identity=identity,  # type: ignore[arg-type]
                    label=label,
                    zone=zone,
                    action="enter",
                    at=now - 160 + 13 * i,
                    restricted=False,
                )
            )
    window.on_event(
        payloads.ZoneEvent(
            person_key="u7",
            identity="unknown",
            label="Unknown 7",
            zone="server-room",
            action="enter",
            at=now - 6,
            restricted=True,
        )
    )
    window.on_alert(
        payloads.Alert(
            alert_id="a-1",
            kind="unknown_in_restricted",
            severity="critical",
            at=now - 5,
            message="Unknown 7 entered Server room (restricted) — seen by office",
            person_key="u7",
            zone="server-room",
        )
    )
    window.on_core_status(
        payloads.CoreStatus(state="online", sent_at=now, received=5230, accepted=5228, matched=4121)
    )
    window.on_state("connected", "signed in as security-desk (sample state)")
    window.people_panel.view.resizeColumnsToContents()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else Path("docs/img/dashboard.png")
    print(f"wrote {render(target)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
