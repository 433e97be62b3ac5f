"""When the broker sees users file changes made by another process (`srs user ...`).

Topic checks run on every publish, subscribe and delivery, so they look at the file
at most every ACL_RECHECK_S; CONNECT (password, expiry, role) always looks at once.
Pure logic: a fake clock, two UserStores on one file (the broker's and the CLI's).
"""

from __future__ import annotations

import asyncio
import os
import pathlib
from pathlib import Path
from typing import Any

import pytest
from amqtt.contexts import Action, BaseContext
from amqtt.session import Session

from broker.plugins import SrsTopicPlugin
from broker.users import ACL_RECHECK_S, UserStore
from srs.wire import topics
from tests.brokers import FAST_ARGON2, FAST_BCRYPT_ROUNDS, FAST_PBKDF2_ITERATIONS, fast_user_store


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "broker" / "users.json"


@pytest.fixture
def cli(path: Path) -> UserStore:
    """The other process: `srs user add/remove` writes the file."""
    return fast_user_store(path)


@pytest.fixture
def plugin(path: Path, clock: FakeClock) -> SrsTopicPlugin:
    """The broker's topic plugin, its store on the fake clock."""
    context = BaseContext()
    context.config = SrsTopicPlugin.Config(users_file=str(path))
    topic_plugin = SrsTopicPlugin(context)
    topic_plugin.store = UserStore(
        path,
        hasher=FAST_ARGON2,
        pbkdf2_iterations=FAST_PBKDF2_ITERATIONS,
        bcrypt_rounds=FAST_BCRYPT_ROUNDS,
        clock=clock,
    )
    return topic_plugin


def may_publish(plugin: SrsTopicPlugin, user: str, topic: str) -> bool:
    session = Session()
    session.username = user
    return asyncio.run(plugin.topic_filtering(session=session, topic=topic, action=Action.PUBLISH))


def test_a_removed_user_loses_publish_rights_within_the_interval(
    plugin: SrsTopicPlugin, cli: UserStore, clock: FakeClock
) -> None:
    cli.add("cam1", "camera", "cam1-password")
    assert may_publish(plugin, "cam1", topics.detections("cam1"))
    cli.remove("cam1")
    clock.now += ACL_RECHECK_S * 0.9
    # The documented staleness: the file is not looked at again yet.
    assert may_publish(plugin, "cam1", topics.detections("cam1"))
    clock.now += ACL_RECHECK_S * 0.1
    assert not may_publish(plugin, "cam1", topics.detections("cam1"))
    assert plugin.denied[Action.PUBLISH] == 1


def test_a_new_user_may_publish_at_once(plugin: SrsTopicPlugin, cli: UserStore) -> None:
    cli.add("cam1", "camera", "cam1-password")
    assert may_publish(plugin, "cam1", topics.detections("cam1"))  # file just checked
    cli.add("cam2", "camera", "cam2-password")
    # No time passed: a name the cached copy lacks is looked up at once.
    assert may_publish(plugin, "cam2", topics.detections("cam2"))
    assert not may_publish(plugin, "cam2", topics.detections("cam1"))


def test_connect_checks_see_every_change_at_once(
    path: Path, cli: UserStore, clock: FakeClock
) -> None:
    broker = UserStore(path, hasher=FAST_ARGON2, clock=clock)
    cli.add("op1", "operator", "first-password")
    assert broker.acl_role_of("op1") == "operator"  # starts an interval
    cli.add("late", "integrator", "late-password")
    assert broker.verify("late", "late-password")
    assert broker.role_of("late") == "integrator"
    cli.set_password("op1", "second-password")
    assert broker.verify("op1", "second-password")
    assert not broker.verify("op1", "first-password")
    cli.expire("late")
    assert broker.expired("late") and not broker.verify("late", "late-password")
    cli.remove("op1")
    assert broker.role_of("op1") is None and not broker.verify("op1", "second-password")
    assert clock.now == 1000.0  # all of it inside one ACL interval


def test_acl_lookups_look_at_the_file_once_per_interval(
    path: Path, cli: UserStore, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli.add("core", "core", "core-password")
    broker = UserStore(path, clock=clock)
    looks: list[Path] = []
    real_stat = pathlib.Path.stat

    def counting_stat(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self == path:
            looks.append(self)
        return real_stat(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "stat", counting_stat)
    for _ in range(1000):
        assert broker.acl_role_of("core") == "core"
    assert len(looks) == 1
    clock.now += ACL_RECHECK_S
    for _ in range(1000):
        broker.acl_role_of("core")
    assert len(looks) == 2
    broker.role_of("core")  # not throttled
    assert len(looks) == 3


def test_a_new_password_is_seen_even_with_the_same_mtime_and_size(
    path: Path, cli: UserStore
) -> None:
    cli.add("op1", "operator", "first-password")
    broker = fast_user_store(path)
    assert broker.verify("op1", "first-password")
    before = path.stat()
    cli.set_password("op1", "other-password")  # hashes of the same length
    assert path.stat().st_size == before.st_size
    # As on a kernel whose file times tick every few ms: the same mtime as before.
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert broker.verify("op1", "other-password")
