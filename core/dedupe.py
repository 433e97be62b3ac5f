"""Which verified messages are new: (camera, seq) pairs the store does not hold yet.

Cameras number their messages upwards, so nearly every message is above the highest
sequence number stored for its camera and needs no query; only re-sends and
out-of-order messages are looked up (by the unique key). Core is the single writer
of ``processed_messages``, so what it remembers of a camera's top stays true until
a batch fails to store (then :meth:`Dedupe.forget` and the next batch asks again).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select, tuple_

from core.store.db import Database
from core.store.models import ProcessedMessage

Key = tuple[str, int]  # (camera id, seq)


class Dedupe:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._top_seq: dict[str, int] = {}  # highest sequence number stored per camera

    def stored(self, keys: set[Key]) -> set[Key]:
        """Which of ``keys`` the store already holds (a read transaction only when a
        camera is new to this process or a key is not above its camera's top)."""
        cams = {c for c, _ in keys} - self._top_seq.keys()
        doubtful = {(c, n) for c, n in keys if c in self._top_seq and n <= self._top_seq[c]}
        if not cams and not doubtful:
            return set()
        with self.db.session() as s:
            for cam in cams:
                top = s.scalar(
                    select(func.max(ProcessedMessage.seq)).where(ProcessedMessage.camera_id == cam)
                )
                self._top_seq[cam] = -1 if top is None else top
            doubtful = {(c, n) for c, n in keys if n <= self._top_seq[c]}
            if not doubtful:
                return set()
            pair = tuple_(ProcessedMessage.camera_id, ProcessedMessage.seq)
            found = select(ProcessedMessage.camera_id, ProcessedMessage.seq).where(
                pair.in_(doubtful)
            )
            return {(c, n) for c, n in s.execute(found)}

    def committed(self, keys: Iterable[Key]) -> None:
        """These keys are stored now."""
        for cam, seq in keys:
            self._top_seq[cam] = max(self._top_seq.get(cam, -1), seq)

    def forget(self) -> None:
        """A batch failed: ask the store again next time."""
        self._top_seq.clear()
