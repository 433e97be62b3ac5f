"""Who ``srs demo`` shows, and where: the clip each camera plays, the badge photo,
the stranger, and the order the cameras start in.

The story (README.md, "What the demo shows"), and why each choice tells it every
time rather than sometimes (distances are dlib encoding distances, measured on
the labelled face boxes of bench/labels; core names a person from a match within
0.45 on a good view and joins a stranger's track to an anonymous identity within
0.5):

- Alice Martin is enrolled from a badge photo cut from the server-room footage
  (frame 0 of the pair clip, her half of it). The entrance camera plays her own
  clip, other footage of her: 7 of its 23 frames are frontal views of quality
  0.5-0.87 that lie 0.39-0.45 from that badge, each enough on its own to name
  her, and every loop shows them again. (In the pair clip her head is turned and
  tilted in every frame, quality at most 0.37: with a badge from her own clip she
  was only ever "possibly" her there. The server-room camera replays the footage
  of the badge, so she may be named there too; that shows little.)
- The man is enrolled by nobody. Haar finds his face in the pair clip only in
  frames 0-8, his head tilted (the edge follows him through the rest by
  searching the lost face's surroundings rotated), so each of his server-room
  tracks is first encoded from one of those views. They lie up to 0.57 from his
  views in his own clip, around the 0.5 join threshold, whichever camera sees him
  first: started together, a third of the time the two cameras would found two
  "Unknown"s. So the server-room camera starts first and founds his identity;
  the corridor camera starts only once that identity holds 4 encodings, most of
  them of the later, nearer views: his corridor views then lie at most 0.48 from
  it (0.46 for 9 in 10). He is found in the restricted room, then waits at its
  door.
- The classroom's seated students are too small to encode: unidentified, counted.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

# The sample media stay in the srs package (srs/data/media), shared with the tests.
MEDIA = Path(__file__).parents[1] / "data" / "media"
VIDEO = MEDIA / "video"


class Badge(NamedTuple):
    """A badge photo cut from footage: frame ``frame`` of ``clip``, and of that frame
    the part ``crop`` (x0, y0, x1, y1; None: all of it), so it shows one person."""

    clip: Path
    frame: int
    crop: tuple[int, int, int, int] | None = None


# camera id -> bundled clip (see srs/data/media/ATTRIBUTION.md).
CAMERAS = {
    "entrance": VIDEO / "head-pose-face-detection-female.gif",
    "corridor": VIDEO / "head-pose-face-detection-male.gif",
    "classroom": VIDEO / "classroom.gif",
    "server-room": VIDEO / "head-pose-face-detection-female-and-male.gif",
}
# Each camera's own [edge] settings (docs/edge.md), as an installer would set them;
# written into the demo's srs.toml. Four nodes, broker, core (and the dashboard)
# share a laptop's cores, so no camera analyses more frames than its story needs.
# The close-up cameras' faces are 64-95 px: analysed at the clips' own 480 px, not
# enlarged to 640 (half the pixels). The classroom has no one to name.
CAMERA_SETTINGS: dict[str, dict[str, object]] = {
    "entrance": {"max_fps": 4.0, "analysis_width": 480},
    "corridor": {"max_fps": 4.0, "analysis_width": 480},
    # his head tilts: followed by searching rotated; wait longer for an encoding
    "server-room": {"max_fps": 6.0, "analysis_width": 480, "encoding_wait_s": 1.5},
    "classroom": {"max_fps": 2.5},
}
# Her half of the pair clip's first frame (the man stands right of x = 290).
BADGES = {
    "Alice Martin": Badge(
        VIDEO / "head-pose-face-detection-female-and-male.gif", 0, (0, 0, 240, 270)
    )
}
# The stranger: seen alone by the first camera, beside the enrolled woman by the second.
STRANGER_CAMERAS = ("corridor", "server-room")
STRANGER_NAME = "Bruno Keller"  # what the scripted guard calls him
# camera -> (the camera that must first have placed an anonymous identity, from how
# many fresh encodings): his identity is founded in the server room (see above).
START_AFTER = {"corridor": ("server-room", 4)}
