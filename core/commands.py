"""Operator commands: verified, role-checked, run, audited, answered.

A request is signed with the key the operator announced in this session's
RegisterKey (itself signed with that key: proof of possession; the broker ACL
guarantees only that user publishes on its request topic). The user's role comes
from the broker's user store where this host has it, else from its mirror in the
database (another core instance keeps it); only operators and admins may act.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel
from sqlalchemy.orm import Session

from core import store
from core.bootstrap import Bootstrap
from core.enrol_pool import Enrolments, store_enrolment
from core.messages import Outgoing
from core.observation import known_key, unknown_key
from core.srs_config import SrsConfig
from core.store.codec import parse_key
from core.store.db import Database
from core.store.errors import StoreError
from core.store.users import mirrored_role
from srs.wire import commands as cmd
from srs.wire import topics
from srs.wire.reading import unverified_data, verifier_for
from srs.wire.signing import Reason, WireError, public_key_from_b64

if TYPE_CHECKING:
    from broker.users import UserStore
    from core.ingest import Ingest
    from core.locating import LocatorLink
    from core.messages import Incoming
    from core.store.models import Person

log = logging.getLogger(__name__)
ALLOWED_ROLES = ("operator", "admin")
UNKNOWN_KEY_SENTENCE = "your session key is not registered: sign in again"
MAX_RESULT_CHARS = 40_000  # the response must fit the broker's payload limit


class Roles:
    """Roles from the broker's user store (re-read by it when the file changes), or,
    on a host without the users file (a core instance beside the broker's host), from
    the mirror in the database that the instance with the file keeps (``sync_users``,
    every second)."""

    def __init__(self, cfg: SrsConfig, db: Database | None = None) -> None:
        self.cfg, self.db = cfg, db
        self._store: UserStore | None = None
        self._last: list[tuple[str, str]] | None = None

    def users(self) -> UserStore:
        if self._store is None:
            from broker.users import UserStore, default_path

            self._store = UserStore(default_path(self.cfg))
        return self._store

    def has_file(self) -> bool:
        return bool(self.users().path.exists())

    def role_of(self, user: str) -> str | None:
        if self.db is not None and not self.has_file():
            with self.db.session() as s:
                return mirrored_role(s, user)
        role = self.users().role_of(user)
        return None if role is None else str(role)

    def changed_users(self) -> list[tuple[str, str]] | None:
        """All (name, role) pairs if they changed since the last call, else None.
        None without a users file: an empty mirror would lock every operator out."""
        if not self.has_file():
            return None
        try:
            now = sorted((u.name, str(u.role)) for u in self.users().list())
        except (OSError, ValueError) as exc:  # unreadable or damaged (UserError)
            log.debug("broker user store not readable: %s", exc)
            return None
        if now == self._last:
            return None
        self._last = now
        return now


class CommandHandler:
    def __init__(
        self, db: Database, cfg: SrsConfig, ingest: Ingest, link: LocatorLink | None = None
    ) -> None:
        self.db, self.cfg, self.ingest, self.link = db, cfg, ingest, link
        # (old key, new key, label, identity kind) of a name or merge, to republish
        self._renamed: tuple[str, str, str, str] | None = None
        self.keys: dict[str, Ed25519PublicKey] = {}
        self.roles = Roles(cfg, db)
        self.enrolments = Enrolments()  # photos encoded in a worker process (dlib)
        self.bootstrap = Bootstrap(db, cfg, ingest, self.roles.users)
        self._announced: Ed25519PublicKey | None = None
        self.verifier = verifier_for(cfg.security, self._lookup)

    def _lookup(self, issuer: str) -> Ed25519PublicKey | None:
        return self._announced if self._announced is not None else self.keys.get(issuer)

    def _peek_announced(self, data: bytes) -> Ed25519PublicKey | None:
        """The key a RegisterKey announces (checked by verifying the token with it)."""
        try:
            command = unverified_data(data, max_bytes=self.verifier.max_bytes)["command"]
            if command.get("action") == "register_key":
                return public_key_from_b64(str(command["public_key"]))
        except (WireError, KeyError, TypeError, AttributeError, ValueError):
            pass
        return None

    def handle(self, msg: Incoming) -> list[Outgoing]:
        try:
            parsed = topics.parse(msg.topic)
            if parsed.kind is not topics.TopicKind.REQUEST or not parsed.subject:
                raise WireError(Reason.BAD_TOPIC, "not an operator request topic")
            if parsed.subject == topics.BOOTSTRAP_USER:  # the first-run request
                return self.bootstrap.handle(msg.topic, msg.data)
            self._announced = self._peek_announced(msg.data)
            try:
                req = self.verifier.verify(msg.topic, msg.data, cmd.Request).payload
            finally:
                self._announced = None
        except (WireError, topics.TopicError) as exc:
            reason = exc.reason.value if isinstance(exc, WireError) else Reason.BAD_TOPIC.value
            self.ingest.reject(reason, str(exc), msg.topic[:120])
            return self._unknown_key_answer(exc, msg.topic, msg.data)
        user = parsed.subject
        self._renamed = None
        response = self._run(user, req)
        if response is None:  # answered by finished() once its photos are encoded
            return []
        out = [Outgoing(topics.response(user), response)]
        if response.ok and self._renamed is not None and self.link is not None:
            old, new, name, kind = self._renamed
            out += self.link.rename(old, new, name, time.time(), kind)
        if response.ok and isinstance(req.command, cmd.RegisterKey) and self.link is not None:
            out += self.link.positions()  # a dashboard just subscribed (see positions())
        return out

    def _unknown_key_answer(self, exc: Exception, topic: str, data: bytes) -> list[Outgoing]:
        """Tell a signed-in operator whose session key core forgot (core restarted).

        Only for an unknown key on a request topic, and only to a user whose role may
        act: the answer goes to that user's own response topic, which the broker lets
        only them read, and it carries nothing but the request id they sent.
        """
        if not isinstance(exc, WireError) or exc.reason is not Reason.UNKNOWN_SENDER:
            return []
        parsed = topics.parse(topic)
        if parsed.kind is not topics.TopicKind.REQUEST or not parsed.subject:
            return []
        try:
            role = self.roles.role_of(parsed.subject)
            # Unverified (the key is unknown): only echoed to this user's own topic.
            request_id = unverified_data(data, max_bytes=self.verifier.max_bytes)["request_id"]
        except (OSError, ValueError, WireError, KeyError):
            return []  # an unreadable user store or token: stay silent, already counted
        if (
            role not in ALLOWED_ROLES
            or not isinstance(request_id, str)
            or not 1 <= len(request_id) <= 64
        ):
            return []
        return [
            Outgoing(
                topics.response(parsed.subject),
                cmd.Response(request_id=request_id, ok=False, error=UNKNOWN_KEY_SENTENCE),
            )
        ]

    def finished(self, wait_s: float = 0.0) -> list[Outgoing]:
        """Store the enrolments whose photos are encoded; their answers (see Enrolments)."""
        out = []
        for done in self.enrolments.finished(wait_s):
            response = self._answer(done.user, done.request, partial(store_enrolment, done=done))
            out.append(Outgoing(topics.response(done.user), response))
        return out

    def close(self) -> None:
        self.enrolments.close()

    def _run(self, user: str, req: cmd.Request) -> cmd.Response | None:
        action = req.command.action
        try:
            role = self.roles.role_of(user)
        except (OSError, ValueError) as exc:  # the user store is unreadable: deny, say why
            log.error("cannot read the broker user store: %s", exc)
            role = None
        if role not in ALLOWED_ROLES:
            with self.db.session() as s:
                store.audit(s, "security", user, f"denied_{action}", f"role {role!r}")
            return cmd.Response(
                request_id=req.request_id,
                ok=False,
                error=f"user {user!r} (role {role or 'none'}) may not run "
                f"{action}: operator or admin role required",
            )
        if isinstance(req.command, cmd.EnrolPerson):  # dlib, seconds: not on this thread
            self.enrolments.submit(user, req, req.command.images_jpeg_b64)
            return None
        return self._answer(user, req, lambda s: self._dispatch(s, user, req.command))

    def _answer(self, user: str, req: cmd.Request, act: Callable[[Session], Any]) -> cmd.Response:
        """Run ``act`` and audit it in one transaction; the response that says how it went."""
        action = req.command.action
        try:
            with self.db.session() as s:
                result = act(s)
                store.audit(s, "admin", user, action, _summary(req.command))
        except StoreError as exc:
            return cmd.Response(request_id=req.request_id, ok=False, error=str(exc)[:512])
        except Exception:
            log.exception("operator command %s from %s failed", action, user)
            return cmd.Response(
                request_id=req.request_id,
                ok=False,
                error=f"{action} failed inside core; see the core log",
            )
        self.ingest.refresh(check_now=True)
        return cmd.Response(request_id=req.request_id, ok=True, result=_fit(result))

    def _dispatch(self, s: Session, user: str, c: cmd.Action) -> Any:
        if isinstance(c, cmd.RegisterKey):
            self.keys[topics.operator_issuer(user)] = public_key_from_b64(c.public_key)
            return {"registered": True}
        if isinstance(c, cmd.NameIdentity):
            old = _key_of(s, c.person_key)
            p = store.name_identity(s, c.person_key, c.name, actor=user)
            return self._rename(old, p)
        if isinstance(c, cmd.MergePeople):
            merged = store.merge_keys(s, c.source_key, c.target_key, actor=user)
            self._renamed = (merged.old_key, merged.new_key, merged.label, merged.identity)
            return {"person_key": merged.new_key, "name": merged.label}
        if isinstance(c, cmd.SplitIdentity):
            return store.split_identity(
                s,
                c.person_key,
                camera_id=c.camera_id,
                track_id=c.track_id,
                from_sighting=c.from_sighting_id,
                actor=user,
            )
        if isinstance(c, cmd.RejectSighting):
            store.reject_sighting(s, c.sighting_id, actor=user)
            return {"sighting_id": c.sighting_id}
        if isinstance(c, cmd.SetCameraEnabled):
            store.set_camera_enabled(s, c.camera_id, c.enabled, actor=user)
            return {"camera_id": c.camera_id, "enabled": c.enabled}
        if isinstance(c, cmd.QueryHistory):
            sightings = store.query_sightings(
                s,
                person=c.person_key or c.person_name,
                camera=c.camera_id,
                since=c.since,
                until=c.until,
                limit=c.limit,
            )
            if not c.recent_events:
                return sightings
            events = self.link.recent.since(c.since, c.until) if self.link is not None else []
            return {"sightings": _fit(sightings, 2), "events": _fit(events, 2)}
        if isinstance(c, cmd.ListPeople):
            return [p.as_dict() for p in store.list_people(s)]
        if isinstance(c, cmd.GetFaces):
            from core.faces import faces_answer

            return faces_answer(s, c.person_key, c.limit, MAX_RESULT_CHARS)
        raise StoreError(f"unsupported action {c.action!r}")

    def _rename(self, old: str, person: Person) -> dict[str, Any]:
        new = known_key(person.id)
        self._renamed = (old, new, person.name, "known")
        return {"person_key": new, "name": person.name}


def _key_of(s: Session, ref: str) -> str:
    """The live key (``u7``/``p3``) a command's reference names, before it changes."""
    parsed = parse_key(ref)
    if parsed is not None:
        return unknown_key(parsed[1]) if parsed[0] == "unknown" else known_key(parsed[1])
    return known_key(store.find_person(s, ref).id)


def _summary(c: BaseModel) -> str:
    data = c.model_dump(exclude={"images_jpeg_b64", "public_key"})
    return json.dumps(data, default=str)[:500]


def _fit(result: Any, share: int = 1) -> Any:
    """Trim a list result so the signed response stays under the payload limit
    (``share``: the result is one of that many lists of one answer)."""
    if isinstance(result, list):
        while result and len(json.dumps(result, default=str)) > MAX_RESULT_CHARS // share:
            result = result[: max(1, len(result) * 3 // 4)] if len(result) > 1 else []
    return result
