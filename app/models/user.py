"""Accounts: FAB's user, bound to one jurisdiction node or one school."""

from __future__ import annotations

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Integer, event, false
from sqlalchemy.orm import relationship

from .scope import AnyOf, Via


class XuejiUser(User):
    """An account; its roles' level must match the node it is bound to."""

    __tablename__ = "ab_user"
    __scope__ = AnyOf(Via("jurisdiction_id", "Jurisdiction"), Via("school_id", "School"))

    jurisdiction_id = Column(Integer, ForeignKey("jurisdiction.id"), nullable=True, index=True)
    jurisdiction = relationship("Jurisdiction", foreign_keys=[jurisdiction_id])
    school_id = Column(Integer, ForeignKey("school.id"), nullable=True, index=True)
    school = relationship("School", foreign_keys=[school_id])
    password_changed_at = Column(DateTime, nullable=True)
    # Every session and token carries the epoch it was issued under; moving it on ends them all.
    auth_epoch = Column(Integer, nullable=False, default=0, server_default="0")
    last_failed_login = Column(DateTime, nullable=True)  # the failure window runs from here
    locked_at = Column(DateTime, nullable=True)  # sign-in refused from here (app.security.lockout)
    # identity controls (app.security.password_age, dormant): a new password due at the next
    # sign-in (first sign-in, an administrator's reset); sealed after months without a sign-in
    password_must_change = Column(Boolean, nullable=False, default=False, server_default=false())
    sealed_at = Column(DateTime, nullable=True)
    unsealed_at = Column(DateTime, nullable=True)  # dormancy counts from here after an unseal

    @property
    def full_name(self) -> str:
        """姓名 as one word.  FAB keeps a name in two columns; Xueji writes it whole into
        first_name, and an account made before split it in two (王 / 芳), read back whole here."""
        return "".join(p for p in (self.first_name, self.last_name) if p and p != "-").strip()

    def get_full_name(self) -> str:
        """What pages call the account (FAB's navbar asks): its 姓名, or its username when it
        has no name of its own."""
        name = self.full_name
        return name if name and name != self.username else self.username

    @property
    def bound_to(self) -> str:
        if self.school is not None:
            return f"{self.school.name} ({self.school.code})"
        if self.jurisdiction is not None:
            return f"{self.jurisdiction.name} ({self.jurisdiction.code})"
        return ""

    def end_sessions(self) -> None:
        """Invalidate every session cookie and token issued to this account so far."""
        self.auth_epoch = (self.auth_epoch or 0) + 1


# A new password or a deactivation ends every session wherever it is made (form, service, CLI):
# the epoch moves with the attribute, so no code path can forget it.
def _credentials_changed(target: XuejiUser, value, oldvalue, _initiator):
    if value != oldvalue:
        target.end_sessions()
    return value


for _attribute in (XuejiUser.password, XuejiUser.active):
    event.listen(_attribute, "set", _credentials_changed, active_history=True, retval=True)
