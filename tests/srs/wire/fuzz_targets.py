"""What the wire's readers promise for any input, as functions of bytes.

The promise (srs/wire/signing.py, srs/wire/reading.py): for whatever arrives, a reader
gets a valid payload model or a :class:`WireError` with a reason and a sentence, never
another exception. Each ``check_*`` below feeds one kind of input to the real reader
and raises AssertionError when that promise breaks. The hypothesis tests
(tests/srs/wire/test_signing_fuzz.py, test_reading_fuzz.py) and the longer atheris
run (bench/fuzz.py) call the same functions, so a finding of one is a test of both.

Every topic kind is read with its registry model; one key signs for every issuer, so
a signed input reaches the claims and payload parsers (the signature check runs
first: unsigned noise never gets past it).
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from pydantic import BaseModel

from srs.wire import jws, registry, topics
from srs.wire.errors import WireError
from srs.wire.keys import SigningKey
from srs.wire.payloads import (
    Ack,
    BBox,
    CameraStatus,
    CoreStatus,
    Detection,
    DetectionBatch,
    PersonPosition,
)
from srs.wire.reading import unverified_data
from srs.wire.signing import Verifier, sign

NOW = 1_800_000_000.0

# One topic of every kind, each read with the model the registry names for it.
TOPICS = [
    topics.detections("cam1"),
    topics.camera_status("cam1"),
    topics.ack("cam1"),
    topics.camera_key("cam1"),
    topics.position("p1"),
    topics.sightings(),
    topics.zone_events(),
    topics.alerts(),
    topics.core_status(),
    topics.key("op1"),
    topics.site(),
    topics.request("alice"),
    topics.response("alice"),
    topics.request(topics.BOOTSTRAP_USER),
]
MODELS = [registry.model_for(t) for t in TOPICS]

KEY = SigningKey.generate("fuzz")


def _verifier() -> Verifier:
    public = KEY.public_key
    return Verifier(lambda issuer: public, clock=lambda: NOW)


VERIFIER = _verifier()
_JTI = itertools.count()  # a fresh token id each time, so a replay is not all it finds


def _valid_payloads() -> dict[str, BaseModel]:
    """A valid message for a few topics, to mutate (one with a face and an encoding)."""
    face = Detection(
        kind="face",
        bbox=BBox(x=10, y=20, w=64, h=64),
        track_id=3,
        score=0.9,
        encoding=[0.01 * i for i in range(128)],
        quality=0.7,
    )
    return {
        topics.detections("cam1"): DetectionBatch(
            camera_id="cam1",
            seq=42,
            captured_at=NOW,
            frame_width=640,
            frame_height=480,
            detections=[face],
        ),
        topics.camera_status("cam1"): CameraStatus(
            camera_id="cam1", state="online", sent_at=NOW, gated={"blur": 2}
        ),
        topics.ack("cam1"): Ack(camera_id="cam1", seqs=[1, 2, 3]),
        topics.core_status(): CoreStatus(state="online", sent_at=NOW, rejected={"expired": 1}),
        topics.position("p1"): PersonPosition(
            person_key="p1",
            identity="known",
            label="Alice Martin",
            x=1.5,
            y=2.0,
            confidence=0.8,
            last_seen=NOW,
            cameras=["cam1"],
        ),
    }


VALID = _valid_payloads()
VALID_TOPICS = sorted(VALID)


def signed(topic: str, data: BaseModel) -> bytes:
    """``data`` signed for ``topic`` by its rightful sender (KEY under that issuer)."""
    return sign(data, topic, SigningKey(topics.parse(topic).issuer, KEY.private_key), now=NOW)


def signed_body(topic: str, data: BaseModel) -> bytes:
    """The JSON the signer writes for ``data`` on ``topic`` (claims and payload)."""
    return jws.unverified_payload(signed(topic, data))


def _read(topic: str, token: bytes, model: type[BaseModel]) -> BaseModel | None:
    """Verify ``token``; a result must be a valid ``model`` that survives a round trip.
    Returns it (None: refused with a WireError)."""
    try:
        got = VERIFIER.verify(topic, token, model)
    except WireError as exc:
        assert exc.message, "a WireError must carry a sentence"
        return None
    payload = got.payload
    assert isinstance(payload, model), type(payload)
    again = model.model_validate_json(payload.model_dump_json(), strict=True)
    assert again == payload, "an accepted payload must re-read as itself"
    return payload


def _pick(data: bytes, choices: list[Any]) -> tuple[Any, bytes]:
    """A choice steered by the first byte (so a fuzzer can reach every one)."""
    if not data:
        return choices[0], b""
    return choices[data[0] % len(choices)], data[1:]


def check_token(data: bytes) -> None:
    """Arbitrary bytes as a token on any topic."""
    i, rest = _pick(data, list(range(len(TOPICS))))
    _read(TOPICS[i], rest, MODELS[i])


def check_signed_body(data: bytes) -> None:
    """Arbitrary bytes as a token's payload, correctly signed: the claims and payload
    parsers see them."""
    i, rest = _pick(data, list(range(len(TOPICS))))
    _read(TOPICS[i], jws.encode(rest, KEY.private_key), MODELS[i])


def check_signed_json(topic_index: int, claims: Any) -> None:
    """Any JSON value as a token's claims, correctly signed."""
    i = topic_index % len(TOPICS)
    body = json.dumps(claims, allow_nan=True).encode()
    _read(TOPICS[i], jws.encode(body, KEY.private_key), MODELS[i])


def check_signed_data(topic_index: int, payload: Any) -> None:
    """Right claims for the topic, any JSON value as ``data``, correctly signed."""
    i = topic_index % len(TOPICS)
    topic = TOPICS[i]
    claims: dict[str, Any] = {"iss": topics.parse(topic).issuer, "aud": "srs", "topic": topic}
    claims |= {"iat": NOW, "exp": NOW + 60, "jti": f"fuzz-{next(_JTI)}"}
    claims["data"] = payload
    body = json.dumps(claims, allow_nan=True).encode()
    _read(topic, jws.encode(body, KEY.private_key), MODELS[i])


def mutate(base: bytes, data: bytes) -> bytes:
    """``base`` changed as ``data`` says: pairs of (position, byte) overwrite, insert
    or delete (the byte's low two bits choose), then an optional truncation."""
    out = bytearray(base)
    for k in range(0, len(data) - 1, 2):
        if not out:
            out.extend(data[k : k + 1])
            continue
        at, value = data[k] % (len(out) + 1), data[k + 1]
        op = value & 3
        if op == 0 and at < len(out):
            out[at] = value
        elif op == 1:
            out.insert(at, value)
        elif op == 2 and at < len(out):
            del out[at]
        else:
            out[at:] = out[at : at + 1]  # truncate after the position
    return bytes(out)


def check_mutated_token(data: bytes) -> None:
    """A valid signed token with bytes changed (the signature then fails, or the
    change is in the header or the signature itself)."""
    topic, rest = _pick(data, VALID_TOPICS)
    token = signed(topic, VALID[topic])
    got = _read(topic, mutate(token, rest), registry.model_for(topic))
    # Accepted only unchanged in meaning: anything else would be a forged signature.
    assert got is None or got == VALID[topic], f"a mutated token was accepted as {got!r}"


def check_mutated_body(data: bytes) -> None:
    """A valid message's JSON with bytes changed, then signed: the parser sees near-valid
    JSON (a digit changed, a quote lost, a field renamed)."""
    topic, rest = _pick(data, VALID_TOPICS)
    body = mutate(signed_body(topic, VALID[topic]), rest)
    _read(topic, jws.encode(body, KEY.private_key), registry.model_for(topic))


def check_unverified(data: bytes) -> None:
    """srs.wire.reading.unverified_data: a dict or WireError for any bytes."""
    try:
        got = unverified_data(data)
    except WireError as exc:
        assert exc.message
        return
    assert isinstance(got, dict)


def check_unverified_signed(data: bytes) -> None:
    """unverified_data on a well-formed token whose payload is arbitrary bytes."""
    check_unverified(jws.encode(data, KEY.private_key))


# Byte-driven targets for a fuzzer (bench/fuzz.py): name -> function.
BYTE_TARGETS = {
    "token": check_token,
    "signed_body": check_signed_body,
    "mutated_token": check_mutated_token,
    "mutated_body": check_mutated_body,
    "unverified": check_unverified,
    "unverified_signed": check_unverified_signed,
}
