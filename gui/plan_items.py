"""What the floor plan draws: camera cones and people markers (gui/floorplan.py lays
them out).

Plan coordinates are metres with y up; the scene uses SCALE units per metre with y
down, so ``scene(x, y) = (x * SCALE, -y * SCALE)``.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import (
    QGraphicsEllipseItem,
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsSimpleTextItem,
)

from gui.wording import evidence_text, zone_name
from srs.wire import payloads, site

SCALE = 40.0
MARKER_R = 7.0
FAINT_R = 4.0  # an unidentified person: a small faint dot
GLIDE = 0.3  # fraction of the remaining distance covered per frame
COLOURS = {
    "known": QColor("#1f6fd1"),
    "unknown": QColor("#e67e22"),
    "unidentified": QColor("#8a8f98"),
}
CONE_ONLINE = QColor(46, 157, 80, 70)
CONE_OFFLINE = QColor(192, 57, 43, 60)
CONE_DISABLED = QColor(138, 143, 152, 45)
# Stacking: zones 1, cones 2, the unidentified under everyone named (their dots
# never cover a name), trails 9, named markers (and their labels) 10.
Z_FAINT = 8
Z_MARKER = 10
NO_ZONES: Mapping[str, str] = {}


def scene(x: float, y: float) -> QPointF:
    return QPointF(x * SCALE, -y * SCALE)


def polygon(points: Iterable[site.Point]) -> QPolygonF:
    return QPolygonF([scene(p.x, p.y) for p in points])


class CameraItem(QGraphicsPathItem):
    """A camera's field-of-view cone; green when online, red when offline."""

    def __init__(
        self, pose: site.CameraPose, reach_m: float, clip: QPolygonF | None = None
    ) -> None:
        super().__init__()
        self.camera_id = pose.camera_id
        self.online = False
        self.disabled = False
        centre = scene(pose.x, pose.y)
        r = reach_m * SCALE
        path = QPainterPath(centre)
        # Qt angles: degrees counter-clockwise from +x, like the plan's yaw (y up).
        path.arcTo(
            QRectF(centre.x() - r, centre.y() - r, 2 * r, 2 * r),
            pose.yaw_deg - pose.hfov_deg / 2,
            pose.hfov_deg,
        )
        path.closeSubpath()
        if clip is not None:  # a camera does not see through the outer walls
            walls = QPainterPath()
            walls.addPolygon(clip)
            path = path.intersected(walls)
        self.setPath(path)
        self.setZValue(2)
        self.body = QGraphicsEllipseItem(centre.x() - 5, centre.y() - 5, 10, 10, self)
        self.body.setBrush(QBrush(QColor("#2c3e50")))
        self.body.setPen(QPen(Qt.PenStyle.NoPen))
        self.caption = QGraphicsSimpleTextItem(pose.camera_id, self)
        self.caption.setFont(QFont("Sans", 8))
        self.caption.setBrush(QBrush(QColor("#2c3e50")))
        self.caption.setPos(centre.x() + 6, centre.y() + 2)
        self.set_online(False)

    def set_online(self, online: bool, disabled: bool = False) -> None:
        self.online, self.disabled = online and not disabled, disabled
        state = "disabled" if disabled else "online" if online else "offline"
        colour = {"online": CONE_ONLINE, "offline": CONE_OFFLINE}.get(state, CONE_DISABLED)
        self.setBrush(QBrush(colour))
        edge = QColor(colour)
        edge.setAlpha(200)
        line = Qt.PenStyle.SolidLine if state == "online" else Qt.PenStyle.DashLine
        self.setPen(QPen(edge, 1.2, line))
        self.setToolTip(f"camera {self.camera_id}: {state}")


class PersonMarker(QGraphicsEllipseItem):
    """One person: a dot with a name that glides to its latest position, with a trail."""

    def __init__(
        self,
        pos: payloads.PersonPosition,
        trail_length: int,
        zones: Mapping[str, str] = NO_ZONES,
    ) -> None:
        super().__init__(-MARKER_R, -MARKER_R, 2 * MARKER_R, 2 * MARKER_R)
        self.person_key = pos.person_key
        self.setZValue(Z_MARKER)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.label = QGraphicsSimpleTextItem(self)
        self.label.setFont(QFont("Sans", 9, QFont.Weight.Bold))
        self.label.setPos(MARKER_R + 2, -MARKER_R - 8)
        self.trail = QGraphicsPathItem()
        self.trail.setZValue(9)
        self._points: deque[QPointF] = deque(maxlen=max(trail_length, 1))
        self._trail_dirty = True
        self._look: tuple[str, str, str | None, str | None] | None = None
        self.target = scene(pos.x, pos.y)
        self.setPos(self.target)
        self.position = pos
        self.update_from(pos, zones)

    def update_from(
        self, pos: payloads.PersonPosition, zones: Mapping[str, str] = NO_ZONES
    ) -> None:
        self.position = pos
        self.target = scene(pos.x, pos.y)
        self._points.append(self.target)
        self._trail_dirty = True
        look = (pos.identity, pos.label, pos.zone, pos.evidence)
        if look == self._look:
            return  # only the place changed: restyling 100s of markers per frame is costly
        self._look = look
        colour = COLOURS[pos.identity]
        faint = pos.identity == "unidentified"
        # Unidentified people have no useful name: a small faint dot under everyone
        # named (never covering a name), without a trail, keeps a crowd readable.
        r = FAINT_R if faint else MARKER_R
        self.setRect(-r, -r, 2 * r, 2 * r)
        self.setZValue(Z_FAINT if faint else Z_MARKER)
        fill = QColor(colour)
        fill.setAlpha(110 if faint else 255)
        self.setBrush(QBrush(fill))
        self.setPen(QPen(Qt.PenStyle.NoPen) if faint else QPen(QColor("white"), 2))
        self.label.setText("" if faint else pos.label)
        self.label.setBrush(QBrush(colour.darker(130)))
        trail_colour = QColor(colour)
        trail_colour.setAlpha(0 if faint else 110)
        self.trail.setPen(QPen(trail_colour, 2, Qt.PenStyle.DotLine))
        how = evidence_text(pos.evidence, pos.evidence_age_s, pos.candidate, pos.identity)
        self.setToolTip(f"{pos.label} ({how}) — {zone_name(pos.zone, zones)}")

    def step(self) -> bool:
        """Move one frame towards the target; True while still moving."""
        here = self.pos()
        dx, dy = self.target.x() - here.x(), self.target.y() - here.y()
        moving = math.hypot(dx, dy) > 0.5
        if not moving and here == self.target and not self._trail_dirty:
            return False  # at rest: nothing to redraw
        self._trail_dirty = False
        self.setPos(
            QPointF(here.x() + dx * GLIDE, here.y() + dy * GLIDE) if moving else self.target
        )
        path = QPainterPath()
        points = [*list(self._points)[:-1], self.pos()]
        if len(points) > 1:
            path.moveTo(points[0])
            for p in points[1:]:
                path.lineTo(p)
        self.trail.setPath(path)
        return moving
