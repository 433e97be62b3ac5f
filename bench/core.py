"""Core ingest benchmark: raw broker QoS 1 rate vs sustained core ingest, same run.

1. Raw: a camera client publishes N signed ~1.9 KB detection messages at QoS 1 to the
   broker; a plain QoS 1 subscriber receives them (no verification).
2. Core: the same kind of messages go to a running CoreService with a 10,000-person
   gallery; we time from the first publish to the last end-to-end ack received.

Both steps run against each broker chosen with ``--broker``, each in its own process
and with a fresh core database:

* ``embedded``: the SRS broker (`srs broker`, amqtt) as deployed;
* ``mosquitto``: ``mosquitto -c`` with the configuration, passwords and ACL that
  ``srs broker export --format mosquitto`` writes (tests/brokers.py), i.e. the same
  users and rules as a site that moved to Mosquitto;
* ``both`` (the default when the ``mosquitto`` binary is installed; without it the
  default is ``embedded`` and a line says Mosquitto was skipped).

Each step runs ``--rounds`` times (default 3; raw first, since core would also take
the raw messages once subscribed) and the medians are compared: a single burst swung
the ratio between 0.65 and 0.90 on the 2-core dev machine.

Prints, per broker and labelled with it, messages/s for both steps, the ratio and
core's own ingest latency (receive -> ack published) p50/p99; then the message size
and the cost of verifying one message. The camera runs in a process of its own
(bench/camera.py), as it is another machine when deployed; it shares the machine's
cores with the broker and core, and with whatever else runs: figures are noisy.
Asserts nothing.

    .venv/bin/python bench/core.py [--messages 3000] [--gallery 10000] [--rounds 3]
                                   [--broker {embedded,mosquitto,both}]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import importlib
import logging
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # as `srs core` does, before numpy loads

import nacl.bindings  # noqa: E402
import numpy as np  # noqa: E402

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
from srs.app.config import SrsConfig  # noqa: E402
from srs.config import SecurityConfig  # noqa: E402
from srs.wire import topics  # noqa: E402
from srs.wire.payloads import BBox, Detection, DetectionBatch  # noqa: E402
from srs.wire.reading import verifier_for  # noqa: E402
from srs.wire.signing import SigningKey, sign  # noqa: E402
from tests.brokers import (  # noqa: E402
    BrokerHandle,
    fast_user_store,
    free_port,
    mosquitto_binary,
    mosquitto_broker,
)

# The camera's process (a camera is another machine); imported by name so that mypy
# does not also see bench/core.py as the top-level module "core" (no package marker).
_camera = importlib.import_module("bench.camera")
CameraProcess, connect = _camera.CameraProcess, _camera.connect
wait_for_progress = _camera.wait_for_progress

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
        b = DetectionBatch(
            camera_id="cam1",
            seq=start_seq + i,
            captured_at=round(time.time(), 3),
            frame_width=640,
            frame_height=360,
            detections=[
                Detection(
                    kind="face",
                    bbox=BBox(x=100, y=80, w=60, h=60),
                    track_id=i,
                    score=0.9,
                    encoding=encoding(),
                )
            ],
        )
        out.append(sign(b, topic, key))
    return out


def raw_rate(broker: BrokerHandle, payloads: list[bytes]) -> tuple[float, int]:
    """QoS 1 messages/s from the camera's process to a subscriber here, and how many
    arrived."""
    got = threading.Event()
    count = [0]
    last = [0.0]

    def on_message(c: object, u: object, m: object) -> None:
        count[0] += 1
        last[0] = time.perf_counter()
        if count[0] >= len(payloads):
            got.set()

    sub = connect(broker.client_config("core", "core"), "core:raw")
    sub.on_message = on_message
    sub.subscribe(topics.ALL_DETECTIONS, qos=1)
    time.sleep(0.5)
    with CameraProcess(broker.client_config("cam1", "camera"), "cam1") as cam:
        burst = cam.play(payloads)
        wait_for_progress(got, lambda: count[0])
    elapsed = (last[0] or time.perf_counter()) - burst.started
    sub.disconnect()
    sub.loop_stop()
    return count[0] / elapsed, count[0]


def fill_gallery(db: store.Database, people: int) -> None:
    now = time.time()
    with db.session() as s:
        s.execute(
            insert(Person),
            [{"id": i + 1, "name": f"person {i + 1}", "created_at": now} for i in range(people)],
        )
        s.execute(
            insert(FaceEncoding),
            [
                {
                    "person_id": i + 1,
                    "vector": to_blob(GALLERY[i % len(GALLERY)]),
                    "source": "bench",
                    "created_at": now,
                }
                for i in range(people)
            ],
        )
        store.audit(s, "admin", "bench", "fill_gallery")
        bump(s, GALLERY_REV)


@dataclass
class CoreFigures:
    rate: float = 0.0  # median of the rounds
    rates: list[float] = field(default_factory=list)
    acked: int = 0
    stored: int = 0
    overload_p50: float | None = None
    overload_p99: float | None = None
    paced_rate: float = 0.0
    paced_p50: float | None = None
    paced_p99: float | None = None


def core_rate(
    broker: BrokerHandle, data_dir: Path, cam_key: SigningKey, n: int, gallery: int, rounds: int
) -> CoreFigures:
    cfg = SrsConfig(
        data_dir=data_dir,
        mqtt=broker.client_config("core", "core"),
        core=CoreConfig(status_interval_s=60),
    )
    db = store.open_store(cfg)
    with db.session() as s:
        store.add_camera(s, "cam1", cam_key.public_key_b64)
    fill_gallery(db, gallery)
    db.close()
    figures = CoreFigures()
    with (
        CoreService(cfg) as svc,
        CameraProcess(broker.client_config("cam1", "camera"), "cam1") as cam,
    ):
        svc.wait_connected(10)
        core_key = svc.key.public_key_b64
        acked = 0
        # 1. Saturation, ``rounds`` times: everything at once; time to the last e2e ack.
        for r in range(rounds):
            burst = cam.play(messages(cam_key, n, r * n + 1), core_key=core_key, acks=(r + 1) * n)
            figures.rates.append(
                (burst.acked - acked) / ((burst.last_ack or time.perf_counter()) - burst.started)
            )
            acked = burst.acked
        figures.acked = acked
        figures.rate = statistics.median(figures.rates)
        figures.overload_p50, figures.overload_p99 = svc.counters.percentiles()
        figures.stored = svc.counters.accepted
        # 2. Paced at a quarter of that rate: the latency a camera sees when core keeps up.
        paced = max(50, n // 4)
        figures.paced_rate = figures.rate / 4
        svc.counters.reset_latency()
        cam.play(
            messages(cam_key, paced, rounds * n + 1),
            core_key=core_key,
            acks=rounds * n + paced,
            rate=figures.paced_rate,
        )
        figures.paced_p50, figures.paced_p99 = svc.counters.percentiles()
    return figures


def verify_cost(cam_key: SigningKey, n: int = 500) -> tuple[float, float]:
    """ms per Verifier.verify of one message, and per bare Ed25519 signature check."""
    pub = cam_key.public_key
    v = verifier_for(SecurityConfig(), lambda iss: pub)
    payloads = messages(cam_key, n, 50_000_000)
    topic = topics.detections("cam1")
    t0 = time.perf_counter()
    for p in payloads:
        v.verify(topic, p, DetectionBatch)
    full = (time.perf_counter() - t0) / n * 1000
    signing_input, _, sig = payloads[0].rpartition(b".")
    signed = base64.urlsafe_b64decode(sig + b"=" * (-len(sig) % 4)) + signing_input
    raw_key = pub.public_bytes_raw()
    t0 = time.perf_counter()
    for _ in range(n):
        nacl.bindings.crypto_sign_open(signed, raw_key)  # the check srs.wire.jws makes
    return full, (time.perf_counter() - t0) / n * 1000


@contextlib.contextmanager
def broker_process(tmp: Path) -> Iterator[BrokerHandle]:
    """`srs broker` in its own process, as deployed (not sharing core's interpreter)."""
    port = free_port()
    data = tmp / "broker-data"
    # camera_rate = 0: these benchmarks measure what the broker and core can carry, so
    # the per-camera limit (100/s by default, broker/throttle.py) must not cap them.
    (tmp / "broker.toml").write_text(
        f'data_dir = "{data}"\n[broker]\nport = {port}\ncamera_rate = 0\n'
        '[logging]\nlevel = "WARNING"\n'
    )
    handle = BrokerHandle("127.0.0.1", port, store=fast_user_store(data / "broker" / "users.json"))
    handle.client_config("core", "core")
    proc = subprocess.Popen(
        [sys.executable, "-m", "srs.app", "broker", "--config", str(tmp / "broker.toml")], cwd=ROOT
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        yield handle
    finally:
        proc.terminate()
        proc.wait(20)


# --broker: which brokers a benchmark measures (bench/latency.py uses these too).
BROKER_CHOICES = ("embedded", "mosquitto", "both")


def add_broker_option(ap: argparse.ArgumentParser) -> None:
    ap.add_argument(
        "--broker",
        choices=BROKER_CHOICES,
        default=None,
        help="broker(s) to measure (default: both when the mosquitto binary "
        "is installed, else embedded)",
    )


def chosen_brokers(choice: str | None) -> list[str]:
    """The brokers to measure, in order; says so when Mosquitto is skipped."""
    installed = mosquitto_binary() is not None
    if choice is None:
        if installed:
            return ["embedded", "mosquitto"]
        print(
            "Mosquitto skipped: no `mosquitto` binary on PATH or in /usr/sbin "
            "(apt install mosquitto); measuring the embedded broker only",
            flush=True,
        )
        return ["embedded"]
    if choice != "embedded" and not installed:
        raise SystemExit(
            f"--broker {choice}: no `mosquitto` binary on PATH or in /usr/sbin "
            "(apt install mosquitto)"
        )
    return ["embedded", "mosquitto"] if choice == "both" else [choice]


def broker_label(kind: str) -> str:
    """What was measured, for the report: broker, version, how it runs."""
    if kind == "embedded":
        from importlib.metadata import version

        return f"embedded SRS broker (amqtt {version('amqtt')}, `srs broker` in its own process)"
    binary = mosquitto_binary()
    assert binary is not None
    out = subprocess.run([binary, "-h"], capture_output=True, text=True, timeout=10).stdout
    first = out.splitlines()[0].strip() if out else "mosquitto"
    name = first.replace("mosquitto version", "Mosquitto").strip() or "Mosquitto"
    return f"{name} (`mosquitto -c`, SRS users and ACL as `srs broker export` writes them)"


@contextlib.contextmanager
def start_broker(kind: str, tmp: Path) -> Iterator[BrokerHandle]:
    """The broker ``kind`` in its own process, users and rules as deployed."""
    if kind == "embedded":
        with broker_process(tmp) as handle:
            yield handle
        return
    binary = mosquitto_binary()
    if binary is None:
        raise SystemExit("no `mosquitto` binary (apt install mosquitto)")
    with mosquitto_broker(tmp, binary) as handle:
        # Users reach Mosquitto by re-export + SIGHUP: create them before any client
        # (core's persistent session included) is connected.
        handle.client_config("core", "core")
        yield handle


@dataclass
class BrokerFigures:
    label: str
    raw: float  # median of the rounds
    raws: list[float]
    received: int
    core: CoreFigures


def measure(
    kind: str, cam_key: SigningKey, raw_payloads: list[bytes], args: argparse.Namespace
) -> BrokerFigures:
    label = broker_label(kind)
    print(f"measuring {label} ...", flush=True)
    with tempfile.TemporaryDirectory() as tmp, start_broker(kind, Path(tmp)) as broker:
        broker.client_config("cam1", "camera")
        # Rounds of each, raw first (core, once subscribed, would take the raw messages
        # too): one burst is at the mercy of whatever else the machine does meanwhile.
        raws = [raw_rate(broker, raw_payloads) for _ in range(args.rounds)]
        fig = core_rate(
            broker, Path(tmp) / "core", cam_key, args.messages, args.gallery, args.rounds
        )
    return BrokerFigures(
        label,
        statistics.median(r for r, _ in raws),
        [r for r, _ in raws],
        min(n for _, n in raws),
        fig,
    )


def report(figures: BrokerFigures, sent: int) -> None:
    def ms(v: float | None) -> str:
        return "-" if v is None else f"{v:.1f} ms"

    def lost(got: int, verb: str, of: int = sent) -> str:
        return "" if got >= of else f"only {got}/{of} {verb}"

    def each(values: list[float]) -> str:
        return ", ".join(f"{v:.0f}" for v in values)

    fig = figures.core
    raw_lost = lost(figures.received, "received")
    core_lost = lost(fig.acked, "acked", sent * len(fig.rates))
    print(f"broker: {figures.label}")
    print(
        f"  raw broker QoS 1 pub->sub : {figures.raw:8.0f} msg/s  (median of "
        f"{each(figures.raws)})" + (f"  ({raw_lost})" if raw_lost else "")
    )
    print(
        f"  core ingest (to e2e ack)  : {fig.rate:8.0f} detections/s  (median of "
        f"{each(fig.rates)}; {fig.stored} stored" + (f", {core_lost})" if core_lost else ")")
    )
    print(
        f"  ratio core / raw          : {fig.rate / figures.raw:8.2f}  (goal >= 0.90: "
        f"{'met' if fig.rate >= 0.9 * figures.raw else 'MISSED'})"
    )
    print(
        f"  latency receive->ack, saturated: p50 {ms(fig.overload_p50)}, "
        f"p99 {ms(fig.overload_p99)} (queueing behind the burst)"
    )
    print(
        f"  latency receive->ack at {fig.paced_rate:.0f}/s: p50 {ms(fig.paced_p50)}, "
        f"p99 {ms(fig.paced_p99)}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--messages", type=int, default=3000)
    ap.add_argument("--gallery", type=int, default=10_000)
    ap.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="bursts of each kind; the medians are compared (default 3)",
    )
    add_broker_option(ap)
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    kinds = chosen_brokers(args.broker)
    cam_key = SigningKey.generate(topics.camera_issuer("cam1"))
    raw_payloads = messages(cam_key, args.messages, 10_000_000)
    size = sum(map(len, raw_payloads)) / len(raw_payloads)
    results = [measure(kind, cam_key, raw_payloads, args) for kind in kinds]
    full, bare = verify_cost(cam_key)

    print(
        f"messages: {args.messages} x {size:.0f} bytes (one face with encoding each), "
        f"gallery {args.gallery} people"
    )
    for figures in results:
        report(figures, len(raw_payloads))
    if len(results) == 2:
        embedded, mosquitto = results
        print(
            f"Mosquitto / embedded: raw QoS 1 x{mosquitto.raw / embedded.raw:.2f}, "
            f"core ingest x{mosquitto.core.rate / embedded.core.rate:.2f}"
        )
    print(f"verify one message: {full:.2f} ms (of which the Ed25519 check {bare:.2f} ms)")
    print("(shared machine: figures are noisy)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
