"""The security policy the security administrator sets: one row for the installation, each setting
nullable (None: the configured default applies), with who set each one and when."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import JSON, Column, Integer, String


class SecurityPolicy(Model):
    """安全策略: the settings in force over the environment's defaults (app/security/policy_settings.py)."""

    __tablename__ = "security_policy"

    id = Column(Integer, primary_key=True)  # always 1: one policy per installation
    max_failures = Column(Integer, nullable=True)
    failure_window_minutes = Column(Integer, nullable=True)
    lockout_minutes = Column(Integer, nullable=True)  # 0: until a security administrator unlocks
    password_max_age_days = Column(Integer, nullable=True)
    password_history = Column(Integer, nullable=True)
    dormant_days = Column(Integer, nullable=True)
    totp_required_for = Column(String(100), nullable=True)  # functions, comma-separated
    session_idle_minutes = Column(Integer, nullable=True)
    session_max_hours = Column(Integer, nullable=True)
    set_by = Column(JSON, nullable=True)  # {setting: {"by": username, "at": ISO time}}
