"""Requests through the pages and the REST API: file, decide one by one and in bulk, return and
resubmit, receive a transfer, evidence downloads -- all scoped like everything else."""

from __future__ import annotations

import base64
import io
import re

from factories import PDF, account, registered_in
from sqlalchemy import select

from app.extensions import db
from app.models import Attachment, Request, Student


def _file_change(client, student, **values):
    data = {"kind": "change_field", "field_1": "ethnicity", "value_1": "06", **values,
            "evidence": (io.BytesIO(PDF[1]), "户籍证明.pdf")}
    return client.post(f"/requests/new/{student.id}", data=data, content_type="multipart/form-data")


def test_a_registrar_files_a_change_and_it_is_approved_through_the_inbox(ctx, client_for):
    student = registered_in("4301020001")
    r = _file_change(client_for("school_registrar"), student)
    assert r.status_code == 302, re.findall(r'alert-danger">\s*([^<]+)', r.get_data(as_text=True))
    rid = int(r.headers["Location"].rstrip("/").split("/")[-1])
    page = client_for("school_registrar").get(f"/requests/show/{rid}").get_data(as_text=True)
    assert "rules/430000.yaml:" in page and "户籍证明.pdf" in page
    supervisor = client_for("school_supervisor")
    inbox = supervisor.get("/inbox/").get_data(as_text=True)
    assert f"/requests/show/{rid}" in inbox
    supervisor.post(f"/requests/{rid}/decide", data={"verdict": "approve", "step": "0"})
    county = client_for("county_registrar")
    r = county.post("/inbox/bulk", data={"verdict": "approve", "rowid": [str(rid)]}, follow_redirects=True)
    assert "成功 1 件" in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Request, rid).status == "done"
    assert db.session.get(Student, student.id).ethnicity == "06"
    history = client_for("school_registrar").get(f"/students/show/{student.id}").get_data(as_text=True)
    assert "核办通过" in history and "关键信息变更申请生效" in history  # in words (issue 10)
    assert "request_approve" not in history and "apply_change_field" not in history


def test_bulk_decisions_report_which_failed_and_why(ctx, client_for):
    student = registered_in("4301020001")
    rid = int(_file_change(client_for("school_registrar"), student).headers["Location"].split("/")[-1])
    r = client_for("county_registrar").post(
        "/inbox/bulk", data={"verdict": "approve", "rowid": [str(rid)]}, follow_redirects=True)
    html = r.get_data(as_text=True)
    assert "成功 0 件" in html and f"#{rid}" in html
    client_for("school_registrar").post(f"/requests/{rid}/cancel")


def test_return_and_resubmit_through_the_pages(ctx, client_for):
    student = registered_in("4301020001")
    rid = int(_file_change(client_for("school_registrar"), student).headers["Location"].split("/")[-1])
    client_for("school_supervisor").post(f"/requests/{rid}/decide",
                                         data={"verdict": "return", "comment": "请补充材料"})
    db.session.expire_all()
    assert db.session.get(Request, rid).status == "returned"
    before = db.session.get(Student, student.id).ethnicity
    client_for("school_registrar").post(
        f"/requests/{rid}/resubmit", data={"comment": "已补充", "field_1": "ethnicity", "value_1": "15",
                                           "evidence": (io.BytesIO(PDF[1]), "补充.pdf")},
        content_type="multipart/form-data")
    db.session.expire_all()
    req = db.session.get(Request, rid)
    assert (req.status, req.round, len(req.attachments)) == ("pending", 2, 2)
    assert req.payload == {"ethnicity": "15"} and req.before == {"ethnicity": before}
    assert req.payload_enc.startswith("v1:") and "ethnicity" not in req.payload_enc  # encrypted
    client_for("school_registrar").post(f"/requests/{rid}/cancel")


def test_receiving_a_transfer_starts_with_an_exact_look_up(ctx, client_for):
    student = registered_in("4301020002", grade=7)
    account("recv_reg_c", "school_registrar", school_code="4301020003")
    client = client_for("recv_reg_c")
    html = client.post("/requests/transfer-in", data={"registry_no": student.registry_no}).get_data(as_text=True)
    assert student.name in html and student.registry_no_masked in html
    # only the typed number is echoed back in its box; the card shows it masked, and no ID
    assert html.count(student.registry_no) == 1 and html.count(student.id_number) == 1
    from factories import _class_of

    target = _class_of("4301020003", 7)
    r = client.post("/requests/transfer-in", content_type="multipart/form-data", data={
        "registry_no": student.registry_no, "found": str(student.id), "confirm": "1",
        "target_class": str(target.id),
        "evidence": (io.BytesIO(PDF[1]), "转学证明.pdf")})
    assert r.status_code == 302
    rid = int(r.headers["Location"].split("/")[-1])
    req = db.session.get(Request, rid)
    assert req.kind == "transfer" and req.other_school_id == student.school_id
    # the sending school's supervisor sees it in its inbox
    account("send_sup_c", "school_supervisor", school_code="4301020002")
    assert f"/requests/show/{rid}" in client_for("send_sup_c").get("/inbox/").get_data(as_text=True)
    client.post(f"/requests/{rid}/cancel")


def test_another_countys_request_and_its_evidence_are_not_found(ctx, client_for):
    student = registered_in("4301020001")
    rid = int(_file_change(client_for("school_registrar"), student).headers["Location"].split("/")[-1])
    account("yuelu_reg", "county_registrar", node="430104")
    other = client_for("yuelu_reg")
    assert other.get(f"/requests/show/{rid}").status_code == 404
    attachment = db.session.scalar(select(Attachment).where(Attachment.request_id == rid))
    assert other.get(f"/requests/attachment/{attachment.id}").status_code == 404
    body = client_for("county_registrar").get(f"/requests/attachment/{attachment.id}").data
    assert body == PDF[1]
    assert attachment.data_enc != PDF[1] and PDF[1] not in attachment.data_enc
    client_for("school_registrar").post(f"/requests/{rid}/cancel")


def test_an_upload_that_is_not_a_document_is_refused(ctx, client_for):
    student = registered_in("4301020001")
    data = {"kind": "change_field", "field_1": "ethnicity", "value_1": "06",
            "evidence": (io.BytesIO(b"MZ\x90\x00 an executable"), "证明.pdf")}
    html = client_for("school_registrar").post(f"/requests/new/{student.id}", data=data,
                                               content_type="multipart/form-data").get_data(as_text=True)
    assert "PDF、JPEG 或 PNG" in html


def test_the_api_files_decides_and_lists_the_inbox(ctx, api, token_for):
    student = registered_in("4301020001")
    evidence = [{"filename": "证明.pdf", "content_base64": base64.b64encode(PDF[1]).decode()}]
    r = api.post("/api/v1/request/", headers=token_for("school_registrar"), json={
        "kind": "change_field", "student_id": student.id, "payload": {"ethnicity": "07"},
        "evidence": evidence})
    assert r.status_code == 201, r.get_json()
    rid = r.get_json()["id"]
    headers, listed = token_for("school_supervisor"), []
    first = api.get("/api/v1/request/inbox?page_size=100", headers=headers).get_json()
    for page in range(-(-first["count"] // 100)):  # the inbox pages, oldest first: every page
        listed += [x["id"] for x in api.get(f"/api/v1/request/inbox?page_size=100&page={page}",
                                             headers=headers).get_json()["result"]]
    assert rid in listed and len(listed) == first["count"]
    r = api.post(f"/api/v1/request/{rid}/approve", headers=token_for("county_registrar"), json={})
    assert r.status_code == 403
    assert api.post(f"/api/v1/request/{rid}/approve", headers=token_for("school_supervisor"),
                    json={"expected_step": 0}).status_code == 200
    r = api.post(f"/api/v1/request/{rid}/reject", headers=token_for("county_registrar"), json={})
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "comment"
    r = api.post(f"/api/v1/request/{rid}/approve", headers=token_for("county_registrar"), json={})
    assert r.get_json()["result"]["status"] == "done"
    account("yuelu_reg", "county_registrar", node="430104")
    assert api.get(f"/api/v1/request/{rid}", headers=token_for("yuelu_reg")).status_code == 404


def test_the_api_transfer_look_up_needs_an_exact_key(ctx, api, token_for):
    student = registered_in("4301020002", grade=7)
    account("recv_reg_c", "school_registrar", school_code="4301020003")
    headers = token_for("recv_reg_c")
    r = api.post("/api/v1/request/transfer-lookup", headers=headers, json={"name": student.name})
    assert r.status_code == 404
    r = api.post("/api/v1/request/transfer-lookup", headers=headers,
                 json={"id_number": student.id_number, "name": student.name})
    assert r.status_code == 200 and r.get_json()["result"]["registry_no"] == student.registry_no_masked


def test_the_filing_page_offers_the_declared_kinds_and_the_fields_they_ask_for(ctx, client_for):
    from app.services.requests import kinds

    student = registered_in("4301020001")
    page = client_for("school_registrar").get(f"/requests/new/{student.id}").get_data(as_text=True)
    select = page.split('id="kind"')[1].split("</select>")[0]
    offered = re.findall(r'<option value="([a-z_]+)"\s*(?:selected)?>', select)
    assert offered == list(kinds.OWN_STUDENT) and "transfer" not in offered
    asking = [n for n in kinds.OWN_STUDENT if "target_class" in kinds.get(n).asks]
    assert f'data-kinds="{" ".join(asking)}"' in page
    assert "编入班级（" + "、".join(kinds.label(n) for n in asking) + "）" in page
    assert 'id="change-rows" data-kinds="change_field"' in page
