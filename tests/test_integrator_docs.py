"""docs/mqtt.md works as written: its PyJWT subscriber verifies core's signatures and
refuses a forgery, and its mosquitto_sub session reads over TLS with the site CA."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel

from broker.server import EmbeddedBroker
from broker.tls import tls_files
from broker.users import default_path
from srs.mqtt import make_client
from srs.wire import topics
from srs.wire.payloads import Alert, PersonPosition
from srs.wire.signing import SigningKey, sign
from tests.brokers import fast_user_store
from tests.site_helpers import server_config

Publish = Callable[[str, BaseModel, int], None]
DOC = Path(__file__).parent.parent / "docs" / "mqtt.md"
PASSWORD = "integrator-password"


def _subscriber_code() -> str:
    text = DOC.read_text()
    block = text.split("<!-- subscriber:")[1]
    return re.search(r"```python\n(.*?)```", block, re.S).group(1)  # type: ignore[union-attr]


def _position(key: str) -> PersonPosition:
    return PersonPosition(
        person_key=key,
        identity="known",
        label="Ada Lovelace",
        x=1.0,
        y=2.0,
        confidence=0.9,
        last_seen=time.time(),
        cameras=["corridor"],
    )


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[EmbeddedBroker, Path, Publish]]:
    cfg = server_config(tmp_path / "server")
    fast_user_store(default_path(cfg)).add("ha", "integrator", PASSWORD)
    work = tmp_path / "integrator"
    work.mkdir()
    core = SigningKey.load(topics.CORE_SENDER, cfg.keys_dir / "core.key")
    (work / "core.key.pub").write_text(core.public_key_b64 + "\n")
    shutil.copy(tls_files(cfg).ca_cert, work / "ca.pem")
    with EmbeddedBroker(cfg) as broker:
        publisher = make_client(cfg.mqtt, "core:docs-test")
        publisher.connect(cfg.mqtt.host, cfg.mqtt.port)
        publisher.loop_start()
        # Retained, so subscribers that come later still get them.
        genuine, forged = topics.position("p3"), topics.position("p4")
        forger = SigningKey.generate(topics.CORE_SENDER)
        for topic, key in ((genuine, core), (forged, forger)):
            data = sign(_position(topic.split("/")[3]), topic, key)
            publisher.publish(topic, data, qos=1, retain=True).wait_for_publish(5)

        def publish(topic: str, payload: BaseModel, times: int) -> None:
            """Sign ``payload`` once, publish the same bytes ``times`` times."""
            data = sign(payload, topic, core)
            for _ in range(times):
                publisher.publish(topic, data, qos=1).wait_for_publish(5)

        yield broker, work, publish
        publisher.disconnect()
        publisher.loop_stop()


def _subscriber(broker: EmbeddedBroker, work: Path) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "SRS_USER": "ha",
        "SRS_PASSWORD": PASSWORD,
        "SRS_HOST": "127.0.0.1",
        "SRS_PORT": str(broker.tls_port),
    }
    return subprocess.Popen(
        [sys.executable, "-c", _subscriber_code()],
        cwd=work,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_the_pyjwt_subscriber_verifies_core_and_refuses_a_forgery(
    site: tuple[EmbeddedBroker, Path, Publish],
) -> None:
    broker, work, _ = site
    proc = _subscriber(broker, work)
    seen: dict[str, str] = {}
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 30
        while len(seen) < 2 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            topic, _, rest = line.partition(" ")
            seen[topic] = rest
    finally:
        proc.kill()
        proc.wait()
    assert "'label': 'Ada Lovelace'" in seen.get(topics.position("p3"), ""), seen
    assert seen.get(topics.position("p4"), "").startswith("REFUSED:"), seen


def test_the_pyjwt_subscriber_drops_a_message_delivered_twice(
    site: tuple[EmbeddedBroker, Path, Publish],
) -> None:
    """A broker redelivery (after a restart, without DUP) is the same signed bytes:
    the documented subscriber prints it once, then says DUPLICATE by its jti."""
    broker, work, publish = site
    alert = Alert(alert_id="a1", kind="camera_offline", severity="warning", message="x", at=1.0)
    proc = _subscriber(broker, work)
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 30
        published = False
        while time.monotonic() < deadline and sum(topics.alerts() in x for x in lines) < 2:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if not published and len(lines) >= 2:  # subscribed: the retained ones came
                publish(topics.alerts(), alert, 2)
                published = True
    finally:
        proc.kill()
        proc.wait()
    said = [x for x in lines if x.startswith(topics.alerts())]
    assert len(said) == 2 and "'alert_id': 'a1'" in said[0], lines
    assert " DUPLICATE " in said[1], lines


def test_the_mosquitto_sub_session_reads_over_tls(
    site: tuple[EmbeddedBroker, Path, Publish],
) -> None:
    binary = shutil.which("mosquitto_sub")
    if binary is None:
        pytest.skip("mosquitto_sub is not installed (apt-get install mosquitto-clients)")
    broker, work, _ = site
    args = [binary, "-h", "127.0.0.1", "-p", str(broker.tls_port), "--cafile", "ca.pem"]
    args += ["-u", "ha", "-P", PASSWORD, "-q", "1", "-v", "-C", "1", "-W", "10"]
    args += ["-t", "srs/v1/events/#", "-t", "srs/v1/people/p3/position"]
    ok = subprocess.run([*args, "-i", "ha:probe"], cwd=work, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("srs/v1/people/p3/position ey")
    wrong = subprocess.run([*args, "-i", "probe"], cwd=work, capture_output=True, text=True)
    assert wrong.returncode != 0
    assert "identifier rejected" in (wrong.stderr + wrong.stdout).lower()
