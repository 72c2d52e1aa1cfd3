"""The verify page (public: anyone uploads a file and reads the verdict in words, the published keys
beside it), the sign-off button's route and the signed downloads, by page and by REST: scoped, and
refused to whoever may not sign."""

from __future__ import annotations

import io
import os
import zipfile
from datetime import datetime

import pytest
from factories import stored_report
from openpyxl import load_workbook
from sqlalchemy import select

from app.extensions import db
from app.models import XuejiUser
from app.services.common.actors import Actor
from app.services.reports import signing

NOW = datetime(2026, 9, 15, 10, 0)
COUNTY, COUNTY2 = "430102", "430202"


def _signed_xlsx(month: str = "2025-12") -> bytes:
    user = db.session.scalar(select(XuejiUser).where(XuejiUser.username == "county_supervisor"))
    actor = Actor.of(user)
    if signing.signoff_of(db.session, COUNTY, signing.month_start(month)) is None:
        signing.sign_off(db.session, actor, node_code=COUNTY, month=month, now=NOW)
    return signing.signed_export(db.session, actor, node_code=COUNTY, month=month, kind="xlsx", now=NOW)[0]


def _post(client, data: bytes, name: str = "report.xlsx"):
    return client.post("/reports/verify/", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_anyone_opens_the_verify_page_and_sees_the_published_keys(app, ctx):
    _signed_xlsx()
    html = app.test_client().get("/reports/verify/").get_data(as_text=True)
    assert "报表核验" in html and 'id="verify-form"' in html
    key = signing.published_keys(COUNTY)[0]
    assert key.kid in html and key.fingerprint in html and key.as_dict()["public_key"] in html


def test_an_unaltered_file_is_said_unaltered_with_its_signer(app, ctx):
    html = _post(app.test_client(), _signed_xlsx()).get_data(as_text=True)
    assert 'data-status="ok"' in html
    assert "文件未被改动，由 county_supervisor（芙蓉区）于 2026-09-15 签发" in html


def test_an_altered_file_names_the_changed_cell(app, ctx):
    book = load_workbook(io.BytesIO(_signed_xlsx()))
    sheet = book.worksheets[0]
    sheet["A1"] = "改过的标题"
    out = io.BytesIO()
    book.save(out)
    html = _post(app.test_client(), out.getvalue()).get_data(as_text=True)
    assert 'data-status="altered"' in html and "文件已被改动" in html
    assert f"{sheet.title}!A1:" in html and "改过的标题" in html


def _zip_of(name: str, data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize("data, name", [
    (b"", "empty.xlsx"),
    (os.urandom(2048), "random.pdf"),
    (_zip_of("a.txt", b"x"), "notes.xlsx"),
    (_zip_of("xl/workbook.xml", b"\0" * (100 * 2**20)), "bomb.xlsx"),
    (b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n", "plain.pdf"),
    (b"<html><script>alert(1)</script></html>", "page.html"),
])
def test_any_upload_gets_a_verdict_in_words_never_a_500(app, ctx, data, name):
    response = _post(app.test_client(), data, name)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="verdict"' in html and 'data-status="ok"' not in html
    assert "<script>alert(1)" not in html


def test_posting_no_file_asks_for_one(app, ctx):
    response = app.test_client().post("/reports/verify/", data={}, follow_redirects=True)
    assert response.status_code == 200 and "请选择要核验的文件" in response.get_data(as_text=True)


def test_every_account_finds_the_verify_page_in_its_menu(app, ctx, client_for):
    for username in ("county_admin", "school_registrar", "prov_supervisor"):
        assert "/reports/verify/" in client_for(username).get("/").get_data(as_text=True), username


# -- sign-off and downloads by page ------------------------------------------------------------------

def test_the_supervisor_signs_off_by_page_and_others_are_refused(app, ctx, client_for):
    form = {"node": COUNTY, "month": "2025-11"}
    assert client_for("county2_supervisor").post("/reports/signoff/", data=form).status_code == 403
    assert client_for("county_registrar").post("/reports/signoff/", data=form).status_code == 403
    assert client_for("city_supervisor").post("/reports/signoff/", data=form).status_code == 403
    assert signing.signoff_of(db.session, COUNTY, signing.month_start("2025-11")) is None
    assert client_for("county_supervisor").post("/reports/signoff/", data=form).status_code == 302
    db.session.expire_all()
    row = signing.signoff_of(db.session, COUNTY, signing.month_start("2025-11"))
    assert row is not None and row.signer == "county_supervisor"
    again = client_for("county_supervisor").post("/reports/signoff/", data=form, follow_redirects=True)
    assert "已由 county_supervisor" in again.get_data(as_text=True)


def test_the_signed_files_download_inside_the_jurisdiction_only(app, ctx, client_for):
    _signed_xlsx("2025-10")
    url = f"/reports/signoff/file?node={COUNTY}&month=2025-10&format="
    for kind in ("xlsx", "pdf"):
        response = client_for("county_registrar").get(url + kind)
        assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
        assert signing.verify_file(response.data).ok
    assert client_for("county2_supervisor").get(url + "xlsx").status_code == 404
    assert client_for("school_registrar").get(url + "xlsx").status_code == 404
    assert client_for("county_admin").get(url + "xlsx").status_code == 403
    refused = client_for("county_registrar").get(f"/reports/signoff/file?node={COUNTY}&month=2025-09&format=xlsx",
                                                 follow_redirects=True)
    assert refused.status_code == 200 and "尚未签发" in refused.get_data(as_text=True)
    bad = client_for("county_registrar").get(url + "docx", follow_redirects=True)
    assert bad.status_code == 200 and "xlsx 或 pdf" in bad.get_data(as_text=True)


# -- by REST ----------------------------------------------------------------------------------------

def test_the_api_signs_off_once_for_the_nodes_supervisor_only(app, ctx, api, token_for):
    body = {"node": COUNTY2, "month": "2025-09"}
    url = "/api/v1/report/signoff"
    assert api.post(url, json=body, headers=token_for("county_supervisor")).status_code == 403
    assert api.post(url, json=body, headers=token_for("county2_registrar")).status_code == 403
    r = api.post(url, json=body, headers=token_for("county2_supervisor"))
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["signed_by"] == "county2_supervisor" and r.get_json()["status"] == "signed"
    assert api.post(url, json=body, headers=token_for("county2_supervisor")).status_code == 409
    state = api.get(f"{url}?node={COUNTY2}&month=2025-09", headers=token_for("county2_registrar"))
    assert state.status_code == 200 and state.get_json()["key_id"].startswith(COUNTY2)
    assert api.get(f"{url}?node={COUNTY2}&month=2025-09", headers=token_for("county_registrar")).status_code == 404


@pytest.mark.parametrize("body, field", [
    ({"node": COUNTY2}, "month"),
    ({"node": "43", "month": "2025-09"}, "node"),
    ({"node": COUNTY2, "month": "2025/09"}, "month"),
    ({"node": COUNTY2, "month": "2025-09", "extra": 1}, "extra"),
])
def test_a_bad_signoff_body_names_the_field(app, ctx, api, token_for, body, field):
    r = api.post("/api/v1/report/signoff", json=body, headers=token_for("county2_supervisor"))
    assert r.status_code == 400 and field in r.get_data(as_text=True)


def test_the_report_page_offers_sign_off_to_its_nodes_supervisor_then_the_signed_files(app, ctx, client_for):
    stored_report(COUNTY, "2025-07")  # the page shows the stored report
    stored_report(COUNTY, "2026-09")  # and the current month's, live
    url = f"/reports/monthly?node={COUNTY}&month=2025-07"
    html = client_for("county_supervisor").get(url).get_data(as_text=True)
    assert 'id="signoff-form"' in html and 'id="signed-xlsx"' not in html
    for other in ("county_registrar", "city_supervisor"):
        assert 'id="signoff-form"' not in client_for(other).get(url).get_data(as_text=True), other
    live = client_for("county_supervisor").get(f"/reports/monthly?node={COUNTY}&month=2026-09")
    assert 'id="signoff-form"' not in live.get_data(as_text=True)  # the month is not over
    signed = client_for("county_supervisor").post("/reports/signoff/", data={"node": COUNTY, "month": "2025-07"},
                                                  follow_redirects=True)
    html = signed.get_data(as_text=True)
    assert "已签发 2025-07 月报" in html and 'id="signoff-form"' not in html
    assert 'id="signed-xlsx"' in html and 'id="signed-pdf"' in html
    page = client_for("county_registrar").get(url).get_data(as_text=True)
    assert 'id="report-status"' in page and "已签发" in page and 'id="signed-pdf"' in page
