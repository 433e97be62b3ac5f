"""Per-role topic rules, built only from the ACL patterns in ``srs.wire.topics``.

One source for both brokers: the amqtt plugin asks :func:`may_publish`,
:func:`may_subscribe` and :func:`may_receive`; the Mosquitto export writes the same
:func:`rules_for` lines. Everything not listed is denied.

``%u`` is the connected user name. Subscriptions are checked by *containment*: a
filter is granted only if every topic it can match is readable (so ``#`` or
``srs/v1/+/+/detections`` is refused to an integrator instead of widening), and each
delivered message is checked again against the read patterns.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from broker.users import Role
from srs.wire import topics

USER_TOKEN = "%u"


@dataclass(frozen=True)
class RoleRules:
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]


def _admin_read() -> tuple[str, ...]:
    """Admin reads what core and operators see, minus detections (face encodings).

    Derived rather than listed so a new topic in the contract reaches admin too;
    per-user patterns of other roles are dropped (admin has its own ``%u``).
    """
    seen = topics.acl_core_publish() + topics.acl_core_subscribe() + topics.acl_operator_subscribe()
    out: list[str] = []
    for pattern in seen:
        if pattern == topics.ALL_DETECTIONS or USER_TOKEN in pattern or pattern in out:
            continue
        out.append(pattern)
    return tuple(out)


RULES: dict[Role, RoleRules] = {
    "camera": RoleRules(tuple(topics.acl_camera_publish()), tuple(topics.acl_camera_subscribe())),
    "core": RoleRules(tuple(topics.acl_core_publish()), tuple(topics.acl_core_subscribe())),
    "operator": RoleRules(
        tuple(topics.acl_operator_publish()), tuple(topics.acl_operator_subscribe())
    ),
    "integrator": RoleRules(
        tuple(topics.acl_home_assistant_publish()),
        tuple(topics.acl_integrator_subscribe() + topics.acl_home_assistant_subscribe()),
    ),
    # Admin signs commands from the dashboard like an operator (its own request
    # topic): the first administrator must be able to act, not only watch.
    "admin": RoleRules(tuple(topics.acl_operator_publish()), _admin_read()),
    # The one-time first-run user: its own request and response topics, nothing else.
    "bootstrap": RoleRules(
        tuple(topics.acl_bootstrap_publish()), tuple(topics.acl_bootstrap_subscribe())
    ),
}


def rules_for(role: Role, user: str) -> RoleRules:
    """The role's patterns with ``%u`` replaced by ``user`` (a checked topic level)."""
    topics.check_id(user, "user name")
    base = RULES[role]
    return RoleRules(
        tuple(p.replace(USER_TOKEN, user) for p in base.publish),
        tuple(p.replace(USER_TOKEN, user) for p in base.subscribe),
    )


def _is_concrete(topic: str) -> bool:
    return bool(topic) and "+" not in topic and "#" not in topic and not topic.startswith("$")


def _valid_filter(topic_filter: str) -> bool:
    levels = topic_filter.split("/")
    for i, level in enumerate(levels):
        if "#" in level and (level != "#" or i != len(levels) - 1):
            return False
        if "+" in level and level != "+":
            return False
    return bool(topic_filter) and not topic_filter.startswith("$")


def covers(pattern: str, topic_filter: str) -> bool:
    """True if every topic matched by ``topic_filter`` is also matched by ``pattern``."""
    p_levels = pattern.split("/")
    f_levels = topic_filter.split("/")
    for i, p in enumerate(p_levels):
        if p == "#":
            return True  # matches the rest, including the parent level itself
        if i >= len(f_levels):
            return False
        f = f_levels[i]
        if f == "#":
            return False  # the filter reaches arbitrarily deep; this pattern does not
        if p == "+":
            continue
        if f != p:  # a literal level admits only the same literal ("+" is wider)
            return False
    return len(f_levels) == len(p_levels)


def _rules(role: Role | None, user: str | None) -> RoleRules | None:
    if role is None or not user:
        return None
    try:
        return rules_for(role, user)
    except topics.TopicError:
        return None


# The broker asks may_publish and may_receive for every message and every delivery:
# the answers depend only on their arguments (the rules are fixed), so they are
# remembered; a user whose role changes asks with the new role.
@lru_cache(maxsize=16384)
def may_publish(role: Role | None, user: str | None, topic: str) -> bool:
    rules = _rules(role, user)
    if rules is None or not _is_concrete(topic):
        return False
    return any(topics.matches(p, topic) for p in rules.publish)


@lru_cache(maxsize=16384)
def may_receive(role: Role | None, user: str | None, topic: str) -> bool:
    rules = _rules(role, user)
    if rules is None or not _is_concrete(topic):
        return False
    return any(topics.matches(p, topic) for p in rules.subscribe)


def may_subscribe(role: Role | None, user: str | None, topic_filter: str) -> bool:
    rules = _rules(role, user)
    if rules is None or not _valid_filter(topic_filter):
        return False
    return any(covers(p, topic_filter) for p in rules.subscribe)
