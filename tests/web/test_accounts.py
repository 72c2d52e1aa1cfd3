"""Account administration: bound inside one's subtree, roles of the node's level, strong passwords."""

from __future__ import annotations

from flask_appbuilder.security.sqla.models import Role
from sqlalchemy import select

from app.extensions import db
from app.models import Jurisdiction, School, XuejiUser


def _role_id(name: str) -> int:
    return db.session.scalar(select(Role.id).where(Role.name == name))


def _school_id(code: str) -> int:
    return db.session.scalar(select(School.id).where(School.code == code))


def _form(username: str, role: str, *, school: str | None = None, node: str | None = None,
          password: str = "Strong#Pass2026") -> dict:
    data = {"username": username, "first_name": "测", "last_name": "试", "email": f"{username}@x.cn",
            "active": "y", "roles": str(_role_id(role)), "password": password,
            "conf_password": password}
    if school:
        data["school"] = str(_school_id(school))
    if node:
        data["jurisdiction"] = str(db.session.scalar(select(Jurisdiction.id)
                                                    .where(Jurisdiction.code == node)))
    return data


def _made(username: str) -> XuejiUser | None:
    db.session.expire_all()
    return db.session.scalar(select(XuejiUser).where(XuejiUser.username == username))


def test_county_admin_creates_a_school_registrar_in_its_county(ctx, client_for):
    r = client_for("county_admin").post("/users/add", data=_form("new_reg", "school_registrar",
                                                                 school="4301020002"))
    assert r.status_code == 302
    user = _made("new_reg")
    assert user.school.code == "4301020002" and [r.name for r in user.roles] == ["school_registrar"]
    assert user.password.startswith("scrypt:")


def test_county_admin_cannot_bind_an_account_to_another_county(ctx, client_for):
    client_for("county_admin").post("/users/add", data=_form("far_reg", "school_registrar",
                                                             school="4302020001"))
    assert _made("far_reg") is None


def test_role_level_must_match_the_bound_node(ctx, client_for):
    html = client_for("prov_admin").post(
        "/users/add", data=_form("mismatch", "province_registrar", school="4301020001")
    ).get_data(as_text=True)
    assert _made("mismatch") is None
    assert "school roles" in html or "须绑定" in html or "级别" in html


def test_fabs_admin_role_can_never_be_assigned(ctx, client_for):
    data = _form("sneaky", "province_registrar", node="430000")
    data["roles"] = str(_role_id("Admin"))
    client_for("prov_admin").post("/users/add", data=data)
    assert _made("sneaky") is None


def test_a_system_administrator_holds_no_registry_role(ctx, client_for):
    data = _form("mixed", "county_sysadmin", node="430102")
    data["roles"] = [str(_role_id("county_sysadmin")), str(_role_id("county_registrar"))]
    client_for("county_admin").post("/users/add", data=data)
    assert _made("mixed") is None


def test_a_weak_password_is_refused_on_the_form(ctx, client_for):
    html = client_for("county_admin").post(
        "/users/add", data=_form("weakling", "county_registrar", node="430102", password="abc12345")
    ).get_data(as_text=True)
    assert _made("weakling") is None
    assert "10" in html


def test_an_administrator_cannot_change_its_own_roles(ctx, client_for):
    me = _made("county_admin")
    data = _form("county_admin", "county_registrar", node="430102")
    for key in ("password", "conf_password"):
        data.pop(key)
    client_for("county_admin").post(f"/users/edit/{me.id}", data=data)
    assert [r.name for r in _made("county_admin").roles] == ["county_sysadmin"]


def test_registrars_cannot_manage_accounts(ctx, client_for):
    assert client_for("county_registrar").get("/users/list/").status_code == 403
