"""The import reads a division by its name as well as by its 12-digit code."""

from __future__ import annotations

from factories import actor_of
from sqlalchemy import select
from test_excel import _book, _check, _now, _problems, _rows

from app.extensions import db
from app.models import Student
from app.services.exchange import imports


def test_division_names_in_cells_are_stored_as_codes(ctx):
    rows = _rows(3, seed=303)
    rows[0]["出生地"] = "湖南省长沙市芙蓉区"
    rows[0]["成员1户口所在地"] = "湖南省长沙市天心区"
    rows[1]["户口所在地"] = "湖南省 长沙市"  # spaces are forgiven; a city is a division too
    rows[2]["出生地"] = "长沙芙蓉"  # no division is called that
    job = _check(_book(rows))
    assert _problems(job) == {(4, "出生地", "format")}
    imports.commit(db.session, job, actor_of("school_registrar"), _now(), valid_only=True)
    first = db.session.scalar(select(Student).where(Student.name == rows[0]["姓名"]))
    second = db.session.scalar(select(Student).where(Student.name == rows[1]["姓名"]))
    assert first.birthplace == "430102000000" and first.members[0].hukou_location == "430103000000"
    assert second.hukou_location == "430100000000"
