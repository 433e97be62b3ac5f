"""The core database: open it, and the operations every SRS part may call.

db = open_store(cfg)               # migrates to the newest schema
with db.session() as s:            # one transaction
    add_camera(s, "cam1", public_key_b64)
import_people(db, Path("faces/train"))
"""

from __future__ import annotations

from core.store.audit import audit, audit_entries
from core.store.cameras import (
    CameraInfo,
    add_camera,
    camera_keys,
    list_cameras,
    remove_camera,
    set_camera_enabled,
)
from core.store.db import Database, database_url, migrate, open_database
from core.store.errors import StoreError
from core.store.identities import Merged, merge_close_identities, merge_keys, split_identity
from core.store.people import (
    PersonInfo,
    add_encodings,
    delete_person,
    find_person,
    get_or_create_person,
    list_people,
    merge_people,
    name_identity,
    reject_sighting,
    rename_person,
)
from core.store.sightings import query_sightings

open_store = open_database


__all__ = [
    "CameraInfo",
    "Database",
    "Merged",
    "PersonInfo",
    "StoreError",
    "add_camera",
    "add_encodings",
    "audit",
    "audit_entries",
    "camera_keys",
    "database_url",
    "delete_person",
    "find_person",
    "get_or_create_person",
    "list_cameras",
    "list_people",
    "merge_close_identities",
    "merge_keys",
    "merge_people",
    "migrate",
    "name_identity",
    "open_database",
    "open_store",
    "query_sightings",
    "reject_sighting",
    "remove_camera",
    "rename_person",
    "set_camera_enabled",
    "split_identity",
]
