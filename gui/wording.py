"""How the dashboard words what core says: times, ages, zones and identity evidence.

Pure text, no widgets: every panel (tables, card, plan tooltips, banner) words a
thing the same way.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from srs.wire.payloads import CoreStatus


def clock(at: float | None) -> str:
    return time.strftime("%H:%M:%S", time.localtime(at)) if at else "—"


def age(at: float | None, now: float) -> str:
    if not at:
        return "never"
    seconds = max(0.0, now - at)
    return f"{seconds:.0f} s ago" if seconds < 120 else f"{seconds / 60:.0f} min ago"


def zone_name(zone: str | None, names: Mapping[str, str]) -> str:
    """The zone's name from the site plan ("Server room"), its id when the plan does
    not list it (or has not arrived yet), "—" for no zone."""
    if not zone:
        return "—"
    return names.get(zone, zone)


def evidence_text(
    evidence: str | None, age_s: float | None, candidate: str | None, identity: str | None
) -> str:
    """How core knows who this is, in a guard's words: "matched", "carried 4 s",
    "possibly Ada Lovelace", "unidentified" (what a bare confidence figure never said).

    An older core sends no evidence: then only the identity kind speaks."""
    if evidence == "matched":
        return "matched"
    if evidence == "carried":
        return f"carried {age_s:.0f} s" if age_s is not None else "carried"
    if evidence == "possible":
        return f"possibly {candidate}" if candidate else "possible match"
    if evidence == "unidentified" or identity == "unidentified":
        return "unidentified"
    return "—"


def evidence_note(evidence: str | None, age_s: float | None, candidate: str | None) -> str:
    """The evidence as a note after other words: " (carried 2s)", " (possibly Ada)".

    Nothing for a fresh match or when core did not say (older cores)."""
    if evidence == "carried":
        return f" (carried {age_s:.0f}s)" if age_s is not None else " (carried)"
    if evidence == "possible":
        return f" (possibly {candidate})" if candidate else " (possible)"
    return ""


ALERT_HEADINGS = {"security": "Security", "operational": "System"}


def alert_heading(category: str) -> str:
    """The heading of an alert category's banner: "Security" (people, forgery) or
    "System" (SRS's own trouble: a camera offline, the database)."""
    return ALERT_HEADINGS.get(category, category.capitalize())


def broker_drops(status: CoreStatus) -> str:
    """What the embedded broker lost, as core relays it: ", broker dropped 3 (2 over
    the size limit, 1 from a full queue)"; nothing when it lost nothing, or when no
    broker status reached core (Mosquitto, NATS, older cores)."""
    parts = [
        (status.broker_oversize_dropped, "over the size limit"),
        (status.broker_queue_dropped, "from a full queue"),
        (status.broker_retain_refused, "retained on a stream"),
    ]
    total = sum(n for n, _ in parts)
    if not total:
        return ""
    said = ", ".join(f"{n} {why}" for n, why in parts if n)
    return f", broker dropped {total} ({said})"


def broker_counts(status: CoreStatus) -> str:
    """Every broker count core relays, for a tooltip."""
    if status.broker_status_at is None:
        return "no broker status (only the embedded broker publishes one)"
    return (
        f"broker, as of {clock(status.broker_status_at)}: "
        f"{status.broker_oversize_dropped} dropped over the size limit, "
        f"{status.broker_queue_dropped} dropped from full queues "
        f"({status.broker_queue_dropped_bytes} bytes), "
        f"{status.broker_retain_refused} retained publishes refused, "
        f"{status.broker_publishes_slowed} publishes slowed, "
        f"{status.broker_connections_refused} connections refused"
    )
