"""Personal data at rest: ciphertexts in the columns, bound to their row, nothing readable in the file."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select, text

from app import create_app
from app.extensions import db
from app.models import FamilyMember, Student
from app.security.crypto import KeyError_
from app.services.record.identity import normalize_id
from config import TestConfig

ROOT = Path(__file__).resolve().parents[2]
ON_POSTGRES = (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgresql")
PERSONAL_COLUMNS = ("id_number_enc", "phone_enc", "current_address_enc")


def ring(app):
    return app.extensions["xueji_keyring"]


@pytest.fixture
def students(session):
    """Five seeded students with an ID number, each with at least one family member."""
    rows = session.scalars(select(Student).where(Student.id_number_enc.is_not(None))
                           .order_by(Student.id).limit(5)).all()
    assert len(rows) == 5
    return rows


def raw_row(session, table: str, row_id: int) -> dict:
    cols = ", ".join(("id_blind",) + PERSONAL_COLUMNS)
    return dict(session.execute(text(f"SELECT {cols} FROM {table} WHERE id = :id"),
                                {"id": row_id}).mappings().one())


def test_seeded_student_columns_hold_tokens_not_plaintext(session, students):
    for student in students:
        raw = raw_row(session, "student", student.id)
        clear = {"id_number_enc": student.id_number, "phone_enc": student.phone,
                 "current_address_enc": student.current_address}
        for column, plaintext in clear.items():
            assert plaintext, f"seed left {column} empty"
            assert raw[column].startswith("v1:t1:"), raw[column]
            assert plaintext not in raw[column]
            assert plaintext.encode("utf-8").hex() not in raw[column]


def test_seeded_family_member_columns_hold_tokens_not_plaintext(session, students):
    for member in students[0].members:
        raw = raw_row(session, "family_member", member.id)
        for column, plaintext in {"phone_enc": member.phone,
                                  "current_address_enc": member.current_address}.items():
            assert raw[column].startswith("v1:") and plaintext not in raw[column]


def test_id_blind_column_is_the_keyed_hash_of_the_id_number(ctx, session, students):
    for student in students:
        raw = raw_row(session, "student", student.id)
        assert raw["id_blind"] == ring(ctx).blind_index("id_number", student.id_number)
        assert student.id_number not in raw["id_blind"]


def test_student_is_found_by_the_blind_index_of_a_sloppily_typed_id(ctx, session, students):
    target = students[0]
    typed = " " + target.id_number.lower()[:6] + " " + target.id_number.lower()[6:] + " "
    digest = ring(ctx).blind_index("id_number", normalize_id(typed))
    assert session.scalar(select(Student.id).where(Student.id_blind == digest)) == target.id


@pytest.mark.parametrize(
    "typed",
    [
        "11010519491231002x",
        " 110105 19491231002X ",
        "１１０１０５１９４９１２３１００２Ｘ",  # full-width, as some input methods type it
        "Ｅ１２３４５６７８",  # a full-width passport number
        "110105\u300019491231002X",  # an ideographic space
    ],
)
def test_stored_blind_index_matches_the_search_normalisation_of_what_was_typed(ctx, typed):
    student = Student()
    student.id_number = typed
    assert student.id_blind == ring(ctx).blind_index("id_number", normalize_id(typed))
    assert student.id_number == normalize_id(typed)


def test_clearing_an_encrypted_value_clears_its_blind_index(ctx):
    student = Student()
    student.id_number = "11010519491231002X"
    student.id_number = "  "
    assert student.id_number_enc is None and student.id_blind is None and student.id_number is None


@pytest.mark.parametrize(
    "source_table, source_column, target_column",
    [
        ("student", "id_number_enc", "id_number_enc"),  # another student's ID number
        ("student", "phone_enc", "phone_enc"),  # another student's phone
        ("family_member", "id_number_enc", "id_number_enc"),  # a parent's ID number
    ],
    ids=["student-id", "student-phone", "member-id"],
)
def test_ciphertext_copied_to_another_row_fails_to_decrypt(session, students, source_table,
                                                           source_column, target_column):
    victim = students[1]
    source_id = students[0].id if source_table == "student" else students[0].members[0].id
    before = getattr(victim, target_column[:-4])
    token = session.execute(text(f"SELECT {source_column} FROM {source_table} WHERE id = :id"),
                            {"id": source_id}).scalar_one()
    session.execute(text(f"UPDATE student SET {target_column} = :t WHERE id = :id"),
                    {"t": token, "id": victim.id})
    session.expire(victim)
    try:
        with pytest.raises(KeyError_):
            getattr(victim, target_column[:-4])
    finally:
        session.rollback()
    assert getattr(victim, target_column[:-4]) == before


def test_ciphertext_copied_to_another_column_of_the_same_row_fails_to_decrypt(session, students):
    student = students[2]
    token = raw_row(session, "student", student.id)["phone_enc"]
    session.execute(text("UPDATE student SET current_address_enc = :t WHERE id = :id"),
                    {"t": token, "id": student.id})
    session.expire(student)
    try:
        with pytest.raises(KeyError_):
            student.current_address  # noqa: B018
    finally:
        session.rollback()


def test_longest_address_the_form_accepts_can_be_saved(session, students):
    student = students[3]
    address = "湖南省长沙市芙蓉区" + "湘" * 191
    assert len(address) == 200
    student.current_address = address
    try:
        session.flush()
        session.expire(student)
        assert student.current_address == address
    finally:
        session.rollback()


# -- the database file itself (SQLite only) ----------------------------------------------------


@pytest.fixture(scope="module")
def sqlite_file(tmp_path_factory):
    """A file-backed database seeded with the smallest demo (one student per class).

    Code tables are left out: they hold no personal data and take a second to load.
    """
    from flask_migrate import upgrade

    from app.security.sync import sync_roles
    from app.services.operations.demo import seed_demo

    base = tmp_path_factory.mktemp("at_rest")
    path = base / "xueji.db"
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}",
                     INSTANCE_DIR=str(base / "instance"))
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        sync_roles(app.appbuilder)
        seed_demo(db.session, ROOT / "seed", password="Test@pass2026", students=1,
                  today=date.today())
        students = db.session.scalars(select(Student)).all()
        members = db.session.scalars(select(FamilyMember)).all()
        values = {
            "student_ids": [(s.id_number, s.registry_kind) for s in students if s.id_number],
            "member_ids": [m.id_number for m in members if m.id_number],
            "phones": [v for v in [s.phone for s in students] + [m.phone for m in members] if v],
            "addresses": [v for s in students for v in (s.current_address, s.mailing_address,
                                                         s.home_address) if v]
            + [m.current_address for m in members if m.current_address],
            "names": [s.name for s in students],
            "blind": [s.id_blind for s in students if s.id_blind],
        }
        db.session.remove()
        db.engine.dispose()
    return path.read_bytes(), values


def leaked(data: bytes, values) -> list[str]:
    return [v for v in values if v.encode("utf-8") in data]


sqlite_only = pytest.mark.skipif(ON_POSTGRES, reason="reads the SQLite database file")


@sqlite_only
@pytest.mark.parametrize("kind", ["phones", "addresses", "member_ids"])
def test_database_file_contains_no_plaintext_phone_address_or_parent_id(sqlite_file, kind):
    data, values = sqlite_file
    assert len(values[kind]) > 100
    assert leaked(data, values[kind]) == []


@sqlite_only
def test_database_file_contains_no_plaintext_student_id_number(sqlite_file):
    data, values = sqlite_file
    assert leaked(data, [number for number, _ in values["student_ids"]]) == []


@sqlite_only
def test_student_id_numbers_appear_in_the_file_only_inside_g_registry_numbers(sqlite_file):
    data, values = sqlite_file
    for number, kind in values["student_ids"]:
        raw = number.encode()
        if kind != "G":
            assert raw not in data, f"{kind} student's ID number stored in clear"
            continue
        assert data.replace(b"G" + raw, b"").find(raw) == -1, "ID stored in clear outside 'G...'"


@sqlite_only
def test_database_file_scan_finds_what_is_stored_in_clear(sqlite_file):
    """The control for the scans above: names and blind indexes are stored as UTF-8 text."""
    data, values = sqlite_file
    assert len(values["blind"]) > 100
    assert leaked(data, values["names"]) == values["names"]
    assert leaked(data, values["blind"]) == values["blind"]
