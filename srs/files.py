"""Files in a data dir keep the data dir's owner, whoever writes them.

The services run as the dedicated user ``srs``; an administrator runs ``srs user
add``, ``srs camera provision`` or ``srs init`` as root. A file root creates there
(a new ``users.json``, a key, the SQLite journal) would be root's, 0600, and the
service could no longer read it: the broker then refuses every client. So what a
root process creates in a directory takes that directory's owner and group; modes
are whatever the writer chose (0600 for secrets). A process that is not root
changes nothing (it cannot, and what it creates is its own anyway).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def _is_root() -> bool:
    return os.geteuid() == 0


def adopt_owner(path: Path | str | int, like: Path) -> None:
    """Give ``path`` (or an open fd) the owner and group of ``like``, when root."""
    if not _is_root():
        return
    st = os.stat(like)
    if isinstance(path, int):
        cur = os.fstat(path)
        if (cur.st_uid, cur.st_gid) != (st.st_uid, st.st_gid):
            os.fchown(path, st.st_uid, st.st_gid)
        return
    cur = os.lstat(path)
    if (cur.st_uid, cur.st_gid) != (st.st_uid, st.st_gid):
        os.lchown(path, st.st_uid, st.st_gid)


def make_dirs(path: Path, mode: int = 0o750) -> None:
    """``mkdir -p`` where each new directory takes its parent's owner (when root)."""
    missing = []
    at = Path(path)
    while not at.exists():
        missing.append(at)
        if at.parent == at:
            break
        at = at.parent
    for d in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            d.mkdir(mode=mode)
            adopt_owner(d, d.parent)


def keep_owner(root: Path) -> int:
    """Give everything root owns under ``root`` the owner of ``root`` (when it is not
    root's own); return how many entries changed. Run after a command as root."""
    if not _is_root() or not root.is_dir():
        return 0
    st = root.stat()
    if st.st_uid == 0:
        return 0
    changed = 0
    for parent, dirs, files in os.walk(root):
        for name in (*dirs, *files):
            p = os.path.join(parent, name)
            with contextlib.suppress(FileNotFoundError):
                if os.lstat(p).st_uid == 0:
                    os.lchown(p, st.st_uid, st.st_gid)
                    changed += 1
    return changed
