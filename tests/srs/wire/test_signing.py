"""Signing and verification refuse every forgery the issue names, with a reason."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import jwt
import pytest

from srs.wire import Reason, SigningKey, Verifier, WireError, sign, topics
from srs.wire.payloads import CameraStatus, DetectionBatch

NOW = 1_800_000_000.0


@pytest.fixture
def cam_a() -> SigningKey:
    return SigningKey.generate(topics.camera_issuer("a"))


@pytest.fixture
def cam_b() -> SigningKey:
    return SigningKey.generate(topics.camera_issuer("b"))


@pytest.fixture
def verifier(cam_a: SigningKey, cam_b: SigningKey) -> Verifier:
    ring = {k.issuer: k.public_key for k in (cam_a, cam_b)}
    return Verifier(ring.get, clock=lambda: NOW)


def batch(camera_id: str = "a", seq: int = 1) -> DetectionBatch:
    return DetectionBatch(
        camera_id=camera_id,
        seq=seq,
        captured_at=NOW,
        frame_width=640,
        frame_height=480,
        detections=[],
    )


def expect(reason: Reason, fn, *args) -> WireError:
    with pytest.raises(WireError) as info:
        fn(*args)
    assert info.value.reason is reason, str(info.value)
    assert info.value.message  # a sentence, not just a code
    return info.value


def test_valid_token_round_trips(verifier: Verifier, cam_a: SigningKey) -> None:
    topic = topics.detections("a")
    got = verifier.verify(topic, sign(batch(), topic, cam_a, now=NOW), DetectionBatch)
    assert got.payload == batch()
    assert got.issuer == "camera:a"


def test_camera_a_token_fails_on_camera_b_topic(verifier: Verifier, cam_a: SigningKey) -> None:
    token = sign(batch(), topics.detections("a"), cam_a, now=NOW)
    expect(Reason.BAD_SIGNATURE, verifier.verify, topics.detections("b"), token, DetectionBatch)


def test_camera_a_signing_for_b_topic_is_caught(verifier: Verifier, cam_a: SigningKey) -> None:
    # Signed by A but claiming B's topic: the key is B's (from the topic), so it fails.
    token = sign(batch("b"), topics.detections("b"), cam_a, now=NOW)
    expect(Reason.BAD_SIGNATURE, verifier.verify, topics.detections("b"), token, DetectionBatch)


def _raw(claims: dict, key, alg: str) -> bytes:
    return jwt.encode(claims, key, algorithm=alg).encode()


def _claims(topic: str, **over) -> dict:
    c = {
        "iss": "camera:a",
        "aud": "srs",
        "topic": topic,
        "iat": NOW,
        "exp": NOW + 60,
        "jti": "j1",
        "data": batch().model_dump(mode="json"),
    }
    c.update(over)
    return c


def test_alg_none_is_refused(verifier: Verifier) -> None:
    topic = topics.detections("a")
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=")
    body = base64.urlsafe_b64encode(json.dumps(_claims(topic)).encode()).rstrip(b"=")
    expect(
        Reason.BAD_ALGORITHM, verifier.verify, topic, header + b"." + body + b".", DetectionBatch
    )


def test_hs256_with_the_public_key_as_secret_is_refused(
    verifier: Verifier, cam_a: SigningKey
) -> None:
    topic = topics.detections("a")
    token = _raw(_claims(topic), cam_a.public_key_b64, "HS256")
    expect(Reason.BAD_ALGORITHM, verifier.verify, topic, token, DetectionBatch)


def test_expired_token(verifier: Verifier, cam_a: SigningKey) -> None:
    topic = topics.detections("a")
    token = sign(batch(), topic, cam_a, now=NOW - 3600)
    expect(Reason.EXPIRED, verifier.verify, topic, token, DetectionBatch)


def test_future_iat(verifier: Verifier, cam_a: SigningKey) -> None:
    topic = topics.detections("a")
    token = sign(batch(), topic, cam_a, now=NOW + 600)
    expect(Reason.FUTURE, verifier.verify, topic, token, DetectionBatch)


def test_small_clock_skew_is_tolerated(verifier: Verifier, cam_a: SigningKey) -> None:
    topic = topics.detections("a")
    verifier.verify(topic, sign(batch(), topic, cam_a, now=NOW + 10), DetectionBatch)


def test_wrong_audience(verifier: Verifier, cam_a: SigningKey) -> None:
    topic = topics.detections("a")
    token = sign(batch(), topic, cam_a, now=NOW, audience="other-site")
    expect(Reason.WRONG_AUDIENCE, verifier.verify, topic, token, DetectionBatch)


def test_wrong_topic_claim(verifier: Verifier, cam_a: SigningKey) -> None:
    token = _raw(_claims(topics.camera_status("a")), cam_a.private_key, "EdDSA")
    expect(Reason.WRONG_TOPIC, verifier.verify, topics.detections("a"), token, DetectionBatch)


def test_wrong_issuer_claim(verifier: Verifier, cam_a: SigningKey) -> None:
    topic = topics.detections("a")
    token = _raw(_claims(topic, iss="core"), cam_a.private_key, "EdDSA")
    expect(Reason.WRONG_ISSUER, verifier.verify, topic, token, DetectionBatch)


def test_replayed_jti(verifier: Verifier, cam_a: SigningKey) -> None:
    topic = topics.detections("a")
    token = sign(batch(), topic, cam_a, now=NOW)
    verifier.verify(topic, token, DetectionBatch)
    expect(Reason.REPLAYED, verifier.verify, topic, token, DetectionBatch)


def test_unknown_sender_is_refused(cam_a: SigningKey) -> None:
    deny_all = Verifier(lambda issuer: None, clock=lambda: NOW)
    topic = topics.detections("a")
    expect(
        Reason.UNKNOWN_SENDER,
        deny_all.verify,
        topic,
        sign(batch(), topic, cam_a, now=NOW),
        DetectionBatch,
    )


def test_oversize_is_refused_before_parsing(verifier: Verifier) -> None:
    expect(
        Reason.OVERSIZE,
        verifier.verify,
        topics.detections("a"),
        b"x" * (64 * 1024 + 1),
        DetectionBatch,
    )


@pytest.mark.parametrize("junk", [b"", b"not a token", b"a.b.c", b"\xff\xfe"])
def test_malformed_input(verifier: Verifier, junk: bytes) -> None:
    expect(Reason.MALFORMED, verifier.verify, topics.detections("a"), junk, DetectionBatch)


def test_topic_outside_the_tree(verifier: Verifier, cam_a: SigningKey) -> None:
    expect(Reason.BAD_TOPIC, verifier.verify, "elsewhere/x", b"x", DetectionBatch)


def test_retained_state_may_arrive_late(verifier: Verifier, cam_a: SigningKey) -> None:
    topic = topics.camera_status("a")
    status = CameraStatus(camera_id="a", state="offline", sent_at=NOW - 86400)
    token = sign(status, topic, cam_a, now=NOW - 86400)
    assert verifier.verify(topic, token, CameraStatus).payload.state == "offline"
    verifier.verify(topic, token, CameraStatus)  # retained state is re-read, not replayed


def test_payload_errors_name_the_field(verifier: Verifier, cam_a: SigningKey) -> None:
    topic = topics.detections("a")
    data = batch().model_dump(mode="json") | {"seq": -1}
    token = _raw(_claims(topic, data=data), cam_a.private_key, "EdDSA")
    err = expect(Reason.INVALID_PAYLOAD, verifier.verify, topic, token, DetectionBatch)
    assert "seq" in err.message and "-1" in err.message


def test_key_files_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "camera-a.key"
    key = SigningKey.load_or_create("camera:a", path)
    assert (path.stat().st_mode & 0o777) == 0o600
    again = SigningKey.load_or_create("camera:a", path)
    assert again.public_key_b64 == key.public_key_b64
    assert path.with_suffix(".key.pub").read_text().strip() == key.public_key_b64
    assert "private" not in repr(key) and key.public_key_b64 not in repr(key)


def test_real_clock_by_default(cam_a: SigningKey) -> None:
    v = Verifier({cam_a.issuer: cam_a.public_key}.get)
    topic = topics.detections("a")
    v.verify(topic, sign(batch(), topic, cam_a, now=time.time()), DetectionBatch)


def test_token_ids_are_unique_and_differ_in_a_forked_child(cam_a: SigningKey) -> None:
    import multiprocessing

    topic = topics.detections("a")

    def jti(token: bytes) -> str:
        return jwt.decode(token, options={"verify_signature": False})["jti"]

    ids = {jti(sign(batch(), topic, cam_a, now=NOW)) for _ in range(1000)}
    assert len(ids) == 1000
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(1) as pool:
        child = pool.apply(_child_jti)
    assert child not in ids and child[:16] != next(iter(ids))[:16]


def _child_jti() -> str:
    token = sign(batch(), topics.detections("a"), SigningKey.generate("camera:a"), now=NOW)
    return jwt.decode(token, options={"verify_signature": False})["jti"]


_DETECTION = {
    "kind": "face",
    "bbox": {"x": 1, "y": 2, "w": 30, "h": 30},
    "track_id": 3,
    "score": 1.0,
}


@pytest.mark.parametrize(
    ("where", "data_over", "det_over"),
    [
        ("seq", {"seq": "123"}, {}),
        ("captured_at", {"captured_at": str(NOW)}, {}),
        ("score", {}, {"score": "1.0"}),
        ("track_id", {}, {"track_id": True}),
        ("x", {}, {"bbox": {"x": "1", "y": 2, "w": 30, "h": 30}}),
        ("encoding", {}, {"encoding": ["0.1"] * 128}),
    ],
)
def test_wire_values_of_the_wrong_type_are_refused_not_coerced(
    verifier: Verifier, cam_a: SigningKey, where: str, data_over: dict, det_over: dict
) -> None:
    topic = topics.detections("a")
    data = batch().model_dump(mode="json") | data_over
    data["detections"] = [_DETECTION | det_over]
    token = _raw(_claims(topic, data=data), cam_a.private_key, "EdDSA")
    err = expect(Reason.INVALID_PAYLOAD, verifier.verify, topic, token, DetectionBatch)
    assert where in err.message


def test_a_json_integer_is_a_valid_float(verifier: Verifier, cam_a: SigningKey) -> None:
    topic = topics.detections("a")
    data = batch().model_dump(mode="json") | {"captured_at": int(NOW)}
    data["detections"] = [_DETECTION | {"score": 1}]
    token = _raw(_claims(topic, data=data), cam_a.private_key, "EdDSA")
    got = verifier.verify(topic, token, DetectionBatch)
    assert got.payload.detections[0].score == 1.0
