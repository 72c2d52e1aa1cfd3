"""Account administration: FAB's user pages, scoped to the administrator's subtree."""

from __future__ import annotations

from flask import abort, flash, g, request
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.security.views import ResetMyPasswordView as FabResetMyPasswordView
from flask_appbuilder.security.views import ResetPasswordView, RoleModelView, UserDBModelView
from flask_appbuilder.security.views import UserInfoEditView as FabUserInfoEditView
from flask_appbuilder.widgets import ListWidget, ShowWidget
from sqlalchemy import or_

from ..errors import DomainError
from ..extensions import db
from ..i18n import t
from ..models import XuejiUser
from ..security.custom_roles import active_specs
from ..security.roles import ROLES
from ..security.scoping import current_scope
from ..security.unlock import UnlockAction  # 解除锁定 on a locked account's page
from ..services.organisation import accounts, approvals
from ..web.common import actor
from .base import ScopedModelView
from .display import NameForm, role_label, role_labels, role_powers
from .identity import reused_password


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

    def apply(self, query, value):  # the built-in roles and the custom roles in force
        return query.filter(self.model.name.in_(list(ROLES) + list(active_specs(db.session))))


_NAMES = {"username": t("用户名", "Username"), "first_name": t("姓名", "Name"),
          "full_name": t("姓名", "Name"), "roles": t("角色", "Roles"), "active": t("启用", "Active"),
          "email": t("电子邮箱", "E-mail"), "login_count": t("登录次数", "Sign-ins"),
          "last_login": t("最近登录", "Last sign-in"), "password": t("密码", "Password"),
          "conf_password": t("确认密码", "Confirm password")}
_BINDING = {"jurisdiction": t("绑定行政区", "Bound jurisdiction"),
            "school": t("绑定学校", "Bound school"),
            "bound_to": t("所属单位", "Bound to")}


class AccountView(UnlockAction, ScopedModelView, UserDBModelView):
    class_permission_name = "Account"
    base_filters = [["id", AccountsInScope, None]]
    list_title = t("账号", "Accounts")
    noun = t("账号", "account")
    user_info_title = t("我的账号", "My account")
    # 姓名 is one item, kept whole in first_name (FAB's two columns would split it)
    list_columns = ["username", "full_name", "roles", "bound_to", "active"]
    add_columns = ["username", "first_name", "email", "active", "roles", "jurisdiction", "school",
                   "password", "conf_password"]
    edit_columns = ["username", "first_name", "email", "active", "roles", "jurisdiction", "school"]
    show_fieldsets = [
        (t("账号", "Account"), {"fields": ["username", "full_name", "active", "roles", "bound_to",
                                         "login_count", "last_login"]}),
        (t("联系方式", "Contact"), {"fields": ["email"]}),
    ]
    user_show_fieldsets = [
        (t("我的账号", "My account"), {"fields": ["username", "full_name", "roles", "bound_to",
                                               "login_count"]}),
        (t("联系方式", "Contact"), {"fields": ["email"]}),
    ]
    search_columns = ["username", "first_name", "roles", "jurisdiction", "school", "school_id", "active"]
    validators_columns = {}
    label_columns = {**UserDBModelView.label_columns, **_BINDING, **_NAMES}
    formatters_columns = {"roles": role_labels}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.datamodel.joined = ("school", "jurisdiction")  # what each row's bound_to reads
        if "userinfoedit" in self.actions:  # FAB calls it "Edit User": it edits one's own name
            self.actions["userinfoedit"].text = t("编辑姓名", "Edit my name")
        for form in (self.add_form, self.edit_form, self.search_form):
            field = getattr(form, "roles", None)
            if field is not None:  # the role pickers offer roles by name, not by key
                field.kwargs["get_label"] = lambda role: role_label(role.name)

    def prefill_form(self, form, pk):
        form.first_name.data = self.get_or_404(pk).full_name  # an older account's name, whole
    add_form_query_rel_fields = edit_form_query_rel_fields = search_form_query_rel_fields = {
        "roles": [["name", OurRoles, None]]}

    def pre_add(self, item):
        item.last_name = ""
        accounts.prepare_account(db.session, item, actor(), adding=True)
        item.password = accounts.hash_password(item.password)  # FAB's own hook would do this
        accounts.record_created(db.session, item, actor(), chosen_by_owner=False)  # changed at first sign-in

    def pre_update(self, item):
        before = accounts.stored_state(db.session, item)  # first: nothing flushed the edit yet
        item.last_name = ""
        accounts.prepare_account(db.session, item, actor(), adding=False)
        super().pre_update(item)
        accounts.record_updated(db.session, item, actor(), before)

    def post_add(self, item):
        self._say_if_waiting(item)

    def post_update(self, item):
        self._say_if_waiting(item)

    def _say_if_waiting(self, item):  # separation of duties: the change is saved, not in force
        if approvals.pending(db.session, item.id) is not None:
            flash(str(t(f"账号 {item.username} 可访问学生数据，须经本级或上级安全管理员审批后生效",
                        f"{item.username} reaches students: it takes effect once a security "
                        "administrator of its level or above approves")), "warning")

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
        target = self._target()
        refused = reused_password(self, form, target)  # identity controls: not one of the last N
        if refused is not None:
            return refused
        # the audit row rides in the reset's own commit: no reset, no row
        accounts.record_password_reset(db.session, target, actor())
        super().form_post(form)


class ResetMyPasswordView(FabResetMyPasswordView):  # the same name: the route table knows it
    """One's own new password, audited like an administrator's reset (the hash never is)."""

    form_title = t("修改密码", "Change my password")

    def form_post(self, form):
        user = db.session.get(XuejiUser, actor().user_id)
        refused = reused_password(self, form, user)  # identity controls: not one of the last N
        if refused is not None:
            return refused
        accounts.record_password_changed(db.session, user, actor())
        super().form_post(form)


class UserInfoEditView(FabUserInfoEditView):  # the same name: the route table knows it
    """One's own 姓名, as one item (FAB's form asks for a first and a last name)."""

    form = NameForm
    form_title = t("编辑姓名", "Edit my name")
    message = t("姓名已保存", "Name saved")

    def form_get(self, form):
        form.first_name.data = db.session.get(XuejiUser, actor().user_id).full_name

    def form_post(self, form):
        user = self.appbuilder.sm.get_user_by_id(actor().user_id)
        user.first_name, user.last_name = form.first_name.data.strip(), ""
        self.appbuilder.sm.update_user(user)  # FAB's manager saves it, as FAB's own view does
        flash(str(self.message), "info")


class ReadOnlyRoleView(RoleModelView):
    class_permission_name = "Role"
    base_permissions = ["can_list", "can_show"]
    base_filters = [["name", OurRoles, None]]
    search_columns = ["name"]  # FAB's would offer every account of the system in a select box
    base_order = ("name", "asc")
    list_title = t("角色", "Roles")
    show_title = t("查看角色", "Role")
    list_widget, show_widget = ListWidget, ShowWidget  # FAB's role widgets ignore formatters
    list_columns = ["name"]
    show_columns = ["name", "permissions"]
    label_columns = {"name": t("角色", "Role"), "permissions": t("可以做什么", "May")}
    formatters_columns = {"name": role_label, "permissions": role_powers}

