"""The official template to download: the 71 headers, drop-down lists of labels for every coded
column, text-formatted ID, phone and code columns, and a sheet explaining every column."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

from .columns import COLUMNS, TEXT_KINDS

ROWS = 5000  # rows that carry the drop-downs and the text format
HEAD = Font(bold=True)
REQUIRED = PatternFill("solid", fgColor="FFF2CC")
KIND_ZH = {"text": "文本", "code": "从下拉列表选择", "bool": "是 / 否", "date": "日期，如 2011-01-01",
           "month": "年月，如 2019-09", "region": "12 位行政区划代码", "number": "数字",
           "id_number": "文本（勿存为数字）", "phone": "文本（保留开头的 0）", "postcode": "6 位数字",
           "email": "电子信箱", "url": "网址", "class": "本校班级名称", "school": "10 位学校标识码"}


def build(labels: dict[str, list[str]], classes: list[str] | None = None, *, title: str = "学生信息",
          notes: tuple[str, ...] = ()) -> bytes:
    """The workbook: 学生信息 (to fill; ``title`` names it), 填写说明 (how, with ``notes`` first),
    代码 (the lists, hidden)."""
    book = Workbook()
    sheet = book.active
    sheet.title = title
    lists = book.create_sheet("代码")
    _lists(book, lists, labels, classes or [])
    for i, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=i, value=column.header)
        cell.font = HEAD
        if column.spec.required and column.owner != "member2":
            cell.fill = REQUIRED
        letter = get_column_letter(i)
        sheet.column_dimensions[letter].width = max(10, len(column.header) * 2 + 2)
        if column.spec.kind in TEXT_KINDS or column.spec.kind == "class":
            for row in range(2, ROWS + 2):
                sheet.cell(row=row, column=i).number_format = "@"
        source = _list_name(column)
        if source:
            check = DataValidation(type="list", formula1=f"={source}", allow_blank=True,
                                   showErrorMessage=True, errorTitle="无效的选项",
                                   error=f"请从下拉列表选择{column.header}")
            check.add(f"{letter}2:{letter}{ROWS + 1}")
            sheet.add_data_validation(check)
    sheet.freeze_panes = "C2"
    _explain(book.create_sheet("填写说明", 1), labels, notes)
    lists.sheet_state = "hidden"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _list_name(column) -> str | None:
    if column.spec.kind == "code":
        return f"list_{column.spec.code_table}"
    if column.spec.kind == "bool":
        return "list_yes_no"
    if column.spec.kind == "class":
        return "list_classes"
    return None


def _lists(book, sheet, labels: dict[str, list[str]], classes: list[str]) -> None:
    tables = dict(labels) | {"classes": classes}
    for i, (table, values) in enumerate(sorted(tables.items()), start=1):
        letter = get_column_letter(i)
        sheet.cell(row=1, column=i, value=table)
        for row, value in enumerate(values, start=2):
            sheet.cell(row=row, column=i, value=value)
        last = max(len(values) + 1, 2)
        book.defined_names[f"list_{table}"] = DefinedName(
            f"list_{table}", attr_text=f"'代码'!${letter}$2:${letter}${last}")


def _explain(sheet, labels: dict[str, list[str]], notes: tuple[str, ...] = ()) -> None:
    sheet.append(["列", "表头", "必填", "填写要求", "可选值（节选）"])
    for cell in sheet[1]:
        cell.font = HEAD
    for i, column in enumerate(COLUMNS, start=1):
        spec = column.spec
        options = "、".join(labels.get("yes_no" if spec.kind == "bool" else spec.code_table or "", [])[:12])
        required = "是" if spec.required and column.owner != "member2" else ""
        rule = KIND_ZH.get(spec.kind, "")
        if spec.max_length and spec.kind == "text":
            rule = f"文本，最长 {spec.max_length} 字"
        sheet.append([get_column_letter(i), column.header, required, rule, options])
    sheet.append([])
    for line in (*notes, "成员2可整行不填（单亲家庭、一名监护人即可）。",
                 "身份证件号、联系电话请保持文本格式，勿让 Excel 转为数字（否则末几位会丢失）。",
                 "随班就读须与残疾类型一致：非随班就读对应无残疾，视力/听力/智力对应相应残疾。",
                 "学生身份证件类型为“其他”时，须填写家庭成员的身份证件号。"):
        sheet.append([None, line])
    for col, width in zip("ABCDE", (6, 26, 6, 30, 80)):
        sheet.column_dimensions[col].width = width
    for row in sheet.iter_rows(min_row=2):
        row[3].alignment = Alignment(wrap_text=True)
