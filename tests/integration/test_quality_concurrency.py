"""数据质量核查 under concurrency, on PostgreSQL: two registrars marking one class at once create one
form per student and mark each once; a close and a mark never leave a mark made after the close."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from conftest import is_postgres
from factories import account, actor_of, school
from sqlalchemy import delete, func, select
from test_concurrency import race

from app.extensions import db
from app.models import QualityCampaign, QualityForm, SchoolClass, Student
from app.services.quality import campaigns, forms

pytestmark = pytest.mark.skipif(not is_postgres(), reason="row locks are tested on PostgreSQL")
NOW = datetime(2026, 9, 15, 10)


@pytest.fixture
def campaign(ctx):
    row = campaigns.open_campaign(db.session, actor_of("prov_registrar"), region="430102",
                                  starts_on=date(2026, 9, 1), ends_on=date(2026, 9, 30), now=NOW)
    yield row.id
    db.session.rollback()
    db.session.execute(delete(QualityForm))
    db.session.execute(delete(QualityCampaign))
    db.session.commit()


def _class() -> tuple[int, int]:
    s = school("4301020001")
    klass = db.session.scalar(select(SchoolClass).join(Student, Student.class_id == SchoolClass.id)
                              .where(SchoolClass.school_id == s.id, Student.status == "in_school")
                              .group_by(SchoolClass.id).order_by(SchoolClass.id).limit(1))
    size = db.session.scalar(select(func.count()).select_from(Student).where(
        Student.class_id == klass.id, Student.status == "in_school"))
    return klass.id, size


def test_two_registrars_marking_one_class_at_once_mark_each_form_once(app, campaign):
    account("second_school_registrar", "school_registrar", school_code="4301020001")
    class_id, size = _class()
    people = ["school_registrar", "second_school_registrar"]
    results = race(app, lambda i: forms.mark_class(db.session, actor_of(people[i]), class_id=class_id,
                                                   mark="issued", now=NOW).marked, 2)
    assert [r[0] for r in results] == ["ok", "ok"], results
    assert sum(r[1] for r in results) == size
    db.session.expire_all()
    rows = db.session.scalar(select(func.count()).select_from(QualityForm).where(
        QualityForm.campaign_id == campaign, QualityForm.issued_at.is_not(None)))
    assert rows == size


def test_a_close_and_a_mark_at_once_leave_no_mark_after_the_close(app, campaign):
    class_id, size = _class()

    def work(i):
        if i == 0:
            return campaigns.close_campaign(db.session, actor_of("prov_registrar"), campaign, NOW).id
        return forms.mark_class(db.session, actor_of("school_registrar"), class_id=class_id, mark="issued",
                                now=NOW).marked

    results = race(app, work, 2)
    assert results[0][0] == "ok"
    db.session.expire_all()
    marked = db.session.scalar(select(func.count()).select_from(QualityForm).where(
        QualityForm.campaign_id == campaign, QualityForm.issued_at.is_not(None)))
    # the mark either finished before the close took the row, or it was refused after it
    assert (results[1][0], marked) in {("ok", size), ("refused", 0)}, results
