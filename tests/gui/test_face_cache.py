"""The face cache without a broker: asks when due, never twice at once, bounded."""

from __future__ import annotations

import base64
from typing import Any

from gui import face_cache
from gui.face_cache import FaceCache
from srs.wire import commands
from tests.gui.test_faces import kit_crop


def answer(key: str, faces: list[dict[str, Any]], ok: bool = True) -> commands.Response:
    return commands.Response(
        request_id="r", ok=ok, result={"person_key": key, "faces": faces} if ok else None
    )


def test_asks_when_due_and_only_for_identities_with_faces(qtbot) -> None:
    sent: list[Any] = []
    now = [0.0]
    cache = FaceCache(sent.append, refresh_s=100, retry_s=10, clock=lambda: now[0])
    assert cache.best("u3") is None and cache.best("t-cam1-4") is None
    assert [c.person_key for c in sent] == ["u3"]  # unidentified tracks have no faces
    assert cache.best("u3") is None and len(sent) == 1  # in flight: not asked twice
    crop = {"jpeg_b64": kit_crop(), "seen_at": 1.0, "camera_id": "c", "track_id": 2}
    with qtbot.waitSignal(cache.changed) as got:
        assert cache.on_response(answer("u3", [crop]), sent[0])
    assert got.args == ["u3"]
    best = cache.best("u3")
    assert best is not None and best.width() == 112 and len(sent) == 1
    icon = cache.icon("u3")
    assert icon is not None and icon.width() == face_cache.ICON_PX
    now[0] = 101.0
    cache.best("u3")
    assert len(sent) == 2  # refreshed: a better face may have come
    assert not cache.on_response(answer("x", []), commands.ListPeople())  # not ours


def test_garbage_is_skipped_and_the_cache_stays_bounded(qtbot, monkeypatch) -> None:
    monkeypatch.setattr(face_cache, "MAX_KEYS", 3)
    sent: list[Any] = []
    cache = FaceCache(sent.append, max_inflight=100)
    junk: list[Any] = [{"jpeg_b64": "%%"}, {"jpeg_b64": base64.b64encode(b"xx").decode()}, "nope"]
    for i in range(5):
        key = f"u{i}"
        cache.best(key)
        cache.on_response(answer(key, [*junk, {"jpeg_b64": kit_crop()}]), sent[-1])
        assert len(cache.faces(key)) == 1
    assert len(cache._faces) == 3 and "u0" not in cache._faces
    cache.on_response(answer("u4", [], ok=False), commands.GetFaces(person_key="u4"))
    assert "u4" not in cache._faces
