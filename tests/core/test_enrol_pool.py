"""Enrolment photos are encoded in a worker process; ingest keeps placing people meanwhile."""

from __future__ import annotations

import base64
import io
import multiprocessing
import queue
import time
import uuid
from pathlib import Path

import numpy as np
from PIL import Image

from broker.users import default_path
from core import store
from core.enrol_pool import Enrolments
from core.service import CoreService
from srs.wire import commands as cmd
from srs.wire import topics
from srs.wire.payloads import BBox, PersonPosition
from srs.wire.signing import SigningKey, sign
from tests.brokers import fast_user_store
from tests.core.ingest_helpers import MEDIA, FakeCamera, batch, camera_key, core_config, face_data
from tests.core.test_service import Listener, _ask

ROOT = Path(__file__).resolve().parents[2]
PHOTOS = ["train/rose_leslie/img1.jpg", "train/rose_leslie/img2.jpg", "test/kit_with_rose.jpg"]


def jpeg_b64(path: Path, size: int = 320) -> str:
    with Image.open(path) as img:
        small = img.convert("RGB")
        small.thumbnail((size, size))
        buf = io.BytesIO()
        small.save(buf, "JPEG", quality=70)
    return base64.b64encode(buf.getvalue()).decode()


def request(images: list[str]) -> cmd.Request:
    command = cmd.EnrolPerson(name="Rose Leslie", images_jpeg_b64=images)
    return cmd.Request(request_id=uuid.uuid4().hex, command=command)


def test_photos_are_encoded_in_a_process_started_on_first_use_and_joined_on_close():
    pool = Enrolments()
    before = set(multiprocessing.active_children())
    assert not pool.busy and not pool.finished()  # nothing started yet
    images = [jpeg_b64(MEDIA / p) for p in PHOTOS] + ["@@@@"]
    pool.submit("alice", request(images), images)
    workers = set(multiprocessing.active_children()) - before
    assert len(workers) == 1 and pool.busy
    (done,) = pool.finished(wait_s=120)
    assert done.user == "alice" and done.error is None and done.results is not None
    problems = [r.problem for r in done.results]
    assert problems[:2] == [None, None] and "2 faces" in (problems[2] or "")
    assert problems[3] == "not base64"
    rose = [r.encoding for r in done.results[:2]]
    assert all(e is not None and e.shape == (128,) for e in rose)
    assert float(np.linalg.norm(rose[0] - rose[1])) < 0.6  # one person, two photos
    pool.close()
    assert not (workers & set(multiprocessing.active_children()))  # joined


def test_positions_keep_flowing_while_a_person_is_enrolled(tmp_path, srs_broker):
    """The issue's done-when: enrolling a person while a camera streams does not delay
    its positions. Messages the camera sends while core encodes the photos are placed
    and published before the enrolment is answered (on core's worker thread they
    waited for dlib). An ordering, not a timing: a shared machine is slow at times."""
    cfg = core_config(
        tmp_path,
        srs_broker.client_config("core", "core"),
        site_file=ROOT / "config" / "demo-site.toml",
    )
    cam_key = camera_key("corridor")
    db = store.open_store(cfg)
    with db.session() as s:
        store.add_camera(s, "corridor", cam_key.public_key_b64)
    db.close()
    fast_user_store(default_path(cfg)).add("alice", "operator")
    enc = face_data()["test/obama1.jpg"][0][1]
    with CoreService(cfg) as svc:
        assert svc.wait_connected(10)
        key = svc.key.public_key_b64
        alice = Listener(
            srs_broker.client_config("alice", "operator"),
            "alice",
            [topics.response("alice"), topics.ALL_POSITIONS],
            key,
        )
        cam = FakeCamera(
            srs_broker.client_config("corridor", "camera"), cam_key, "corridor", core_key_b64=key
        )
        try:
            a_key = SigningKey.generate(topics.operator_issuer("alice"))
            reg = cmd.RegisterKey(public_key=a_key.public_key_b64)
            assert _ask(alice.client, alice, "alice", a_key, reg).ok
            images = [jpeg_b64(MEDIA / p) for p in PHOTOS[:2]]
            req = request(images)
            topic = topics.request("alice")
            alice.client.publish(topic, sign(req, topic, a_key), qos=1)
            asked = time.time()
            placed_before_answer: list[float] = []  # last_seen of each position
            answer = None
            deadline = time.monotonic() + 120
            seq = 0
            while answer is None and time.monotonic() < deadline:
                seq += 1
                face = [(BBox(x=225, y=110, w=28, h=28), enc)]
                cam.send(batch("corridor", seq, face, frame=(480, 270)))
                until = time.monotonic() + 0.1
                while answer is None and time.monotonic() < until:
                    try:
                        got, data, _ = alice.inbox.get(timeout=0.02)
                    except queue.Empty:
                        continue
                    if got == topics.response("alice"):
                        resp = alice.verifier.verify(got, data, cmd.Response).payload
                        answer = resp if resp.request_id == req.request_id else None
                    elif data:
                        pos = alice.verifier.verify(got, data, PersonPosition).payload
                        placed_before_answer.append(pos.last_seen)
            assert answer is not None and answer.ok, answer
            assert isinstance(answer.result, dict) and answer.result["encoded"] == 2
            # Sent well after the request reached core, and placed before it was answered.
            during = [t for t in placed_before_answer if t > asked + 0.3]
            assert len(during) >= 3, (len(placed_before_answer), time.time() - asked)
        finally:
            cam.close()
            alice.close()
