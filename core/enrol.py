"""Enrolment: face encodings from photos, one face per photo, never guessed.

A photo with no face or with several faces is reported and skipped: enrolling the
wrong face is how strangers later get named as staff.
"""

from __future__ import annotations

import base64
import binascii
import logging
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from core.store.db import Database

log = logging.getLogger(__name__)
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


@dataclass
class ImageResult:
    path: str
    encoding: np.ndarray | None = None
    problem: str | None = None


@dataclass
class PersonImport:
    name: str
    results: list[ImageResult] = field(default_factory=list)

    @property
    def encodings(self) -> list[np.ndarray]:
        return [r.encoding for r in self.results if r.encoding is not None]

    @property
    def problems(self) -> list[ImageResult]:
        return [r for r in self.results if r.problem]


def encode_array(rgb: np.ndarray) -> tuple[np.ndarray | None, str | None]:
    """The single face's encoding in an RGB image, or a problem sentence."""
    import face_recognition

    boxes = face_recognition.face_locations(rgb)
    if not boxes:
        return None, "no face found"
    if len(boxes) > 1:
        return None, f"{len(boxes)} faces found (enrol photos must show one person)"
    encs = face_recognition.face_encodings(rgb, known_face_locations=boxes)
    if not encs:
        return None, "face found but could not be encoded"
    return np.asarray(encs[0], dtype=np.float64), None


def encode_image(path: Path) -> ImageResult:
    import face_recognition

    try:
        rgb = face_recognition.load_image_file(str(path))
    except (OSError, ValueError) as exc:
        return ImageResult(str(path), problem=f"cannot read the image ({exc})")
    enc, problem = encode_array(rgb)
    return ImageResult(str(path), enc, problem)


def encode_jpeg_bytes(data: bytes, label: str = "image") -> ImageResult:
    import io

    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            rgb = np.asarray(img.convert("RGB"))
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        return ImageResult(label, problem=f"cannot read the image ({exc})")
    enc, problem = encode_array(rgb)
    return ImageResult(label, enc, problem)


def encode_b64_images(images_b64: Sequence[str]) -> list[ImageResult]:
    """Each base64 JPEG's one face, labelled "image N" (core's enrolment process runs
    this for operators' enrol_person, core/enrol_pool.py)."""
    out = []
    for i, b64 in enumerate(images_b64):
        label = f"image {i}"
        try:
            data = base64.b64decode(b64, validate=True)
        except (binascii.Error, ValueError):
            out.append(ImageResult(label, problem="not base64"))
            continue
        out.append(encode_jpeg_bytes(data, label))
    return out


def scan_folder(root: Path) -> dict[str, list[Path]]:
    """``root/<person name>/*.jpg`` -> {name: [images]} (the layout of faces/train)."""
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a folder")
    out: dict[str, list[Path]] = {}
    for sub in sorted(p for p in root.iterdir() if p.is_dir()):
        images = sorted(p for p in sub.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if images:
            out[sub.name] = images
    return out


def encode_people(
    folders: dict[str, list[Path]], on_image: Callable[[str], None] | None = None
) -> list[PersonImport]:
    out = []
    for name, images in folders.items():
        imp = PersonImport(name)
        for path in images:
            imp.results.append(encode_image(path))
            if on_image:
                on_image(f"{name}/{path.name}")
        out.append(imp)
    return out


def enrol(
    db: Database, imports: Iterable[PersonImport], *, actor: str = "cli"
) -> list[dict[str, object]]:
    """Store the encodings of each import; returns one summary per person."""
    from core.store.people import add_encodings, get_or_create_person
    from srs.wire.names import check_person_name

    summary = []
    with db.session() as s:
        for imp in imports:
            encs = imp.encodings
            entry: dict[str, object] = {
                "name": imp.name,
                "encoded": len(encs),
                "problems": [{"image": r.path, "problem": r.problem} for r in imp.problems],
            }
            try:
                check_person_name(imp.name)
            except ValueError as exc:
                # One badly named folder must not stop the import of everyone else.
                entry.update(encoded=0, problems=[{"image": imp.name, "problem": str(exc)}])
                encs = []
            if encs:
                person, created = get_or_create_person(s, imp.name)
                add_encodings(
                    s,
                    person,
                    encs,
                    [r.path for r in imp.results if r.encoding is not None],
                    actor=actor,
                )
                entry.update(key=f"p{person.id}", created=created)
            summary.append(entry)
    return summary


def import_people(
    db: Database, root: Path, *, progress: bool = True, actor: str = "cli"
) -> list[dict[str, object]]:
    """Enrol every ``root/<name>/`` folder (the GUI and the demo call this too)."""
    from tqdm import tqdm

    folders = scan_folder(root)
    # disable=None: a bar on a terminal, nothing in a log file or a pipe.
    with tqdm(
        total=sum(len(v) for v in folders.values()),
        desc="encoding photos",
        unit="photo",
        disable=None if progress else True,
        file=sys.stderr,
    ) as bar:

        def step(label: str) -> None:
            bar.set_postfix_str(label[:40], refresh=False)
            bar.update(1)

        people = encode_people(folders, step)
    return enrol(db, people, actor=actor)
