"""解除锁定: the button a security administrator presses on a locked account's page.

Mixed into the account view; it is one of the view's actions, so it travels through the view's
existing action route and needs the security administrator's ``can_unlock`` on accounts.
"""

from __future__ import annotations

from flask import abort, flash, g, redirect, url_for
from flask_appbuilder.actions import action
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.views import expose

from ..errors import DomainError
from ..extensions import db
from ..i18n import t
from ..models.base import local_now
from ..services.common.actors import Actor
from ..services.organisation import accounts
from . import lockout


class UnlockAction:
    """For the account view: the unlock action, shown on the page of a locked account."""

    method_permission_name = {"unlock": "unlock"}  # the security administrator's (三权分立)

    @action("unlock", t("解除锁定", "Unlock"), t("解除该账号的登录锁定？", "Unlock this account?"),
            "fa-unlock", multiple=False)
    def unlock(self, item):
        try:
            user, unlocked = accounts.unlock(db.session, Actor.of(g.user), item.id, by=g.user)
        except DomainError:
            abort(404)
        if unlocked:
            flash(str(t(f"账号 {user.username} 已解除锁定", f"{user.username} is unlocked")), "success")
        else:
            flash(str(t("该账号未被锁定", "This account is not locked")), "info")
        return redirect(url_for(f"{type(self).__name__}.show", pk=user.id))

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        item = self.get_or_404(pk)
        actions = {"resetpasswords": self.actions.get("resetpasswords")}
        policy = lockout.policy_in_force()
        if lockout.is_locked(item, local_now(), policy):
            actions["unlock"] = self.actions.get("unlock")
            flash(str(t(f"该账号因密码错误次数过多，自 {item.locked_at:%Y-%m-%d %H:%M} 起锁定",
                        f"Locked since {item.locked_at:%Y-%m-%d %H:%M} after too many wrong "
                        "passwords")), "warning")
        widgets = self._get_show_widget(pk, item, actions={k: v for k, v in actions.items() if v})
        self.update_redirect()
        return self.render_template(self.show_template, pk=pk, title=self.show_title,
                                    widgets=widgets, appbuilder=self.appbuilder,
                                    related_views=self._related_views)
