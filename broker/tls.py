"""The site's private certificate authority and the broker's certificate.

``srs init`` creates both in ``<data dir>/tls/``:

* ``ca.pem`` / ``ca.key`` - the site's own CA (ECDSA P-256, 10 years). ``ca.pem`` is
  what every client trusts (camera bundles carry it); ``ca.key`` never leaves the
  server.
* ``broker.pem`` / ``broker.key`` - the broker's certificate, signed by that CA, for
  the names and addresses clients use to reach it (``--tls-name``; this host's names
  and loopback always). Re-issued by ``srs init`` when a name is missing or it
  expires within 30 days.

P-256 rather than Ed25519: every TLS stack SRS meets (Python's ssl on a Pi,
Mosquitto, mosquitto_sub, MQTT libraries of home-automation hubs) speaks it.
Without a configured ``[broker] cert_file`` the broker uses these files when they
exist, so a site is TLS by default after ``srs init``.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from broker.srs_config import SrsConfig
from srs.files import adopt_owner, make_dirs

CA_DAYS = 3650
CERT_DAYS = 825  # the longest a public CA may issue; renewed by `srs init` anyway
RENEW_BEFORE = dt.timedelta(days=30)
LOOPBACK = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class TlsFiles:
    ca_cert: Path
    ca_key: Path
    cert: Path
    key: Path


def tls_files(cfg: SrsConfig) -> TlsFiles:
    d = cfg.data_dir / "tls"
    return TlsFiles(d / "ca.pem", d / "ca.key", d / "broker.pem", d / "broker.key")


def server_cert(cfg: SrsConfig) -> tuple[Path, Path] | None:
    """(certificate, key) the broker listens with: ``[broker]`` cert_file/key_file when
    set, else the ones ``srs init`` made; None when there are neither."""
    b = cfg.broker
    if b.cert_file or b.key_file:
        if not (b.cert_file and b.key_file):
            raise ValueError("[broker] needs both cert_file and key_file for TLS, not just one")
        return b.cert_file, b.key_file
    files = tls_files(cfg)
    if files.cert.is_file() and files.key.is_file():
        return files.cert, files.key
    return None


def default_names() -> list[str]:
    names = {socket.gethostname(), socket.getfqdn(), *LOOPBACK}
    return sorted(n for n in names if n)


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    data = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write(path, data, 0o600)


def _write(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as fh:
        os.fchmod(fh.fileno(), mode)
        adopt_owner(fh.fileno(), path.parent)
        fh.write(data)
    os.replace(tmp, path)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "SRS site"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def ensure_ca(files: TlsFiles) -> bool:
    """Create the CA unless it exists; True when created."""
    if files.ca_cert.is_file() and files.ca_key.is_file():
        return False
    make_dirs(files.ca_cert.parent, 0o750)
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    name = _name(f"SRS site CA {socket.gethostname()}")
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_key(files.ca_key, key)
    _write(files.ca_cert, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return True


def _san(names: Iterable[str]) -> list[x509.GeneralName]:
    out: list[x509.GeneralName] = []
    for n in dict.fromkeys(names):
        try:
            out.append(x509.IPAddress(ipaddress.ip_address(n)))
        except ValueError:
            out.append(x509.DNSName(n))
    return out


def covered_names(cert_path: Path) -> set[str]:
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {str(v) for v in san.get_values_for_type(x509.DNSName)} | {
        str(v) for v in san.get_values_for_type(x509.IPAddress)
    }


def ensure_broker_cert(files: TlsFiles, names: Iterable[str]) -> bool:
    """Issue the broker's certificate for ``names`` (plus this host and loopback) unless
    a valid one already covers them; True when (re)issued."""
    wanted = list(dict.fromkeys([*names, *default_names()]))
    if files.cert.is_file() and files.key.is_file():
        cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
        fresh = cert.not_valid_after_utc - dt.datetime.now(dt.UTC) > RENEW_BEFORE
        if fresh and set(_san(wanted)) <= set(_san(covered_names(files.cert))):
            return False
        wanted = list(dict.fromkeys([*wanted, *covered_names(files.cert)]))  # keep old names
    ca_key = serialization.load_pem_private_key(files.ca_key.read_bytes(), None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{files.ca_key} is not the EC key srs init makes")
    ca_cert = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(wanted[0]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CERT_DAYS))
        .add_extension(x509.SubjectAlternativeName(_san(wanted)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write_key(files.key, key)
    _write(files.cert, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return True


def fingerprint(cert_path: Path) -> str:
    """SHA-256 fingerprint, as ``openssl x509 -fingerprint -sha256`` prints it."""
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    return ":".join(f"{b:02X}" for b in cert.fingerprint(hashes.SHA256()))
