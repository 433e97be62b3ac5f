"""Configuration of one camera node (``[edge]``).

The top-level keys are the defaults of every camera; ``[edge.cameras.<id>]`` tables
override any of them for one camera (so one file can describe a whole site and
each ``srs edge --camera-id ID`` picks its own settings with :meth:`for_camera`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from srs.wire.payloads import Id

log = logging.getLogger(__name__)

CameraId = Id  # one topic level: no '.', which clustered brokers split on
Seconds = Annotated[float, Field(gt=0, le=86400)]


class EdgeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    camera_id: CameraId = "cam1"
    # "0" (V4L2 index), rtsp://... / http://... URL, a video file (mp4, gif...) or a folder.
    source: str = "0"

    # --- detection -------------------------------------------------------------
    detector: Literal["haar", "hog"] = "haar"  # frontal detector; hog = dlib via face_recognition
    profiles: bool = True  # also run the profile cascade (both directions)
    # Frames are resized to this width before detection (0 = as delivered). Haar's
    # smallest window is 24 px, so small sources are enlarged: faces grow with them.
    analysis_width: Annotated[int, Field(ge=0, le=4096)] = 640
    min_face_px: Annotated[int, Field(ge=8, le=1024)] = 20  # at analysis resolution
    scale_factor: Annotated[float, Field(gt=1.0, le=2.0)] = 1.05  # near tracks: cheap, finer
    # Coarser pyramid for the whole-frame scans that only discover new faces; the
    # scans around tracks use scale_factor.
    full_scale_factor: Annotated[float, Field(gt=1.0, le=2.0)] = 1.1
    # ...and for the two profile passes of those scans (the costliest part).
    profile_scale_factor: Annotated[float, Field(gt=1.0, le=2.0)] = 1.2
    min_neighbors: Annotated[int, Field(ge=1, le=20)] = 5
    hog_upsample: Annotated[int, Field(ge=0, le=3)] = 1
    merge_iou: Annotated[float, Field(gt=0, le=1)] = 0.3
    # Detect on the whole frame every N analysed frames, in between only around
    # live tracks (cheap): 1 = always the whole frame.
    full_detect_every: Annotated[int, Field(ge=1, le=100)] = 5
    # Whole-frame scans look only where the picture changed since the previous one
    # (plus around tracks); every complete_scan_every-th scan covers everything.
    motion_gating: bool = True
    complete_scan_every: Annotated[int, Field(ge=1, le=1000)] = 3
    # Where a live track finds no face around it, search its surroundings again for
    # a tilted head (Haar on the crop rotated by +-recover_rotate_deg; 0 = off), then
    # with dlib's HOG detector (recover_hog). Costs only while a face is being lost.
    recover_lost: bool = True
    recover_rotate_deg: Annotated[float, Field(ge=0, le=45)] = 20.0
    recover_hog: bool = True
    max_fps: Annotated[float, Field(ge=0, le=240)] = 0.0  # 0 = as fast as analysis goes

    # --- tracking --------------------------------------------------------------
    track_iou: Annotated[float, Field(gt=0, le=1)] = 0.2
    track_max_missed: Annotated[int, Field(ge=0, le=1000)] = 5  # analysed frames
    # A head moves at most this many of its own sizes per second (walking past a
    # camera: ~10), plus 0.3 for box jitter; a box further away starts a new track.
    track_max_speed: Annotated[float, Field(gt=0, le=1000)] = 10.0
    # ...and its box grows or shrinks by at most this factor between two sightings.
    track_max_scale: Annotated[float, Field(gt=1, le=100)] = 2.5
    # A change of the whole picture (mean absolute difference of a 64 px grey
    # thumbnail between analysed frames, in grey levels) above this is a scene cut:
    # every track ends. Measured: <= 8 within the bundled clips, >= 25 at cuts.
    scene_cuts: bool = True
    scene_cut_threshold: Annotated[float, Field(gt=0, le=255)] = 15.0
    # A refreshed encoding further than this from the track's previous one is
    # another person: the track splits (128-d Euclidean distance).
    track_split_distance: Annotated[float, Field(gt=0, le=2)] = 0.6

    # --- encodings -------------------------------------------------------------
    encode: bool = True
    encoder_workers: Annotated[int, Field(ge=1, le=16)] = 1
    encoder_queue: Annotated[int, Field(ge=1, le=256)] = 4  # pending jobs, never more
    # Core carries a track's name onto its unencoded detections for a few seconds
    # only: refresh well within that. A face turning frontal again is re-encoded
    # at once (at most every encode_retry_s).
    encode_refresh_s: Seconds = 2.0
    encode_retry_s: Seconds = 0.3  # after a face was refused (blur, HOG check, no face)
    # A new track's second encoding comes this soon after its first: core names a
    # person from one weak view only as "possibly" (docs/core.md), two agreeing views
    # name them; refreshes then follow every encode_refresh_s.
    encode_confirm_s: Seconds = 0.5
    # dlib HOG must confirm a Haar face before it is encoded (~7 ms, in the worker):
    # false positives get no identity, and encodings use the box dlib expects.
    verify_faces: bool = True
    encode_min_px: Annotated[int, Field(ge=8, le=4096)] = 24  # at source resolution
    # Quality gate (edge/quality.py), on the face itself: sharpness is the variance
    # of the Laplacian of the face shrunk to 64 px (sharp portraits score 287-2030,
    # the same blurred by 2 px at that size <= 34); frontality is 1 facing the
    # camera, 0 at ~60 degrees of yaw (from dlib's 5 landmarks).
    quality_sharpness_min: Annotated[float, Field(ge=0, le=1e6)] = 40.0
    quality_frontality_min: Annotated[float, Field(ge=0, le=1)] = 0.3
    # How long a frame's message waits for the encodings it asked for; a later
    # encoding rides on the next detection of the same track.
    encoding_wait_s: Annotated[float, Field(ge=0, le=10)] = 0.5

    # --- messages and outbox ---------------------------------------------------
    snapshots: bool = False
    # A small face crop (112 px JPEG) rides on a track's encoding, the best face of the
    # track so far, for operators to recognise people by (core keeps a few per person).
    face_crops: bool = True
    snapshot_width: Annotated[int, Field(ge=32, le=1024)] = 160
    outbox_max_messages: Annotated[int, Field(ge=10, le=10_000_000)] = 100_000
    outbox_max_age_s: Annotated[float, Field(gt=0, le=365 * 86400)] = 7 * 86400.0
    ack_timeout_s: Seconds = 15.0
    max_inflight: Annotated[int, Field(ge=1, le=10_000)] = 200
    once_timeout_s: Seconds = 120.0
    # Core refused messages because it could not store them (disk full, locked): the
    # backlog is held and one message probes, after 0.5 s, doubling up to this; once
    # core takes it, the backlog goes (within about this of the store working again).
    store_retry_max_s: Annotated[float, Field(ge=0.5, le=3600)] = 2.0
    # Core refuses for this node's clock: the backlog is held and only the newest
    # message probes, after 2 s, doubling up to this (a clock step, or core's heartbeat
    # agreeing again, releases the backlog at once).
    clock_retry_max_s: Annotated[float, Field(ge=2, le=86400)] = 60.0
    # Nothing acknowledged for this long while messages wait: the status says so
    # (message, unacked_s) and the log too (once, then every 5 minutes).
    not_heard_after_s: Seconds = 30.0
    core_public_key: Path | None = None  # default: <keys_dir>/core.key.pub

    # --- status / source ---------------------------------------------------------
    heartbeat_interval_s: Annotated[float, Field(gt=0, le=3600)] = 10.0
    reopen_max_backoff_s: Seconds = 30.0

    cameras: dict[CameraId, dict[str, Any]] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _drop_renamed(cls, data: Any) -> Any:
        # blur_min (Laplacian variance of the raw crop) is gone: its scale meant
        # nothing for big faces. Old files still load; the new gate uses
        # quality_sharpness_min, measured differently, so the value is not carried.
        if not isinstance(data, dict):
            return data
        cameras = data.get("cameras")
        overrides = cameras.values() if isinstance(cameras, dict) else ()
        old = "blur_min" in data or any(isinstance(o, dict) and "blur_min" in o for o in overrides)
        if not old:
            return data
        log.warning("edge config: blur_min is replaced by quality_sharpness_min (ignored)")
        data = {k: v for k, v in data.items() if k != "blur_min"}
        if isinstance(cameras, dict):
            data["cameras"] = {
                cam: {k: v for k, v in o.items() if k != "blur_min"} if isinstance(o, dict) else o
                for cam, o in cameras.items()
            }
        return data

    @model_validator(mode="after")
    def _check_overrides(self) -> EdgeConfig:
        for cam, override in self.cameras.items():
            if "cameras" in override or "camera_id" in override:
                raise ValueError(
                    f"cameras.{cam}: 'cameras' and 'camera_id' cannot be overridden per camera"
                )
            try:
                self.for_camera(cam)
            except ValidationError as exc:
                raise ValueError(f"cameras.{cam}: {exc}") from None
        return self

    def for_camera(self, camera_id: str | None = None) -> EdgeConfig:
        """The settings of ``camera_id`` (default: ``camera_id``) with its overrides."""
        cam = camera_id or self.camera_id
        data = self.model_dump()
        data.update(self.cameras.get(cam, {}))
        data["camera_id"] = cam
        data["cameras"] = {}
        return EdgeConfig.model_validate(data)
