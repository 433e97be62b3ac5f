"""A camera's provisioning bundle: one file with everything a Pi needs to join the site.

``srs camera provision CAM --out CAM.bundle`` (on the server) writes it;
``srs edge install CAM.bundle`` (on the Pi) reads it. It is JSON, mode 0600, and as
secret as what it holds: the camera's private signing key and its broker password.
Copy it to the Pi over SSH and delete it once installed.

Fields (version 1): the camera id; its Ed25519 private key (PKCS#8 PEM); how to
reach the broker (host, TLS port, user name = camera id, password); the site CA
certificate that signed the broker's certificate; core's public key (the node
verifies core's acknowledgements with it); the deployment's token audience; and
``edge``, ``[edge]`` settings written into the Pi's srs.toml (the source, say).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from srs.wire.keys import public_key_from_b64
from srs.wire.topics import TopicError, check_id

FORMAT: Literal["srs-camera-bundle"] = "srs-camera-bundle"
MAX_BYTES = 64 * 1024


class BundleError(ValueError):
    """The file is not a usable camera bundle (one sentence)."""


class BundleBroker(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    host: Annotated[str, Field(min_length=1, max_length=253)]
    port: Annotated[int, Field(ge=1, le=65535)]
    username: str
    password: SecretStr


class CameraBundle(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["srs-camera-bundle"] = FORMAT
    version: Literal[1] = 1
    camera_id: str
    private_key_pem: SecretStr
    broker: BundleBroker
    ca_pem: Annotated[str, Field(min_length=1, max_length=16 * 1024)]
    core_public_key: str
    audience: Annotated[str, Field(min_length=1, max_length=64)] = "srs"
    edge: dict[str, Any] = Field(default_factory=dict)

    @field_validator("camera_id")
    @classmethod
    def _camera_id(cls, v: str) -> str:
        try:
            return check_id(v, "camera id")
        except TopicError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("core_public_key")
    @classmethod
    def _core_key(cls, v: str) -> str:
        public_key_from_b64(v)
        return v.strip()

    @field_validator("ca_pem")
    @classmethod
    def _ca(cls, v: str) -> str:
        if "-----BEGIN CERTIFICATE-----" not in v:
            raise ValueError("the CA must be a PEM certificate")
        return v

    def dumps(self) -> str:
        data = self.model_dump(mode="json")
        data["private_key_pem"] = self.private_key_pem.get_secret_value()
        data["broker"]["password"] = self.broker.password.get_secret_value()
        return json.dumps(data, indent=2) + "\n"

    def save(self, path: Path) -> None:
        """Write it with mode 0600 (it holds the key and the password)."""
        tmp = path.with_name(f".{path.name}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            os.fchmod(fh.fileno(), 0o600)
            fh.write(self.dumps())
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> CameraBundle:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise BundleError(f"no bundle at {path}") from None
        if len(raw) > MAX_BYTES:
            raise BundleError(f"{path} is too large for a camera bundle")
        try:
            return cls.model_validate_json(raw)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}"
                for e in exc.errors()[:5]
            )
            raise BundleError(f"{path} is not a camera bundle ({problems})") from None
