"""`srs person / camera / sightings` through the real CLI entry point."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from core import store
from srs.app.cli import main
from srs.mqtt import make_client
from srs.wire import topics
from srs.wire.payloads import PersonPosition
from srs.wire.signing import SigningKey, sign
from tests.core.ingest_helpers import core_config, face_data
from tests.core.test_service import Listener


def run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_person_import_list_rename_and_sightings(tmp_path, capsys, media):
    d = str(tmp_path)
    rc, _, err = run(
        capsys,
        "person",
        "add",
        "Pair",
        str(media / "faces/test/kit_with_rose.jpg"),
        "--data-dir",
        d,
    )
    assert rc == 1  # two faces: reported, not guessed
    rc, out, _ = run(
        capsys, "person", "import", str(media / "faces/train"), "--json", "--data-dir", d
    )
    assert rc == 0
    assert {e["name"]: e["encoded"] for e in json.loads(out)} == {
        "alex_lacamoire": 1,
        "biden": 2,
        "kit_harington": 2,
        "obama": 2,
        "rose_leslie": 2,
    }
    assert run(capsys, "person", "rename", "obama", "Barack Obama", "--data-dir", d)[0] == 0
    rc, out, _ = run(capsys, "person", "list", "--json", "--data-dir", d)
    assert "Barack Obama" in [p["name"] for p in json.loads(out)]
    rc, out, _ = run(capsys, "sightings", "--since", "1h", "--json", "--data-dir", d)
    assert rc == 0 and json.loads(out) == []
    rc, _, err = run(capsys, "sightings", "--person", "nobody", "--data-dir", d)
    assert rc == 1 and "no person 'nobody'" in err


def _retain(cfg, key: SigningKey, person_key: str, label: str) -> None:
    topic = topics.position(person_key)
    pos = PersonPosition(
        person_key=person_key,
        identity="known",
        label=label,
        x=1,
        y=2,
        confidence=1,
        last_seen=time.time(),
        cameras=["cam1"],
    )
    pub = make_client(cfg.mqtt, "core:test")
    pub.connect(cfg.mqtt.host, cfg.mqtt.port)
    pub.loop_start()
    pub.publish(topic, sign(pos, topic, key), qos=1, retain=True).wait_for_publish(5)
    pub.disconnect()
    pub.loop_stop()


def test_person_delete_clears_the_retained_position(tmp_path, capsys, srs_broker):
    cfg = core_config(tmp_path, srs_broker.client_config("core", "core"))
    db = store.open_store(cfg)
    with db.session() as s:
        ada, _ = store.get_or_create_person(s, "Ada")
        store.add_encodings(s, ada, [np.array(face_data()["test/obama1.jpg"][0][1])])
    db.close()
    # What a running core would have left retained for Ada and for someone else.
    core_key = SigningKey.generate("core")
    _retain(cfg, core_key, f"p{ada.id}", "Ada")
    _retain(cfg, core_key, "p999", "Bob")
    toml = tmp_path / "srs.toml"
    assert cfg.mqtt.password is not None
    toml.write_text(
        f'data_dir = "{tmp_path}"\n[mqtt]\nhost = "{cfg.mqtt.host}"\n'
        f'port = {cfg.mqtt.port}\nusername = "core"\n'
        f'password = "{cfg.mqtt.password.get_secret_value()}"\n'
    )
    rc, out, _ = run(capsys, "person", "delete", "Ada", "--json", "--config", str(toml))
    erased = json.loads(out)
    assert rc == 0 and erased["position_cleared"] is True and erased["encodings"] == 1
    watch = Listener(
        srs_broker.client_config("gui1", "operator"),
        "gui1",
        [topics.ALL_POSITIONS],
        core_key.public_key_b64,
    )
    try:
        bob = watch.next(PersonPosition, topic_filter=topics.ALL_POSITIONS)
        retained = [m for m in list(watch.inbox.queue) if m[1]]
    finally:
        watch.close()
    assert bob.label == "Bob" and retained == []


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("a" * 10_000, "1 to 128 characters"),
        ("a" * 129, "1 to 128 characters"),
        ("   ", "1 to 128 characters"),
        ("Eve\nroot", "control characters"),
        ("\x1b[2J", "control characters"),
        ("p1", "look like a key"),
        ("2", "look like a key"),
    ],
)
def test_person_add_refuses_a_bad_name_in_one_line(tmp_path, capsys, media, name, rule):
    image = str(media / "faces/train/obama/obama.jpg")
    rc, out, err = run(capsys, "person", "add", name, image, "--data-dir", str(tmp_path))
    assert rc == 1 and out == ""
    assert err.count("\n") == 1 and rule in err and "Traceback" not in err


def test_a_key_on_the_command_line_is_always_a_key(tmp_path, capsys, media):
    """Names cannot look like keys, so `rename p1` can only mean the person p1."""
    d = str(tmp_path)
    train = media / "faces/train"
    assert (
        run(capsys, "person", "add", "Obama", str(train / "obama/obama.jpg"), "--data-dir", d)[0]
        == 0
    )
    assert (
        run(capsys, "person", "add", "Biden", str(train / "biden/biden.jpg"), "--data-dir", d)[0]
        == 0
    )
    rc, _, err = run(capsys, "person", "rename", "Biden", "p1", "--data-dir", d)
    assert rc == 1 and "look like a key" in err
    rc, _, err = run(capsys, "person", "rename", "p2", "Joe\x1b[31m", "--data-dir", d)
    assert rc == 1 and "control characters" in err
    assert run(capsys, "person", "rename", "p1", "Barack", "--data-dir", d)[0] == 0
    rc, out, _ = run(capsys, "person", "list", "--json", "--data-dir", d)
    assert {p["key"]: p["name"] for p in json.loads(out)} == {"p1": "Barack", "p2": "Biden"}


def test_import_skips_a_badly_named_folder_and_enrols_the_rest(tmp_path, capsys, media):
    root = tmp_path / "faces"
    for folder, src in (("p7", "obama/obama.jpg"), ("Joe", "biden/biden.jpg")):
        (root / folder).mkdir(parents=True)
        (root / folder / "a.jpg").write_bytes((media / "faces/train" / src).read_bytes())
    rc, out, _ = run(
        capsys, "person", "import", str(root), "--json", "--data-dir", str(tmp_path / "d")
    )
    entries = {e["name"]: e for e in json.loads(out)}
    assert rc == 1  # not everyone was enrolled
    assert entries["Joe"]["encoded"] == 1 and entries["Joe"]["key"] == "p1"
    assert entries["p7"]["encoded"] == 0 and "key" not in entries["p7"]
    assert "look like a key" in entries["p7"]["problems"][0]["problem"]
