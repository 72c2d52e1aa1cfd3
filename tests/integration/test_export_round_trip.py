"""The export's writer (XlsxWriter, constant-memory) round-trips through the importer: a student with
every kind of value -- an ID ending in X, leading zeros, dates, a number, code labels, empty cells, a
link, text the writer must not take for a formula or for XML, two family members -- is imported,
exported and imported again unchanged, each cell as it went in."""

from __future__ import annotations

import io
import random
import zipfile
from datetime import date, datetime

from factories import actor_of, school
from openpyxl import load_workbook
from sqlalchemy import select
from stdnum.cn import ric
from workbooks import student_row, write

from app.documents import export as workbook
from app.documents import export_process
from app.extensions import db
from app.models import Student
from app.models.base import keyring
from app.services.exchange import exports, imports

SCHOOL = "4301020001"
NOW = datetime(2026, 9, 15, 10)  # inside the registration window


def _id_ending_in_x(born: date, male: bool) -> str:
    """A valid resident ID number ending in X that nobody holds yet."""
    ring = keyring()
    for seq in range(1 if male else 2, 999, 2):
        body = f"430102{born:%Y%m%d}{seq:03d}"
        number = body + ric.calc_check_digit(body + "0")
        blind = ring.blind_index("id_number", number)
        held = db.session.scalar(select(Student.id).where(Student.id_blind == blind))
        if number.endswith("X") and not held:
            return number
    raise AssertionError("no free ID number ending in X")


def _every_kind() -> dict:
    klass = next(c for c in sorted(school(SCHOOL).classes, key=lambda c: c.id) if c.grade.number == 3)
    row = student_row(random.Random(1414), SCHOOL, klass.name, 3, 2026, set())
    born = date(2018, 3, 9)
    row.update({
        "身份证件号": _id_ending_in_x(born, male=False), "性别": "女", "出生日期": born.isoformat(),
        "联系电话": "07318812345", "邮政编码": "010010", "上下学距离（公里）": 2.5,
        "电子信箱": "mother@example.cn", "主页地址": "http://www.example.cn/home",
        "特长": "<r>书法</r>", "曾用名": None, "血型": None, "班内学号": "007",
        "成员1身份证件号": _id_ending_in_x(date(1986, 5, 20), male=True), "成员1工作单位": "-", "成员1职务": "@home",
        "成员2姓名": "王母", "成员2关系": "母亲", "成员2是否监护人": "否", "成员2联系电话": "0731-8812346",
        "成员2身份证件类型": "居民身份证", "成员2现住址": "湖南省长沙市芙蓉区 五一大道 1 号",
    })
    return row


def _import(data: bytes, name: str):
    job = imports.upload(db.session, school=school(SCHOOL), actor=actor_of("school_registrar"),
                         filename=name, data=data)
    return imports.dry_run(db.session, job, NOW)


def test_an_export_reimports_every_kind_of_value_unchanged(ctx, tmp_path):
    row = _every_kind()
    first = _import(write(tmp_path / "in.xlsx", [row]).read_bytes(), "in.xlsx")
    assert first.problems == []
    imports.commit(db.session, first, actor_of("school_registrar"), NOW)
    assert first.created == 1
    record = db.session.scalar(select(Student).where(Student.import_job_id == first.id))
    record.secondary_registry_no = row["学籍辅号"] = "=1+1"  # a formula to Excel (the import file's writer too)
    db.session.commit()

    out = io.BytesIO()
    exports.write(db.session, actor_of("school_registrar"), "students", out, school(SCHOOL))
    sheet = load_workbook(io.BytesIO(out.getvalue())).active
    headers = [c.value for c in sheet[1]]
    cells = next(r for r in sheet.iter_rows(min_row=2) if r[headers.index("身份证件号")].value == row["身份证件号"])
    got = {h: c.value for h, c in zip(headers, cells)}
    assert {h: got[h] for h in row} == {h: (None if v in (None, "") else v) for h, v in row.items()}
    assert all(got[h] is None for h in headers if h not in row)  # nothing invented
    by_header = dict(zip(headers, cells))
    for header in ("身份证件号", "联系电话", "邮政编码", "成员1身份证件号"):  # text, typed into as text
        assert (by_header[header].data_type, by_header[header].number_format) == ("s", "@"), header
    assert by_header["学籍辅号"].quotePrefix and by_header["成员1职务"].quotePrefix  # never a formula
    assert by_header["主页地址"].hyperlink is None and by_header["上下学距离（公里）"].data_type == "n"

    again = _import(out.getvalue(), "export.xlsx")
    mine = [p for p in again.problems if p["row"] == cells[0].row]
    assert mine == []
    imports.commit(db.session, again, actor_of("school_registrar"), NOW, valid_only=bool(again.rows_invalid))
    assert (again.created, again.updated) == (0, 0)


def test_text_xlsxwriter_would_take_for_rich_text_xml_is_written_as_text(tmp_path):
    """A value shaped like <r>...</r> is raw XML to XlsxWriter's constant-memory mode: escaped here."""
    values = ["<r><t>x</t></r>", "<r>a & b</r>", "<r></worksheet></r>", "=<r>1</r>"]
    rows = [[v] + [None] * (len(workbook.COLUMNS) - 1) for v in values]
    assert workbook.write(rows, tmp_path / "x.xlsx") == len(values)
    sheet = load_workbook(tmp_path / "x.xlsx").active
    assert [r[0].value for r in sheet.iter_rows(min_row=2)] == values


def test_a_large_export_written_by_a_process_of_its_own_is_the_same_file(ctx, monkeypatch):
    def parts(data: bytes) -> dict:
        with zipfile.ZipFile(io.BytesIO(data)) as book:  # docProps/core.xml: when it was made
            return {name: book.read(name) for name in book.namelist() if name != "docProps/core.xml"}

    def exported() -> bytes:
        out = io.BytesIO()
        exports.write(db.session, actor_of("school_registrar"), "students", out, school(SCHOOL))
        return out.getvalue()

    by_process, write = [], export_process.write

    def spied(rows, out):
        by_process.append(out)
        return write(rows, out)

    monkeypatch.setattr(export_process, "write", spied)
    monkeypatch.setattr(export_process, "_spare_core", lambda: True)  # however busy the machine
    monkeypatch.setitem(ctx.config, "XUEJI_EXPORT_PROCESS_ROWS", 0)  # never
    inline = exported()
    monkeypatch.setitem(ctx.config, "XUEJI_EXPORT_PROCESS_ROWS", 1)
    assert parts(exported()) == parts(inline) and len(by_process) == 1
