"""broker/bootstrap.py: the one-time first-run code."""

from __future__ import annotations

import re
from pathlib import Path

from broker import bootstrap
from broker.users import BOOTSTRAP_ROLE, BOOTSTRAP_USER
from tests.brokers import fast_user_store

PRINTED = re.compile(r"^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$")


def test_a_code_is_three_groups_without_look_alikes() -> None:
    codes = {bootstrap.new_code() for _ in range(50)}
    assert all(PRINTED.match(c) for c in codes)
    assert len(codes) == 50
    assert not set("".join(codes)) & set("01IO")


def test_what_a_person_types_is_read_in_the_printed_form() -> None:
    assert bootstrap.normalise(" abcd efgh-jkmn ") == "ABCD-EFGH-JKMN"
    assert bootstrap.normalise("ABCD-EFGH-JKMN") == "ABCD-EFGH-JKMN"


def test_issue_makes_an_expiring_bootstrap_user(tmp_path: Path) -> None:
    users = fast_user_store(tmp_path / "users.json")
    code, expires_at = bootstrap.issue(users, now=1000.0)
    assert expires_at == 1000.0 + bootstrap.TTL_S
    assert users.role_of(BOOTSTRAP_USER) == BOOTSTRAP_ROLE
    assert users.expires_at(BOOTSTRAP_USER) == expires_at
    assert users.verify(BOOTSTRAP_USER, code) is False  # now=1000 is long past
    assert users.password_hash(BOOTSTRAP_USER) is not None


def test_a_fresh_code_replaces_the_earlier_one(tmp_path: Path) -> None:
    users = fast_user_store(tmp_path / "users.json")
    first, _ = bootstrap.issue(users)
    second, _ = bootstrap.issue(users)
    assert users.verify(BOOTSTRAP_USER, second)
    assert not users.verify(BOOTSTRAP_USER, first)
