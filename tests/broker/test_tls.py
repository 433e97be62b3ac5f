"""The site CA and broker certificate `srs init` makes: TLS by default, verified by
every client with the CA, refused without it; plaintext only on loopback."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from pydantic import SecretStr

from broker.config import BrokerConfig
from broker.server import EmbeddedBroker, amqtt_config
from broker.tls import covered_names, ensure_broker_cert, ensure_ca, server_cert, tls_files
from broker.users import default_path
from srs.app.config import SrsConfig
from srs.config import MqttConfig
from tests.broker.probe import Probe
from tests.brokers import fast_user_store


def _site(tmp_path: Path, **broker: object) -> SrsConfig:
    cfg = SrsConfig(data_dir=tmp_path, broker=BrokerConfig.model_validate(broker))
    files = tls_files(cfg)
    assert ensure_ca(files) and ensure_broker_cert(files, ["srs.example.lan", "10.0.0.5"])
    return cfg


def test_ca_and_certificate_are_made_once_and_reissued_for_new_names(tmp_path: Path) -> None:
    cfg = _site(tmp_path)
    files = tls_files(cfg)
    assert files.ca_key.stat().st_mode & 0o777 == 0o600
    assert files.key.stat().st_mode & 0o777 == 0o600
    assert {"srs.example.lan", "10.0.0.5", "localhost", "127.0.0.1"} <= covered_names(files.cert)
    assert not ensure_ca(files)
    assert not ensure_broker_cert(files, ["srs.example.lan"])  # covered: kept
    assert ensure_broker_cert(files, ["cameras.example.lan"])  # a new name: re-issued
    assert {"srs.example.lan", "cameras.example.lan"} <= covered_names(files.cert)
    assert server_cert(cfg) == (files.cert, files.key)


def test_a_client_with_the_site_ca_connects_over_tls_one_without_is_refused(
    tmp_path: Path,
) -> None:
    cfg = _site(tmp_path, bind="127.0.0.1", port=0, tls_port=0)
    fast_user_store(default_path(cfg)).add("core", "core", "core-password")
    ca = tls_files(cfg).ca_cert
    with EmbeddedBroker(cfg) as server:
        assert server.tls_port  # no [broker] cert_file: the data dir's certificate
        mqtt = MqttConfig(
            host="127.0.0.1",
            port=server.tls_port,
            username="core",
            password=SecretStr("core-password"),
            tls=True,
            ca_file=ca,
        )
        trusted = Probe(mqtt, "core")
        assert trusted.connect()
        trusted.close()
        # The public trust store never signed the site CA: the handshake fails.
        untrusted = Probe(mqtt.model_copy(update={"ca_file": None}), "core")
        with pytest.raises(ssl.SSLCertVerificationError):
            untrusted.client.connect("127.0.0.1", server.tls_port)


def test_plaintext_stays_on_loopback_when_the_broker_faces_the_network(tmp_path: Path) -> None:
    cfg = _site(tmp_path, bind="0.0.0.0", port=1883, tls_port=8883)
    listeners = amqtt_config(cfg, tmp_path / "u.json")["listeners"]
    assert listeners["default"]["bind"] == "127.0.0.1:1883"
    assert listeners["tls"]["bind"] == "0.0.0.0:8883"
    bare = SrsConfig(data_dir=tmp_path / "none", broker=BrokerConfig(bind="0.0.0.0"))
    with pytest.raises(ValueError, match="srs init"):
        amqtt_config(bare, tmp_path / "u.json")
    allowed = bare.model_copy(
        update={"broker": BrokerConfig(bind="0.0.0.0", plaintext_on_network=True)}
    )
    assert amqtt_config(allowed, tmp_path / "u.json")["listeners"]["default"]["bind"] == (
        "0.0.0.0:1883"
    )
