"""Operator actions without widgets: image encoding for enrolment, history parsing."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QImage

from gui.timeline import NO_ZONES, EventRow, event_from
from gui.wording import evidence_note, zone_name
from srs.wire import commands, payloads

ACTION_NAMES = {
    "register_key": "sign-in key",
    "name_identity": "name person",
    "merge_people": "merge",
    "reject_sighting": "not this person",
    "enrol_person": "enrol",
    "set_camera_enabled": "camera on/off",
    "query_history": "history search",
    "list_people": "list people",
    "split_identity": "not this person (split off)",
    "get_faces": "faces",
}


def image_b64(path: Path, limit: int = commands.MAX_IMAGE_B64) -> str:
    """The image as base64 JPEG within ``limit`` characters (downscaled when needed).

    Raises ValueError with a sentence when the file is not an image.
    """
    image = QImage(str(path))
    if image.isNull():
        raise ValueError(f"{path.name} is not an image Qt can read")
    quality = 90
    for _ in range(12):
        data = QByteArray()
        buf = QBuffer(data)
        buf.open(QIODevice.OpenModeFlag.WriteOnly)
        image.save(buf, "JPEG", quality)  # type: ignore[call-overload]
        text = base64.b64encode(bytes(data.data())).decode("ascii")
        if len(text) <= limit:
            return text
        # Shrink in proportion to the overshoot; faces stay recognisable down to ~160 px.
        factor = max(0.5, min(0.9, (limit / len(text)) ** 0.5))
        image = image.scaled(
            max(1, int(image.width() * factor)),
            max(1, int(image.height() * factor)),
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        quality = max(60, quality - 5)
    raise ValueError(f"{path.name} could not be made small enough to send")


def enrol_command(name: str, paths: list[Path]) -> commands.EnrolPerson:
    if not paths:
        raise ValueError("choose at least one photo")
    if len(paths) > commands.MAX_ENROL_IMAGES:
        raise ValueError(f"choose at most {commands.MAX_ENROL_IMAGES} photos")
    return commands.EnrolPerson(name=name, images_jpeg_b64=[image_b64(p) for p in paths])


def history_rows(result: Any, zones: Mapping[str, str] = NO_ZONES) -> list[EventRow]:
    """Timeline rows from a query_history result (a list, or a dict holding one).

    Each item is read as a Sighting, ZoneEvent or Alert; items of other shapes are
    skipped so one odd row cannot hide the rest.
    """
    items: Any = result
    if isinstance(result, dict):
        items = next(
            (
                result[k]
                for k in ("events", "sightings", "items", "rows")
                if isinstance(result.get(k), list)
            ),
            [],
        )
    rows = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        row = _core_sighting(item, zones)
        if row is not None:
            rows.append(row)
            continue
        for model in (payloads.Sighting, payloads.ZoneEvent, payloads.Alert):
            try:
                rows.append(event_from(model.model_validate(item), zones))
                break
            except ValidationError:
                continue
    return rows


def _core_sighting(item: dict[str, Any], zones: Mapping[str, str]) -> EventRow | None:
    """A row of core's history answer (store.query_sightings: id, seen_at, camera_id...)."""
    try:
        at, camera, sid = float(item["seen_at"]), str(item["camera_id"]), item.get("id")
    except (KeyError, TypeError, ValueError):
        return None
    key = item.get("person_key")
    zone = item.get("zone")
    distance = item.get("distance")
    evidence, age, candidate = (item.get(k) for k in ("evidence", "evidence_age_s", "candidate"))
    note = evidence_note(
        evidence if isinstance(evidence, str) else None,
        float(age) if isinstance(age, int | float) else None,
        str(candidate)[:128] if isinstance(candidate, str) else None,
    )
    detail = (
        " ".join(
            part
            for part in (
                f"seen in {zone_name(zone, zones)}" if isinstance(zone, str) and zone else "seen",
                str(item.get("kind") or ""),
                f"distance {distance:.2f}" if isinstance(distance, int | float) else "",
            )
            if part
        )
        + note
    )
    return EventRow(
        at,
        "sighting",
        key if isinstance(key, str) else None,
        str(item.get("label") or key or "Unidentified")[:128],
        camera[:64],
        detail,
        sid if isinstance(sid, int) and not isinstance(sid, bool) else None,
        str(item.get("identity") or "") or None,
    )


def outcome(command: Any, result: Any) -> str:
    """A short sentence for a successful answer (the result shapes of core/commands.py)."""
    r = result if isinstance(result, dict) else {}
    if isinstance(command, commands.NameIdentity | commands.MergePeople) and r.get("name"):
        return f"now {r['name']} ({r.get('person_key', '?')})"
    if isinstance(command, commands.EnrolPerson) and r.get("name"):
        problems = r.get("problems") if isinstance(r.get("problems"), list) else []
        skipped = f"; {len(problems)} photo(s) without a usable face" if problems else ""
        return f"{r['name']} enrolled from {r.get('encoded', '?')} photo(s){skipped}"
    if isinstance(command, commands.SetCameraEnabled):
        return f"camera {command.camera_id} {'enabled' if command.enabled else 'disabled'}"
    if isinstance(command, commands.QueryHistory):
        return f"{len(result) if isinstance(result, list) else 'some'} event(s)"
    return "done"


def describe(command: Any) -> str:
    action = getattr(command, "action", "")
    return ACTION_NAMES.get(action, action or "request")
