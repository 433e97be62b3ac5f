"""Configuration of the core service (``[core]``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Distance = Annotated[float, Field(gt=0, le=2)]


class CoreConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    database_url: str | None = None  # default: sqlite file srs.db in the data dir
    # How long one database statement may wait for a lock (PostgreSQL lock_timeout,
    # SQLite busy_timeout) and run at all (PostgreSQL statement_timeout; 0: no limit).
    # A batch that times out is rolled back and retried, instead of core stalling
    # behind somebody's table lock. Migrations wait without a limit.
    database_lock_timeout_s: Annotated[float, Field(gt=0, le=3600, allow_inf_nan=False)] = 10.0
    database_statement_timeout_s: Annotated[float, Field(ge=0, le=86400, allow_inf_nan=False)] = (
        60.0
    )
    match_threshold: Distance = 0.6
    match_margin: Annotated[float, Field(ge=0, le=1)] = 0.05
    # Per-camera override of match_threshold (a poor camera may need a stricter one).
    camera_thresholds: dict[str, Distance] = Field(default_factory=dict)
    # Encodings of small faces are noisy: a 24 px stranger in the demo corridor came
    # within 0.59 of an enrolled person. Faces narrower than small_face_px (source
    # pixels) are named only within the stricter small_face_threshold.
    small_face_px: Annotated[int, Field(ge=0, le=4096)] = 48
    small_face_threshold: Distance = 0.5
    # A track whose encodings match nobody joins the nearest anonymous identity whose
    # centroid is closer than this to the track's pooled encoding (measured on the
    # sample faces: one person's views <= 0.48 apart, different people >= 0.64).
    unknown_threshold: Distance = 0.5
    # Identity evidence of a track (core/track_identity.py). One view this close to an
    # enrolled person names the track by itself when the face is at least
    # vote_face_px wide (narrower faces vote in proportion) and not of poor quality.
    strong_match_distance: Distance = 0.45
    vote_face_px: Annotated[int, Field(ge=1, le=4096)] = 60
    # A fresh encoding this far from the track's pooled encoding is somebody else:
    # the track's evidence restarts (the past keeps its name).
    split_distance: Distance = 0.55
    # A detection without an encoding keeps its track's identity only this long after
    # the last encoding that supported it, and only while the track is continuous:
    # its box centre moves at most track_jump box sizes between detections.
    identity_carry_s: Annotated[float, Field(ge=0, le=60)] = 4.0
    track_jump: Annotated[float, Field(gt=0, le=20)] = 1.5
    # One anonymous identity is never in two places nobody could walk between in the
    # time: the distance between the site positions (or cameras) must be at most
    # walking_speed_mps x elapsed + travel_slack_m (position estimates are rough).
    walking_speed_mps: Annotated[float, Field(gt=0, le=20)] = 2.5
    travel_slack_m: Annotated[float, Field(ge=0, le=100)] = 3.0
    # Anonymous identities whose centroids come this close and that were never seen
    # together are merged (every merge_interval_s; 0 turns it off).
    merge_distance: Distance = 0.4
    merge_interval_s: Annotated[float, Field(ge=0, le=86400)] = 60.0
    retention_days: Annotated[int, Field(ge=1, le=3650)] = 30
    retention_interval_s: Annotated[float, Field(ge=1, le=86400)] = 3600.0
    status_interval_s: Annotated[float, Field(ge=0.5, le=3600)] = 10.0
    # Extra wait for more messages before a commit. 0 (default): commit whatever is
    # queued at once; under load batches grow by themselves while a commit runs, so
    # waiting only adds latency.
    commit_window_ms: Annotated[float, Field(ge=0, le=1000)] = 0.0
    max_batch_messages: Annotated[int, Field(ge=1, le=10000)] = 500
    queue_size: Annotated[int, Field(ge=10, le=1_000_000)] = 20000
    # A camera whose messages are captured faster than this (per second, over its last
    # 500 new messages) is flooding: one alert names it (core/flood.py). 0: no alert.
    camera_max_rate: Annotated[float, Field(ge=0, le=100_000, allow_inf_nan=False)] = 100.0
    # One camera creates at most this many new anonymous identities a minute (a token
    # bucket, bursts up to the same number); beyond it a new face stays unidentified
    # and is counted (status "identities_limited"). A flood of random faces made 9,600
    # identities from 300 messages. 0: no limit.
    max_new_identities_per_min: Annotated[int, Field(ge=0, le=100_000)] = 60
    site_file: Path | None = None
    # A placed person's zone changes (leave, enter) only once their position has stayed
    # in the new zone this long (seconds; 0: at once), except an entry that may raise a
    # restricted-zone alert (never held back). Positions go out at once. Two cameras
    # placing one person on either side of a door, or one camera's range jittering
    # across it, otherwise flood the zone events.
    zone_dwell_s: Annotated[float, Field(ge=0, le=60, allow_inf_nan=False)] = 1.0
    # Home Assistant MQTT discovery (unsigned, known people only unless told otherwise).
    homeassistant: bool = False
    homeassistant_include_unknown: bool = False
    # Several core processes sharing one stream (docs/scale.md). "core" (the default):
    # the one and only instance, exactly as before (client id "core", persistent
    # session, no leases). Any other id (letters, digits, '_', '.', '-'): one of N
    # instances, client id "core:<instance>", holding camera partitions leased in the
    # database; "auto" makes it "<hostname>-<pid>".
    instance: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,47}$")] = "core"
    # Keep core's private signing key in the database too, so a core instance on a
    # new host takes it from there (docs/scale.md, Core's key). Off: the database
    # keeps only the public key, and an instance without core.key refuses to start
    # and says which file to copy. Either way an instance whose key differs from the
    # database's refuses to start.
    key_in_database: bool = False
    # A lease not renewed this long is free for another instance (a dead instance's
    # cameras move after at most this plus one renewal); renewed every lease_renew_s.
    lease_ttl_s: Annotated[float, Field(ge=2, le=300)] = 6.0
    lease_renew_s: Annotated[float, Field(ge=0.2, le=60)] = 1.0
    # Cameras on the site plan closer than this (metres, camera to camera) share one
    # partition, held by one instance, because the locator fuses their views of one
    # person. 0 (the default): every camera on the plan is one partition. Cameras
    # not on the plan are a partition each.
    fusion_distance_m: Annotated[float, Field(ge=0, le=100_000, allow_inf_nan=False)] = 0.0
