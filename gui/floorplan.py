"""The live floor plan: plan outline, zones, camera cones and moving people markers.

Plan coordinates are metres with y up; the scene uses SCALE units per metre with y
down, so ``scene(x, y) = (x * SCALE, -y * SCALE)``. Markers glide towards their
latest position a fraction per frame (the window ticks ``step()`` at ~30 Hz).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPen,
    QPolygonF,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QGraphicsEllipseItem,
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QWidget,
)

from srs.wire import payloads, site

SCALE = 40.0
MARKER_R = 7.0
GLIDE = 0.3  # fraction of the remaining distance covered per frame
DECLUTTER_MAX = 150  # beyond this many people, labels may overlap (cost grows as n²)
COLOURS = {
    "known": QColor("#1f6fd1"),
    "unknown": QColor("#e67e22"),
    "unidentified": QColor("#8a8f98"),
}
CONE_ONLINE = QColor(46, 157, 80, 70)
CONE_OFFLINE = QColor(192, 57, 43, 60)


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

    def set_online(self, online: bool) -> None:
        self.online = online
        colour = CONE_ONLINE if online else CONE_OFFLINE
        self.setBrush(QBrush(colour))
        edge = QColor(colour)
        edge.setAlpha(200)
        self.setPen(QPen(edge, 1.2, Qt.PenStyle.SolidLine if online else Qt.PenStyle.DashLine))
        self.setToolTip(f"camera {self.camera_id}: {'online' if online else 'offline'}")


class PersonMarker(QGraphicsEllipseItem):
    """One person: a dot with a name that glides to its latest position, with a trail."""

    def __init__(self, pos: payloads.PersonPosition, trail_length: int) -> None:
        super().__init__(-MARKER_R, -MARKER_R, 2 * MARKER_R, 2 * MARKER_R)
        self.person_key = pos.person_key
        self.setZValue(10)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.label = QGraphicsSimpleTextItem(self)
        self.label.setFont(QFont("Sans", 9, QFont.Weight.Bold))
        self.label.setPos(MARKER_R + 2, -MARKER_R - 8)
        self.trail = QGraphicsPathItem()
        self.trail.setZValue(9)
        self._points: deque[QPointF] = deque(maxlen=max(trail_length, 1))
        self._trail_dirty = True
        self._look: tuple[str, str, str | None] | None = None
        self.target = scene(pos.x, pos.y)
        self.setPos(self.target)
        self.position = pos
        self.update_from(pos)

    def update_from(self, pos: payloads.PersonPosition) -> None:
        self.position = pos
        self.target = scene(pos.x, pos.y)
        self._points.append(self.target)
        self._trail_dirty = True
        look = (pos.identity, pos.label, pos.zone)
        if look == self._look:
            return  # only the place changed: restyling 100s of markers per frame is costly
        self._look = look
        colour = COLOURS[pos.identity]
        self.setBrush(QBrush(colour))
        self.setPen(QPen(QColor("white"), 2))
        # Unidentified people have no useful name: a grey dot (with a tooltip) is enough
        # and keeps crowded corridors readable.
        self.label.setText(pos.label if pos.identity != "unidentified" else "")
        self.label.setBrush(QBrush(colour.darker(130)))
        trail_colour = QColor(colour)
        trail_colour.setAlpha(110)
        self.trail.setPen(QPen(trail_colour, 2, Qt.PenStyle.DotLine))
        self.setToolTip(f"{pos.label} ({pos.identity}) — zone {pos.zone or 'none'}")

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


class FloorPlanView(QGraphicsView):
    person_clicked = Signal(str)

    def __init__(self, trail_length: int = 12, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._scene = QGraphicsScene(self)
        self.setScene(self._scene)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setBackgroundBrush(QBrush(QColor("#eef1f4")))
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.BoundingRectViewportUpdate)
        self._trail_length = trail_length
        self._site_items: list[QGraphicsItem] = []
        self.cameras: dict[str, CameraItem] = {}
        self.markers: dict[str, PersonMarker] = {}
        self.plan: site.SitePlan | None = None
        self._layout_dirty = False

    def set_site(self, plan: site.SitePlan) -> None:
        for item in self._site_items:
            self._scene.removeItem(item)
        online = {cid: item.online for cid, item in self.cameras.items()}
        self._site_items, self.cameras, self.plan = [], {}, plan
        outline = (
            polygon(plan.outline)
            if len(plan.outline) >= 3
            else QPolygonF(QRectF(scene(0, plan.height_m), scene(plan.width_m, 0)))
        )
        floor = self._scene.addPolygon(
            outline, QPen(QColor("#34495e"), 3), QBrush(QColor("#ffffff"))
        )
        self._site_items.append(floor)
        for zone in plan.zones:
            self._add_zone(zone)
        reach = max(2.0, min(8.0, 0.35 * max(plan.width_m, plan.height_m)))
        for pose in plan.cameras:
            cam = CameraItem(pose, reach, outline)
            cam.set_online(online.get(pose.camera_id, False))
            self._scene.addItem(cam)
            self._site_items.append(cam)
            self.cameras[pose.camera_id] = cam
        for item in self._site_items:  # static: painted once into a pixmap, then blitted
            item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self._scene.setSceneRect(outline.boundingRect().adjusted(-30, -30, 30, 30))
        self._fit()

    def _add_zone(self, zone: site.Zone) -> None:
        poly = polygon(zone.polygon)
        if zone.restricted:
            pen, brush = (
                QPen(QColor("#c0392b"), 2),
                QBrush(QColor(192, 57, 43, 90), Qt.BrushStyle.BDiagPattern),
            )
        else:
            pen, brush = QPen(QColor("#7f8c8d"), 1), QBrush(QColor(52, 152, 219, 28))
        item = self._scene.addPolygon(poly, pen, brush)
        item.setZValue(1)
        item.setToolTip(f"{zone.name}{' (restricted)' if zone.restricted else ''}")
        text = QGraphicsSimpleTextItem(zone.name + (" ⚠" if zone.restricted else ""), item)
        text.setFont(QFont("Sans", 9))
        text.setBrush(QBrush(QColor("#c0392b") if zone.restricted else QColor("#5d6d7e")))
        box = poly.boundingRect()
        text.setPos(box.left() + 6, box.top() + 4)
        self._site_items.append(item)

    def set_camera_online(self, camera_id: str, online: bool) -> None:
        cam = self.cameras.get(camera_id)
        if cam is not None:
            cam.set_online(online)

    def apply_positions(self, positions: Iterable[payloads.PersonPosition]) -> None:
        for pos in positions:
            marker = self.markers.get(pos.person_key)
            if pos.gone:
                self.remove(pos.person_key)
            elif marker is None:
                marker = PersonMarker(pos, self._trail_length)
                self._scene.addItem(marker.trail)
                self._scene.addItem(marker)
                self.markers[pos.person_key] = marker
            else:
                marker.update_from(pos)
            self._layout_dirty = True

    def remove(self, person_key: str) -> None:
        marker = self.markers.pop(person_key, None)
        if marker is not None:
            self._scene.removeItem(marker.trail)
            self._scene.removeItem(marker)

    def step(self) -> None:
        moved = [marker.step() for marker in self.markers.values()]
        if (any(moved) or self._layout_dirty) and len(self.markers) <= DECLUTTER_MAX:
            self._declutter()
        self._layout_dirty = False

    def _declutter(self) -> None:
        """Move name labels down until they do not cover one another (people standing
        together stay readable). Placed labels are bucketed in a coarse grid so each
        label is only compared with its neighbours."""
        grid: dict[tuple[int, int], list[QRectF]] = {}
        for m in sorted(self.markers.values(), key=lambda m: (m.pos().y(), m.pos().x())):
            if not m.label.text():
                continue
            size = m.label.boundingRect()
            for k in range(6):
                offset = QPointF(MARKER_R + 2, -MARKER_R - 8 + k * size.height())
                rect = size.translated(m.pos() + offset)
                cells = _cells(rect)
                if not any(rect.intersects(r) for c in cells for r in grid.get(c, ())):
                    break
            m.label.setPos(offset)
            for c in cells:
                grid.setdefault(c, []).append(rect)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        for item in self.items(event.position().toPoint()):
            while item is not None and not isinstance(item, PersonMarker):
                item = item.parentItem()
            if isinstance(item, PersonMarker):
                self.person_clicked.emit(item.person_key)
                return
        super().mousePressEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        if self.plan is not None:
            self.fitInView(self._scene.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)


CELL = 64.0  # scene units per declutter grid cell


def _cells(rect: QRectF) -> list[tuple[int, int]]:
    x0, x1 = int(rect.left() // CELL), int(rect.right() // CELL)
    y0, y1 = int(rect.top() // CELL), int(rect.bottom() // CELL)
    return [(x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
