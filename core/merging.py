"""Anonymous identities that turned out to be one person become one.

Every ``merge_interval_s`` the ingest asks the store to merge identities whose
centroids came within ``merge_distance`` and that were never seen together
(core.store.identities.merge_close_identities); tracks holding a merged identity
continue as the one it merged into, and the live view republishes the merged key.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from core.locating import outgoing
from core.messages import Outgoing
from core.observation import Locator
from core.srs_config import SrsConfig
from core.store.db import Database
from core.store.identities import merge_close_identities
from core.track_identity import TrackBook

log = logging.getLogger(__name__)


class Merging(Protocol):
    """What merging reads and changes of core's state (core.ingest.Ingest holds it)."""

    cfg: SrsConfig
    db: Database
    clock: Callable[[], float]
    tracks: TrackBook
    locator: Locator

    def refresh(
        self, force: bool = False, check_now: bool = False, keep_votes: bool = False
    ) -> None: ...


def merge_identities(ing: Merging) -> list[Outgoing]:
    """Merge what is close; the live view's renamed positions (after a commit: nothing
    here may cost a batch its acks, so failures are logged, not raised)."""
    core = ing.cfg.core
    try:
        with ing.db.session() as s:
            merged = merge_close_identities(
                s,
                core.merge_distance,
                core.walking_speed_mps,
                core.travel_slack_m,
                # identities seen lately: only their centroids can have moved
                seen_since=ing.clock() - 2 * core.merge_interval_s - 60.0,
            )
    except Exception:
        log.exception("merging close anonymous identities failed; next time, then")
        return []
    if not merged:
        return []
    log.info(
        "merged anonymous identities: %s",
        ", ".join(f"{m.old_key} into {m.new_key}" for m in merged),
    )
    ing.tracks.remap_unknown({int(m.old_key[1:]): int(m.new_key[1:]) for m in merged})
    ing.refresh(force=True, keep_votes=True)
    rename = getattr(ing.locator, "rename", None)
    if rename is None:
        return []
    out: list[Outgoing] = []
    for m in merged:
        try:
            res = rename(m.old_key, m.new_key, m.label, ing.clock(), m.identity)
        except Exception:
            log.exception(
                "the locator could not rename %s; it shows on the next sighting", m.old_key
            )
            continue
        out.extend(outgoing(res))
    return out
