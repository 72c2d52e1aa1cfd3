"""安全策略: the security policy in force and where each setting comes from; the province's
security administrator changes it, security administrators and auditors of every level read it."""

from __future__ import annotations

from flask import current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access

from ..errors import DomainError
from ..extensions import db
from ..i18n import t
from ..security.policy_settings import NAMES
from ..services.organisation import security_policy
from ..web.common import actor, now
from ..web.labels import flash_problems


class SecurityPolicyView(BaseView):
    route_base = "/security-policy"
    default_view = "index"
    class_permission_name = "SecurityPolicy"
    method_permission_name = {"index": "list", "save": "edit"}

    @expose("/")
    @has_access
    def index(self):
        return self.render_template("xueji/security_policy.html",
                                    rows=security_policy.rows(db.session, current_app.config),
                                    may_edit=actor().may("SecurityPolicy", "edit"))

    @expose("/", methods=["POST"])
    @has_access
    def save(self):
        values = {name: request.form.get(name, "") for name in NAMES}
        try:
            changed = security_policy.change(db.session, actor(), values, current_app.config, now())
            flash(str(t(f"安全策略已更新：{', '.join(changed)}", f"security policy changed: {', '.join(changed)}")
                      if changed else t("安全策略没有变化", "nothing changed")), "success")
        except DomainError as exc:
            flash_problems(exc)
        return redirect(url_for("SecurityPolicyView.index"))
