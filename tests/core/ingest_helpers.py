"""Helpers for the core ingest tests: real face encodings, a camera that signs."""

from __future__ import annotations

import functools
import threading
import time
from pathlib import Path

import numpy as np

from srs.app.config import SrsConfig
from srs.config import MqttConfig
from srs.mqtt import ConnectionWatcher, make_client
from srs.wire import topics
from srs.wire.payloads import Ack, BBox, Detection, DetectionBatch
from srs.wire.signing import SigningKey, Verifier, sign

MEDIA = Path(__file__).resolve().parent.parent / "data" / "media" / "faces"
VIDEO = MEDIA.parent / "video"
Face = tuple[BBox, list[float]]


@functools.lru_cache(maxsize=1)
def face_data() -> dict[str, list[Face]]:
    """Every face of every sample photo, computed once per test session.

    Images are scaled to at most 800 px first: HOG detection on 2000 px photos is
    the slow part, and the encodings stay well separated.
    """
    import face_recognition
    from PIL import Image

    out: dict[str, list[Face]] = {}
    for path in sorted(MEDIA.glob("t*/**/*.jp*g")):
        with Image.open(path) as raw:
            img = raw.convert("RGB")
            img.thumbnail((800, 800))
            rgb = np.asarray(img)
        locs = face_recognition.face_locations(rgb)
        encs = face_recognition.face_encodings(rgb, known_face_locations=locs)
        locs_sorted = sorted(zip(locs, encs, strict=True), key=lambda le: le[0][3])  # left->right
        out[str(path.relative_to(MEDIA))] = [
            (
                BBox(x=left, y=top, w=max(1, right - left), h=max(1, bottom - top)),
                [float(v) for v in enc],
            )
            for (top, right, bottom, left), enc in locs_sorted
        ]
    return out


@functools.lru_cache(maxsize=4)
def clip_faces(name: str, every: int = 4, limit: int = 8) -> list[Face]:
    """The one face of each ``every``-th frame of a real clip (frames with none or
    several are skipped), at most ``limit``, computed once per test session."""
    import face_recognition
    from PIL import Image, ImageSequence

    out: list[Face] = []
    with Image.open(VIDEO / name) as clip:
        for i, frame in enumerate(ImageSequence.Iterator(clip)):
            if i % every:
                continue
            rgb = np.asarray(frame.convert("RGB"))
            locs = face_recognition.face_locations(rgb)
            if len(locs) != 1:
                continue
            (enc,) = face_recognition.face_encodings(rgb, known_face_locations=locs)
            top, right, bottom, left = locs[0]
            box = BBox(x=left, y=top, w=max(1, right - left), h=max(1, bottom - top))
            out.append((box, [float(v) for v in enc]))
            if len(out) == limit:
                break
    return out


def batch(
    camera_id: str,
    seq: int,
    faces: list[Face],
    *,
    captured_at: float | None = None,
    profiles: int = 0,
    frame: tuple[int, int] = (800, 600),
) -> DetectionBatch:
    dets = [
        Detection(kind="face", bbox=b, track_id=i, score=1.0, encoding=e)
        for i, (b, e) in enumerate(faces)
    ]
    dets += [
        Detection(kind="profile", bbox=BBox(x=10, y=10, w=40, h=40), track_id=100 + i, score=1.0)
        for i in range(profiles)
    ]
    return DetectionBatch(
        camera_id=camera_id,
        seq=seq,
        captured_at=time.time() if captured_at is None else captured_at,
        frame_width=frame[0],
        frame_height=frame[1],
        detections=dets,
    )


def camera_key(camera_id: str) -> SigningKey:
    return SigningKey.generate(topics.camera_issuer(camera_id))


class FakeCamera:
    """Plays an edge node: signs at send time, re-sends whatever core has not acked."""

    def __init__(
        self, mqtt: MqttConfig, key: SigningKey, camera_id: str, core_key_b64: str | None = None
    ) -> None:
        self.camera_id, self.key = camera_id, key
        self.unacked: dict[int, DetectionBatch] = {}
        self.acked: set[int] = set()
        self.refused: list[Ack] = []
        self.lock = threading.Lock()
        self.watcher = ConnectionWatcher()
        self.client = make_client(mqtt, camera_id)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self._verifier = None
        if core_key_b64:
            from srs.wire.signing import public_key_from_b64

            core = public_key_from_b64(core_key_b64)
            self._verifier = Verifier(lambda iss: core if iss == "core" else None)
        self.client.connect(mqtt.host, mqtt.port)
        self.client.loop_start()
        assert self.watcher.connected.wait(10), self.watcher.last_error
        self.subscribed = threading.Event()
        self.client.on_subscribe = lambda *a: self.subscribed.set()
        self.client.subscribe(topics.ack(camera_id), qos=1)
        assert self.subscribed.wait(10)

    def _on_connect(self, *args: object) -> None:
        self.watcher.on_connect(*args)  # type: ignore[arg-type]

    def _on_message(self, client: object, userdata: object, msg: object) -> None:
        data = msg.payload  # type: ignore[attr-defined]
        if self._verifier is None:
            return
        ack = self._verifier.verify(msg.topic, data, Ack).payload  # type: ignore[attr-defined]
        if ack.refused is not None:  # "not stored, and why": keep them, as an edge does
            self.refused.append(ack)
            return
        with self.lock:
            for seq in ack.seqs:
                self.unacked.pop(seq, None)
                self.acked.add(seq)

    def send(self, b: DetectionBatch) -> None:
        with self.lock:
            if b.seq not in self.acked:
                self.unacked[b.seq] = b
        topic = topics.detections(self.camera_id)
        self.client.publish(topic, sign(b, topic, self.key), qos=1).wait_for_publish(5)

    def resend_unacked(self) -> int:
        with self.lock:
            pending = list(self.unacked.values())
        for b in pending:
            self.send(b)
        return len(pending)

    def wait_acked(self, seqs: set[int], timeout: float = 20.0, resend_s: float = 2.0) -> bool:
        deadline = time.monotonic() + timeout
        next_resend = time.monotonic() + resend_s
        while time.monotonic() < deadline:
            with self.lock:
                if seqs <= self.acked:
                    return True
            if time.monotonic() >= next_resend:
                self.resend_unacked()
                next_resend = time.monotonic() + resend_s
            time.sleep(0.05)
        return False

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def core_config(data_dir: Path, mqtt: MqttConfig | None = None, **core: object) -> SrsConfig:
    from core.config import CoreConfig

    return SrsConfig(
        data_dir=data_dir, mqtt=mqtt or MqttConfig(), core=CoreConfig.model_validate(core)
    )
