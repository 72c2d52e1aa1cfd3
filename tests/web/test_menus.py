"""Everything reachable from the menus, and nothing there that always fails: each demo account
follows every menu entry and every link, button and form on the pages they open."""

from __future__ import annotations

import re

import pytest
from browsing import DEMO_USERS, ROLE_OF, Page, browse, role_may
from conftest import login
from factories import first_class, new_id, register_fully, student_payload
from sqlalchemy import select

from app.extensions import db
from app.models import Student

DENIED = ("无权访问", "Access is Denied")


@pytest.fixture(scope="module")
def browsed(app):
    """username -> (visits, posts, client), each account browsed once for the module."""
    cache = {}

    def get(username):
        if username not in cache:
            client = login(app.test_client(), username)
            cache[username] = (*browse(app, client), client)
        return cache[username]

    return get


def menu_of(app, username) -> list[str]:
    client = login(app.test_client(), username)
    return Page(client.get("/").get_data(as_text=True)).menu


@pytest.mark.parametrize("username", DEMO_USERS)
def test_no_menu_entry_link_or_form_fails_for_the_account_that_sees_it(app, browsed, username):
    visits, posts, _ = browsed(username)
    assert len(visits) > 5
    failed = [(v.came_from, v.url, v.status) for v in visits if v.status in (403, 404, 405)
              or v.status >= 500]
    refused = [(page, url) for page, method, url in posts
               if not role_may(app, ROLE_OF[username], url, method)]
    assert failed == [] and refused == []


@pytest.mark.parametrize("username", DEMO_USERS)
def test_every_list_action_offered_is_one_the_account_may_use(app, browsed, username):
    visits, _, client = browsed(username)
    offered = [(v.url, name, form.action) for v in visits if v.page is not None
               for name in v.page.actions for form in v.page.forms if form.action.endswith("/action_post")]
    for url, name, action in offered:
        html = client.post(action, data={"action": name}, follow_redirects=True).get_data(as_text=True)
        assert not any(word in html for word in DENIED), (url, name)


def test_the_registration_review_button_is_for_the_parties_of_a_review_only(app):
    """The shipped rules: the school's supervisor, then the county's registrar."""
    shown = {}
    for username in DEMO_USERS:
        if username.endswith(("admin", "auditor")):
            continue
        html = login(app.test_client(), username).get("/students/list/").get_data(as_text=True)
        shown[username] = "approve_registration_menu_item" in html
    assert {u for u, yes in shown.items() if yes} == {"school_supervisor", "county_registrar"}


def test_a_refused_action_post_is_refused_even_without_the_button(app):
    client = login(app.test_client(), "school_registrar")
    html = client.post("/students/action_post", data={"action": "approve_registration"},
                       follow_redirects=True).get_data(as_text=True)
    assert any(word in html for word in DENIED)


def test_each_role_finds_the_excel_pages_it_may_use_in_its_menu(app):
    menus = {u: menu_of(app, u) for u in DEMO_USERS}
    assert {u for u, m in menus.items() if "/imports/upload" in m} == {"school_registrar"}
    assert {u for u, m in menus.items() if "/students/add" in m} == {"school_registrar"}
    assert {u for u, m in menus.items() if "/imports/list/" in m} == {
        u for u in DEMO_USERS if u.endswith("registrar")}
    assert {u for u, m in menus.items() if "/imports/export/" in m} == {
        u for u in DEMO_USERS if u.endswith(("registrar", "supervisor"))}
    assert not any("/imports" in url for u, m in menus.items() if u.endswith(("admin", "auditor"))
                   for url in m)


def test_the_import_list_and_the_export_page_lead_to_the_template_and_the_exports(app):
    html = login(app.test_client(), "school_registrar").get("/imports/list/").get_data(as_text=True)
    for button in ("upload-link", "template-link", "exports-link"):
        assert f'id="{button}"' in html
    html = login(app.test_client(), "county_registrar").get("/imports/list/").get_data(as_text=True)
    assert 'id="upload-link"' not in html and 'id="template-link"' in html
    page = login(app.test_client(), "county_supervisor").get("/imports/export/").get_data(as_text=True)
    assert 'id="export-forms"' in page and 'id="template-link"' not in page
    assert "芙蓉区育英小学" in page


def test_only_a_bureaus_administrator_is_offered_to_edit_the_rule_file(app):
    offered = {u for u in DEMO_USERS
               if 'id="edit-rules"' in login(app.test_client(), u).get("/policy/").get_data(as_text=True)}
    assert offered == {"prov_admin", "city_admin", "county_admin"}


def _form(payload: dict) -> dict:
    data = {}
    for key, value in payload.items():
        if key == "members":
            for n, member in enumerate(value, start=1):
                data |= {f"m{n}_{k}": "1" if v is True else "0" if v is False else v
                         for k, v in member.items()}
        elif value is True:
            data[key] = "y"
        elif value not in (False, None):
            data[key] = str(value)
    return data


def test_after_adding_or_editing_a_student_the_registrar_lands_on_its_record(ctx, client_for):
    client = client_for("school_registrar")
    payload = student_payload(first_class("4301020001"), new_id(), name="落地学生")
    r = client.post("/students/add", data=_form(payload))
    assert r.status_code == 302, re.findall(r'class="alert[^"]*">([^<]+)', r.get_data(as_text=True))
    student = db.session.scalar(select(Student).where(Student.name == "落地学生"))
    assert r.headers["Location"].endswith(f"/students/show/{student.id}")
    register_fully(student.id)  # no review waits: the school edits it directly
    edit = {k: v for k, v in (_form(payload) | {"specialty": "书法"}).items() if not re.match(r"m[12]_", k)}
    r = client.post(f"/students/edit/{student.id}", data=edit)
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/students/show/{student.id}")
