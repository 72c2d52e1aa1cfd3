"""Two processes on one development key file (``serve`` beside ``worker``, or ``keys rotate`` run
while the demo serves): they make one file between them, and a key one of them adds is taken in by
the other without a restart.  Two apps built in this process stand in for the two processes."""

from __future__ import annotations

import threading
import time

from app import create_app
from app.models.base import keyring
from app.security.crypto import aad_for
from app.security.keys import add_key_to_file, ensure_key_file
from config import TestConfig


def _overrides(tmp_path) -> dict:
    return dict(XUEJI_ENCRYPTION_KEYS=None, XUEJI_BLIND_INDEX_KEY=None, SECRET_KEY=None,
                XUEJI_KEY_FILE=str(tmp_path / "keys.json"), INSTANCE_DIR=str(tmp_path),
                SQLALCHEMY_DATABASE_URI="sqlite://")


def test_processes_starting_at_once_on_a_fresh_instance_make_one_key_file(tmp_path):
    path, n = tmp_path / "keys.json", 12
    barrier, found = threading.Barrier(n), [None] * n

    def start(i):
        barrier.wait()
        found[i] = ensure_key_file(path)

    threads = [threading.Thread(target=start, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    on_disk = ensure_key_file(path)
    assert all(data == on_disk for data in found), "every process must hold the keys left on disk"
    assert [p.name for p in tmp_path.iterdir()] == ["keys.json"]  # no temporary file left behind


def test_a_key_added_to_the_file_by_another_process_is_used_without_a_restart(tmp_path):
    serving, rotating = create_app(TestConfig, **_overrides(tmp_path)), create_app(TestConfig, **_overrides(tmp_path))
    assert serving.config["SECRET_KEY"] == rotating.config["SECRET_KEY"]  # one session cookie for both
    aad = aad_for("student", "id_number", "uid-1")
    add_key_to_file(tmp_path / "keys.json")  # `keys rotate` in the other process: k2, active
    rotating.extensions["xueji_key_file"].checked = 0.0
    with rotating.app_context():
        token = keyring().encrypt("430102201910050011", aad)
    assert token.split(":")[1] == "k2"
    with serving.app_context():
        serving.extensions["xueji_key_file"].checked = time.monotonic()
        assert keyring().active == "k1"  # looked at less than a second ago: not yet
        serving.extensions["xueji_key_file"].checked = time.monotonic() - 2
        ring = keyring()
        assert (ring.active, sorted(ring.keys)) == ("k2", ["k1", "k2"])
        assert ring.decrypt(token, aad) == "430102201910050011"
        assert ring.guard is not None  # still refuses blind indexes of another profile's data
