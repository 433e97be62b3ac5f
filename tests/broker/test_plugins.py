"""broker/plugins.py: CONNECT and topic decisions of SRS's amqtt plugins (no broker:
the plugins on a real users file, sessions built by hand)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from amqtt.contexts import Action, BaseContext
from amqtt.errors import PluginInitError
from amqtt.mqtt.connack import (
    BAD_USERNAME_PASSWORD,
    CONNECTION_ACCEPTED,
    IDENTIFIER_REJECTED,
    NOT_AUTHORIZED,
)
from amqtt.session import Session

from broker.auth_gate import AuthGate
from broker.plugins import CONNACK_ATTR, SrsAuthPlugin, SrsTopicPlugin, client_id_allowed
from srs.wire import topics
from tests.brokers import fast_user_store

PASSWORD = "cam1-password"


@pytest.mark.parametrize(
    "client_id, allowed",
    [("cam1", True), ("cam1:node", True), ("cam1:", False), ("cam2", False), ("cam10", False),
     ("", False), (None, False)],
)  # fmt: skip
def test_a_client_id_is_bound_to_its_user(client_id: str | None, allowed: bool) -> None:
    assert client_id_allowed("cam1", client_id) is allowed


@pytest.fixture
def users_file(tmp_path: Path) -> Path:
    path = tmp_path / "users.json"
    fast_user_store(path).add("cam1", "camera", PASSWORD)
    return path


@pytest.fixture
def auth(users_file: Path) -> SrsAuthPlugin:
    context = BaseContext()
    context.config = SrsAuthPlugin.Config(users_file=str(users_file), max_payload_bytes=1024)
    plugin = SrsAuthPlugin(context)
    plugin.store = fast_user_store(users_file)
    plugin.gate = AuthGate(plugin.store)
    return plugin


def session(user: str | None, password: str | None, client_id: str | None = None) -> Session:
    s = Session()
    s.username = user
    s.password = password
    s.client_id = client_id if client_id is not None else (user or "anon")
    s.remote_address = "127.0.0.1"
    s.remote_port = 50000
    return s


def connect(plugin: SrsAuthPlugin, s: Session) -> int:
    accepted = asyncio.run(plugin.authenticate(session=s))
    code: int = getattr(s, CONNACK_ATTR)
    assert accepted is (code == CONNECTION_ACCEPTED)
    return code


def test_the_right_password_is_accepted(auth: SrsAuthPlugin) -> None:
    assert connect(auth, session("cam1", PASSWORD, "cam1:edge")) == CONNECTION_ACCEPTED
    assert auth.refused == 0


@pytest.mark.parametrize(
    "s, code",
    [
        (session(None, None), NOT_AUTHORIZED),
        (session("cam1", None), NOT_AUTHORIZED),
        (session("cam1", "wrong password"), BAD_USERNAME_PASSWORD),
        (session("nobody", PASSWORD), BAD_USERNAME_PASSWORD),
        (session("cam1", PASSWORD, "core"), IDENTIFIER_REJECTED),
    ],
)
def test_refusals_carry_their_connack_code(auth: SrsAuthPlugin, s: Session, code: int) -> None:
    assert connect(auth, s) == code
    assert auth.refused == 1


def test_a_last_will_must_be_the_users_to_publish_and_small(auth: SrsAuthPlugin) -> None:
    own = session("cam1", PASSWORD)
    own.will_flag = True
    own.will_topic = topics.camera_status("cam1")
    own.will_message = b"offline"
    assert connect(auth, own) == CONNECTION_ACCEPTED
    other = session("cam1", PASSWORD)
    other.will_flag = True
    other.will_topic = topics.camera_status("cam2")
    other.will_message = b"offline"
    assert connect(auth, other) == NOT_AUTHORIZED
    big = session("cam1", PASSWORD)
    big.will_flag = True
    big.will_topic = topics.camera_status("cam1")
    big.will_message = b"x" * 1025
    assert connect(auth, big) == NOT_AUTHORIZED


def test_the_plugins_need_the_users_file() -> None:
    context = BaseContext()
    context.config = SrsTopicPlugin.Config()
    with pytest.raises(PluginInitError, match="users_file"):
        SrsTopicPlugin(context)


def test_topics_are_denied_by_default_and_counted(users_file: Path) -> None:
    context = BaseContext()
    context.config = SrsTopicPlugin.Config(users_file=str(users_file))
    plugin = SrsTopicPlugin(context)

    def may(user: str | None, topic: str, action: Action) -> bool:
        s = Session()
        s.username = user
        return asyncio.run(plugin.topic_filtering(session=s, topic=topic, action=action))

    assert may("cam1", topics.detections("cam1"), Action.PUBLISH)
    assert not may("cam1", topics.detections("cam2"), Action.PUBLISH)
    assert not may("cam1", "#", Action.SUBSCRIBE)
    assert not may("nobody", topics.detections("cam1"), Action.PUBLISH)
    assert not may(None, topics.site(), Action.RECEIVE)
    assert plugin.denied[Action.PUBLISH] == 2
    assert plugin.denied[Action.SUBSCRIBE] == 1
    assert not asyncio.run(plugin.topic_filtering(session=None, topic="t", action=Action.PUBLISH))
