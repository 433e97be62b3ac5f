"""Broker users: names, roles and password hashes in one JSON file.

Each user carries two hashes of the same password:

* ``argon2`` (argon2id, memory-hard) - what the embedded amqtt broker verifies;
* ``mosquitto`` (PBKDF2-SHA512 in Mosquitto's ``$7$`` format) - written at the same
  moment so ``srs broker export --format mosquitto`` can produce a password file
  without ever storing a plaintext. Mosquitto cannot read argon2, and asking every
  site to re-enter every camera's password on migration is worse than a second,
  well-iterated standard KDF in a file that is 0600 anyway;
* ``bcrypt`` - for ``srs broker export --format nats``: NATS reads only bcrypt (or
  plaintext). A password longer than bcrypt's 72 bytes gets none (that user is left
  out of a NATS export, with a sentence saying so).

The file is rewritten atomically (temp file + rename, mode 0600, the directory's
owner when written by root: srs/files.py) under a lock file beside it, so two
processes adding users at once (``srs user add`` and core creating the first
administrator) both land; it is re-read when
its mtime/size changes, so ``srs user add`` takes effect on a running broker. Every
lookup checks (stats) the file at once, except :meth:`UserStore.acl_role_of`, the
broker's per-message topic check, which checks it at most every ``ACL_RECHECK_S``.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import logging
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

import bcrypt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from filelock import FileLock, Timeout

from srs.files import adopt_owner, make_dirs
from srs.wire.topics import TopicError, check_id

if TYPE_CHECKING:
    from broker.srs_config import DataDir

log = logging.getLogger(__name__)

Role = Literal["camera", "core", "operator", "integrator", "admin", "bootstrap"]
ROLES: tuple[Role, ...] = get_args(Role)
# The one-time first-run user (srs init): its password is the code, it expires.
BOOTSTRAP_ROLE: Role = "bootstrap"
BOOTSTRAP_USER = BOOTSTRAP_ROLE
FILE_VERSION = 1
# OWASP 2023 suggests 210k for PBKDF2-SHA512; 100k keeps a Pi connect under ~0.3 s.
PBKDF2_ITERATIONS = 100_000
# nats-server's own `nats server passwd` default; NATS checks it on each CONNECT.
BCRYPT_ROUNDS = 11
BCRYPT_MAX_BYTES = 72  # bcrypt reads no further (the library refuses longer input)
# The broker checks topic rights on every publish, subscribe and delivery; a stat() of
# the users file on each of them was ~11 % of its CPU under load. So acl_role_of() looks
# at the file at most once per this many seconds: a user removed by another process
# (`srs user remove`) keeps the topic rights of an open connection for up to this long.
# A name the cached copy does not know is looked up at once (a new user works at once),
# and CONNECT (password, expiry, role) always re-checks the file.
ACL_RECHECK_S = 1.0
# How long a writer waits for another process's write (each takes milliseconds, plus
# the password hashing done before taking the lock).
LOCK_TIMEOUT_S = 30.0


class UserError(ValueError):
    """A bad user name, role or password, or a damaged users file."""


@dataclass(frozen=True)
class User:
    name: str
    role: Role

    def __repr__(self) -> str:  # never any hash, let alone a password
        return f"User(name={self.name!r}, role={self.role!r})"


def default_path(cfg: DataDir) -> Path:
    return cfg.data_dir / "broker" / "users.json"


def check_name(name: str) -> str:
    """A user name must be usable as one topic level (it is substituted for ``%u``)."""
    try:
        return check_id(name, "user name")
    except TopicError as exc:
        raise UserError(str(exc)) from None


def check_role(role: str) -> Role:
    if role not in ROLES:
        raise UserError(f"role {role!r} is not one of {', '.join(ROLES)}")
    return role


def generate_password() -> str:
    return secrets.token_urlsafe(18)


def mosquitto_hash(
    password: str, iterations: int = PBKDF2_ITERATIONS, salt: bytes | None = None
) -> str:
    """Mosquitto's ``$7$<iterations>$<salt b64>$<hash b64>`` (PBKDF2-HMAC-SHA512)."""
    salt = salt if salt is not None else os.urandom(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    b64 = base64.b64encode
    return f"$7${iterations}${b64(salt).decode()}${b64(digest).decode()}"


def bcrypt_hash(password: str, rounds: int = BCRYPT_ROUNDS) -> str | None:
    """``$2b$`` hash for NATS, or None for a password bcrypt cannot take whole."""
    raw = password.encode()
    if len(raw) > BCRYPT_MAX_BYTES:
        return None
    return bcrypt.hashpw(raw, bcrypt.gensalt(rounds)).decode()


def mosquitto_verify(password: str, stored: str) -> bool:
    try:
        _, seven, iterations, salt, digest = stored.split("$")
        if seven != "7":
            return False
        again = hashlib.pbkdf2_hmac(
            "sha512", password.encode(), base64.b64decode(salt), int(iterations)
        )
        return hmac.compare_digest(again, base64.b64decode(digest))
    except ValueError:
        return False


class UserStore:
    """The broker's user database (see module doc). Thread-safe."""

    def __init__(
        self,
        path: Path,
        *,
        hasher: PasswordHasher | None = None,
        pbkdf2_iterations: int = PBKDF2_ITERATIONS,
        bcrypt_rounds: int = BCRYPT_ROUNDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = Path(path)
        # Tests pass a cheap hasher; the parameters live in each hash, so verify
        # always uses whatever cost the hash was created with.
        self._hasher = hasher or PasswordHasher()
        self._iterations = pbkdf2_iterations
        self._bcrypt_rounds = bcrypt_rounds
        self._lock = threading.RLock()
        self._stamp: tuple[int, int, int] | None = None
        self._users: dict[str, dict[str, Any]] = {}
        self._clock = clock  # for ACL_RECHECK_S only (tests pass a fake one)
        self._checked_at: float | None = None  # clock() of the last look at the file

    def __repr__(self) -> str:
        return f"UserStore({str(self.path)!r})"

    # --- reading ------------------------------------------------------------

    def _refresh(self, max_age_s: float = 0.0) -> dict[str, dict[str, Any]]:
        """Re-read the file when it changed on disk (another process added a user).

        With ``max_age_s`` the file is not even looked at when it was checked less than
        that long ago (the per-message ACL path, see ``ACL_RECHECK_S``)."""
        with self._lock:
            now = self._clock()
            if (
                max_age_s > 0
                and self._checked_at is not None
                and now - self._checked_at < max_age_s
            ):
                return self._users
            try:
                st = self.path.stat()
            except FileNotFoundError:
                self._stamp, self._users = None, {}
                self._checked_at = now
                return self._users
            # Every write is a rename of a new file, so the inode changes even when
            # mtime (coarse on some kernels) and size (a new password) do not.
            stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
            if stamp != self._stamp:
                self._users = self._parse(self.path.read_text())
                self._stamp = stamp
            self._checked_at = now
            return self._users

    def _parse(self, text: str) -> dict[str, dict[str, Any]]:
        try:
            raw: Any = json.loads(text)
            users = raw["users"]
            if raw.get("version") != FILE_VERSION or not isinstance(users, dict):
                raise ValueError("unexpected layout")
            for name, entry in users.items():
                check_name(name)
                check_role(entry["role"])
                if not str(entry["argon2"]).startswith("$argon2"):
                    raise ValueError(f"user {name!r} has no argon2 hash")
            return users
        except (ValueError, KeyError, TypeError) as exc:
            raise UserError(
                f"users file {self.path} is damaged ({exc}); fix or remove it"
            ) from None

    def role_of(self, name: str) -> Role | None:
        entry = self._refresh().get(name)
        return check_role(entry["role"]) if entry else None

    def acl_role_of(self, name: str) -> Role | None:
        """:meth:`role_of` for the per-message topic checks: the file is looked at
        at most every ``ACL_RECHECK_S``, so a removed user's rights end within that
        interval; a name unknown to the cached copy is looked up at once, so a user
        added a moment ago (and already connected: CONNECT re-reads) may publish."""
        entry = self._refresh(ACL_RECHECK_S).get(name)
        if entry is None:
            entry = self._refresh().get(name)
        return check_role(entry["role"]) if entry else None

    def list(self) -> list[User]:
        users = self._refresh()
        return [User(n, check_role(e["role"])) for n, e in sorted(users.items())]

    def mosquitto_hashes(self) -> dict[str, str]:
        """name -> ``$7$`` hash, for the Mosquitto export (never the one-time bootstrap
        user: Mosquitto cannot expire it, and the first run happens on the embedded
        broker)."""
        return {
            n: e["mosquitto"]
            for n, e in sorted(self._refresh().items())
            if e.get("mosquitto") and e["role"] != BOOTSTRAP_ROLE
        }

    def nats_hashes(self) -> dict[str, str | None]:
        """name -> bcrypt hash (None: made before SRS kept one, or too long a password)
        for the NATS export; never the one-time bootstrap user (as for Mosquitto)."""
        return {
            n: e.get("bcrypt")
            for n, e in sorted(self._refresh().items())
            if e["role"] != BOOTSTRAP_ROLE
        }

    def expires_at(self, name: str) -> float | None:
        """When this user stops authenticating (epoch s), or None if it never does."""
        entry = self._refresh().get(name)
        value = entry.get("expires_at") if entry else None
        return float(value) if value is not None else None

    def expired(self, name: str, now: float | None = None) -> bool:
        at = self.expires_at(name)
        return at is not None and (time.time() if now is None else now) >= at

    def password_hash(self, name: str) -> str | None:
        """The user's argon2 hash (it changes with the password), or None."""
        entry = self._refresh().get(name)
        return str(entry["argon2"]) if entry else None

    def verify(self, name: str, password: str) -> bool:
        entry = self._refresh().get(name)
        if entry is None or not password or self.expired(name):
            # Same cost as a real check, so a probe cannot tell unknown users apart.
            self._hasher.hash("timing-equaliser")
            return False
        try:
            return bool(self._hasher.verify(entry["argon2"], password))
        except (VerificationError, InvalidHashError):
            return False

    # --- writing ------------------------------------------------------------

    def add(
        self, name: str, role: str, password: str | None = None, *, expires_at: float | None = None
    ) -> str:
        """Create a user; return its password (generated when None). A user with
        ``expires_at`` (epoch s) never authenticates from that moment on."""
        check_name(name)
        checked_role = check_role(role)
        if (checked_role == BOOTSTRAP_ROLE) != (name == BOOTSTRAP_USER):
            raise UserError(
                f"the user name {BOOTSTRAP_USER!r} and the role "
                f"{BOOTSTRAP_ROLE!r} are reserved for the first-run code "
                "(`srs init` creates it)"
            )
        if checked_role == BOOTSTRAP_ROLE and expires_at is None:
            raise UserError("the first-run bootstrap user must expire")
        secret = password if password is not None else generate_password()
        entry: dict[str, Any] = {"role": checked_role, **self._hashes(secret)}
        if expires_at is not None:
            entry["expires_at"] = float(expires_at)
        with self._locked() as users:
            if name in users:
                raise UserError(f"user {name!r} already exists (use `srs user passwd`)")
            users[name] = entry
            self._write(users)
        log.info("broker user %s added with role %s", name, checked_role)
        return secret

    def remove(self, name: str) -> None:
        with self._locked() as users:
            if users.pop(name, None) is None:
                raise UserError(f"no user {name!r}")
            self._write(users)
        log.info("broker user %s removed", name)

    def set_password(self, name: str, password: str) -> None:
        hashes = self._hashes(password)  # outside the lock: hashing takes a while
        with self._locked() as users:
            if name not in users:
                raise UserError(f"no user {name!r}")
            users[name] = {**users[name], **hashes}  # role and expiry kept
            self._write(users)
        log.info("broker user %s has a new password", name)

    def expire(self, name: str, at: float | None = None) -> None:
        """From ``at`` (default now) on, this user never authenticates again."""
        with self._locked() as users:
            if name not in users:
                raise UserError(f"no user {name!r}")
            users[name] = {**users[name], "expires_at": time.time() if at is None else at}
            self._write(users)
        log.info("broker user %s expired", name)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, dict[str, Any]]]:
        """Read-modify-write across threads and processes: yields a copy of the users
        as they are on disk now, to change and pass to ``_write`` within the block."""
        with self._lock:
            make_dirs(self.path.parent, 0o700)
            lock_path = self.path.with_name(f".{self.path.name}.lock")
            if not lock_path.exists():  # created here so it gets the directory's owner
                with contextlib.suppress(FileExistsError):
                    fd = os.open(lock_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    try:
                        adopt_owner(fd, self.path.parent)
                    finally:
                        os.close(fd)
            try:
                with FileLock(lock_path, timeout=LOCK_TIMEOUT_S):
                    self._stamp = None  # another process may have written a moment ago
                    yield dict(self._refresh())
            except Timeout:
                raise UserError(
                    f"another process holds {lock_path} for over {LOCK_TIMEOUT_S:.0f} s; "
                    "try again (or remove the file if no srs command is running)"
                ) from None

    def _hashes(self, password: str) -> dict[str, str | None]:
        if len(password) < 8:
            raise UserError("a password needs at least 8 characters")
        return {
            "argon2": self._hasher.hash(password),
            "mosquitto": mosquitto_hash(password, self._iterations),
            "bcrypt": bcrypt_hash(password, self._bcrypt_rounds),
        }

    def _write(self, users: dict[str, dict[str, Any]]) -> None:
        """Replace the file (call inside ``_locked``)."""
        text = json.dumps({"version": FILE_VERSION, "users": users}, indent=2, sort_keys=True)
        fd, tmp = tempfile.mkstemp(prefix=".users-", dir=self.path.parent)
        try:
            os.fchmod(fd, 0o600)
            adopt_owner(fd, self.path.parent)  # root's write stays the service's file
            with os.fdopen(fd, "w") as fh:
                fh.write(text + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._stamp = None  # force a re-read (mtime granularity may hide our own write)
        self._refresh()
