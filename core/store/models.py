"""The core database schema (SQLAlchemy 2 typed ORM).

Encodings are stored as raw float32 bytes (128 x 4 = 512 bytes): compact, exact
enough for distances, and never serialised into anything that leaves core.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Ids and counters that grow with time: 64-bit on PostgreSQL (migration 0004). SQLite's
# INTEGER is 64-bit already, and only a column declared INTEGER PRIMARY KEY is the
# rowid that numbers itself, so SQLite keeps the INTEGER it has always had.
BigId = BigInteger().with_variant(Integer, "sqlite")


class Base(DeclarativeBase):
    pass


class Person(Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[float] = mapped_column(Float)


class FaceEncoding(Base):
    """An enrolled encoding of a person (positive example)."""

    __tablename__ = "encodings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    source: Mapped[str] = mapped_column(String(256), default="")
    created_at: Mapped[float] = mapped_column(Float)


class NegativeExample(Base):
    """An encoding staff said is *not* this person: it may never name them again."""

    __tablename__ = "negative_examples"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[float] = mapped_column(Float)


class Camera(Base):
    __tablename__ = "cameras"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    public_key: Mapped[str] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[float] = mapped_column(Float)
    # Optional pose in site coordinates (metres, degrees); the site model may also hold it.
    pos_x: Mapped[float | None] = mapped_column(Float, nullable=True)
    pos_y: Mapped[float | None] = mapped_column(Float, nullable=True)
    height: Mapped[float | None] = mapped_column(Float, nullable=True)
    yaw_deg: Mapped[float | None] = mapped_column(Float, nullable=True)
    pitch_deg: Mapped[float | None] = mapped_column(Float, nullable=True)
    hfov_deg: Mapped[float | None] = mapped_column(Float, nullable=True)


class UnknownIdentity(Base):
    """An anonymous person ("Unknown 7"): a running centroid of their encodings."""

    __tablename__ = "unknown_identities"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    centroid: Mapped[bytes] = mapped_column(LargeBinary)
    count: Mapped[int] = mapped_column(BigId, default=1)
    first_seen: Mapped[float] = mapped_column(Float)
    last_seen: Mapped[float] = mapped_column(Float)
    # Where it was last seen: one identity is never placed where nobody could walk to
    # in the time (core/anonymous.py). Site metres; None without a camera pose.
    last_camera: Mapped[str | None] = mapped_column(String(64), nullable=True)
    last_x: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_y: Mapped[float | None] = mapped_column(Float, nullable=True)
    # When an instance last wrote the centroid (wall clock): the other instances
    # re-read the identities written since they last looked (core/shared_unknowns.py).
    updated_at: Mapped[float | None] = mapped_column(Float, nullable=True, index=True)


class Sighting(Base):
    __tablename__ = "sightings"
    __table_args__ = (
        UniqueConstraint("camera_id", "seq", "det_index", name="uq_sighting_message_det"),
        Index("ix_sightings_person_seen", "person_id", "seen_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(BigId)
    det_index: Mapped[int] = mapped_column(Integer)
    person_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("people.id", ondelete="CASCADE"), nullable=True
    )
    unknown_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("unknown_identities.id", ondelete="SET NULL"), nullable=True, index=True
    )
    seen_at: Mapped[float] = mapped_column(Float, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    track_id: Mapped[int] = mapped_column(BigId)
    bbox_x: Mapped[int] = mapped_column(Integer)
    bbox_y: Mapped[int] = mapped_column(Integer)
    bbox_w: Mapped[int] = mapped_column(Integer)
    bbox_h: Mapped[int] = mapped_column(Integer)
    distance: Mapped[float | None] = mapped_column(Float, nullable=True)
    x: Mapped[float | None] = mapped_column(Float, nullable=True)
    y: Mapped[float | None] = mapped_column(Float, nullable=True)
    zone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Kept so staff can name an unknown or reject a match; purged with the sighting.
    encoding: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    # How the identity was established (core/track_identity.py): matched, carried,
    # possible or unidentified; None on rows stored before issue 15.
    evidence: Mapped[str | None] = mapped_column(String(16), nullable=True)
    evidence_age_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    # "Possibly this person" (evidence "possible"); no foreign key so the migration
    # does not rebuild the table: erasing or merging a person updates it explicitly.
    candidate_id: Mapped[int | None] = mapped_column(BigId, nullable=True)


class FaceCrop(Base):
    """A small face picture (JPEG) of a sighting, for operators to recognise people by.

    It belongs to whoever its sighting belongs to, so naming, merging and splitting
    move it with the sighting, and erasure and retention delete it with the sighting
    (ON DELETE CASCADE). Core keeps the best few per identity (core/store/faces.py).
    """

    __tablename__ = "face_crops"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sighting_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("sightings.id", ondelete="CASCADE"), unique=True
    )
    jpeg: Mapped[bytes] = mapped_column(LargeBinary)
    quality: Mapped[float] = mapped_column(Float)  # higher is better (core/faces.py)


class ProcessedMessage(Base):
    """One row per accepted (camera, seq): the de-duplication key of ingest."""

    __tablename__ = "processed_messages"

    camera_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(BigId, primary_key=True)
    received_at: Mapped[float] = mapped_column(Float, index=True)


class UserRole(Base):
    """Mirror of broker users and roles, for audit and reports."""

    __tablename__ = "users"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[float] = mapped_column(Float, index=True)
    category: Mapped[str] = mapped_column(String(16))  # "admin" or "security"
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="")


class PendingClear(Base):
    """A retained position topic to clear (erasure while the broker was unreachable)."""

    __tablename__ = "pending_clears"

    person_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    requested_at: Mapped[float] = mapped_column(Float)


class Revision(Base):
    """Change counters, so a running service notices CLI edits of gallery or cameras."""

    __tablename__ = "revisions"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigId, default=0)


class CoreKey(Base):
    """Core's signing key, for every instance to find (core/core_key.py): the public
    key always; the private key (PKCS8 PEM) only with ``[core] key_in_database``."""

    __tablename__ = "core_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    public_key: Mapped[str] = mapped_column(String(64))
    private_pem: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[float] = mapped_column(Float)


class CoreLease(Base):
    """A lease of several core instances (docs/scale.md): a camera partition, the
    leader's duties, or the lock new anonymous identities are created under."""

    __tablename__ = "core_leases"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    owner: Mapped[str | None] = mapped_column(String(80), nullable=True)
    expires_at: Mapped[float] = mapped_column(Float, default=0.0)


class CoreInstance(Base):
    """A live core instance: its heartbeat (expires_at), renewed with its leases."""

    __tablename__ = "core_instances"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    started_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float)
    # Its counters as JSON (core/status.py), written with each heartbeat: the
    # leader's status sums the live instances' (docs/scale.md).
    counters: Mapped[str | None] = mapped_column(Text, nullable=True)
