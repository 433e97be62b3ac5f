"""The live floor plan: plan outline, zones, camera cones and moving people markers.

The items are drawn in gui/plan_items.py. Markers glide towards their latest
position a fraction per frame (the window ticks ``step()`` at ~30 Hz). Until a site
plan arrives the view says how to add one.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QMouseEvent,
    QPainter,
    QPen,
    QPolygonF,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsTextItem,
    QGraphicsView,
    QLabel,
    QWidget,
)

from gui.plan_items import COLOURS as COLOURS
from gui.plan_items import MARKER_R, CameraItem, PersonMarker, polygon
from gui.plan_items import scene as scene
from srs.wire import payloads, site

DECLUTTER_MAX = 150  # beyond this many people, labels may overlap (cost grows as n²)
NO_PLAN_HINT = (
    "<b>No site plan yet.</b><br>People and cameras appear on the plan once core "
    "publishes one.<br><br>To add one: describe the floor, its zones and cameras in a "
    "site file (see <i>config/demo-site.toml</i> and docs/positions.md), check it with "
    "<tt>srs site check FILE</tt>, set <tt>[core] site_file</tt> to it and restart "
    "core.<br><br>Meanwhile the People and Cameras tabs and the timeline work as usual."
)


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
        self.zone_names: dict[str, str] = {}
        self._layout_dirty = False
        self.hint = QGraphicsTextItem()
        self.hint.setHtml(NO_PLAN_HINT)
        self.hint.setTextWidth(420)
        self.hint.setDefaultTextColor(QColor("#34495e"))
        self._scene.addItem(self.hint)

    def set_site(self, plan: site.SitePlan) -> None:
        for item in self._site_items:
            self._scene.removeItem(item)
        online = {cid: (item.online, item.disabled) for cid, item in self.cameras.items()}
        self._site_items, self.cameras, self.plan = [], {}, plan
        self.hint.hide()
        self.zone_names = {z.zone_id: z.name for z in plan.zones}
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
            cam.set_online(*online.get(pose.camera_id, (False, False)))
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
            cam.set_online(online, cam.disabled)

    def set_camera_state(self, camera_id: str, state: str) -> None:
        """ "online", "offline" or "disabled" (a disabled camera's cone is grey)."""
        cam = self.cameras.get(camera_id)
        if cam is not None:
            cam.set_online(state == "online", state == "disabled")

    def apply_positions(self, positions: Iterable[payloads.PersonPosition]) -> None:
        for pos in positions:
            marker = self.markers.get(pos.person_key)
            if pos.gone:
                self.remove(pos.person_key)
            elif marker is None:
                marker = PersonMarker(pos, self._trail_length, self.zone_names)
                self._scene.addItem(marker.trail)
                self._scene.addItem(marker)
                self.markers[pos.person_key] = marker
            else:
                marker.update_from(pos, self.zone_names)
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


def legend() -> QLabel:
    """What the plan's colours mean (also in docs/gui.md)."""
    dot = "<span style='color:{};font-size:15px'>●</span> {}"
    items = [dot.format(COLOURS[k].name(), k) for k in ("known", "unknown", "unidentified")]
    items += [
        dot.format("#2e9d50", "camera online"),
        dot.format("#c0392b", "camera offline"),
        dot.format("#8a8f98", "camera disabled"),
        "<span style='color:#c0392b'>▨</span> restricted zone",
    ]
    label = QLabel("&nbsp;&nbsp;&nbsp;".join(items))
    label.setStyleSheet("color:#34495e; padding:2px 6px;")
    return label
