"""Operator commands without a broker: verification, roles, each action, audit."""

from __future__ import annotations

import base64
import io
import uuid

import pytest
from PIL import Image

from broker.users import default_path
from core import store
from core.commands import CommandHandler
from core.ingest import Ingest
from core.messages import Incoming
from srs.wire import commands as cmd
from srs.wire import topics
from srs.wire.signing import SigningKey, sign
from tests.brokers import fast_user_store
from tests.core.ingest_helpers import MEDIA, batch, camera_key, core_config, face_data

CAM1 = camera_key("cam1")


@pytest.fixture
def handler(tmp_path):
    cfg = core_config(tmp_path)
    users = fast_user_store(default_path(cfg))
    users.add("alice", "operator")
    users.add("ivan", "integrator")
    db = store.open_store(cfg)
    with db.session() as s:
        store.add_camera(s, "cam1", CAM1.public_key_b64)
    ingest = Ingest(db, cfg)
    h = CommandHandler(db, cfg, ingest)
    yield h, ingest
    h.close()  # joins the enrolment process
    db.close()


def ask(h: CommandHandler, user: str, key: SigningKey, command) -> cmd.Response | None:
    topic = topics.request(user)
    req = cmd.Request(request_id=uuid.uuid4().hex, command=command)
    out = h.handle(Incoming(topic, sign(req, topic, key)))
    if not out and isinstance(command, cmd.EnrolPerson) and h.enrolments.busy:
        out = h.finished(wait_s=120)  # answered once the enrolment process encoded it
    if not out:
        return None
    assert out[0].topic == topics.response(user)
    resp = out[0].payload
    assert isinstance(resp, cmd.Response) and resp.request_id == req.request_id
    return resp


def session(h: CommandHandler, user: str) -> SigningKey:
    key = SigningKey.generate(topics.operator_issuer(user))
    resp = ask(h, user, key, cmd.RegisterKey(public_key=key.public_key_b64))
    assert resp is not None and resp.ok, resp
    return key


def jpeg_b64(path, size: int = 240) -> str:
    with Image.open(path) as img:
        small = img.convert("RGB")
        small.thumbnail((size, size))
        buf = io.BytesIO()
        small.save(buf, "JPEG", quality=70)
    return base64.b64encode(buf.getvalue()).decode()


def test_only_registered_keys_and_allowed_roles_are_obeyed(handler):
    h, ingest = handler
    stranger = SigningKey.generate(topics.operator_issuer("alice"))
    # No key registered yet (e.g. core restarted): alice is told to sign in again.
    unknown = ask(h, "alice", stranger, cmd.ListPeople())
    assert unknown is not None and not unknown.ok
    assert unknown.error == "your session key is not registered: sign in again"
    assert ingest.counters.rejected == {"unknown_sender": 1}
    # An integrator (no right to act) with an unknown key hears nothing.
    assert (
        ask(h, "ivan", SigningKey.generate(topics.operator_issuer("ivan")), cmd.ListPeople())
        is None
    )
    key = session(h, "alice")
    assert ask(h, "alice", stranger, cmd.ListPeople()) is None  # not the session's key
    assert ingest.counters.rejected["bad_signature"] == 1
    assert ask(h, "alice", key, cmd.ListPeople()).ok  # type: ignore[union-attr]
    ivan = SigningKey.generate(topics.operator_issuer("ivan"))
    denied = ask(h, "ivan", ivan, cmd.RegisterKey(public_key=ivan.public_key_b64))
    assert denied is not None and not denied.ok and "integrator" in (denied.error or "")
    # A RegisterKey signed by another key than the one it announces is refused.
    other = SigningKey.generate(topics.operator_issuer("alice"))
    assert ask(h, "alice", other, cmd.RegisterKey(public_key=key.public_key_b64)) is None


def test_enrol_merge_reject_and_query(handler):
    h, ingest = handler
    key = session(h, "alice")
    enrolled = ask(
        h,
        "alice",
        key,
        cmd.EnrolPerson(
            name="Barack Obama",
            images_jpeg_b64=[
                jpeg_b64(MEDIA / "train/obama/obama.jpg"),
                jpeg_b64(MEDIA / "test/kit_with_rose.jpg"),
            ],
        ),
    )
    assert enrolled is not None and enrolled.ok, enrolled
    assert isinstance(enrolled.result, dict)
    assert (
        enrolled.result["encoded"] == 1 and "2 faces" in enrolled.result["problems"][0]["problem"]
    )
    none = ask(h, "alice", key, cmd.EnrolPerson(name="Nobody", images_jpeg_b64=["bm90IGpwZWc="]))
    assert none is not None and not none.ok and "no usable face" in (none.error or "")
    # Obama is now recognised by ingest (the handler refreshed its gallery). One
    # view at 0.46 from his 240 px portrait is a weak match ("possibly"); the second
    # agreeing view of the track names him.
    topic = topics.detections("cam1")
    face = face_data()["test/obama1.jpg"]
    ingest.process([Incoming(topic, sign(batch("cam1", 1, face), topic, CAM1))])
    ingest.process([Incoming(topic, sign(batch("cam1", 2, face), topic, CAM1))])
    hist = ask(h, "alice", key, cmd.QueryHistory(person_key=enrolled.result["person_key"]))
    assert hist is not None and isinstance(hist.result, list) and len(hist.result) == 1
    sighting_id = hist.result[0]["id"]
    # By name too: a guard types the name, not the key.
    by_name = ask(h, "alice", key, cmd.QueryHistory(person_name="Barack Obama"))
    assert by_name is not None and by_name.ok and by_name.result == hist.result
    # "Not this person": the same face no longer names him.
    assert ask(h, "alice", key, cmd.RejectSighting(sighting_id=sighting_id)).ok  # type: ignore
    ingest.process([Incoming(topic, sign(batch("cam1", 3, face), topic, CAM1))])
    latest = ask(h, "alice", key, cmd.QueryHistory(camera_id="cam1", limit=1))
    assert latest is not None and isinstance(latest.result, list)
    assert latest.result[0]["identity"] == "unknown"
    # Merge the anonymous identity into Obama after all.
    merged = ask(
        h,
        "alice",
        key,
        cmd.MergePeople(
            source_key=latest.result[0]["person_key"], target_key=enrolled.result["person_key"]
        ),
    )
    assert merged is not None and merged.ok, merged
    people = ask(h, "alice", key, cmd.ListPeople())
    assert people is not None and isinstance(people.result, list)
    assert [(p["name"], p["sightings"]) for p in people.result] == [("Barack Obama", 1)]
    bad = ask(h, "alice", key, cmd.RejectSighting(sighting_id=999))
    assert bad is not None and not bad.ok and "no sighting 999" in (bad.error or "")
    with h.db.session() as s:
        actions = {a.action for a in store.audit_entries(s, 100)}
    assert {"enrol_person", "reject_sighting", "merge_people", "query_history"} <= actions


def test_get_faces_answers_operators_only(handler):
    """Crops are for operators: an answer with the stored crops for alice, a refusal
    (audited) once her role is no longer one that may act."""
    from core.store.faces import NewCrop, keep_crops
    from tests.core.test_faces import crop_b64

    h, ingest = handler
    (box, _), *_ = face_data()["test/obama1.jpg"]
    face = crop_b64("test/obama1.jpg", box)
    ingest.process([_signed(batch("cam1", 1, face_data()["test/obama1.jpg"][:1]))])
    with h.db.session() as s:
        (sid, key) = _first_sighting(s)
        keep_crops(s, [NewCrop(sid, base64.b64decode(face), 0.9)])
    alice = session(h, "alice")
    resp = ask(h, "alice", alice, cmd.GetFaces(person_key=key, limit=3))
    assert resp is not None and resp.ok, resp
    assert isinstance(resp.result, dict)
    (got,) = resp.result["faces"]
    assert got["jpeg_b64"] == face and got["camera_id"] == "cam1" and got["sighting_id"] == sid
    users = h.roles.users()
    users.remove("alice")
    users.add("alice", "integrator")
    denied = ask(h, "alice", alice, cmd.GetFaces(person_key=key))
    assert denied is not None and not denied.ok and "operator or admin" in (denied.error or "")
    with h.db.session() as s:
        assert any(e.action == "denied_get_faces" for e in store.audit_entries(s))


def _signed(b):
    topic = topics.detections("cam1")
    return Incoming(topic, sign(b, topic, CAM1))


def _first_sighting(s):
    from sqlalchemy import select

    from core.store.models import Sighting

    row = s.scalars(select(Sighting)).first()
    key = f"p{row.person_id}" if row.person_id is not None else f"u{row.unknown_id}"
    return row.id, key


def test_recent_zone_events_and_alerts_are_answered_to_a_desk_signing_in(tmp_path):
    """Alerts and zone events are live messages; core keeps the recent ones in memory
    so a dashboard that signs in shows what happened before."""
    import time

    from core.alerts import unknown_in_restricted
    from core.locating import LocatorLink
    from core.observation import NullLocator
    from srs.wire.payloads import ZoneEvent

    cfg = core_config(tmp_path)
    fast_user_store(default_path(cfg)).add("alice", "operator")
    db = store.open_store(cfg)
    link = LocatorLink(NullLocator())
    h = CommandHandler(db, cfg, Ingest(db, cfg), link)
    now = time.time()
    enter = ZoneEvent(
        person_key="u3",
        identity="unknown",
        label="Unknown 3",
        zone="server-room",
        action="enter",
        at=now - 5,
        restricted=True,
    )
    alert = unknown_in_restricted("u3", "Unknown 3", "server-room", "Server room", now - 5)
    for payload in (enter, alert, object()):
        link.recent.record(payload)
    key = session(h, "alice")
    answer = ask(h, "alice", key, cmd.QueryHistory(since=now - 3600, recent_events=True))
    assert answer is not None and answer.ok and isinstance(answer.result, dict)
    assert answer.result["sightings"] == []
    assert [e.get("kind", e.get("action")) for e in answer.result["events"]] == [
        "unknown_in_restricted",
        "enter",
    ]
    db.close()


def test_a_host_without_the_users_file_takes_roles_from_the_mirror(tmp_path) -> None:
    from core.commands import Roles
    from core.store.users import sync_users

    cfg = core_config(tmp_path)  # no users.json here: the broker runs on another host
    db = store.open_store(cfg)
    try:
        with db.session() as s:
            sync_users(s, [("alice", "operator"), ("ivan", "integrator")])
        roles = Roles(cfg, db)
        assert roles.role_of("alice") == "operator" and roles.role_of("ivan") == "integrator"
        assert roles.role_of("mallory") is None
        # Nor does it empty the mirror the host with the file keeps.
        assert roles.changed_users() is None
        # Where the file is, it decides (it is fresher than the mirror).
        fast_user_store(default_path(cfg)).add("alice", "admin")
        assert roles.role_of("alice") == "admin" and roles.role_of("ivan") is None
    finally:
        db.close()
