"""Custom roles (自定义角色): a security administrator composes one from the permission catalogue at
its own level or below, edits and retires it; built-in roles stay as defined; a role mixing duties
the separation forbids is refused with the reason.  Every change is audited."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from flask_appbuilder.security.sqla.models import Role
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import Conflict, Forbidden, Problem, ValidationFailed
from ...i18n import t
from ...models import AuditEvent, CustomRole, School, XuejiUser
from ...security.custom_roles import PREFIX, spec_of
from ...security.duties import catalogue, duty_problems, has_student_access
from ...security.roles import LEVELS, MATRIX, ROLES, RoleSpec
from ..common.actors import Actor
from ..common.transaction import transactional
from . import approvals, audit

# gives FAB's role exactly what a spec may do (None: nothing); app.security.sync.grant, bound
Sync = Callable[[Role, RoleSpec | None], object]
KEY = re.compile(r"[a-z][a-z0-9_]{1,39}")


def listing(session: Session, actor: Actor) -> list[CustomRole]:
    actor.require("CustomRole", "read")
    return list(session.scalars(select(CustomRole).where(actor.scope.clause(CustomRole))
                                .order_by(CustomRole.retired_at.is_not(None), CustomRole.level, CustomRole.name)))


def _problems(actor: Actor, label: str, level: str, grants: list[str]) -> list[Problem]:
    known = {f"{r}.{v}" for r, v in catalogue()}
    out = []
    if not label.strip() or len(label) > 100:
        out.append(Problem(t("请填写角色名称（100 字以内）", "name the role (up to 100 characters)"), "label"))
    if level not in LEVELS:
        out.append(Problem(t(f"未知级别 {level}", f"unknown level {level}"), "level"))
    elif not actor.is_system and LEVELS.index(level) < actor.scope.depth:
        out.append(Problem(t("只能定义本级或下级的角色", "only roles of your level or below"), "level"))
    unknown = sorted(set(grants) - known)
    if unknown:
        out.append(Problem(t(f"权限目录中没有 {', '.join(unknown)}", f"not in the catalogue: {', '.join(unknown)}"),
                           "grants"))
    if not grants:
        out.append(Problem(t("至少选择一项权限", "choose at least one permission"), "grants"))
    pairs = {tuple(g.split(".", 1)) for g in grants}
    said = []  # what is wrong with the grants, as one problem of that field
    if level in LEVELS:  # no more than a built-in role of that level may hold (e.g. the policy: province)
        beyond = sorted(f"{r}.{v}" for r, v in pairs if f"{r}.{v}" in known
                        and not any(level in levels for levels in MATRIX[r][v].values()))
        if beyond:
            said.append(str(t(f"{', '.join(beyond)} 不是该级别的角色可以拥有的权限",
                              f"no role of this level may hold {', '.join(beyond)}")))
    said += duty_problems(pairs)
    if said:
        out.append(Problem("；".join(said), "grants"))
    return out


@transactional
def create(session: Session, actor: Actor, *, key: str, label: str, level: str, grants: list[str],
           sync: Sync) -> CustomRole:
    """A new custom role ``custom_<key>``, synchronised into FAB's roles at once."""
    actor.require("CustomRole", "add")
    problems = _problems(actor, label, level, grants)
    if not KEY.fullmatch(key or ""):
        problems.insert(0, Problem(t("标识须为 2-40 位小写字母、数字或下划线，字母开头",
                                     "the key is 2-40 lowercase letters, digits or _, starting with a letter"),
                                   "key"))
    if problems:
        raise ValidationFailed(problems)
    name = PREFIX + key
    if name in ROLES or session.scalar(select(Role.id).where(Role.name == name)):
        raise Conflict(t(f"角色 {name} 已存在", f"role {name} exists"), "key")
    row = CustomRole(name=name, label=label.strip(), level=level, grants=sorted(set(grants)),
                     created_by=actor.username, **_chain(session, actor))
    role = Role(name=name)
    session.add_all([row, role])
    session.flush()
    sync(role, spec_of(row))
    _role_event(session, actor, "create", row, {"level": level, "grants": {"new": row.grants}})
    return row


@transactional
def update(session: Session, actor: Actor, role_id: int, *, label: str, grants: list[str],
           sync: Sync) -> CustomRole:
    """New name or grants; if the role now reaches students, every account holding it waits for a
    security administrator's approval again (another one than ``actor``)."""
    actor.require("CustomRole", "edit")
    row = _fetch(session, actor, role_id)
    problems = _problems(actor, label, row.level, grants)
    if problems:
        raise ValidationFailed(problems)
    before = list(row.grants)
    row.label, row.grants = label.strip(), sorted(set(grants))
    sync(_fab_role(session, row), spec_of(row))
    _role_event(session, actor, "update", row, {"grants": {"old": before, "new": row.grants}})
    if has_student_access(tuple(g.split(".", 1)) for g in row.grants) and not has_student_access(
            tuple(g.split(".", 1)) for g in before):
        for user in _holders(session, row):  # refused: the account loses the role that now reaches students
            state = audit.account_state(user)
            without = {**state, "roles": [name for name in state["roles"] if name != row.name]}
            approvals.request(session, user, actor, without, state, gains=True)
    return row


@transactional
def retire(session: Session, actor: Actor, role_id: int, *, now: datetime, sync: Sync) -> CustomRole:
    """Retire a custom role no account holds any more: it keeps its name, loses every grant."""
    actor.require("CustomRole", "delete")
    row = _fetch(session, actor, role_id)
    holders = _holders(session, row)
    if holders:
        raise Conflict(t(f"仍有 {len(holders)} 个账号持有该角色，请先调整这些账号",
                         f"{len(holders)} accounts still hold this role: change them first"))
    row.retired_at = now
    sync(_fab_role(session, row), None)
    _role_event(session, actor, "retire", row, {"grants": {"old": row.grants}})
    return row


def _fetch(session: Session, actor: Actor, role_id: int) -> CustomRole:
    row = actor.fetch(session, CustomRole, role_id, t("没有这个自定义角色", "no such custom role"), lock=True)
    if row.retired_at is not None:
        raise Conflict(t(f"角色 {row.label} 已停用", f"cannot change role {row.name}: it is retired"))
    if not actor.is_system and LEVELS.index(row.level) < actor.scope.depth:
        raise Forbidden(t("只能管理本级或下级的角色", "only roles of your level or below"))
    return row


def _fab_role(session: Session, row: CustomRole) -> Role:
    return session.scalar(select(Role).where(Role.name == row.name))


def _holders(session: Session, row: CustomRole) -> list[XuejiUser]:
    return list(session.scalars(select(XuejiUser).where(XuejiUser.roles.any(Role.name == row.name))))


def _role_event(session: Session, actor: Actor, action: str, row: CustomRole, changes: dict) -> None:
    """An audit row (entity ``role``) scoped by the acting administrator's node, so that node's
    auditors read it."""
    session.add(AuditEvent(user_id=actor.user_id, username=actor.username, action=action, entity="role",
                           entity_id=row.id, changes=changes, summary=f"{row.name} {row.label}"[:300],
                           **_chain(session, actor)))


def _chain(session: Session, actor: Actor) -> dict:
    place = actor.place(session)
    if place is None:
        return {}
    chain = {"province_code": place.province_code, "city_code": place.city_code, "county_code": place.county_code}
    return {"school_id": place.id, **chain} if isinstance(place, School) else chain
