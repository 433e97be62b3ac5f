"""srs/wire/errors.py: refusals name a machine reason and say why in a sentence."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from srs.wire.errors import Reason, WireError, describe_validation_error


class Inner(BaseModel):
    model_config = ConfigDict(extra="forbid")
    port: int


class Outer(BaseModel):
    data: Inner


def validation_error(value: object) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        Outer.model_validate(value)
    return caught.value


def test_a_wire_error_shows_its_reason_code() -> None:
    err = WireError(Reason.EXPIRED, "the message is 300 s old")
    assert str(err) == "the message is 300 s old [expired]"
    assert err.reason is Reason.EXPIRED
    assert err.message == "the message is 300 s old"


def test_reason_codes_are_plain_strings() -> None:
    assert Reason.BAD_SIGNATURE == "bad_signature"
    assert len({r.value for r in Reason}) == len(Reason)


def test_a_sentence_names_the_field_and_the_bad_value() -> None:
    text = describe_validation_error(validation_error({"data": {"port": "eighty"}}))
    assert text.startswith("data.port: ")
    assert '(got "eighty")' in text


def test_under_drops_the_envelope_from_the_path() -> None:
    text = describe_validation_error(validation_error({"data": {"port": "x"}}), under="data")
    assert text.startswith("port: ")


def test_long_values_are_cut_and_many_problems_are_counted() -> None:
    text = describe_validation_error(validation_error({"data": {"port": "y" * 200}}))
    assert "..." in text
    assert "y" * 100 not in text
    many = {"data": {"port": 1, **{f"k{i}": i for i in range(7)}}}
    assert describe_validation_error(validation_error(many)).endswith("; and 2 more")


def test_a_missing_payload_is_named() -> None:
    assert describe_validation_error(validation_error(None)).startswith("payload: ")
