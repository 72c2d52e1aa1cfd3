"""Every door deliberate: the running app serves exactly the route table, each route checks the
permission held by exactly the roles its row names, scoped routes find nothing outside the
jurisdiction, and no form offers an internal column."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask_appbuilder import BaseView, expose
from flask_appbuilder.const import PERMISSION_PREFIX
from flask_appbuilder.security.sqla.models import Role
from sqlalchemy import not_, select

from app import create_app
from app.extensions import db
from app.models import (
    FamilyMember,
    Grade,
    ImportJob,
    Jurisdiction,
    ProblemCase,
    RegistryNumber,
    Request,
    School,
    SchoolClass,
    Student,
    XuejiUser,
)
from app.security.roles import ROLES
from app.security.routes import ANYONE, ROUTES, differences, roles_of
from app.security.scoping import scopable, scope_of
from app.security.sync import drop_stale_permissions, sync_roles
from config import TestConfig

PREFIX = {"province": "prov", "city": "city", "county": "county", "school": "school"}
MODELS = {m.__name__: m for m in (Student, FamilyMember, RegistryNumber, Request, ProblemCase,
                                  ImportJob, Jurisdiction, School, Grade, SchoolClass, XuejiUser)}


def username_of(role: str) -> str:
    spec = ROLES[role]
    return f"{PREFIX[spec.level]}_{'admin' if spec.function == 'sysadmin' else spec.function}"  # _secadmin, _auditor


def _view(app, name: str):
    return next(v for v in app.appbuilder.baseviews if type(v).__name__ == name)


def _checked_permissions(view, method: str) -> set[tuple[str, str]]:
    """The (permission, view menu) pairs Flask-AppBuilder checks before running ``method``."""
    if method in ("action", "action_post"):
        return {(view.get_action_permission_name(a), view.class_permission_name) for a in view.actions}
    fn = getattr(view, method)
    if not hasattr(fn, "_permission_name"):
        return set()
    name = (view.method_permission_name or {}).get(method) or fn._permission_name
    perm = name if name.startswith(PERMISSION_PREFIX) else PERMISSION_PREFIX + name
    return {(perm, view.class_permission_name)}


def _grants() -> dict[str, set[tuple[str, str]]]:
    return {role.name: {(pv.permission.name, pv.view_menu.name) for pv in role.permissions}
            for role in db.session.scalars(select(Role).where(Role.name.in_(list(ROLES))))}


# -- the table and the app agree -----------------------------------------------------------------

def test_every_url_rule_is_in_the_route_table_and_every_row_is_served(app):
    assert differences(app) == []


def test_the_table_names_every_route_of_the_app_and_nothing_else(app):
    served = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert served == set(ROUTES)
    # FAB's default doors nobody chose are not there at all
    for endpoint in ("RequestView.add", "RequestView.edit", "RequestView.delete", "ImportView.add",
                     "ImportView.edit", "ImportView.job", "StudentView.download", "AccountView.delete",
                     "UserGroupModelView.list", "MenuApi.get_menu_data", "StudentApi.info"):
        assert endpoint not in served, endpoint


def test_an_unchosen_route_is_refused_and_reported(tmp_path):
    app = create_app(TestConfig, INSTANCE_DIR=str(tmp_path), SQLALCHEMY_DATABASE_URI="sqlite://")

    class StrayView(BaseView):  # a view nobody put in the table
        route_base = "/stray"

        @expose("/")
        def index(self):
            return "stray"

    with app.app_context():
        app.appbuilder.add_view_no_menu(StrayView)
    assert not [r for r in app.url_map.iter_rules() if r.endpoint.startswith("StrayView")]
    app.add_url_rule("/backdoor", "backdoor", lambda: "secret")  # around FAB, straight into Flask
    assert "not in the table: /backdoor ['GET'] -> backdoor" in differences(app)
    assert app.test_client().get("/backdoor").status_code == 404
    assert app.test_client().get("/stray/").status_code == 404


def test_a_method_the_row_does_not_name_is_refused(ctx, client_for):
    student = db.session.scalar(select(Student).order_by(Student.id))
    client = client_for("school_registrar")
    assert client.get(f"/students/delete/{student.id}").status_code == 405
    assert client.get(f"/students/action/approve_registration/{student.id}").status_code == 405
    assert db.session.get(Student, student.id) is not None


def test_the_table_reads_who_exactly():
    assert roles_of("registrar@school") == {"school_registrar"}
    assert roles_of("sysadmin@bureau") == {"province_sysadmin", "city_sysadmin", "county_sysadmin"}
    assert roles_of("secadmin@school") == {"school_secadmin"} and roles_of("auditor@county") == {"county_auditor"}
    assert len(roles_of("registrar,supervisor@all+sysadmin@province")) == 9
    with pytest.raises(ValueError):
        roles_of("registrar@everywhere")


# -- each route checks what its row says ---------------------------------------------------------

def test_each_route_is_open_to_exactly_the_roles_its_row_names(app, ctx):
    grants = _grants()
    wrong = []
    for route in ROUTES.values():
        if route.view in ("static", "appbuilder"):
            continue
        view = _view(app, route.view)
        checked = _checked_permissions(view, route.method)
        if not checked:
            if route.who != ANYONE:
                wrong.append(f"{route.endpoint}: checks no permission but the table says {route.who}")
            continue
        for perm, _menu in checked:
            if perm not in view.base_permissions:
                wrong.append(f"{route.endpoint}: {perm} is not among the view's permissions")
        holders = {role for role, granted in grants.items() if granted & checked}
        if holders != route.roles:
            wrong.append(f"{route.endpoint}: table {sorted(route.roles)}, granted {sorted(holders)}")
    assert wrong == []


def test_every_permission_granted_belongs_to_a_route(app, ctx):
    """Each grant is checked by some route; what services check beyond that (full personal data,
    the registration review) they ask of the role matrix in app/security/roles.py."""
    used = set()
    for route in ROUTES.values():
        if route.view not in ("static", "appbuilder"):
            used |= _checked_permissions(_view(app, route.view), route.method)
    granted = set().union(*_grants().values())
    assert {p for p in granted if p[0] != "menu_access"} <= used


def test_sync_drops_a_permission_no_route_uses(app, ctx):
    sm = app.appbuilder.sm
    pv = sm.add_permission_view_menu("can_download", "Student")
    role = sm.find_role("school_registrar")
    role.permissions.append(pv)
    db.session.commit()
    assert ("can_download", "Student") in drop_stale_permissions(app.appbuilder)
    assert sm.find_permission_view_menu("can_download", "Student") is None
    sync_roles(app.appbuilder)
    assert ("can_download", "Student") not in _grants()["school_registrar"]


PLAIN_GETS = sorted(e for e, r in ROUTES.items() if "GET" in r.methods and r.who != ANYONE
                    and e not in ("OpenApi.get", "SwaggerView.show", "AccountView.action"))


@pytest.mark.parametrize("role", sorted(ROLES))
def test_pages_answer_each_role_as_the_table_says(app, ctx, client_for, role):
    """Every page without path parameters, as each role: refused (403) exactly where the table
    says the role has no business."""
    client, wrong = client_for(username_of(role)), []
    for endpoint in PLAIN_GETS:
        rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
        if rule.arguments or rule.rule.startswith("/api/"):
            continue
        status = client.get(rule.rule).status_code
        allowed = role in ROUTES[endpoint].roles
        if allowed and status in (401, 403) or not allowed and status != 403 or status >= 500:
            wrong.append((endpoint, rule.rule, status, "allowed" if allowed else "refused"))
    assert wrong == []


@pytest.mark.parametrize("role", ["school_registrar", "county_supervisor", "county_sysadmin"])
def test_api_resources_answer_each_role_as_the_table_says(app, ctx, token_for, api, role):
    headers, wrong = token_for(username_of(role)), []
    for endpoint, route in ROUTES.items():
        rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
        if not rule.rule.startswith("/api/v1/") or "GET" not in route.methods or rule.arguments:
            continue
        status = api.get(rule.rule, headers=headers).status_code
        allowed = role in route.roles
        if allowed and status in (401, 403) or not allowed and status not in (401, 403):
            wrong.append((endpoint, status))
    assert wrong == []


# -- scoped routes find nothing outside the jurisdiction -----------------------------------------

def _outside(model, account: XuejiUser):
    return db.session.scalar(select(model.id).where(not_(scope_of(account).clause(model)))
                             .order_by(model.id))


@pytest.mark.parametrize("username", ["school_registrar", "county_registrar", "county_admin"])
def test_scoped_pages_do_not_find_another_jurisdictions_rows(app, ctx, client_for, token_for, api,
                                                             username):
    account = db.session.scalar(select(XuejiUser).where(XuejiUser.username == username))
    roles = {r.name for r in account.roles}
    client, headers = client_for(username), token_for(username)
    probed, wrong = 0, []
    for endpoint, route in ROUTES.items():
        rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
        if ("GET" not in route.methods or route.scoped not in MODELS or not roles & route.roles
                or len(rule.arguments) != 1 or rule.arguments - {"pk", "student_id"}):
            continue
        foreign = _outside(MODELS[route.scoped], account)
        if foreign is None:
            continue
        url = re.sub(r"<(\w+:)?\w+>", str(foreign), rule.rule)
        status = (api.get(url, headers=headers) if url.startswith("/api/") else client.get(url)).status_code
        probed += 1
        if status != 404:
            wrong.append((url, status))
    assert wrong == [] and probed >= 12, probed


def test_every_route_of_a_jurisdiction_bound_model_declares_its_scope(app):
    wrong = []
    for endpoint, route in ROUTES.items():
        view = next((v for v in app.appbuilder.baseviews if type(v).__name__ == route.view), None)
        model = getattr(getattr(view, "datamodel", None), "obj", None)
        if model is not None and scopable(model) and route.scoped != model.__name__:
            if not (route.method in ("new", "transfer_in", "template", "upload", "students_xlsx",
                                     "confirmation", "exports") and route.scoped):  # other rows
                wrong.append((endpoint, route.scoped, model.__name__))
    assert wrong == []


# -- forms offer nothing internal ----------------------------------------------------------------

INTERNAL = re.compile(r"(_enc|_blind|_code)$|^(uid|status|chain|holder_\w+|round|step|version|"
                      r"payload\w*|created_by\w*|open_student_id|rows_\w+|file_enc)$")


def test_no_served_form_offers_an_internal_column(app):
    wrong = []
    for view in app.appbuilder.baseviews:
        for kind in ("add", "edit"):
            if kind in (view.include_route_methods or ()):
                wrong += [(type(view).__name__, kind, c) for c in getattr(view, f"{kind}_columns", None) or []
                          if INTERNAL.search(c) and c != "code"]
        for column in getattr(view, "search_columns", None) or []:
            blind_search = column.endswith("_blind")  # exact search through the keyed hash only
            if (column.endswith("_enc") or column == "uid") and not blind_search:
                wrong.append((type(view).__name__, "search", column))
    assert wrong == []


def test_the_request_list_offers_no_add_button(ctx, client_for):
    html = client_for("school_registrar").get("/requests/list/").get_data(as_text=True)
    assert "/requests/add" not in html and "/imports/add" not in html
    assert client_for("school_registrar").get("/requests/add").status_code == 404


def test_route_table_cli_lists_every_route_and_agrees_with_the_app(app):
    result = app.test_cli_runner().invoke(args=["routes", "--json"])
    assert result.exit_code == 0, result.output
    import json

    rows = json.loads(result.output)
    assert {r["endpoint"] for r in rows} == set(ROUTES)
    transfer = next(r for r in rows if r["endpoint"] == "RequestApi.lookup")
    assert transfer["roles"] == ["school_registrar"] and transfer["scoped"] == "Student"


def test_flask_itself_is_not_a_way_around(app):
    assert isinstance(app, Flask)
    first = app.before_request_funcs[None][0]
    assert first.__module__ == "app.security.gate"
