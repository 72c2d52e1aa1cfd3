"""The admin form: a registrar's typing survives a mistake, and the errors sit beside their fields."""

from __future__ import annotations

import re

from factories import bad_checksum, first_class, new_id, register_fully, student_payload
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, RegistryNumber, Student


def form_data(payload: dict) -> dict:
    """The JSON payload as the HTML form posts it (checkboxes 'y', members as m1_ fields)."""
    data = {}
    for key, value in payload.items():
        if key == "members":
            for n, member in enumerate(value, start=1):
                for mk, mv in member.items():
                    data[f"m{n}_{mk}"] = "1" if mv is True else "0" if mv is False else mv
        elif value is True:
            data[key] = "y"
        elif value is False or value is None:
            continue
        else:
            data[key] = str(value)
    return data


def test_a_bad_id_keeps_the_form_and_names_the_field(ctx, client_for):
    client = client_for("school_registrar")
    payload = student_payload(first_class("4301020001"), bad_checksum(new_id()), name="表单学生")
    r = client.post("/students/add", data=form_data(payload))
    html = r.get_data(as_text=True)
    assert r.status_code == 200  # the form again, not a redirect
    assert "身份证号校验位错误" in html
    assert 'value="表单学生"' in html and 'value="湖南省长沙市芙蓉区五一大道1号"' in html
    assert db.session.scalar(select(Student).where(Student.name == "表单学生")) is None


def test_a_valid_form_creates_the_student_and_its_guardian(ctx, client_for):
    client = client_for("school_registrar")
    number = new_id()
    payload = student_payload(first_class("4301020001"), number, name="表单新生")
    r = client.post("/students/add", data=form_data(payload))
    assert r.status_code == 302, re.findall(r'class="alert[^"]*">([^<]+)', r.get_data(as_text=True))
    student = db.session.scalar(select(Student).where(Student.name == "表单新生"))
    assert student.id_number == number and student.registry_kind == "L"
    assert [(m.name, m.is_guardian) for m in student.members] == [("测试家长", True)]


def test_a_blank_second_member_is_fine_and_a_half_filled_one_is_not(ctx, client_for):
    client = client_for("school_registrar")
    payload = student_payload(first_class("4301020001"), new_id(), name="单亲学生")
    data = form_data(payload) | {"m2_name": "", "m2_relation": "", "m2_is_guardian": ""}
    assert client.post("/students/add", data=data).status_code == 302
    payload = student_payload(first_class("4301020001"), new_id(), name="缺关系学生")
    data = form_data(payload) | {"m2_name": "某人"}
    html = client.post("/students/add", data=data).get_data(as_text=True)
    assert "成员2关系为必填项" in html


def test_editing_a_field_is_audited(ctx, client_for):
    client = client_for("school_registrar")
    payload = student_payload(first_class("4301020001"), new_id(), name="待编辑学生")
    client.post("/students/add", data=form_data(payload))
    student = db.session.scalar(select(Student).where(Student.name == "待编辑学生"))
    student = register_fully(student.id)  # no review waits: the school edits it directly
    edit = form_data(payload) | {"specialty": "围棋"}
    edit.pop("members", None)
    edit = {k: v for k, v in edit.items() if not k.startswith("m1_")}
    r = client.post(f"/students/edit/{student.id}", data=edit)
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Student, student.id).specialty == "围棋"
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_id == student.id,
                                                        AuditEvent.action == "update")).one()
    assert event.changes["specialty"]["new"] == "围棋" and event.username == "school_registrar"


def test_the_last_guardian_cannot_be_removed(ctx, client_for):
    client = client_for("school_registrar")
    payload = student_payload(first_class("4301020001"), new_id(), name="唯一监护人学生")
    client.post("/students/add", data=form_data(payload))
    student = register_fully(db.session.scalar(select(Student).where(Student.name == "唯一监护人学生")).id)
    member = student.members[0]
    html = client.post(f"/family/delete/{member.id}", follow_redirects=True).get_data(as_text=True)
    assert "至少须保留一名家庭成员" in html
    db.session.expire_all()
    assert len(db.session.get(Student, student.id).members) == 1


def test_registration_review_from_the_list_ends_with_the_formal_number(ctx, client_for):
    payload = student_payload(first_class("4301020001"), new_id(), name="待发号学生")
    client_for("school_registrar").post("/students/add", data=form_data(payload))
    student = db.session.scalar(select(Student).where(Student.name == "待发号学生"))
    temporary = student.registry_no
    action = {"action": "approve_registration", "rowid": [str(student.id)]}
    # the county cannot skip the school's step
    client_for("county_registrar").post("/students/action_post", data=action)
    db.session.expire_all()
    assert db.session.get(Student, student.id).registry_kind == "L"
    for approver in ("school_supervisor", "county_registrar"):
        assert client_for(approver).post("/students/action_post", data=action).status_code == 302
    db.session.expire_all()
    student = db.session.get(Student, student.id)
    assert student.registry_no == "G" + payload["id_number"] and student.registry_kind == "G"
    history = db.session.scalars(select(RegistryNumber).where(RegistryNumber.student_id == student.id)
                                 .order_by(RegistryNumber.id)).all()
    assert [(h.number, h.retired_at is not None) for h in history] == [
        (temporary, True), (student.registry_no, False)]
