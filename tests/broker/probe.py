"""A paho client for broker tests: connect result, suback codes, received messages."""

from __future__ import annotations

import queue
import threading
import time
from typing import Any

import paho.mqtt.client as paho

from srs.config import MqttConfig
from srs.mqtt import Will, make_client

WAIT_S = 10.0  # an upper bound for failures only; nothing asserts on elapsed time


class Probe:
    def __init__(
        self,
        mqtt: MqttConfig,
        client_id: str,
        *,
        will: Will | None = None,
        username: str | None = None,
        password: str | None = None,
        clean_session: bool = True,
    ) -> None:
        self.client = make_client(
            mqtt,
            client_id,
            will=will,
            username=username,
            password=password,
            clean_session=clean_session,
        )
        self.mqtt = mqtt
        self.rc: Any = None
        self.messages: queue.Queue[paho.MQTTMessage] = queue.Queue()
        self.seen: list[paho.MQTTMessage] = []
        self.disconnects = 0
        self._connected = threading.Event()
        self._subacks: dict[int, list[Any]] = {}
        self._suback_event = threading.Condition()
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = lambda c, u, m: self.messages.put(m)
        self.client.on_subscribe = self._on_subscribe

    def _on_connect(self, c: Any, u: Any, flags: Any, rc: Any, props: Any = None) -> None:
        self.rc = rc
        self._connected.set()

    def _on_disconnect(self, c: Any, u: Any, flags: Any, rc: Any, props: Any = None) -> None:
        self.disconnects += 1

    def _on_subscribe(self, c: Any, u: Any, mid: int, codes: list[Any], props: Any = None) -> None:
        with self._suback_event:
            self._subacks[mid] = codes
            self._suback_event.notify_all()

    def connect(self) -> bool:
        """CONNECT and wait for CONNACK; True if accepted (then the network loop runs)."""
        try:
            self.client.connect(self.mqtt.host, self.mqtt.port, keepalive=30)
        except OSError:
            return False
        deadline = time.monotonic() + WAIT_S
        while not self._connected.is_set() and time.monotonic() < deadline:
            try:
                if self.client.loop(0.05) != paho.MQTT_ERR_SUCCESS and self.rc is None:
                    break  # closed without any CONNACK
            except OSError:
                break
        if self.rc is None or self.rc.is_failure:
            self.client.disconnect()
            return False
        self.client.loop_start()
        return True

    def subscribe(self, topic: str, qos: int = 1) -> bool:
        """SUBSCRIBE and wait for SUBACK; True if granted."""
        _, mid = self.client.subscribe(topic, qos)
        assert mid is not None
        with self._suback_event:
            if not self._suback_event.wait_for(lambda: mid in self._subacks, WAIT_S):
                raise AssertionError(f"no SUBACK for {topic!r}")
            return not self._subacks[mid][0].is_failure

    def publish(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> None:
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        info.wait_for_publish(WAIT_S)

    def expect(self, topic: str, payload: bytes | None = None) -> paho.MQTTMessage:
        """Wait for a message on ``topic`` (and payload); everything else goes to ``seen``."""
        deadline = time.monotonic() + WAIT_S
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"nothing on {topic!r}; saw {self.topics()}")
            try:
                msg = self.messages.get(timeout=remaining)
            except queue.Empty:
                continue
            self.seen.append(msg)
            if msg.topic == topic and (payload is None or msg.payload == payload):
                return msg

    def topics(self) -> list[str]:
        return [m.topic for m in self.seen]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
