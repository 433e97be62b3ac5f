"""Every private amqtt member SRS's broker touches, pinned by name and signature.

SRS's security guarantees (authenticate before any session is touched, payload and
keepalive limits, retained messages only where a client may read) rest on
overriding or reading amqtt 0.12.1's insides (setup.cfg pins ``amqtt==0.12.1``). If
an amqtt upgrade renames, removes or re-signs one of them, this test fails and
names it, instead of the override silently not being called.

The overrides live in three modules, each documented there:
``broker/amqtt_broker.py`` (connect and retained messages), ``broker/handler.py``
(one client's protocol handler, with ``broker/ordering.py``), ``broker/reader.py``
(the reader loop), ``broker/routing.py`` (topic checks and routing) and
``broker/delivery.py`` (a session's queue sent, in flight until acknowledged);
``broker/server.py`` reads the listening sockets.
"""

from __future__ import annotations

import asyncio
import inspect
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any

import pytest
from amqtt.adapters import StreamWriterAdapter
from amqtt.broker import Broker, Server
from amqtt.mqtt.protocol.broker_handler import BrokerProtocolHandler
from amqtt.mqtt.protocol.handler import ProtocolHandler
from amqtt.mqtt.publish import PublishPacket
from amqtt.plugins.base import BaseAuthPlugin, BaseTopicPlugin
from amqtt.session import OutgoingApplicationMessage, Session

from broker.amqtt_broker import SrsBroker
from broker.handler import SrsProtocolHandler
from broker.plugins import SrsAuthPlugin, SrsTopicPlugin
from broker.routing import DirectRouting

# (amqtt class, method, its parameters after self, as SRS calls or overrides it, where)
METHODS: list[tuple[type, str, list[str], str]] = [
    # broker/amqtt_broker.py
    (Broker, "stream_connected", ["reader", "writer", "listener_name"], "override"),
    (Broker, "_client_connected", ["listener_name", "reader", "writer"], "called"),
    (
        Broker,
        "_initialize_client_session",
        ["reader", "writer", "remote_address", "remote_port"],
        "override",
    ),
    (Broker, "_authenticate", ["session", "_"], "override, calls super"),
    (Broker, "_delete_session", ["client_id"], "called"),
    (
        Broker,
        "_publish_retained_messages_for_subscription",
        ["subscription", "session"],
        "override",
    ),
    (Broker, "_get_handler", ["session"], "called"),
    (Broker, "_matches", ["topic", "a_filter"], "called"),
    (Broker, "retain_message", ["source_session", "topic_name", "data", "qos"], "called"),
    # broker/routing.py
    (Broker, "_topic_filtering", ["session", "topic", "action"], "override"),
    (Broker, "_handle_message_delivery", ["client_session", "handler", "wait_deliver"], "called"),
    (Broker, "_broadcast_message", ["session", "topic", "data", "force_qos"], "override"),
    # broker/handler.py
    (BrokerProtocolHandler, "init_from_connect", ["reader", "writer", "plugins_manager"], "called"),
    (BrokerProtocolHandler, "start", [], "override, calls super"),
    (BrokerProtocolHandler, "stop", [], "override, calls super"),
    (BrokerProtocolHandler, "handle_read_timeout", [], "override"),
    (BrokerProtocolHandler, "handle_publish", ["publish_packet"], "override, calls super"),
    (BrokerProtocolHandler, "handle_connection_closed", [], "called"),
    (BrokerProtocolHandler, "mqtt_publish", ["topic", "data", "qos", "retain", "ack_timeout"], ""),
    (BrokerProtocolHandler, "_send_packet", ["packet"], "called"),
    # broker/handler.py and broker/delivery.py: a session's queue, in flight until PUBACK
    (BrokerProtocolHandler, "_retry_deliveries", [], "override: called by start()"),
    (BrokerProtocolHandler, "handle_puback", ["puback"], "override, calls super"),
    (
        OutgoingApplicationMessage,
        "__init__",
        ["packet_id", "topic", "qos", "data", "retain"],
        "delivery: a QoS 1 message in flight",
    ),
    (OutgoingApplicationMessage, "build_publish_packet", ["dup"], "delivery: DUP=1 on re-send"),
    (
        PublishPacket,
        "build",
        ["topic_name", "message", "packet_id", "dup_flag", "qos", "retain"],
        "delivery: a QoS 0 PUBLISH",
    ),
    # broker/handler.py and broker/ordering.py: packets act in order
    (BrokerProtocolHandler, "handle_subscribe", ["subscribe"], "override, calls super"),
    (BrokerProtocolHandler, "handle_unsubscribe", ["unsubscribe"], "override, calls super"),
    (
        BrokerProtocolHandler,
        "mqtt_acknowledge_subscription",
        ["packet_id", "return_codes"],
        "override, calls super",
    ),
    (
        BrokerProtocolHandler,
        "mqtt_acknowledge_unsubscription",
        ["packet_id"],
        "override, calls super",
    ),
    # broker/reader.py: the reader loop and the handlers it dispatches to
    (BrokerProtocolHandler, "_reader_loop", [], "override"),
    (BrokerProtocolHandler, "handle_pubrec", ["pubrec"], "called"),
    (BrokerProtocolHandler, "handle_pubrel", ["pubrel"], "called"),
    (BrokerProtocolHandler, "handle_pubcomp", ["pubcomp"], "called"),
    (BrokerProtocolHandler, "handle_pingreq", ["pingreq"], "called"),
    (BrokerProtocolHandler, "handle_disconnect", ["disconnect"], "called"),
    # broker/plugins.py
    (BaseAuthPlugin, "authenticate", ["session"], "override"),
    (BaseTopicPlugin, "topic_filtering", ["session", "topic", "action"], "override"),
]

# Instance attributes SRS reads or changes: (owner, name, expected type, where).
BROKER_ATTRIBUTES: list[tuple[str, type, str]] = [
    ("_sessions", dict, "amqtt_broker: the session of a client id (takeover, resume)"),
    ("_subscriptions", dict, "amqtt_broker, routing: who subscribed to what"),
    ("_retained_messages", dict, "amqtt_broker: retained messages for a new subscription"),
    ("_tasks_queue", deque, "routing: delivery tasks, cancelled at shutdown"),
    ("_loop", asyncio.AbstractEventLoop, "routing: where deliveries are created"),
    ("_servers", dict, "server: the listening sockets (their ports)"),
]
HANDLER_ATTRIBUTES: list[tuple[str, type | None, str]] = [
    ("_reader_task", None, "handler: cancelled until it ends when a client stops"),
    ("_puback_waiters", dict, "handler: the PUBACK waiter, registered before the send"),
    ("_disconnect_waiter", None, "handler: resolved when a client goes silent"),
    ("keepalive_timeout", None, "handler: amqtt's own read timeout, switched off"),
    ("_reader_ready", None, "reader: set when the reader loop runs"),
    ("_reader_stopped", asyncio.Event, "reader: set when the reader loop ends"),
    ("plugins_manager", None, "reader: PACKET_RECEIVED fired for each packet"),
]


def _parameters(function: Callable[..., Any]) -> list[str]:
    names = list(inspect.signature(function).parameters)
    return names[1:] if names and names[0] in ("self", "cls") else names


@pytest.mark.parametrize(
    ("owner", "name", "expected", "use"),
    METHODS,
    ids=[f"{owner.__name__}.{name}" for owner, name, _, _ in METHODS],
)
def test_amqtt_method_has_the_signature_srs_expects(
    owner: type, name: str, expected: list[str], use: str
) -> None:
    member = inspect.getattr_static(owner, name, None)
    assert member is not None, f"amqtt {owner.__name__}.{name} is gone ({use})"
    signature = inspect.signature(getattr(owner, name))
    actual = _parameters(getattr(owner, name))
    # SRS passes these positionally; anything amqtt adds after them needs a default.
    extra = list(signature.parameters.values())[len(signature.parameters) - len(actual) :]
    extra = extra[len(expected) :]
    assert actual[: len(expected)] == expected and all(
        p.default is not inspect.Parameter.empty or p.kind is p.VAR_KEYWORD for p in extra
    ), f"amqtt {owner.__name__}.{name} changed its parameters ({use}): {signature}"


def test_srs_overrides_keep_amqtts_parameters() -> None:
    """An override must take what amqtt passes it: same names, order, sync or async."""
    for srs_class in (
        SrsBroker,
        DirectRouting,
        SrsProtocolHandler,
        SrsAuthPlugin,
        SrsTopicPlugin,
    ):
        for name, member in vars(srs_class).items():
            if not inspect.isfunction(member) or name.startswith("__"):
                continue
            base = next(
                (
                    c
                    for c in srs_class.__mro__[1:]
                    if name in vars(c) and c.__module__[:5] == "amqtt"
                ),
                None,
            )
            if base is None or name == "__init__":
                continue  # SRS's own helper, not an override
            original = getattr(base, name)
            assert _parameters(member) == _parameters(original), (
                f"{srs_class.__name__}.{name} no longer matches amqtt "
                f"{base.__name__}.{name}{inspect.signature(original)}"
            )
            assert inspect.iscoroutinefunction(member) == inspect.iscoroutinefunction(original), (
                f"amqtt {base.__name__}.{name} changed between sync and async"
            )


# Exactly these SRS methods replace amqtt's. If amqtt starts to define one of SRS's own
# helpers (``_resume``, ``_abort``...), it becomes an override silently: this fails.
OVERRIDES = {
    "SrsBroker": {
        "stream_connected",
        "_initialize_client_session",
        "_authenticate",
        "_publish_retained_messages_for_subscription",
    },
    "DirectRouting": {"_topic_filtering", "_broadcast_message"},
    "SrsProtocolHandler": {
        "start",
        "stop",
        "handle_read_timeout",
        "handle_publish",
        "_retry_deliveries",
        "handle_puback",
        "handle_subscribe",
        "handle_unsubscribe",
        "mqtt_acknowledge_subscription",
        "mqtt_acknowledge_unsubscription",
        "_reader_loop",
    },
    "SrsAuthPlugin": {"authenticate"},
    "SrsTopicPlugin": {"topic_filtering"},
}


def test_srs_overrides_exactly_the_amqtt_methods_it_means_to() -> None:
    for srs_class in (SrsBroker, DirectRouting, SrsProtocolHandler, SrsAuthPlugin, SrsTopicPlugin):
        replaced = {
            name
            for name, member in vars(srs_class).items()
            if inspect.isfunction(member)
            and not name.startswith("__")
            and any(
                name in vars(base)
                for base in srs_class.__mro__[1:]
                if base.__module__[:5] == "amqtt"
            )
        }
        assert replaced == OVERRIDES[srs_class.__name__], srs_class.__name__


async def _broker() -> Broker:
    return Broker({"listeners": {"default": {"type": "tcp", "bind": "127.0.0.1:0"}}})


def test_broker_attributes_srs_reads_exist() -> None:
    async def check() -> None:
        broker = await _broker()
        for name, kind, use in BROKER_ATTRIBUTES:
            assert hasattr(broker, name), f"amqtt Broker.{name} is gone ({use})"
            assert isinstance(getattr(broker, name), kind), (
                f"amqtt Broker.{name} is no longer a {kind.__name__} ({use})"
            )
        handler = BrokerProtocolHandler(broker.plugins_manager, session=Session())
        for name, handler_kind, use in HANDLER_ATTRIBUTES:
            assert hasattr(handler, name), f"amqtt BrokerProtocolHandler.{name} is gone ({use})"
            if handler_kind is not None:
                assert isinstance(getattr(handler, name), handler_kind), use

    asyncio.run(check())


def test_a_server_keeps_its_socket_server_as_instance() -> None:
    """broker/server.py reads ``_servers[name].instance.sockets`` for the bound port."""
    assert _parameters(Server.__init__) == ["listener_name", "server_instance", "max_connections"]
    marker = object()
    assert Server("default", marker).instance is marker


def test_stream_writer_adapter_keeps_its_stream_as_writer() -> None:
    """broker/handler.py aborts a stuck client through ``writer._writer.transport``."""
    marker = object()
    assert StreamWriterAdapter(marker)._writer is marker


def test_a_session_keeps_what_srs_delivery_relies_on() -> None:
    """broker/delivery.py keeps the session's queue in ``attributes``, its in-flight
    QoS 1 messages in ``inflight_out`` (packet id -> message, in send order, which
    ``next_packet_id`` steps around), and re-sends them from ``_retry_deliveries``,
    which amqtt's ``start()`` calls once the reader runs."""
    session = Session()
    assert isinstance(session.attributes, dict)
    assert isinstance(session.inflight_out, OrderedDict)
    session.inflight_out[1] = OutgoingApplicationMessage(1, "t", 1, b"x", False)
    assert session.next_packet_id == 2
    assert "self._retry_deliveries()" in inspect.getsource(ProtocolHandler.start)
    packet = OutgoingApplicationMessage(7, "t", 1, b"x", False).build_publish_packet(dup=True)
    assert packet.dup_flag and packet.packet_id == 7 and not packet.retain_flag
