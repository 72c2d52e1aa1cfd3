"""Generate filled-in official templates (any number of rows) for the import tests and benchmark."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

from openpyxl import Workbook
from stdnum.cn import ric

from app.documents.columns import COLUMNS

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "浩宇轩然博文子涵俊杰明辰阳睿泽宏志伟磊晨欣怡梓语桐诗雨萱可馨佳琪悦婷雅静思彤妍心若晴"
LABELS = {"gender": ["男", "女"], "ethnicity": ["汉族"] * 9 + ["土家族"], "nationality": ["中国"],
          "id_type": ["居民身份证"], "hmt_status": ["否"], "health": ["健康或良好"],
          "political_status": ["少先队员"], "hukou_nature": ["农业户口", "非农业户口"],
          "entry_mode": ["就近入学"], "study_mode": ["走读"], "left_behind": ["非留守儿童"],
          "travel_mode": ["步行", "家长自行接送"], "student_source": ["正常入学"], "blood_type": ["未知"],
          "disability": ["无残疾"], "inclusive_schooling": ["非随班就读"], "relation": ["父亲", "母亲"],
          "yes_no": ["否", "是"]}


def _id(rng: random.Random, area: str, born: date, male: bool, used: set) -> str:
    while True:
        seq = rng.randrange(0, 500) * 2 + (1 if male else 0)
        body = f"{area}{born:%Y%m%d}{seq:03d}"
        number = body + ric.calc_check_digit(body + "0")
        if number not in used:
            used.add(number)
            return number


def student_row(rng: random.Random, school_code: str, class_name: str, grade: int, year: int,
                used: set, area: str = "430102") -> dict[str, object]:
    """One realistic row: {header: cell value} with labels, as a registrar fills the template."""
    entry = year - grade + 1
    born = date(entry - 7, 9, 1) + timedelta(days=rng.randrange(365))
    male = rng.random() < 0.5
    number = _id(rng, area, born, male, used)
    address = f"湖南省长沙市芙蓉区五一大道{rng.randrange(1, 999)}号"
    row = {"学校标识码": school_code, "姓名": rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
           "性别": "男" if male else "女", "出生日期": born.isoformat(), "出生地": f"{area}001000",
           "籍贯": "湖南长沙", "身份证件号": number, "户口所在地": f"{area}001001", "班级": class_name,
           "入学年月": f"{entry}-09", "现住址": address, "通信地址": address, "家庭地址": address,
           "联系电话": f"13{rng.randrange(10**9):09d}", "邮政编码": "410000",
           "上下学距离（公里）": round(rng.uniform(0.5, 9), 1), "成员1姓名": rng.choice(SURNAMES) + "父",
           "成员1关系": "父亲", "成员1是否监护人": "是", "成员1联系电话": f"139{rng.randrange(10**8):08d}",
           "成员1身份证件类型": "居民身份证", "成员1现住址": address}
    for col in COLUMNS:
        if col.header in row or col.owner == "member2" or col.spec.kind != "code" and col.spec.kind != "bool":
            continue
        if col.owner == "member1" and col.header not in row:
            continue
        table = "yes_no" if col.spec.kind == "bool" else col.spec.code_table
        row[col.header] = rng.choice(LABELS.get(table, ["否"]))
    row["性别"] = "男" if male else "女"
    return row


def write(path: Path, rows, headers: list[str] | None = None) -> Path:
    """Stream rows ({header: value}) into an .xlsx with the template's headers."""
    headers = headers or [c.header for c in COLUMNS]
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("学生信息")
    ws.append(headers)
    for row in rows:
        ws.append([row.get(h) for h in headers])
    wb.save(path)
    return path


def generate(path: Path, n: int, school_code: str, classes: list[tuple[str, int]], year: int = 2026,
             seed: int = 7, area: str = "430102") -> Path:
    """``n`` rows spread over ``classes`` [(class name, grade)], written to ``path``."""
    rng, used = random.Random(seed), set()
    rows = (student_row(rng, school_code, *classes[i % len(classes)], year, used, area) for i in range(n))
    return write(path, rows)
