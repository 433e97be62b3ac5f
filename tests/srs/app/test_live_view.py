"""The terminal live view believes only what verifies, and a camera only about itself."""

from __future__ import annotations

import time
from types import SimpleNamespace

from srs.app.live_view import LiveView
from srs.config import MqttConfig, SecurityConfig
from srs.wire import SigningKey, sign, topics
from srs.wire.payloads import CameraStatus, Evidence, PersonPosition

CORE = SigningKey.generate(topics.CORE_SENDER)
HALL = SigningKey.generate(topics.camera_issuer("hall"))


def view() -> LiveView:
    keys = {CORE.issuer: CORE.public_key, HALL.issuer: HALL.public_key}
    return LiveView(MqttConfig(), SecurityConfig(), keys.get, "live-test")


def deliver(live: LiveView, topic: str, data: bytes) -> None:
    live._on_message(None, None, SimpleNamespace(topic=topic, payload=data, retain=False))  # type: ignore[arg-type]


def status(camera_id: str, state: str = "online") -> CameraStatus:
    return CameraStatus(camera_id=camera_id, state=state, sent_at=time.time())  # type: ignore[arg-type]


def test_a_verified_status_and_position_are_shown() -> None:
    live = view()
    topic = topics.camera_status("hall")
    deliver(live, topic, sign(status("hall"), topic, HALL))
    where = topics.position("p1")
    pos = PersonPosition(
        person_key="p1", identity="known", label="Ada", x=1, y=2, zone="hall",
        confidence=0.9, last_seen=time.time(), cameras=["hall"],
    )  # fmt: skip
    deliver(live, where, sign(pos, where, CORE))
    assert set(live.state.cameras) == {"hall"} and set(live.state.positions) == {"p1"}
    assert not live.state.refused


def test_forged_messages_are_refused() -> None:
    live = view()
    intruder = SigningKey.generate(topics.camera_issuer("hall"))
    topic = topics.camera_status("hall")
    deliver(live, topic, sign(status("hall", "offline"), topic, intruder))
    deliver(live, topic, sign(status("corridor", "offline"), topic, HALL))  # hall for another
    assert live.state.cameras == {}
    assert live.state.refused == {"bad_signature": 1, "wrong_topic": 1}


def test_fresh_encodings_are_counted_per_anonymous_identity_and_camera() -> None:
    live = view()
    where = topics.position("u1")
    start = time.time()
    views: tuple[Evidence, ...] = ("matched", "carried", "matched", "matched")
    for i, evidence in enumerate(views):
        pos = PersonPosition(
            person_key="u1", identity="unknown", label="Unknown 1", x=1, y=2, zone="hall",
            confidence=0.6, last_seen=start + i, cameras=["hall"], evidence=evidence,
        )  # fmt: skip
        deliver(live, where, sign(pos, where, CORE))
    # the same position again (a retained copy, a resend) is not a new encoding
    deliver(live, where, sign(pos, where, CORE))
    assert live.state.encoded_by("hall", 3) == ["u1"]
    assert live.state.encoded_by("hall", 4) == []
    assert live.state.encoded_by("corridor") == []
