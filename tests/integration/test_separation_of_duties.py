"""Separation of duties (三权分立): an account that reaches students is inert until a security
administrator of its level or above approves it, nobody approves their own change, the auditor only
reads, administrative functions never mix, and security administrators keep custom roles."""

from __future__ import annotations

import uuid

import pytest
from factories import account, actor_of, student_in
from flask_appbuilder.security.sqla.models import Role
from sqlalchemy import select

from app.errors import Forbidden, NotFound, ValidationFailed
from app.extensions import db
from app.models import AccountApproval, AuditEvent, CustomRole, Jurisdiction, School, XuejiUser
from app.models.base import local_now
from app.security.sync import grant
from app.services.common.actors import Actor
from app.services.organisation import approvals, custom_roles
from app.services.organisation.accounts import create_account
from app.services.record.history_words import action_words

NEW_PASSWORD = "Strong#Pass2026"


def _name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:6]}"


def _form(username: str, role: str, *, school: str | None = None, node: str | None = None) -> dict:
    data = {"username": username, "first_name": "测试", "email": f"{username}@x.cn", "active": "y",
            "roles": str(db.session.scalar(select(Role.id).where(Role.name == role))),
            "password": NEW_PASSWORD, "conf_password": NEW_PASSWORD}
    if school:
        data["school"] = str(db.session.scalar(select(School.id).where(School.code == school)))
    if node:
        data["jurisdiction"] = str(db.session.scalar(select(Jurisdiction.id).where(Jurisdiction.code == node)))
    return data


def _user(username: str) -> XuejiUser | None:
    db.session.expire_all()
    return db.session.scalar(select(XuejiUser).where(XuejiUser.username == username))


def _pending(username: str) -> AccountApproval | None:
    return approvals.pending(db.session, _user(username).id)


def _sign_in(app, username: str, password: str = NEW_PASSWORD):
    """The real login form; (signed in?, the page shown after it)."""
    client = app.test_client()
    r = client.post("/login/", data={"username": username, "password": password})
    page = client.get("/login/").get_data(as_text=True)
    return r.status_code == 302 and "/login" not in r.location, page


def _sync(app):
    return lambda role, spec: grant(app.appbuilder, role, spec)


def _made_by(client_for, admin: str, username: str, role: str, **where) -> AccountApproval:
    r = client_for(admin).post("/users/add", data=_form(username, role, **where))
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    return _pending(username)


# -- account approval ----------------------------------------------------------------------------

def test_an_account_with_student_access_is_inert_until_a_security_administrator_approves(ctx, app, client_for):
    name, admin = _name("sod_reg"), client_for("county_admin")
    assert admin.post("/users/add", data=_form(name, "school_registrar", school="4301020002")).status_code == 302
    assert "须经本级或上级安全管理员审批" in admin.get("/users/list/").get_data(as_text=True)
    row = _pending(name)
    assert row is not None and row.requested_by == "county_admin" and row.action == "create"

    signed, page = _sign_in(app, name)
    assert not signed and "尚待安全管理员审批" in page
    signed, page = _sign_in(app, name, "Wrong#Pass2026")  # a wrong password learns nothing more
    assert not signed and "尚待" not in page
    assert app.test_client().post("/api/v1/security/login",
                                  json={"username": name, "password": NEW_PASSWORD}).status_code == 401

    listing = client_for("county_secadmin").get("/approvals/").get_data(as_text=True)
    assert name in listing and f"approve-{row.id}" in listing
    r = client_for("county_secadmin").post(f"/approvals/{row.id}/decide", data={"decision": "approve"})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(AccountApproval, row.id).status == "approved"
    assert _sign_in(app, name)[0]
    actions = [e.action for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.entity == "account", AuditEvent.entity_id == row.user_id)
        .order_by(AuditEvent.id))]
    assert actions[:3] == ["create", "approval_requested", "approve"]


def test_an_account_without_student_access_takes_effect_at_once(ctx, app, client_for):
    name = _name("sod_adm")
    assert _made_by(client_for, "county_admin", name, "school_sysadmin", school="4301020002") is None
    assert _user(name).active


def test_a_role_change_that_gains_student_access_waits_and_a_refusal_puts_it_back(ctx, app, client_for):
    name = _name("sod_chg")
    _made_by(client_for, "county_admin", name, "school_sysadmin", school="4301020002")
    user = _user(name)
    data = _form(name, "school_supervisor", school="4301020002")
    del data["password"], data["conf_password"]
    assert client_for("county_admin").post(f"/users/edit/{user.id}", data=data).status_code == 302
    row = _pending(name)
    assert row.action == "update" and row.before["roles"] == ["school_sysadmin"]
    assert not _sign_in(app, name)[0]

    approvals.decide(db.session, actor_of("prov_secadmin"), row.id, approve=False, now=local_now())
    user = _user(name)
    assert [r.name for r in user.roles] == ["school_sysadmin"] and _pending(name) is None
    assert _sign_in(app, name)[0]


def test_a_change_that_takes_the_student_access_away_withdraws_the_pending_approval(ctx, app, client_for):
    name = _name("sod_wd")
    row = _made_by(client_for, "county_admin", name, "school_registrar", school="4301020002")
    data = _form(name, "school_sysadmin", school="4301020002")
    del data["password"], data["conf_password"]
    assert client_for("county_admin").post(f"/users/edit/{row.user_id}", data=data).status_code == 302
    db.session.expire_all()
    assert db.session.get(AccountApproval, row.id).status == "withdrawn" and _pending(name) is None
    assert _sign_in(app, name)[0]


def test_nobody_approves_their_own_change(ctx, app):
    """A security administrator whose custom-role edit gives its holders student access cannot
    approve those accounts: another one must."""
    sync = _sync(app)
    secadmin = actor_of("county_secadmin")
    role = custom_roles.create(db.session, secadmin, key=_name("rpt"), label="报表督导员", level="county",
                               grants=["Report.read"], sync=sync)
    name = _name("sod_own")
    create_account(db.session, username=name, password=NEW_PASSWORD, roles=[role.name], node_code="430102")
    db.session.commit()
    assert _pending(name) is None  # made by the system, no student access either way
    custom_roles.update(db.session, secadmin, role.id, label="报表与学生督导员",
                        grants=["Report.read", "Student.read"], sync=sync)
    row = _pending(name)
    assert row is not None and row.requested_by == "county_secadmin"
    with pytest.raises(Forbidden, match="自己|own"):
        approvals.decide(db.session, secadmin, row.id, approve=True, now=local_now())
    approvals.decide(db.session, actor_of("prov_secadmin"), row.id, approve=True, now=local_now())
    assert _pending(name) is None


def test_a_refused_role_change_takes_the_role_off_its_holder(ctx, app):
    """Refusing the approval a role edit filed for its holder leaves the holder without the role
    (and so without the student access the edit gave it)."""
    sync = _sync(app)
    role = custom_roles.create(db.session, actor_of("county_secadmin"), key=_name("rfs"), label="报表督导员",
                               level="county", grants=["Report.read"], sync=sync)
    name = _name("sod_rfs")
    create_account(db.session, username=name, password=NEW_PASSWORD, roles=[role.name], node_code="430102")
    db.session.commit()
    custom_roles.update(db.session, actor_of("county_secadmin"), role.id, label="报表与学生督导员",
                        grants=["Report.read", "Student.read"], sync=sync)
    approvals.decide(db.session, actor_of("prov_secadmin"), _pending(name).id, approve=False, now=local_now())
    assert role.name not in [r.name for r in _user(name).roles]
    assert not Actor.of(_user(name)).may("Student", "read")


def test_a_custom_role_stays_inside_the_county_that_made_it(ctx, app, client_for):
    """Another county's security administrator neither sees nor edits it, and no account of
    another county may hold it."""
    role = custom_roles.create(db.session, actor_of("county_secadmin"), key=_name("own"), label="本县督导员",
                               level="county", grants=["Report.read"], sync=_sync(app))
    assert role.county_code == "430102"
    other = account(_name("c2sec"), "county_secadmin", node="430202")
    assert role.id not in [r.id for r in custom_roles.listing(db.session, other)]
    with pytest.raises(NotFound):
        custom_roles.update(db.session, other, role.id, label="x", grants=["Report.read"], sync=_sync(app))
    assert role.id in [r.id for r in custom_roles.listing(db.session, actor_of("prov_secadmin"))]
    with pytest.raises(ValidationFailed, match="其他单位|another jurisdiction"):
        create_account(db.session, username=_name("out"), password=NEW_PASSWORD, roles=[role.name],
                       node_code="430202")
    db.session.rollback()
    assert client_for("city_secadmin").get(f"/customroles/{role.id}/edit").status_code == 200


def test_a_lower_level_security_administrator_cannot_approve_a_higher_level_account(ctx, app, client_for):
    name = _name("sod_city")
    row = _made_by(client_for, "prov_admin", name, "city_registrar", node="430100")
    with pytest.raises(NotFound):
        approvals.decide(db.session, actor_of("county_secadmin"), row.id, approve=True, now=local_now())
    assert name not in client_for("county_secadmin").get("/approvals/").get_data(as_text=True)
    client_for("county_secadmin").post(f"/approvals/{row.id}/decide", data={"decision": "approve"})
    assert _pending(name) is not None
    result = app.test_cli_runner().invoke(args=["users", "approve", name, "--as", "city_secadmin"])
    assert result.exit_code == 0, result.output
    assert _pending(name) is None and _sign_in(app, name)[0]


def test_the_command_line_refuses_to_approve_as_a_system_administrator(ctx, app, client_for):
    name = _name("sod_cli")
    _made_by(client_for, "county_admin", name, "county_supervisor", node="430102")
    result = app.test_cli_runner().invoke(args=["users", "approve", name, "--as", "county_admin"])
    assert result.exit_code != 0 and _pending(name) is not None
    result = app.test_cli_runner().invoke(args=["users", "approve", name, "--as", "county_secadmin", "--refuse"])
    assert result.exit_code == 0, result.output
    assert _user(name).active is False


# -- the auditor reads, changes nothing ---------------------------------------------------------

def test_the_auditor_reads_the_audit_log_and_cannot_change_anything(ctx, client_for):
    auditor = client_for("county_auditor")
    assert auditor.get("/audit-log/list/").status_code == 200
    assert auditor.get("/personal-data-log/list/").status_code == 200
    school = db.session.scalar(select(School).where(School.code == "4301020002"))
    refused = {
        "/users/add": _form(_name("aud"), "school_registrar", school="4301020002"),
        f"/schools/edit/{school.id}": {"name": "改名"},
        "/customroles/add": {"key": "aud_role", "label": "x", "level": "county", "grants": "Report.read"},
        "/approvals/1/decide": {"decision": "approve"},
        "/policy/activate/": {},
    }
    for path, data in refused.items():
        assert auditor.post(path, data=data).status_code == 403, path
    db.session.expire_all()
    assert db.session.get(School, school.id).name != "改名"
    assert db.session.scalar(select(CustomRole).where(CustomRole.name == "custom_aud_role")) is None


def test_system_administrators_no_longer_read_the_logs(ctx, client_for):
    assert client_for("county_admin").get("/audit-log/list/").status_code == 403


# -- functions never mix -------------------------------------------------------------------------

@pytest.mark.parametrize("roles", [["county_secadmin", "county_registrar"],
                                   ["county_auditor", "county_sysadmin"],
                                   ["county_secadmin", "county_auditor"]])
def test_an_account_never_mixes_administrative_functions(ctx, roles):
    with pytest.raises(ValidationFailed, match="不能兼任|holds no other role"):
        create_account(db.session, username=_name("mix"), password=NEW_PASSWORD, roles=roles,
                       node_code="430102")
    db.session.rollback()


def test_the_account_form_refuses_a_mix_too(ctx, client_for):
    name = _name("mixf")
    data = _form(name, "county_secadmin", node="430102")
    data["roles"] = [data["roles"], str(db.session.scalar(select(Role.id).where(Role.name == "county_registrar")))]
    html = client_for("county_admin").post("/users/add", data=data).get_data(as_text=True)
    assert _user(name) is None and "不能兼任" in html


# -- custom roles --------------------------------------------------------------------------------

def test_custom_roles_are_created_scoped_edited_and_retired(ctx, app, client_for):
    secadmin = client_for("county_secadmin")
    key = _name("insp")
    r = secadmin.post("/customroles/add", data={"key": key, "label": "只读督查员", "level": "county",
                                                "grants": ["Student.read", "Report.read"]})
    assert r.status_code == 302, r.get_data(as_text=True)[:800]
    role = db.session.scalar(select(CustomRole).where(CustomRole.name == f"custom_{key}"))
    fab = app.appbuilder.sm.find_role(role.name)
    pairs = {(pv.permission.name, pv.view_menu.name) for pv in fab.permissions}
    assert ("can_list", "Student") in pairs and ("can_add", "Student") not in pairs
    assert "只读督查员" in secadmin.get("/customroles/").get_data(as_text=True)

    name = _name("insp_u")
    row = _made_by(client_for, "county_admin", name, role.name, node="430102")
    assert row is not None  # it reads students: it waits
    approvals.decide(db.session, actor_of("county_secadmin"), row.id, approve=True, now=local_now())
    who = actor_of(name)
    assert who.may("Student", "read") and not who.may("Student", "edit") and who.may("Report", "read")
    browsing = _name("insp_b")  # made by the system: in force at once, its own password
    create_account(db.session, username=browsing, password=NEW_PASSWORD, roles=[role.name], node_code="430102")
    db.session.commit()
    inspector = app.test_client()
    inspector.post("/login/", data={"username": browsing, "password": NEW_PASSWORD})
    assert inspector.get("/students/list/").status_code == 200
    assert inspector.get("/students/add").status_code == 403
    elsewhere = student_in(county_code="430202")
    assert inspector.get(f"/students/show/{elsewhere.id}").status_code == 404  # scoped like any account

    r = secadmin.post(f"/customroles/{role.id}/retire")
    db.session.expire_all()
    assert db.session.get(CustomRole, role.id).retired_at is None  # an account still holds it
    r = secadmin.post(f"/customroles/{role.id}/edit", data={"label": "督查员", "grants": ["Report.read"]})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(CustomRole, role.id).grants == ["Report.read"]
    assert not actor_of(name).may("Student", "read")
    for holder in (_user(name), _user(browsing)):
        holder.roles = [db.session.scalar(select(Role).where(Role.name == "county_registrar"))]
    db.session.commit()
    secadmin.post(f"/customroles/{role.id}/retire")
    db.session.expire_all()
    assert db.session.get(CustomRole, role.id).retired_at is not None
    assert app.appbuilder.sm.find_role(role.name).permissions == []
    with pytest.raises(ValidationFailed):
        create_account(db.session, username=_name("late"), password=NEW_PASSWORD, roles=[role.name],
                       node_code="430102")
    db.session.rollback()
    events = db.session.scalars(select(AuditEvent.action).where(AuditEvent.entity == "role",
                                                                 AuditEvent.entity_id == role.id)
                                .order_by(AuditEvent.id)).all()
    assert events == ["create", "update", "retire"]
    assert [action_words(a, "role") for a in events] == ["新建自定义角色", "修改自定义角色", "停用自定义角色"]


@pytest.mark.parametrize("grants,reason", [
    (["Student.read", "Account.add"], "账号管理"),
    (["AuditEvent.read", "School.edit"], "审计日志"),
])
def test_a_custom_role_mixing_forbidden_duties_is_refused_with_the_reason(ctx, client_for, grants, reason):
    key = _name("bad")
    html = client_for("county_secadmin").post(
        "/customroles/add", data={"key": key, "label": "混合", "level": "county", "grants": grants}
    ).get_data(as_text=True)
    assert reason in html
    assert db.session.scalar(select(CustomRole).where(CustomRole.name == f"custom_{key}")) is None


def test_built_in_roles_stay_as_defined_and_only_security_administrators_keep_custom_roles(ctx, client_for):
    secadmin = client_for("county_secadmin")
    builtin = db.session.scalar(select(Role.id).where(Role.name == "county_registrar"))
    assert secadmin.get(f"/roles/edit/{builtin}").status_code == 404  # FAB's role form is not served
    assert secadmin.get(f"/customroles/{builtin}/edit").status_code == 404 or builtin not in {
        r.id for r in db.session.scalars(select(CustomRole))}
    assert client_for("county_admin").get("/customroles/").status_code == 403
    assert client_for("county_registrar").post("/customroles/add", data={}).status_code == 403
    with pytest.raises(Forbidden):
        custom_roles.create(db.session, actor_of("county_admin"), key="nope", label="x", level="county",
                            grants=["Report.read"], sync=lambda role, spec: None)


def test_a_county_security_administrator_defines_no_province_role(ctx):
    with pytest.raises(ValidationFailed, match="本级或下级|your level"):
        custom_roles.create(db.session, actor_of("county_secadmin"), key=_name("prv"), label="x",
                            level="province", grants=["Report.read"], sync=lambda role, spec: None)


def test_a_custom_role_holds_no_more_than_a_built_in_role_of_its_level(ctx):
    """Setting the security policy is the province's: a county role cannot carry it, nor can a
    school role decide account approvals (no built-in role of those levels may)."""
    with pytest.raises(ValidationFailed) as caught:
        custom_roles.create(db.session, actor_of("prov_secadmin"), key=_name("pol"), label="策略", level="county",
                            grants=["SecurityPolicy.edit", "Report.read"], sync=lambda role, spec: None)
    assert [p.field for p in caught.value.problems] == ["grants"]
    assert "SecurityPolicy.edit" in caught.value.problems[0].message and "Report.read" not in caught.value.problems[0].message
    role = custom_roles.create(db.session, actor_of("prov_secadmin"), key=_name("pol"), label="策略",
                               level="province", grants=["SecurityPolicy.edit"], sync=lambda role, spec: None)
    assert role.level == "province"


def test_fabs_admin_role_is_used_for_none_of_it(ctx, app):
    admin = app.appbuilder.sm.find_role(app.appbuilder.sm.auth_role_admin)
    held = {(pv.permission.name, pv.view_menu.name) for pv in admin.permissions}
    assert not {v for _, v in held} & {"AccountApproval", "CustomRole", "Account"}
    assert not db.session.scalar(select(XuejiUser.id).where(XuejiUser.roles.any(Role.name == admin.name)))


def test_a_password_set_by_an_administrator_waits_for_a_security_administrator(ctx, app, client_for):
    """Whoever resets a registrar's password could sign in as them: the account is inert until a
    security administrator approves; a refusal leaves it disabled.  An account without student
    access is reset at once."""
    name = _name("rst")
    create_account(db.session, username=name, password=NEW_PASSWORD, roles=["county_registrar"],
                   node_code="430102")
    user = _user(name)
    assert _sign_in(app, name)[0]
    admin = client_for("county_admin")
    reset = {"password": "Other#Pass2026", "conf_password": "Other#Pass2026"}
    assert admin.post(f"/resetpassword/form?pk={user.id}", data=reset).status_code == 302
    row = _pending(name)
    assert (row.action, row.requested_by) == ("reset", "county_admin")
    assert not _sign_in(app, name, "Other#Pass2026")[0]
    approvals.decide(db.session, actor_of("county_secadmin"), row.id, approve=False, now=local_now())
    assert _user(name).active is False and not _sign_in(app, name, "Other#Pass2026")[0]
    # again, approved this time: the account signs in with the new password (and must change it)
    change = {"password": "Third#Pass2026", "conf_password": "Third#Pass2026"}
    admin.post(f"/users/edit/{user.id}", data={**_form(name, "county_registrar", node="430102"), "active": "y"})
    assert admin.post(f"/resetpassword/form?pk={user.id}", data=change).status_code == 302
    approvals.decide(db.session, actor_of("county_secadmin"), _pending(name).id, approve=True, now=local_now())
    assert _sign_in(app, name, "Third#Pass2026")[0]
    # an administrator's own kind: no student access, no approval
    other = _name("rsa")
    create_account(db.session, username=other, password=NEW_PASSWORD, roles=["county_sysadmin"], node_code="430102")
    assert client_for("city_admin").post(f"/resetpassword/form?pk={_user(other).id}", data=change).status_code == 302
    assert _pending(other) is None
