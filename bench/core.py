"""Core ingest benchmark: raw broker QoS 1 rate vs sustained core ingest, same run.

1. Raw: a camera client publishes N signed ~1.5 KB detection messages at QoS 1 to the
   embedded SRS broker; a plain QoS 1 subscriber receives them (no verification).
2. Core: the same kind of messages go to a running CoreService with a 10,000-person
   gallery; we time from the first publish to the last end-to-end ack received.

Prints messages/s for both, the ratio, message size and core's own ingest latency
(receive -> ack published) p50/p99. Publisher, broker and core share this process
and the machine's cores with whatever else runs: figures are noisy. Asserts nothing.

    .venv/bin/python bench/core.py [--messages 3000] [--gallery 10000]
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from core import store  # noqa: E402
from core.config import CoreConfig  # noqa: E402
from core.service import CoreService  # noqa: E402
from core.store.audit import GALLERY as GALLERY_REV  # noqa: E402
from core.store.audit import bump  # noqa: E402
from core.store.codec import to_blob  # noqa: E402
from core.store.models import FaceEncoding, Person  # noqa: E402
from srs.config import SrsConfig  # noqa: E402
from srs.mqtt import ConnectionWatcher, make_client  # noqa: E402
from srs.wire import topics  # noqa: E402
from srs.wire.payloads import BBox, Detection, DetectionBatch  # noqa: E402
from srs.wire.signing import SigningKey, sign  # noqa: E402
from tests.brokers import embedded_broker  # noqa: E402

RNG = np.random.default_rng(7)
# Face encodings are ~N(0, 0.09) per dimension (pairwise distance ~1.4 for strangers).
GALLERY = RNG.normal(0, 0.09, (10_000, 128))
STRANGERS = RNG.normal(0, 0.09, (50, 128))


def encoding() -> list[float]:
    """Mostly enrolled people, one in ten a stranger from a small crowd; 4 decimals."""
    pool = STRANGERS if RNG.random() < 0.1 else GALLERY
    base = pool[RNG.integers(len(pool))]
    return [round(float(v), 4) for v in base + RNG.normal(0, 0.02, 128)]


def messages(key: SigningKey, n: int, start_seq: int) -> list[bytes]:
    topic = topics.detections("cam1")
    out = []
    for i in range(n):
        b = DetectionBatch(camera_id="cam1", seq=start_seq + i, captured_at=round(time.time(), 3),
                           frame_width=640, frame_height=360, detections=[Detection(
                               kind="face", bbox=BBox(x=100, y=80, w=60, h=60), track_id=i,
                               score=0.9, encoding=encoding())])
        out.append(sign(b, topic, key))
    return out


def connect(mqtt, client_id: str):  # type: ignore[no-untyped-def]
    c = make_client(mqtt, client_id)
    w = ConnectionWatcher()
    c.on_connect = w.on_connect
    c.connect(mqtt.host, mqtt.port)
    c.loop_start()
    if not w.connected.wait(10):
        raise SystemExit(f"{client_id} could not connect: {w.last_error}")
    return c


def publish_all(client, payloads: list[bytes]) -> None:  # type: ignore[no-untyped-def]
    topic = topics.detections("cam1")
    infos = [client.publish(topic, p, qos=1) for p in payloads]
    for info in infos:
        info.wait_for_publish(60)


def raw_rate(broker, payloads: list[bytes]) -> float:  # type: ignore[no-untyped-def]
    got = threading.Event()
    count = [0]

    def on_message(c, u, m):  # type: ignore[no-untyped-def]
        count[0] += 1
        if count[0] >= len(payloads):
            got.set()

    sub = connect(broker.client_config("core", "core"), "core:raw")
    sub.on_message = on_message
    sub.subscribe(topics.ALL_DETECTIONS, qos=1)
    time.sleep(0.5)
    pub = connect(broker.client_config("cam1", "camera"), "cam1")
    t0 = time.perf_counter()
    publish_all(pub, payloads)
    got.wait(120)
    elapsed = time.perf_counter() - t0
    for c in (pub, sub):
        c.disconnect()
        c.loop_stop()
    return count[0] / elapsed


def fill_gallery(db: store.Database, people: int) -> None:
    now = time.time()
    with db.session() as s:
        s.execute(insert(Person), [{"id": i + 1, "name": f"person {i + 1}", "created_at": now}
                                   for i in range(people)])
        s.execute(insert(FaceEncoding), [
            {"person_id": i + 1, "vector": to_blob(GALLERY[i % len(GALLERY)]), "source": "bench",
             "created_at": now} for i in range(people)])
        store.audit(s, "admin", "bench", "fill_gallery")
        bump(s, GALLERY_REV)


def core_rate(broker, data_dir: Path, cam_key: SigningKey, n: int,  # type: ignore[no-untyped-def]
              gallery: int) -> tuple[float, float | None, float | None, int]:
    cfg = SrsConfig(data_dir=data_dir, mqtt=broker.client_config("core", "core"),
                    core=CoreConfig(status_interval_s=60))
    db = store.open_store(cfg)
    with db.session() as s:
        store.add_camera(s, "cam1", cam_key.public_key_b64)
    fill_gallery(db, gallery)
    db.close()
    acked: set[int] = set()
    done = threading.Event()

    def on_ack(c, u, m):  # type: ignore[no-untyped-def]
        from srs.wire.payloads import Ack

        ack = verifier.verify(m.topic, m.payload, Ack).payload
        acked.update(ack.seqs)
        if len(acked) >= n:
            done.set()

    with CoreService(cfg) as svc:
        svc.wait_connected(10)
        core_pub = svc.key.public_key
        from srs.wire.signing import Verifier
        verifier = Verifier(lambda iss: core_pub if iss == "core" else None)
        cam = connect(broker.client_config("cam1", "camera"), "cam1")
        cam.on_message = on_ack
        cam.subscribe(topics.ack("cam1"), qos=1)
        time.sleep(0.5)
        payloads = messages(cam_key, n, 1)
        t0 = time.perf_counter()
        publish_all(cam, payloads)
        done.wait(300)
        elapsed = time.perf_counter() - t0
        p50, p99 = svc.counters.percentiles()
        batches = svc.counters.accepted
        cam.disconnect()
        cam.loop_stop()
    return len(acked) / elapsed, p50, p99, batches


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=3000)
    ap.add_argument("--gallery", type=int, default=10_000)
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    cam_key = SigningKey.generate(topics.camera_issuer("cam1"))
    with tempfile.TemporaryDirectory() as tmp, embedded_broker(Path(tmp) / "broker") as broker:
        raw_payloads = messages(cam_key, args.messages, 10_000_000)
        size = sum(map(len, raw_payloads)) / len(raw_payloads)
        raw = raw_rate(broker, raw_payloads)
        rate, p50, p99, accepted = core_rate(broker, Path(tmp) / "core", cam_key,
                                             args.messages, args.gallery)
    print(f"messages: {args.messages} x {size:.0f} bytes (one face with encoding each), "
          f"gallery {args.gallery} people")
    print(f"raw broker QoS 1 pub->sub : {raw:8.0f} msg/s")
    print(f"core ingest (to e2e ack)  : {rate:8.0f} detections/s  ({accepted} stored)")
    print(f"ratio core / raw          : {rate / raw:8.2f}")
    if p50 is not None and p99 is not None:
        print(f"core latency receive->ack: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    print("(shared machine: figures are noisy)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
