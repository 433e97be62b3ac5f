"""`srs camera ...` and `srs sightings`."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.cli_util import with_store
from core.srs_config import SrsConfig


def register_cameras(sub: argparse._SubParsersAction) -> None:
    from srs.subcommands import add_command, add_group

    cams = add_group(sub, "camera", help="camera registry: add, list, remove, disable, enable")
    p = add_command(cams, "add", camera_add, help="register a camera and its public key")
    p.add_argument("camera_id")
    key = p.add_mutually_exclusive_group(required=True)
    key.add_argument("--public-key", metavar="B64", help="Ed25519 public key, base64url")
    key.add_argument(
        "--key-file", type=Path, metavar="PATH", help="the camera's .pub file (or a PEM public key)"
    )
    p.add_argument("--replace", action="store_true", help="replace the key of a known camera")
    p = add_command(cams, "list", camera_list, help="list registered cameras")
    p.add_argument("--json", action="store_true")
    for verb, fn, text in (
        ("remove", camera_remove, "forget a camera"),
        ("disable", camera_disable, "refuse a camera's messages"),
        ("enable", camera_enable, "accept a camera's messages again"),
    ):
        p = add_command(cams, verb, fn, help=text)
        p.add_argument("camera_id")

    p = add_command(sub, "sightings", sightings, help="who was seen where and when")
    p.add_argument("--person", help="name, id, p3 or u7")
    p.add_argument("--camera")
    p.add_argument("--since", help="ISO time or an age: 30m, 1h, 2d")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--json", action="store_true")


def camera_add(args: argparse.Namespace, cfg: SrsConfig) -> int:
    from core.cli_util import fail, read_public_key
    from core.store import add_camera

    try:
        key = args.public_key or read_public_key(args.key_file)
    except (OSError, ValueError) as exc:
        return fail(f"cannot read the key: {exc}")
    rc, info = with_store(cfg, lambda s: add_camera(s, args.camera_id, key, replace=args.replace))
    if not rc:
        print(f"camera {info.id} registered (enabled)")
    return rc


def camera_list(args: argparse.Namespace, cfg: SrsConfig) -> int:
    from core.cli_util import emit_json, iso
    from core.store import list_cameras

    rc, cams = with_store(cfg, list_cameras)
    if rc:
        return rc
    if args.json:
        emit_json([c.as_dict() for c in cams])
        return 0
    for c in cams:
        print(
            f"{c.id:<20} {'enabled ' if c.enabled else 'DISABLED'}  key {c.public_key}  "
            f"added {iso(c.created_at)}"
        )
    if not cams:
        print("no cameras registered (srs camera add ID --key-file PATH)")
    return 0


def camera_remove(args: argparse.Namespace, cfg: SrsConfig) -> int:
    from core.store import remove_camera

    rc, _ = with_store(cfg, lambda s: remove_camera(s, args.camera_id))
    if not rc:
        print(f"camera {args.camera_id} removed")
    return rc


def _enable(args: argparse.Namespace, cfg: SrsConfig, on: bool) -> int:
    from core.store import set_camera_enabled

    rc, _ = with_store(cfg, lambda s: set_camera_enabled(s, args.camera_id, on))
    if not rc:
        print(f"camera {args.camera_id} {'enabled' if on else 'disabled'}")
    return rc


def camera_disable(args: argparse.Namespace, cfg: SrsConfig) -> int:
    return _enable(args, cfg, False)


def camera_enable(args: argparse.Namespace, cfg: SrsConfig) -> int:
    return _enable(args, cfg, True)


def _evidence(r: dict) -> str:
    """How the identity was established: matched, carried 1.5s, possibly NAME, ..."""
    ev = r.get("evidence")
    if ev is None:
        return "-"  # stored before core recorded evidence
    if ev == "carried" and r.get("evidence_age_s") is not None:
        ev = f"carried {r['evidence_age_s']:.1f}s"
    elif ev == "possible":
        ev = f"possibly {r.get('candidate') or '?'}"
    if r.get("confidence") is not None and r.get("evidence") != "unidentified":
        ev += f" ({r['confidence']:.2f})"
    return ev


def sightings(args: argparse.Namespace, cfg: SrsConfig) -> int:
    from core.cli_util import emit_json, fail, iso, parse_since
    from core.store import query_sightings

    try:
        since = parse_since(args.since) if args.since else None
    except ValueError as exc:
        return fail(str(exc))
    rc, rows = with_store(
        cfg,
        lambda s: query_sightings(
            s, person=args.person, camera=args.camera, since=since, limit=max(1, args.limit)
        ),
    )
    if rc:
        return rc
    if args.json:
        emit_json(rows)
        return 0
    for r in rows:
        where = f" at ({r['x']:.1f}, {r['y']:.1f})" if r["x"] is not None else ""
        zone = f" in {r['zone']}" if r["zone"] else ""
        dist = f" d={r['distance']:.2f}" if r["distance"] is not None else ""
        print(
            f"{iso(r['seen_at'])}  {r['camera_id']:<12} {r['label']:<24} {r['kind']:<7}"
            f" {_evidence(r)}{dist}{where}{zone}"
        )
    if not rows:
        print("no sightings match")
    return 0
