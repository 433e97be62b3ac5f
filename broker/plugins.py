"""SRS's own amqtt 0.12.1 plugins: authentication and topic access control.

amqtt's stock plugins are unsafe for SRS (anonymous admitted on any user name,
publish allowed when no publish ACL is set, ``pos/+`` widened to ``pos/#``, no
per-user patterns), so the broker loads only these two, by dotted path:

    "plugins": {"broker.plugins.SrsAuthPlugin": {"users_file": ...},
                "broker.plugins.SrsTopicPlugin": {"users_file": ...}}

Both read the same :class:`~broker.users.UserStore` file, re-read when it changes,
so users added or removed with ``srs user`` apply to a running broker: CONNECT
checks the file at once; the topic checks (every publish, subscribe and delivery)
at most every ``ACL_RECHECK_S`` (1 s), so a removed user loses every topic right
within that interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from amqtt.contexts import Action, BaseContext
from amqtt.errors import PluginInitError
from amqtt.mqtt.connack import (
    BAD_USERNAME_PASSWORD,
    CONNECTION_ACCEPTED,
    IDENTIFIER_REJECTED,
    NOT_AUTHORIZED,
)
from amqtt.plugins.base import BaseAuthPlugin, BaseTopicPlugin
from amqtt.session import Session

from broker import acl
from broker.auth_gate import AuthGate
from broker.users import UserError, UserStore

# The CONNACK return code decided by SrsAuthPlugin, read by broker.amqtt_broker.
CONNACK_ATTR = "srs_connack"
# argon2 costs ~64 MiB and a few hundred ms per check: bound the concurrent checks so
# a flood of bad CONNECTs cannot exhaust memory or every core (broker.auth_gate).
CONCURRENT_CHECKS = 2


def client_id_allowed(user: str, client_id: str | None) -> bool:
    """A client id must be the user name or ``<user>:<suffix>`` (no session takeover)."""
    if not client_id:
        return False
    suffix = client_id[len(user) + 1 :]
    return client_id == user or (client_id.startswith(user + ":") and bool(suffix))


def _store(config: object) -> UserStore:
    users_file = getattr(config, "users_file", "")
    if not users_file:
        raise PluginInitError("SRS plugins need 'users_file' (the broker users.json)")
    return UserStore(Path(users_file))


class SrsAuthPlugin(BaseAuthPlugin):
    """User + password against the UserStore; client id bound to the user name."""

    @dataclass
    class Config:
        users_file: str = ""
        max_payload_bytes: int = 64 * 1024

    def __init__(self, context: BaseContext) -> None:
        super().__init__(context)
        self.store = _store(self.config)
        self.max_payload = int(self.config.max_payload_bytes)
        self.refused = 0
        self.gate = AuthGate(self.store, CONCURRENT_CHECKS)

    async def authenticate(self, *, session: Session) -> bool:
        code = await self._decide(session)
        setattr(session, CONNACK_ATTR, code)
        if code != CONNECTION_ACCEPTED:
            self.refused += 1
        return code == CONNECTION_ACCEPTED

    async def _decide(self, session: Session) -> int:
        log = self.context.logger
        peer = f"{session.remote_address}:{session.remote_port}"
        user, password = session.username, session.password
        if not user or password is None:
            log.warning(
                "refused anonymous connection from %s (client id %r)", peer, session.client_id
            )
            return NOT_AUTHORIZED
        try:
            ok = await self.gate.check(user, password, str(session.remote_address))
            role = self.store.role_of(user) if ok else None
        except UserError as exc:
            log.error("refused %r from %s: %s", user, peer, exc)
            return NOT_AUTHORIZED
        if not ok or role is None:
            log.warning("refused %r from %s: unknown user or wrong password", user, peer)
            return BAD_USERNAME_PASSWORD
        if not client_id_allowed(user, session.client_id):
            log.warning(
                "refused %r from %s: client id %r must be %r or start with %r",
                user,
                peer,
                session.client_id,
                user,
                user + ":",
            )
            return IDENTIFIER_REJECTED
        if session.will_flag:
            # amqtt broadcasts a last will without any publish check: check it here.
            topic = session.will_topic or ""
            if not acl.may_publish(role, user, topic):
                log.warning(
                    "refused %r from %s: last will on %r is not theirs to publish",
                    user,
                    peer,
                    topic,
                )
                return NOT_AUTHORIZED
            if len(session.will_message or b"") > self.max_payload:
                log.warning(
                    "refused %r from %s: last will exceeds %d bytes", user, peer, self.max_payload
                )
                return NOT_AUTHORIZED
        log.info("accepted %r (%s) from %s as %r", user, role, peer, session.client_id)
        return CONNECTION_ACCEPTED


class SrsTopicPlugin(BaseTopicPlugin):
    """Deny-by-default publish/subscribe/receive from the per-role rules in broker.acl."""

    @dataclass
    class Config:
        users_file: str = ""

    def __init__(self, context: BaseContext) -> None:
        super().__init__(context)
        self.store = _store(self.config)
        self.denied = {Action.PUBLISH: 0, Action.SUBSCRIBE: 0, Action.RECEIVE: 0}

    async def topic_filtering(
        self,
        *,
        session: Session | None = None,
        topic: str | None = None,
        action: Action | None = None,
    ) -> bool:
        if session is None or not topic or action is None:
            return False
        user = session.username
        try:
            role = self.store.acl_role_of(user) if user else None
        except UserError as exc:
            self.context.logger.error("denying %s on %r: %s", action, topic, exc)
            return False
        if action == Action.PUBLISH:
            allowed = acl.may_publish(role, user, topic)
        elif action == Action.SUBSCRIBE:
            allowed = acl.may_subscribe(role, user, topic)
        else:
            allowed = acl.may_receive(role, user, topic)
        if not allowed:
            self.denied[action] += 1
            if action != Action.RECEIVE:  # receive denials are routine under a wide filter
                self.context.logger.warning(
                    "denied %s on %r to %r (role %s)", action, topic, user, role
                )
        return allowed
