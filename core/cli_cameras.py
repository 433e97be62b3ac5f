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
        ("remove", camera_remove, "forget a camera (its sightings only with --purge)"),
        ("disable", camera_disable, "refuse a camera's messages"),
        ("enable", camera_enable, "accept a camera's messages again"),
    ):
        p = add_command(cams, verb, fn, help=text)
        p.add_argument("camera_id")
        if verb == "remove":
            p.add_argument(
                "--purge", action="store_true", help="also delete the camera's sightings"
            )
    register_provisioning(cams)

    p = add_command(sub, "sightings", sightings, help="who was seen where and when")
    p.add_argument(
        "--person",
        help="a key (p3, u7), an id (3) or an exact name; key-shaped text is always a key",
    )
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
    from sqlalchemy.orm import Session

    from core.provision import sighting_count
    from core.store import StoreError, remove_camera

    purge = getattr(args, "purge", False)

    def remove(s: Session) -> int:
        n = sighting_count(s, args.camera_id)
        if n and not purge:
            raise StoreError(
                f"camera {args.camera_id} has {n} sighting(s), which removing it would "
                "delete: keep them with `srs camera revoke` (or disable), or delete them "
                "too with `srs camera remove --purge`"
            )
        remove_camera(s, args.camera_id)
        return n

    rc, n = with_store(cfg, remove)
    if not rc:
        print(
            f"camera {args.camera_id} removed"
            + (f" with its {n} sighting(s)" if n else " (it had no sightings)")
        )
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


# --- provisioning (core/provision.py) ------------------------------------------------


def register_provisioning(cams: argparse._SubParsersAction) -> None:
    from srs.subcommands import add_command

    p = add_command(
        cams,
        "provision",
        camera_provision,
        help="register a camera, its broker user and key; write its bundle for the Pi",
        description="Register CAMERA with a new Ed25519 key, create its broker user with a "
        "random password, and write one file (mode 0600) with everything its Pi needs; "
        "install it there with `srs edge install CAMERA.bundle`.",
    )
    p.add_argument("camera_id")
    p.add_argument("--out", type=Path, metavar="FILE", help="the bundle (default: CAMERA.bundle)")
    p.add_argument(
        "--server",
        metavar="HOST",
        help="the name or address the Pi reaches the broker at; the broker's certificate "
        "must cover it (srs init --tls-name). Default: this host's name",
    )
    p.add_argument("--port", type=int, help="the broker's TLS port (default: [broker] tls_port)")
    p.add_argument("--source", help="the Pi's video source ([edge] source; default 0)")
    p.add_argument(
        "--replace", action="store_true", help="a new key and password for a known camera"
    )
    p = add_command(
        cams,
        "revoke",
        camera_revoke,
        help="remove a camera's broker user and key in one step (sightings kept)",
    )
    p.add_argument("camera_id")


def camera_provision(args: argparse.Namespace, cfg: SrsConfig) -> int:
    from broker.tls import covered_names, tls_files
    from core.cli_util import fail
    from core.provision import bundle_path, provision
    from core.store import StoreError

    out = bundle_path(args.out, args.camera_id)
    try:
        done = provision(
            cfg,
            args.camera_id,
            host=args.server,
            port=args.port,
            replace=args.replace,
            edge={"source": args.source} if args.source else None,
        )
        done.bundle.save(out)
    except (StoreError, OSError, ValueError) as exc:
        return fail(str(exc))
    host = done.bundle.broker.host
    print(f"camera {args.camera_id} {'re-provisioned' if done.replaced else 'provisioned'}")
    print(f"bundle: {out} (mode 0600: it holds the camera's key and broker password)")
    cert = tls_files(cfg).cert
    if cert.is_file() and host not in covered_names(cert):
        print(
            f"warning: the broker's certificate does not cover {host!r}: run "
            f"`srs init --tls-name {host}` and restart the broker, or the Pi cannot connect",
        )
    print(f"on the Pi: srs edge install {out.name}   (then delete the bundle)")
    return 0


def camera_revoke(args: argparse.Namespace, cfg: SrsConfig) -> int:
    from core.cli_util import fail
    from core.provision import revoke
    from core.store import StoreError

    try:
        for line in revoke(cfg, args.camera_id):
            print(line)
    except (StoreError, OSError, ValueError) as exc:
        return fail(str(exc))
    return 0
