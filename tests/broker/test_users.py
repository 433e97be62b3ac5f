"""UserStore: hashes, file handling, validation."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from broker.users import UserError, UserStore, mosquitto_hash, mosquitto_verify
from tests.brokers import fast_user_store


@pytest.fixture
def store(tmp_path: Path) -> UserStore:
    return fast_user_store(tmp_path / "broker" / "users.json")


def test_add_verify_and_generated_password(store: UserStore) -> None:
    password = store.add("cam1", "camera")
    assert len(password) >= 16
    assert store.verify("cam1", password)
    assert not store.verify("cam1", password + "x")
    assert not store.verify("nobody", password)
    assert not store.verify("cam1", "")
    assert store.role_of("cam1") == "camera"
    assert store.role_of("nobody") is None


def test_file_is_private_and_holds_no_plaintext(store: UserStore) -> None:
    store.add("core", "core", "correct horse battery")
    mode = stat.S_IMODE(store.path.stat().st_mode)
    assert mode == 0o600
    text = store.path.read_text()
    assert "correct horse battery" not in text
    entry = json.loads(text)["users"]["core"]
    assert entry["argon2"].startswith("$argon2id$")
    assert mosquitto_verify("correct horse battery", entry["mosquitto"])


def test_secrets_never_in_repr(store: UserStore) -> None:
    store.add("op1", "operator", "s3cret-password")
    shown = repr(store) + repr(store.list())
    assert "s3cret" not in shown and "argon2" not in shown


def test_passwd_and_remove(store: UserStore) -> None:
    store.add("op1", "operator", "first-password")
    store.set_password("op1", "second-password")
    assert store.verify("op1", "second-password")
    assert not store.verify("op1", "first-password")
    store.remove("op1")
    assert store.list() == []
    with pytest.raises(UserError, match="no user"):
        store.remove("op1")
    with pytest.raises(UserError, match="no user"):
        store.set_password("op1", "whatever-password")


@pytest.mark.parametrize(
    ("name", "role", "message"),
    [
        ("cam/1", "camera", "not valid"),
        ("+", "camera", "not valid"),
        ("", "camera", "not valid"),
        ("cam1", "superuser", "not one of"),
    ],
)
def test_bad_names_and_roles_are_refused(
    store: UserStore, name: str, role: str, message: str
) -> None:
    with pytest.raises(UserError, match=message):
        store.add(name, role)


def test_duplicates_and_short_passwords_are_refused(store: UserStore) -> None:
    store.add("cam1", "camera")
    with pytest.raises(UserError, match="already exists"):
        store.add("cam1", "camera")
    with pytest.raises(UserError, match="at least 8"):
        store.add("cam2", "camera", "short")


def test_changes_by_another_process_are_seen(store: UserStore) -> None:
    other = fast_user_store(store.path)
    assert store.role_of("cam9") is None
    other.add("cam9", "camera", "password-nine")
    assert store.role_of("cam9") == "camera"
    assert store.verify("cam9", "password-nine")
    other.remove("cam9")
    assert store.role_of("cam9") is None


def test_a_damaged_file_is_a_clear_error(store: UserStore) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.write_text("{not json")
    with pytest.raises(UserError, match="damaged"):
        store.list()


def test_mosquitto_hash_format() -> None:
    digest = mosquitto_hash("pw", iterations=101, salt=b"\x00" * 12)
    assert digest.startswith("$7$101$AAAAAAAAAAAAAAAA$")
    assert mosquitto_verify("pw", digest)
    assert not mosquitto_verify("other", digest)
    assert not mosquitto_verify("pw", "$6$garbage")


def test_the_bootstrap_user_expires_and_is_reserved(store: UserStore) -> None:
    import time

    code = store.add("bootstrap", "bootstrap", "ABCD-EFGH-JKLM", expires_at=time.time() + 900)
    assert store.verify("bootstrap", code) and not store.expired("bootstrap")
    assert store.role_of("bootstrap") == "bootstrap"
    store.set_password("bootstrap", "NEWC-ODEX-XXXX")  # a new code keeps the expiry
    assert store.expires_at("bootstrap") is not None
    assert store.mosquitto_hashes() == {}  # never exported to Mosquitto
    later = store.expires_at("bootstrap") + 1  # type: ignore[operator]
    assert store.expired("bootstrap", now=later)
    store.expire("bootstrap")  # used: burnt at once
    assert not store.verify("bootstrap", "NEWC-ODEX-XXXX")
    store.remove("bootstrap")
    store.add("bootstrap", "bootstrap", "OLDC-ODEX-XXXX", expires_at=time.time() - 1)
    assert not store.verify("bootstrap", "OLDC-ODEX-XXXX")  # expired: never authenticates
    with pytest.raises(UserError, match="reserved"):
        store.add("root", "bootstrap", "long-enough-pw", expires_at=time.time() + 9)
    with pytest.raises(UserError, match="reserved"):
        store.add("bootstrap2", "bootstrap", "long-enough-pw", expires_at=time.time() + 9)
    with pytest.raises(UserError, match="must expire"):
        UserStore(store.path.with_name("other.json")).add("bootstrap", "bootstrap", "x" * 12)
    store.remove("bootstrap")
    with pytest.raises(UserError, match="reserved"):
        store.add("bootstrap", "admin", "long-enough-pw")


def _add_many(path: str, prefix: str, n: int) -> None:
    store = fast_user_store(Path(path))
    for i in range(n):
        store.add(f"{prefix}{i}", "integrator", f"password-{prefix}-{i}")


def test_two_processes_adding_users_at_once_lose_nothing(tmp_path: Path) -> None:
    import multiprocessing

    path = tmp_path / "broker" / "users.json"
    ctx = multiprocessing.get_context("spawn")  # separate interpreters, separate locks
    procs = [ctx.Process(target=_add_many, args=(str(path), prefix, 20)) for prefix in ("a", "b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    names = {u.name for u in fast_user_store(path).list()}
    assert names == {f"{p}{i}" for p in ("a", "b") for i in range(20)}


ROOT_ONLY = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root (chown)"
)


@ROOT_ONLY
def test_root_writes_keep_the_data_dirs_owner(tmp_path: Path) -> None:
    data = tmp_path / "var"
    data.mkdir()
    os.chown(data, 65534, 65534)  # the service user (nobody here)
    store = fast_user_store(data / "broker" / "users.json")
    store.add("cam1", "camera", "camera-password")
    store.set_password("cam1", "another-password")
    for p in (data / "broker", store.path, data / "broker" / ".users.json.lock"):
        st = p.stat()
        assert (st.st_uid, st.st_gid) == (65534, 65534), p
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
