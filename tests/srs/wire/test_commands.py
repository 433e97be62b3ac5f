"""srs/wire/commands.py: operator commands, their responses and the first-admin request."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from srs.wire.commands import (
    MAX_ENROL_IMAGES,
    MAX_FACES,
    MAX_IMAGE_B64,
    CreateAdmin,
    GetFaces,
    ListPeople,
    QueryHistory,
    Request,
    Response,
    SplitIdentity,
)
from srs.wire.keys import SigningKey


def test_commands_are_a_tagged_union() -> None:
    req = Request.model_validate(
        {
            "request_id": "r1",
            "command": {"action": "name_identity", "person_key": "u7", "name": "Ada"},
        }
    )
    assert req.command.action == "name_identity"
    with pytest.raises(ValidationError, match="action"):
        Request.model_validate({"request_id": "r1", "command": {"action": "drop_tables"}})


def request(command: dict[str, object]) -> Request:
    return Request.model_validate({"request_id": "r1", "command": command})


def test_each_action_parses_to_its_own_model() -> None:
    assert isinstance(request({"action": "list_people"}).command, ListPeople)
    faces = request({"action": "get_faces", "person_key": "p3"}).command
    assert isinstance(faces, GetFaces)
    assert faces.limit == MAX_FACES
    split = request({"action": "split_identity", "person_key": "u7", "track_id": 4}).command
    assert isinstance(split, SplitIdentity)
    assert split.camera_id is None


def test_a_history_query_accepts_issue_19_fields_and_stays_valid_without_them() -> None:
    old = request({"action": "query_history", "person_key": "p1"}).command
    assert isinstance(old, QueryHistory)
    assert (old.person_name, old.recent_events, old.limit) == (None, False, 200)
    new = request({"action": "query_history", "person_name": "Ada", "recent_events": True})
    assert isinstance(new.command, QueryHistory)
    assert new.command.recent_events


@pytest.mark.parametrize(
    "command",
    [
        {"action": "query_history", "limit": 501},
        {"action": "get_faces", "person_key": "p3", "limit": MAX_FACES + 1},
        {"action": "reject_sighting", "sighting_id": -1},
        {"action": "enrol_person", "name": "Ada", "images_jpeg_b64": []},
        {
            "action": "enrol_person",
            "name": "Ada",
            "images_jpeg_b64": ["x"] * (MAX_ENROL_IMAGES + 1),
        },
        {"action": "enrol_person", "name": "Ada", "images_jpeg_b64": ["x" * (MAX_IMAGE_B64 + 1)]},
        {"action": "register_key", "public_key": "short"},
        {"action": "set_camera_enabled", "camera_id": "door", "enabled": True, "extra": 1},
    ],
)
def test_out_of_bounds_commands_are_refused(command: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        request(command)


def test_a_response_carries_a_result_or_an_error() -> None:
    ok = Response(request_id="r1", ok=True, result={"person_key": "p3"})
    assert ok.error is None
    with pytest.raises(ValidationError):
        Response(request_id="r1", ok=False, error="x" * 513)


def test_the_first_admin_request_keeps_its_secrets_out_of_repr() -> None:
    key = SigningKey.generate("bootstrap").public_key_b64
    req = CreateAdmin(
        request_id="r1",
        public_key=key,
        code="one-time-code",
        name="ada",
        password="a long password",
    )
    assert "one-time-code" not in repr(req)
    assert "a long password" not in repr(req)
    with pytest.raises(ValidationError):
        CreateAdmin(
            request_id="r1", public_key=key, code="one-time-code", name="ada", password="short"
        )
