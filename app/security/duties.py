"""Separation of duties (三权分立): which duties a set of (resource, verb) grants amounts to, and
which mixes are forbidden -- for a custom role, and for everything one account holds."""

from __future__ import annotations

from collections.abc import Iterable

from ..i18n import t
from .roles import ADMIN_FUNCTIONS, MATRIX, RoleSpec, allowed

STUDENT_RESOURCES = ("Student", "FamilyMember", "RegistryNumber")
LOG_RESOURCES = ("AuditEvent", "PersonalDataAccess", "ExportLog")
ACCOUNT_ADMINISTRATION = {("Account", "add"), ("Account", "edit"), ("Account", "delete"),
                          ("Account", "unlock"), ("AccountApproval", "decide"),
                          ("CustomRole", "add"), ("CustomRole", "edit"), ("CustomRole", "delete"),
                          ("Identity", "edit"), ("PasswordLoan", "decide"),  # identity controls
                          ("SecurityPolicy", "edit")}


def catalogue() -> list[tuple[str, str]]:
    """Every (resource, verb) a custom role may be composed of: the role table's."""
    return [(resource, verb) for resource, verbs in MATRIX.items() for verb in verbs]


def grants_of(roles: Iterable[RoleSpec]) -> set[tuple[str, str]]:
    """Every (resource, verb) the roles hold together."""
    pairs = catalogue()
    return {pair for role in roles for pair in pairs if allowed(role, *pair)}


def has_student_access(grants: Iterable[tuple[str, str]]) -> bool:
    return any(resource in STUDENT_RESOURCES for resource, _ in grants)


def _holders(pair: tuple[str, str]) -> set[str]:
    """The functions the role table lets do ``pair`` (at some level)."""
    resource, verb = pair
    return set(MATRIX.get(resource, {}).get(verb, {}))


def admin_duties(grants: Iterable[tuple[str, str]]) -> set[str]:
    """The administrative functions whose own work the grants include: a grant only one of
    system administrator, security administrator or auditor holds is that function's duty."""
    return {f for pair in grants if len(holders := _holders(pair)) == 1
            and (f := next(iter(holders))) in ADMIN_FUNCTIONS}


def duty_problems(grants: Iterable[tuple[str, str]]) -> list[str]:
    """Why these grants may not be held together: two administrative functions' duties, an
    administrator's duty with registry work, student access with account administration, or
    reading the logs with anything that writes.

    Judged for custom roles only.  The built-in 学籍主管领导 (supervisor) is the one deliberate
    exception: it reads its own node's logs -- oversight of its own staff, which DOMAIN gives the
    supervisor -- and decides requests and exports.  It never administers accounts, and what it
    decides is itself logged where the auditor, who writes nothing, reads it."""
    grants = set(grants)
    out = []
    duties = admin_duties(grants)
    if len(duties) > 1:
        out.append(str(t("系统管理员、安全管理员、安全审计员的职责不能兼任",
                         "the duties of system administrator, security administrator and auditor stand apart")))
    if has_student_access(grants) and grants & ACCOUNT_ADMINISTRATION:
        out.append(str(t("学生数据访问不能与账号管理兼任",
                         "student access cannot be combined with account administration")))
    elif duties and any(_holders(pair) and not _holders(pair) & set(ADMIN_FUNCTIONS) for pair in grants):
        out.append(str(t("管理员的职责不能与学籍业务兼任", "an administrator's duties cannot be combined with registry work")))
    if any(resource in LOG_RESOURCES for resource, _ in grants) and any(v != "read" for _, v in grants):
        out.append(str(t("审计日志查看不能与任何修改权限兼任",
                         "reading the audit logs cannot be combined with anything that writes")))
    return out


def mixes_functions(roles: Iterable[RoleSpec]) -> bool:
    """Whether an account's roles put an administrative function (system administrator, security
    administrator, auditor) beside any other role."""
    roles = list(roles)
    return len(roles) > 1 and any(r.function in ADMIN_FUNCTIONS for r in roles)
