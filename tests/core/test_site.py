"""The site model: loading, validation sentences, the demo plan."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.site import SiteError, load_site, parse_site, summary

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "config" / "demo-site.toml"
EXAMPLE = ROOT / "config" / "site.example.toml"


def minimal(**changes: Any) -> dict[str, Any]:
    site: dict[str, Any] = {
        "name": "t",
        "width_m": 10.0,
        "height_m": 5.0,
        "zones": [
            {"id": "a", "name": "A", "polygon": [[0, 0], [5, 0], [5, 5], [0, 5]]},
            {"id": "b", "polygon": [[5, 0], [10, 0], [10, 5], [5, 5]], "restricted": True},
        ],
        "cameras": [{"id": "cam1", "x": 1.0, "y": 1.0, "yaw_deg": 45.0}],
    }
    site.update(changes)
    return site


def problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(SiteError) as info:
        parse_site(data)
    return info.value.problems


def test_shipped_site_files_validate() -> None:
    demo = load_site(DEMO)
    assert {c.camera_id for c in demo.plan.cameras} == {
        "entrance",
        "corridor",
        "classroom",
        "server-room",
    }
    server = demo.zone("server-room")
    assert server is not None and server.restricted
    assert load_site(EXAMPLE).plan.cameras


def test_minimal_site_and_defaults() -> None:
    site = parse_site(minimal())
    assert site.zone("b") is not None and site.zone("b").name == "b"  # type: ignore[union-attr]
    cam = site.camera("cam1")
    assert cam is not None and (cam.hfov_deg, cam.height_m, cam.image_width) == (60, 2.5, 640)
    assert site.camera("nope") is None
    text = summary(site)
    assert "10 x 5 m" in text and "RESTRICTED" in text and "25.0 m²" in text


def test_duplicate_ids_are_named() -> None:
    zones = minimal()["zones"] + [{"id": "a", "polygon": [[0, 0], [1, 0], [1, 1]]}]
    assert problems(minimal(zones=zones)) == ["zones[2]: id 'a' is used twice; ids must be unique"]
    cams = minimal()["cameras"] * 2
    assert problems(minimal(cameras=cams)) == [
        "cameras[1]: id 'cam1' is used twice; ids must be unique"
    ]


def test_degenerate_and_crossed_polygons() -> None:
    zones = [
        {"id": "line", "polygon": [[0, 0], [1, 1], [2, 2]]},
        {"id": "bow", "polygon": [[0, 0], [4, 4], [4, 0], [0, 4]]},
    ]
    found = problems(minimal(zones=zones))
    assert found[0].startswith("zones[0] (id 'line'): polygon encloses no area")
    assert found[1].startswith("zones[1] (id 'bow'): polygon crosses itself")


def test_things_outside_the_plan() -> None:
    found = problems(
        minimal(
            cameras=[{"id": "far", "x": 12.0, "y": 1.0, "yaw_deg": 0}],
            zones=[{"id": "big", "polygon": [[0, 0], [11, 0], [11, 5]]}],
        )
    )
    assert "zones[0] (id 'big'): polygon point 1 = [11, 0] lies outside the 10 x 5 m plan" in found
    assert "cameras[0] (id 'far'): position x = 12, y = 1 lies outside the 10 x 5 m plan" in found


def test_shape_errors_name_key_and_value() -> None:
    cams = [{"id": "cam1", "x": 1.0, "y": 1.0, "yaw_deg": 45.0, "hfov_deg": 200, "zoom": 2}]
    found = problems(minimal(cameras=cams))
    assert any(p.startswith("cameras[0].hfov_deg: ") and "(got 200)" in p for p in found)
    assert (
        "cameras[0].zoom: unknown key (check the spelling; see config/site.example.toml)" in found
    )
    assert problems(minimal(cameras=[{"id": "c", "x": 1, "y": 1}])) == [
        "cameras[0].yaw_deg: required key is missing"
    ]
    assert problems(minimal(zones=[{"id": "z", "polygon": [[0, 0], [1], [1, 1]]}])) == [
        "zones[0].polygon[1] must be an [x, y] pair of numbers in metres, got [1]"
    ]
    assert any(
        p.startswith("zones[0].id: ") and "'bad id'" in p
        for p in problems(minimal(zones=[{"id": "bad id", "polygon": [[0, 0], [1, 0], [1, 1]]}]))
    )


def test_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n")
    with pytest.raises(SiteError, match="not valid TOML"):
        load_site(bad)
    img = tmp_path / "site.toml"
    img.write_text('name = "x"\nwidth_m = 5\nheight_m = 5\nplan_image = "plan.png"\n')
    with pytest.raises(SiteError, match=r"plan_image 'plan\.png': file .* does not exist"):
        load_site(img)
    (tmp_path / "plan.png").write_bytes(b"\x89PNG")
    assert load_site(img).plan_image == tmp_path / "plan.png"


# Each demo camera replays one sample clip; faces found in it must land in the zone
# that camera watches (the demo's geometry is plausible, not just valid).
CLIPS = [
    ("entrance", "head-pose-face-detection-female.gif", "corridor", (0, 10, 20)),
    ("corridor", "head-pose-face-detection-male.gif", "corridor", (0, 20, 40, 60)),
    ("classroom", "classroom.gif", "classroom", (0, 25, 40)),
    ("server-room", "head-pose-face-detection-female-and-male.gif", "server-room", (0, 20, 40)),
]


@pytest.mark.parametrize(("camera_id", "clip", "zone_id", "frames"), CLIPS)
def test_demo_site_places_the_clips_faces_in_the_watched_zone(
    media: Path, camera_id: str, clip: str, zone_id: str, frames: tuple[int, ...]
) -> None:
    cv2 = pytest.importorskip("cv2")
    np = pytest.importorskip("numpy")
    from PIL import Image, ImageSequence

    from core.geometry import estimate
    from core.site import zone_polygon
    from core.zones import point_in_polygon
    from srs.wire.payloads import BBox

    site = load_site(DEMO)
    pose, zone = site.camera(camera_id), site.zone(zone_id)
    assert pose is not None and zone is not None
    cascades = {
        kind: cv2.CascadeClassifier(cv2.data.haarcascades + f"haarcascade_{name}.xml")
        for kind, name in (("face", "frontalface_default"), ("profile", "profileface"))
    }
    placed = 0
    with Image.open(media / "video" / clip) as gif:
        assert gif.size == (pose.image_width, pose.image_height)
        for i, frame in enumerate(ImageSequence.Iterator(gif)):
            if i not in frames:
                continue
            gray = cv2.cvtColor(np.array(frame.convert("RGB")), cv2.COLOR_RGB2GRAY)
            for kind, cascade in cascades.items():
                for x, y, w, h in cascade.detectMultiScale(gray, 1.1, 5, minSize=(16, 16)):
                    box = BBox(x=int(x), y=int(y), w=int(w), h=int(h))
                    est = estimate(pose, box, gif.size[0], kind)  # type: ignore[arg-type]
                    assert point_in_polygon(est.x, est.y, zone_polygon(zone)), (i, kind, box)
                    placed += 1
    assert placed >= len(frames)
