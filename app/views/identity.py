"""Identity controls in the browser: the second factor (enrol, give the code at sign-in), the
security administrator's page of sealed accounts and second factors, and the password-lending
register (借用密码登记)."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from markupsafe import Markup

from ..errors import DomainError
from ..extensions import db
from ..i18n import t
from ..models import XuejiUser
from ..models.base import local_now
from ..security import password_age, policy_settings, signin_steps, totp
from ..services.organisation import identity, lending
from ..web.common import actor
from ..web.labels import flash_problems


def _me() -> XuejiUser:
    return db.session.get(XuejiUser, g.user.id)


class SecondFactorView(BaseView):
    """动态验证码: one's own second factor, set up here and asked for after the password."""

    route_base = "/second-factor"
    default_view = "index"
    class_permission_name = "SecondFactor"
    method_permission_name = {"index": "index", "start": "start", "confirm": "start", "verify": "verify"}

    @expose("/")
    @has_access
    def index(self):
        me = _me()
        return self.render_template("xueji/second_factor.html", enrolled=totp.enrolled(db.session, me),
                                    required=totp.required(me, policy_settings.in_force()), secret=None)

    @expose("/start", methods=["POST"])
    @has_access
    def start(self):
        """A new secret, shown this once (as text and as the otpauth URI an authenticator reads)."""
        me = _me()
        try:
            secret = identity.start_enrolment(db.session, me)
        except DomainError as exc:
            flash_problems(exc)
            return redirect(url_for("SecondFactorView.index"))
        uri = totp.provisioning_uri(me, secret, current_app.config["XUEJI_TOTP_ISSUER"])
        return self.render_template("xueji/second_factor.html", enrolled=False, secret=secret, uri=uri,
                                    qr=Markup(totp.qr_svg(uri)),
                                    required=totp.required(me, policy_settings.in_force()))

    @expose("/confirm", methods=["POST"])
    @has_access
    def confirm(self):
        if identity.confirm_enrolment(db.session, _me(), request.form.get("code", "")):
            flash(str(t("动态验证码已启用，今后登录须输入验证码", "Second factor on: sign-ins ask for a code")),
                  "success")
            return redirect(url_for("SecondFactorView.index"))
        flash(str(t("验证码不正确，请重新开始启用", "Wrong code: start again")), "danger")
        return redirect(url_for("SecondFactorView.index"))

    @expose("/verify", methods=["GET", "POST"])
    @has_access
    def verify(self):
        """The second step of signing in."""
        if request.method == "POST":
            if signin_steps.code_given(_me(), request.form.get("code", "")):
                return redirect(url_for("HomeView.index"))
            flash(signin_steps.refusal_message() or str(t("动态验证码错误", "Wrong code")), "danger")
            if not g.user.is_authenticated:  # the wrong codes locked the account
                return redirect(url_for("AuthDBView.login"))
        return self.render_template("xueji/second_factor_verify.html")


class IdentityView(BaseView):
    """身份安全: sealed accounts and second factors of the jurisdiction, for the security
    administrator to unseal or reset."""

    route_base = "/identity"
    default_view = "index"
    class_permission_name = "Identity"
    method_permission_name = {"index": "list", "unseal": "edit", "reset_second_factor": "edit"}

    @expose("/")
    @has_access
    def index(self):
        rows = identity.listing(db.session, actor())
        enrolled = {u.id for u in rows if totp.enrolled(db.session, u)}
        return self.render_template("xueji/identity_accounts.html", rows=rows, enrolled=enrolled,
                                    dormant_days=policy_settings.in_force()["XUEJI_DORMANT_DAYS"])

    @expose("/<int:pk>/unseal", methods=["POST"])
    @has_access
    def unseal(self, pk):
        try:
            user = identity.unseal(db.session, actor(), pk, local_now())
            flash(str(t(f"账号 {user.username} 已解除封存", f"{user.username} is unsealed")), "success")
        except DomainError as exc:
            flash_problems(exc)
        return redirect(url_for("IdentityView.index"))

    @expose("/<int:pk>/reset-second-factor", methods=["POST"])
    @has_access
    def reset_second_factor(self, pk):
        try:
            user = identity.reset_second_factor(db.session, actor(), pk)
            flash(str(t(f"账号 {user.username} 的动态验证码已重置", f"{user.username}'s second factor reset")),
                  "success")
        except DomainError as exc:
            flash_problems(exc)
        return redirect(url_for("IdentityView.index"))


def _when(name: str) -> datetime | None:
    try:
        return datetime.fromisoformat(request.form.get(name, ""))
    except ValueError:
        return None


class PasswordLoanView(BaseView):
    """借用密码登记: file a loan of one's own password; a system administrator decides."""

    route_base = "/password-loans"
    default_view = "index"
    class_permission_name = "PasswordLoan"
    method_permission_name = {"index": "list", "file": "file", "decide": "decide"}

    @expose("/")
    @has_access
    def index(self):
        who = actor()
        loans = lending.listing(db.session, who)
        return self.render_template("xueji/password_loans.html", loans=loans,
                                    uses=lending.uses_of(db.session, loans), me=who.user_id,
                                    may_decide=who.may("PasswordLoan", "decide"))

    @expose("/file", methods=["POST"])
    @has_access
    def file(self):
        form = request.form
        try:
            loan = lending.file(db.session, actor(), lent_to=form.get("lent_to", ""),
                                reason=form.get("reason", ""), starts_at=_when("starts_at"),
                                ends_at=_when("ends_at"), now=local_now())
            flash(str(t(f"借用登记 #{loan.id} 已提交，待系统管理员审批",
                        f"entry {loan.id} filed: a system administrator decides")), "success")
        except DomainError as exc:
            flash_problems(exc)
        return redirect(url_for("PasswordLoanView.index"))

    @expose("/<int:pk>/decide", methods=["POST"])
    @has_access
    def decide(self, pk):
        approve = request.form.get("decision") == "approve"
        try:
            lending.decide(db.session, actor(), pk, approve=approve, note=request.form.get("note", ""),
                           now=local_now())
            flash(str(t(f"借用登记 #{pk} 已{'批准' if approve else '拒绝'}",
                        f"entry {pk} {'approved' if approve else 'refused'}")), "success")
        except DomainError as exc:
            flash_problems(exc)
        return redirect(url_for("PasswordLoanView.index"))


def reused_password(view, form, user: XuejiUser):
    """For the password forms: the form again with the reason when the new password is among the
    account's last ones, else None."""
    problem = password_age.reuse_problem(db.session, user, form.password.data, policy_settings.in_force())
    if problem is None:
        return None
    form.password.errors = [*form.password.errors, problem]
    return view.render_template(view.form_template, title=view.form_title,
                                widgets=view._get_edit_widget(form=form), appbuilder=view.appbuilder)
