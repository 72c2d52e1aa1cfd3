"""Graduation conditions from the rules (毕业条件), completion (结业) of those who do not meet them,
the cohort action's audit row and per-student history, the final-grade freeze of 1 July through
real filings, and ``rules explain graduate|promotion``.  Every test puts back what it changed."""

from __future__ import annotations

import json
import threading
from datetime import datetime
from pathlib import Path

import pytest
from conftest import is_postgres
from factories import PDF, _class_of, actor_of, records_put_back, registered_in, school
from sqlalchemy import func, select, update

from app.errors import ValidationFailed
from app.extensions import db
from app.models import AuditEvent, Grade, Student, XuejiUser
from app.services.common.actors import Actor
from app.services.record import timeline
from app.services.requests import workflow as svc
from app.services.schoolyear import completion, graduation

IN_WINDOW = datetime(2026, 7, 1, 10)
PRIMARY = "4302020001"  # 荷塘区星光小学: county2_school_registrar
SENIOR = "4301020003"  # 长沙市湘江中学 (junior, senior): school3_registrar
JUNIOR = "4301020002"  # 芙蓉区启明初级中学: school2_registrar
RULES = Path(__file__).resolve().parents[2] / "rules"
HUNAN_LINES = (RULES / "430000.yaml").read_text(encoding="utf-8").splitlines()
CONDITIONS = "rules/430000.yaml:" + str(next(
    n for n, line in enumerate(HUNAN_LINES, start=1) if "required_fields:" in line))


def _final(code: str, number: int) -> list[Student]:
    s = school(code)
    return db.session.scalars(select(Student).join(Grade, Student.grade_id == Grade.id).where(
        Student.school_id == s.id, Grade.number == number).order_by(Student.id)).all()


@pytest.fixture
def restore(ctx):
    """Put the final-grade records of the schools used back as they were; close what was opened."""
    finals = [st for code, number in ((PRIMARY, 6), (SENIOR, 9), (SENIOR, 12), (JUNIOR, 8), (JUNIOR, 9))
              for st in _final(code, number)]
    with records_put_back(finals, "status", "graduated_at", "problem", "id_number_enc",
                          "entry_date") as kept:
        yield kept


def _seniors() -> list[int]:
    ids = [st.id for st in _final(SENIOR, 12) if st.status == "in_school"]
    if len(ids) < 3:
        pytest.skip("the demo school has too few senior final-grade students")
    return ids


def _audit(action: str, school_code: str) -> list[AuditEvent]:
    return db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == action, AuditEvent.school_id == school(school_code).id)
        .order_by(AuditEvent.id)).all()


def _completions(student_id: int) -> int:
    """How many times the record's history says it was completed (结业生效)."""
    history = timeline.for_student(db.session, db.session.get(Student, student_id))
    return sum(1 for e in history if e.action == "结业生效")


def test_a_senior_lacking_a_required_item_is_kept_back_citing_the_rule(restore):
    a, b, *_ = _seniors()
    db.session.execute(update(Student).where(Student.id == a).values(id_number_enc=None))
    db.session.execute(update(Student).where(Student.id == b).values(entry_date=None))
    db.session.commit()
    outcome = graduation.cohort(db.session, actor_of("school3_registrar"), school(SENIOR).id,
                                IN_WINDOW)
    by_id = {c.student_id: c for c in outcome.candidates}
    assert by_id[a].unmet == [{"item": "id_number", "label": "身份证件号", "label_en": "ID number",
                               "source": CONDITIONS}]
    assert by_id[b].reasons == [f"毕业条件不满足，缺少：入学年月（{CONDITIONS}）"]
    assert by_id[a].completable and not by_id[a].can
    assert [c.student_id for c in outcome.candidates if c.unmet] == [a, b]
    # junior students of the same school have no conditions
    assert not any(c.unmet for c in outcome.candidates if c.stage == "junior")


def test_those_kept_back_by_the_conditions_are_completed_with_a_result_each(restore):
    a, b, meets, *_ = _seniors()
    db.session.execute(update(Student).where(Student.id.in_([a, b])).values(id_number_enc=None))
    db.session.commit()
    registrar = actor_of("school3_registrar")
    dry = completion.complete(db.session, registrar, school(SENIOR).id, IN_WINDOW, dry_run=True)
    assert [(r["student_id"], r["result"]) for r in dry.results] == [(a, "completable"),
                                                                     (b, "completable")]
    db.session.expire_all()
    assert db.session.get(Student, a).status == "in_school"  # a dry run writes nothing
    before_rows = len(_audit("complete_cohort", SENIOR))
    before_history = _completions(a)

    done = completion.complete(db.session, registrar, school(SENIOR).id, IN_WINDOW,
                               student_ids=[a, meets, b, 2_000_000_000])
    assert done.completed == 2 and done.refused == []
    assert [(r["student_id"], r["result"]) for r in done.results] == [
        (a, "completed"), (meets, "refused"), (b, "completed"), (2_000_000_000, "refused")]
    assert done.results[1]["reason"] == "满足毕业条件，应办理毕业"
    assert done.results[3]["reason"] == "不是本校毕业年级的在校生"
    db.session.expire_all()
    rows = {sid: (db.session.get(Student, sid).status, db.session.get(Student, sid).graduated_at)
            for sid in (a, b, meets)}
    assert rows == {a: ("completed", None), b: ("completed", None), meets: ("in_school", None)}
    # one audit row for the action, one history row per completed student
    cohort_rows = _audit("complete_cohort", SENIOR)
    assert len(cohort_rows) == before_rows + 1
    row = cohort_rows[-1]
    assert (row.username, row.entity, row.entity_id) == ("school3_registrar", "school", school(SENIOR).id)
    assert row.changes["completed"] == 2 and row.changes["grades"]["高三"]["done"] == 2
    assert _completions(a) == before_history + 1
    # a completed record is frozen but the rollback (revoke_graduation accepts completed)
    req = svc.start(db.session, kind="revoke_graduation", student=db.session.get(Student, a),
                    actor=registrar, now=IN_WINDOW, reason="误操作")
    assert req.status == "pending"
    # once completed, nobody is completed twice
    again = completion.complete(db.session, registrar, school(SENIOR).id, IN_WINDOW,
                                student_ids=[b])
    assert again.completed == 0 and again.results[0]["result"] == "refused"


def test_completion_outside_the_window_is_refused_citing_the_rule(restore):
    a, *_ = _seniors()
    db.session.execute(update(Student).where(Student.id == a).values(id_number_enc=None))
    db.session.commit()
    out = completion.complete(db.session, actor_of("school3_registrar"), school(SENIOR).id,
                              datetime(2026, 9, 15, 10), student_ids=[a])
    assert out.completed == 0 and [p.code for p in out.refused] == ["outside_window"]
    assert out.refused[0].source.startswith("rules/national.yaml:")
    assert out.results[0]["result"] == "refused"
    db.session.expire_all()
    assert db.session.get(Student, a).status == "in_school"


def test_a_compulsory_student_who_can_graduate_is_not_completed(restore):
    free = [c.student_id for c in graduation.cohort(
        db.session, actor_of("county2_school_registrar"), school(PRIMARY).id, IN_WINDOW).candidates
        if c.can]
    out = completion.complete(db.session, actor_of("county2_school_registrar"), school(PRIMARY).id,
                              IN_WINDOW, student_ids=free[:1])
    assert out.completed == 0 and out.results[0]["reason"] == "满足毕业条件，应办理毕业"
    assert completion.complete(db.session, actor_of("county2_school_registrar"), school(PRIMARY).id,
                               IN_WINDOW).results == []  # nobody is kept back by conditions


def test_graduating_a_cohort_writes_one_audit_row_and_a_history_row_per_student(restore):
    registrar = actor_of("county2_school_registrar")
    before = len(_audit("graduate_cohort", PRIMARY))
    last_row = db.session.scalar(select(func.max(AuditEvent.id))) or 0
    in_school = {st.id for st in _final(PRIMARY, 6) if st.status == "in_school"}
    done = graduation.graduate(db.session, registrar, school(PRIMARY).id, IN_WINDOW)
    assert done.graduated >= 3
    rows = _audit("graduate_cohort", PRIMARY)
    assert len(rows) == before + 1
    assert rows[-1].changes["graduated"] == done.graduated
    assert rows[-1].changes["grades"] == {"六年级": {"stage": "primary", "done": done.graduated}}
    db.session.expire_all()
    graduated = [st for st in _final(PRIMARY, 6) if st.id in in_school and st.status == "graduated"]
    assert len(graduated) == done.graduated
    per_student = db.session.scalars(select(AuditEvent.entity_uid).where(
        AuditEvent.action == "apply_graduate", AuditEvent.id > last_row)).all()
    assert sorted(per_student) == sorted(st.uid for st in graduated)
    assert "毕业生效" in [e.action for e in timeline.for_student(db.session, graduated[0])]
    # a dry run writes no audit row
    graduation.graduate(db.session, registrar, school(PRIMARY).id, IN_WINDOW, dry_run=True)
    assert len(_audit("graduate_cohort", PRIMARY)) == before + 1


# -- the final-grade freeze (rules/national.yaml freezes, final_grade: true, from 07-01) ---------

def _frozen_source(exc) -> list[str]:
    return [p.source for p in exc.value.problems if p.code == "frozen"]


def _national_line(source: str) -> str:
    lines = (RULES / "national.yaml").read_text(encoding="utf-8").splitlines()
    return lines[int(source.rsplit(":", 1)[1]) - 1]


def test_from_1_july_a_graduating_students_transfer_is_refused(restore):
    receiving = actor_of("school3_registrar")
    graduating = registered_in(JUNIOR, 9)
    with pytest.raises(ValidationFailed) as caught:
        svc.start(db.session, kind="transfer", student=graduating, actor=receiving,
                  now=datetime(2026, 7, 2, 10), target_class=_class_of(SENIOR, 9), files=[PDF])
    sources = _frozen_source(caught)
    assert len(sources) == 1 and sources[0].startswith("rules/national.yaml:")
    assert "final_grade: true" in _national_line(sources[0])
    db.session.rollback()
    # the day before, and a student of another grade on the same day: no freeze
    for student, when in ((graduating, datetime(2026, 6, 30, 10)),
                          (registered_in(JUNIOR, 8), datetime(2026, 7, 2, 10))):
        req = svc.start(db.session, kind="transfer", student=student, actor=receiving, now=when,
                        target_class=_class_of(SENIOR, student.grade.number), files=[PDF])
        assert req.status == "pending"
        svc.cancel(db.session, req.id, receiving, when, comment="测试")


@pytest.mark.parametrize("kind, extra", [
    ("change_field", {"payload": {"name": "新名字"}, "files": [PDF]}),
    ("dropout", {}),
    ("suspend", {"reason": "疾病", "files": [PDF]}),
])
def test_from_1_july_a_graduating_students_changes_are_refused(restore, kind, extra):
    student = registered_in(PRIMARY, 6)
    with pytest.raises(ValidationFailed) as caught:
        svc.start(db.session, kind=kind, student=student, actor=actor_of("county2_school_registrar"),
                  now=datetime(2026, 7, 2, 10), **extra)
    sources = _frozen_source(caught)
    assert len(sources) == 1 and "final_grade: true" in _national_line(sources[0])
    assert "毕业年级学生7月1日起不再办理新业务" in next(
        p.message for p in caught.value.problems if p.code == "frozen")


# -- rules explain by business -------------------------------------------------------------

def test_rules_explain_graduate_senior_shows_window_conditions_and_chain(app):
    out = app.test_cli_runner().invoke(args=["rules", "explain", "graduate", "--stage", "senior",
                                             "--node", "430102", "--at", "2026-07-01T10:00"])
    assert out.exit_code == 0, out.output
    assert "ALLOWED" in out.output and "每年 05-01 至 07-30" in out.output
    assert f"须有 身份证件号、入学年月、班级（{CONDITIONS}）" in out.output
    assert "本校主管教育部门学籍管理员" in out.output and "rules/national.yaml:" in out.output


def test_rules_explain_promotion_shows_window_freeze_and_carry_over(app):
    out = app.test_cli_runner().invoke(args=["rules", "explain", "promotion", "--node", "430102",
                                             "--at", "2026-09-15T10:00", "--json"])
    assert out.exit_code == 0, out.output
    rules = json.loads(out.output)["rules"][0]
    assert rules["decision"]["allowed"] is False
    assert rules["windows"][0]["dates"] == "每年 08-10 至 08-10"
    assert rules["carry_over"]["value"] is False
    assert rules["carry_over"]["source"].startswith("rules/national.yaml:")
    text = app.test_cli_runner().invoke(args=["rules", "explain", "promotion", "--node", "430102",
                                              "--at", "2026-08-10T23:00"]).output
    assert "ALLOWED" in text and "carry-over" in text and "不允许（须先办结）" in text
    bad = app.test_cli_runner().invoke(args=["rules", "explain", "promotion", "--node", "12"])
    assert bad.exit_code != 0


def test_the_page_and_the_command_complete_the_ticked_students(app, client_for, restore, monkeypatch):
    a, b, meets, *_ = _seniors()
    db.session.execute(update(Student).where(Student.id.in_([a, b])).values(id_number_enc=None))
    db.session.commit()
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["year", "complete", "--school", SENIOR, "--dry-run", "--json",
                              "--as", "school3_registrar"])
    assert dry.exit_code == 1, dry.output  # the pinned test clock (15 September): outside
    assert '"outside_window"' in dry.output and "rules/national.yaml:" in dry.output
    monkeypatch.setitem(app.config, "XUEJI_FIXED_NOW", "2026-07-01T10:00:00")
    page = client_for("school3_registrar").get("/year/graduate/").get_data(as_text=True)
    assert 'id="complete-form"' in page and f'value="{a}"' in page and f'value="{meets}"' not in page
    assert f"毕业条件不满足，缺少：身份证件号（{CONDITIONS}）" in page
    posted = client_for("school3_registrar").post("/year/graduate/complete",
                                                  data={"student": [str(a), str(meets)]})
    assert posted.status_code == 302
    db.session.expire_all()
    assert (db.session.get(Student, a).status, db.session.get(Student, meets).status) == \
        ("completed", "in_school")
    out = runner.invoke(args=["year", "complete", "--school", SENIOR, "--student", str(b),
                              "--as", "school3_registrar"])
    assert out.exit_code == 0, out.output
    assert "结业 1 人" in out.output and f"{b} " in out.output
    db.session.expire_all()
    assert db.session.get(Student, b).status == "completed"
    # another school's registrar: the school is not in its jurisdiction
    assert client_for("county2_school_registrar").post(
        "/year/graduate/complete", data={"student": [str(b)]}).status_code == 302
    other = runner.invoke(args=["year", "complete", "--school", SENIOR, "--as",
                                "county2_school_registrar"])
    assert other.exit_code != 0 and "学校不存在" in other.output


@pytest.mark.skipif(not is_postgres(), reason="two completions at once need PostgreSQL")
def test_two_completions_at_once_complete_each_student_once(app, restore):
    a, b, *_ = _seniors()
    db.session.execute(update(Student).where(Student.id.in_([a, b])).values(id_number_enc=None))
    db.session.commit()
    last_row = db.session.scalar(select(func.max(AuditEvent.id))) or 0
    user_id = actor_of("school3_registrar").user_id
    barrier, errors, outcomes = threading.Barrier(2), [], []

    def run():
        with app.app_context():
            try:
                me = Actor.of(db.session.get(XuejiUser, user_id))
                barrier.wait()
                outcomes.append(completion.complete(db.session, me, school(SENIOR).id, IN_WINDOW,
                                                    student_ids=[a, b]))
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors
    assert sorted(o.completed for o in outcomes) in ([0, 2], [1, 1])
    assert sum(o.completed for o in outcomes) == 2
    db.session.expire_all()
    history = db.session.scalars(select(AuditEvent.entity_id).where(
        AuditEvent.action == "apply_complete", AuditEvent.id > last_row)).all()
    assert sorted(history) == sorted([a, b])  # one history row each, never two
