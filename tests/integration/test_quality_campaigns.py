"""数据质量核查: a campaign the province opens for a region stands for the verification switches and
window there; schools mark their forms per class (set-based) and per student, upload the signed
forms (images only, encrypted); every level counts issued / returned / entered for its subtree."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from factories import actor_of, school
from sqlalchemy import delete, func, select

from app.errors import Conflict, Forbidden, NotFound, RuleViolation, ValidationFailed
from app.extensions import db
from app.models import AuditEvent, QualityCampaign, QualityForm, SchoolClass, Student
from app.services.exchange import confirm_forms
from app.services.quality import campaigns, forms, progress

NOW = datetime(2026, 9, 15, 10)  # before the province's verification window (from 8 October)
FURONG_SCHOOL, ZHUZHOU_SCHOOL = "4301020001", "4302020001"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@pytest.fixture
def clean(session):
    """Campaigns and forms live in the suite's one database: each test leaves none behind."""
    yield session
    session.rollback()
    session.execute(delete(QualityForm))
    session.execute(delete(QualityCampaign))
    session.commit()


def open_for(region: str, starts=date(2026, 9, 1), ends=date(2026, 9, 30), who="prov_registrar"):
    return campaigns.open_campaign(db.session, actor_of(who), region=region, starts_on=starts, ends_on=ends,
                                   now=NOW, name=f"核查 {region}")


def class_with_students(school_code: str) -> SchoolClass:
    """The first class of the school (by id) with students in school."""
    s = school(school_code)
    return db.session.scalar(select(SchoolClass).join(Student, Student.class_id == SchoolClass.id)
                             .where(SchoolClass.school_id == s.id, Student.status == "in_school")
                             .group_by(SchoolClass.id).order_by(SchoolClass.id).limit(1))


def in_school(klass: SchoolClass) -> list[int]:
    return list(db.session.scalars(select(Student.id).where(Student.class_id == klass.id,
                                                            Student.status == "in_school")
                                   .order_by(Student.id)))


def codes(exc) -> list[str]:
    return [p.code for p in exc.value.problems]


# -- the gate: inside the campaign, outside it, closed ---------------------------------------------

def test_a_county_campaign_lets_its_school_print_and_mark_and_refuses_another_countys_with_the_reason(clean):
    campaign = open_for("430102")
    inside, outside = school(FURONG_SCHOOL), school(ZHUZHOU_SCHOOL)
    klass = class_with_students(FURONG_SCHOOL)
    data = confirm_forms.forms_xlsx(db.session, actor_of("school_registrar"), inside, NOW, class_id=klass.id)
    assert data[:2] == b"PK"
    done = forms.mark_class(db.session, actor_of("school_registrar"), class_id=klass.id, mark="issued", now=NOW)
    assert done.campaign_id == campaign.id and done.marked == len(in_school(klass))

    with pytest.raises(RuleViolation) as printing:
        confirm_forms.forms_pdf(db.session, actor_of("county2_school_registrar"), outside, NOW)
    window = next(p for p in printing.value.problems if p.code == "outside_window")
    assert window.source.startswith("rules/430000.yaml:")
    assert "2026-10-08" in str(window.message) and "不在进行中的数据质量核查活动范围内" in str(window.message)
    other = class_with_students(ZHUZHOU_SCHOOL)
    with pytest.raises(RuleViolation) as marking:
        forms.mark_class(db.session, actor_of("county2_school_registrar"), class_id=other.id, mark="issued",
                         now=NOW)
    assert "outside_window" in codes(marking)
    with pytest.raises(NotFound):  # naming the other county's campaign: it is not there for them
        forms.mark_class(db.session, actor_of("county2_school_registrar"), class_id=other.id, mark="issued",
                         now=NOW, campaign_id=campaign.id)


def test_outside_any_campaign_the_rule_files_still_decide_and_marking_needs_a_campaign(clean):
    furong, october = school(FURONG_SCHOOL), datetime(2026, 10, 20, 10)  # the province's window is open
    assert confirm_forms.forms_xlsx(db.session, actor_of("school_registrar"), furong, october)[:2] == b"PK"
    klass = class_with_students(FURONG_SCHOOL)
    with pytest.raises(RuleViolation) as refused:
        forms.mark_class(db.session, actor_of("school_registrar"), class_id=klass.id, mark="issued", now=october)
    assert codes(refused) == ["no_campaign"]


def test_a_closed_campaign_refuses_marking_and_names_the_campaign(clean):
    campaign = open_for("430102")
    klass = class_with_students(FURONG_SCHOOL)
    campaigns.close_campaign(db.session, actor_of("prov_registrar"), campaign.id, NOW)
    with pytest.raises(RuleViolation) as refused:
        forms.mark_class(db.session, actor_of("school_registrar"), class_id=klass.id, mark="issued", now=NOW,
                         campaign_id=campaign.id)
    closed = next(p for p in refused.value.problems if p.code == "campaign_closed")
    assert f"#{campaign.id}" in closed.source and "关闭" in str(closed.message)
    with pytest.raises(RuleViolation) as printing:  # nothing else covers the school: the rules decide
        confirm_forms.forms_pdf(db.session, actor_of("school_registrar"), school(FURONG_SCHOOL), NOW)
    assert "outside_window" in codes(printing)
    with pytest.raises(Conflict):
        campaigns.close_campaign(db.session, actor_of("prov_registrar"), campaign.id, NOW)


def test_a_campaign_that_has_not_started_or_is_over_refuses_marking(clean):
    later = open_for("430102", starts=date(2026, 9, 20), ends=date(2026, 9, 30))
    klass = class_with_students(FURONG_SCHOOL)
    with pytest.raises(RuleViolation) as refused:
        forms.mark_class(db.session, actor_of("school_registrar"), class_id=klass.id, mark="issued", now=NOW,
                         campaign_id=later.id)
    assert "campaign_pending" in codes(refused)


# -- who opens campaigns ---------------------------------------------------------------------------

def test_only_the_province_opens_campaigns_for_its_own_divisions(clean):
    assert open_for("430100", who="prov_admin").region_code == "430100"
    with pytest.raises(Forbidden):
        open_for("430102", who="county_registrar")
    with pytest.raises(ValidationFailed) as bad:
        open_for("440100")
    assert bad.value.problems[0].field == "region"
    with pytest.raises(ValidationFailed) as dates:
        open_for("430102", starts=date(2026, 9, 30), ends=date(2026, 9, 1))
    assert dates.value.problems[0].field == "ends_on"


def test_opening_closing_and_marking_are_audited(clean):
    campaign = open_for("430102")
    klass = class_with_students(FURONG_SCHOOL)
    forms.mark_class(db.session, actor_of("school_registrar"), class_id=klass.id, mark="issued", now=NOW)
    campaigns.close_campaign(db.session, actor_of("prov_registrar"), campaign.id, NOW)
    rows = db.session.execute(select(AuditEvent.action, AuditEvent.entity, AuditEvent.username)
                              .where(AuditEvent.action.in_(("open_campaign", "close_campaign", "quality_mark")))
                              .order_by(AuditEvent.id.desc()).limit(3)).all()
    assert sorted(rows) == sorted([("close_campaign", "quality_campaign", "prov_registrar"),
                                   ("quality_mark", "school_class", "school_registrar"),
                                   ("open_campaign", "quality_campaign", "prov_registrar")])


# -- marks -----------------------------------------------------------------------------------------

def test_a_class_is_marked_in_bulk_each_mark_after_the_one_before(clean):
    open_for("430102")
    who, klass = actor_of("school_registrar"), class_with_students(FURONG_SCHOOL)
    students = in_school(klass)
    first = students[0]
    forms.mark_student(db.session, who, student_id=first, mark="issued", now=NOW)
    returned = forms.mark_class(db.session, who, class_id=klass.id, mark="returned", now=NOW)
    assert (returned.marked, returned.already, returned.skipped) == (1, 0, len(students) - 1)
    issued = forms.mark_class(db.session, who, class_id=klass.id, mark="issued", now=NOW)
    assert (issued.marked, issued.already, issued.skipped) == (len(students) - 1, 1, 0)
    again = forms.mark_class(db.session, who, class_id=klass.id, mark="issued", now=NOW)
    assert (again.marked, again.already) == (0, len(students))
    rows = db.session.scalar(select(func.count()).select_from(QualityForm).where(
        QualityForm.student_id.in_(students)))
    assert rows == len(students)  # one form per student, however often the class is marked
    entered = forms.mark_class(db.session, who, class_id=klass.id, mark="entered", now=NOW)
    assert (entered.marked, entered.skipped) == (1, len(students) - 1)


def test_one_student_is_marked_returned_with_corrections_then_entered(clean):
    open_for("430102")
    who, student = actor_of("school_registrar"), in_school(class_with_students(FURONG_SCHOOL))[0]
    with pytest.raises(ValidationFailed) as early:
        forms.mark_student(db.session, who, student_id=student, mark="returned", now=NOW, corrected=True)
    assert early.value.problems[0].field == "mark"
    db.session.rollback()
    forms.mark_student(db.session, who, student_id=student, mark="issued", now=NOW)
    form = forms.mark_student(db.session, who, student_id=student, mark="returned", now=NOW, corrected=True)
    assert form.corrected is True and form.returned_by == "school_registrar"
    with pytest.raises(Conflict):
        forms.mark_student(db.session, who, student_id=student, mark="returned", now=NOW, corrected=True)
    db.session.rollback()
    assert forms.mark_student(db.session, who, student_id=student, mark="entered", now=NOW).entered_at == NOW


def test_a_school_marks_only_its_own_students(clean):
    open_for("430000")
    other = in_school(class_with_students("4301020002"))[0]
    with pytest.raises(NotFound):
        forms.mark_student(db.session, actor_of("school_registrar"), student_id=other, mark="issued", now=NOW)
    with pytest.raises(Forbidden):
        forms.mark_student(db.session, actor_of("county_registrar"), student_id=other, mark="issued", now=NOW)


# -- the signed forms' photos ------------------------------------------------------------------------

def test_the_signed_form_must_be_an_image_and_is_stored_encrypted(clean):
    campaign = open_for("430102")
    who, student = actor_of("school_registrar"), in_school(class_with_students(FURONG_SCHOOL))[0]
    for data in (b"%PDF-1.4 not an image", b"GIF89a....", b"hello"):
        with pytest.raises(ValidationFailed) as refused:
            forms.upload_scan(db.session, who, student_id=student, data=data, now=NOW)
        assert refused.value.problems[0].field == "file" and "JPEG 或 PNG" in str(refused.value)
        db.session.rollback()
    form = forms.upload_scan(db.session, who, student_id=student, data=PNG, now=NOW)
    assert form.scan_type == "image/png" and PNG not in form.scan_enc
    data, mime, _ = forms.read_scan(db.session, who, campaign.id, student)
    assert (data, mime) == (PNG, "image/png")
    forms.upload_scan(db.session, who, student_id=student, data=JPEG, now=NOW)  # replaces it
    assert forms.read_scan(db.session, who, campaign.id, student)[:2] == (JPEG, "image/jpeg")


def test_an_oversized_photo_is_refused(app, clean):
    open_for("430102")
    student = in_school(class_with_students(FURONG_SCHOOL))[0]
    app.config["XUEJI_FORM_SCAN_MAX_BYTES"] = 100
    try:
        with pytest.raises(ValidationFailed):
            forms.upload_scan(db.session, actor_of("school_registrar"), student_id=student,
                              data=PNG + b"\x00" * 100, now=NOW)
    finally:
        del app.config["XUEJI_FORM_SCAN_MAX_BYTES"]


# -- progress --------------------------------------------------------------------------------------

def expected(school_code: str | None = None, **chain) -> int:
    query = select(func.count()).select_from(Student).where(Student.status == "in_school")
    for level, code in chain.items():
        query = query.where(getattr(Student, f"{level}_code") == code)
    if school_code:
        query = query.where(Student.school_id == school(school_code).id)
    return db.session.scalar(query)


def test_progress_counts_are_exact_at_every_level_and_lagging_schools_come_first(clean):
    campaign = open_for("430000")
    furong_class, zhuzhou_class = class_with_students(FURONG_SCHOOL), class_with_students(ZHUZHOU_SCHOOL)
    mine, theirs = actor_of("school_registrar"), actor_of("county2_school_registrar")
    for mark in ("issued", "returned", "entered"):
        forms.mark_class(db.session, mine, class_id=furong_class.id, mark=mark, now=NOW)
    forms.mark_class(db.session, theirs, class_id=zhuzhou_class.id, mark="issued", now=NOW)
    marked_here, marked_there = len(in_school(furong_class)), len(in_school(zhuzhou_class))

    province = progress.progress(db.session, actor_of("prov_supervisor"), campaign.id, NOW)
    assert province.node_code == "430000" and [r.code for r in province.rows] == sorted(r.code for r in province.rows)
    changsha, zhuzhou = province.row("430100").counts, province.row("430200").counts
    assert changsha.students == expected(city="430100") and zhuzhou.students == expected(city="430200")
    assert (changsha.issued, changsha.returned, changsha.entered) == (marked_here,) * 3
    assert (zhuzhou.issued, zhuzhou.returned, zhuzhou.entered) == (marked_there, 0, 0)
    assert province.total.students == expected(province="430000")
    assert province.total.issued == marked_here + marked_there

    city = progress.progress(db.session, actor_of("city_registrar"), campaign.id, NOW)
    assert city.node_code == "430100" and city.row("430102").counts.entered == marked_here
    assert city.row("430102").counts.students == expected(county="430102")
    county = progress.progress(db.session, actor_of("county_registrar"), campaign.id, NOW)
    assert county.row(FURONG_SCHOOL).counts.students == expected(FURONG_SCHOOL)
    assert sum(r.counts.students for r in county.rows) == county.total.students == expected(county="430102")
    own = progress.progress(db.session, actor_of("school_registrar"), campaign.id, NOW)
    assert own.node_level == "school" and own.row(str(furong_class.id)).counts.entered == marked_here

    shares = [(r.counts.entered_share, r.code) for r in province.lagging]
    assert shares == sorted(shares) and len(shares) == progress.LAGGING
    assert FURONG_SCHOOL not in {r.code for r in province.lagging}  # the one school that entered
    by_school = progress.progress(db.session, actor_of("prov_supervisor"), campaign.id, NOW, "430102")
    assert [r.code for r in by_school.lagging][-1] == FURONG_SCHOOL  # 3 schools: it comes last


def test_progress_is_scoped_to_the_viewer_and_the_region(clean):
    furong = open_for("430102")
    assert progress.progress(db.session, actor_of("county_registrar"), furong.id, NOW).node_code == "430102"
    assert progress.progress(db.session, actor_of("prov_registrar"), furong.id, NOW).node_code == "430102"
    for who in ("county2_registrar", "county2_school_registrar"):
        with pytest.raises(NotFound):
            progress.progress(db.session, actor_of(who), furong.id, NOW)
    with pytest.raises(NotFound):  # a node outside the campaign's region
        progress.progress(db.session, actor_of("prov_registrar"), furong.id, NOW, "430202")
    assert furong.id not in {c.id for c in campaigns.visible(db.session, actor_of("county2_registrar"))}
    assert furong.id in {c.id for c in campaigns.visible(db.session, actor_of("school_registrar"))}
