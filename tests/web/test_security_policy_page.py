"""安全策略 in the browser: the settings in force and where each comes from; the province's
security administrator changes them through the form, auditors read them, system administrators
do not see the page; the policy is read once per request, however many settings a request reads."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from app.extensions import db
from app.security import policy_settings

pytestmark = pytest.mark.usefixtures("no_security_policy")


def test_the_page_shows_each_setting_with_where_it_comes_from(client_for):
    client = client_for("prov_secadmin")
    page = client.get("/security-policy/").get_data(as_text=True)
    assert 'name="max_failures"' in page and "配置默认值" in page
    assert client.post("/security-policy/", data={"session_idle_minutes": "20"}).status_code == 302
    page = client.get("/security-policy/").get_data(as_text=True)
    row = page.split('id="setting-session_idle_minutes"')[1].split("</tr>")[0]
    assert "<td>20</td>" in row and "prov_secadmin" in row


def test_a_value_out_of_bounds_is_refused_on_the_page_naming_the_setting(client_for):
    client = client_for("prov_secadmin")
    page = client.post("/security-policy/", data={"max_failures": "0"}, follow_redirects=True)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "连续密码错误锁定次数须为 3–10 的整数" in text


def test_an_auditor_reads_the_page_without_the_form(client_for):
    page = client_for("county_auditor").get("/security-policy/")
    assert page.status_code == 200
    assert "id=\"security-policy\"" in page.get_data(as_text=True)
    assert 'name="max_failures"' not in page.get_data(as_text=True)


def test_a_system_administrator_is_not_let_in(client_for):
    response = client_for("prov_admin").get("/security-policy/")
    assert response.status_code != 200


def test_the_policy_is_read_once_per_request(app):
    seen = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    with app.test_request_context("/"):
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            for _ in range(3):
                policy_settings.in_force()["XUEJI_LOGIN_MAX_FAILURES"]
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        db.session.remove()
    assert len([s for s in seen if "security_policy" in s]) == 1
