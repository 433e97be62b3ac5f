"""Face crops per identity, fetched from core on demand and cached (never blocking).

Who asks for a face (the people table, a person card, the gallery, an alert banner)
gets what is cached now, or None, and the cache asks core for it
(``get_faces``, a signed operator command sent by the worker: publishing only
queues it). The answer arrives as a worker ``response`` on the GUI thread; the
few small JPEGs are decoded there (well under a millisecond) and ``changed``
names the key, so views repaint. A key is asked again after ``refresh_s`` (a
better face may have come) or, while core had none, after ``retry_s``.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QPixmap

from srs.wire import commands

# Only people (p3) and anonymous identities (u7) have stored faces.
FACE_KEY = re.compile(r"^[pu][0-9]{1,18}$")
ICON_PX = 32
# Identities whose faces are held (~250 KB of pixmaps each at most); the least
# recently answered go first, and are simply fetched again when shown again.
MAX_KEYS = 200


@dataclass(frozen=True)
class Face:
    pixmap: QPixmap
    seen_at: float
    camera_id: str
    track_id: int | None
    sighting_id: int | None


class FaceCache(QObject):
    changed = Signal(str)  # a person key whose faces arrived (or changed key)

    def __init__(
        self,
        send: Callable[[Any], object] | None = None,
        *,
        refresh_s: float = 120.0,
        retry_s: float = 10.0,
        max_inflight: int = 3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.send = send  # the worker's send (raises RuntimeError when offline)
        self.refresh_s, self.retry_s, self.max_inflight = refresh_s, retry_s, max_inflight
        self.clock = clock
        self._faces: OrderedDict[str, list[Face]] = OrderedDict()
        self._icons: dict[str, QPixmap] = {}
        self._asked: dict[str, float] = {}  # key -> when it was last asked
        self._inflight: set[str] = set()

    # --- reading (never blocks; asks core when stale) ---------------------------------

    def faces(self, key: str) -> list[Face]:
        self.ask(key)
        return self._faces.get(key, [])

    def best(self, key: str) -> QPixmap | None:
        faces = self.faces(key)
        return faces[0].pixmap if faces else None

    def icon(self, key: str) -> QPixmap | None:
        """The best face at table-icon size (scaled once per answer)."""
        if key not in self._icons:
            best = self.best(key)
            if best is None:
                return None
            self._icons[key] = best.scaled(
                ICON_PX,
                ICON_PX,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        else:
            self.ask(key)
        return self._icons[key]

    # --- asking and answers -------------------------------------------------------------

    def ask(self, key: str, *, force: bool = False) -> bool:
        """Send ``get_faces`` for ``key`` if due; True if a request went out."""
        if self.send is None or not FACE_KEY.match(key) or key in self._inflight:
            return False
        if len(self._inflight) >= self.max_inflight:
            return False
        asked = self._asked.get(key)
        wait = self.refresh_s if self._faces.get(key) else self.retry_s
        if not force and asked is not None and self.clock() - asked < wait:
            return False
        try:
            self.send(commands.GetFaces(person_key=key))
        except RuntimeError:  # not connected: the next read asks again
            return False
        self._asked[key] = self.clock()
        self._inflight.add(key)
        return True

    def on_response(self, response: commands.Response, command: Any) -> bool:
        """Take a ``get_faces`` answer; False for any other command's (not ours)."""
        if not isinstance(command, commands.GetFaces):
            return False
        key = command.person_key
        self._inflight.discard(key)
        if not response.ok:  # e.g. an identity merged away meanwhile: nothing to show
            self._faces.pop(key, None)
            self._icons.pop(key, None)
            return True
        result = response.result if isinstance(response.result, dict) else {}
        items = result.get("faces") if isinstance(result.get("faces"), list) else []
        faces = [f for f in (_face(item) for item in items or []) if f is not None]
        if faces or key not in self._faces:
            self._faces[key] = faces
            self._faces.move_to_end(key)
            self._icons.pop(key, None)
            while len(self._faces) > MAX_KEYS:
                old, _ = self._faces.popitem(last=False)
                self._icons.pop(old, None)
                self._asked.pop(old, None)
            self.changed.emit(key)
        return True

    def expired(self, command: Any) -> bool:
        """A ``get_faces`` core did not answer: forget it quietly (asked again later)."""
        if not isinstance(command, commands.GetFaces):
            return False
        self._inflight.discard(command.person_key)
        return True

    def rename(self, old: str, new: str) -> None:
        """``old`` is now ``new`` (named, merged): its faces went with its sightings."""
        if old in self._faces and new not in self._faces:
            self._faces[new] = self._faces[old]
            self.changed.emit(new)
        self._asked.pop(new, None)  # ask for the merged whole soon
        self.ask(new)


def _face(item: Any) -> Face | None:
    if not isinstance(item, dict) or not isinstance(item.get("jpeg_b64"), str):
        return None
    try:
        data = base64.b64decode(item["jpeg_b64"], validate=True)
    except (binascii.Error, ValueError):
        return None
    pixmap = QPixmap()
    if not pixmap.loadFromData(data, "JPEG"):
        return None
    seen_at, camera = item.get("seen_at"), item.get("camera_id")
    track, sighting = item.get("track_id"), item.get("sighting_id")
    return Face(
        pixmap,
        float(seen_at) if isinstance(seen_at, int | float) else 0.0,
        str(camera)[:64] if isinstance(camera, str) else "",
        track if isinstance(track, int) else None,
        sighting if isinstance(sighting, int) else None,
    )
