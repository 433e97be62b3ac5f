"""The site model: floor plan, camera poses and zones, loaded from a TOML file.

The file (see ``config/site.example.toml``) is checked twice: first its shape (the
wire model :class:`srs.wire.site.SitePlan`, so what core computes with is exactly
what it publishes), then the geometry (unique ids, cameras and zones inside the
plan, polygons that enclose an area and do not cross themselves). Every problem is
one sentence naming the key and the offending value; all of them are reported at
once so a surveyor can fix the file in one pass.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from core.zones import Polygon, polygon_area, self_intersects
from srs.wire.site import CameraPose, SitePlan, Zone

# Keys of the site file that are not part of the wire shape.
_FILE_ONLY = ("plan_image",)


class SiteError(ValueError):
    """A site file that cannot be used; ``problems`` holds one sentence per fault."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


@dataclass(frozen=True)
class Site:
    """A validated site: the wire plan plus what only core needs (the plan image)."""

    plan: SitePlan
    plan_image: Path | None = None

    def camera(self, camera_id: str) -> CameraPose | None:
        return self._poses.get(camera_id)  # once per detection: a dict, not a scan

    @cached_property
    def _poses(self) -> dict[str, CameraPose]:
        return {c.camera_id: c for c in self.plan.cameras}

    def zone(self, zone_id: str) -> Zone | None:
        return next((z for z in self.plan.zones if z.zone_id == zone_id), None)


def zone_polygon(zone: Zone) -> Polygon:
    return [(p.x, p.y) for p in zone.polygon]


def load_site(path: Path) -> Site:
    """Read and validate a site file; raise SiteError (all problems) or OSError."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SiteError(str(path), [f"not valid TOML: {exc}"]) from exc
    return parse_site(data, source=str(path), base_dir=path.parent)


def parse_site(data: dict[str, Any], *, source: str = "site", base_dir: Path | None = None) -> Site:
    """Build a Site from the parsed TOML table (keys as in the site file)."""
    wire = {k: v for k, v in data.items() if k not in _FILE_ONLY}
    problems: list[str] = []
    wire["outline"] = _points(wire.get("outline", []), "outline", problems)
    wire["zones"] = [
        _zone_dict(z, i, problems)
        for i, z in enumerate(_table_list(wire.get("zones", []), "zones", problems))
    ]
    wire["cameras"] = [
        _camera_dict(c, i)
        for i, c in enumerate(_table_list(wire.get("cameras", []), "cameras", problems))
    ]
    if problems:
        raise SiteError(source, problems)
    try:
        plan = SitePlan.model_validate(wire)
    except ValidationError as exc:
        raise SiteError(source, [_sentence(e, data) for e in exc.errors()]) from exc
    plan_image = _plan_image(data.get("plan_image"), base_dir, problems)
    problems.extend(check_plan(plan))
    if problems:
        raise SiteError(source, problems)
    return Site(plan=plan, plan_image=plan_image)


def check_plan(plan: SitePlan) -> list[str]:
    """Geometric checks the wire model cannot express; one sentence per problem."""
    problems: list[str] = []
    w, h = plan.width_m, plan.height_m

    def inside(x: float, y: float) -> bool:
        return 0.0 <= x <= w and 0.0 <= y <= h

    for i, pt in enumerate(plan.outline):
        if not inside(pt.x, pt.y):
            problems.append(
                f"outline[{i}] = [{pt.x:g}, {pt.y:g}] lies outside the {w:g} x {h:g} m plan"
            )
    if plan.outline and len(plan.outline) < 3:
        problems.append(f"outline has {len(plan.outline)} points: give at least 3 or none")
    _duplicates([z.zone_id for z in plan.zones], "zones", problems)
    _duplicates([c.camera_id for c in plan.cameras], "cameras", problems)
    for i, zone in enumerate(plan.zones):
        where = f"zones[{i}] (id {zone.zone_id!r})"
        poly = zone_polygon(zone)
        if self_intersects(poly):
            problems.append(
                f"{where}: polygon crosses itself; list the corners in order around the zone"
            )
        elif abs(polygon_area(poly)) < 1e-6:
            problems.append(f"{where}: polygon encloses no area (points are collinear or repeated)")
        for j, (x, y) in enumerate(poly):
            if not inside(x, y):
                problems.append(
                    f"{where}: polygon point {j} = [{x:g}, {y:g}] lies outside "
                    f"the {w:g} x {h:g} m plan"
                )
    for i, cam in enumerate(plan.cameras):
        if not inside(cam.x, cam.y):
            problems.append(
                f"cameras[{i}] (id {cam.camera_id!r}): position x = {cam.x:g}, "
                f"y = {cam.y:g} lies outside the {w:g} x {h:g} m plan"
            )
    return problems


def _duplicates(ids: list[str], key: str, problems: list[str]) -> None:
    seen: set[str] = set()
    for i, ident in enumerate(ids):
        if ident in seen:
            problems.append(f"{key}[{i}]: id {ident!r} is used twice; ids must be unique")
        seen.add(ident)


def _table_list(value: Any, key: str, problems: list[str]) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        problems.append(f"{key} must be a list of tables ([[{key}]] sections), got {value!r:.60}")
        return []
    return value


def _points(value: Any, key: str, problems: list[str]) -> list[dict[str, Any]]:
    """``[[x, y], ...]`` -> wire points; a bad pair is one problem naming the key."""
    if not isinstance(value, list):
        problems.append(f"{key} must be a list of [x, y] pairs, got {value!r:.60}")
        return []
    points = []
    for j, pair in enumerate(value):
        if (
            not isinstance(pair, list)
            or len(pair) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in pair)
        ):
            problems.append(
                f"{key}[{j}] must be an [x, y] pair of numbers in metres, got {pair!r:.60}"
            )
            continue
        points.append({"x": float(pair[0]), "y": float(pair[1])})
    return points


def _zone_dict(z: dict[str, Any], i: int, problems: list[str]) -> dict[str, Any]:
    out = {("zone_id" if k == "id" else k): v for k, v in z.items()}
    out.setdefault("name", z.get("id", "?"))
    out["polygon"] = _points(z.get("polygon", []), f"zones[{i}].polygon", problems)
    return out


def _camera_dict(c: dict[str, Any], i: int) -> dict[str, Any]:
    return {("camera_id" if k == "id" else k): v for k, v in c.items()}


_WIRE_TO_FILE = {"zone_id": "id", "camera_id": "id"}


def _sentence(err: ErrorDetails, data: dict[str, Any]) -> str:
    """A pydantic error as '<key path>: <message> (got <value>)' in file terms."""
    parts = [str(_WIRE_TO_FILE.get(str(p), p)) for p in err["loc"]]
    key = ""
    for p in parts:
        key += f"[{p}]" if p.isdigit() else (f".{p}" if key else p)
    msg = err["msg"]
    if err["type"] == "missing":
        return f"{key}: required key is missing"
    if err["type"] == "extra_forbidden":
        return f"{key}: unknown key (check the spelling; see config/site.example.toml)"
    return f"{key}: {msg} (got {err.get('input')!r:.60})"


def _plan_image(value: Any, base_dir: Path | None, problems: list[str]) -> Path | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        problems.append(f"plan_image must be a file path, got {value!r:.60}")
        return None
    path = Path(value)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if not path.is_file():
        problems.append(f"plan_image {value!r}: file {path} does not exist")
        return None
    return path


def summary(site: Site) -> str:
    """A human summary for ``srs site check``: size, zones, cameras."""
    plan = site.plan
    lines = [
        f"site {plan.name!r}: {plan.width_m:g} x {plan.height_m:g} m"
        + (f", plan image {site.plan_image}" if site.plan_image else "")
        + (f", outline of {len(plan.outline)} points" if plan.outline else "")
    ]
    lines.append(f"zones ({len(plan.zones)}):")
    for z in plan.zones:
        mark = "  RESTRICTED" if z.restricted else ""
        lines.append(
            f"  {z.zone_id:<16} {z.name!r:<24} {abs(polygon_area(zone_polygon(z))):7.1f} m²{mark}"
        )
    lines.append(f"cameras ({len(plan.cameras)}):")
    for c in plan.cameras:
        lines.append(
            f"  {c.camera_id:<16} at ({c.x:g}, {c.y:g}) m, {c.height_m:g} m high, "
            f"yaw {c.yaw_deg:g}°, hfov {c.hfov_deg:g}°, "
            f"{c.image_width}x{c.image_height} px"
        )
    return "\n".join(lines)
