"""Account administration: FAB's user pages, scoped to the administrator's subtree."""

from __future__ import annotations

from flask import abort, g, request
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.security.views import ResetMyPasswordView as FabResetMyPasswordView
from flask_appbuilder.security.views import ResetPasswordView, RoleModelView, UserDBModelView
from sqlalchemy import or_

from ..errors import DomainError
from ..extensions import db
from ..i18n import t
from ..models import XuejiUser
from ..models.base import local_now
from ..security.roles import ROLES
from ..security.scoping import current_scope
from ..security.unlock import UnlockAction  # 解除锁定 on a locked account's page
from ..services.organisation import accounts
from ..web.common import actor
from .base import ScopedModelView


class AccountsInScope(BaseFilter):
    """Accounts bound inside the administrator's subtree, and always one's own."""

    name = "In scope"
    arg_name = "inscope"

    def apply(self, query, value):
        me = getattr(getattr(g, "user", None), "id", None)
        return query.filter(or_(current_scope().clause(XuejiUser), XuejiUser.id == me))


class OurRoles(BaseFilter):
    name = "Xueji roles"
    arg_name = "xueji"

    def apply(self, query, value):
        return query.filter(self.model.name.in_(list(ROLES)))


_BINDING = {"jurisdiction": t("绑定行政区", "Bound jurisdiction"),
            "school": t("绑定学校", "Bound school"),
            "bound_to": t("所属单位", "Bound to")}


class AccountView(UnlockAction, ScopedModelView, UserDBModelView):
    class_permission_name = "Account"
    base_filters = [["id", AccountsInScope, None]]
    list_columns = ["username", "first_name", "last_name", "roles", "bound_to", "active"]
    add_columns = ["username", "first_name", "last_name", "email", "active", "roles",
                   "jurisdiction", "school", "password", "conf_password"]
    edit_columns = ["username", "first_name", "last_name", "email", "active", "roles",
                    "jurisdiction", "school"]
    show_fieldsets = [
        (t("账号", "Account"), {"fields": ["username", "active", "roles", "bound_to",
                                                   "login_count", "last_login"]}),
        (t("个人信息", "Person"), {"fields": ["first_name", "last_name", "email"]}),
    ]
    search_columns = ["username", "first_name", "last_name", "roles", "jurisdiction", "school",
                      "active"]
    validators_columns = {}
    label_columns = {**UserDBModelView.label_columns, **_BINDING}
    add_form_query_rel_fields = edit_form_query_rel_fields = search_form_query_rel_fields = {
        "roles": [["name", OurRoles, None]]}

    def pre_add(self, item):
        accounts.prepare_account(db.session, item, actor(), adding=True)
        item.password = accounts.hash_password(item.password)  # FAB's own hook would do this
        item.password_changed_at = local_now()
        accounts.record_created(db.session, item, actor())

    def pre_update(self, item):
        before = accounts.stored_state(db.session, item)  # first: nothing flushed the edit yet
        accounts.prepare_account(db.session, item, actor(), adding=False)
        super().pre_update(item)
        accounts.record_updated(db.session, item, actor(), before)

    def pre_delete(self, item):
        accounts.prepare_delete(db.session, item, actor())
        accounts.record_deleted(db.session, item, actor())


class ScopedResetPasswordView(ResetPasswordView):
    """FAB's reset-password form takes any ``pk``: check the account is the admin's to manage."""

    def _target(self):
        try:
            return accounts.check_may_reset(db.session, actor(), request.args.get("pk", type=int))
        except DomainError:
            abort(404)

    def form_get(self, form):
        self._target()

    def form_post(self, form):
        # the audit row rides in the reset's own commit: no reset, no row
        accounts.record_password_reset(db.session, self._target(), actor())
        super().form_post(form)


class ResetMyPasswordView(FabResetMyPasswordView):  # the same name: the route table knows it
    """One's own new password, audited like an administrator's reset (the hash never is)."""

    def form_post(self, form):
        user = db.session.get(XuejiUser, actor().user_id)
        accounts.record_password_changed(db.session, user, actor())
        super().form_post(form)


class ReadOnlyRoleView(RoleModelView):
    class_permission_name = "Role"
    base_permissions = ["can_list", "can_show"]
    base_filters = [["name", OurRoles, None]]
    search_columns = ["name"]  # FAB's would offer every account of the system in a select box
    base_order = ("name", "asc")
    list_columns = ["name"]
    show_columns = ["name", "permissions"]

