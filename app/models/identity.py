"""Identity controls: the passwords an account used before (hashes only), its TOTP second factor,
and the password-lending register (借用密码登记) with every sign-in made during a loan."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import Column, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import relationship

from .scope import Via


class PasswordHistory(Model):
    """One password an account has had: its hash (never the password) and when it was set."""

    __tablename__ = "password_history"

    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False, index=True)
    password_hash = Column(String(256), nullable=False)
    set_at = Column(DateTime, nullable=False)


class AccountTotp(Model):
    """An account's TOTP secret, encrypted with the keyring and bound to the account."""

    __tablename__ = "account_totp"

    user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), primary_key=True)
    secret = Column(String(200), nullable=False)  # v1:<kid>:..., aad account_totp.secret.<user id>
    created_at = Column(DateTime, nullable=False)
    confirmed_at = Column(DateTime, nullable=True)  # None: enrolment begun, no code given yet
    last_step = Column(Integer, nullable=True)  # the 30 s step of the last code accepted: no replay


class PasswordLoan(Model):
    """A request to lend an account's password to a named person for a period, and its decision."""

    __tablename__ = "password_loan"
    __scope__ = Via("user_id", "XuejiUser")

    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False, index=True)
    user = relationship("XuejiUser", foreign_keys=[user_id])
    lent_to = Column(String(100), nullable=False)  # the person who will sign in with it
    reason = Column(String(500), nullable=False)
    starts_at = Column(DateTime, nullable=False)
    ends_at = Column(DateTime, nullable=False)
    status = Column(String(10), nullable=False, default="pending")  # pending, approved, refused
    filed_by = Column(String(128), nullable=False)
    filed_at = Column(DateTime, nullable=False)
    decided_by = Column(String(128), nullable=True)
    decided_at = Column(DateTime, nullable=True)
    note = Column(String(500), nullable=True)  # the administrator's comment on the decision


class PasswordLoanUse(Model):
    """A sign-in of a lent account during its approved period: logged against the loan."""

    __tablename__ = "password_loan_use"

    id = Column(Integer, primary_key=True)
    loan_id = Column(Integer, ForeignKey("password_loan.id", ondelete="CASCADE"), nullable=False,
                     index=True)
    at = Column(DateTime, nullable=False)
    via = Column(String(8), nullable=False)  # web or api
    address = Column(String(64), nullable=True)
