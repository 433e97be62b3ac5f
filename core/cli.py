"""`srs` sub-commands of the core component: core, person, camera, sightings."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from core.cli_util import with_store
from core.srs_config import SrsConfig

if TYPE_CHECKING:
    from core.store.models import Person

# Keys and names cannot be confused: a name may not look like a key or an id.
NAME_RULE = (
    "1 to 128 characters, no control characters, not shaped like a key or an id (p3, u7, t-..., 12)"
)
PERSON_REF = "a key (p3), an id (3) or an exact name; key-shaped text is always a key"


def register(sub: argparse._SubParsersAction) -> None:
    """Add this component's commands to the `srs` parser."""
    from srs.subcommands import add_command, add_group

    add_command(
        sub,
        "core",
        run_core,
        help="run the core service (verify, recognise, store)",
        description="Run core in the foreground until SIGTERM/SIGINT.",
    )

    people = add_group(
        sub, "person", help="enrolled people: add, import, list, rename, merge, split, delete"
    )
    p = add_command(people, "add", person_add, help="enrol a person from photos")
    p.add_argument("name", help=NAME_RULE)
    p.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    p.add_argument("--json", action="store_true")
    p = add_command(
        people,
        "import",
        person_import,
        help="enrol everyone in DIR/<name>/*.jpg (one folder per person)",
    )
    p.add_argument("dir", type=Path)
    p.add_argument("--json", action="store_true")
    p = add_command(people, "list", person_list, help="list enrolled people")
    p.add_argument("--json", action="store_true")
    p = add_command(people, "rename", person_rename, help="rename a person")
    p.add_argument("person", help=PERSON_REF)
    p.add_argument("new_name", help=NAME_RULE)
    p.add_argument("--json", action="store_true")
    p = add_command(
        people,
        "merge",
        person_merge,
        help="merge SOURCE into TARGET (SOURCE disappears); people (p3) or "
        "anonymous identities (u7): u7 into u3, u7 into a person names it",
    )
    p.add_argument("source", help="a key (p3, u7), an id or a person's name")
    p.add_argument("target", help="a key (p3, u7), an id or a person's name")
    p.add_argument("--json", action="store_true")
    p = add_command(
        people,
        "split",
        person_split,
        help="move some sightings of a person or anonymous identity into a new "
        "anonymous identity: one camera, one track, or one track from a sighting on",
    )
    p.add_argument("person", help="key: p3 or u7")
    p.add_argument("--camera", help="the sightings of this camera")
    p.add_argument("--track", type=int, help="the sightings of this track id")
    p.add_argument(
        "--from-sighting",
        type=int,
        dest="from_sighting",
        help="this sighting's camera and track from it onwards (ids: srs sightings --json)",
    )
    p.add_argument("--json", action="store_true")
    p = add_command(
        people,
        "delete",
        person_delete,
        help="erase a person: encodings, sightings, live position (audited)",
    )
    p.add_argument("person", help=PERSON_REF)
    p.add_argument("--json", action="store_true")

    from core.cli_cameras import register_cameras
    from core.cli_db import register_db

    register_cameras(sub)
    register_db(sub)


def run_core(args: argparse.Namespace, cfg: SrsConfig) -> int:
    import os

    # Matching a few queries at a time gains nothing from BLAS threads, and on a busy
    # host they fight over the cores (4x slower measured): one thread unless told.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    from core.cli_util import fail
    from core.service import CoreService
    from core.site import SiteError
    from core.store import StoreError

    try:
        service = CoreService(cfg)
    except StoreError as exc:  # e.g. a PostgreSQL URL without its driver
        return fail(f"core cannot start: {exc}")
    except SiteError as exc:
        return fail("the site file cannot be used:\n  " + "\n  ".join(exc.problems))
    except OSError as exc:
        return fail(f"core cannot start: {exc}")
    return service.run_forever()


def person_add(args: argparse.Namespace, cfg: SrsConfig) -> int:
    from core.cli_util import emit_json, fail
    from core.enrol import PersonImport, encode_image, enrol
    from core.store import StoreError, open_store
    from srs.wire.names import check_person_name

    try:  # before the photos are encoded: a refused name costs nothing
        args.name = check_person_name(args.name)
    except ValueError as exc:
        return fail(str(exc))
    imp = PersonImport(args.name, [encode_image(p) for p in args.images])
    try:
        db = open_store(cfg)
    except StoreError as exc:
        return fail(str(exc))
    try:
        summary = enrol(db, [imp])
    finally:
        db.close()
    return _report(summary, args.json, emit_json)


def person_import(args: argparse.Namespace, cfg: SrsConfig) -> int:
    from core.cli_util import emit_json, fail
    from core.enrol import import_people
    from core.store import StoreError, open_store

    try:
        db = open_store(cfg)
    except StoreError as exc:
        return fail(str(exc))
    try:
        summary = import_people(db, args.dir)
    except FileNotFoundError as exc:
        return fail(str(exc))
    finally:
        db.close()
    return _report(summary, args.json, emit_json)


def _report(summary: list[dict], as_json: bool, emit_json: Callable[[object], None]) -> int:
    if as_json:
        emit_json(summary)
    else:
        for entry in summary:
            where = f" as {entry['key']}" if "key" in entry else " (nothing enrolled)"
            print(f"{entry['name']}: {entry['encoded']} encoding(s){where}")
            for prob in entry["problems"]:
                print(f"  skipped {prob['image']}: {prob['problem']}")
    return 0 if all(e["encoded"] for e in summary) else 1


def person_list(args: argparse.Namespace, cfg: SrsConfig) -> int:
    from core.cli_util import emit_json, iso
    from core.store import list_people

    rc, people = with_store(cfg, list_people)
    if rc:
        return rc
    if args.json:
        emit_json([p.as_dict() for p in people])
        return 0
    for p in people:
        print(
            f"{p.key:<6} {p.name:<30} {p.encodings:>3} enc  {p.sightings:>6} sightings  "
            f"last seen {iso(p.last_seen)}"
        )
    if not people:
        print("no people enrolled (srs person add NAME IMAGE... or srs person import DIR)")
    return 0


def _person_result(args: argparse.Namespace, rc: int, p: Person, verb: str) -> int:
    from core.cli_util import emit_json

    if rc:
        return rc
    if args.json:
        emit_json({"key": f"p{p.id}", "name": p.name})
    else:
        print(f"{verb} p{p.id} {p.name}")
    return 0


def person_rename(args: argparse.Namespace, cfg: SrsConfig) -> int:
    from core.store import rename_person

    rc, p = with_store(cfg, lambda s: rename_person(s, args.person, args.new_name))
    return _person_result(args, rc, p, "renamed")


def person_merge(args: argparse.Namespace, cfg: SrsConfig) -> int:
    from core.cli_util import emit_json
    from core.store import merge_keys

    rc, merged = with_store(cfg, lambda s: merge_keys(s, args.source, args.target))
    if rc:
        return rc
    if args.json:
        emit_json({"key": merged.new_key, "name": merged.label, "merged": merged.old_key})
    else:
        print(f"merged {merged.old_key} into {merged.new_key} {merged.label}")
    return 0


def person_split(args: argparse.Namespace, cfg: SrsConfig) -> int:
    from core.cli_util import emit_json
    from core.store import split_identity

    rc, res = with_store(
        cfg,
        lambda s: split_identity(
            s,
            args.person,
            camera_id=args.camera,
            track_id=args.track,
            from_sighting=args.from_sighting,
        ),
    )
    if rc:
        return rc
    if args.json:
        emit_json(res)
    else:
        print(f"moved {res['moved']} sighting(s) of {res['person_key']} to {res['new_key']}")
    return 0


def person_delete(args: argparse.Namespace, cfg: SrsConfig) -> int:
    from core.cli_util import emit_json
    from core.erase import clear_positions_now
    from core.store import delete_person

    rc, counts = with_store(cfg, lambda s: delete_person(s, args.person))
    if rc:
        return rc
    counts["position_cleared"] = clear_positions_now(cfg, [str(counts["key"])])
    if args.json:
        emit_json(counts)
    else:
        print(
            f"erased {counts['name']} ({counts['key']}): {counts['encodings']} encodings, "
            f"{counts['sightings']} sightings; live position "
            + (
                "cleared"
                if counts["position_cleared"]
                else "will be cleared by the running core service"
            )
        )
    return 0
