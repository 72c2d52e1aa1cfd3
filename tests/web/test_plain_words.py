"""Plain Chinese everywhere: every page each demo account reaches from its menu reads in Chinese
words -- none of Flask-AppBuilder's English defaults, no raw key, column name or code -- and
English stays one click away and complete."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import browsing
import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from browsing import DEMO_USERS, Page, browse
from conftest import login
from factories import registered_in
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, CustomRole, PersonalDataAccess, School, XuejiUser
from app.services.record.history_words import action_words
from app.services.requests.kinds import KINDS

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "app" / "translations" / "zh" / "LC_MESSAGES"
# Chinese words of the app's frame an English page must not show
CHINESE_FRAME = ("查询", "添加查询条件", "记录数目", "取消", "确定", "查看", "编辑", "删除", "新增",
                 "返回", "学生名册", "业务办理", "操作日志", "机构设置", "我的账号", "退出")


def usernames() -> set[str]:
    """Names people chose (accounts, custom roles' keys): data, not words of the interface."""
    return set(db.session.scalars(select(XuejiUser.username))) | set(db.session.scalars(select(CustomRole.name)))


def raw_words(text: str) -> set[str]:
    """snake_case tokens in visible text that are not an account's name (which is what it is)."""
    return browsing.raw_words(text, usernames())


def squash(text: str) -> str:
    """Text without the separators a template may put between an item and its values."""
    return re.sub(r"[\s|:：;；→]", "", text)


def problems_zh(page: Page) -> set[str]:
    return browsing.problems_zh(page.text, usernames())


@pytest.fixture(scope="module")
def history(app):
    """Rows of every kind the logs and the record page tell: a status change, an edit of coded and
    yes/no items and of the class, an approval step, an account's creation, a personal-data view."""
    with app.app_context():
        student = registered_in("4301020001")
        klass = student.school_class
        other = next(c for c in student.school.classes if c.id != klass.id)
        base = {"user_id": None, "username": "school_registrar", "entity": "student",
                "entity_id": student.id, "entity_uid": student.ensure_uid(),
                "school_id": student.school_id}
        db.session.add_all([
            AuditEvent(action="apply_suspend", summary=f"#1 休学 {student.name}",
                       changes={"status": {"old": "in_school", "new": "suspended"}}, **base),
            AuditEvent(action="update", changes={
                "gender": {"old": "1", "new": "2"}, "only_child": {"old": True, "new": False},
                "class_id": {"old": klass.id, "new": other.id}, "id_number": {"changed": True},
                "specialty": {"old": None, "new": "围棋"}}, **base),
            AuditEvent(action="request_return", summary="休学 #1 材料不全", **base),
            AuditEvent(action="add_member", **(base | {"entity": "family_member"})),
            AuditEvent(action="create", entity="account", entity_id=1, school_id=student.school_id,
                       username="school_admin", summary="create school_registrar",
                       changes={"roles": {"new": ["school_registrar"]}, "active": {"new": True},
                                "binding": {"new": "school:4301020001"}}),
            PersonalDataAccess(username="school_supervisor", student_id=student.id,
                               student_uid=student.uid, channel="web",
                               fields="id_number,current_address,member.phone"),
        ])
        db.session.commit()
        return student.id


@pytest.mark.parametrize("username", DEMO_USERS)
def test_every_page_of_the_menu_reads_in_chinese_words(ctx, app, history, username):
    visits, _ = browse(app, login(app.test_client(), username), downloads=False)
    found = {v.url: problems_zh(v.page) for v in visits if v.page is not None}
    assert {url: words for url, words in found.items() if words} == {}
    assert len(found) > 5


@pytest.mark.parametrize("username", ["school_registrar", "county_supervisor", "prov_admin"])
def test_english_is_one_click_away_and_complete(ctx, app, history, username):
    client = login(app.test_client(), username)
    assert 'id="lang-en"' in client.get("/").get_data(as_text=True)
    client.get("/lang/en")
    visits, _ = browse(app, client, downloads=False)
    pages = {v.url: v.page for v in visits if v.page is not None}
    name = app.config["APP_NAME"]  # the product's name is one in both languages
    leftovers = {url: [w for w in CHINESE_FRAME if w in page.text.replace(name, "")]
                 + sorted(raw_words(page.text)) for url, page in pages.items()}
    assert {url: words for url, words in leftovers.items() if words} == {}
    assert 'id="lang-zh"' in client.get("/").get_data(as_text=True)


def test_the_login_page_and_an_anonymous_404_read_in_chinese(ctx, app):
    client = app.test_client()
    for url, status in (("/login/", 200), ("/no-such-page", 404)):
        r = client.get(url)
        assert r.status_code == status
        assert problems_zh(Page(r.get_data(as_text=True))) == set()
    assert "登录" in client.get("/login/").get_data(as_text=True)


def test_accounts_are_named_whole_and_roles_by_their_names(ctx, app):
    client = login(app.test_client(), "prov_admin")
    text = Page(client.get("/users/list/").get_data(as_text=True)).text
    assert "姓名" in text and "省级学籍管理员" in text and "学校学籍管理员" in text
    assert "[" not in text and "province_registrar" not in text and " 姓 " not in text
    me = Page(login(app.test_client(), "school_registrar").get("/users/userinfo/").get_data(as_text=True))
    user = db.session.scalar(select(XuejiUser).where(XuejiUser.username == "school_registrar"))
    assert user.get_full_name() in me.text and "学校学籍管理员" in me.text
    assert "s chool_registrar" not in me.text
    roles = Page(client.get("/roles/list/").get_data(as_text=True)).text
    assert "县级学籍主管领导" in roles and "county_supervisor" not in roles


def test_an_account_split_into_two_names_reads_back_whole():
    user = XuejiUser(username="wangfang", first_name="王", last_name="芳")
    assert user.get_full_name() == "王芳"
    assert XuejiUser(username="li", first_name="li", last_name="-").get_full_name() == "li"


def test_the_record_history_and_the_logs_tell_what_happened_in_words(ctx, app, history):
    client = login(app.test_client(), "school_supervisor")
    page = Page(client.get(f"/students/show/{history}").get_data(as_text=True))
    for words in ("休学生效", "学籍状态：在校 → 休学", "性别：男 → 女", "是否独生子女：是 → 否",
                  "退回修改", "新增家庭成员", "身份证件号：已修改"):
        assert squash(words) in squash(page.text), words
    assert raw_words(page.text) == set()
    log = client.get("/audit-log/list/").get_data(as_text=True)
    assert "新建账号" in log and "休学生效" in log and "apply_suspend" not in log
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "apply_suspend")
                              .order_by(AuditEvent.id.desc()))
    shown = Page(client.get(f"/audit-log/show/{event.id}").get_data(as_text=True)).text
    assert "学籍状态：在校 → 休学" in shown and "in_school" not in shown
    views = Page(client.get("/personal-data-log/list/").get_data(as_text=True)).text
    assert "身份证件号、现住址、家庭成员联系电话" in views and "学籍页面" in views


def test_yes_and_no_read_as_words_in_lists_and_pages(app):
    client = login(app.test_client(), "prov_admin")
    for url in ("/users/list/", "/users/show/1", "/codes/list/"):
        text = Page(client.get(url).get_data(as_text=True)).text
        assert "是" in text and "True" not in text and "False" not in text


def test_403_404_and_500_pages_are_chinese_in_the_layout_with_the_way_back(ctx, app, monkeypatch):
    client = login(app.test_client(), "county_registrar")
    r = client.get("/policy/edit/", headers={"Referer": "http://localhost/policy/"})
    page = Page(r.get_data(as_text=True))
    assert r.status_code == 403 and "无权访问" in page.text
    assert "http://localhost/policy/" in page.links  # back where the reader came from
    assert "学生名册" in page.text and "/" in page.links  # the menu and the way home
    r = client.get("/students/show/99999999")
    assert r.status_code == 404 and "找不到页面" in r.get_data(as_text=True)

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    monkeypatch.setitem(app.view_functions, "PolicyView.history", broken)
    r = client.get("/policy/history/")
    page = Page(r.get_data(as_text=True))
    assert r.status_code == 500 and "系统出错" in page.text and "boom" not in page.text
    assert problems_zh(page) == set() and "/" in page.links
    client.get("/lang/en")
    assert "Something went wrong" in client.get("/policy/history/").get_data(as_text=True)
    assert "Not found" in client.get("/students/show/99999999").get_data(as_text=True)


def test_refusals_under_the_api_stay_json(app, token_for):
    r = app.test_client().get("/api/v1/student/99999999", headers=token_for("school_registrar"))
    assert r.status_code == 404 and r.is_json
    r = app.test_client().get("/api/v1/no-such-resource/")
    assert r.status_code == 404 and r.is_json


def test_the_chinese_catalog_is_compiled_from_its_source():
    with open(CATALOG / "messages.po", "rb") as po, open(CATALOG / "messages.mo", "rb") as mo:
        source, compiled = read_po(po), read_mo(mo)
    want = {m.id: m.string for m in source if m.id}
    have = {m.id: m.string for m in compiled if m.id}
    assert have == want, "run: .venv/bin/pybabel compile -d app/translations"


def test_flask_appbuilders_words_come_out_in_chinese(app):
    client = login(app.test_client(), "school_registrar")
    text = Page(client.get("/students/list/").get_data(as_text=True)).text
    for words in ("查询", "添加查询条件", "查看", "记录数目", "取消", "确定"):
        assert words in text
    html = client.get("/students/list/").get_data(as_text=True)  # the filters' operators, as JSON
    assert "\\u5f00\\u5934\\u662f" in html and "Starts with" not in html  # 开头是
    html = client.get("/grades/list/").get_data(as_text=True)  # the delete button's question
    assert "确定删除这条记录吗" in html and "Are you sure" not in html


def _entity_of(path: Path) -> str:
    return ("account" if {"organisation", "security"} & set(path.parts) else
            "family_member" if path.stem == "family" else "student")


def _actions_written() -> set[tuple[str, str]]:
    """(entity, action) of every audit row the code writes with a literal action."""
    found = set()
    for path in (ROOT / "app").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            keyword = next((k.value for k in node.keywords if k.arg == "action"), None)
            writes = name in ("account_event", "audit", "_audit") and len(node.args) > 2
            arg = node.args[2] if writes else None
            value = keyword if name == "AuditEvent" else arg
            for one in (value.body, value.orelse) if isinstance(value, ast.IfExp) else (value,):
                if isinstance(one, ast.Constant) and isinstance(one.value, str):
                    found.add((_entity_of(path), one.value))
    return found


def test_every_action_the_history_can_hold_has_words(ctx):
    written = _actions_written()
    assert {("account", "account_locked"), ("student", "create"), ("family_member", "add_member"),
            ("student", "registered"), ("account", "reset_password")} <= written
    steps = {"submit", "approve", "reject", "return", "resubmit", "cancel", "pull"}
    actions = written | {("account", a) for a in ("update", "deactivate", "reactivate")} \
        | {("student", f"request_{s}") for s in steps} | {("student", f"apply_{k}") for k in KINDS}
    untold = {(e, a) for e, a in actions if "_" in action_words(a, e) or action_words(a, e).isascii()}
    assert untold == set()


def test_an_unknown_school_binding_reads_as_its_code(ctx):
    from app.services.record.history_words import value_words

    assert value_words(db.session, "binding", "school:0000000000") == "0000000000"
    assert db.session.scalar(select(School.name).where(School.code == "4301020001")) in \
        value_words(db.session, "binding", "school:4301020001")


def test_a_retired_registry_number_says_why_in_words():
    from app.services.record.history_words import retired_words

    assert retired_words("record deleted") == "学籍已删除"
    assert retired_words("replaced by G4301***") == "已换发正式学籍号 G4301***"
