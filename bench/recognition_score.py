"""Scoring of bench/recognition.py: stored sightings against the labels, and the
comparison with the stored baseline. Pure (no SRS import), like ground_truth."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ground_truth import ENROLLED, Clip, match_frames, who


@dataclass
class ClipScore:
    camera: str
    frames: int
    sightings: int = 0
    unmatched_messages: int = 0  # messages no analysed frame explains (should be 0)
    unidentified: int = 0  # sightings with neither a name nor an anonymous identity
    named: int = 0  # sightings carrying an enrolled name
    wrong: int = 0  # ...of which the labelled person is someone else
    wrong_on_stranger: int = 0
    wrong_on_enrolled: int = 0
    wrong_on_nothing: int = 0  # on a detection where nobody is labelled
    enrolled_as_anonymous: int = 0  # sightings of an enrolled person under "Unknown N"
    recall_frames: int = 0  # frames with an enrolled person's frontal face >= 60 px
    recall_named: int = 0  # ...where a sighting on that face names them
    recall_by_person: dict[str, list[int]] = field(default_factory=dict)  # [named, frames]
    strangers: int = 0  # distinct labelled strangers
    anonymous: int = 0  # distinct anonymous identities in this clip's sightings
    anonymous_mixed: int = 0  # anonymous identities given to more than one real person
    strangers_split: int = 0  # strangers given more than one anonymous identity
    alerts: int | None = None  # unknown-in-restricted alerts (restricted clips only)
    stays: int | None = None  # real stays in the restricted zone (each stranger once)
    fps: float = 0.0
    anonymous_people: dict[str, set[str]] = field(default_factory=dict)  # key -> people
    details: list[str] = field(default_factory=list)  # one line per sighting

    @property
    def wrong_pct(self) -> float:
        return 100.0 * self.wrong / self.named if self.named else 0.0

    @property
    def recall_pct(self) -> float | None:
        return 100.0 * self.recall_named / self.recall_frames if self.recall_frames else None


def score(clip: Clip, stamps: Sequence[float], sightings: Sequence[dict[str, Any]]) -> ClipScore:
    """``stamps``: captured_at of every analysed frame in order; ``sightings``: this
    camera's stored sightings as ``query_sightings`` returns them."""
    out = ClipScore(clip.spec.camera, len(clip.frames), sightings=len(sightings))
    by_seq: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for s in sightings:
        by_seq[s["seq"]].append(s)
    seqs = sorted(by_seq)
    frame_of = match_frames(stamps, [by_seq[q][0]["seen_at"] for q in seqs])
    named_in: dict[int, set[tuple[str, str]]] = defaultdict(set)  # frame -> (face, name)
    anon_people: dict[str, set[str]] = defaultdict(set)  # anonymous key -> real people
    stranger_anon: dict[str, set[str]] = defaultdict(set)
    for seq, frame in zip(seqs, frame_of, strict=True):
        if frame is None or frame >= len(clip.frames):
            out.unmatched_messages += 1
            continue
        for s in by_seq[seq]:
            face = who(clip.frames[frame], s["bbox"])
            person = face.person if face else None
            out.details.append(
                f"frame {frame:3d} seq {seq:4d} {s['kind']:7s} track {s['track_id']:3d} "
                f"box {s['bbox']}: stored as {s['label']!r}, labelled {person or '(nobody)'}"
                + (" [frontal]" if face and face.frontal else "")
            )
            if s["identity"] == "known":
                out.named += 1
                if person == s["label"]:
                    named_in[frame].add((s["label"], s["label"]))
                else:
                    out.wrong += 1
                    if person is None:
                        out.wrong_on_nothing += 1
                    elif person in ENROLLED:
                        out.wrong_on_enrolled += 1
                    else:
                        out.wrong_on_stranger += 1
            elif s["identity"] == "unknown":
                key = s["person_key"]
                anon_people[key].add(person or "(nobody)")
                if person in ENROLLED:
                    out.enrolled_as_anonymous += 1
                elif person is not None:
                    stranger_anon[person].add(key)
            else:
                out.unidentified += 1
    for i, faces in enumerate(clip.frames):
        if i in clip.badge_frames:
            continue
        for f in faces:
            if f.countable:
                hit = (f.person, f.person) in named_in[i]
                got = out.recall_by_person.setdefault(f.person, [0, 0])
                got[0] += hit
                got[1] += 1
                out.recall_frames += 1
                out.recall_named += hit
    out.strangers = len(clip.strangers)
    out.anonymous = len(anon_people)
    out.anonymous_mixed = sum(1 for people in anon_people.values() if len(people) > 1)
    out.strangers_split = sum(1 for ids in stranger_anon.values() if len(ids) > 1)
    out.anonymous_people = dict(anon_people)
    return out


def alerts_per_stay(out: ClipScore, clip: Clip, alerts: int) -> None:
    """Everyone unenrolled in a restricted clip stays in the zone once (they are
    there from the first frame to the last)."""
    out.alerts = alerts
    out.stays = len([p for p in clip.people if p not in ENROLLED])


@dataclass
class Across:
    anonymous: int  # distinct anonymous identities over every camera
    strangers: int  # distinct real strangers over every clip (classroom's are in cut too)
    anonymous_multi_camera: int  # anonymous identities seen by more than one camera
    anonymous_mixed: int  # ...given to more than one real person (on any cameras)


def across(scores: Sequence[ClipScore], clips: Sequence[Clip]) -> Across:
    people: dict[str, set[str]] = defaultdict(set)
    cameras: dict[str, set[str]] = defaultdict(set)
    for s in scores:
        for uid, who_ in s.anonymous_people.items():
            people[uid] |= who_
            cameras[uid].add(s.camera)
    return Across(
        anonymous=len(people),
        strangers=len(set().union(*(c.strangers for c in clips))),
        anonymous_multi_camera=sum(1 for c in cameras.values() if len(c) > 1),
        anonymous_mixed=sum(1 for p in people.values() if len(p) > 1),
    )


def total(scores: Sequence[ClipScore]) -> ClipScore:
    t = ClipScore("total", sum(s.frames for s in scores))
    for name in (
        "sightings",
        "unmatched_messages",
        "unidentified",
        "named",
        "wrong",
        "wrong_on_stranger",
        "wrong_on_enrolled",
        "wrong_on_nothing",
        "enrolled_as_anonymous",
        "recall_frames",
        "recall_named",
        "strangers",
        "anonymous",
        "anonymous_mixed",
        "strangers_split",
    ):
        setattr(t, name, sum(getattr(s, name) for s in scores))
    for s in scores:
        for person, (named, frames) in s.recall_by_person.items():
            got = t.recall_by_person.setdefault(person, [0, 0])
            got[0] += named
            got[1] += frames
    restricted = [s for s in scores if s.alerts is not None]
    if restricted:
        t.alerts = sum(s.alerts or 0 for s in restricted)
        t.stays = sum(s.stays or 0 for s in restricted)
    return t


# --- figures and the baseline ---------------------------------------------------------


def figures(s: ClipScore) -> dict[str, float | None]:
    """The figures compared with the baseline (flat: name -> number)."""
    return {
        "wrong": s.wrong,
        "wrong_pct": round(s.wrong_pct, 1),
        "named": s.named,
        "recall_pct": None if s.recall_pct is None else round(s.recall_pct, 1),
        "anonymous": s.anonymous,
        "strangers": s.strangers,
        "anonymous_mixed": s.anonymous_mixed,
        "enrolled_as_anonymous": s.enrolled_as_anonymous,
        "alerts": s.alerts,
        "stays": s.stays,
        "fps": round(s.fps, 1),
    }


def all_figures(scores: Sequence[ClipScore], acr: Across) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {s.camera: figures(s) for s in scores}
    out["across cameras"] = {
        "anonymous": acr.anonymous,
        "strangers": acr.strangers,
        "anonymous_multi_camera": acr.anonymous_multi_camera,
        "anonymous_mixed": acr.anonymous_mixed,
    }
    return out


def load_baseline(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path.is_file() else None


def beside(now: float | None, before: float | None) -> str:
    """One figure beside its baseline: ``3 (=)`` unchanged, ``5 (was 3, +2)`` changed."""
    if now is None:
        return "-"
    text = f"{now:g}"
    if before is None:
        return text
    if now == before:
        return f"{text} (=)"
    return f"{text} (was {before:g}, {now - before:+g})"
