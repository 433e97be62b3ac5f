"""The first administrator: core's side of the one-time bootstrap code.

``srs init`` creates the broker user ``bootstrap`` (role ``bootstrap``) whose
password is a one-time code valid 15 minutes; the broker lets it publish only a
:class:`~srs.wire.commands.CreateAdmin` on ``topics.bootstrap_request()`` and read
``topics.bootstrap_response()``. The request is signed with the key it announces
(proof of possession, as RegisterKey), so the signature proves only that the token
is whole and fresh; what authorises it is the code, checked here again against the
broker's user store (argon2, so constant time), together with: the bootstrap user
exists, has not expired, and no administrator exists yet. On success the admin is
created, the code expired at once (it works once; the expired user is removed a
minute later by :func:`tidy`, so the broker still delivers the answer) and the act
audited.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from core import store
from core.messages import Outgoing
from core.srs_config import SrsConfig
from core.store.db import Database
from srs.wire import commands as cmd
from srs.wire import topics
from srs.wire.reading import unverified_data, verifier_for
from srs.wire.signing import WireError, public_key_from_b64

if TYPE_CHECKING:
    from broker.users import UserStore
    from core.ingest import Ingest

log = logging.getLogger(__name__)
TIDY_AFTER_S = 60.0
ADMIN_EXISTS = (
    "an administrator already exists: sign in with that account (the first-run "
    "code works only while there is none)"
)
NO_CODE = "no first-run code is active: run `srs init` on the server to get one"
EXPIRED = (
    "the first-run code has expired (it lasts 15 minutes): run `srs init` on the "
    "server for a new one"
)
WRONG_CODE = "the first-run code is not right: check it, or run `srs init` for a new one"


class Bootstrap:
    def __init__(
        self, db: Database, cfg: SrsConfig, ingest: Ingest, users: Callable[[], UserStore]
    ) -> None:
        """``users``: a zero-argument callable returning the broker's UserStore."""
        self.db, self.ingest, self._users = db, ingest, users
        self._announced: Ed25519PublicKey | None = None
        self.verifier = verifier_for(cfg.security, lambda issuer: self._announced)

    def handle(self, topic: str, data: bytes) -> list[Outgoing]:
        try:
            self._announced = _peek_key(data, self.verifier.max_bytes)
            req = self.verifier.verify(topic, data, cmd.CreateAdmin).payload
        except WireError as exc:
            self.ingest.reject(exc.reason.value, str(exc), topic[:120])
            return []
        finally:
            self._announced = None
        ok, error = self._create(req)
        response = cmd.Response(
            request_id=req.request_id,
            ok=ok,
            error=error,
            result={"name": req.name, "role": "admin"} if ok else None,
        )
        return [Outgoing(topics.bootstrap_response(), response)]

    def _create(self, req: cmd.CreateAdmin) -> tuple[bool, str | None]:
        from broker.users import BOOTSTRAP_USER, UserError

        try:
            users = self._users()
            problem = _refusal(users, req)
            if problem is None:
                users.add(req.name, "admin", req.password)
                # Burnt at once; removed a minute later (tidy), so that the broker still
                # lets this very connection read the answer.
                users.expire(BOOTSTRAP_USER)
        except (UserError, OSError) as exc:
            problem = str(exc)
        with self.db.session() as s:
            if problem is None:
                store.audit(
                    s,
                    "security",
                    BOOTSTRAP_USER,
                    "create_admin",
                    f"first administrator {req.name} created with the one-time code",
                )
            else:
                store.audit(s, "security", BOOTSTRAP_USER, "create_admin_refused", problem)
        if problem is None:
            log.warning("first administrator %s created with the one-time code", req.name)
            return True, None
        log.warning("first-administrator request refused: %s", problem)
        return False, problem[:512]


def tidy(users: UserStore, now: float | None = None) -> bool:
    """Remove a bootstrap user expired for over a minute; True if one was removed."""
    from broker.users import BOOTSTRAP_USER

    now = time.time() if now is None else now
    at = users.expires_at(BOOTSTRAP_USER) if users.role_of(BOOTSTRAP_USER) else None
    if at is None or now - at < TIDY_AFTER_S:
        return False
    users.remove(BOOTSTRAP_USER)
    log.info("removed the expired first-run bootstrap user")
    return True


def _refusal(users: UserStore, req: cmd.CreateAdmin) -> str | None:
    """Why this request may not create the admin, or None."""
    from broker.users import BOOTSTRAP_USER

    if any(u.role == "admin" for u in users.list()):
        return ADMIN_EXISTS
    if users.role_of(BOOTSTRAP_USER) != "bootstrap":
        return NO_CODE
    if users.expired(BOOTSTRAP_USER):
        return EXPIRED
    if not users.verify(BOOTSTRAP_USER, req.code):
        return WRONG_CODE
    if users.role_of(req.name) is not None:
        return f"a broker user {req.name!r} already exists: choose another administrator name"
    return None


def _peek_key(data: bytes, max_bytes: int) -> Ed25519PublicKey | None:
    """The key the request announces (trusted only once the token verifies with it)."""
    try:
        return public_key_from_b64(str(unverified_data(data, max_bytes=max_bytes)["public_key"]))
    except (WireError, KeyError, ValueError):
        return None
