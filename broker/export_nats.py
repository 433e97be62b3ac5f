"""``srs broker export --format nats``: the same users and rules for NATS 2.9's MQTT gateway.

NATS (Debian's ``nats-server``) is a clustered engine: several servers share the
MQTT sessions and retained messages through JetStream. It writes one file,
``nats-server.conf``, plus the broker certificate when SRS has one:

* the MQTT listener from ``[broker]`` (TLS on ``tls_port`` when the broker has a
  certificate, else plaintext on ``port``, loopback unless ``plaintext_on_network``),
  and JetStream, which NATS's MQTT needs, storing under the export directory;
* one ``authorization`` user per SRS user with that role's rules translated to NATS
  subjects (``/`` -> ``.``, ``+`` -> ``*``, ``#`` -> ``>`` plus the parent level, as
  NATS subscribes both for an MQTT ``#``), and the bcrypt hash
  :class:`~broker.users.UserStore` keeps (NATS reads no other kind);
* every user may also subscribe ``$MQTT.sub.>``: NATS delivers each QoS 1
  subscription through a JetStream consumer on such a subject, created in the
  client's name, and refuses the subscription without it. NATS itself refuses MQTT
  clients any topic under ``$MQTT/``, and ``allowed_connection_types: ["MQTT"]``
  keeps the same credentials off the plain NATS port, where that permission would
  read every client's deliveries;
* no client-id rule: NATS has none (see docs/broker.md). A client that reuses
  another's id takes its session over, but only with its own permissions.

NATS reads the file again on SIGHUP (``systemctl reload nats-server``) as its own
user (``nats`` on Debian), so the files go to ``owner`` as for Mosquitto.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from broker.acl import rules_for
from broker.config import is_loopback
from broker.export import _write, owner_ids
from broker.srs_config import SrsConfig
from broker.tls import server_cert
from broker.users import BOOTSTRAP_ROLE, UserStore

log = logging.getLogger(__name__)

NATS_USER = "nats"
CONF_NAME = "nats-server.conf"
# The NATS protocol port, for the administrator's tools only (no SRS user may use it).
NATS_PORT = 4222
# NATS delivers each QoS 1 MQTT subscription through a consumer on this subject.
MQTT_DELIVERY = "$MQTT.sub.>"
RELOAD_HINT = (
    "reload a running NATS with `systemctl reload nats-server` (or "
    "`kill -HUP $(pidof nats-server)`); a changed listener or certificate needs a restart"
)


def subjects(topic_filter: str) -> list[str]:
    """The NATS subjects an MQTT filter becomes (``a/#`` is ``a.>`` and ``a``)."""
    levels = ["*" if lv == "+" else ">" if lv == "#" else lv for lv in topic_filter.split("/")]
    out = [".".join(levels)]
    if levels[-1] == ">" and len(levels) > 1:
        out.append(".".join(levels[:-1]))
    return out


def _q(value: object) -> str:
    """A NATS config value (its parser reads JSON strings, numbers and lists)."""
    return json.dumps(value)


def users_text(store: UserStore) -> tuple[str, list[str]]:
    """The ``users`` entries, and the names left out (no bcrypt hash to give NATS)."""
    entries: list[str] = []
    skipped: list[str] = []
    hashes = store.nats_hashes()
    for user in store.list():
        if user.role == BOOTSTRAP_ROLE:
            continue  # one-time and expiring: NATS cannot honour that (see users.py)
        digest = hashes.get(user.name)
        if digest is None:
            skipped.append(user.name)
            continue
        rules = rules_for(user.role, user.name)
        publish = [s for f in rules.publish for s in subjects(f)]
        subscribe = [MQTT_DELIVERY, *(s for f in rules.subscribe for s in subjects(f))]
        lines = [
            f"    # role {user.role}",
            "    {",
            f"      user: {_q(user.name)}",
            f"      password: {_q(digest)}",
            '      allowed_connection_types: ["MQTT"]',
            "      permissions: {",
            # An empty allow list would mean "anything": deny all instead.
            f"        publish: {{allow: {_q(publish)}}}"
            if publish
            else '        publish: {deny: [">"]}',
            f"        subscribe: {{allow: {_q(list(dict.fromkeys(subscribe)))}}}",
            "      }",
            "    }",
        ]
        entries.append("\n".join(lines))
    return "\n".join(entries), skipped


def conf_text(
    cfg: SrsConfig, store: UserStore, out: Path, tls: bool, nats_port: int = NATS_PORT
) -> tuple[str, list[str]]:
    b = cfg.broker
    users, skipped = users_text(store)
    if tls:
        listen = f"{b.bind}:{b.tls_port}"
        tls_block = [
            "  tls {",
            f"    cert_file: {_q(str(out / 'broker.pem'))}",
            f"    key_file: {_q(str(out / 'broker.key'))}",
            "  }",
        ]
    else:
        host = b.bind if is_loopback(b.bind) or b.plaintext_on_network else "127.0.0.1"
        listen, tls_block = f"{host}:{b.port}", []
    text = "\n".join(
        [
            "# NATS 2.9 configuration generated by `srs broker export --format nats`;",
            "# edit users with `srs user` and export again.",
            'server_name: "srs"',
            "# The NATS protocol port, for administration only: SRS users may connect",
            "# over MQTT alone (allowed_connection_types).",
            f"listen: {_q(f'127.0.0.1:{nats_port}')}",
            "# Largest message on the NATS port. NATS 2.9 applies no limit to MQTT",
            "# publishes: SRS's readers refuse bigger ones themselves (docs/broker.md).",
            f"max_payload: {b.max_payload_bytes}",
            "# NATS keeps MQTT sessions and retained messages in JetStream.",
            f"jetstream {{ store_dir: {_q(str(out / 'jetstream'))} }}",
            "mqtt {",
            f"  listen: {_q(listen)}",
            *tls_block,
            "}",
            "# Anything not listed is denied.",
            "authorization {",
            "  users: [",
            users,
            "  ]",
            "}",
        ]
    )
    return text + "\n", skipped


def export_nats(
    cfg: SrsConfig,
    store: UserStore,
    out: Path,
    owner: str | None = None,
    nats_port: int = NATS_PORT,
) -> tuple[list[Path], list[str]]:
    """Write nats-server.conf (and the certificate) into ``out``, owned by ``owner``
    when given; return the paths (the config last) and the users left out."""
    ids = owner_ids(owner)
    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    (out / "jetstream").mkdir(exist_ok=True)
    if ids is not None:  # NATS writes its JetStream store here
        os.chown(out, *ids)
        os.chown(out / "jetstream", *ids)
    cert = server_cert(cfg)
    files: list[tuple[Path, str, int]] = []
    if cert is not None:  # copies NATS's user can read (the originals are srs's)
        files += [
            (out / "broker.pem", cert[0].read_text(), 0o644),
            (out / "broker.key", cert[1].read_text(), 0o600),
        ]
    conf, skipped = conf_text(cfg, store, out, cert is not None, nats_port)
    # 0600: the bcrypt hashes are in it.
    files.append((out / CONF_NAME, conf, 0o600))
    for path, text, mode in files:
        _write(path, text, mode, ids)
    for name in skipped:
        log.warning(
            "user %s has no bcrypt hash (added before SRS kept one, or a password over "
            "72 bytes): set its password again with `srs user passwd %s` to export it",
            name,
            name,
        )
    return [path for path, _, _ in files], skipped
