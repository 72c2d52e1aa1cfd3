"""Accounts: bound to one node, roles of that node's level, an administrative function (system
administrator, security administrator, auditor) never mixed with any other role."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from ...errors import Conflict, Forbidden, NotFound, Problem, ValidationFailed
from ...i18n import t
from ...models import CustomRole, Jurisdiction, School, XuejiUser
from ...models.base import local_now
from ...security import password_age, policy_settings
from ...security.custom_roles import specs_for
from ...security.duties import duty_problems, grants_of, mixes_functions
from ...security.passwords import password_problem
from ...security.roles import ROLES
from ...security.scoping import account_roles
from ..common.actors import Actor
from ..common.transaction import transactional
from . import approvals, audit


def binding_problems(session: Session, user: XuejiUser) -> list[Problem]:
    """The account's roles must all be ours (built-in, or custom roles in force), of one level,
    matching the node it is bound to, and not mixing duties the separation forbids."""
    names = [r.name for r in user.roles]
    known = specs_for(session, names)
    custom = [n for n in names if n not in ROLES]
    foreign = [n for n in names if n not in known]
    if foreign:
        return [Problem(t(f"不能分配角色 {', '.join(foreign)}", f"role {', '.join(foreign)} cannot be assigned"), "roles")]
    if not names:
        return [Problem(t("至少分配一个角色", "assign at least one role"), "roles")]
    specs = [known[n] for n in names]
    levels = {s.level for s in specs}
    if len(levels) > 1:
        return [Problem(t("一个账号的角色须属于同一级别", "all roles of an account are of one level"), "roles")]
    if mixes_functions(specs):  # separation of duties: 系统管理员、安全管理员、安全审计员 stand alone
        return [Problem(t("系统管理员、安全管理员、安全审计员不能兼任其他角色",
                          "a system administrator, security administrator or auditor holds no other role"),
                        "roles")]
    if custom:  # the built-in roles are checked once by a test; a custom one here, with the others
        mixed = duty_problems(grants_of(specs))
        if mixed:
            return [Problem("; ".join(mixed), "roles")]
    level = levels.pop()
    if level == "school":
        if user.school is None or user.jurisdiction is not None:
            return [Problem(t("学校级角色须绑定学校", "school roles are bound to a school"), "school")]
    elif user.jurisdiction is None or user.school is not None:
        return [Problem(t("须绑定行政区", "bureau roles are bound to a jurisdiction"), "jurisdiction")]
    elif user.jurisdiction.level != level:
        return [Problem(t("角色级别与绑定的行政区级别不符",
                          f"role level {level} does not match node level {user.jurisdiction.level}"),
                        "jurisdiction")]
    place = user.school or user.jurisdiction
    outside = sorted(r.label for r in session.scalars(select(CustomRole).where(CustomRole.name.in_(custom)))
                     if not r.covers(place))
    if outside:
        return [Problem(t(f"自定义角色 {'、'.join(outside)} 属于其他单位，不能分配给该账号",
                          f"custom role {', '.join(outside)} belongs to another jurisdiction"), "roles")]
    return []


def _inside(actor: Actor, user: XuejiUser) -> bool:
    if user.school is not None:
        return actor.sees_school(user.school)
    return user.jurisdiction is not None and actor.scope.contains_jurisdiction(user.jurisdiction)


def prepare_account(session: Session, user: XuejiUser, actor: Actor, *, adding: bool) -> None:
    actor.require("Account", "add" if adding else "edit")
    if not adding and user.id == actor.user_id:
        raise Forbidden(t("不能修改自己的角色或绑定，请联系上级管理员", "ask another administrator"), "roles")
    problems = binding_problems(session, user)
    if problems:
        raise ValidationFailed(problems)
    if not _inside(actor, user):
        raise Forbidden(t("只能管理本辖区的账号", "only accounts inside your jurisdiction"), "jurisdiction")


def prepare_delete(session: Session, user: XuejiUser, actor: Actor) -> None:
    actor.require("Account", "delete")
    if user.id == actor.user_id:
        raise Forbidden(t("不能删除自己的账号", "you cannot delete your own account"))
    if not _inside(actor, user):
        raise Forbidden(t("只能管理本辖区的账号", "only accounts inside your jurisdiction"))


def check_may_reset(session: Session, actor: Actor, user_id, verb: str = "edit") -> XuejiUser:
    """The account ``user_id`` if ``actor`` may ``verb`` it (inside the jurisdiction), else NotFound."""
    missing = t("账号不存在或不在本辖区", "no such account in your jurisdiction")
    user = actor.fetch(session, XuejiUser, user_id, missing)
    if not actor.may("Account", verb):
        raise NotFound(missing)
    return user


@transactional
def unlock(session: Session, actor: Actor, user_id, *, by: XuejiUser) -> tuple[XuejiUser, bool]:
    """解除锁定 as one transaction: the account's lock ended by ``by`` (a security administrator),
    audited; False when nothing was locked."""
    from ...security import lockout

    user = check_may_reset(session, actor, user_id, "unlock")
    return user, lockout.unlock(session, user, by=by)


def hash_password(password: str) -> str:
    problem = password_problem(password)
    if problem:
        raise ValidationFailed(problem, "password")
    return generate_password_hash(password, method="scrypt")


@transactional
def create_account(session: Session, *, username: str, password: str, roles: list[str],
                   node_code: str | None = None, school_code: str | None = None,
                   full_name: str = "", email: str | None = None,
                   actor: Actor | None = None, must_change_password: bool = False) -> XuejiUser:
    """Create an account bound to a jurisdiction (by code) or a school (by code), audited as done
    by ``actor`` (None: the system); one transaction (or part of the caller's, as the demo's)."""
    from flask_appbuilder.security.sqla.models import Role

    role_rows = list(session.scalars(select(Role).where(Role.name.in_(roles))))
    if len(role_rows) != len(set(roles)):
        raise ValidationFailed(t(f"未知角色：{roles}", f"unknown role among {roles}; run `python run.py init`"),
                               "roles")
    school = session.scalar(select(School).where(School.code == school_code)) if school_code else None
    node = (session.scalar(select(Jurisdiction).where(Jurisdiction.code == node_code))
            if node_code else None)
    if (school_code and school is None) or (node_code and node is None):
        raise NotFound(t(f"找不到绑定的单位 {school_code or node_code}", f"no school or jurisdiction {school_code or node_code}"))
    user = XuejiUser(username=username, first_name=full_name.strip() or username, last_name="",
                     email=email or f"{username}@xueji.invalid",
                     active=True, password=hash_password(password),
                     roles=role_rows, school=school, jurisdiction=node)
    problems = binding_problems(session, user)
    if problems:
        raise ValidationFailed(problems)
    # an operator's account chooses its own password at the first sign-in (the demo's and the
    # tests' accounts sign in with theirs)
    record_created(session, user, actor, chosen_by_owner=not must_change_password)
    return user


# -- the audit of account changes ---------------------------------------------------------------

def record_created(session: Session, user: XuejiUser, actor: Actor | None, *, chosen_by_owner: bool) -> None:
    """Flush a new account (for its id), keep its first password in the history (a password
    someone else chose is replaced at the first sign-in) and audit its creation (a taken name:
    the caller's transaction rolls back)."""
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(t("账号名已存在", "the username is taken"), "username") from None
    password_age.record(session, user, local_now(), policy_settings.effective(session, current_app.config),
                        chosen_by_owner=chosen_by_owner)
    audit.account_event(session, actor, "create", user, audit.differences(None, audit.account_state(user)))
    approvals.request(session, user, actor, None, audit.account_state(user))  # student access waits


def stored_state(session: Session, user: XuejiUser) -> dict:
    """The account as the database still holds it: call before an edit is flushed."""
    from flask_appbuilder.security.sqla.models import Role, assoc_user_role

    with session.no_autoflush:
        active, school_id, node_id = session.execute(
            select(XuejiUser.active, XuejiUser.school_id, XuejiUser.jurisdiction_id)
            .where(XuejiUser.id == user.id)).one()
        roles = session.scalars(select(Role.name).join(assoc_user_role, assoc_user_role.c.role_id == Role.id)
                                .where(assoc_user_role.c.user_id == user.id)).all()
        school = school_id and session.scalar(select(School.code).where(School.id == school_id))
        node = node_id and session.scalar(select(Jurisdiction.code).where(Jurisdiction.id == node_id))
    where = f"school:{school}" if school else (f"jurisdiction:{node}" if node else None)
    return {"roles": sorted(roles), "active": bool(active), "binding": where}


def record_updated(session: Session, user: XuejiUser, actor: Actor, before: dict) -> None:
    """Audit an edit: deactivate / reactivate / update, with what changed (names only for the
    person's own items)."""
    changes = audit.differences(before, audit.account_state(user))
    state = inspect(user)
    for name in ("username", "first_name", "last_name", "email"):
        if state.attrs[name].history.has_changes():
            changes[name] = {"changed": True}
    action = "update"
    if "active" in changes:
        action = "reactivate" if user.active else "deactivate"
    audit.account_event(session, actor, action, user, changes)
    approvals.request(session, user, actor, before, audit.account_state(user))  # student access waits


def record_deleted(session: Session, user: XuejiUser, actor: Actor) -> None:
    audit.account_event(session, actor, "delete", user,
                        {k: {"old": v} for k, v in audit.account_state(user).items()})


def record_password_reset(session: Session, user: XuejiUser, actor: Actor) -> None:
    """Audit that ``actor`` set ``user``'s password (which is never written to the log).  Whoever
    sets another's password can sign in as them: an account that reaches students then waits for
    a security administrator, as a new one does (三权分立)."""
    audit.account_event(session, actor, "reset_password", user)
    if actor.user_id != user.id:
        state = audit.account_state(user)
        approvals.request(session, user, actor, state, state,
                          gains=bool(state["active"] and approvals.student_roles(session, state["roles"])),
                          action="reset")


def record_password_changed(session: Session, user: XuejiUser, actor: Actor) -> None:
    """Audit that an account chose a new password for itself (the password is never logged)."""
    audit.account_event(session, actor, "change_password", user)


def describe(user: XuejiUser) -> dict:
    node = user.school.code if user.school else (user.jurisdiction.code if user.jurisdiction else None)
    return {"username": user.username, "roles": sorted(r.name for r in user.roles),
            "jurisdiction": node, "level": next((s.level for s in account_roles(user)), None),  # custom too
            "active": bool(user.active)}
