"""The roles of DOMAIN.md §1 at each level, and what each may do, as one table.

Permissions are synchronised into FAB's tables by ``python run.py init``; FAB's own ``Admin`` role is
never assigned (it silently receives every new permission).
"""

from __future__ import annotations

from dataclasses import dataclass

LEVELS = ("province", "city", "county", "school")
FUNCTIONS = ("registrar", "supervisor", "sysadmin", "secadmin", "auditor")
# separation of duties (三权分立): an account holding one of these holds no other role
ADMIN_FUNCTIONS = ("sysadmin", "secadmin", "auditor")
BUREAU_LEVELS = ("province", "city", "county")

LEVEL_ZH = {"province": "省级", "city": "市级", "county": "县级", "school": "学校"}
FUNCTION_ZH = {"registrar": "学籍管理员", "supervisor": "学籍主管领导", "sysadmin": "系统管理员",
               "secadmin": "安全管理员", "auditor": "安全审计员"}
LEVEL_EN = {"province": "Province", "city": "City", "county": "County", "school": "School"}
FUNCTION_EN = {"registrar": "registrar", "supervisor": "supervisor", "sysadmin": "system administrator",
               "secadmin": "security administrator", "auditor": "auditor"}


@dataclass(frozen=True)
class RoleSpec:
    name: str
    level: str
    function: str  # one of FUNCTIONS, or "custom" for a security administrator's custom role
    # a custom role's (resource, verb) grants and its name; None for the built-in roles (MATRIX)
    grants: frozenset[tuple[str, str]] | None = None
    custom_label: str | None = None

    @property
    def label(self) -> str:
        if self.custom_label is not None:
            return f"{LEVEL_ZH[self.level]}{self.custom_label}"
        return f"{LEVEL_ZH[self.level]}{FUNCTION_ZH[self.function]}"

    @property
    def label_en(self) -> str:
        if self.custom_label is not None:
            return f"{LEVEL_EN[self.level]} {self.custom_label}"
        return f"{LEVEL_EN[self.level]} {FUNCTION_EN[self.function]}"


ROLES = {f"{lv}_{fn}": RoleSpec(f"{lv}_{fn}", lv, fn) for lv in LEVELS for fn in FUNCTIONS}


def role_spec(name: str) -> RoleSpec | None:
    return ROLES.get(name)


# What each (function, level) may do on each resource.  Verbs: read, add, edit, delete, and
# named actions.  Resources are FAB class_permission_names shared by a view and its REST API.
_ALL = set(LEVELS)
_BUREAU = set(BUREAU_LEVELS)
_SCHOOL = {"school"}

MATRIX: dict[str, dict[str, dict[str, set[str]]]] = {
    "Jurisdiction": {
        "read": {"registrar": _BUREAU, "supervisor": _BUREAU, "sysadmin": _BUREAU},
        "add": {"sysadmin": _BUREAU},
        "edit": {"sysadmin": _BUREAU},
        "delete": {"sysadmin": _BUREAU},
    },
    "School": {
        "read": {"registrar": _ALL, "supervisor": _ALL, "sysadmin": _ALL},
        "add": {"sysadmin": _BUREAU},
        "edit": {"sysadmin": _BUREAU},
        "delete": {"sysadmin": _BUREAU},
    },
    "Grade": {
        "read": {"registrar": _ALL, "supervisor": _ALL, "sysadmin": _ALL},
        "add": {"registrar": _SCHOOL, "sysadmin": _ALL},
        "edit": {"registrar": _SCHOOL, "sysadmin": _ALL},
        "delete": {"registrar": _SCHOOL, "sysadmin": _ALL},
    },
    "SchoolClass": {
        "read": {"registrar": _ALL, "supervisor": _ALL, "sysadmin": _ALL},
        "add": {"registrar": _SCHOOL, "sysadmin": _ALL},
        "edit": {"registrar": _SCHOOL, "sysadmin": _ALL},
        "delete": {"registrar": _SCHOOL, "sysadmin": _ALL},
    },
    "Student": {
        "read": {"registrar": _ALL, "supervisor": _ALL},
        "add": {"registrar": _SCHOOL},
        "edit": {"registrar": _SCHOOL},
        "delete": {"registrar": _SCHOOL},
        "approve_registration": {"registrar": _ALL, "supervisor": _ALL},
        "personal_data": {"registrar": _ALL, "supervisor": _ALL},
    },
    "FamilyMember": {
        "read": {"registrar": _ALL, "supervisor": _ALL},
        "add": {"registrar": _SCHOOL},
        "edit": {"registrar": _SCHOOL},
        "delete": {"registrar": _SCHOOL},
    },
    "RegistryNumber": {"read": {"registrar": _ALL, "supervisor": _ALL}},
    "CodeItem": {
        "read": {"registrar": _ALL, "supervisor": _ALL, "sysadmin": _ALL},
        "edit": {"sysadmin": {"province"}},
    },
    # the logs: auditors (安全审计员) and, for oversight of their own staff, supervisors
    "PersonalDataAccess": {"read": {"supervisor": _ALL, "auditor": _ALL}},
    "AuditEvent": {"read": {"supervisor": _ALL, "auditor": _ALL}},
    "ExportLog": {"read": {"supervisor": _ALL, "auditor": _ALL}},
    # 导出审批: exports the rules hold wait for a supervisor of their node or one above
    "ExportRequest": {"read": {"registrar": _ALL, "supervisor": _ALL},
                      "add": {"registrar": _ALL, "supervisor": _ALL},
                      "decide": {"supervisor": _ALL}},
    "Request": {
        "read": {"registrar": _ALL, "supervisor": _ALL},
        "add": {"registrar": _SCHOOL},
        "decide": {"registrar": _ALL, "supervisor": _ALL},
    },
    "ProblemCase": {
        "read": {"registrar": _ALL, "supervisor": _ALL},
        "edit": {"registrar": _ALL},
    },
    "ImportJob": {
        "read": {"registrar": _ALL},
        "add": {"registrar": _SCHOOL},
        "export": {"registrar": _ALL, "supervisor": _ALL},
    },
    "Policy": {
        "read": {"registrar": _ALL, "supervisor": _ALL, "sysadmin": _ALL},
        "edit": {"sysadmin": _BUREAU},
    },
    # the monthly report (月报), the school statistics and the watch lists: read-only figures
    "Report": {"read": {"registrar": _ALL, "supervisor": _ALL},
               # queueing the generation of a report one may read (the report_monthly job)
               "generate": {"registrar": _ALL, "supervisor": _ALL},
               "sign": {"supervisor": _ALL}},  # signing off one's own node's month (签发)
    # admission lists (录取名单): a school registrar uploads and commits its own; the lowest bureau
    # over the schools of a duplicate admission resolves it
    "Admission": {"add": {"registrar": _SCHOOL},
                  "resolve": {"registrar": _BUREAU}},
    # the promotion batch (升级) of a bureau's node: its registrar runs and undoes it
    "Promotion": {"read": {"registrar": _BUREAU, "supervisor": _BUREAU},
                  "add": {"registrar": _BUREAU}},
    # 任务: long work (imports, promotion, ...) and its progress; its starter cancels it
    "Job": {"read": {"registrar": _ALL, "supervisor": _ALL},
            "cancel": {"registrar": _ALL}},
    # 招生计划: bureaus' registrars set, apply and decide; a school's registrar asks for a change
    "EnrollmentPlan": {"read": {"registrar": _ALL, "supervisor": _ALL},
                       "edit": {"registrar": _BUREAU},
                       "add": {"registrar": _SCHOOL}},
    # 数据质量核查: the province opens and closes campaigns; every level follows the progress;
    # a school's registrar marks its forms and uploads the signed ones
    "QualityCampaign": {"read": {"registrar": _ALL, "supervisor": _ALL, "sysadmin": {"province"}},
                        "add": {"registrar": {"province"}, "sysadmin": {"province"}},
                        "mark": {"registrar": _SCHOOL}},
    "Account": {
        "read": {"sysadmin": _ALL, "secadmin": _ALL},
        "add": {"sysadmin": _ALL},
        "edit": {"sysadmin": _ALL},
        "delete": {"sysadmin": _ALL},
        "unlock": {"secadmin": _ALL},  # 解除锁定: the security administrator's, no longer sysadmin's
    },
    # separation of duties: account changes granting student access wait for a security
    # administrator (AccountApproval); security administrators compose custom roles (CustomRole)
    "AccountApproval": {"read": {"secadmin": _ALL}, "decide": {"secadmin": _ALL}},
    "CustomRole": {"read": {"secadmin": _ALL}, "add": {"secadmin": _ALL},
                   "edit": {"secadmin": _ALL}, "delete": {"secadmin": _ALL}},
    # identity controls: the security administrator unseals dormant accounts and resets a lost
    # second factor; the system administrator decides on the password-lending register
    "Identity": {"read": {"secadmin": _ALL}, "edit": {"secadmin": _ALL}},
    "PasswordLoan": {"decide": {"sysadmin": _ALL}},
    # 安全策略: the province's security administrator sets it; security administrators and
    # auditors of every level read it
    "SecurityPolicy": {"read": {"secadmin": _ALL, "auditor": _ALL}, "edit": {"secadmin": {"province"}}},
}

# FAB permission names behind each verb (views and REST APIs).
VERB_PERMISSIONS = {
    "read": ("can_list", "can_show", "can_get", "can_info", "can_download"),
    "add": ("can_add", "can_post"),
    "edit": ("can_edit", "can_put"),
    "delete": ("can_delete",),
}


def allowed(role: RoleSpec, resource: str, verb: str) -> bool:
    if role.grants is not None:  # a custom role: exactly what it was composed of
        return (resource, verb) in role.grants
    return role.level in MATRIX.get(resource, {}).get(verb, {}).get(role.function, set())


def permissions_for(role: RoleSpec) -> set[tuple[str, str]]:
    """(permission, view_menu) pairs a role should hold, before intersecting with what exists."""
    pairs: set[tuple[str, str]] = set()
    for resource, verbs in MATRIX.items():
        for verb in verbs:
            if allowed(role, resource, verb):
                for perm in VERB_PERMISSIONS.get(verb, (f"can_{verb}",)):
                    pairs.add((perm, resource))
    return pairs
