"""`srs` sub-commands of the edge component: ``srs edge`` and ``srs edge init``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from edge.srs_config import SrsConfig

DESCRIPTION = """\
Run a camera node: read the source, detect and track faces and profiles, compute
encodings, and publish signed detection messages to core through the broker.
Every message waits in an on-disk outbox until core acknowledges it.

  srs edge --camera-id cam1 --source 0            # V4L2 camera 0
  srs edge --source rtsp://10.0.0.7/stream        # network camera
  srs edge --source clip.mp4 --once               # a file, wait for all acks, exit
  srs edge --source clip.gif --loop               # replay a file forever (demo)
  srs edge init --camera-id cam1                  # create the key, print it
  srs edge install cam1.bundle [--dry-run]        # join the site (as root, on the Pi)
"""


def register(sub: argparse._SubParsersAction) -> None:
    """Add this component's commands to the `srs` parser."""
    from srs.subcommands import add_command

    parser = add_command(sub, "edge", run, help="run a camera node", description=DESCRIPTION)
    parser.add_argument(
        "verb",
        nargs="?",
        choices=["init", "install"],
        help="init: create the camera key and print its public key; install BUNDLE: "
        "set this Pi up from `srs camera provision`'s bundle",
    )
    parser.add_argument("bundle", nargs="?", type=Path, help="install: the camera's bundle")
    parser.add_argument(
        "--root",
        type=Path,
        default=Path("/"),
        metavar="DIR",
        help="install: write under DIR instead of / (nothing is enabled or started)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="install: print what would be done, change nothing"
    )
    parser.add_argument("--user", default="srs", help="install: the service user (default: srs)")
    parser.add_argument("--camera-id", metavar="ID", help="camera id (default: [edge] camera_id)")
    parser.add_argument(
        "--source", metavar="SRC", help="camera index, rtsp/http URL, video file or image folder"
    )
    parser.add_argument(
        "--once",
        action="store_true",
        help="process a finite source to its end, wait until core acknowledged everything, exit",
    )
    parser.add_argument(
        "--loop",
        action="store_true",
        help="replay a file or folder source forever at its frame rate",
    )


def run(args: argparse.Namespace, cfg: SrsConfig) -> int:
    from srs.wire import topics

    if args.verb == "install":
        return install(args)
    if args.bundle is not None:
        print(
            f"srs edge: unexpected argument {args.bundle} (only install takes a bundle)",
            file=sys.stderr,
        )
        return 2

    camera_id = args.camera_id or cfg.edge.camera_id
    try:
        topics.check_id(camera_id, "camera id")
    except topics.TopicError as exc:
        print(f"srs edge: {exc}", file=sys.stderr)
        return 2
    if args.verb == "init":
        return init(cfg, camera_id)
    if args.once and args.loop:
        print("srs edge: --once and --loop exclude each other", file=sys.stderr)
        return 2
    import signal
    import sqlite3

    from edge.node import EdgeNode

    node = EdgeNode(cfg, camera_id=camera_id, source=args.source)
    try:
        node.__enter__()
    except (OSError, ValueError, sqlite3.Error) as exc:  # bad key, unwritable data dir...
        print(f"srs edge: camera {camera_id} cannot start: {exc}", file=sys.stderr)
        return 1
    previous = signal.signal(signal.SIGTERM, lambda *_: node.stop())
    try:
        return node.run(once=args.once, loop=args.loop)
    except KeyboardInterrupt:
        node.stop()
        return 0
    finally:
        node.__exit__(None, None, None)
        signal.signal(signal.SIGTERM, previous)


def init(cfg: SrsConfig, camera_id: str) -> int:
    from edge.node import key_path, other_cameras
    from srs.wire import topics
    from srs.wire.signing import SigningKey

    if not cfg.data_dir_chosen:
        # The default ./var would put the key under whatever directory this runs in,
        # where srs-edge@.service never looks.
        print(
            "srs edge init: say where the key goes: --data-dir /var/lib/srs (what "
            "srs-edge@.service uses), SRS_DATA_DIR, or data_dir in the config file",
            file=sys.stderr,
        )
        return 2
    path = key_path(cfg, camera_id)
    existed = path.exists()
    if not existed and (others := other_cameras(cfg, camera_id)):
        print(
            f"note: this data dir also holds keys for {', '.join(others)}; "
            f"creating a new one for {camera_id}",
            file=sys.stderr,
        )
    try:
        key = SigningKey.load_or_create(topics.camera_issuer(camera_id), path)
    except (OSError, ValueError) as exc:
        print(f"srs edge init: {exc}", file=sys.stderr)
        return 1
    print(f"{'using the existing' if existed else 'created a new'} key {path}", file=sys.stderr)
    print("register this camera on the core host with:", file=sys.stderr)
    print(f"  srs camera add {camera_id} --public-key {key.public_key_b64}", file=sys.stderr)
    print(key.public_key_b64)
    return 0


def install(args: argparse.Namespace) -> int:
    import subprocess

    from edge.install import Installer
    from srs.bundle import BundleError, CameraBundle

    if args.bundle is None:
        print("srs edge install: name the bundle: srs edge install CAM.bundle", file=sys.stderr)
        return 2
    try:
        bundle = CameraBundle.load(args.bundle)
        installer = Installer(bundle, root=args.root, user=args.user, dry_run=args.dry_run)
        return installer.run()
    except (BundleError, OSError, ValueError, subprocess.CalledProcessError) as exc:
        print(f"srs edge install: {exc}", file=sys.stderr)
        return 1
