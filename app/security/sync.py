"""Write the role table of roles.py into FAB's permission tables (run by `python run.py init`)."""

from __future__ import annotations

from sqlalchemy import select

from ..models import CustomRole
from ..services.common.transaction import transaction
from .custom_roles import active_specs
from .roles import ROLES, RoleSpec, permissions_for

# Every account may read and edit its own profile and change its own password.
COMMON = {
    ("can_userinfo", "Account"),
    ("resetmypassword", "Account"),
    ("userinfoedit", "Account"),
    ("can_this_form_get", "ResetMyPasswordView"),
    ("can_this_form_post", "ResetMyPasswordView"),
    ("can_this_form_get", "UserInfoEditView"),
    ("can_this_form_post", "UserInfoEditView"),
    ("can_get", "OpenApi"),  # the API's description ...
    ("can_show", "SwaggerView"),  # ... and its Swagger UI
    # identity controls: one's own second factor, and one's own entries of the lending register
    ("can_index", "SecondFactor"),
    ("can_start", "SecondFactor"),
    ("can_verify", "SecondFactor"),
    ("can_list", "PasswordLoan"),
    ("can_file", "PasswordLoan"),
}
ACCOUNT_ADMIN = {
    ("resetpasswords", "Account"),
    ("can_this_form_get", "ScopedResetPasswordView"),
    ("can_this_form_post", "ScopedResetPasswordView"),
}
ROLE_READING = {("can_list", "Role"), ("can_show", "Role")}  # system and security administrators


def endpoint_permission(appbuilder, endpoint: str) -> tuple[str, str] | None:
    """The (permission, view menu) a page's endpoint ("View.method") checks, None if none."""
    name, _, method = endpoint.partition(".")
    view = next((v for v in appbuilder.baseviews if type(v).__name__ == name), None)
    fn = getattr(view, method, None) if view is not None and method else None
    if fn is None or not hasattr(fn, "_permission_name"):
        return None
    perm = (view.method_permission_name or {}).get(method) or fn._permission_name
    return (perm if perm.startswith("can_") else f"can_{perm}", view.class_permission_name)


def opened_permission(appbuilder, item) -> tuple[str, str] | None:
    """The permission the page a menu item opens checks: its view's default page, or the
    "View.method" endpoint a link names."""
    view = getattr(item, "baseview", None)
    if view is not None:
        return endpoint_permission(appbuilder, f"{type(view).__name__}.{view.default_view}")
    if item.href and "." in item.href and not item.href.startswith("/"):
        return endpoint_permission(appbuilder, item.href)
    return None


def opens_public_page(appbuilder, item) -> bool:
    """Whether a menu item opens a page anyone may use (one that checks no permission, such as
    the report verify page): every account finds it in its menu."""
    view = getattr(item, "baseview", None)
    if view is None:
        return False
    fn = getattr(view, view.default_view, None)
    return fn is not None and not hasattr(fn, "_permission_name")


def _menu_permissions(appbuilder, granted: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """menu_access on every menu item whose page the role may open, and on its category: each
    role's menu shows what it can do, and nothing that always fails."""
    out = set()
    for category in appbuilder.menu.get_list():
        for item in category.childs:
            if opened_permission(appbuilder, item) in granted or opens_public_page(appbuilder, item):
                out |= {("menu_access", item.name), ("menu_access", category.name)}
    return out


def desired_permissions(appbuilder, role: RoleSpec) -> set[tuple[str, str]]:
    granted = permissions_for(role) | COMMON
    if role.function == "sysadmin":
        granted |= ACCOUNT_ADMIN | ROLE_READING
    if role.function == "secadmin":
        granted |= ROLE_READING
    return granted | _menu_permissions(appbuilder, granted)


def ensure_permissions(appbuilder) -> None:
    """Create every view's permissions and every menu's menu_access.

    Not FAB's ``add_permissions``: a page and its REST API share one permission name here
    ("Student"), and FAB's version deletes from a shared name whatever the second class lacks.
    It also hands every permission to FAB's Admin role, which nobody holds here.
    """
    sm = appbuilder.sm
    for perm, view_menu in sorted(expected_permissions(appbuilder)):
        if not sm.find_permission_view_menu(perm, view_menu):
            sm.add_permission_view_menu(perm, view_menu)


def expected_permissions(appbuilder) -> set[tuple[str, str]]:
    """Every (permission, view menu) the registered views check and the menus show."""
    out = {(perm, view.class_permission_name)
           for view in appbuilder.baseviews for perm in view.base_permissions or ()}
    for category in appbuilder.menu.get_list():
        for name in [category.name] + [i.name for i in category.childs if i.name != "-"]:
            out.add(("menu_access", name))
    return out


def drop_stale_permissions(appbuilder) -> list[tuple[str, str]]:
    """Delete permissions no registered view checks any more (a route taken out of the table, a
    view removed): an upgraded database keeps no grant that nothing uses."""
    sm, keep = appbuilder.sm, expected_permissions(appbuilder)
    stale = sorted({(pv.permission.name, pv.view_menu.name)
                    for pv in sm.session.query(sm.permissionview_model)} - keep)
    with transaction(sm.session):
        for role in sm.session.query(sm.role_model):
            role.permissions = [pv for pv in role.permissions
                                if (pv.permission.name, pv.view_menu.name) not in stale]
    for perm, view_menu in stale:
        sm.del_permission_view_menu(perm, view_menu)
    return stale


def sync_roles(appbuilder) -> dict[str, int]:
    """Create missing permissions, FAB's two built-in roles and ours; returns grants per role."""
    sm = appbuilder.sm
    sm.add_role(sm.auth_role_admin)
    sm.add_role(sm.auth_role_public)
    ensure_permissions(appbuilder)
    counts = {}
    for name, spec in ROLES.items():
        role = sm.find_role(name) or sm.add_role(name)  # FAB's manager commits a role it adds
        with transaction(sm.session):
            counts[name] = grant(appbuilder, role, spec)
    custom = active_specs(sm.session)
    for row in sm.session.scalars(select(CustomRole)):  # retired ones keep their name, no grant
        role = sm.find_role(row.name) or sm.add_role(row.name)
        with transaction(sm.session):
            counts[row.name] = grant(appbuilder, role, custom.get(row.name))
    drop_stale_permissions(appbuilder)
    return counts


def grant(appbuilder, role, spec: RoleSpec | None) -> int:
    """Give FAB's ``role`` exactly what ``spec`` may do (None: nothing); the caller commits."""
    sm = appbuilder.sm
    pvs = [sm.find_permission_view_menu(perm, view) for perm, view in
           sorted(desired_permissions(appbuilder, spec))] if spec is not None else []
    role.permissions = [pv for pv in pvs if pv is not None]
    return len(role.permissions)
