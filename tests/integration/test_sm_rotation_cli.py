"""Moving a key-file installation between the standard and the 国密 profile with `keys rotate --profile`,
as an operator runs it; a move stopped half-way resumes; a profile its keys do not fit is refused.

Runs on its own file-backed SQLite databases (copies of one seeded template), whatever
TEST_DATABASE_URL says, as tests/integration/test_key_rotation.py: a move rewrites every row.
(The same moves on the shared test database, SQLite or PostgreSQL: test_sm_profile.py.)
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from key_files import build_app, close, copy_template, load_cli, read_keys, seeded_template
from sqlalchemy import select

from app.extensions import db
from app.models import RegistryNumber, Student
from app.models.base import keyring
from app.security.crypto import KeyError_, b64, new_key, parse_key_text
from app.services.operations import keys as rotation


def clear_values(session) -> dict:
    """Every encrypted value decrypted, and the ID numbers and registry numbers (what indexes hash)."""
    ring, out = keyring(), {}
    for sealed in rotation.ENCRYPTED:
        for row in session.execute(select(sealed.model.__table__)):
            for column in sealed.columns:
                token, aad = getattr(row, column), sealed.aad(column, row)
                if token is not None:
                    out[(sealed.model.__tablename__, row.id if hasattr(row, "id") else row.user_id, column)] = (
                        ring.decrypt_bytes(token, aad) if isinstance(token, bytes) else ring.decrypt(token, aad))
    return out


def indexes(session) -> list[str]:
    return [*session.scalars(select(Student.id_blind).where(Student.id_blind.is_not(None))),
            *session.scalars(select(Student.registry_blind)), *session.scalars(select(RegistryNumber.number_blind))]


def lookups_find_their_students(session) -> bool:
    """Each student found again by the blind index of its ID and registry number, as searches compute it."""
    ring = keyring()
    for student in session.scalars(select(Student).order_by(Student.id).limit(50)):
        if student.id_number and student.id not in session.scalars(
                select(Student.id).where(Student.id_blind == ring.blind_index("id_number", student.id_number))).all():
            return False
        if session.scalar(select(Student.id).where(
                Student.registry_blind == ring.blind_index("registry_no", student.registry_no))) != student.id:
            return False
    return True


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A seeded database under key k1 (AES-256) of a key file, one photo; its values in clear."""
    return seeded_template(tmp_path_factory.mktemp("sm_template"), clear_values)


def students(template) -> int:
    return sum(1 for table, _, column in template[1] if (table, column) == ("student", "registry_no_enc"))


@pytest.fixture
def copy(template, tmp_path):
    return copy_template(template, tmp_path)


def test_keys_rotate_moves_a_key_file_installation_to_sm_and_back(copy, template, monkeypatch):
    monkeypatch.delenv("FLASK_RUN_FROM_CLI", raising=False)  # FlaskGroup sets it
    app = build_app(copy)
    cli, runner = load_cli(), CliRunner()

    def run(*args):
        result = runner.invoke(cli, list(args), obj=ScriptInfo(create_app=lambda: app))
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    to_sm = run("keys", "rotate", "--profile", "sm")
    keys = read_keys(copy)
    assert (to_sm["active"], to_sm["profile"], keys["active"], keys["profile"]) == ("k2", "sm", "k2", "sm")
    assert parse_key_text(keys["keys"]["k2"])[1] and len(parse_key_text(keys["keys"]["k2"])[0]) == 16
    assert to_sm["rewritten"]["student"] == students(template)
    assert set(run("keys", "status")) == {"k2"}
    with app.app_context():
        assert clear_values(db.session) == template[1]
        assert all(i.startswith("sm3:") for i in indexes(db.session))
        assert lookups_find_their_students(db.session)
    close(app)

    again = build_app(copy)  # the key file keeps the profile: a restart stays sm
    assert again.extensions["xueji_keyring"].profile == "sm"
    app = again
    back = run("keys", "rotate", "--profile", "standard")
    assert (back["active"], back["profile"], read_keys(copy)["profile"]) == ("k3", "standard", "standard")
    assert len(parse_key_text(read_keys(copy)["keys"]["k3"])[0]) == 32
    with app.app_context():
        assert clear_values(db.session) == template[1]
        assert not any(i.startswith("sm3:") for i in indexes(db.session))
        assert lookups_find_their_students(db.session)
    idle = run("keys", "rotate", "--no-new-key")
    assert set(idle["rewritten"].values()) == {0} and idle["unmatched"] == {"admission": 0, "problem_case": 0}
    close(app)


def test_a_move_stopped_half_way_resumes_and_every_value_stays_readable(copy, template, monkeypatch):
    app = build_app(copy)
    batches = []
    original = rotation._rewrite_batch

    def fail_on_the_third_batch(session, ring, sealed, rows):
        batches.append(sealed.model.__tablename__)
        if len(batches) == 3:
            raise RuntimeError("power cut")
        return original(session, ring, sealed, rows)

    monkeypatch.setattr(rotation, "BATCH", 50)
    monkeypatch.setattr(rotation, "_rewrite_batch", fail_on_the_third_batch)
    with app.app_context(), pytest.raises(RuntimeError, match="power cut"):
        rotation.rotate(app, db.session, profile="sm")
    with app.app_context():
        assert set(rotation.key_usage(db.session)) == {"k1", "k2"}  # two batches moved, the rest not
        assert clear_values(db.session) == template[1]  # read whatever each says
        monkeypatch.setattr(rotation, "_rewrite_batch", original)
        resumed = rotation.rotate(app, db.session, new_key=False)
        assert resumed["profile"] == "sm" and set(rotation.key_usage(db.session)) == {"k2"}
        assert 0 < resumed["rewritten"]["student"] < students(template)
        assert clear_values(db.session) == template[1]
        assert all(i.startswith("sm3:") for i in indexes(db.session))
        assert lookups_find_their_students(db.session)
    close(app)


def test_switching_the_profile_of_a_key_file_installation_adds_a_key_of_its_kind(copy, template):
    app = build_app(copy, XUEJI_CRYPTO_PROFILE="sm")  # development makes its own keys
    keys = read_keys(copy)
    assert (keys["active"], keys["profile"]) == ("k2", "sm") and keys["keys"]["k2"].startswith("sm4:")
    with app.app_context():
        assert clear_values(db.session) == template[1]  # standard values still read; rotate moves them
    close(app)


def test_a_first_run_under_the_sm_profile_writes_an_sm4_key_file(tmp_path):
    close(build_app(tmp_path, XUEJI_CRYPTO_PROFILE="sm"))
    keys = read_keys(tmp_path)
    assert (keys["active"], keys["profile"], list(keys["keys"])) == ("k1", "sm", ["k1"])
    assert len(parse_key_text(keys["keys"]["k1"])[0]) == 16 and keys["keys"]["k1"].startswith("sm4:")


def test_configured_keys_that_do_not_fit_the_profile_are_refused_at_start(copy):
    keys = read_keys(copy)
    with pytest.raises(KeyError_, match="profile is 'sm'"):
        build_app(copy, XUEJI_ENCRYPTION_KEYS=f"k1:{keys['keys']['k1']}", XUEJI_CRYPTO_PROFILE="sm",
                  XUEJI_BLIND_INDEX_KEY=keys["blind_index_key"], XUEJI_KEY_FILE=None)


def test_configured_keys_move_only_to_the_configured_profile(copy):
    keys = read_keys(copy)
    spec = f"k1:{keys['keys']['k1']},s1:sm4:{b64(new_key('sm'))}"
    app = build_app(copy, XUEJI_ENCRYPTION_KEYS=spec, XUEJI_BLIND_INDEX_KEY=keys["blind_index_key"],
                    XUEJI_KEY_FILE=None)
    with app.app_context(), pytest.raises(SystemExit, match="XUEJI_CRYPTO_PROFILE"):
        rotation.rotate(app, db.session, new_key=False, profile="sm")
    close(app)


def _refusal(app) -> str | None:
    """What a look-up by ID answers in a new request context of ``app`` (None: it ran)."""
    from app.security.blind_state import RotationUnfinished

    with app.test_request_context():
        try:
            keyring().blind_index("id_number", "430102201910050011")
        except RotationUnfinished as exc:
            assert exc.status == 503
            return str(exc)
    return None


def test_no_look_up_runs_while_the_move_is_unfinished_or_in_a_process_of_the_other_profile(
        copy, template, monkeypatch):
    stale = build_app(copy)  # started before the move, under the standard profile
    assert _refusal(stale) is None
    original = rotation._rewrite_batch

    def power_cut(session, ring, sealed, rows):
        raise RuntimeError("power cut")

    monkeypatch.setattr(rotation, "_rewrite_batch", power_cut)
    mover = build_app(copy)
    with mover.app_context(), pytest.raises(RuntimeError, match="power cut"):
        rotation.rotate(mover, db.session, profile="sm")
    waiting = build_app(copy)  # started under sm while the indexes are still SHA-256
    assert waiting.extensions["xueji_keyring"].profile == "sm"
    assert "keys rotate" in _refusal(waiting) and "keys rotate" in _refusal(stale)
    monkeypatch.setattr(rotation, "_rewrite_batch", original)
    with mover.app_context():
        rotation.rotate(mover, db.session, new_key=False)
    assert _refusal(waiting) is None  # its next request sees the move done
    assert "为 sm 配置，本进程为 standard" in _refusal(stale)  # restart it under sm
    for app in (stale, mover, waiting):
        close(app)
