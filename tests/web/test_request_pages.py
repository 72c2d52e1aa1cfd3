"""Issue 10, points 2 and 3 on the pages and the API: a reviewer sees what they approve (the student,
each item before and after, the record being registered, an import's records, a transfer's two
schools), the 当前办理 column, a returned request in its filer's 待办, messages read or unread, and
every door of a direct edit closed while a request waits for review."""

from __future__ import annotations

import io
import random
import re
from datetime import date, datetime
from html.parser import HTMLParser

from factories import PDF, _class_of, account, actor_of, first_class, new_id, registered_in, school
from sqlalchemy import select

from app.extensions import db
from app.models import FamilyMember, PersonalDataAccess, Request, Student
from app.services.requests import workflow as svc

NOW = datetime(2026, 9, 15, 10)


class _Form(HTMLParser):
    """The values a browser would post back from the page's first form with an ``id="model_form"``."""

    def __init__(self):
        super().__init__()
        self.values, self.inside, self.select = {}, False, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("id") == "model_form":
            self.inside = True
        if not self.inside or not a.get("name") and tag != "option":
            return
        if tag == "input" and a.get("type") not in ("file", "submit", "checkbox"):
            self.values[a["name"]] = a.get("value") or ""
        elif tag == "input" and a.get("type") == "checkbox" and "checked" in a:
            self.values[a["name"]] = a.get("value") or "y"
        elif tag == "select":
            self.select = a["name"]
            self.values.setdefault(self.select, "")
        elif tag == "option" and self.select and "selected" in a:
            self.values[self.select] = a.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None
        if tag == "form":
            self.inside = False


def form_values(html: str) -> dict:
    parser = _Form()
    parser.feed(html)
    return parser.values


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _new_record(api, token_for, name: str) -> tuple[Student, Request]:
    from factories import student_payload

    payload = student_payload(first_class("4301020001", grade=2), new_id(born=date(2018, 10, 5)),
                              born=date(2018, 10, 5), name=name)
    r = api.post("/api/v1/student/", json=payload, headers=token_for("school_registrar"))
    assert r.status_code == 201, r.get_json()
    student = db.session.get(Student, r.get_json()["id"])
    return student, db.session.scalar(select(Request).where(Request.open_student_id == student.id))


def _file_change(student, **payload) -> Request:
    return svc.start(db.session, kind="change_field", student=student, actor=actor_of("school_registrar"),
                     now=NOW, payload=payload or {"ethnicity": "06"}, files=[PDF])


# -- point 2: reviewers see what they approve -------------------------------------------------------

def test_a_change_requests_page_shows_the_student_and_each_item_in_words(ctx, client_for):
    from app.services.organisation.codes import label

    student = registered_in("4301020001")
    asked = "06" if student.ethnicity != "06" else "15"
    req = _file_change(student, ethnicity=asked)
    html = client_for("school_supervisor").get(f"/requests/show/{req.id}").get_data(as_text=True)
    assert f'href="/students/show/{student.id}"' in html
    block = text(html.split('id="subject"')[1].split('id="chain"')[0])
    assert student.school.name in block and student.school_class.name in block
    assert student.grade.name in block and student.id_number in block  # in full to a reviewer
    assert "在校" in block and "居民身份证" in block  # code items by their labels
    payload = text(html.split('id="payload"')[1].split("</table>")[0])
    was, now = label(db.session, "ethnicity", student.ethnicity), label(db.session, "ethnicity", asked)
    assert f"民族 {was} {now}" in payload and now in ("苗族", "土家族")  # words, not 01 → 06
    assert "当前办理" in html and "芙蓉区育英小学 · 学籍主管领导" in html
    svc.cancel(db.session, req.id, actor_of("school_registrar"), NOW)


def test_a_registration_reviews_page_shows_the_record_being_registered(ctx, api, token_for, client_for):
    student, req = _new_record(api, token_for, "注册页学生")
    before = db.session.query(PersonalDataAccess).filter_by(student_id=student.id, channel="request").count()
    html = client_for("school_supervisor").get(f"/requests/show/{req.id}").get_data(as_text=True)
    registering = text(html.split('id="registering"')[1].split('id="chain"')[0])
    from app.views.student_form import MEMBERS_TITLE, SECTIONS

    titles = [zh for (zh, _en), _names in SECTIONS.values()] + [MEMBERS_TITLE[0]]
    assert all(title in registering for title in titles)  # the form's sections
    assert student.school_class.name in registering
    assert "湖南长沙" in registering and "就近入学" in registering and "步行" in registering
    assert "13900001111" in registering and "父亲" in registering  # the guardian, in full
    logged = db.session.scalars(select(PersonalDataAccess).where(
        PersonalDataAccess.student_id == student.id, PersonalDataAccess.channel == "request")
        .order_by(PersonalDataAccess.id)).all()
    assert len(logged) == before + 1
    assert {"id_number", "phone", "member.phone"} <= set(logged[-1].fields.split(","))


def test_an_imports_review_lists_the_records_it_registers(ctx, client_for):
    from openpyxl import Workbook
    from workbooks import student_row

    from app.documents.columns import COLUMNS
    from app.services.exchange import imports

    klass = _class_of("4301020001", 4)
    rng, used = random.Random(10102), set()
    rows = [student_row(rng, "4301020001", klass.name, 4, 2026, used) for _ in range(3)]
    book = Workbook()
    book.active.append([c.header for c in COLUMNS])
    for row in rows:
        book.active.append([row.get(c.header) for c in COLUMNS])
    buffer = io.BytesIO()
    book.save(buffer)
    registrar = actor_of("school_registrar")
    job = imports.upload(db.session, school=school("4301020001"), actor=registrar, filename="批量.xlsx",
                         data=buffer.getvalue())
    job = imports.dry_run(db.session, job, NOW)
    imports.commit(db.session, job, registrar, NOW)
    html = client_for("school_supervisor").get(f"/requests/show/{job.request_id}").get_data(as_text=True)
    records = html.split('id="records"')[1].split("</table>")[0]
    ids = db.session.scalars(select(Student.id).where(Student.import_job_id == job.id)).all()
    assert len(ids) == 3 and all(f'href="/students/show/{sid}"' in records for sid in ids)
    assert all(row["姓名"] in records for row in rows) and klass.name in records


def test_a_transfer_shows_both_schools_and_each_side_what_it_may_see(ctx, client_for):
    student = registered_in("4301020002", grade=7)
    account("recv_reg_p", "school_registrar", school_code="4301020003")
    target = _class_of("4301020003", 7)
    req = svc.start(db.session, kind="transfer", student=student, actor=actor_of("recv_reg_p"), now=NOW,
                    target_class=target, files=[PDF])
    receiving = client_for("recv_reg_p").get(f"/requests/show/{req.id}").get_data(as_text=True)
    parties = text(receiving.split('id="transfer-parties"')[1].split("</p>")[0])
    assert student.school.name in parties and target.school.name in parties and target.name in parties
    assert student.registry_no_masked in receiving and student.id_number not in receiving
    assert f"/students/show/{student.id}" not in receiving  # not its record (yet)
    account("send_sup_p", "school_supervisor", school_code="4301020002")
    sending = client_for("send_sup_p").get(f"/requests/show/{req.id}").get_data(as_text=True)
    assert f'href="/students/show/{student.id}"' in sending and student.id_number in sending
    svc.cancel(db.session, req.id, actor_of("recv_reg_p"), NOW)


def _row_of(html: str, rid: int) -> str:
    """The text of the list row that links to request ``rid``."""
    rows = (tr.split("</tr>")[0] for tr in html.split("<tr")[1:])
    return next(text(tr) for tr in rows if f'/requests/show/{rid}"' in tr)


def test_the_requests_list_names_who_holds_each_open_request(ctx, client_for):
    student = registered_in("4301020001")
    req = _file_change(student)
    page = client_for("county_registrar").get("/requests/list/?_flt_0_id=" + str(req.id))
    row = _row_of(page.get_data(as_text=True), req.id)
    assert "芙蓉区育英小学 · 学籍主管领导" in row
    svc.decide(db.session, req.id, actor_of("school_supervisor"), "approve", NOW)
    page = client_for("county_registrar").get("/requests/list/?_flt_0_id=" + str(req.id))
    assert "芙蓉区教育局 · 学籍管理员" in page.get_data(as_text=True)
    svc.cancel(db.session, req.id, actor_of("school_registrar"), NOW)


def test_a_returned_request_waits_in_the_filers_inbox_page_and_api(ctx, client_for, api, token_for):
    student = registered_in("4301020001")
    req = _file_change(student)
    svc.decide(db.session, req.id, actor_of("school_supervisor"), "return", NOW, comment="请补充户籍证明")
    inbox = client_for("school_registrar").get("/inbox/").get_data(as_text=True)
    fixes = inbox.split('id="fixes"')[1].split("</table>")[0]
    assert f"/requests/show/{req.id}" in fixes and "请补充户籍证明" in fixes
    listed = api.get("/api/v1/request/inbox", headers=token_for("school_registrar")).get_json()
    mine = next(r for r in listed["result"] if r["id"] == req.id)
    assert mine["status"] == "returned" and mine["held_by"] == "芙蓉区育英小学 · 学籍管理员"
    svc.cancel(db.session, req.id, actor_of("school_registrar"), NOW)


# -- messages: read or unread, per account ----------------------------------------------------------

def test_messages_are_unread_until_opened_or_marked_read(ctx, client_for, api, token_for):
    account("msg_sup_p", "school_supervisor", school_code="4301020001")
    client = client_for("msg_sup_p")
    client.post("/inbox/read-all")
    assert 'id="unread"' in client.get("/inbox/").get_data(as_text=True)
    req = _file_change(registered_in("4301020001"))
    other = _file_change(registered_in("4301020001"))
    html = client.get("/inbox/").get_data(as_text=True)
    assert re.search(r'id="unread">[^<]*<span class="badge">2</span>', html)
    client.get(f"/requests/show/{req.id}")  # opening a request reads its messages
    headers = token_for("msg_sup_p")
    listed = api.get("/api/v1/message/?limit=5", headers=headers).get_json()
    assert listed["unread"] == 1
    assert {m["request_id"]: m["read"] for m in listed["result"]}[req.id] is True
    assert api.post("/api/v1/message/read", headers=headers, json={}).status_code == 400
    assert api.post("/api/v1/message/read", headers=headers, json={"ids": ["x"]}).status_code == 400
    r = api.post("/api/v1/message/read", headers=headers, json={"request_id": other.id})
    assert r.status_code == 200 and r.get_json() == {"marked": 1, "unread": 0}
    _file_change(registered_in("4301020001"))
    assert client.post("/inbox/read-all", follow_redirects=True).status_code == 200
    assert api.get("/api/v1/message/", headers=headers).get_json()["unread"] == 0
    # a colleague at the same school still has them unread
    assert api.get("/api/v1/message/", headers=token_for("school_supervisor")).get_json()["unread"] >= 3
    for open_request in db.session.scalars(select(Request).where(
            Request.status == "pending", Request.kind == "change_field",
            Request.requester_id == actor_of("school_registrar").user_id)):
        svc.cancel(db.session, open_request.id, actor_of("school_registrar"), NOW)


# -- point 3: no edits behind the reviewer's back -----------------------------------------------------

def test_every_door_of_a_direct_edit_is_closed_while_a_request_waits(ctx, client_for, api, token_for):
    student, req = _new_record(api, token_for, "待审核学生")
    client, headers = client_for("school_registrar"), token_for("school_registrar")
    values = form_values(client.get(f"/students/edit/{student.id}").get_data(as_text=True))
    assert values.get("name") == "待审核学生"
    html = client.post(f"/students/edit/{student.id}", data={**values, "name": "背后改名"},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert f"#{req.id}" in html and "审批期间不能直接修改" in html and "rules/national.yaml:28" in html
    photo = {**values, "photo_upload": (io.BytesIO(b"\xff\xd8\xff\xe0 jpeg"), "photo.jpg")}
    html = client.post(f"/students/edit/{student.id}", data=photo,
                       content_type="multipart/form-data").get_data(as_text=True)
    assert f"#{req.id}" in html
    r = api.put(f"/api/v1/student/{student.id}", json={"specialty": "书法"}, headers=headers)
    assert r.status_code == 422 and r.get_json()["errors"][0]["code"] == "under_review"
    r = api.post("/api/v1/family_member/", headers=headers, json={
        "student_id": student.id, "name": "祖父", "relation": "9", "is_guardian": False})
    assert r.status_code == 422 and f"#{req.id}" in r.get_json()["message"]
    member = db.session.scalars(select(FamilyMember).where(FamilyMember.student_id == student.id)).first()
    assert api.put(f"/api/v1/family_member/{member.id}", headers=headers,
                   json={"phone": "13700000000"}).status_code == 422
    html = client.post(f"/family/delete/{member.id}", follow_redirects=True).get_data(as_text=True)
    assert f"#{req.id}" in html
    db.session.expire_all()
    kept = db.session.get(Student, student.id)
    assert (kept.name, kept.specialty, kept.photo_enc, len(kept.members)) == ("待审核学生", None, None, 1)

    svc.decide(db.session, req.id, actor_of("school_supervisor"), "return", NOW, comment="姓名有误")
    page = client.get(f"/requests/show/{req.id}").get_data(as_text=True)
    assert f'href="/students/edit/{student.id}"' in page  # 修改学籍信息, then resubmit
    r = client.post(f"/students/edit/{student.id}", data={**values, "name": "更正姓名"},
                    content_type="multipart/form-data")
    assert r.status_code == 302, text(r.get_data(as_text=True))[:2000]
    assert api.put(f"/api/v1/student/{student.id}", json={"specialty": "书法"}, headers=headers).status_code == 200
    db.session.expire_all()
    assert db.session.get(Student, student.id).name == "更正姓名"


def test_rules_explain_names_the_switch_that_keeps_a_record_under_review_closed(app, tmp_path):
    result = app.test_cli_runner().invoke(args=[
        "rules", "explain", "--school", "4301020001", "--action", "edit_field",
        "--open-request", "pending", "--at", "2026-09-15T10:00"])
    assert result.exit_code == 0, result.output
    assert "REFUSED" in result.output and "[under_review]" in result.output
    assert "rules/national.yaml:28" in result.output
    returned = app.test_cli_runner().invoke(args=[
        "rules", "explain", "--school", "4301020001", "--action", "edit_field",
        "--open-request", "returned", "--at", "2026-09-15T10:00"])
    assert "ALLOWED" in returned.output
