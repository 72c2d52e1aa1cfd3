"""The roles of DOMAIN.md §1 at each level, and what each may do, as one table.

Permissions are synchronised into FAB's tables by ``python run.py init``; FAB's own ``Admin`` role is
never assigned (it silently receives every new permission).
"""

from __future__ import annotations

from dataclasses import dataclass

LEVELS = ("province", "city", "county", "school")
FUNCTIONS = ("registrar", "supervisor", "sysadmin")
BUREAU_LEVELS = ("province", "city", "county")

LEVEL_ZH = {"province": "省级", "city": "市级", "county": "县级", "school": "学校"}
FUNCTION_ZH = {"registrar": "学籍管理员", "supervisor": "学籍主管领导", "sysadmin": "系统管理员"}
LEVEL_EN = {"province": "Province", "city": "City", "county": "County", "school": "School"}
FUNCTION_EN = {"registrar": "registrar", "supervisor": "supervisor", "sysadmin": "system administrator"}


@dataclass(frozen=True)
class RoleSpec:
    name: str
    level: str
    function: str

    @property
    def label(self) -> str:
        return f"{LEVEL_ZH[self.level]}{FUNCTION_ZH[self.function]}"

    @property
    def label_en(self) -> str:
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
    "PersonalDataAccess": {"read": {"supervisor": _ALL, "sysadmin": _ALL}},
    "AuditEvent": {"read": {"supervisor": _ALL, "sysadmin": _ALL}},
    "ExportLog": {"read": {"supervisor": _ALL, "sysadmin": _ALL}},
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
               "sign": {"supervisor": _ALL}},  # signing off one's own node's month (签发)
    # admission lists (录取名单): a school registrar uploads and commits its own; the lowest bureau
    # over the schools of a duplicate admission resolves it
    "Admission": {"add": {"registrar": _SCHOOL},
                  "resolve": {"registrar": _BUREAU}},
    # the promotion batch (升级) of a bureau's node: its registrar runs and undoes it
    "Promotion": {"read": {"registrar": _BUREAU, "supervisor": _BUREAU},
                  "add": {"registrar": _BUREAU}},
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
        "read": {"sysadmin": _ALL},
        "add": {"sysadmin": _ALL},
        "edit": {"sysadmin": _ALL},
        "delete": {"sysadmin": _ALL},
    },
}

# FAB permission names behind each verb (views and REST APIs).
VERB_PERMISSIONS = {
    "read": ("can_list", "can_show", "can_get", "can_info", "can_download"),
    "add": ("can_add", "can_post"),
    "edit": ("can_edit", "can_put"),
    "delete": ("can_delete",),
}


def allowed(role: RoleSpec, resource: str, verb: str) -> bool:
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
