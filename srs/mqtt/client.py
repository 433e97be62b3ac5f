"""One way to build a paho client for every SRS component.

Sets what each SRS client needs and paho does not do by default: TCP_NODELAY (the
Nagle delay alone adds ~17 ms to a small publish), TLS from config, credentials,
a last will, automatic reconnect with bounded backoff, and callbacks guarded so an
exception logs instead of killing paho's network thread.

This builds one client for one protocol; :class:`srs.mqtt.session.Session` chooses
the protocol (``[mqtt] protocol``), checks subscriptions and owns the stop path.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from srs.config import MqttConfig
from srs.mqtt.reasons import connack_sentence

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class Will:
    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = True


def guarded(fn: Callable[P, R], what: str) -> Callable[P, R | None]:
    """Wrap a paho callback: an exception inside it is logged, never propagated."""

    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | None:
        try:
            return fn(*args, **kwargs)
        except Exception:
            log.exception("error in MQTT %s callback (the connection stays up)", what)
            return None

    return wrapper


def nodelay(client: paho.Client, userdata: Any, sock: Any) -> None:
    with contextlib.suppress(OSError, AttributeError):  # TLS-wrapped or non-TCP sockets
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def make_client(
    cfg: MqttConfig,
    client_id: str,
    *,
    clean_session: bool = True,
    will: Will | None = None,
    username: str | None = None,
    password: str | None = None,
    protocol: str | None = None,
) -> paho.Client:
    """A configured, not yet connected paho client.

    ``protocol`` "5" or "3.1.1"; None takes ``cfg.protocol``, where "auto" means 3.1.1
    here (a lone client cannot fall back; a Session can). Under MQTT 5 a persistent
    session is asked for at connect time: see :func:`connect_options`.
    """
    version = protocol or ("5" if cfg.protocol == "5" else "3.1.1")
    if version == "5":
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5)
    else:
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=clean_session,
            protocol=paho.MQTTv311,
        )
    user = username if username is not None else cfg.username
    secret = (
        password
        if password is not None
        else (cfg.password.get_secret_value() if cfg.password else None)
    )
    if user:
        client.username_pw_set(user, secret)
    if cfg.tls:
        ctx = ssl.create_default_context(cafile=str(cfg.ca_file) if cfg.ca_file else None)
        client.tls_set_context(ctx)
    if will is not None:
        client.will_set(will.topic, will.payload, qos=will.qos, retain=will.retain)
    client.on_socket_open = nodelay
    # paho doubles from 1 s: capped at 5 s a client is back within seconds of its
    # broker (srs.backoff says why; paho adds no jitter of its own).
    client.reconnect_delay_set(min_delay=1, max_delay=5)
    client.max_inflight_messages_set(100)
    client.max_queued_messages_set(0)
    return client


class ConnectionWatcher:
    """Tracks connected/disconnected state for clients that wait on it."""

    def __init__(self) -> None:
        self.connected = threading.Event()
        self.last_error: str | None = None

    def on_connect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any = None
    ) -> None:
        if getattr(reason, "is_failure", False):
            self.last_error = connack_sentence(reason)
            self.connected.clear()
        else:
            self.last_error = None
            self.connected.set()

    def on_disconnect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any = None
    ) -> None:
        self.connected.clear()


def connect_options(cfg: MqttConfig, protocol: str, clean_session: bool) -> dict[str, Any]:
    """``connect_async`` arguments for a session's persistence. MQTT 5: a persistent
    session starts clean never (a restart finds its backlog) and expires
    ``session_expiry_s`` after its client left; 3.1.1 says it in the client itself."""
    if protocol != "5":
        return {}
    props = Properties(PacketTypes.CONNECT)
    if not clean_session:
        props.SessionExpiryInterval = cfg.session_expiry_s
    return {"clean_start": clean_session, "properties": props}


__all__ = [
    "ConnectionWatcher",
    "Will",
    "connack_sentence",
    "connect_options",
    "guarded",
    "make_client",
    "nodelay",
]
