"""The per-role rules, pure: no broker."""

from __future__ import annotations

import pytest

from broker import acl
from srs.wire import topics


@pytest.mark.parametrize(
    ("pattern", "topic_filter", "expected"),
    [
        ("a/b", "a/b", True),
        ("a/+", "a/b", True),
        ("a/+", "a/+", True),
        ("a/b", "a/+", False),  # "+" is wider than a literal
        ("a/+", "a/#", False),  # "#" also matches "a" and "a/b/c"
        ("a/#", "a/#", True),
        ("a/#", "a", True),
        ("a/#", "a/b/+", True),
        ("a/+/c", "a/+/c", True),
        ("a/+/c", "a/+/+", False),
        ("a/+/c", "+/+/c", False),
        ("a/b", "a/b/c", False),
        ("a/b/c", "a/b", False),
        ("#", "x/y", True),
    ],
)
def test_covers_means_every_matching_topic_is_allowed(
    pattern: str, topic_filter: str, expected: bool
) -> None:
    assert acl.covers(pattern, topic_filter) is expected


WIDENING_FILTERS = [
    "#",
    "+/#",
    "srs/#",
    "srs/v1/#",
    "srs/v1/+/+/detections",
    "srs/v1/cameras/+/+",
    "srs/v1/cameras/#",
    "srs/v1/cameras/cam1/#",
    topics.ALL_DETECTIONS,
    topics.detections("cam1"),
]


@pytest.mark.parametrize("role", ["integrator", "admin", "operator", "camera"])
@pytest.mark.parametrize("topic_filter", WIDENING_FILTERS)
def test_no_role_but_core_may_subscribe_to_detections(role: acl.Role, topic_filter: str) -> None:
    assert not acl.may_subscribe(role, "cam1" if role == "camera" else "someone", topic_filter)


@pytest.mark.parametrize("role", ["integrator", "admin", "operator", "camera"])
def test_no_role_but_core_receives_detections(role: acl.Role) -> None:
    assert not acl.may_receive(role, "cam1", topics.detections("cam1"))
    assert acl.may_receive("core", "core", topics.detections("cam1"))


def test_camera_publishes_only_its_own_topics() -> None:
    assert acl.may_publish("camera", "cam1", topics.detections("cam1"))
    assert acl.may_publish("camera", "cam1", topics.camera_status("cam1"))
    for topic in (
        topics.detections("cam2"),
        topics.camera_status("cam2"),
        topics.ack("cam1"),
        topics.position("p1"),
        topics.site(),
        topics.key("core"),
    ):
        assert not acl.may_publish("camera", "cam1", topic), topic
    assert acl.may_subscribe("camera", "cam1", topics.ack("cam1"))
    assert not acl.may_subscribe("camera", "cam1", topics.ack("cam2"))
    assert not acl.may_subscribe("camera", "cam1", topics.ALL_ACKS)


def test_integrator_reads_positions_and_events_only() -> None:
    for topic_filter in (
        topics.ALL_POSITIONS,
        topics.SIGHTINGS,
        topics.ZONE_EVENTS,
        topics.ALERTS,
        topics.ALL_EVENTS,  # every event kind in one subscription (issue 18)
        topics.CORE_STATUS,
        topics.SITE,
    ):
        assert acl.may_subscribe("integrator", "ha", topic_filter), topic_filter
    for topic_filter in (
        topics.ALL_CAMERA_STATUS,
        topics.ALL_ACKS,
        topics.ALL_REQUESTS,
        topics.ALL_RESPONSES,
        "srs/v1/+/zone",
        "srs/v1/#",
    ):
        assert not acl.may_subscribe("integrator", "ha", topic_filter), topic_filter
    assert not acl.may_publish("integrator", "ha", topics.sightings())
    # Home Assistant connects as an integrator and reads core's discovery tree.
    assert acl.may_subscribe("integrator", "ha", topics.HA_ALL)
    assert acl.may_receive("integrator", "ha", topics.ha_state("srs_p1"))


def test_operator_has_only_its_own_command_topics() -> None:
    assert acl.may_publish("operator", "op1", topics.request("op1"))
    assert not acl.may_publish("operator", "op1", topics.request("op2"))
    assert acl.may_subscribe("operator", "op1", topics.response("op1"))
    assert not acl.may_subscribe("operator", "op1", topics.response("op2"))
    assert not acl.may_subscribe("operator", "op1", topics.ALL_RESPONSES)


def test_core_rules() -> None:
    assert acl.may_publish("core", "core", topics.ack("cam1"))
    assert acl.may_publish("core", "core", topics.key("core"))
    assert not acl.may_publish("core", "core", topics.key("camera-x"))
    assert not acl.may_publish("core", "core", topics.detections("cam1"))
    assert acl.may_subscribe("core", "core", topics.ALL_DETECTIONS)


def test_admin_reads_all_but_detections_and_publishes_only_its_requests() -> None:
    for topic_filter in (
        topics.ALL_CAMERA_STATUS,
        topics.ALL_ACKS,
        topics.ALL_POSITIONS,
        topics.ALL_REQUESTS,
        topics.ALL_RESPONSES,
        topics.SITE,
        topics.ALL_KEYS,
        topics.HA_ALL,
    ):
        assert acl.may_subscribe("admin", "root", topic_filter), topic_filter
    assert not acl.may_subscribe("admin", "root", topics.EVERYTHING)
    assert not acl.may_publish("admin", "root", topics.site())
    assert acl.may_publish("admin", "root", topics.request("root"))
    assert not acl.may_publish("admin", "root", topics.request("alice"))
    assert not acl.may_publish("admin", "root", topics.position("p1"))


@pytest.mark.parametrize("user", ["+", "#", "a/b", "", "cam1/+"])
def test_a_user_name_that_is_not_one_level_gets_nothing(user: str) -> None:
    assert not acl.may_publish("camera", user, f"srs/v1/cameras/{user}/detections")
    assert not acl.may_subscribe("integrator", user, topics.SIGHTINGS)


def test_malformed_or_system_topics_are_denied() -> None:
    assert not acl.may_subscribe("core", "core", "srs/v1/cameras/+x/detections")
    assert not acl.may_subscribe("core", "core", "srs/v1/#/detections")
    assert not acl.may_subscribe("admin", "root", "$SYS/#")
    assert not acl.may_publish("camera", "cam1", "srs/v1/cameras/+/detections")
    assert not acl.may_receive(None, "cam1", topics.ack("cam1"))
    assert not acl.may_publish(None, "cam1", topics.detections("cam1"))


def test_rules_are_made_only_of_contract_patterns() -> None:
    contract = set(
        topics.acl_camera_publish()
        + topics.acl_camera_subscribe()
        + topics.acl_core_publish()
        + topics.acl_core_subscribe()
        + topics.acl_operator_publish()
        + topics.acl_operator_subscribe()
        + topics.acl_integrator_subscribe()
        + topics.acl_home_assistant_subscribe()
        + topics.acl_bootstrap_publish()
        + topics.acl_bootstrap_subscribe()
    )
    for rules in acl.RULES.values():
        assert set(rules.publish + rules.subscribe) <= contract


def test_bootstrap_may_only_ask_for_the_first_admin() -> None:
    user = topics.BOOTSTRAP_USER
    assert acl.may_publish("bootstrap", user, topics.bootstrap_request())
    assert acl.may_subscribe("bootstrap", user, topics.bootstrap_response())
    assert acl.may_receive("bootstrap", user, topics.bootstrap_response())
    for topic in (
        topics.request("alice"),
        topics.detections("cam1"),
        topics.key(user),
        topics.camera_status(user),
        topics.site(),
    ):
        assert not acl.may_publish("bootstrap", user, topic)
    for topic_filter in (
        topics.SITE,
        topics.ALL_POSITIONS,
        topics.ALL_RESPONSES,
        topics.response("alice"),
        topics.CORE_STATUS,
        "#",
    ):
        assert not acl.may_subscribe("bootstrap", user, topic_filter)
    assert not acl.may_receive("bootstrap", user, topics.key(topics.CORE_SENDER))
    # Another user holding the role would still get only the bootstrap topics.
    assert not acl.may_publish("bootstrap", "mallory", topics.request("mallory"))
    assert acl.may_publish("bootstrap", "mallory", topics.bootstrap_request())
