"""Xueji's security manager: our account model and views, FAB's Admin role left unused."""

from __future__ import annotations

from flask_appbuilder.security.sqla.manager import SecurityManager

from ..models import XuejiUser
from ..models.base import local_now


class XuejiSecurityManager(SecurityManager):
    user_model = XuejiUser

    def __init__(self, appbuilder):
        from ..views.accounts import AccountView, ReadOnlyRoleView, ScopedResetPasswordView

        self.userdbmodelview = AccountView
        self.rolemodelview = ReadOnlyRoleView
        self.resetpasswordview = ScopedResetPasswordView
        super().__init__(appbuilder)

    def reset_password(self, userid, password):
        super().reset_password(userid, password)
        user = self.get_user_by_id(userid)
        user.password_changed_at = local_now()
        self.update_user(user)

    def register_views(self) -> None:
        super().register_views()
        # Groups would hand out roles beside the level checks of the account form: hide them.
        self.appbuilder.menu.find("Security").childs = [
            item for item in self.appbuilder.menu.find("Security").childs
            if item.name not in ("List Groups",)
        ]
