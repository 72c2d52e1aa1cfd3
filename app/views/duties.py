"""Separation of duties (三权分立) pages of the security administrator: the account changes waiting
for approval (approve / refuse), and the custom roles (list, add, edit, retire)."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access

from ..errors import DomainError
from ..extensions import db
from ..i18n import english, t
from ..models import CustomRole
from ..security.duties import catalogue
from ..security.roles import LEVEL_EN, LEVEL_ZH, LEVELS
from ..security.sync import grant
from ..services.organisation import approvals, custom_roles
from ..web.common import actor, find_or_404, now
from ..web.labels import flash_problems, problems_text
from .display import RESOURCE_WORDS, VERB_WORDS, role_labels


class AccountApprovalView(BaseView):
    """账号审批: pending account changes inside the security administrator's jurisdiction."""

    route_base = "/approvals"
    default_view = "index"
    class_permission_name = "AccountApproval"
    method_permission_name = {"index": "list", "decide": "decide"}

    @expose("/")
    @has_access
    def index(self):
        who = actor()
        return self.render_template("xueji/account_approvals.html",
                                    rows=approvals.listing(db.session, who), me=who.user_id,
                                    role_labels=role_labels)

    @expose("/<int:pk>/decide", methods=["POST"])
    @has_access
    def decide(self, pk):
        approve = request.form.get("decision") == "approve"
        try:
            row = approvals.decide(db.session, actor(), pk, approve=approve, now=now())
            flash(t(f"已批准账号 {row.user.username}", f"{row.user.username} approved") if approve
                  else t(f"已驳回账号 {row.user.username} 的变更", f"change to {row.user.username} refused"),
                  "success")
        except DomainError as exc:
            flash_problems(exc)
        return redirect(url_for("AccountApprovalView.index"))


def _words(pair) -> str:
    resource, verb = pair
    colon = ": " if english() else "："
    return f"{t(*RESOURCE_WORDS.get(resource, (resource, resource)))}{colon}{t(*VERB_WORDS.get(verb, (verb, verb)))}"


class CustomRoleView(BaseView):
    """自定义角色: composed from the permission catalogue; the built-in roles are not here."""

    route_base = "/customroles"
    default_view = "index"
    class_permission_name = "CustomRole"
    method_permission_name = {"index": "list", "add": "add", "edit": "edit", "retire": "delete"}

    def _sync(self, role, spec):
        return grant(self.appbuilder, role, spec)

    def _form(self, row=None, error=None, values=None):
        return self.render_template("xueji/custom_roles_form.html", row=row, error=error,
                                    values=values or {}, levels=LEVELS, level_zh=LEVEL_ZH,
                                    level_en=LEVEL_EN, catalogue=catalogue(), words=_words)

    @expose("/")
    @has_access
    def index(self):
        return self.render_template("xueji/custom_roles.html",
                                    rows=custom_roles.listing(db.session, actor()),
                                    level_zh=LEVEL_ZH, level_en=LEVEL_EN, words=_words)

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        if request.method == "GET":
            return self._form()
        form = request.form
        try:
            custom_roles.create(db.session, actor(), key=form.get("key", "").strip(),
                                label=form.get("label", ""), level=form.get("level", ""),
                                grants=form.getlist("grants"), sync=self._sync)
        except DomainError as exc:
            return self._form(error=problems_text(exc), values=form)
        flash(t("自定义角色已创建", "Custom role created"), "success")
        return redirect(url_for("CustomRoleView.index"))

    @expose("/<int:pk>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, pk):
        row = find_or_404(CustomRole, CustomRole.id == pk)  # another jurisdiction's role is not there
        if request.method == "GET":
            return self._form(row)
        try:
            custom_roles.update(db.session, actor(), pk, label=request.form.get("label", ""),
                                grants=request.form.getlist("grants"), sync=self._sync)
        except DomainError as exc:
            return self._form(row, error=problems_text(exc), values=request.form)
        flash(t("自定义角色已保存", "Custom role saved"), "success")
        return redirect(url_for("CustomRoleView.index"))

    @expose("/<int:pk>/retire", methods=["POST"])
    @has_access
    def retire(self, pk):
        try:
            custom_roles.retire(db.session, actor(), pk, now=now(), sync=self._sync)
            flash(t("自定义角色已停用", "Custom role retired"), "success")
        except DomainError as exc:
            flash_problems(exc)
        return redirect(url_for("CustomRoleView.index"))
