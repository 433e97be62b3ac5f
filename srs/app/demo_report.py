"""What ``srs demo`` showed, read from the store after every process stopped.

Counts come from SQL aggregates over all stored sightings (no row limit), so a
busy camera cannot hide a quiet one. The story (README.md, "What the demo
shows") is checked here: someone named by recognition, the stranger as one
anonymous identity on both door cameras, at most one alert per restricted stay.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from srs.app.config import SrsConfig


@dataclass
class Identity:
    key: str  # p3 / u7
    label: str
    cameras: set[str] = field(default_factory=set)
    sightings: int = 0
    matched: int = 0  # sightings whose identity its own encodings established

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "cameras": sorted(self.cameras),
            "sightings": self.sightings,
            "matched": self.matched,
        }


def read_store(cfg: SrsConfig) -> dict[str, Any]:
    """Per-camera counts, every identity seen, and who was placed in which zone."""
    from sqlalchemy import func, select

    from core.store import open_store
    from core.store.models import Person, Sighting

    db = open_store(cfg)
    try:
        with db.session() as s:
            by_camera = {
                str(cam): int(n)
                for cam, n in s.execute(
                    select(Sighting.camera_id, func.count()).group_by(Sighting.camera_id)
                )
            }
            # (dict(result) would take a Result for a mapping: it has keys())
            names = {int(i): str(n) for i, n in s.execute(select(Person.id, Person.name))}
            grouped = s.execute(
                select(
                    Sighting.person_id,
                    Sighting.unknown_id,
                    Sighting.camera_id,
                    Sighting.evidence,
                    func.count(),
                ).group_by(
                    Sighting.person_id, Sighting.unknown_id, Sighting.camera_id, Sighting.evidence
                )
            )
            identities: dict[str, Identity] = {}
            for person_id, unknown_id, camera, evidence, n in grouped:
                if person_id is not None:
                    key, label = f"p{person_id}", names.get(person_id, f"p{person_id}")
                elif unknown_id is not None:
                    key, label = f"u{unknown_id}", f"Unknown {unknown_id}"
                else:
                    continue
                ident = identities.setdefault(key, Identity(key, label))
                ident.cameras.add(camera)
                ident.sightings += n
                ident.matched += n if evidence == "matched" else 0
            zones = s.execute(
                select(Sighting.zone, Sighting.person_id, Sighting.unknown_id)
                .where(Sighting.zone.is_not(None))
                .distinct()
            )
            by_zone: dict[str, set[str]] = {}
            for zone, person_id, unknown_id in zones:
                if person_id is not None:
                    label = names.get(person_id, f"p{person_id}")
                elif unknown_id is not None:
                    label = f"Unknown {unknown_id}"
                else:
                    label = "Unidentified"
                by_zone.setdefault(str(zone), set()).add(label)
    finally:
        db.close()
    return {
        "sightings_by_camera": by_camera,
        "identities": {k: v.as_dict() for k, v in identities.items()},
        "people_by_zone": {z: sorted(p) for z, p in by_zone.items()},
    }


def story(
    store: dict[str, Any],
    live: dict[str, Any],
    stranger_cameras: tuple[str, str],
    named_by_guard: dict[str, str],
) -> dict[str, Any]:
    """The story's three claims, each with the evidence behind it.

    ``stranger_cameras``: the camera that sees only the stranger, then the one that
    sees him with the enrolled woman. ``named_by_guard``: person key -> the
    anonymous key a guard named (so a name given by hand is not counted as one
    earned by recognition).
    """
    identities = [dict(v) for v in store["identities"].values()]
    recognised = [
        i
        for i in identities
        if i["key"].startswith("p") and i["matched"] and i["key"] not in named_by_guard
    ]
    only_stranger, both = stranger_cameras
    stranger = [i for i in identities if only_stranger in i["cameras"]]
    one_stranger = (
        len(stranger) == 1
        and both in stranger[0]["cameras"]
        and (stranger[0]["key"].startswith("u") or stranger[0]["key"] in named_by_guard)
    )
    alerts = live.get("alerts_by_person", {})
    stays = live.get("stays_by_person", {})
    extra = {k: n - stays.get(k, 0) for k, n in alerts.items() if n > stays.get(k, 0)}
    return {
        "named_by_recognition": [i["label"] for i in recognised],
        # label -> the cameras whose sightings of that person were stored by name
        "recognised_on": {i["label"]: i["cameras"] for i in recognised},
        "stranger_identities": stranger,
        "stranger_one_identity_on_both": one_stranger,
        "named_by_guard": named_by_guard,
        "alerts_beyond_one_per_stay": extra,
        "complete": bool(recognised) and one_stranger and not extra,
    }


def format_story(st: dict[str, Any], stranger_cameras: Iterable[str]) -> list[str]:
    cams = " and ".join(stranger_cameras)
    lines = []
    named = st["named_by_recognition"]
    where = st.get("recognised_on", {})
    lines.append(
        "named by recognition: "
        + "; ".join(f"{n} (on {', '.join(where[n])})" if where.get(n) else n for n in named)
        if named
        else "named by recognition: nobody (the badge-enrolled woman was not named)"
    )
    idents = st["stranger_identities"]
    if st["stranger_one_identity_on_both"]:
        i = idents[0]
        was = st["named_by_guard"].get(i["key"])
        who = f"{i['label']} (was {was}, named by the guard)" if was else i["label"]
        lines.append(f"the stranger: one identity on {cams}: {who}")
    else:
        found = "; ".join(f"{i['label']} on {', '.join(i['cameras'])}" for i in idents) or "none"
        lines.append(f"the stranger: NOT one identity on {cams} ({found})")
    extra = st["alerts_beyond_one_per_stay"]
    lines.append(
        "alerts: at most one per restricted-zone stay"
        if not extra
        else f"alerts: more than one per stay for {', '.join(sorted(extra))}"
    )
    lines.append("story: complete" if st["complete"] else "story: INCOMPLETE (see above)")
    return lines
