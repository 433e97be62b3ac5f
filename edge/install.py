"""``srs edge install CAM.bundle``: a Pi joins the site from one file.

Writes, from the bundle ``srs camera provision`` made on the server (srs/bundle.py):

* ``/etc/srs/srs.toml`` - the broker's address over TLS, the CA, the camera id and
  the ``[edge]`` settings of the bundle (not replaced when someone else wrote it);
* ``/etc/srs/ca.pem`` - the site CA; ``/etc/srs/edge-CAM.env`` - the broker password
  (0600, the service user's);
* ``/var/lib/srs/keys/camera-CAM.key`` (0600) and ``core.key.pub`` - the camera's
  signing key and core's public key (to verify acknowledgements), owned by the
  service user like the rest of ``/var/lib/srs``;
* ``/etc/systemd/system/srs-edge@.service`` - the unit, run by this installation's
  ``srs``; then ``systemctl enable srs-edge@CAM`` and (re)start it.

Idempotent: what is already as it should be is left alone and said so. With
``--root DIR`` every path is under DIR and nothing is enabled or started (an image
being prepared, a test); ``--dry-run`` prints what would be done and changes nothing.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from srs.bundle import BundleError, CameraBundle
from srs.wire.keys import public_key_to_b64

MARKER = "# Written by `srs edge install`"
UNIT_NAME = "srs-edge@.service"
UNIT_TEMPLATE = Path(__file__).resolve().parents[1] / "systemd" / UNIT_NAME
INSTALLED_SRS = "/opt/srs/.venv/bin/srs"
SERVICE_USER = "srs"


@dataclass(frozen=True)
class FileSpec:
    path: Path  # under the root
    data: bytes
    mode: int
    service_owned: bool  # the service user's, else root's
    secret: bool = False
    replace_foreign: bool = True  # False: keep a file someone else wrote


@dataclass(frozen=True)
class DirSpec:
    path: Path
    mode: int
    service_owned: bool


def _toml_str(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def config_text(bundle: CameraBundle) -> str:
    b = bundle.broker
    lines = [
        f"{MARKER} from the bundle of camera {bundle.camera_id};",
        "# `srs edge install` rewrites it; remove this first line to keep your edits.",
        'data_dir = "/var/lib/srs"',
        "",
        "[mqtt]",
        f"host = {_toml_str(b.host)}",
        f"port = {b.port}",
        f"username = {_toml_str(b.username)}",
        "# The password is in /etc/srs/edge-<camera>.env (SRS_MQTT__PASSWORD).",
        "tls = true",
        'ca_file = "/etc/srs/ca.pem"',
        "",
        "[security]",
        f"audience = {_toml_str(bundle.audience)}",
        "",
        "[edge]",
        f"camera_id = {_toml_str(bundle.camera_id)}",
        *(f"{k} = {_toml_str(v)}" for k, v in sorted(bundle.edge.items())),
    ]
    return "\n".join(lines) + "\n"


def unit_text(srs_bin: Path) -> str:
    if not UNIT_TEMPLATE.is_file():
        raise FileNotFoundError(
            f"the unit template {UNIT_TEMPLATE} is missing: install SRS from its source "
            "tree (see docs/deploy.md)"
        )
    return UNIT_TEMPLATE.read_text().replace(INSTALLED_SRS, str(srs_bin))


def plan(bundle: CameraBundle, root: Path, srs_bin: Path) -> tuple[list[DirSpec], list[FileSpec]]:
    cam = bundle.camera_id
    pem = bundle.private_key_pem.get_secret_value().encode()
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except ValueError:
        raise BundleError("the bundle's private key is not a PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise BundleError("the bundle's private key is not an Ed25519 key")
    public_b64 = public_key_to_b64(key.public_key())
    etc, var = root / "etc" / "srs", root / "var" / "lib" / "srs"
    dirs = [
        DirSpec(etc, 0o755, False),
        DirSpec(var, 0o750, True),
        DirSpec(var / "keys", 0o700, True),
        DirSpec(var / "edge", 0o750, True),
        DirSpec(root / "etc" / "systemd" / "system", 0o755, False),
    ]
    password = bundle.broker.password.get_secret_value()
    files = [
        FileSpec(etc / "srs.toml", config_text(bundle).encode(), 0o644, False, False, False),
        FileSpec(etc / "ca.pem", bundle.ca_pem.encode(), 0o644, False),
        FileSpec(
            etc / f"edge-{cam}.env", f"SRS_MQTT__PASSWORD={password}\n".encode(), 0o600, True, True
        ),
        FileSpec(var / "keys" / f"camera-{cam}.key", pem, 0o600, True, True),
        FileSpec(var / "keys" / f"camera-{cam}.key.pub", f"{public_b64}\n".encode(), 0o644, True),
        FileSpec(
            var / "keys" / "core.key.pub", f"{bundle.core_public_key}\n".encode(), 0o644, True
        ),
        FileSpec(
            root / "etc" / "systemd" / "system" / UNIT_NAME,
            unit_text(srs_bin).encode(),
            0o644,
            False,
        ),
    ]
    return dirs, files


class Installer:
    def __init__(
        self,
        bundle: CameraBundle,
        *,
        root: Path = Path("/"),
        user: str = SERVICE_USER,
        dry_run: bool = False,
        srs_bin: Path | None = None,
        say: Callable[[str], None] = print,
    ) -> None:
        self.bundle, self.root, self.user, self.dry_run = bundle, root, user, dry_run
        self.srs_bin = srs_bin or Path(sys.executable).parent / "srs"
        self.staged = root.resolve() != Path("/")
        self._say = say
        self.changed = 0

    def say(self, line: str) -> None:
        self._say(("would: " if self.dry_run else "") + line)

    def _ids(self) -> tuple[int, int] | None:
        """The service user's uid/gid; None when we cannot chown (not root)."""
        try:
            entry = pwd.getpwnam(self.user)
        except KeyError:
            if self.dry_run:
                return None
            raise ValueError(
                f"there is no user {self.user!r} on this machine: create it "
                f"(`useradd --system --home-dir /var/lib/srs --groups video {self.user}`) "
                "or name another with --user"
            ) from None
        if os.geteuid() != 0:
            return None
        return entry.pw_uid, entry.pw_gid

    def run(self) -> int:
        if not self.staged and not self.dry_run:
            self._ensure_user()
        ids = self._ids()
        if ids is None and not self.dry_run:
            self._say(f"note: not root, so the files stay yours (not {self.user}'s)")
        dirs, files = plan(self.bundle, self.root, self.srs_bin)
        for d in dirs:
            self._dir(d, ids)
        for f in files:
            self._file(f, ids)
        if self.staged:
            self._say(
                f"nothing enabled under --root {self.root}; on the Pi: "
                f"systemctl enable --now srs-edge@{self.bundle.camera_id}"
            )
        else:
            self._systemd()
        return 0

    def _ensure_user(self) -> None:
        try:
            pwd.getpwnam(self.user)
        except KeyError:
            cmd = ["useradd", "--system", "--home-dir", "/var/lib/srs", "--no-create-home"]
            cmd += ["--shell", "/usr/sbin/nologin", "--groups", "video", self.user]
            self.say(" ".join(cmd))
            subprocess.run(cmd, check=True)

    def _owner(self, service_owned: bool, ids: tuple[int, int] | None) -> tuple[int, int] | None:
        if ids is None:
            return None
        return ids if service_owned else (0, 0)

    def _dir(self, d: DirSpec, ids: tuple[int, int] | None) -> None:
        owner = self._owner(d.service_owned, ids)
        if d.path.is_dir():
            st = d.path.stat()
            if owner is None or (st.st_uid, st.st_gid) == owner:
                return
            self.say(f"chown {d.path}")
        else:
            self.say(f"create {d.path}/ (mode {d.mode:o})")
            if not self.dry_run:
                d.path.mkdir(mode=d.mode, parents=True)
                os.chmod(d.path, d.mode)
        if not self.dry_run and owner is not None:
            os.chown(d.path, *owner)
        self.changed += 1

    def _file(self, f: FileSpec, ids: tuple[int, int] | None) -> None:
        owner = self._owner(f.service_owned, ids)
        what = f"{f.path} (mode {f.mode:o}{', secret' if f.secret else ''})"
        if f.path.exists():
            st = f.path.stat()
            same = f.path.read_bytes() == f.data and (st.st_mode & 0o777) == f.mode
            if same and (owner is None or (st.st_uid, st.st_gid) == owner):
                self._say(f"unchanged {f.path}")
                return
            if not f.replace_foreign and not f.path.read_text().startswith(MARKER):
                self._say(
                    f"kept {f.path}: someone else wrote it; make sure it says what "
                    f"{self.bundle.camera_id}'s bundle does:\n" + config_text(self.bundle)
                )
                return
            self.say(f"replace {what}")
        else:
            self.say(f"write {what}")
        self.changed += 1
        if self.dry_run:
            return
        tmp = f.path.with_name(f".{f.path.name}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, f.mode)
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), f.mode)
            if owner is not None:
                os.fchown(fh.fileno(), *owner)
            fh.write(f.data)
        os.replace(tmp, f.path)

    def _systemd(self) -> None:
        unit = f"srs-edge@{self.bundle.camera_id}"
        systemctl = shutil.which("systemctl")
        if systemctl is None:
            self._say(
                "no systemctl here: start the node with `srs edge --camera-id "
                f"{self.bundle.camera_id} --config /etc/srs/srs.toml`"
            )
            return
        steps = [["daemon-reload"], ["enable", "--now", unit]]
        if self.changed:  # new secrets or settings: the running node must read them
            steps.append(["restart", unit])
        for args in steps:
            self.say("systemctl " + " ".join(args))
            if not self.dry_run:
                subprocess.run([systemctl, *args], check=True)
