"""The headless live view as text: who is where, cameras, counters, recent alerts.

Named people come first, then anonymous identities ("Unknown 7"); people nobody
could identify (no usable encoding yet) are grouped into one row per zone, since
rows of "Unidentified" tell a guard nothing apart.
"""

from __future__ import annotations

import time
from collections import Counter

from srs.app.live_view import LiveState
from srs.wire.payloads import PersonPosition

ALERTS_SHOWN = 5
_ORDER = {"known": 0, "unknown": 1, "unidentified": 2}


def _ago(t: float, now: float) -> str:
    d = max(0.0, now - t)
    return f"{d:.0f} s ago" if d < 120 else f"{d / 60:.0f} min ago"


def _evidence(p: PersonPosition) -> str:
    """How sure the name is, as the dashboard words it (docs/mqtt.md, "Evidence")."""
    if p.evidence == "carried" and p.evidence_age_s is not None:
        return f"carried {p.evidence_age_s:.0f} s"
    if p.evidence == "possible" and p.candidate:
        return f"possibly {p.candidate}"
    return p.evidence or p.identity


def people_rows(positions: list[PersonPosition], now: float) -> list[str]:
    """One row per named or anonymous person, then one per zone of unidentified ones."""
    ranked = sorted(positions, key=lambda p: (_ORDER[p.identity], p.label.lower(), p.person_key))
    rows = []
    for p in ranked:
        if p.identity == "unidentified":
            continue
        where = f"{p.x:5.1f},{p.y:5.1f}"
        rows.append(
            f"{p.label[:22]:<22} {_evidence(p)[:16]:<16} {(p.zone or '-')[:16]:<16} "
            f"{where:<13} {','.join(p.cameras)[:20]:<20} {_ago(p.last_seen, now)}"
        )
    unidentified = Counter(p.zone or "-" for p in positions if p.identity == "unidentified")
    cams: dict[str, set[str]] = {}
    latest: dict[str, float] = {}
    for p in positions:
        if p.identity == "unidentified":
            zone = p.zone or "-"
            cams.setdefault(zone, set()).update(p.cameras)
            latest[zone] = max(latest.get(zone, 0.0), p.last_seen)
    for zone, n in sorted(unidentified.items()):
        who = f"{n} unidentified"
        rows.append(
            f"{who:<22} {'no usable face':<16} {zone[:16]:<16} {'':<13} "
            f"{','.join(sorted(cams[zone]))[:20]:<20} {_ago(latest[zone], now)}"
        )
    return rows or ["(nobody placed yet)"]


def render(state: LiveState, now: float, title: str = "SRS") -> str:
    """The table of who is where, cameras and counters, as plain text."""
    latency = state.latency_percentiles()
    with state.lock:
        positions = list(state.positions.values())
        cameras = dict(state.cameras)
        seen = dict(state.camera_seen)
        core = state.core
        alerts = list(state.alerts)
        refused = sum(state.refused.values())
    lines = [
        f"{title} - {time.strftime('%H:%M:%S', time.localtime(now))}",
        "",
        f"{'WHO':<22} {'HOW SURE':<16} {'ZONE':<16} {'X,Y (m)':<13} {'CAMERAS':<20} LAST SEEN",
        *people_rows(positions, now),
        "",
        f"{'CAMERA':<14} {'STATE':<8} {'FPS':>5} {'ANALYSED':>9} {'OUTBOX':>7}",
    ]
    for cam_id, c in sorted(cameras.items()):
        silent = now - seen.get(cam_id, 0) > 3 * c.heartbeat_interval_s
        state_text = "offline" if c.state == "offline" or silent else "online"
        lines.append(
            f"{cam_id:<14} {state_text:<8} {c.fps:5.1f} {c.frames_analysed:>9} {c.outbox_depth:>7}"
        )
    if core is not None:
        rejected = sum(core.rejected.values())
        lines += [
            "",
            f"core: received {core.received}  accepted {core.accepted}  "
            f"duplicates {core.duplicates}  rejected {rejected}  matched "
            f"{core.matched}  unknown {core.unknown}",
        ]
    if latency is not None:
        lines.append(
            f"latency camera -> screen: p50 {latency[0]:.0f} ms, p99 {latency[1]:.0f} ms "
            "(frame captured -> position shown here)"
        )
    if refused:
        lines.append(f"view: {refused} message(s) failed verification and were ignored")
    if alerts:
        lines.append(f"alerts: {len(alerts)} (latest {min(len(alerts), ALERTS_SHOWN)} below)")
    for a in alerts[-ALERTS_SHOWN:]:
        lines.append(f"ALERT {time.strftime('%H:%M:%S', time.localtime(a.at))} {a.message}")
    return "\n".join(lines)
