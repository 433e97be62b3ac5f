"""A small stand-in for core in edge tests: verify detections, store once, ack.

``refuse`` (a test sets it) decides per message whether core refuses it instead (a
signed Ack with ``refused``), or drops it unanswered (return ``"drop"``): a core that
is away. ``core_offset_s`` moves this core's clock (its acks' ``iat``, its status's
``sent_at``) against the camera's; ``publish_status`` sends core's live heartbeat.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Literal

import paho.mqtt.client as paho

from srs.config import MqttConfig
from srs.mqtt import ConnectionWatcher, guarded, make_client
from srs.wire import topics
from srs.wire.payloads import Ack, CameraStatus, CoreStatus, DetectionBatch, Refusal
from srs.wire.signing import Reason, SigningKey, Verifier, WireError, sign


class Acker:
    def __init__(
        self, mqtt: MqttConfig, camera_key: SigningKey, core_key: SigningKey, camera_id: str
    ) -> None:
        self.camera_id = camera_id
        self.core_key = core_key
        pub = camera_key.public_key
        self.verifier = Verifier(lambda iss: pub if iss == camera_key.issuer else None)
        self.stored: list[int] = []  # like core's store: each (camera, seq) once
        self.batches: list[DetectionBatch] = []
        self.received = 0
        self.rejected: list[str] = []
        self.statuses: list[CameraStatus] = []
        self.refused = 0
        self.refuse: Callable[[DetectionBatch], Refusal | Literal["drop"] | None] = lambda batch: (
            None
        )
        self.core_offset_s = 0.0
        self.lock = threading.Lock()
        self.watcher = ConnectionWatcher()
        self.client = make_client(mqtt, f"{mqtt.username}:acker")
        self.client.on_connect = guarded(self._on_connect, "connect")
        self.client.on_message = guarded(self._on_message, "message")

    def start(self, host: str, port: int) -> Acker:
        self.client.connect(host, port)
        self.client.loop_start()
        if not self.watcher.connected.wait(10):
            raise RuntimeError(f"acker could not connect: {self.watcher.last_error}")
        return self

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client: paho.Client, *args: Any) -> None:
        self.watcher.on_connect(client, *args)
        client.subscribe(
            [(topics.detections(self.camera_id), 1), (topics.camera_status(self.camera_id), 1)]
        )

    def _on_message(self, client: paho.Client, userdata: Any, msg: paho.MQTTMessage) -> None:
        if topics.parse(msg.topic).kind is topics.TopicKind.CAMERA_STATUS:
            status = self.verifier.verify(msg.topic, msg.payload, CameraStatus).payload
            with self.lock:
                self.statuses.append(status)
            return
        try:
            batch = self.verifier.verify(msg.topic, msg.payload, DetectionBatch).payload
        except WireError as exc:
            if exc.reason is not Reason.REPLAYED or not msg.dup:
                self.rejected.append(str(exc))
                return
            return  # a redelivery of what we already stored and acked
        refusal = self.refuse(batch)
        with self.lock:
            self.received += 1
            if refusal == "drop":
                return
            if refusal is not None:
                self.refused += 1
            elif batch.seq not in self.stored:
                self.stored.append(batch.seq)
                self.batches.append(batch)
        ack = Ack(camera_id=self.camera_id, seqs=[batch.seq], refused=refusal)
        topic = topics.ack(self.camera_id)
        client.publish(topic, sign(ack, topic, self.core_key, now=self.now()), qos=1)

    def now(self) -> float:
        """This core's clock."""
        return time.time() + self.core_offset_s

    def publish_status(self, state: Literal["online", "offline"] = "online") -> None:
        """Core's heartbeat, live (not retained: the camera measures its clock by it)."""
        topic = topics.core_status()
        status = CoreStatus(state=state, sent_at=self.now(), heartbeat_interval_s=1.0)
        self.client.publish(topic, sign(status, topic, self.core_key, now=self.now()), qos=1)
