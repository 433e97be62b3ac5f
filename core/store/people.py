"""People, their enrolled encodings, and the staff actions that change who is who."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from core.observation import known_key, unknown_key
from core.store.audit import CLEARS, GALLERY, audit, bump
from core.store.codec import parse_key, to_blob
from core.store.errors import StoreError
from core.store.models import (
    FaceEncoding,
    NegativeExample,
    PendingClear,
    Person,
    Sighting,
    UnknownIdentity,
)
from srs.wire.names import check_person_name


@dataclass(frozen=True)
class PersonInfo:
    id: int
    name: str
    encodings: int
    sightings: int
    last_seen: float | None

    @property
    def key(self) -> str:
        return known_key(self.id)

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "key": self.key,
            "name": self.name,
            "encodings": self.encodings,
            "sightings": self.sightings,
            "last_seen": self.last_seen,
        }


def find_person(s: Session, ref: str | int) -> Person:
    """A person by key (``p3``), id (``3``) or exact name. Key-shaped text is always a
    key: no name may have that shape (srs.wire.names), so the two cannot be confused."""
    if isinstance(ref, int):
        person = s.get(Person, ref)
    else:
        parsed = parse_key(ref)
        if parsed and parsed[0] == "known":
            person = s.get(Person, parsed[1])
        elif ref.isdigit():
            person = s.get(Person, int(ref))
        else:
            person = s.scalar(select(Person).where(Person.name == ref))
    if person is None:
        raise StoreError(
            f"no person {ref!r} (use a name, an id or a key such as p3; see `srs person list`)"
        )
    return person


def _valid_name(name: str) -> str:
    """The shared name rule (srs.wire.names), refused as a StoreError the CLI prints."""
    try:
        return check_person_name(name)
    except ValueError as exc:
        raise StoreError(str(exc)) from None


def get_or_create_person(s: Session, name: str) -> tuple[Person, bool]:
    name = _valid_name(name)
    person = s.scalar(select(Person).where(Person.name == name))
    if person is not None:
        return person, False
    person = Person(name=name, created_at=time.time())
    s.add(person)
    s.flush()
    return person, True


def add_encodings(
    s: Session,
    person: Person,
    vectors: Sequence[np.ndarray],
    sources: Sequence[str] | None = None,
    *,
    actor: str = "cli",
) -> int:
    now = time.time()
    for i, vec in enumerate(vectors):
        src = sources[i] if sources else ""
        s.add(
            FaceEncoding(person_id=person.id, vector=to_blob(vec), source=src[:256], created_at=now)
        )
    if vectors:
        audit(
            s,
            "admin",
            actor,
            "enrol",
            f"{len(vectors)} encoding(s) for {person.name} ({known_key(person.id)})",
        )
        bump(s, GALLERY)
    return len(vectors)


def list_people(s: Session) -> list[PersonInfo]:
    enc = dict(
        s.execute(
            select(FaceEncoding.person_id, func.count()).group_by(FaceEncoding.person_id)
        ).all()
    )
    seen = {
        pid: (n, last)
        for pid, n, last in s.execute(
            select(Sighting.person_id, func.count(), func.max(Sighting.seen_at))
            .where(Sighting.person_id.is_not(None))
            .group_by(Sighting.person_id)
        )
    }
    out = []
    for p in s.scalars(select(Person).order_by(Person.name)):
        n, last = seen.get(p.id, (0, None))
        out.append(PersonInfo(p.id, p.name, enc.get(p.id, 0), n, last))
    return out


def rename_person(s: Session, ref: str, new_name: str, *, actor: str = "cli") -> Person:
    person = find_person(s, ref)
    new_name = _valid_name(new_name)
    if s.scalar(select(Person).where(Person.name == new_name, Person.id != person.id)):
        raise StoreError(
            f"another person is already called {new_name!r} "
            "(use `srs person merge` to combine them)"
        )
    audit(s, "admin", actor, "person_rename", f"{person.name} -> {new_name}")
    person.name = new_name
    bump(s, GALLERY)
    return person


def _clear_later(s: Session, key: str) -> None:
    if s.get(PendingClear, key) is None:
        s.add(PendingClear(person_key=key, requested_at=time.time()))
    bump(s, CLEARS)


def merge_people(s: Session, source_ref: str, target_ref: str, *, actor: str = "cli") -> Person:
    """Move everything of ``source`` to ``target`` and delete ``source``."""
    src, dst = find_person(s, source_ref), find_person(s, target_ref)
    if src.id == dst.id:
        raise StoreError("cannot merge a person into themselves")
    for model in (FaceEncoding, NegativeExample, Sighting):
        s.execute(update(model).where(model.person_id == src.id).values(person_id=dst.id))
    s.execute(update(Sighting).where(Sighting.candidate_id == src.id).values(candidate_id=dst.id))
    audit(
        s,
        "admin",
        actor,
        "person_merge",
        f"{src.name} ({known_key(src.id)}) into {dst.name} ({known_key(dst.id)})",
    )
    _clear_later(s, known_key(src.id))
    s.delete(src)
    bump(s, GALLERY)
    return dst


def delete_person(s: Session, ref: str, *, actor: str = "cli") -> dict[str, object]:
    """Erase a person: encodings, negative examples, sightings; clear their position."""
    person = find_person(s, ref)
    counts: dict[str, object] = {"key": known_key(person.id), "name": person.name}
    for name, model in (
        ("encodings", FaceEncoding),
        ("negative_examples", NegativeExample),
        ("sightings", Sighting),
    ):
        res = s.execute(delete(model).where(model.person_id == person.id))
        counts[name] = int(getattr(res, "rowcount", 0) or 0)
    # "Possibly this person" on others' sightings names them too: it goes as well.
    s.execute(update(Sighting).where(Sighting.candidate_id == person.id).values(candidate_id=None))
    audit(
        s,
        "admin",
        actor,
        "person_delete",
        f"erased {person.name} ({known_key(person.id)}): {counts['encodings']} encodings, "
        f"{counts['sightings']} sightings",
    )
    _clear_later(s, known_key(person.id))
    s.delete(person)
    bump(s, GALLERY)
    return counts


def name_identity(s: Session, key: str, name: str, *, actor: str) -> Person:
    """Name an unknown identity: its sightings and encodings go to a new or existing person."""
    parsed = parse_key(key)
    if parsed is None:
        raise StoreError(f"{key!r} is not a person key")
    if parsed[0] == "known":
        return rename_person(s, key, name, actor=actor)
    ident = s.get(UnknownIdentity, parsed[1])
    if ident is None:
        raise StoreError(f"no unknown identity {key!r}")
    person, _ = get_or_create_person(s, name)
    vectors = [
        b
        for (b,) in s.execute(
            select(Sighting.encoding)
            .where(Sighting.unknown_id == ident.id, Sighting.encoding.is_not(None))
            .limit(20)
        )
    ]
    for blob in vectors or [ident.centroid]:
        s.add(
            FaceEncoding(
                person_id=person.id, vector=blob, source=f"named {key}", created_at=time.time()
            )
        )
    s.execute(
        update(Sighting)
        .where(Sighting.unknown_id == ident.id)
        .values(person_id=person.id, unknown_id=None)
    )
    audit(s, "admin", actor, "name_identity", f"{key} named {person.name} ({known_key(person.id)})")
    _clear_later(s, unknown_key(ident.id))
    s.delete(ident)
    bump(s, GALLERY)
    return person


def reject_sighting(s: Session, sighting_id: int, *, actor: str) -> None:
    """'Not this person': the sighting's encoding becomes a negative example."""
    row = s.get(Sighting, sighting_id)
    if row is None:
        raise StoreError(f"no sighting {sighting_id}")
    if row.person_id is None:
        raise StoreError(f"sighting {sighting_id} names nobody; nothing to reject")
    if row.encoding is not None:
        s.add(NegativeExample(person_id=row.person_id, vector=row.encoding, created_at=time.time()))
    audit(
        s,
        "admin",
        actor,
        "reject_sighting",
        f"sighting {sighting_id} is not {known_key(row.person_id)}",
    )
    row.person_id = None
    bump(s, GALLERY)


def pending_clears(s: Session) -> list[str]:
    return list(s.scalars(select(PendingClear.person_key)))


def done_clears(s: Session, keys: Sequence[str]) -> None:
    if keys:
        s.execute(delete(PendingClear).where(PendingClear.person_key.in_(keys)))
