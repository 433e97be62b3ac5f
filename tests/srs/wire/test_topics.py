"""Every subscription filter matches its builder's topics and nothing else."""

from __future__ import annotations

import pytest

from srs.wire import topics
from srs.wire.topics import TopicKind

# (builder output, kind, subject) for one sample of every topic in the tree.
SAMPLES = [
    (topics.detections("cam1"), TopicKind.DETECTIONS, "cam1"),
    (topics.camera_status("cam1"), TopicKind.CAMERA_STATUS, "cam1"),
    (topics.ack("cam1"), TopicKind.ACK, "cam1"),
    (topics.camera_key("cam1"), TopicKind.CAMERA_KEY, "cam1"),
    (topics.position("p12"), TopicKind.POSITION, "p12"),
    (topics.sightings(), TopicKind.SIGHTINGS, None),
    (topics.zone_events(), TopicKind.ZONE_EVENTS, None),
    (topics.alerts(), TopicKind.ALERTS, None),
    (topics.core_status(), TopicKind.CORE_STATUS, None),
    (topics.broker_status(), TopicKind.BROKER_STATUS, None),
    (topics.key("core"), TopicKind.KEY, "core"),
    (topics.site(), TopicKind.SITE, None),
    (topics.request("alice"), TopicKind.REQUEST, "alice"),
    (topics.response("alice"), TopicKind.RESPONSE, "alice"),
]

FILTERS = {
    TopicKind.DETECTIONS: topics.ALL_DETECTIONS,
    TopicKind.CAMERA_STATUS: topics.ALL_CAMERA_STATUS,
    TopicKind.ACK: topics.ALL_ACKS,
    TopicKind.CAMERA_KEY: topics.ALL_CAMERA_KEYS,
    TopicKind.POSITION: topics.ALL_POSITIONS,
    TopicKind.SIGHTINGS: topics.SIGHTINGS,
    TopicKind.ZONE_EVENTS: topics.ZONE_EVENTS,
    TopicKind.ALERTS: topics.ALERTS,
    TopicKind.CORE_STATUS: topics.CORE_STATUS,
    TopicKind.BROKER_STATUS: topics.BROKER_STATUS,
    TopicKind.KEY: topics.ALL_KEYS,
    TopicKind.SITE: topics.SITE,
    TopicKind.REQUEST: topics.ALL_REQUESTS,
    TopicKind.RESPONSE: topics.ALL_RESPONSES,
}


def test_every_kind_has_a_sample_and_a_filter() -> None:
    assert {kind for _, kind, _ in SAMPLES} == set(TopicKind) == set(FILTERS)


@pytest.mark.parametrize("kind", list(TopicKind), ids=lambda k: k.value)
def test_filter_matches_its_builder_and_nothing_else(kind: TopicKind) -> None:
    for topic, sample_kind, _ in SAMPLES:
        assert topics.matches(FILTERS[kind], topic) == (sample_kind is kind), (kind, topic)


@pytest.mark.parametrize(("topic", "kind", "subject"), SAMPLES)
def test_parse_inverts_the_builder(topic: str, kind: TopicKind, subject: str | None) -> None:
    parsed = topics.parse(topic)
    assert (parsed.kind, parsed.subject) == (kind, subject)


def test_camera_keys_are_signed_by_core_not_the_camera() -> None:
    assert topics.parse(topics.camera_key("cam1")).issuer == topics.CORE_SENDER
    assert topics.parse(topics.broker_status()).issuer == topics.BROKER_SENDER


def test_everything_filter_covers_the_tree() -> None:
    assert all(topics.matches(topics.EVERYTHING, t) for t, _, _ in SAMPLES)


def test_issuer_comes_from_the_topic() -> None:
    assert topics.parse(topics.detections("cam1")).issuer == "camera:cam1"
    assert topics.parse(topics.camera_status("cam1")).issuer == "camera:cam1"
    assert topics.parse(topics.request("alice")).issuer == "operator:alice"
    assert topics.parse(topics.position("u7")).issuer == "core"
    assert topics.parse(topics.ack("cam1")).issuer == "core"


@pytest.mark.parametrize("bad", ["", "+", "#", "a/b", "-lead", "x" * 65, "cam 1", "é"])
def test_ids_that_could_escape_a_level_are_refused(bad: str) -> None:
    with pytest.raises(topics.TopicError, match="is not valid"):
        topics.detections(bad)


def test_an_id_with_a_dot_is_refused_with_the_reason() -> None:
    """RabbitMQ and NATS turn '.' into a topic level: `cam.1` would be two levels there."""
    with pytest.raises(topics.TopicError, match=r"topic separator.*'cam-1'"):
        topics.detections("cam.1")
    assert topics.detections("cam_1-b") == "srs/v1/cameras/cam_1-b/detections"


@pytest.mark.parametrize(
    "topic",
    [
        "srs/v1/cameras/cam1/detections/extra",
        "srs/v2/cameras/cam1/detections",
        "srs/v1/cameras/+/detections",
        "srs/v1/people//position",
        "other/topic",
    ],
)
def test_parse_refuses_topics_outside_the_tree(topic: str) -> None:
    with pytest.raises(topics.TopicError):
        topics.parse(topic)


@pytest.mark.parametrize(
    ("flt", "topic", "expected"),
    [
        ("a/+/c", "a/b/c", True),
        ("a/+/c", "a/b/d", False),
        ("a/#", "a/b/c", True),
        ("a/#", "a", True),  # MQTT: "#" also matches the parent level
        ("a/b", "a/b/c", False),
        ("a/b/c", "a/b", False),
    ],
)
def test_matches_follows_mqtt_wildcards(flt: str, topic: str, expected: bool) -> None:
    assert topics.matches(flt, topic) is expected


def test_acl_patterns_are_in_the_tree() -> None:
    for pattern in (
        topics.acl_camera_publish()
        + topics.acl_camera_subscribe()
        + topics.acl_operator_publish()
        + topics.acl_operator_subscribe()
    ):
        assert pattern.startswith(topics.PREFIX + "/")
    # integrators never see detections (face encodings), even via a pattern
    assert not any(
        topics.matches(f, topics.detections("cam1")) for f in topics.acl_integrator_subscribe()
    )
    assert not any(
        topics.matches(f, topics.detections("cam1")) for f in topics.acl_operator_subscribe()
    )


@pytest.mark.parametrize("kind", list(TopicKind), ids=lambda k: k.value)
def test_a_shared_filter_matches_what_its_builders_topics_match(kind: TopicKind) -> None:
    flt = topics.shared("core", FILTERS[kind])
    assert flt == f"$share/core/{FILTERS[kind]}"
    assert topics.unshared(flt) == FILTERS[kind]
    for topic, sample_kind, _ in SAMPLES:
        assert topics.matches(flt, topic) == (sample_kind is kind), (kind, topic)


@pytest.mark.parametrize("group", ["", "a/b", "+", "#", "-x", "x" * 65])
def test_a_share_group_is_checked_like_an_id(group: str) -> None:
    with pytest.raises(topics.TopicError):
        topics.shared(group, topics.ALL_DETECTIONS)


@pytest.mark.parametrize(
    "flt", ["other/#", f"$share/g/{topics.ALL_DETECTIONS}", "$SYS/#", "#"], ids=str
)
def test_only_the_trees_filters_are_shared_and_only_once(flt: str) -> None:
    with pytest.raises(topics.TopicError):
        topics.shared("core", flt)


def test_a_shared_filter_without_a_group_or_filter_is_refused() -> None:
    for bad in ("$share/core", "$share//srs/v1/sightings", "$share/core/"):
        with pytest.raises(topics.TopicError):
            topics.unshared(bad)
