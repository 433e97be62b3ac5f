"""The one rule for a person's name (srs/wire/names.py), and the commands that carry one."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from srs.wire.commands import EnrolPerson, NameIdentity
from srs.wire.names import check_person_name


@pytest.mark.parametrize("name", ["Ada Lovelace", "  Zoë  ", "李小龙", "O'Brien-Smith", "a" * 128])
def test_a_good_name_is_kept_stripped(name):
    assert check_person_name(name) == name.strip()


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("", "1 to 128 characters"),
        ("   ", "1 to 128 characters"),
        ("a" * 129, "1 to 128 characters"),
        ("a" * 10_000, "1 to 128 characters"),
        ("Eve\nMallory", "control characters"),
        ("Eve\tMallory", "control characters"),
        ("\x1b[31mEve\x1b[0m", "control characters"),
        ("Eve\u202eyrollaM", "control characters"),  # right-to-left override (Cf)
        ("p1", "look like a key"),
        ("P12", "look like a key"),
        ("u7", "look like a key"),
        ("t-cam1-3", "look like a key"),
        ("2", "look like a key"),
        (" 42 ", "look like a key"),
    ],
)
def test_a_bad_name_is_refused_with_one_sentence(name, rule):
    with pytest.raises(ValueError, match=rule) as info:
        check_person_name(name)
    message = str(info.value)
    assert "\n" not in message and len(message) < 200


def test_names_that_merely_start_like_keys_are_fine():
    for name in ("paul", "u2 fan", "p1x", "tom", "Trent"):
        assert check_person_name(name) == name


def test_operator_commands_refuse_a_bad_name():
    with pytest.raises(ValidationError, match="look like a key"):
        NameIdentity(person_key="u3", name="p1")
    with pytest.raises(ValidationError, match="control characters"):
        EnrolPerson(name="a\x1bb", images_jpeg_b64=["x"])
    assert NameIdentity(person_key="u3", name=" Ada ").name == "Ada"
