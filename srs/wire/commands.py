"""Operator commands (GUI -> core) and their responses, as a tagged union.

A request is signed by the operator's own key (issuer ``operator:{user}``) and
published on ``operators/{user}/request``; core checks the user's role, runs it
and answers on ``operators/{user}/response`` with the same ``request_id``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from srs.wire.names import PersonName
from srs.wire.payloads import Id, Label, Payload, Timestamp

MAX_ENROL_IMAGES = 8
MAX_IMAGE_B64 = 40 * 1024  # keeps one request under the broker's 64 KiB default


class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class RegisterKey(_Action):
    """First message of a GUI session: the operator's fresh Ed25519 public key.

    Trusted because only that broker user may publish on its own request topic
    (the ACL), and signed with the key it announces (proof of possession).
    """

    action: Literal["register_key"] = "register_key"
    public_key: Annotated[str, Field(min_length=43, max_length=44)]


class NameIdentity(_Action):
    """Name an unknown identity: a new person, or merged into an existing one."""

    action: Literal["name_identity"] = "name_identity"
    person_key: Id
    name: PersonName


class MergePeople(_Action):
    """Merge ``source_key`` into ``target_key``; the source key stops existing.

    Two people, an anonymous identity into a person (it is named after them) or two
    anonymous identities (u7 into u3).
    """

    action: Literal["merge_people"] = "merge_people"
    source_key: Id
    target_key: Id


class SplitIdentity(_Action):
    """Move part of an identity's sightings into a new anonymous identity.

    Those of ``camera_id`` and/or ``track_id``, or (``from_sighting_id`` alone) that
    sighting's camera and track from it onwards. Answer: ``{"person_key", "new_key",
    "moved"}``.
    """

    action: Literal["split_identity"] = "split_identity"
    person_key: Id
    camera_id: Id | None = None
    track_id: Annotated[int, Field(ge=0, le=2**31)] | None = None
    from_sighting_id: Annotated[int, Field(ge=0)] | None = None


class RejectSighting(_Action):
    """Mark a sighting 'not this person': the gallery learns a negative example."""

    action: Literal["reject_sighting"] = "reject_sighting"
    sighting_id: Annotated[int, Field(ge=0)]


class EnrolPerson(_Action):
    """Enrol (or add photos to) the person ``name``: one face per photo.

    Core encodes the photos off its ingest thread and answers once they are stored:
    ``{"person_key", "name", "encoded", "problems": [{"image", "problem"}]}``, a photo
    without exactly one usable face being a problem, not a failure.
    """

    action: Literal["enrol_person"] = "enrol_person"
    name: PersonName
    images_jpeg_b64: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=MAX_IMAGE_B64)]],
        Field(min_length=1, max_length=MAX_ENROL_IMAGES),
    ]


class SetCameraEnabled(_Action):
    """Switch a registered camera on or off; core refuses a disabled camera's messages.

    Answer: ``{"camera_id", "enabled"}``.
    """

    action: Literal["set_camera_enabled"] = "set_camera_enabled"
    camera_id: Id
    enabled: bool


class QueryHistory(_Action):
    """Stored sightings, newest first, filtered by person, camera and time.

    Answer: the list of sightings, trimmed to fit the broker's payload limit; with
    ``recent_events``, ``{"sightings": [...], "events": [...]}``.
    """

    action: Literal["query_history"] = "query_history"
    person_key: Id | None = None
    camera_id: Id | None = None
    since: Timestamp | None = None
    until: Timestamp | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 200
    # Optional (issue 19; older senders stay valid): a person's name when the desk
    # has no key for them (core looks it up, as `srs sightings --person`), and the
    # recent zone events and alerts core keeps in memory: the answer is then
    # {"sightings": [...], "events": [...]} instead of the list of sightings.
    person_name: Label | None = None
    recent_events: bool = False


class ListPeople(_Action):
    """Every enrolled person, with their key, encodings, sightings and last sighting."""

    action: Literal["list_people"] = "list_people"


MAX_FACES = 5  # crops core keeps per identity, and the most one answer carries


class GetFaces(_Action):
    """The best stored face crops of a person (``p3``) or anonymous identity (``u7``).

    Best first. Answer: ``{"person_key", "faces": [{"jpeg_b64", "seen_at",
    "camera_id", "track_id", "sighting_id", "quality"}]}`` (operators only; audited,
    so the log shows who looked at whose face).
    """

    action: Literal["get_faces"] = "get_faces"
    person_key: Id
    limit: Annotated[int, Field(ge=1, le=MAX_FACES)] = MAX_FACES


Action = Annotated[
    RegisterKey
    | NameIdentity
    | MergePeople
    | SplitIdentity
    | RejectSighting
    | EnrolPerson
    | SetCameraEnabled
    | QueryHistory
    | ListPeople
    | GetFaces,
    Field(discriminator="action"),
]


class Request(Payload):
    """One operator command; ``request_id`` (the sender's choice) pairs it with its answer."""

    request_id: Annotated[str, Field(min_length=1, max_length=64)]
    command: Action


class Response(Payload):
    """Core's answer to one Request, with its ``request_id``.

    ``ok`` false: ``error`` says why in a sentence. ``ok`` true: ``result`` is the
    action's answer (each action's class says its shape).
    """

    request_id: Annotated[str, Field(min_length=1, max_length=64)]
    ok: bool
    error: Annotated[str, Field(max_length=512)] | None = None
    # Bounded by the broker's payload limit; shapes documented per action in docs/mqtt.md.
    result: dict[str, Any] | list[Any] | None = None


class CreateAdmin(Payload):
    """First run: the ``bootstrap`` user asks core to create the first administrator.

    Published on ``topics.bootstrap_request()`` and answered with a :class:`Response`
    on ``topics.bootstrap_response()``. Signed with the key it announces in
    ``public_key`` (proof of possession, as RegisterKey); what authorises it is the
    one-time ``code`` (also the bootstrap user's broker password), checked by core
    against the broker's user store. Secrets stay out of repr.
    """

    request_id: Annotated[str, Field(min_length=1, max_length=64)]
    public_key: Annotated[str, Field(min_length=43, max_length=44)]
    code: Annotated[str, Field(min_length=8, max_length=64, repr=False)]
    name: Id
    password: Annotated[str, Field(min_length=12, max_length=128, repr=False)]
