"""`srs broker export --format nats`: the file, and a real nats-server running it as its
own user over TLS (the security tests run the same rules in tests/broker/test_security)."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import bcrypt
import pytest
from pydantic import SecretStr

from broker.config import BrokerConfig
from broker.export_nats import MQTT_DELIVERY, export_nats, subjects
from broker.tls import tls_files
from broker.users import default_path
from srs.app.config import SrsConfig
from srs.config import MqttConfig
from tests.broker.probe import Probe
from tests.brokers import _wait_listening, fast_user_store, free_port
from tests.nats_brokers import nats_binary
from tests.site_helpers import CORE_PASSWORD, server_config
from tests.waiting import wait_until


def user_block(conf: str, name: str) -> str:
    start = conf.index(f'user: "{name}"')
    return conf[start : conf.index("\n    }", start)]


def test_mqtt_filters_become_nats_subjects() -> None:
    assert subjects("srs/v1/cameras/+/detections") == ["srs.v1.cameras.*.detections"]
    # NATS subscribes an MQTT `#` as `>` and as the parent level itself.
    assert subjects("srs/v1/events/#") == ["srs.v1.events.>", "srs.v1.events"]
    assert subjects("srs/v1/site") == ["srs.v1.site"]


def test_export_writes_each_users_rules_and_bcrypt_hash(tmp_path: Path) -> None:
    cfg = SrsConfig(data_dir=tmp_path, broker=BrokerConfig(port=1999, max_payload_bytes=4096))
    store = fast_user_store(default_path(cfg))
    store.add("cam1", "camera", "camera-password")
    store.add("ha", "integrator", "integrator-password")
    store.add("bootstrap", "bootstrap", "ABCD-EFGH-JKLM", expires_at=time.time() + 900)
    paths, skipped = export_nats(cfg, store, tmp_path / "out", nats_port=4999)
    conf_path = (tmp_path / "out" / "nats-server.conf").resolve()
    assert paths == [conf_path] and skipped == []
    assert stat.S_IMODE(conf_path.stat().st_mode) == 0o600  # the hashes are in it
    conf = conf_path.read_text()
    assert 'listen: "127.0.0.1:1999"' in conf and "tls {" not in conf
    assert 'listen: "127.0.0.1:4999"' in conf and "max_payload: 4096" in conf
    assert "bootstrap" not in conf and "camera-password" not in conf

    cam = user_block(conf, "cam1")
    digest = json.loads(cam.split("password: ")[1].splitlines()[0])
    assert bcrypt.checkpw(b"camera-password", digest.encode())
    assert 'allowed_connection_types: ["MQTT"]' in cam
    assert (
        'publish: {allow: ["srs.v1.cameras.cam1.detections", "srs.v1.cameras.cam1.status"]}' in cam
    )
    # Its acks, and core's status (to re-send when core returns, to measure its clock).
    want = f'"{MQTT_DELIVERY}", "srs.v1.cameras.cam1.ack", "srs.v1.core.status"'
    assert f"subscribe: {{allow: [{want}]}}" in cam

    ha = user_block(conf, "ha")
    assert 'publish: {allow: ["homeassistant.status"]}' in ha  # HA's birth message only
    assert "detections" not in ha and '"srs.v1.events.>", "srs.v1.events"' in ha


def test_a_user_without_a_bcrypt_hash_is_left_out_with_a_reason(tmp_path: Path) -> None:
    cfg = SrsConfig(data_dir=tmp_path)
    store = fast_user_store(default_path(cfg))
    store.add("cam1", "camera", "camera-password")
    store.add("old", "camera", "camera-password")
    # A users file from before SRS kept bcrypt hashes.
    raw = json.loads(store.path.read_text())
    del raw["users"]["old"]["bcrypt"]
    store.path.write_text(json.dumps(raw))
    _, skipped = export_nats(cfg, store, tmp_path / "out")
    assert skipped == ["old"]
    conf = (tmp_path / "out" / "nats-server.conf").read_text()
    assert '"cam1"' in conf and '"old"' not in conf


def test_a_password_too_long_for_bcrypt_gets_no_nats_hash(tmp_path: Path) -> None:
    store = fast_user_store(tmp_path / "users.json")
    store.add("cam1", "camera", "x" * 73)
    assert store.nats_hashes() == {"cam1": None}
    assert store.verify("cam1", "x" * 73)  # the embedded broker and Mosquitto still work


@pytest.mark.nats
def test_nats_runs_the_export_as_its_own_user_over_tls() -> None:
    binary = nats_binary()
    if binary is None:
        pytest.skip("the nats-server binary is not installed (apt-get install nats-server)")
    if os.geteuid() != 0:
        pytest.skip("needs root to start nats-server as its own user")
    try:
        pwd.getpwnam("nats")
    except KeyError:
        pytest.skip("no nats user on this machine")
    # NATS's user must reach the directory: not under pytest's private tmp.
    base = Path(tempfile.mkdtemp(prefix="srs-nats-", dir="/tmp"))
    base.chmod(0o755)
    try:
        cfg = server_config(base / "var")
        cfg = cfg.model_copy(
            update={
                "broker": BrokerConfig(bind="127.0.0.1", port=free_port(), tls_port=free_port())
            }
        )
        store = fast_user_store(default_path(cfg))
        out = base / "nats"
        nats_port = free_port()
        conf = export_nats(cfg, store, out, "nats", nats_port=nats_port)[0][-1]
        assert pwd.getpwuid(conf.stat().st_uid).pw_name == "nats"
        assert pwd.getpwuid((out / "jetstream").stat().st_uid).pw_name == "nats"
        log_path = base / "nats.log"
        cmd = ["setpriv", "--reuid=nats", "--regid=nats", "--clear-groups", binary, "-c"]
        with log_path.open("wb") as log:
            proc = subprocess.Popen([*cmd, str(conf)], stdout=log, stderr=log)
        try:
            assert _wait_listening(proc, cfg.broker.tls_port, log_path), log_path.read_text()
            tls = MqttConfig(
                host="127.0.0.1",
                port=cfg.broker.tls_port,
                username="core",
                password=SecretStr(CORE_PASSWORD),
                tls=True,
                ca_file=tls_files(cfg).ca_cert,
            )
            core = Probe(tls, "core")
            assert core.connect(), log_path.read_text()
            assert core.subscribe("srs/v1/cameras/+/detections"), log_path.read_text()
            core.close()
            # A user added afterwards: export again, reload as the export says.
            store.add("ha", "integrator", "integrator-password")
            export_nats(cfg, store, out, "nats", nats_port=nats_port)
            proc.send_signal(signal.SIGHUP)
            ha = tls.model_copy(
                update={"username": "ha", "password": SecretStr("integrator-password")}
            )
            wait_until(
                lambda: Probe(ha, "ha").connect(),
                timeout=10,
                interval=0.2,
                message=log_path.read_text,
            )
            assert Probe(tls, "core").connect(), "the reload locked core out"
        finally:
            proc.terminate()
            proc.wait(10)
    finally:
        shutil.rmtree(base, ignore_errors=True)
