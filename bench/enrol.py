"""Enrolment stall benchmark: do a camera's positions wait while an operator enrols?

Finding and encoding the faces of enrolment photos (dlib) takes seconds. This plays
one camera ("corridor" of config/demo-site.toml) at ``--rate`` signed messages per
second, ``--faces`` enrolled people each (bench/latency.py's messages, a fresh
encoding per track every ``encode_refresh_s`` as the edge sends them), for
``--seconds``, and records when each position reaches a subscriber with integrator
credentials (the camera and the integrator in a process of their own, as in
bench/latency.py). Meanwhile an operator sends ``--enrolments`` ``enrol_person``
requests one after the other, each with the real photos of ``srs/data/media/faces``
(``--photos`` per request, 240 px, so that a signed request fits the broker's 64 KiB
payload limit), and times each until core's answer.

It prints the position latency (camera publish -> integrator) of messages sent
while an enrolment was in progress, against the named baseline: the messages of the
same run sent while none was; and the time each enrolment took. The figure that
matters is the ratio: 1 means enrolling does not delay positions. Run it on a core
that encoded on its worker thread and the positions sent during an enrolment wait
for it (their latency is about as long as the enrolment). The embedded broker only
(core reads the operator's role from the broker's users file). Asserts nothing.

    .venv/bin/python bench/enrol.py [--rate 20] [--faces 5] [--seconds 20]
                                    [--enrolments 3] [--photos 4]
"""

from __future__ import annotations

import argparse
import base64
import importlib
import io
import logging
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # as `srs core` does, before numpy loads

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from core.config import CoreConfig  # noqa: E402
from core.service import CoreService  # noqa: E402
from edge.config import EdgeConfig  # noqa: E402
from srs.app.config import SrsConfig  # noqa: E402
from srs.config import SecurityConfig  # noqa: E402
from srs.wire import commands as cmd  # noqa: E402
from srs.wire import topics  # noqa: E402
from srs.wire.payloads import PersonPosition  # noqa: E402
from srs.wire.reading import verifier_for  # noqa: E402
from srs.wire.signing import SigningKey, sign  # noqa: E402

_bench_core = importlib.import_module("bench.core")
_latency = importlib.import_module("bench.latency")
connect = importlib.import_module("bench.camera").connect
FACES = ROOT / "srs" / "data" / "media" / "faces"


def photos(n: int) -> list[str]:
    """``n`` real photos of one face each, as the dashboard sends them (JPEG, base64)."""
    paths = sorted(p for p in (FACES / "train").glob("*/*.jp*g"))[:n]
    out = []
    for path in paths:
        with Image.open(path) as img:
            small = img.convert("RGB")
            small.thumbnail((240, 240))
            buf = io.BytesIO()
            small.save(buf, "JPEG", quality=70)
        out.append(base64.b64encode(buf.getvalue()).decode())
    return out


class Operator:
    """Sends enrol_person requests one after the other; records [asked, answered]."""

    def __init__(self, mqtt: Any, core_key: Any, images: list[str]) -> None:
        self.images = images
        self.key = SigningKey.generate(topics.operator_issuer("alice"))
        self.verifier = verifier_for(
            SecurityConfig(), lambda iss: core_key if iss == topics.CORE_SENDER else None
        )
        self.answered: dict[str, cmd.Response] = {}
        self.got = threading.Condition()
        self.client = connect(mqtt, "alice")
        self.client.on_message = self._on_message
        self.client.subscribe(topics.response("alice"), qos=1)
        time.sleep(0.3)
        reply = self.ask(cmd.RegisterKey(public_key=self.key.public_key_b64))
        if not reply.ok:
            raise SystemExit(f"core refused the operator's key: {reply.error}")
        self.windows: list[tuple[float, float, int]] = []  # asked, answered, encoded
        self.error: BaseException | None = None

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        resp = self.verifier.verify(msg.topic, msg.payload, cmd.Response).payload
        with self.got:
            self.answered[resp.request_id] = resp
            self.got.notify_all()

    def ask(self, command: Any) -> cmd.Response:
        rid = uuid.uuid4().hex
        topic = topics.request("alice")
        req = cmd.Request(request_id=rid, command=command)
        data = sign(req, topic, self.key)
        if len(data) > 64 * 1024:
            raise SystemExit(f"a {len(data)} byte request exceeds the broker's limit: fewer photos")
        self.client.publish(topic, data, qos=1)
        with self.got:
            if not self.got.wait_for(lambda: rid in self.answered, timeout=120):
                raise SystemExit("core did not answer within 120 s")
            return self.answered.pop(rid)

    def enrol(self, start_at: float, count: int) -> None:
        time.sleep(max(0.0, start_at - time.time()))
        try:
            for i in range(count):
                asked = time.time()
                command = cmd.EnrolPerson(name=f"Enrolled {i}", images_jpeg_b64=self.images)
                reply = self.ask(command)
                encoded = reply.result.get("encoded", 0) if isinstance(reply.result, dict) else 0
                self.windows.append((asked, time.time(), encoded))
        except BaseException as exc:  # noqa: BLE001 - a thread's SystemExit would pass unseen
            self.error = exc

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def measure(args: argparse.Namespace) -> tuple[list[tuple[float, float]], Operator]:
    """(camera publish time, latency ms) of every position, and the operator's record."""
    cam_key = SigningKey.generate(topics.camera_issuer(_latency.CAMERA))
    people = _latency.gallery(args.faces)
    with (
        tempfile.TemporaryDirectory() as tmp,
        _bench_core.start_broker("embedded", Path(tmp)) as broker,
    ):
        for user, role in (
            ("core", "core"),
            ("ha", "integrator"),
            (_latency.CAMERA, "camera"),
            ("alice", "operator"),
        ):
            broker.client_config(user, role)
        cfg = SrsConfig(
            data_dir=Path(tmp) / "broker-data",  # core reads roles from the broker's users
            mqtt=broker.client_config("core", "core"),
            core=CoreConfig(status_interval_s=60, site_file=ROOT / "config" / "demo-site.toml"),
        )
        _latency.seed_store(cfg, cam_key, people)
        with CoreService(cfg) as svc:
            svc.wait_connected(10)
            op = Operator(
                broker.client_config("alice", "operator"), svc.key.public_key, photos(args.photos)
            )
            n = int(args.rate * args.seconds)
            t0 = time.time() + 4.0 + n * 0.01  # signing first, then the camera's process starts
            planned = [t0 + i / args.rate for i in range(n)]
            every = max(1, round(args.rate * EdgeConfig().encode_refresh_s))
            payloads = [
                _latency.frame(cam_key, i + 1, people, planned[i], i % every == 0) for i in range(n)
            ]
            # Enrolments start a fifth of the way in: the baseline is before and after.
            worker = threading.Thread(
                target=op.enrol, args=(t0 + args.seconds / 5, args.enrolments), daemon=True
            )
            worker.start()
            ctx = multiprocessing.get_context("spawn")
            here, there = ctx.Pipe(duplex=False)
            child = ctx.Process(
                target=_latency.outside_world,
                args=(
                    broker.client_config(_latency.CAMERA, "camera"),
                    broker.client_config("ha", "integrator"),
                    payloads,
                    planned,
                    True,
                    n * len(people),
                    there,
                ),
            )
            child.start()
            sends, arrivals = here.recv()
            child.join(30)
            worker.join(120)
            op.close()
            core_pub = svc.key.public_key
    verifier = verifier_for(
        SecurityConfig(), lambda iss: core_pub if iss == topics.CORE_SENDER else None
    )
    sent_at = dict(zip(planned, sends, strict=True))
    out = []
    for arrived, topic, data in arrivals:
        if not data:
            continue
        pos = verifier.verify(topic, data, PersonPosition).payload
        start = sent_at.get(pos.last_seen)
        if start is not None:
            out.append((start, (arrived - start) * 1000))
    return out, op


def summary(values: list[float]) -> str:
    if not values:
        return "no positions"
    values = sorted(values)
    p99 = values[min(len(values) - 1, int(0.99 * len(values)))]
    return (
        f"p50 {statistics.median(values):8.1f} ms  p99 {p99:8.1f} ms  "
        f"max {values[-1]:8.1f} ms  ({len(values)} positions)"
    )


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rate", type=float, default=20.0, help="messages per second")
    ap.add_argument("--faces", type=int, default=5, help="detections per message")
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--enrolments", type=int, default=3, help="enrol_person requests, in turn")
    ap.add_argument("--photos", type=int, default=4, help="photos per request (at most 8)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    positions, op = measure(args)
    if op.error is not None:
        raise SystemExit(f"the operator failed: {op.error}")
    during = [ms for sent, ms in positions if any(a <= sent <= b for a, b, _ in op.windows)]
    outside = [ms for sent, ms in positions if not any(a <= sent <= b for a, b, _ in op.windows)]
    print(
        f"load: {args.rate:g} msg/s x {args.faces} faces for {args.seconds:g} s; "
        f"{args.enrolments} enrolments of {args.photos} photos each (embedded broker)"
    )
    for i, (asked, answered, encoded) in enumerate(op.windows):
        print(f"  enrolment {i + 1}: answered after {answered - asked:6.2f} s ({encoded} encoded)")
    print(f"  positions, no enrolment in progress (baseline): {summary(outside)}")
    print(f"  positions, sent during an enrolment           : {summary(during)}")
    if during and outside:
        p50 = statistics.median(during) / statistics.median(outside)
        print(f"  ratio during / baseline: p50 x{p50:.2f}, max x{max(during) / max(outside):.2f}")
    print("(shared machine: figures are noisy)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
