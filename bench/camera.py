"""A benchmark camera in a process of its own, as deployed: a camera is another machine.

When the camera's paho client shared core's interpreter, every publish and every
ack it verified waited for core's interpreter lock, and core waited for the
camera's: the benchmark measured their contention as much as core. The child is
spawned (not forked: the parent's MQTT and core threads are running), connects once
and then plays bursts of pre-signed messages on request.

    with CameraProcess(broker.client_config("cam1", "camera"), "cam1") as cam:
        burst = cam.play(payloads)                       # QoS 1, as fast as it goes
        burst = cam.play(payloads, core_key=b64, acks=n)  # ... until n seqs are acked
"""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from srs.config import SecurityConfig
from srs.mqtt import ConnectionWatcher, make_client
from srs.wire import public_key_from_b64, topics
from srs.wire.payloads import Ack
from srs.wire.reading import verifier_for
from srs.wire.signing import Verifier


@dataclass(frozen=True)
class Burst:
    started: float  # time.perf_counter() (CLOCK_MONOTONIC: the same in every process)
    published: float  # every PUBACK in
    acked: int  # distinct sequence numbers core has acknowledged so far
    last_ack: float  # when the last of them arrived (0.0: none)


def connect(mqtt: Any, client_id: str, on_socket_open: Any = None) -> Any:
    """A started paho client, connected (or SystemExit saying why not)."""
    c = make_client(mqtt, client_id)
    if on_socket_open is not None:
        c.on_socket_open = on_socket_open
    w = ConnectionWatcher()
    c.on_connect = w.on_connect
    c.connect(mqtt.host, mqtt.port)
    c.loop_start()
    if not w.connected.wait(10):
        raise SystemExit(f"{client_id} could not connect: {w.last_error}")
    return c


def wait_for_progress(done: threading.Event, count: Any, idle_s: float = 10.0) -> None:
    """Until ``done``, or ``count()`` did not grow for ``idle_s`` (a broker that drops
    messages must not stall the benchmark; the shortfall is reported)."""
    seen = -1
    while not done.wait(idle_s) and count() != seen:
        seen = count()


class _Acks:
    def __init__(self) -> None:
        self.seqs: set[int] = set()
        self.last = 0.0
        self.want = 0
        self.done = threading.Event()
        self.verifier: Verifier | None = None

    def on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        if self.verifier is None:
            return
        ack = self.verifier.verify(msg.topic, msg.payload, Ack).payload  # as the edge does
        self.seqs.update(ack.seqs)
        self.last = time.perf_counter()
        if len(self.seqs) >= self.want:
            self.done.set()


def _serve(mqtt: Any, client_id: str, conn: Any) -> None:
    acks = _Acks()
    cam = connect(mqtt, client_id)
    cam.on_message = acks.on_message
    cam.subscribe(topics.ack(client_id), qos=1)
    topic = topics.detections(client_id)
    conn.send("ready")
    while (cmd := conn.recv()) is not None:
        payloads, core_key, want, rate = cmd
        if core_key is not None and acks.verifier is None:
            acks.verifier = verifier_for(
                SecurityConfig(), {"core": public_key_from_b64(core_key)}.get
            )
        acks.want = want
        acks.done.clear()
        started = time.perf_counter()
        infos = []
        for i, p in enumerate(payloads):
            if rate:
                delay = started + i / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            infos.append(cam.publish(topic, p, qos=1))
        for info in infos:
            info.wait_for_publish(60)
        published = time.perf_counter()
        if want:
            wait_for_progress(acks.done, lambda: len(acks.seqs))
        conn.send(Burst(started, published, len(acks.seqs), acks.last))
    cam.disconnect()
    cam.loop_stop()


class CameraProcess:
    """The camera child; ``play`` runs one burst and returns its timings."""

    def __init__(self, mqtt: Any, client_id: str) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, there = ctx.Pipe()
        self._child = ctx.Process(
            target=_serve, args=(mqtt, client_id, there), name=f"camera {client_id}", daemon=True
        )

    def __enter__(self) -> CameraProcess:
        self._child.start()
        if not self._conn.poll(60) or self._conn.recv() != "ready":
            raise SystemExit("the benchmark camera did not start")
        return self

    def play(
        self,
        payloads: list[bytes],
        *,
        core_key: str | None = None,
        acks: int = 0,
        rate: float | None = None,
    ) -> Burst:
        """Publish ``payloads`` at QoS 1 (paced at ``rate``/s if given); with ``acks``,
        wait until that many sequence numbers have been acked by core (``core_key``)."""
        self._conn.send((payloads, core_key, acks, rate))
        burst: Burst = self._conn.recv()
        return burst

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with contextlib.suppress(OSError):  # the child is gone already
            self._conn.send(None)
        self._child.join(30)
        if self._child.is_alive():
            self._child.kill()
