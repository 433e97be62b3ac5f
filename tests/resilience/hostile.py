"""Hostile inputs, each refused with a sentence and counted, the store unchanged.

Core's part runs the real ingest pipeline (verify, de-duplicate, store) on a real
database, in process (no broker needed to judge a message); the broker's part
(oversize, retained detections) runs the embedded broker with real clients. Each
case returns a :class:`Row` for docs/resilience.md.
"""

from __future__ import annotations

import base64
import json
import queue
import re
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import jwt

from core import store
from core.ingest import Incoming, Ingest
from srs.app.config import SrsConfig
from srs.wire import jws, topics
from srs.wire.payloads import DetectionBatch
from srs.wire.signing import DEFAULT_AUDIENCE, SigningKey, sign
from tests.resilience.sim_edge import batch as batch_json


@dataclass
class Row:
    case: str
    expected: str
    observed: str
    passed: bool
    recovery_s: float | None = None  # fault cases: fault's end -> everything stored
    seconds: float = 0.0  # how long the case took


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


class Bench:
    """A real ingest pipeline with cameras cam1 and cam2 registered."""

    def __init__(self, root: Path) -> None:
        self.cfg = SrsConfig(data_dir=root)
        self.db = store.open_store(self.cfg)
        self.keys = {c: SigningKey.generate(topics.camera_issuer(c)) for c in ("cam1", "cam2")}
        with self.db.session() as s:
            for cam, key in self.keys.items():
                store.add_camera(s, cam, key.public_key_b64)
        self.ingest = Ingest(self.db, self.cfg)
        self.sentences: list[tuple[str, str]] = []
        original = self.ingest.reject

        def reject(reason: str, sentence: str, where: str) -> None:
            self.sentences.append((reason, sentence))
            original(reason, sentence, where)

        self.ingest.reject = reject  # type: ignore[method-assign]
        self.seq = 0

    def valid_json(self, cam: str = "cam1") -> str:
        self.seq += 1
        import random

        return batch_json(cam, self.seq, time.time(), random.Random(self.seq))

    def claims(self, data: str, cam: str = "cam1", topic: str | None = None) -> bytes:
        now = round(time.time(), 3)
        return (
            f'{{"iss":"camera:{cam}","aud":"{DEFAULT_AUDIENCE}",'
            f'"topic":"{topic or topics.detections(cam)}","iat":{now},"exp":{now + 120},'
            f'"jti":"hostile-{self.seq}-{time.monotonic_ns()}","data":{data}}}'
        ).encode()

    def signed_raw(self, data: str, cam: str = "cam1") -> bytes:
        """``data`` (raw JSON, never parsed here) signed correctly by ``cam``."""
        return jws.encode(self.claims(data, cam), self.keys[cam].private_key)

    def stored(self) -> tuple[int, int]:
        with sqlite3.connect(self.cfg.data_dir / "srs.db") as db:
            return (
                db.execute("SELECT COUNT(*) FROM processed_messages").fetchone()[0],
                db.execute("SELECT COUNT(*) FROM sightings").fetchone()[0],
            )

    def judge(
        self, case: str, expected_reason: str, messages: list[Incoming], stores: int = 0
    ) -> Row:
        """Feed ``messages``; pass when the last is refused for ``expected_reason`` with a
        sentence, counted, and the store grew by exactly ``stores`` messages."""
        started = time.monotonic()
        before = self.stored()[0]
        counted = self.ingest.counters.rejected[expected_reason]
        self.sentences.clear()
        for msg in messages:
            self.ingest.process([msg])
        grew = self.stored()[0] - before
        now_counted = self.ingest.counters.rejected[expected_reason] - counted
        reason, sentence = self.sentences[-1] if self.sentences else ("accepted", "")
        passed = (
            reason == expected_reason and bool(sentence) and now_counted >= 1 and grew == stores
        )
        observed = f"{reason}: “{sentence[:150]}”; counted {now_counted}; stored {grew}"
        expected = f"refused as {expected_reason}, counted, " + (
            f"stored {stores} (the first copy)" if stores else "nothing stored"
        )
        return Row(case, expected, observed, passed, seconds=time.monotonic() - started)


def core_cases(root: Path) -> list[Row]:
    b = Bench(root)
    cam1 = topics.detections("cam1")
    rows = []

    def sent(data: bytes, topic: str = cam1) -> list[Incoming]:
        return [Incoming(topic, data)]

    # A key that is not cam1's, signing as cam1.
    intruder = SigningKey.generate(topics.camera_issuer("cam1"))
    forged = sign(DetectionBatch.model_validate_json(b.valid_json()), cam1, intruder)
    rows.append(b.judge("forged signature (another key)", "bad_signature", sent(forged)))

    header = _b64(b'{"alg":"none","typ":"JWT"}')
    none = header + b"." + _b64(b.claims(b.valid_json())) + b"."
    rows.append(b.judge("alg none", "bad_algorithm", sent(none)))

    claims = json.loads(b.claims(b.valid_json()))
    hs = jwt.encode(claims, b.keys["cam1"].public_key_b64, algorithm="HS256").encode()
    rows.append(b.judge("HS256 with the camera's public key", "bad_algorithm", sent(hs)))

    once = sign(DetectionBatch.model_validate_json(b.valid_json()), cam1, b.keys["cam1"])
    rows.append(b.judge("replayed (same token twice)", "replayed", sent(once) * 2, stores=1))

    wrong = sign(DetectionBatch.model_validate_json(b.valid_json()), cam1, b.keys["cam1"])
    rows.append(
        b.judge(
            "cam1's message on cam2's topic",
            "bad_signature",
            sent(wrong, topics.detections("cam2")),
        )
    )

    big = b.valid_json()[:-1] + ',"pad":"' + "x" * 70_000 + '"}'
    rows.append(b.judge("oversize (70 KB)", "oversize", sent(b.signed_raw(big))))

    nan = re.sub(r'"encoding":\[[^,]+', '"encoding":[NaN', b.valid_json(), count=1)
    rows.append(b.judge("NaN in an encoding", "invalid_payload", sent(b.signed_raw(nan))))

    deep = b.valid_json()[:-1] + ',"x":' + "[" * 20_000 + "]" * 20_000 + "}"
    rows.append(b.judge("JSON 20,000 levels deep", "malformed", sent(b.signed_raw(deep))))

    coercions: list[tuple[str, Callable[[dict], None]]] = [
        ('seq as a string ("123")', lambda d: d.update(seq=str(d["seq"]))),
        ('score as a string ("1.0")', lambda d: d["detections"][0].update(score="1.0")),
        ("track_id true", lambda d: d["detections"][0].update(track_id=True)),
        (
            "encoding floats as strings",
            lambda d: d["detections"][0].update(
                encoding=[str(v) for v in d["detections"][0]["encoding"]]
            ),
        ),
    ]
    for name, change in coercions:
        data = json.loads(b.valid_json())
        change(data)
        rows.append(b.judge(name, "invalid_payload", sent(b.signed_raw(json.dumps(data)))))
    b.db.close()
    return rows


def broker_cases(root: Path) -> list[Row]:
    """Oversize and retained detections at the embedded broker: acked, dropped, counted."""
    from tests.broker.probe import Probe
    from tests.brokers import embedded_broker

    rows = []
    with embedded_broker(root) as broker:
        core = Probe(broker.client_config("core", "core"), "core")
        cam = Probe(broker.client_config("cam1", "camera"), "cam1")
        try:
            assert core.connect() and cam.connect() and core.subscribe(topics.ALL_DETECTIONS)
            assert broker.stats is not None
            for case, counter, payload, retain in (
                (
                    "oversize publish at the broker (67 KB)",
                    "oversize_dropped",
                    b"x" * 67_000,
                    False,
                ),
                ("a camera retains its detections", "retain_refused", b"{}", True),
            ):
                started = time.monotonic()
                before = broker.stats()[counter]
                info = cam.client.publish(topics.detections("cam1"), payload, qos=1, retain=retain)
                info.wait_for_publish(10)
                delivered = 0
                try:
                    while True:
                        core.messages.get(timeout=1.0)
                        delivered += 1
                except queue.Empty:
                    pass
                counted = broker.stats()[counter] - before
                passed = info.is_published() and counted == 1 and delivered == 0
                rows.append(
                    Row(
                        case,
                        f"acknowledged, dropped before core, counted as {counter}",
                        f"acknowledged: {info.is_published()}; delivered {delivered}; "
                        f"{counter} +{counted}",
                        passed,
                        seconds=time.monotonic() - started,
                    )
                )
        finally:
            cam.close()
            core.close()
    return rows
