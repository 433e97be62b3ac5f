"""Guard against a PySide6 6.12 reference-counting bug on Python 3.11.

PySide6 6.12.0 returns ``None`` from every void method (``setText``, ``setPos``,
``setPen``...) and ``True`` from ``Signal.emit`` without a new reference, so each call
steals one reference from that singleton; a busy dashboard makes thousands per second
and aborts within minutes with "Fatal Python error: none_dealloc" (or bool_dealloc).
Python 3.12+ makes these singletons immortal (PEP 683); on older Pythons this module
gives ``None``, ``True`` and ``False`` the same protection once, at import, by adding
a reference count no program can spend. Every GUI module imports it before
using Qt. Remove it when the requirements exclude the affected PySide6 versions.
"""

from __future__ import annotations

import ctypes
import logging
import sys

import PySide6

log = logging.getLogger(__name__)

AFFECTED = ("6.12.",)
_PROTECTION = 1 << 40  # a trillion stolen references before it could matter


def protect_none(version: str = PySide6.__version__) -> bool:
    """Apply the protection if this PySide6/Python pair needs it; True if applied."""
    if sys.version_info >= (3, 12) or not version.startswith(AFFECTED):
        return False
    if getattr(protect_none, "applied", False):
        return True
    for singleton in (None, True, False):
        ctypes.c_ssize_t.from_address(id(singleton)).value += _PROTECTION
    protect_none.applied = True  # type: ignore[attr-defined]
    log.debug("PySide6 %s on Python %s: None/True/False protected from stolen references",
              version, sys.version.split()[0])
    return True


protect_none()
