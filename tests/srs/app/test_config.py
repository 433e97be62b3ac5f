"""Config loads from TOML + env, names bad keys and values, and hides secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from srs.app.config import ConfigError, load_config

EXAMPLE = Path(__file__).parents[3] / "config" / "srs.example.toml"


def test_defaults_need_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = load_config(None, environ={})
    assert cfg.data_dir == Path("var")
    assert cfg.mqtt.host == "127.0.0.1"
    assert cfg.broker.bind == "127.0.0.1"  # loopback unless told otherwise


def test_the_documented_example_is_valid() -> None:
    load_config(EXAMPLE, environ={})


def test_errors_name_the_key_and_the_value(tmp_path: Path) -> None:
    path = tmp_path / "srs.toml"
    path.write_text('[mqtt]\nport = 70000\nhots = "x"\n[core]\nmatch_threshold = -1\n')
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    text = str(info.value)
    assert "mqtt.port = 70000" in text
    assert "mqtt.hots: unknown key" in text
    assert "core.match_threshold = -1" in text


def test_env_overrides_secrets_and_data_dir(tmp_path: Path) -> None:
    cfg = load_config(None, environ={"SRS_MQTT__PASSWORD": "s3cret", "SRS_DATA_DIR": str(tmp_path)})
    assert cfg.mqtt.password is not None
    assert cfg.mqtt.password.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(cfg) and "s3cret" not in str(cfg)
    assert cfg.data_dir == tmp_path


def test_data_dir_argument_wins(tmp_path: Path) -> None:
    cfg = load_config(None, data_dir=tmp_path / "x", environ={"SRS_DATA_DIR": "/elsewhere"})
    assert cfg.data_dir == tmp_path / "x"


def test_a_bad_password_value_is_not_echoed(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(None, environ={"SRS_MQTT__PASSWORD__X": "s3cret"})
    assert "s3cret" not in str(info.value)


def test_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml", environ={})
    bad = tmp_path / "bad.toml"
    bad.write_text("[mqtt\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad, environ={})
