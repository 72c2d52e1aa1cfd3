"""Signing a month's report off and the signed files: who may sign, once, audited; the exported
xlsx and PDF verify, and fail -- naming what changed -- after one changed cell or byte; unsigned
files, another node's key and rotated keys."""

from __future__ import annotations

import io
import json
import os
import zipfile
from datetime import datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.cli_reports import report_group
from app.documents import report_signature as files
from app.errors import Conflict, Forbidden, ValidationFailed
from app.extensions import db
from app.models import AuditEvent, ReportSignoff, XuejiUser
from app.services.common.actors import Actor
from app.services.reports import monthly, signing

NOW = datetime(2026, 9, 15, 10, 0)
COUNTY, COUNTY2, SCHOOL = "430102", "430202", "4301020001"


def who(username: str) -> Actor:
    return Actor.of(db.session.scalar(select(XuejiUser).where(XuejiUser.username == username)))


def signed(month: str, node: str = COUNTY, username: str = "county_supervisor") -> ReportSignoff:
    """The month's sign-off, made once for the session's database."""
    row = signing.signoff_of(db.session, node, signing.month_start(month))
    return row or signing.sign_off(db.session, who(username), node_code=node, month=month, now=NOW)


def export(kind: str, month: str = "2026-04", node: str = COUNTY, username: str = "county_supervisor") -> bytes:
    signed(month, node, username)
    data, name = signing.signed_export(db.session, who(username), node_code=node, month=month, kind=kind,
                                       now=NOW)
    assert name.endswith(f".{kind}") and month in name
    return data


# -- sign-off ---------------------------------------------------------------------------------------

def test_the_nodes_supervisor_signs_a_past_month_off_once_and_it_is_audited(ctx):
    row = signed("2026-05")
    assert (row.node_code, row.node_level, f"{row.month:%Y-%m}", row.signer) == (COUNTY, "county", "2026-05",
                                                                                  "county_supervisor")
    assert row.signed_at == NOW and row.key_id.startswith(f"{COUNTY}-") and len(row.digest) == 64
    report = monthly.compute(db.session, who("county_registrar"), COUNTY, "2026-05", now=NOW)
    assert (report.status, report.signed_by, report.signed_at) == ("signed", "county_supervisor", NOW)
    assert signing.report_digest(report) == row.digest  # the figures signed are the report's
    later = monthly.compute(db.session, who("county_supervisor"), COUNTY, "2026-05", now=datetime(2026, 10, 20))
    assert signing.report_digest(later) == row.digest  # ... however late it is generated again
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "sign_off",
                                                       AuditEvent.entity == "report")
                              .order_by(AuditEvent.id.desc()))
    assert audit.username == "county_supervisor" and audit.changes["month"] == "2026-05"
    assert audit.changes["node"] == COUNTY and audit.county_code == COUNTY
    with pytest.raises(Conflict, match="county_supervisor"):
        signing.sign_off(db.session, who("county_supervisor"), node_code=COUNTY, month="2026-05", now=NOW)


def test_a_month_not_yet_over_cannot_be_signed(ctx):
    with pytest.raises(ValidationFailed) as caught:
        signing.sign_off(db.session, who("county_supervisor"), node_code=COUNTY, month="2026-09", now=NOW)
    assert caught.value.problems[0].field == "month"
    with pytest.raises(ValidationFailed) as caught:
        signing.sign_off(db.session, who("county_supervisor"), node_code=COUNTY, month="2026/08", now=NOW)
    assert caught.value.problems[0].field == "month"


@pytest.mark.parametrize("username, node", [
    ("county_supervisor", COUNTY2),  # another county
    ("county_supervisor", SCHOOL),  # a school below it: its own supervisor signs that
    ("city_supervisor", COUNTY),  # a node below it
    ("county_registrar", COUNTY),  # not a supervisor
    ("county_admin", COUNTY),
])
def test_only_a_supervisor_of_the_reports_own_node_may_sign(ctx, username, node):
    with pytest.raises(Forbidden):
        signing.sign_off(db.session, who(username), node_code=node, month="2026-03", now=NOW)
    assert signing.signoff_of(db.session, node, signing.month_start("2026-03")) is None


def test_a_schools_supervisor_signs_its_schools_report(ctx):
    row = signed("2026-02", SCHOOL, "school_supervisor")
    assert (row.node_level, row.school_id is not None) == ("school", True)


# -- signed files -----------------------------------------------------------------------------------

def test_the_signed_xlsx_verifies_with_signer_node_and_month(ctx):
    verdict = signing.verify_file(export("xlsx"))
    assert verdict.ok, verdict.message
    assert (verdict.signer, verdict.node, verdict.month) == ("county_supervisor", COUNTY, "2026-04")
    assert verdict.message.startswith("文件未被改动，由 county_supervisor（芙蓉区）于 2026-09-15 签发")


def test_signing_adds_one_hidden_protected_sheet_and_keeps_every_other_part(ctx):
    from app.documents import report_xlsx

    data = export("xlsx")
    report = monthly.compute(db.session, who("county_supervisor"), COUNTY, "2026-04", now=NOW)
    assert report.status == "signed"
    plain = io.BytesIO()
    report_xlsx.write(report, plain)
    before, after = zipfile.ZipFile(plain), zipfile.ZipFile(io.BytesIO(data))
    assert set(after.namelist()) - set(before.namelist()) == {"xl/worksheets/xueji_signature.xml"}
    assert any(n.startswith("xl/charts/") for n in after.namelist())  # the writer's native charts
    for name in before.namelist():
        if name not in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml"):
            assert after.read(name) == before.read(name), name
    book = load_workbook(io.BytesIO(data))
    sheet = book[files.SHEET]
    assert sheet.sheet_state == "veryHidden" and sheet.protection.sheet
    assert book.sheetnames[0] == book.worksheets[0].title != files.SHEET


def test_a_changed_cell_fails_and_is_named(ctx):
    book = load_workbook(io.BytesIO(export("xlsx")))
    sheet = book.worksheets[0]
    cell = next(c for row in sheet.iter_rows() for c in row if isinstance(c.value, int) and
                not isinstance(c.value, bool))
    old = cell.value
    cell.value = old + 1
    out = io.BytesIO()
    book.save(out)
    verdict = signing.verify_file(out.getvalue())
    assert not verdict.ok and verdict.status == "altered"
    assert verdict.changes == [f"{sheet.title}!{cell.coordinate}: {old} → {old + 1}"]
    assert verdict.message.startswith("文件已被改动：")


def test_an_added_or_emptied_cell_is_named_too(ctx):
    book = load_workbook(io.BytesIO(export("xlsx")))
    sheet = book.worksheets[0]
    title = sheet["A1"].value
    sheet["A1"] = None
    sheet["Z99"] = "伪造"
    out = io.BytesIO()
    book.save(out)
    changes = signing.verify_file(out.getvalue()).changes
    assert changes == [f"{sheet.title}!A1: {title} → （空）", f"{sheet.title}!Z99: （空） → 伪造"]


def test_the_signed_pdf_verifies_and_one_changed_byte_fails_naming_where(ctx):
    data = export("pdf")
    assert data.startswith(b"%PDF-") and files.PDF_MARK in data
    verdict = signing.verify_file(data)
    assert verdict.ok, verdict.message
    assert any(name for name, value, unit in verdict.figures)
    at = len(data) // 2
    changed = data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]
    verdict = signing.verify_file(changed)
    assert verdict.status == "altered"
    block = files.inspect(data, signing._lookup).block
    size = block["chunk_size"]
    start = at // size * size
    assert f"签名后第 {start}–{start + size - 1} 字节被改动" in verdict.message


def test_an_update_appended_after_the_pdfs_signature_fails(ctx):
    data = export("pdf")
    verdict = signing.verify_file(data + b"1 0 obj\n<< >>\nendobj\n%%EOF\n")
    assert verdict.status == "altered"


def test_a_changed_signature_block_is_not_believed(ctx):
    data = export("pdf")
    at = data.rfind(files.PDF_MARK) + len(files.PDF_MARK)
    end = data.index(b"\n", at)
    import base64

    block = json.loads(base64.b64decode(data[at:end]))
    block["signer"] = "someone_else"
    forged = data[:at] + base64.b64encode(json.dumps(block).encode()) + data[end:]
    assert signing.verify_file(forged).status == "forged"


def test_a_file_never_signed_says_unsigned(ctx):
    from app.documents import report_pdf, report_xlsx

    report = monthly.compute(db.session, who("county_supervisor"), COUNTY, "2026-04", now=NOW)
    for write in (report_xlsx.write, report_pdf.write):
        out = io.BytesIO()
        write(report, out)
        verdict = signing.verify_file(out.getvalue())
        assert (verdict.ok, verdict.status) == (False, "unsigned")
        assert verdict.message == "文件没有签名：不是已签发的月报文件"


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize("data, status", [
    (b"", "unreadable"),
    (os.urandom(4096), "unreadable"),
    (b"PK\x03\x04" + os.urandom(500), "unreadable"),  # a zip's start, then nothing of one
    (_zip({"hello.txt": b"not a workbook"}), "unreadable"),
    (_zip({"xl/workbook.xml": b"<workbook/>", "[Content_Types].xml": b"<Types/>"}), "unreadable"),
    (_zip({"xl/workbook.xml": b"\0" * (200 * 2**20)}), "unreadable"),  # 200 MB of zeros: a bomb
    (b"%PDF-1.4\n%%EOF\n", "unsigned"),
    (b"%PDF-1.4\n%%EOF\n" + files.PDF_MARK + b"!!!\n", "damaged"),
    (b"%PDF-1.4\n%%EOF\n" + files.PDF_MARK + b"e30=\n", "damaged"),  # {}
])
def test_any_file_gets_a_verdict_never_an_error(ctx, data, status):
    verdict = signing.verify_file(data)
    assert (verdict.ok, verdict.status) == (False, status)
    assert verdict.message


# -- keys -----------------------------------------------------------------------------------------

def test_a_signature_made_with_another_nodes_key_fails(ctx):
    data = export("pdf")
    other = signing.key_store().active(COUNTY2, NOW)  # another node's private key
    own = signed("2026-04")
    forged = files.sign_pdf(data[:data.rfind(files.PDF_MARK)], {
        "node": COUNTY, "node_name": "芙蓉区", "month": "2026-04", "signer": "county_supervisor",
        "signed_at": own.signed_at.isoformat(), "issued_at": NOW.isoformat(), "key_id": own.key_id},
        [], other.sign)
    assert signing.verify_file(forged).status == "forged"
    claimed = files.sign_pdf(data[:data.rfind(files.PDF_MARK)], {
        "node": COUNTY, "node_name": "芙蓉区", "month": "2026-04", "signer": "county_supervisor",
        "signed_at": own.signed_at.isoformat(), "issued_at": NOW.isoformat(), "key_id": other.kid},
        [], other.sign)
    verdict = signing.verify_file(claimed)
    assert verdict.status == "unknown_key" and other.kid in verdict.message


def test_a_rotated_key_still_verifies_old_files_and_signs_no_more(ctx):
    node = "4301020002"  # a school of its own, so no other test's keys move
    signed("2026-01", node, "school2_supervisor")
    old_file = signing.signed_export(db.session, who("school2_supervisor"), node_code=node, month="2026-01",
                                     kind="xlsx", now=NOW)[0]
    before = signing.published_keys(node)
    old, new = signing.rotate_key(db.session, node_code=node, actor=Actor.system("test"),
                                  now=datetime(2026, 9, 16, 9, 0))
    assert old == before[-1].kid and new != old
    keys = {k.kid: k for k in signing.published_keys(node)}
    assert keys[old].valid_until == datetime(2026, 9, 16, 9, 0) and keys[new].active
    assert signing.verify_file(old_file).ok
    later = datetime(2026, 9, 17, 9, 0)
    new_file = signing.signed_export(db.session, who("school2_supervisor"), node_code=node, month="2026-01",
                                     kind="pdf", now=later)[0]
    verdict = signing.verify_file(new_file)
    assert verdict.ok and verdict.key_id == new
    rotation = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "rotate_signing_key")
                                 .order_by(AuditEvent.id.desc()))
    assert rotation.changes == {"node": node, "key_id": {"old": old, "new": new}}


def test_the_key_files_hold_no_private_half_of_a_retired_key_and_are_private(ctx):
    node = "4301020003"
    store = signing.key_store()
    first = store.active(node, NOW).kid
    store.rotate(node, datetime(2026, 9, 15, 11, 0))
    path = store.directory / f"{node}.json"
    data = json.loads(path.read_text())
    privates = {e["kid"]: e["private"] for e in data["keys"]}
    assert privates[first] is None and sum(p is not None for p in privates.values()) == 1
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_production_creates_no_key_in_a_place_it_guessed(tmp_path):
    from app.security.signing_keys import SigningKeyError, store_from_config

    store = store_from_config({"ENV_NAME": "production", "INSTANCE_DIR": str(tmp_path)})
    assert store.directory is None and store.public_keys() == [] and store.find(COUNTY, "x") is None
    with pytest.raises(SigningKeyError, match="XUEJI_SIGNING_KEY_DIR"):
        store.active(COUNTY, NOW)
    assert list(tmp_path.iterdir()) == []
    chosen = store_from_config({"ENV_NAME": "production", "XUEJI_SIGNING_KEY_DIR": str(tmp_path / "k")})
    assert chosen.active(COUNTY, NOW).kid == f"{COUNTY}-1"
    assert oct((tmp_path / "k").stat().st_mode & 0o777) == "0o700"


# -- the command line -------------------------------------------------------------------------------

def test_report_verify_exits_0_when_unaltered_and_1_otherwise(app, ctx, tmp_path):
    runner = app.test_cli_runner()
    good = tmp_path / "signed.xlsx"
    good.write_bytes(export("xlsx"))
    result = runner.invoke(report_group, ["verify", str(good)])
    assert result.exit_code == 0 and "文件未被改动" in result.output
    bad = tmp_path / "unsigned.pdf"
    bad.write_bytes(b"%PDF-1.4\n%%EOF\n")
    result = runner.invoke(report_group, ["verify", str(bad)])
    assert result.exit_code == 1 and "没有签名" in result.output
    result = runner.invoke(report_group, ["verify", "--json", str(good)])
    assert json.loads(result.output)["signer"] == "county_supervisor"


def test_report_sign_and_keys_commands(app, ctx, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(report_group, ["sign", "--node", COUNTY2, "--month", "2026-03", "--as",
                                          "county_supervisor"])
    assert result.exit_code != 0 and "county_supervisor" not in str(signing.signoff_of(
        db.session, COUNTY2, signing.month_start("2026-03")))
    result = runner.invoke(report_group, ["sign", "--node", COUNTY2, "--month", "2026-03", "--as",
                                          "county2_supervisor"])
    assert result.exit_code == 0, result.output
    out = tmp_path / "r.pdf"
    result = runner.invoke(report_group, ["export-signed", "--node", COUNTY2, "--month", "2026-03",
                                          "--as", "county2_registrar", "--pdf", str(out)])
    assert result.exit_code == 0, result.output
    assert signing.verify_file(out.read_bytes()).signer == "county2_supervisor"
    listed = json.loads(runner.invoke(report_group, ["keys", "--json", "--node", COUNTY2]).output)
    assert listed and all(k["node"] == COUNTY2 and len(k["public_key"]) == 44 for k in listed)
