"""The exported files with a real Mosquitto as its own user: TLS with the site CA, and
a user added later works after the export's reload (files Mosquitto can read)."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest
from pydantic import SecretStr

from broker.config import BrokerConfig
from broker.export import export_mosquitto
from broker.tls import tls_files
from broker.users import default_path
from srs.config import MqttConfig
from tests.broker.probe import Probe
from tests.brokers import _wait_listening, fast_user_store, free_port, mosquitto_binary
from tests.site_helpers import server_config
from tests.waiting import wait_until


def test_mosquitto_runs_the_export_as_its_own_user_over_tls() -> None:
    binary = mosquitto_binary()
    if binary is None:
        pytest.skip("the mosquitto binary is not installed (apt-get install mosquitto)")
    if os.geteuid() != 0:
        pytest.skip("needs root: Mosquitto drops to its own user only when started as root")
    try:
        pwd.getpwnam("mosquitto")
    except KeyError:
        pytest.skip("no mosquitto user on this machine")
    # Mosquitto's user must reach the directory: not under pytest's private tmp.
    base = Path(tempfile.mkdtemp(prefix="srs-mosq-", dir="/tmp"))
    base.chmod(0o755)
    try:
        cfg = server_config(base / "var")
        cfg = cfg.model_copy(
            update={
                "broker": BrokerConfig(bind="127.0.0.1", port=free_port(), tls_port=free_port())
            }
        )
        store = fast_user_store(default_path(cfg))
        out = base / "mosquitto"
        conf = export_mosquitto(cfg, store, out, "mosquitto")[-1]
        assert pwd.getpwuid((out / "passwd").stat().st_uid).pw_name == "mosquitto"
        log_path = base / "mosquitto.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen([binary, "-c", str(conf)], stdout=log, stderr=log)
        try:
            assert _wait_listening(proc, cfg.broker.tls_port, log_path), log_path.read_text()
            tls = MqttConfig(
                host="127.0.0.1",
                port=cfg.broker.tls_port,
                username="core",
                password=SecretStr("core-password-123"),
                tls=True,
                ca_file=tls_files(cfg).ca_cert,
            )
            core = Probe(tls, "core")
            assert core.connect(), log_path.read_text()
            core.close()
            # A user added afterwards: export again, reload as the export says.
            store.add("ha", "integrator", "integrator-password")
            export_mosquitto(cfg, store, out, "mosquitto")
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
