"""srs/config.py: the shared sections check their values; secrets stay hidden."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from srs.config import LoggingConfig, MqttConfig, SecurityConfig


def test_the_password_is_not_shown_when_printed() -> None:
    cfg = MqttConfig(password="hunter2")  # type: ignore[arg-type]
    assert "hunter2" not in repr(cfg)
    assert cfg.password is not None
    assert cfg.password.get_secret_value() == "hunter2"


@pytest.mark.parametrize(
    "model, field, value",
    [
        (MqttConfig, "port", 0),
        (MqttConfig, "keepalive_s", 1),
        (SecurityConfig, "audience", ""),
        (SecurityConfig, "max_message_age_s", 0),
        (SecurityConfig, "max_payload_bytes", 10),
        (LoggingConfig, "level", "TRACE"),
        (MqttConfig, "hots", "x"),
    ],
)
def test_bad_values_are_refused(model: type[BaseModel], field: str, value: object) -> None:
    with pytest.raises(ValidationError):
        model.model_validate({field: value})


def test_sections_are_frozen() -> None:
    cfg = SecurityConfig()
    with pytest.raises(ValidationError):
        cfg.audience = "other"
