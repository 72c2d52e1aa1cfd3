"""Xueji's security manager: our account model and views, FAB's Admin role left unused, and
signing in as a registry of minors' data needs it (lockout, throttle, sessions that end)."""

from __future__ import annotations

from flask import current_app, g, has_request_context
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.sqla.models import assoc_permissionview_role
from flask_login import current_user, user_logged_in, user_logged_out
from sqlalchemy import select

from ..models import XuejiUser
from ..models.base import local_now
from ..services.common.transaction import transaction
from . import lockout, password_age, policy_settings, sessions, signin_steps, throttle
from .login_api import SecurityApi


class XuejiSecurityManager(SecurityManager):
    user_model = XuejiUser
    security_api = SecurityApi

    def __init__(self, appbuilder):
        from ..views.accounts import (
            AccountView,
            ReadOnlyRoleView,
            ResetMyPasswordView,
            ScopedResetPasswordView,
            UserInfoEditView,
        )

        self.userdbmodelview = AccountView
        self.rolemodelview = ReadOnlyRoleView
        self.resetpasswordview = ScopedResetPasswordView
        self.resetmypasswordview = ResetMyPasswordView
        self.userinfoeditview = UserInfoEditView  # one's 姓名 as one item
        super().__init__(appbuilder)

    # -- signing in: lockout per account ---------------------------------------------------------
    def auth_user_db(self, username, password):
        user = self._active_user_named(username)
        if user is not None and user.locked_at is not None:
            now, policy = local_now(), lockout.policy_in_force()
            if lockout.is_locked(user, now, policy):
                lockout.refuse(lockout.LOCKED, user, now, policy)
                return None
            with transaction(self.session):
                lockout.expire_lock(self.session, user)
        # a sealed account, or one waiting for a security administrator's approval, is inert:
        # only the right password learns why, a wrong one counts towards the lock
        if user is not None and signin_steps.held(user, password):
            return None
        authenticated = super().auth_user_db(username, password)
        if authenticated is None and not lockout.login_failed():
            lockout.refuse(lockout.WRONG)
        if authenticated is not None and not signin_steps.api_code_accepted(authenticated):
            return None  # the REST login's second factor, asked only once the password was right
        # identity controls: a sign-in during a password loan is logged; the REST login refuses
        # an account that owes a step (new password, second factor)
        return authenticated and signin_steps.after_password(authenticated)

    def _active_user_named(self, username) -> XuejiUser | None:
        if not username:
            return None
        user = self.find_user(username=username) or self.find_user(email=username)
        return user if user is not None and user.is_active else None

    def update_user_auth_stat(self, user, success=True):
        """FAB's bookkeeping after a password check, with the failure window and the lock."""
        now = local_now()
        if success:
            user.login_count = (user.login_count or 0) + 1
            user.last_login = now
            if not signin_steps.keeps_failures(user):  # identity controls: its code is still due
                lockout.clear(user)
        else:
            policy = lockout.policy_in_force()
            lockout.held_for_counting(self.session, user)
            if lockout.count_failure(user, now, policy):
                lockout.record_lock(self.session, user, policy)
                lockout.refuse(lockout.LOCKED, user, now, policy)
        self.update_user(user)
        (self.on_user_login if success else self.on_user_login_failed)(user)

    def register_views(self) -> None:
        super().register_views()
        # Groups would hand out roles beside the level checks of the account form: hide them.
        self.appbuilder.menu.find("Security").childs = [
            item for item in self.appbuilder.menu.find("Security").childs
            if item.name not in ("List Groups",)
        ]
        # The form's message says when the account is locked (read at flash time, per request).
        self.auth_view.invalid_login_message = _LazyRefusal()
        api = next(v for v in self.appbuilder.baseviews if type(v).__name__ == "SecurityApi")
        throttle.install(self.limiter, [self.auth_view.blueprint, api.blueprint])

    # -- permissions: read once per request, not once per menu item and button -----------------
    def _has_view_access(self, user, permission_name: str, view_name: str) -> bool:
        roles = self.get_user_roles(user)
        if any(role.name in self.builtin_roles for role in roles):
            return super()._has_view_access(user, permission_name, view_name)
        return (permission_name, view_name) in self._granted(tuple(sorted(role.id for role in roles)))

    def is_item_public(self, permission_name, view_name) -> bool:
        """Whether the Public role holds it (FAB asks before every REST call: two statements), read
        once per request like an account's grants."""
        public = self._grants("public", self.role_model.name == self.auth_role_public)
        return (permission_name, view_name) in public

    def _granted(self, role_ids: tuple[int, ...]) -> frozenset[tuple[str, str]]:
        """The (permission, view) pairs the roles hold, cached in the request's (app) context."""
        return self._grants(role_ids, self.role_model.id.in_(role_ids))

    def _grants(self, key, roles) -> frozenset[tuple[str, str]]:
        """The (permission, view) pairs of the roles ``roles`` selects, once per request and ``key``."""
        cached = g.setdefault("xueji_grants", {})
        if key not in cached:
            pv, assoc = self.permissionview_model, assoc_permissionview_role
            pairs = self.session.execute(
                select(self.permission_model.name, self.viewmenu_model.name)
                .join(pv, pv.permission_id == self.permission_model.id)
                .join(self.viewmenu_model, pv.view_menu_id == self.viewmenu_model.id)
                .join(assoc, assoc.c.permission_view_id == pv.id)
                .join(self.role_model, self.role_model.id == assoc.c.role_id)
                .where(roles))
            cached[key] = frozenset(tuple(row) for row in pairs)
        return cached[key]

    # -- sessions and tokens that end ------------------------------------------------------------
    def create_login_manager(self, app):
        manager = super().create_login_manager(app)
        sender = current_app._get_current_object()  # FAB passes the current_app proxy
        user_logged_in.connect(sessions.on_login, sender)
        user_logged_in.connect(signin_steps.on_login, sender)  # identity controls: the code is due
        user_logged_out.connect(sessions.forget, sender)
        return manager

    def create_jwt_manager(self, app):
        manager = super().create_jwt_manager(app)
        manager.additional_claims_loader(sessions.token_claims)
        return manager

    @staticmethod
    def before_request():
        g.user = current_user
        sessions.enforce_timeouts()
        return signin_steps.enforce()  # identity controls: a step owed shows only its page

    def load_user(self, pk):
        user = super().load_user(pk)
        if user is None or not sessions.session_is_current(user):
            return None
        return user

    def load_user_jwt(self, _jwt_header, jwt_data):
        user = self.get_user_by_id(int(jwt_data["sub"]))
        if not sessions.token_is_current(user, jwt_data):
            return None
        signin_steps.refuse_token(user)  # identity controls: 403 while a new password is due
        g.user = user
        return user

    def on_user_logout(self, user) -> None:
        if sessions.signed_in_here(user):  # the cookie just cleared may have been copied: end it
            with transaction(self.session):
                user.end_sessions()

    def reset_password(self, userid, password):
        user = self.get_user_by_id(userid)
        password_age.refuse_reuse(self.session, user, password, policy_settings.in_force())  # identity controls
        super().reset_password(userid, password)  # the new hash moves the epoch (models/user.py)
        user.password_changed_at = local_now()
        by = self._signed_in_user()
        # identity controls: the hash kept in the history; another's password is replaced at the
        # account's next sign-in
        password_age.record(self.session, user, local_now(), policy_settings.in_force(),
                            chosen_by_owner=by is not None and by.id == user.id)
        # separation of duties: a reset no longer ends a lock -- unlocking (解除锁定) is the
        # security administrator's, resetting passwords the system administrator's
        self.update_user(user)
        if by is not None:
            sessions.keep_this_session(user)

    def _signed_in_user(self) -> XuejiUser | None:
        if has_request_context() and current_user.is_authenticated:
            return self.get_user_by_id(current_user.id)
        return None


class _LazyRefusal:
    """Flask-AppBuilder flashes ``str(view.invalid_login_message)`` after a failed sign-in."""

    def __str__(self) -> str:
        return signin_steps.refusal_message() or lockout.refusal_message()  # identity controls: theirs
