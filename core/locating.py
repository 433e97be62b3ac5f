"""How the service drives the locator beyond ``observe``: site, ticks, status, erasure.

The positions half (core/locator.py) is optional in shape: any object with
``observe`` works; ``tick``, ``camera_status``, ``rejections``, ``forget`` and a
``site`` are used when present.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any

from core.messages import Outgoing
from core.observation import Locator, LocatorResult, NullLocator
from core.recent import RecentEvents
from core.srs_config import SrsConfig
from core.status import RepeatLog
from srs.wire import topics
from srs.wire.payloads import CameraStatus, PersonPosition

log = logging.getLogger(__name__)
REJECTION_WINDOW_S = 60.0


def default_locator(cfg: SrsConfig) -> Locator:
    """The real locator with the configured site (or none), else the NullLocator."""
    try:
        from core.locator import Locator as RealLocator
        from core.site import load_site
    except ImportError:
        return NullLocator()
    site = None
    if cfg.core.site_file is not None:
        site = load_site(cfg.core.site_file)  # SiteError: the CLI reports it and exits
    return RealLocator(site, zone_dwell_s=cfg.core.zone_dwell_s)


def outgoing(res: LocatorResult) -> list[Outgoing]:
    out = [Outgoing(topics.position(p.person_key), p, retain=True) for p in res.positions]
    out += [Outgoing(topics.zone_events(), z) for z in res.zone_events]
    out += [Outgoing(topics.alerts(), a) for a in res.alerts]
    return out


HaMessage = tuple[str, bytes, bool]


class LocatorLink:
    def __init__(
        self, locator: Locator, *, homeassistant: bool = False, include_unknown: bool = False
    ) -> None:
        self.locator = locator
        self._say = RepeatLog(log)  # a locator failing every tick: one line, a summary
        self._rejected: deque[tuple[float, int]] = deque()
        self.homeassistant = homeassistant
        self.include_unknown = include_unknown
        self._announced: set[str] = set()
        self._ha_state: dict[str, bytes] = {}  # last state sent per HA object id
        self.recent = RecentEvents()  # zone events and alerts, for a desk signing in

    def ha_messages(self, out: Outgoing) -> list[HaMessage]:
        """Home Assistant discovery/state for a position (plain JSON: HA cannot verify)."""
        if not self.homeassistant or not isinstance(out.payload, PersonPosition):
            return []
        from core import homeassistant as ha

        plan = getattr(getattr(self.locator, "site", None), "plan", None)
        names = {z.zone_id: z.name for z in plan.zones} if plan is not None else {}
        return ha.messages(
            out.payload,
            names,
            announced=self._announced,
            last_state=self._ha_state,
            include_unknown=self.include_unknown,
        )

    def ha_availability(self, online: bool) -> list[HaMessage]:
        """Home Assistant's availability topic: online at connect, offline at stop."""
        if not self.homeassistant:
            return []
        from core import homeassistant as ha

        return [ha.availability(online)]

    def ha_rediscover(self) -> list[HaMessage]:
        """Home Assistant (re)started: every tracker present, announced afresh."""
        if not self.homeassistant:
            return []
        self._announced.clear()
        self._ha_state.clear()
        return [msg for out in self.positions() for msg in self.ha_messages(out)]

    def ha_remove(self, person_key: str) -> list[HaMessage]:
        if not self.homeassistant:
            return []
        from core import homeassistant as ha

        self._announced.discard(ha.object_id(person_key))
        self._ha_state.pop(ha.object_id(person_key), None)
        return ha.remove(person_key)

    def site_message(self) -> Outgoing | None:
        site = getattr(self.locator, "site", None)
        plan = getattr(site, "plan", None)
        return Outgoing(topics.site(), plan, retain=True) if plan is not None else None

    def _call(self, name: str, *args: Any) -> Any:
        fn = getattr(self.locator, name, None)
        if fn is None:
            return None
        try:
            return fn(*args)
        except Exception:  # noqa: BLE001 - a locator's fault must not stop the service
            self._say(
                f"locator.{name} failed", logging.ERROR, "locator.%s failed", name, exc_info=True
            )
            return None

    def tick(
        self, now: float, security_rejections: int, disabled: frozenset[str] = frozenset()
    ) -> list[Outgoing]:
        """Locator tick and rejection-burst check; ``disabled``: cameras switched off."""
        out: list[Outgoing] = []
        self._call("cameras_disabled", disabled, now)
        res = self._call("tick", now)
        if isinstance(res, LocatorResult):
            out += outgoing(res)
        self._rejected.append((now, security_rejections))
        while self._rejected and now - self._rejected[0][0] > REJECTION_WINDOW_S:
            self._rejected.popleft()
        in_window = security_rejections - self._rejected[0][1]
        alerts = self._call("rejections", in_window, now) or []
        out += [Outgoing(topics.alerts(), a) for a in alerts]
        return out

    def camera_status(self, status: CameraStatus, now: float) -> list[Outgoing]:
        alerts = self._call("camera_status", status, now) or []
        return [Outgoing(topics.alerts(), a) for a in alerts]

    def rename(
        self, old_key: str, new_key: str, label: str, now: float, identity: str = "known"
    ) -> list[Outgoing]:
        extra = () if identity == "known" else (identity,)  # older locators take four
        res = self._call("rename", old_key, new_key, label, now, *extra)
        return outgoing(res) if isinstance(res, LocatorResult) else []

    def positions(self) -> list[Outgoing]:
        """Everyone placed now, published retained again.

        RabbitMQ 3.10 sends retained messages only to subscriptions without wildcards:
        a dashboard subscribed to every position would see nobody until they moved.
        Core sends them again when an operator's dashboard announces its key (on each
        connection, once subscribed); other readers get a copy of the same state."""
        people = self._call("people") or []
        return [Outgoing(topics.position(p.person_key), p, retain=True) for p in people]

    def forget(self, person_key: str, now: float) -> list[Outgoing]:
        res = self._call("forget", person_key, now)
        return outgoing(res) if isinstance(res, LocatorResult) else []
