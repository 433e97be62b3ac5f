"""The first administrator, through the real broker and core: the code works once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from broker import bootstrap
from broker.config import BrokerConfig
from broker.server import EmbeddedBroker
from broker.users import UserStore, default_path
from core import store
from core.service import CoreService
from gui.first_run import REFUSED, FirstRunError, create_first_admin
from srs.app.config import SrsConfig
from srs.config import MqttConfig
from srs.wire.signing import public_key_from_b64
from tests.brokers import fast_user_store
from tests.core.ingest_helpers import core_config

PASSWORD = "correct horse battery"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[SrsConfig, UserStore, CoreService]]:
    """Broker and core sharing one data dir (one users file), as `srs init` sets up."""
    base = SrsConfig(data_dir=tmp_path, broker=BrokerConfig(bind="127.0.0.1", port=0))
    users = fast_user_store(default_path(base))
    core_password = users.add("core", "core")
    with EmbeddedBroker(base) as broker:
        mqtt = MqttConfig(
            host="127.0.0.1", port=broker.port, username="core", password=SecretStr(core_password)
        )
        cfg = core_config(tmp_path, mqtt)
        with CoreService(cfg) as svc:
            assert svc.wait_connected(10)
            yield cfg, users, svc


def _create(
    cfg: SrsConfig, svc: CoreService, code: str, name: str = "root", password: str = PASSWORD
) -> None:
    create_first_admin(
        cfg.mqtt.model_copy(update={"username": None, "password": None}),
        cfg.security,
        code,
        name,
        password,
        core_key=public_key_from_b64(svc.key.public_key_b64),
        timeout_s=15,
    )


def test_the_code_creates_the_admin_once(server) -> None:
    cfg, users, svc = server
    code, _ = bootstrap.issue(users)
    wrong = code[:-1] + ("Y" if code.endswith("Z") else "Z")
    with pytest.raises(FirstRunError, match="refused the first-run code"):
        _create(cfg, svc, wrong)  # the broker itself refuses a wrong code
    _create(cfg, svc, code.lower().replace("-", " "))  # typed loosely: still the code
    assert users.role_of("root") == "admin" and users.verify("root", PASSWORD)
    assert users.expired("bootstrap")  # burnt at once, removed a minute later
    from core.bootstrap import tidy

    assert not tidy(users) and tidy(users, now=time.time() + 61)
    assert users.role_of("bootstrap") is None
    with pytest.raises(FirstRunError, match="refused the first-run code"):
        _create(cfg, svc, code, name="root2")
    assert users.role_of("root2") is None
    db = store.open_store(cfg)
    with db.session() as s:
        actions = [(a.actor, a.action) for a in store.audit_entries(s, 20)]
    db.close()
    assert ("bootstrap", "create_admin") in actions


def test_refused_when_an_admin_exists_or_the_code_expired(server) -> None:
    cfg, users, svc = server
    code, _ = bootstrap.issue(users)
    users.add("boss", "admin", "boss-password-123")
    with pytest.raises(FirstRunError, match="administrator already exists"):
        _create(cfg, svc, code)
    assert users.role_of("root") is None
    users.remove("boss")
    users.remove("bootstrap")
    users.add("bootstrap", "bootstrap", code, expires_at=time.time() - 1)
    with pytest.raises(FirstRunError) as refused:
        _create(cfg, svc, code)
    assert str(refused.value) == REFUSED  # the broker no longer lets it in
    assert users.role_of("root") is None


def test_core_checks_the_code_itself(tmp_path: Path) -> None:
    """Defence in depth: even a request that got past the broker needs the code."""
    import uuid

    from core.commands import CommandHandler
    from core.ingest import Ingest
    from core.messages import Incoming
    from srs.wire import commands as cmd
    from srs.wire import topics
    from srs.wire.signing import SigningKey, sign

    cfg = core_config(tmp_path)
    users = fast_user_store(default_path(cfg))
    users.add("core", "core")
    code, _ = bootstrap.issue(users)
    db = store.open_store(cfg)
    handler = CommandHandler(db, cfg, Ingest(db, cfg))
    key = SigningKey.generate(topics.operator_issuer(topics.BOOTSTRAP_USER))

    def ask(code: str, name: str = "root") -> cmd.Response:
        topic = topics.bootstrap_request()
        req = cmd.CreateAdmin(
            request_id=uuid.uuid4().hex,
            public_key=key.public_key_b64,
            code=code,
            name=name,
            password=PASSWORD,
        )
        (out,) = handler.handle(Incoming(topic, sign(req, topic, key)))
        assert out.topic == topics.bootstrap_response()
        assert isinstance(out.payload, cmd.Response)
        return out.payload

    try:
        wrong = ask("AAAA-BBBB-CCCC")
        assert not wrong.ok and "not right" in (wrong.error or "")
        taken = ask(code, name="core")
        assert not taken.ok and "already exists" in (taken.error or "")
        assert ask(code).ok and users.role_of("root") == "admin"
        again = ask(code, name="root2")
        assert not again.ok and "administrator already exists" in (again.error or "")
        # A request signed by another key than the one it announces is dropped.
        other = SigningKey.generate(topics.operator_issuer(topics.BOOTSTRAP_USER))
        topic = topics.bootstrap_request()
        forged = cmd.CreateAdmin(
            request_id="x",
            public_key=key.public_key_b64,
            code=code,
            name="root3",
            password=PASSWORD,
        )
        assert handler.handle(Incoming(topic, sign(forged, topic, other))) == []
    finally:
        db.close()
