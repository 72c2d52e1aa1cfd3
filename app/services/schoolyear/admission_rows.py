"""Checking an admission list's rows (录取名单): the student import's reader and row checks, plus
what admission adds -- an entry-grade class with a seat, the enrollment window, the entry age, the
person's existing record (pulled, not re-typed) and admissions by other schools (duplicates)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...documents.reader import Layout
from ...i18n import t
from ...models import Admission, EnrollmentPlanClass, Request, Student
from ...policy import Facts, evaluate
from ...policy.engine import school_year_start
from ..common.actors import Actor
from ..exchange.import_rows import JOB_LEVEL, Checker, Row
from ..record import personal_data
from ..record.identity import RESIDENT_ID, resident_id_problem

ENTRY_GRADES = (1, 7, 10)
PULLABLE = ("graduated", "completed")  # a lower stage's finished record goes on
ON_RECORD = ("in_school", "suspended", "resuming")
STATUS_ZH = {"in_school": "在校", "suspended": "休学", "resuming": "复学中", "abroad": "出境",
             "left_other": "其他离校", "dropout": "辍学", "missing": "失踪", "deceased": "死亡",
             "graduated": "毕业", "completed": "结业", "incomplete": "肄业", "transferred_out": "转出"}
IDENTITY = (("name", "姓名"), ("gender", "性别"), ("birth_date", "出生日期"))


def school_year(now: datetime) -> int:
    """The school year an admission made at ``now`` enters (from July: the coming September)."""
    return school_year_start(now)


def live_key(year: int, blind: str) -> str:
    return f"{year}:{blind}"


@dataclass
class AdmissionRow(Row):
    """A row of the list: the import's row, and what admitting it means."""

    pull: Student | None = None  # the person's existing record, taken over
    holder: Admission | None = None  # another school's standing admission of the person
    already: bool = False  # this school admitted the person before: nothing to do
    stale: Admission | None = None  # a standing admission whose record was since deleted

    @classmethod
    def of(cls, row: Row) -> AdmissionRow:
        return cls(**{f.name: getattr(row, f.name) for f in fields(Row)})

    @property
    def grade_number(self) -> int | None:
        return self.klass.grade.number if self.klass is not None else None


class AdmissionChecker(Checker):
    """The import's checker for one school's admission list."""

    def __init__(self, session: Session, school, layout: Layout, now: datetime, actor: Actor):
        super().__init__(session, school, layout, now, actor)
        self.year = school_year(now)
        ids = [c.id for c in self.classes.values()]
        caps = select(EnrollmentPlanClass.class_id, EnrollmentPlanClass.cap).where(
            EnrollmentPlanClass.class_id.in_(ids))
        self.plan_caps = dict(session.execute(caps).all()) if ids else {}

    def rows(self, batch) -> list[AdmissionRow]:
        """A batch of (Excel row number, cells), read and checked; seats taken as rows pass."""
        rows = [AdmissionRow.of(self.convert(number, cells)) for number, cells in batch]
        for row in rows:
            if row.ok:
                self._identify(row)
        self._match(rows)
        for row in rows:
            if row.ok:
                self._admit(row)
        return rows

    # -- who the row is ---------------------------------------------------------------------------
    def _identify(self, row: AdmissionRow) -> None:
        values = row.values
        number = values.get("id_number")
        if values.get("id_type") != RESIDENT_ID or not number:
            row.problems.append(("身份证件号", "录取名单须填写居民身份证件号（用于查重和接续已有学籍）",
                                 "id_required"))
            return
        problem = resident_id_problem(number)
        if problem:
            row.problems.append(("身份证件号", str(problem), "id_number"))
            return
        row.id_blind = self.ring.blind_index("id_number", number)
        first = self.in_file_ids.setdefault(row.id_blind, row.number)
        if first != row.number:
            row.problems.append(("身份证件号", f"与第 {first} 行身份证件号重复", "duplicate_in_file"))

    def _match(self, rows: list[AdmissionRow]) -> None:
        """Each person's record and admissions, for the whole batch at once."""
        blinds = [r.id_blind for r in rows if r.ok and r.id_blind]
        if not blinds:
            return
        records: dict[str, list[Student]] = {}
        for student in self.session.scalars(select(Student).where(Student.id_blind.in_(blinds))
                                            .order_by(Student.id)):
            records.setdefault(student.id_blind, []).append(student)
        keys = [live_key(self.year, b) for b in blinds]
        holders = {a.id_blind: a for a in self.session.scalars(
            select(Admission).where(Admission.live_key.in_(keys)))}
        mine = dict(self.session.execute(select(Admission.id_blind, Admission.status).where(
            Admission.school_year == self.year, Admission.school_id == self.school.id,
            Admission.status.in_(("dropped", "duplicate")), Admission.id_blind.in_(blinds))).all())
        dropped = {b for b, status in mine.items() if status == "dropped"}
        for row in rows:
            if not row.ok:
                continue
            holder = holders.get(row.id_blind)
            if holder is not None and holder.student_id is None and holder.outcome != "none":
                row.stale, holder = holder, None  # its registration was rejected: the record went
            if (holder is not None and holder.school_id == self.school.id) or mine.get(row.id_blind) == "duplicate":
                row.already = True  # admitted here before, or already waiting for the bureau
            elif row.id_blind in dropped:
                row.problems.append(("身份证件号", "教育局已裁定该生不在本校就读（重复录取已处理）",
                                     "admission_dropped"))
            elif holder is not None:  # another school holds the person: the bureau decides
                row.holder = holder
                self._class_of(row)
            else:
                self._record(row, records.get(row.id_blind, []))

    def _record(self, row: AdmissionRow, records: list[Student]) -> None:
        """The person's record: none (a new one is typed), one to pull, or a refusal saying why."""
        if not records:
            self.check(row)  # every item, as for a new record of the student import
            return
        record = next((r for r in records if r.status in ON_RECORD), records[-1])
        stage = record.grade.stage if record.grade else None
        if record.status in ON_RECORD and stage != "preschool":
            if record.school_id == self.school.id:
                why = "该生已是本校在籍学生"
            else:
                why = str(personal_data.duplicate_problem(self.session, self.actor, record).message)
                why += "，在籍学生不能录取，须办理转学"
            row.problems.append(("身份证件号", why, "on_record"))
            return
        if record.status not in ON_RECORD and record.status not in PULLABLE:
            row.problems.append(("身份证件号", f"该身份证件号的已有学籍状态为“{STATUS_ZH.get(record.status, record.status)}”，"
                                             "不能录取接续", "status"))
            return
        if record.province_code != self.school.province_code:  # 毕业后跨省就学: three parties decide
            row.problems.append(("身份证件号", "该生是外省学籍，须由本校申请“毕业后跨省就学”，经本校主管教育部门"
                                             "和原学校主管教育部门核办后调档，不能通过录取名单接续",
                                 "other_province"))
            return
        row.pull = record
        self._pull_checks(row, record)

    def _pull_checks(self, row: AdmissionRow, record: Student) -> None:
        """A record taken over: the row names the same person, the record is free of business."""
        for name, header in IDENTITY:
            given = row.values.get(name)
            if given not in (None, "") and given != getattr(record, name):
                row.problems.append((header, f"{header}与该身份证件号的已有学籍不一致", "identity"))
        if record.problem:
            row.problems.append(("身份证件号", "已有学籍是问题学籍，须先处理", "problem_record"))
        if self.session.scalar(select(Request.id).where(Request.open_student_id == record.id)):
            row.problems.append(("身份证件号", "已有学籍有在办业务，须办结后再录取", "business_in_progress"))
        self._class_of(row)

    def _class_of(self, row: AdmissionRow) -> None:
        name = row.values.get("class_name")
        row.klass = self.classes.get(name or "")
        if row.klass is None:
            row.problems.append(("班级", f"本校没有班级“{name}”" if name else "请填写班级", "class"))

    # -- where the row goes ---------------------------------------------------------------------
    def _admit(self, row: AdmissionRow) -> None:
        if row.already:
            return
        grade = row.klass.grade if row.klass is not None else None
        if grade is None or grade.number not in ENTRY_GRADES or grade.stage not in self.school.stage_list:
            row.problems.append(("班级", "录取只能编入本校起始年级（一年级、初一、高一）的班级", "entry_grade"))
            return
        if row.pull is not None:
            before = row.pull.grade.number if row.pull.grade is not None else 0
            if before >= grade.number:
                row.problems.append(("班级", f"已有学籍在{row.pull.grade.name if row.pull.grade else ''}，"
                                           f"不能录取到{grade.name}", "entry_grade"))
                return
        self._rules(row, grade)
        if row.ok and row.holder is None:
            self.take_seat(row)

    def _rules(self, row: AdmissionRow, grade) -> None:
        """The enrollment window and the class cap (the rules', and the enrollment plan's), and
        for first grade the entry age, as first-grade registration asks it."""
        seats = self.seats.get(row.klass.id, 0)
        born = row.pull.birth_date if row.pull is not None else row.values.get("birth_date")
        checks = [Facts(action="enroll", at=self.now, codes=self.codes_chain, stage=grade.stage,
                        grade=grade.number, class_size=seats, registered=False, **self.actor_facts)]
        if grade.number == 1:
            checks.append(Facts(action="register_new", at=self.now, codes=self.codes_chain,
                                stage=grade.stage, grade=1, birth_date=born, registered=False,
                                **self.actor_facts))
        for facts in checks:
            decision = evaluate(self.ruleset, facts)
            if facts.action == "register_new":
                self._exception(row, decision)
            for v in decision.violations:
                if facts.action == "register_new" and v.code != "entry_age":
                    continue  # first-grade registration's own window is not admission's
                if v.code in JOB_LEVEL:
                    self.job_problems.setdefault(v.code, (v.message, v.source or ""))
                else:
                    column = {"class_full": "班级", "entry_age": "出生日期"}.get(v.code, "")
                    row.problems.append((column, f"{v.message}（{v.source}）" if v.source else v.message, v.code))
        cap = self.plan_caps.get(row.klass.id)
        if cap is not None and seats + 1 > cap and not any(p[2] == "class_full" for p in row.problems):
            row.problems.append(("班级", t(f"班级已满：招生计划班额 {cap} 人，现有 {seats} 人",
                                         f"the class is full: the plan's cap is {cap}, {seats} seated"),
                                 "class_full"))


    def _exception(self, row: AdmissionRow, decision) -> None:
        """Under age where the rules allow an exception: that is approved one child at a time
        (the form's registration), not through a list."""
        said = next((n for n in decision.notes if "例外" in n), None)
        if said:
            rule = self.ruleset.effective(*self.codes_chain).switches.get("entry_age")
            row.problems.append(("出生日期", f"{said}：例外须单独办理新生注册，不能通过录取名单"
                                           f"（{rule.source if rule else ''}）", "entry_age"))


def note(row: AdmissionRow, actor: Actor) -> str | None:
    """What the report says of a row that is fine but will not register anyone here."""
    if row.already:
        return "已录取（此前已提交），本次不变"
    if row.holder is not None:
        where = row.holder.school.name if actor.sees_school(row.holder.school) else "其他学校"
        return f"该生已被{where}录取：提交后列为重复录取，由教育局裁定，不重复注册"
    return None


def problem_dicts(row: AdmissionRow) -> list[dict]:
    return [{"row": row.number, "column": c, "message": str(m), "code": k} for c, m, k in row.problems]


def summary(counts: dict) -> str:
    return (f"新建学籍 {counts['new']} 人，接续已有学籍 {counts['pulled']} 人，"
            f"重复录取待裁定 {counts['duplicate']} 人，此前已录取 {counts['already']} 人")
