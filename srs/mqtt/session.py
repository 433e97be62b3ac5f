"""``Session``: the one MQTT session type of every SRS component and tool.

A context manager around one paho client (built by :func:`srs.mqtt.client.make_client`:
credentials, TLS, will, TCP_NODELAY, bounded reconnect back-off). On top it:

* speaks MQTT 5 where the broker does (``[mqtt] protocol = "auto"``): the first
  connection tries 5; a broker that refuses the version (CONNACK 0x84, or rc 1 from a
  3.1.1 broker, as the embedded one answers: broker.first_packet) gets a new client
  speaking 3.1.1 at once, for the rest of the session; one that stays silent for
  ``PROBE_S`` (stock amqtt 0.12 misreads an MQTT 5 CONNECT and waits for bytes that
  never come) gets it after that wait. paho cannot change a client's protocol, hence
  a new client;
* asks for a persistent session the way the protocol has it (3.1.1 clean_session
  False; 5 clean_start False with a session expiry interval);
* subscribes its ``subscriptions`` on every connection and checks every SUBACK: a
  refused filter becomes :class:`SubscriptionRefused` (naming the filter and the
  broker's reason), logged, kept in ``refused`` and handed to ``on_refused``; a
  service then stops with that sentence instead of running deaf. ``optional``
  filters are subscribed on every connection too, in a SUBSCRIBE of their own, and a
  refusal of one is only logged (once): what they bring is welcome, not needed
  (core's reading of the embedded broker's status, which other brokers neither
  publish nor need allow);
* logs the broker's reason for a refused PUBLISH or a DISCONNECT (MQTT 5 gives one);
* has one stop path: disconnect, network thread stopped and joined.

Driven by paho's network thread (``loop_start``) unless ``by_hand``: then the caller
drives ``session.client`` itself (core's pump) and calls :meth:`tend` each step.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import paho.mqtt.client as paho

from srs.config import MqttConfig
from srs.mqtt.client import Will, connect_options, guarded, make_client, nodelay
from srs.mqtt.reasons import (
    UNSUPPORTED_PROTOCOL,
    SubscriptionRefused,
    code_of,
    connack_sentence,
    disconnect_sentence,
    is_failure,
    reason_text,
    refused_filters,
)

log = logging.getLogger(__name__)

# How long an MQTT 5 CONNECT may go unanswered on an open socket before "auto" falls
# back to 3.1.1. A broker that speaks 5 answers in milliseconds on a LAN; a slow link
# that misses this only costs MQTT 5's extras, never the connection.
PROBE_S = 3.0
_MAX_TRACKED_PUBLISHES = 10_000

Callback = Callable[..., Any]


class Session:
    def __init__(
        self,
        cfg: MqttConfig,
        client_id: str,
        *,
        clean_session: bool = True,
        will: Will | None = None,
        username: str | None = None,
        password: str | None = None,
        subscriptions: Sequence[tuple[str, int]] = (),
        optional: Sequence[tuple[str, int]] = (),
        on_connect: Callback | None = None,
        on_message: Callback | None = None,
        on_disconnect: Callback | None = None,
        on_connect_fail: Callback | None = None,
        on_refused: Callable[[SubscriptionRefused], None] | None = None,
        on_subscribed: Callable[[], None] | None = None,
        by_hand: bool = False,
        reconnect_max_s: int = 5,
    ) -> None:
        self.cfg, self.client_id = cfg, client_id
        self._clean_session, self._will = clean_session, will
        self._username, self._password = username, password
        self.subscriptions = list(subscriptions)
        self.optional = list(optional)
        self._optional_refused: set[str] = set()  # logged once each
        self._user = {
            "connect": on_connect,
            "message": on_message,
            "disconnect": on_disconnect,
            "connect_fail": on_connect_fail,
        }
        self._on_refused = on_refused
        # Called once the broker granted every filter of ``subscriptions`` on a
        # connection: from then on nothing published on them is missed.
        self._on_subscribed = on_subscribed
        self._connection_mid: int | None = None
        self._by_hand = by_hand
        self._reconnect_max_s = reconnect_max_s
        self.connected = threading.Event()
        self.subscribed = threading.Event()  # every SUBACK of this connection answered
        self.last_error: str | None = None
        self.refused: SubscriptionRefused | None = None
        self._lock = threading.RLock()
        self._pending_subs: dict[int, list[str]] = {}
        self._publishing: dict[int, str] = {}
        self.protocol = "3.1.1" if cfg.protocol == "3.1.1" else "5"
        self._settled = cfg.protocol != "auto"  # protocol known: no fall-back any more
        self._probe_deadline: float | None = None
        self._timer: threading.Timer | None = None
        self._looping = False
        self._stopped = False
        self.client = self._build()

    # --- lifecycle -------------------------------------------------------------

    def start(self) -> Session:
        """Connect in the background (a broker that is down is retried with back-off)."""
        with self._lock:
            if not self._by_hand and not self._looping and not self._stopped:
                self.client.loop_start()
                self._looping = True
        return self

    def stop(self) -> None:
        """Disconnect, stop and join the network thread (and a pending fall-back)."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            timer, self._timer = self._timer, None
            client, looping = self.client, self._looping
        if timer is not None:
            timer.cancel()
            if timer is not threading.current_thread():
                timer.join()
        client.disconnect()
        if looping:
            client.loop_stop()
        self.connected.clear()

    def __enter__(self) -> Session:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_connected(self, timeout: float) -> bool:
        return self.connected.wait(timeout)

    def wait_subscribed(self, timeout: float) -> bool:
        """True once every subscription of this connection was granted; raises
        :class:`SubscriptionRefused` when one was refused."""
        answered = self.subscribed.wait(timeout)
        if self.refused is not None:
            raise self.refused
        return answered

    # --- traffic ---------------------------------------------------------------

    def subscribe(self, filters: Sequence[tuple[str, int]]) -> int | None:
        """Subscribe now; the SUBACK is checked when it comes. The mid, or None when
        not connected (``subscriptions`` are subscribed again on each connection)."""
        with self._lock:
            rc, mid = self.client.subscribe(list(filters))
            if rc != paho.MQTT_ERR_SUCCESS or mid is None:
                return None
            self._pending_subs[mid] = [flt for flt, _ in filters]
            self.subscribed.clear()
            return mid

    def publish(
        self, topic: str, payload: bytes, qos: int = 1, retain: bool = False
    ) -> paho.MQTTMessageInfo:
        client = self.client
        if self.protocol != "5" or qos == 0:  # 3.1.1 PUBACKs carry no reason to report
            return client.publish(topic, payload, qos=qos, retain=retain)
        # No lock of ours around paho's publish: paho calls on_publish holding its own
        # message lock, so taking ours there and paho's here would deadlock. Single
        # dict operations are atomic; a PUBACK faster than this line is named by mid.
        info = client.publish(topic, payload, qos=qos, retain=retain)
        if len(self._publishing) >= _MAX_TRACKED_PUBLISHES:
            self._publishing.clear()  # acks lost with a connection: forget, not leak
        self._publishing[info.mid] = topic
        return info

    # --- protocol negotiation ----------------------------------------------------

    def tend(self) -> None:
        """Fall back to 3.1.1 if the MQTT 5 probe was refused or went unanswered.
        Called by the timer (paho's thread mode) or each step by a hand driver."""
        deadline = self._probe_deadline
        if self._settled or deadline is None or time.monotonic() < deadline:
            return
        with self._lock:
            if self._settled or self._stopped:
                return
            self._settled = True
            self._probe_deadline = None
            old = self.client
            self.protocol = "3.1.1"
            self.client = self._build()
            looping = self._looping
        log.info(
            "%s: the broker at %s:%d does not speak MQTT 5; using MQTT 3.1.1",
            self.client_id,
            self.cfg.host,
            self.cfg.port,
        )
        with self._lock:
            if looping and not self._stopped:
                self.client.loop_start()
        # The new client first: the old one's thread may be sleeping out paho's 1 s
        # reconnect wait after a refusal, and joining it must not delay the new one.
        if looping:
            old.loop_stop()  # never paho's own thread: tend runs on the timer's
        sock = old.socket()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()

    def _arm(self, delay: float) -> None:
        self._probe_deadline = time.monotonic() + delay
        if self._by_hand:
            return  # the driver calls tend()
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(delay, self.tend)
            self._timer.daemon = True
            self._timer.name = f"mqtt-probe-{self.client_id}"
            self._timer.start()

    def _build(self) -> paho.Client:
        client = make_client(
            self.cfg,
            self.client_id,
            clean_session=self._clean_session,
            will=self._will,
            username=self._username,
            password=self._password,
            protocol=self.protocol,
        )
        client.reconnect_delay_set(min_delay=1, max_delay=self._reconnect_max_s)
        client.on_socket_open = self._on_socket_open
        client.on_connect = guarded(self._on_connect, "connect")
        client.on_disconnect = guarded(self._on_disconnect, "disconnect")
        client.on_subscribe = guarded(self._on_subscribe, "subscribe")
        client.on_publish = guarded(self._on_publish, "publish")
        if self._user["message"] is not None:
            client.on_message = guarded(self._user["message"], "message")
        if self._user["connect_fail"] is not None:
            client.on_connect_fail = guarded(self._user["connect_fail"], "connect failure")
        client.connect_async(
            self.cfg.host,
            self.cfg.port,
            keepalive=self.cfg.keepalive_s,
            **connect_options(self.cfg, self.protocol, self._clean_session),
        )
        return client

    # --- paho callbacks --------------------------------------------------------------

    def _on_socket_open(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        nodelay(client, userdata, sock)
        # Armed once, from the first socket: a broker that closes each MQTT 5 CONNECT
        # unanswered must not re-arm it on every reconnect and keep 3.1.1 away forever.
        if client is self.client and not self._settled and self._probe_deadline is None:
            self._arm(PROBE_S)

    def _on_connect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any = None
    ) -> None:
        if client is not self.client:
            return  # a client given up in a fall-back
        if code_of(reason) == UNSUPPORTED_PROTOCOL and not self._settled:
            self._arm(0.0)
            return
        self._settled = True
        self._probe_deadline = None
        if is_failure(reason):
            self.last_error = connack_sentence(reason)
            self.connected.clear()
        else:
            self.last_error = None
            self.connected.set()
            self._publishing.clear()
            with self._lock:  # held across: a waiter never sees "subscribed" in between
                self._pending_subs.clear()
                if self.subscriptions or self.optional:
                    self.subscribed.clear()
                    if self.subscriptions:
                        self._connection_mid = self.subscribe(self.subscriptions)
                    if self.optional:  # a packet of their own: refused alone, if at all
                        self.subscribe(self.optional)
                else:
                    self.subscribed.set()
        callback = self._user["connect"]
        if callback is not None:
            callback(client, userdata, flags, reason, properties)

    def _on_disconnect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any = None
    ) -> None:
        if client is not self.client:
            return
        self.connected.clear()
        # paho reports a lost socket as 0x80 too: only a DISCONNECT packet is the broker's.
        said = getattr(flags, "is_disconnect_packet_from_server", False)
        if said and self.protocol == "5" and is_failure(reason) and not self._stopped:
            log.warning("%s: %s", self.client_id, disconnect_sentence(reason, self.protocol))
        callback = self._user["disconnect"]
        if callback is not None:
            callback(client, userdata, flags, reason, properties)

    def _on_subscribe(
        self, client: paho.Client, userdata: Any, mid: int, reasons: Any, properties: Any = None
    ) -> None:
        with self._lock:
            filters = self._pending_subs.pop(mid, None)
            if filters is None or client is not self.client:
                return
            refused = self._without_optional(refused_filters(filters, reasons))
            if refused:
                self.refused = SubscriptionRefused(refused, self.protocol)
            elif not self._pending_subs:
                self.subscribed.set()
        if not refused and mid == self._connection_mid and self._on_subscribed is not None:
            self._on_subscribed()
        if refused and self.refused is not None:
            log.error("%s: %s", self.client_id, self.refused)
            self.subscribed.set()  # answered: wait_subscribed raises it
            if self._on_refused is not None:
                self._on_refused(self.refused)

    def _without_optional(self, refused: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
        """The refusals that matter; an optional filter's is logged once, then forgotten."""
        optional = {flt for flt, _ in self.optional}
        for flt, reason in refused:
            if flt in optional and flt not in self._optional_refused:
                self._optional_refused.add(flt)
                log.info(
                    "%s: the broker refused the optional subscription to %r (%s); going on "
                    "without it",
                    self.client_id,
                    flt,
                    reason_text(reason, self.protocol),
                )
        return [(flt, reason) for flt, reason in refused if flt not in optional]

    def _on_publish(
        self, client: paho.Client, userdata: Any, mid: int, reason: Any, properties: Any = None
    ) -> None:
        if self.protocol != "5":
            return
        topic = self._publishing.pop(mid, None)
        if is_failure(reason):
            log.warning(
                "%s: the broker refused a publish on %s (%s)",
                self.client_id,
                topic or f"message {mid}",
                reason_text(reason),
            )


__all__ = ["PROBE_S", "Session", "SubscriptionRefused"]
