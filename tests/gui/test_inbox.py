"""The inbox on its own: what is accepted, held, or refused (and why)."""

from __future__ import annotations

import time

import pytest

from gui.core_key import CoreKey
from gui.inbox import Inbox, Message
from srs.config import SecurityConfig
from srs.wire import SigningKey, commands, payloads, sign, topics
from srs.wire.topics import TopicKind
from tests.gui.helpers import position

SEC = SecurityConfig()


def inbox(pinned: SigningKey | None) -> Inbox:
    key = CoreKey(pinned.public_key if pinned else None, SEC)
    return Inbox(key, SEC, "alice-op")


def test_core_messages_are_verified_and_typed() -> None:
    core = SigningKey.generate("core")
    box = inbox(core)
    topic = topics.position("p1")
    [msg] = box.accept(topic, sign(position("p1", 1, 2), topic, core))
    assert msg.kind is TopicKind.POSITION and msg.subject == "p1"
    assert box.accepted == 1 and box.dropped_total == 0


@pytest.mark.parametrize(
    ("topic", "make", "reason"),
    [
        ("srs/v1/nowhere", lambda core: b"x", "bad_topic"),
        (topics.position("p1"), lambda core: b"x" * (SEC.max_payload_bytes + 1), "oversize"),
        (
            topics.position("p1"),
            lambda core: sign(
                position("p1", 0, 0), topics.position("p1"), core, audience="another-site"
            ),
            "wrong_audience",
        ),
        (
            topics.position("p1"),
            lambda core: sign(position("p2", 0, 0), topics.position("p2"), core),
            "wrong_topic",
        ),
        (
            topics.response("mallory"),
            lambda core: sign(
                commands.Response(request_id="r", ok=True), topics.response("mallory"), core
            ),
            "bad_topic",
        ),
        # The sightings topic carries a list: a lone Sighting (the old shape) is refused.
        (
            topics.sightings(),
            lambda core: sign(
                payloads.Sighting(
                    person_key="p1",
                    identity="known",
                    label="Alice",
                    camera_id="cam1",
                    seen_at=time.time(),
                ),
                topics.sightings(),
                core,
            ),
            "invalid_payload",
        ),
    ],
)
def test_refusals_are_counted_with_their_reason(topic, make, reason) -> None:
    core = SigningKey.generate("core")
    box = inbox(core)
    assert box.accept(topic, make(core)) == []
    assert box.dropped[reason] == 1 and box.last_drop


def vouch(box: Inbox, core: SigningKey, cam: SigningKey, camera_id: str) -> list[Message]:
    """Core's signed word for a camera's key, as core publishes it."""
    topic = topics.camera_key(camera_id)
    announce = payloads.PublicKey(sender=cam.issuer, public_key=cam.public_key_b64)
    return box.accept(topic, sign(announce, topic, core))


def test_camera_status_must_name_its_own_camera_and_deployment() -> None:
    core = SigningKey.generate("core")
    box = inbox(core)
    cam = SigningKey.generate(topics.camera_issuer("cam1"))
    [vouched] = vouch(box, core, cam, "cam1")
    assert (vouched.kind, vouched.subject) == (TopicKind.CAMERA_KEY, "cam1")
    topic = topics.camera_status("cam1")
    good = payloads.CameraStatus(camera_id="cam1", state="online", sent_at=time.time())
    [msg] = box.accept(topic, sign(good, topic, cam))
    assert msg.payload == good
    other = SigningKey.generate(topics.camera_issuer("cam2"))  # cam2 on cam1's topic
    assert box.accept(topic, sign(good, topic, other)) == []
    assert box.accept(topic, sign(good, topic, cam, audience="elsewhere")) == []
    cam2_status = payloads.CameraStatus(camera_id="cam2", state="online", sent_at=time.time())
    assert box.accept(topic, sign(cam2_status, topic, cam)) == []
    assert box.dropped["bad_signature"] == 1 and box.dropped["wrong_audience"] == 1
    assert box.dropped["wrong_topic"] == 1


def test_a_forged_camera_status_is_refused() -> None:
    core = SigningKey.generate("core")
    box = inbox(core)
    vouch(box, core, SigningKey.generate(topics.camera_issuer("cam1")), "cam1")
    forger = SigningKey.generate(topics.camera_issuer("cam1"))  # right name, wrong key
    topic = topics.camera_status("cam1")
    status = payloads.CameraStatus(camera_id="cam1", state="online", sent_at=time.time())
    assert box.accept(topic, sign(status, topic, forger)) == []
    assert box.dropped["bad_signature"] == 1 and box.accepted == 1  # only core's word


def test_camera_status_waits_for_the_key_core_vouches_for() -> None:
    core = SigningKey.generate("core")
    box = inbox(core)
    cam = SigningKey.generate(topics.camera_issuer("cam1"))
    topic = topics.camera_status("cam1")
    old = payloads.CameraStatus(camera_id="cam1", state="offline", sent_at=time.time())
    new = payloads.CameraStatus(camera_id="cam1", state="online", sent_at=time.time())
    assert box.accept(topic, sign(old, topic, cam)) == []
    assert box.accept(topic, sign(new, topic, cam)) == []  # only the latest is kept
    [vouched, released] = vouch(box, core, cam, "cam1")
    assert vouched.kind is TopicKind.CAMERA_KEY
    assert released.payload == new and box.dropped_total == 0
    # Withdrawn (camera removed or disabled): the dashboard is told, and its statuses
    # wait again.
    [withdrawn] = box.accept(topics.camera_key("cam1"), b"")
    assert (withdrawn.kind, withdrawn.payload, withdrawn.subject) == (
        TopicKind.CAMERA_KEY,
        None,
        "cam1",
    )
    assert box.accept(topic, sign(new, topic, cam)) == []


def test_a_camera_key_must_come_from_core_for_that_camera() -> None:
    core = SigningKey.generate("core")
    box = inbox(core)
    cam = SigningKey.generate(topics.camera_issuer("cam1"))
    assert vouch(box, SigningKey.generate("core"), cam, "cam1") == []  # not core's key
    assert box.dropped["bad_signature"] == 1
    assert vouch(box, core, cam, "cam2") == []  # cam1's key on cam2's topic
    assert box.dropped["wrong_issuer"] == 1
    topic = topics.camera_status("cam2")
    status = payloads.CameraStatus(camera_id="cam2", state="online", sent_at=time.time())
    assert box.accept(topic, sign(status, topic, cam)) == []  # still waiting for a key


def test_without_a_pinned_key_core_state_waits_for_the_key() -> None:
    core = SigningKey.generate("core")
    box = inbox(None)
    topic = topics.position("p1")
    assert box.accept(topic, sign(position("p1", 1, 1), topic, core)) == []
    key_topic = topics.key("core")
    announce = payloads.PublicKey(sender="core", public_key=core.public_key_b64)
    released = box.accept(key_topic, sign(announce, key_topic, core))
    assert [m.kind for m in released] == [TopicKind.POSITION]
    # A different key later is refused for the rest of the session.
    rogue = SigningKey.generate("core")
    rogue_announce = payloads.PublicKey(sender="core", public_key=rogue.public_key_b64)
    assert box.accept(key_topic, sign(rogue_announce, key_topic, rogue)) == []
    assert box.dropped_total == 1
