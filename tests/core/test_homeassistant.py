"""Home Assistant discovery messages: topics, plain JSON, no biometrics."""

from __future__ import annotations

import json

import pytest

from core import homeassistant as ha
from srs.wire import topics
from srs.wire.payloads import PersonPosition

ZONES = {"server-room": "Server room", "corridor": "Corridor"}


def position(**changes: object) -> PersonPosition:
    values: dict[str, object] = dict(
        person_key="p3",
        identity="known",
        label="Ada Lovelace",
        x=1.234,
        y=5.678,
        zone="corridor",
        confidence=0.8,
        last_seen=1000.0,
        cameras=["corridor"],
    )
    values.update(changes)
    return PersonPosition.model_validate(values)


def test_topics() -> None:
    assert topics.ha_discovery("srs_p3") == "homeassistant/device_tracker/srs_p3/config"
    assert topics.ha_state("srs_p3") == "homeassistant/device_tracker/srs_p3/state"
    assert topics.ha_attributes("srs_p3") == "homeassistant/device_tracker/srs_p3/attributes"
    assert topics.matches(topics.HA_ALL, topics.ha_state("srs_p3"))
    with pytest.raises(topics.TopicError):
        topics.ha_state("a/b")
    assert ha.object_id("t-corridor.cam-4") == "srs_t-corridor_cam-4"


def test_first_update_announces_then_only_state() -> None:
    announced: set[str] = set()
    first = ha.messages(position(), ZONES, announced=announced)
    assert [t for t, _, _ in first] == [
        "homeassistant/device_tracker/srs_p3/config",
        "homeassistant/device_tracker/srs_p3/state",
        "homeassistant/device_tracker/srs_p3/attributes",
    ]
    assert all(retain for _, _, retain in first)
    config = json.loads(first[0][1])
    assert config["name"] == "Ada Lovelace" and config["unique_id"] == "srs_p3"
    assert config["state_topic"] == topics.ha_state("srs_p3")
    assert first[1][1] == b"Corridor"
    attrs = json.loads(first[2][1])
    assert attrs == {
        "zone_id": "corridor",
        "x": 1.23,
        "y": 5.68,
        "last_seen": 1000.0,
        "identity": "known",
    }
    again = ha.messages(position(zone="server-room"), ZONES, announced=announced)
    assert [t for t, _, _ in again] == [topics.ha_state("srs_p3"), topics.ha_attributes("srs_p3")]
    assert again[0][1] == b"Server room"


def test_outside_zones_and_gone_are_not_home() -> None:
    assert ha.state(position(zone=None), ZONES)[0][1] == b"not_home"
    assert ha.state(position(gone=True), ZONES)[0][1] == b"not_home"
    assert ha.state(position(zone="unlisted"), ZONES)[0][1] == b"unlisted"


def test_unknown_people_stay_out_of_home_assistant_by_default() -> None:
    unknown = position(person_key="u9", identity="unknown", label="Unknown 9")
    assert ha.messages(unknown, ZONES, announced=set()) == []
    assert ha.messages(unknown, ZONES, announced=set(), include_unknown=True)


def test_payloads_carry_no_biometrics() -> None:
    for _, payload, _ in ha.messages(position(), ZONES, announced=set()):
        text = payload.decode()
        for word in ("encoding", "snapshot", "jpeg", "confidence", "distance"):
            assert word not in text


def test_remove_clears_retained_messages() -> None:
    assert ha.remove("p3") == [
        (topics.ha_discovery("srs_p3"), b"", True),
        (topics.ha_state("srs_p3"), b"", True),
        (topics.ha_attributes("srs_p3"), b"", True),
    ]


def test_state_is_sent_on_change_only() -> None:
    announced: set[str] = set()
    last: dict[str, bytes] = {}
    first = ha.messages(position(), ZONES, announced=announced, last_state=last)
    assert len(first) == 3  # discovery, state, attributes
    # Walking inside the corridor: nothing for Home Assistant.
    for x in (2.0, 3.0, 4.0):
        assert ha.messages(position(x=x), ZONES, announced=announced, last_state=last) == []
    moved = ha.messages(position(zone="server-room"), ZONES, announced=announced, last_state=last)
    assert [t for t, _, _ in moved] == [topics.ha_state("srs_p3"), topics.ha_attributes("srs_p3")]
    gone = ha.messages(position(gone=True), ZONES, announced=announced, last_state=last)
    assert gone[0][1] == b"not_home"


def test_trackers_name_one_availability_topic() -> None:
    config = json.loads(ha.discovery(position())[1])
    assert (
        config["availability_topic"] == topics.ha_availability() == "homeassistant/srs/availability"
    )
    assert config["payload_available"] == "online"
    assert config["payload_not_available"] == "offline"
    assert ha.availability(True) == (topics.ha_availability(), b"online", True)
    assert ha.availability(False) == (topics.ha_availability(), b"offline", True)
    assert topics.may_retain(topics.ha_availability())


def test_locator_link_sends_ha_state_on_change_only() -> None:
    from core.locating import LocatorLink
    from core.messages import Outgoing
    from core.observation import NullLocator

    link = LocatorLink(NullLocator(), homeassistant=True)
    sent = [
        link.ha_messages(Outgoing(topics.position("p3"), position(x=float(x)), retain=True))
        for x in range(5)
    ]
    assert [len(s) for s in sent] == [3, 0, 0, 0, 0]
    assert link.ha_availability(True) == [ha.availability(True)]
    assert LocatorLink(NullLocator()).ha_availability(True) == []


def test_locator_link_announces_everyone_present_again_when_ha_restarts() -> None:
    from core.locating import LocatorLink
    from core.messages import Outgoing
    from core.observation import NullLocator

    class OnePresent(NullLocator):
        def people(self) -> list[PersonPosition]:
            return [position()]

    link = LocatorLink(OnePresent(), homeassistant=True)
    first = link.ha_messages(Outgoing(topics.position("p3"), position(), retain=True))
    assert len(first) == 3  # discovery, state, attributes
    assert link.ha_rediscover() == first  # HA forgot them all: everything again
    assert link.ha_rediscover() == first
    assert LocatorLink(OnePresent()).ha_rediscover() == []  # HA not switched on
