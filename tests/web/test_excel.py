"""Excel in and out: messy workbooks (each real-world failure of REFERENCE.md §3) with exactly which
rows are accepted, normalised or rejected and why; commit, idempotence, resume; the report; hostile
files; the template; the export round trip; the confirmation forms."""

from __future__ import annotations

import io
import json
import random
import zipfile
from datetime import date

import pytest
from factories import actor_of, school
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from workbooks import student_row

from app.extensions import db
from app.models import ExportLog, ImportJob, Request, School, Student
from app.services.exchange import imports

SCHOOL = "4301020001"


def _rows(n: int, seed: int) -> list[dict]:
    rng, used = random.Random(seed), set()
    klass = next(c for c in sorted(school(SCHOOL).classes, key=lambda c: c.id) if c.grade.number == 3)
    return [student_row(rng, SCHOOL, klass.name, 3, 2026, used) for _ in range(n)]


def _book(rows: list[dict], headers: list[str] | None = None, *, group_row: list | None = None,
          trailing_blank: int = 0, keys: list[str] | None = None) -> bytes:
    from app.documents.columns import COLUMNS

    headers = headers or [c.header for c in COLUMNS]
    book = Workbook()
    sheet = book.active
    if group_row:  # runs of one label become one merged cell, as Excel users make them
        sheet.append(group_row)
        start = 0
        for col in range(1, len(group_row) + 1):
            if col == len(group_row) or group_row[col] != group_row[start]:
                if group_row[start] and col - start > 1:
                    sheet.merge_cells(start_row=1, start_column=start + 1, end_row=1, end_column=col)
                start = col
    sheet.append(headers)
    for row in rows:
        sheet.append([row.get(k) for k in keys or headers] if row else [])
    for _ in range(trailing_blank):
        sheet.append([None] * len(headers))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _check(data: bytes, name: str = "messy.xlsx") -> ImportJob:
    job = imports.upload(db.session, school=school(SCHOOL), actor=actor_of("school_registrar"),
                         filename=name, data=data)
    return imports.dry_run(db.session, job, _now())


def _now():
    from datetime import datetime

    return datetime(2026, 9, 15, 10)


def _problems(job: ImportJob) -> set[tuple[int, str, str]]:
    return {(p["row"], p["column"], p["code"]) for p in job.problems}


def test_a_messy_workbook_accepts_normalises_and_rejects_exactly_the_right_rows(ctx):
    rows = _rows(16, seed=101)
    rows[1]["身份证件号"] = float(rows[1]["身份证件号"][:17] + "0")  # Excel made it a number
    rows[2]["身份证件号"] = rows[2]["身份证件号"].lower()  # a lowercase x (or none): accepted
    rows[3]["身份证件号"] = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c
                                for c in rows[3]["身份证件号"])  # full-width digits
    rows[3]["姓名"] = "  " + rows[3]["姓名"] + " "
    born = date.fromisoformat(rows[4]["出生日期"])
    rows[4]["出生日期"] = (born - date(1899, 12, 30)).days  # an Excel serial number
    rows[5]["出生日期"] = rows[5]["出生日期"].replace("-", ".")  # 2018.10.01
    rows[5]["入学年月"] = "2024年9月"
    rows[6]["身份证件号"] = rows[6]["身份证件号"][:-1] + ("0" if rows[6]["身份证件号"][-1] != "0" else "1")
    rows[7]["残疾类型"] = "视力残疾"  # but 随班就读 says 非随班就读
    rows[8]["班级"] = "不存在的班"
    rows[9]["邮政编码"] = "41000"
    rows[10]["户口所在地"] = "43010200100"  # 11 digits
    for key in ("身份证件号", "出生日期", "性别"):  # the first row's child, entered twice
        rows[11][key] = rows[0][key]
    rows[12] = {}  # a blank row in the middle
    rows[13]["联系电话"] = 7318888888.0  # a landline that lost its leading 0
    rows[14]["成员2姓名"] = "补充家长"  # a half-filled member 2
    rows[15]["民族"] = "汉"  # not a label of the code table
    job = _check(_book(rows, trailing_blank=3))
    assert _problems(job) == {
        (3, "身份证件号", "numeric_id"), (8, "身份证件号", "invalid_id"),
        (9, "随班就读", "agreement"), (10, "班级", "class"), (11, "邮政编码", "format"),
        (12, "户口所在地", "format"), (13, "身份证件号", "duplicate_in_file"),
        (15, "联系电话", "lost_zero"), (16, "成员2关系", "required"), (16, "成员2是否监护人", "required"),
        (17, "民族", "code")}
    assert (job.rows_total, job.rows_invalid) == (15, 10)
    assert job.status == "checked"
    imports.commit(db.session, job, actor_of("school_registrar"), _now(), valid_only=True)
    stored = {s.name for s in db.session.scalars(select(Student).where(Student.import_job_id == job.id))}
    assert len(stored) == 5 and rows[3]["姓名"].strip() in stored
    fullwidth = db.session.scalar(select(Student).where(Student.name == rows[3]["姓名"].strip()))
    assert fullwidth.id_number.isascii() and fullwidth.birth_date.isoformat() == fullwidth.id_number[6:10] + "-" + \
        fullwidth.id_number[10:12] + "-" + fullwidth.id_number[12:14]
    serial = db.session.scalar(select(Student).where(Student.name == rows[4]["姓名"]))
    assert serial.birth_date == born


def test_headers_drive_the_import_reordered_with_extras_and_a_merged_group_row(ctx):
    from app.documents.columns import COLUMNS

    rows = _rows(3, seed=202)
    headers = [c.header for c in COLUMNS]
    random.Random(3).shuffle(headers)
    headers.insert(5, "备注")
    job = _check(_book(rows, headers))
    assert job.problems == [] and job.rows_valid == 3
    # a two-row header: 家庭成员1 / 家庭成员2 merged above 姓名, 关系 ...
    plain = [c.header for c in COLUMNS]
    sub = [h[3:] if h.startswith("成员") else h for h in plain]
    groups = [("家庭成员1" if h.startswith("成员1") else "家庭成员2" if h.startswith("成员2") else None)
              for h in plain]
    job = _check(_book(_rows(2, seed=203), sub, group_row=groups, keys=plain))
    assert job.problems == [] and job.rows_valid == 2


def test_missing_required_columns_are_named(ctx):
    from app.documents.columns import COLUMNS

    headers = [c.header for c in COLUMNS if c.header not in ("身份证件号", "班级")]
    job = _check(_book(_rows(1, seed=303), headers))
    assert job.status == "refused" and "身份证件号" in job.message and "班级" in job.message


def test_commit_is_all_or_nothing_by_default_and_a_reimport_changes_nothing(ctx):
    rows = _rows(4, seed=404)
    rows[3]["性别"] = "未知"
    job = _check(_book(rows))
    from app.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        imports.commit(db.session, job, actor_of("school_registrar"), _now())
    assert db.session.scalar(select(func.count()).select_from(Student)
                             .where(Student.import_job_id == job.id)) == 0
    rows[3]["性别"] = "男" if int(rows[3]["身份证件号"][16]) % 2 else "女"
    data = _book(rows)
    first = _check(data)
    imports.commit(db.session, first, actor_of("school_registrar"), _now())
    assert first.created == 4 and first.status == "done"
    review = db.session.get(Request, first.request_id)
    assert review.kind == "register_in_school" and review.status == "pending"
    again = _check(data)
    imports.commit(db.session, again, actor_of("school_registrar"), _now())
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    rows[0]["特长"] = "围棋"  # a corrected row waits while its review does, naming the request
    held = _check(_book(rows))
    assert held.rows_invalid == 1 and held.problems[0]["code"] == "under_review"
    assert f"#{review.id}" in held.problems[0]["message"]
    from app.services.requests import workflow

    workflow.decide(db.session, review.id, actor_of("school_supervisor"), "return", _now(),
                    comment="请核对特长")
    fixed = _check(_book(rows))  # returned: the corrected row updates its record
    imports.commit(db.session, fixed, actor_of("school_registrar"), _now())
    assert (fixed.created, fixed.updated, fixed.unchanged) == (0, 1, 3)
    assert db.session.scalar(select(Student).where(Student.name == rows[0]["姓名"])).specialty == "围棋"


def test_an_imports_registration_review_can_be_returned_corrected_and_resubmitted(ctx):
    from app.services.requests import workflow

    job = _check(_book(_rows(3, seed=4242)))
    imports.commit(db.session, job, actor_of("school_registrar"), _now())
    review = db.session.get(Request, job.request_id)
    workflow.decide(db.session, review.id, actor_of("school_supervisor"), "return", _now(),
                    comment="请核对家庭成员")
    assert review.status == "returned"
    record = db.session.scalar(select(Student).where(Student.import_job_id == job.id)
                               .order_by(Student.id))
    record.ethnicity = None  # still wrong at resubmission: named with the record's name
    db.session.commit()
    from app.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as refused:
        workflow.resubmit(db.session, review.id, actor_of("school_registrar"), _now())
    assert record.name in str(refused.value)
    record = db.session.get(Student, record.id)
    record.ethnicity = "01"
    db.session.commit()
    workflow.resubmit(db.session, review.id, actor_of("school_registrar"), _now())
    assert db.session.get(Request, review.id).status == "pending"


def test_an_interrupted_import_resumes_without_doubling(ctx, monkeypatch):
    from app.services.exchange import import_writes

    rows = _rows(6, seed=505)
    job = _check(_book(rows))
    monkeypatch.setattr(imports, "CHECKPOINT", 2)
    real, calls = import_writes.write, []

    def flaky(session, job_, batch, actor, now):
        calls.append(len(batch))
        if len(calls) == 2:
            raise RuntimeError("the power went out")
        return real(session, job_, batch, actor, now)

    monkeypatch.setattr(import_writes, "write", flaky)
    with pytest.raises(RuntimeError):
        imports.commit(db.session, job, actor_of("school_registrar"), _now())
    db.session.expire_all()
    job = db.session.get(ImportJob, job.id)
    assert job.status == "failed" and job.rows_done == 3 and job.created == 2
    monkeypatch.setattr(import_writes, "write", real)
    imports.commit(db.session, job, actor_of("school_registrar"), _now())
    assert job.status == "done" and job.created == 6
    assert db.session.scalar(select(func.count()).select_from(Student)
                             .where(Student.import_job_id == job.id)) == 6


def test_a_running_commit_is_not_started_twice_and_a_stalled_one_resumes(ctx, client_for):
    from datetime import timedelta

    from app.models.base import local_now

    job = _check(_book(_rows(3, seed=515)))
    imports.claim(db.session, job, actor_of("school_registrar"))  # a worker has it
    web = client_for("school_registrar")
    page = web.post(f"/imports/job/{job.id}/commit", data={"mode": "all"}, follow_redirects=True)
    assert "该导入正在进行中" in page.get_data(as_text=True) and 'id="commit"' not in page.get_data(as_text=True)
    db.session.expire_all()
    assert (job.status, job.rows_done, job.created) == ("committing", 0, 0)
    db.session.execute(ImportJob.__table__.update().where(ImportJob.id == job.id)
                       .values(updated_at=local_now() - timedelta(minutes=11)))  # the worker died
    db.session.commit()
    assert 'id="commit"' in web.get(f"/imports/job/{job.id}").get_data(as_text=True)
    web.post(f"/imports/job/{job.id}/commit", data={"mode": "all"})
    db.session.expire_all()
    assert (job.status, job.created) == ("done", 3)


def test_the_report_marks_each_bad_cell_with_its_problem(ctx, client_for):
    rows = _rows(3, seed=606)
    rows[1]["邮政编码"] = "4100"
    job = _check(_book(rows))
    r = client_for("school_registrar").get(f"/imports/job/{job.id}/report")
    sheet = load_workbook(io.BytesIO(r.data)).active
    headers = [c.value for c in sheet[1]]
    bad = sheet.cell(row=3, column=headers.index("邮政编码") + 1)
    assert bad.fill.fgColor.rgb.endswith("FFC7CE") and "邮政编码" in bad.comment.text
    assert "邮政编码" in sheet.cell(row=3, column=len(headers)).value
    assert sheet.cell(row=2, column=len(headers)).value is None


def test_the_command_line_prints_json_with_rows_counted_as_in_excel(app, ctx, tmp_path):
    rows = _rows(2, seed=707)
    rows[1]["出生日期"] = "生日"
    path = tmp_path / "cli.xlsx"
    path.write_bytes(_book(rows))
    result = app.test_cli_runner().invoke(args=["import", "students", str(path), "--school", SCHOOL,
                                                "--dry-run", "--json"])
    report = json.loads(result.output[result.output.index("{"):result.output.rindex("}") + 1])
    assert result.exit_code == 1 and (report["rows"], report["valid"], report["invalid"]) == (2, 1, 1)
    assert report["errors"][0]["row"] == 3 and report["errors"][0]["column"] == "出生日期"


def test_the_command_line_exports_a_school_or_an_accounts_jurisdiction(app, ctx, tmp_path):
    from app.models import Jurisdiction

    runner = app.test_cli_runner()
    out = tmp_path / "school.xlsx"
    result = runner.invoke(args=["export", "students", str(out), "--school", SCHOOL])
    own = db.session.scalar(select(func.count()).select_from(Student)
                            .where(Student.school_id == school(SCHOOL).id))
    assert result.exit_code == 0 and f"{own} students of {SCHOOL}" in result.output
    assert load_workbook(out).active.max_row == own + 1
    county = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == "430102"))
    in_county = db.session.scalar(select(func.count()).select_from(Student).join(School)
                                  .where(School.jurisdiction_id == county.id))
    result = runner.invoke(args=["export", "students", str(tmp_path / "county.xlsx"),
                                 "--as", "county_registrar"])  # a whole county waits for approval
    assert result.exit_code == 3 and f"{in_county} students of 430102" in result.output, result.output
    assert "held for a supervisor's approval" in result.output and not (tmp_path / "county.xlsx").exists()
    assert in_county > own
    result = runner.invoke(args=["export", "students", str(tmp_path / "x.xlsx"), "--school", "4302020001",
                                 "--as", "county_registrar"])
    assert result.exit_code == 1 and "may not see school 4302020001" in result.output
    assert runner.invoke(args=["export", "students", str(tmp_path / "y.xlsx")]).exit_code == 2


@pytest.mark.parametrize("name,data,says", [
    ("a.xlsx", b"%PDF-1.4 not a workbook", "不是 .xlsx"),
    ("b.xlsx", b"PK\x03\x04 broken zip", "损坏"),
    ("c.xlsx", b"", "不是 .xlsx"),
])
def test_files_that_are_not_sane_workbooks_are_refused(ctx, name, data, says):
    from app.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as caught:
        imports.upload(db.session, school=school(SCHOOL), actor=actor_of("school_registrar"),
                       filename=name, data=data)
    assert says in str(caught.value)


def test_a_zip_bomb_is_refused_before_it_inflates(ctx):
    from app.errors import ValidationFailed

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (700 * 2**20))  # 700 MB of zeros
    assert len(buffer.getvalue()) < 2 * 2**20
    with pytest.raises(ValidationFailed) as caught:
        imports.upload(db.session, school=school(SCHOOL), actor=actor_of("school_registrar"),
                       filename="bomb.xlsx", data=buffer.getvalue())
    assert "解压" in str(caught.value)


def test_absurd_row_counts_are_refused(ctx, monkeypatch):
    from app.documents import reader
    from app.errors import ValidationFailed

    monkeypatch.setattr(reader, "MAX_ROWS", 5)
    with pytest.raises(ValidationFailed) as caught:
        imports.upload(db.session, school=school(SCHOOL), actor=actor_of("school_registrar"),
                       filename="big.xlsx", data=_book(_rows(20, seed=808)))
    assert "行数超过" in str(caught.value)


def test_the_template_has_drop_downs_text_columns_and_an_explanation(ctx, client_for):
    r = client_for("school_registrar").get("/imports/template")
    book = load_workbook(io.BytesIO(r.data))
    sheet = book["学生信息"]
    headers = [c.value for c in sheet[1]]
    assert len(headers) == 71 and headers[12] == "身份证件号"
    id_column = headers.index("身份证件号") + 1
    assert sheet.cell(row=2, column=id_column).number_format == "@"
    formulas = {v.formula1 for v in sheet.data_validations.dataValidation}
    assert "=list_ethnicity" in formulas and "=list_classes" in formulas
    assert "填写说明" in book.sheetnames and book["代码"].sheet_state == "hidden"


def test_export_then_import_changes_nothing_and_is_logged(ctx, client_for):
    from app.services.record import students

    busy = select(Request.open_student_id).where(Request.open_student_id.is_not(None))
    edited, legacy = db.session.scalars(select(Student).where(  # no review waits: edited directly
        Student.school_id == school(SCHOOL).id, ~Student.id.in_(busy)).order_by(Student.id).limit(2))
    edited.former_name, edited.specialty = "", "  "  # what a form sends for a blank box
    students.prepare_update(db.session, edited, actor_of("school_registrar"), _now())
    db.session.commit()
    assert (edited.former_name, edited.specialty) == (None, None)
    db.session.execute(Student.__table__.update().where(Student.id == legacy.id)
                       .values(former_name="", blood_type=""))  # stored blank before that rule
    db.session.commit()
    from pathlib import Path

    r = client_for("school_registrar").get("/imports/export/students")
    assert r.status_code == 200 and int(r.headers["Content-Length"]) == len(r.data)
    assert not list(Path(ctx.config["INSTANCE_DIR"]).glob("tmp*.xlsx"))  # written to disk, sent, removed
    log = db.session.scalars(select(ExportLog).order_by(ExportLog.id.desc())).first()
    own = school(SCHOOL)
    count = db.session.scalar(select(func.count()).select_from(Student).where(Student.school_id == own.id))
    assert (log.username, log.rows, log.school_id) == ("school_registrar", count, own.id)
    job = _check(r.data, "export.xlsx")
    assert job.problems == [] or all(p["code"] != "duplicate_id" for p in job.problems)
    valid_only = bool(job.rows_invalid)
    imports.commit(db.session, job, actor_of("school_registrar"), _now(), valid_only=valid_only)
    assert job.created == 0 and job.updated == 0


def _exported(tmp_path) -> bytes:
    from app.services.exchange import exports

    target = tmp_path / "export.xlsx"
    exports.write(db.session, actor_of("school_registrar"), "students", target, school(SCHOOL))
    return target.read_bytes()


def test_known_records_are_not_new_registrations_outside_the_window(ctx, tmp_path):
    """In November the export re-imports unchanged; only a new first-grader meets the closed window."""
    from datetime import datetime

    november = datetime(2026, 11, 23, 10)
    data = _exported(tmp_path)
    job = imports.upload(db.session, school=school(SCHOOL), actor=actor_of("school_registrar"),
                         filename="again.xlsx", data=data)
    imports.dry_run(db.session, job, november)
    assert (job.status, job.message) == ("checked", None)
    assert not any(p["code"] in ("outside_window", "class_full") for p in job.problems)
    first = next(c for c in sorted(school(SCHOOL).classes, key=lambda c: c.id) if c.grade.number == 1)
    newcomer = student_row(random.Random(909), SCHOOL, first.name, 1, 2026, set())
    job = imports.upload(db.session, school=school(SCHOOL), actor=actor_of("school_registrar"),
                         filename="new.xlsx", data=_book([newcomer]))
    imports.dry_run(db.session, job, november)
    assert job.status == "refused" and "09-01 至 09-30" in job.message and "rules/430000.yaml" in job.message


def test_a_corrected_row_meets_the_forms_edit_rules(ctx, tmp_path):
    """Known records are edits: a controlled item (民族) of a registered student is refused in the
    dry run, by row and column, as the form refuses it; a free item (特长) goes through."""
    from factories import registered_in

    locked, free = registered_in(SCHOOL), registered_in(SCHOOL, grade=5)
    assert locked.id != free.id and locked.ethnicity != "14"
    ethnicity = locked.ethnicity
    exported = _exported(tmp_path)
    # other tests leave partial records in the shared school: count what the unchanged export refuses
    before = _check(exported, "unchanged.xlsx").rows_invalid
    book = load_workbook(io.BytesIO(exported))
    sheet = book.active
    headers = [c.value for c in sheet[1]]
    by_id = {row[headers.index("身份证件号")].value: row for row in sheet.iter_rows(min_row=2)}
    by_id[locked.id_number][headers.index("民族")].value = "土家族"  # code 14
    by_id[free.id_number][headers.index("特长")].value = "书法"
    locked_row, free_row = by_id[locked.id_number][0].row, by_id[free.id_number][0].row
    buffer = io.BytesIO()
    book.save(buffer)
    job = _check(buffer.getvalue(), "corrected.xlsx")
    assert job.status == "checked" and job.rows_invalid == before + 1
    assert (locked_row, "民族", "controlled_field") in _problems(job)
    assert not [p for p in job.problems if p["row"] == free_row]
    imports.commit(db.session, job, actor_of("school_registrar"), _now(), valid_only=True)
    assert (job.updated, job.created) == (1, 0)
    assert db.session.get(Student, free.id).specialty == "书法"  # (the export let go of both objects)
    assert db.session.get(Student, locked.id).ethnicity == ethnicity


def test_a_formula_looking_value_is_exported_as_text(ctx, tmp_path):
    student = db.session.scalar(select(Student).where(Student.school_id == school(SCHOOL).id))
    student.specialty = "=HYPERLINK(\"http://x\")"
    db.session.commit()
    sheet = load_workbook(io.BytesIO(_exported(tmp_path))).active
    specialty = [c.value for c in sheet[1]].index("特长") + 1
    cells = [row[specialty - 1] for row in sheet.iter_rows(min_row=2) if row[specialty - 1].value]
    target = next(c for c in cells if str(c.value).startswith("=HYPERLINK"))
    assert target.data_type == "s" and target.quotePrefix


def test_another_countys_school_cannot_be_exported(ctx, client_for):
    assert client_for("county_registrar").get("/imports/export/students?school=4302020001").status_code == 404


def test_confirmation_forms_follow_the_switch_and_window_then_print_one_page_each(app, ctx, client_for):
    client = client_for("school_registrar")
    r = client.get("/imports/export/confirmation", follow_redirects=True)
    assert "数据质量核查" in r.get_data(as_text=True)  # 2026-09-15: the verification has not opened
    before = app.config["XUEJI_FIXED_NOW"]
    app.config["XUEJI_FIXED_NOW"] = "2026-10-20T10:00:00"
    try:
        pdf = client.get("/imports/export/confirmation?format=pdf")
        xlsx = client.get("/imports/export/confirmation")
    finally:
        app.config["XUEJI_FIXED_NOW"] = before
    count = db.session.scalar(select(func.count()).select_from(Student)
                              .where(Student.school_id == school(SCHOOL).id))
    assert pdf.data.startswith(b"%PDF") and pdf.data.count(b"/Type /Page\n") + pdf.data.count(b"/Type /Page ") >= 1
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert len(sheet.row_breaks.brk) == count
    assert any("家长（监护人）签字" in str(c.value) for c in sheet["A"] if c.value)
