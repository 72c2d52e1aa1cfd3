"""The security policy in force: what the security administrator stored (table ``security_policy``)
over the environment's defaults (``XUEJI_LOGIN_*``, ``XUEJI_PASSWORD_*``, ``XUEJI_DORMANT_DAYS``,
``XUEJI_TOTP_REQUIRED_FOR``, ``XUEJI_SESSION_*``), read through ``effective`` and nowhere else, once
per request; and the bounds that keep a stored value inside what 等保 level 3 and the 2025
regulation allow."""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass

from flask import current_app, has_request_context, request
from sqlalchemy.orm import Session

from ..errors import Problem, ValidationFailed
from ..extensions import db
from ..i18n import t
from ..models import SecurityPolicy
from .roles import FUNCTIONS

POLICY_ID = 1  # the installation's one row
_CACHE = "xueji.security_policy"  # in the request's WSGI environ: one read per request
TOTP = "totp_required_for"


@dataclass(frozen=True)
class Setting:
    """One setting: its column, the environment setting it overrides, its bounds and its words."""

    name: str
    config_key: str
    low: int
    high: int
    zh: str
    en: str
    zero: tuple[str, str] | None = None  # 0 allowed, meaning this

    def bounds(self) -> str:
        zero = f"{t('0 或 ', '0 or ')}" if self.zero else ""
        return f"{zero}{self.low}–{self.high}"


SETTINGS = (
    Setting("max_failures", "XUEJI_LOGIN_MAX_FAILURES", 3, 10, "连续密码错误锁定次数", "wrong passwords before a lock"),
    Setting("failure_window_minutes", "XUEJI_LOGIN_FAILURE_WINDOW_MINUTES", 5, 1440,
            "密码错误计数时间窗（分钟）", "window counting wrong passwords (minutes)"),
    Setting("lockout_minutes", "XUEJI_LOGIN_LOCKOUT_MINUTES", 5, 1440, "锁定时长（分钟）",
            "lock duration (minutes)", zero=("直至安全管理员解锁", "until a security administrator unlocks")),
    Setting("password_max_age_days", "XUEJI_PASSWORD_MAX_AGE_DAYS", 30, 180, "密码有效期（天）",
            "password age (days)"),
    Setting("password_history", "XUEJI_PASSWORD_HISTORY", 3, 24, "不得重复的最近密码个数",
            "last passwords that may not be reused"),
    Setting("dormant_days", "XUEJI_DORMANT_DAYS", 30, 183, "未登录封存天数", "days unused before sealing"),
    Setting("session_idle_minutes", "XUEJI_SESSION_IDLE_MINUTES", 5, 120, "会话空闲超时（分钟）",
            "session idle timeout (minutes)"),
    Setting("session_max_hours", "XUEJI_SESSION_MAX_HOURS", 1, 24, "会话最长时间（小时）",
            "longest session (hours)"),
)
BY_NAME = {s.name: s for s in SETTINGS}
NAMES = (*(s.name for s in SETTINGS), TOTP)
TOTP_KEY = "XUEJI_TOTP_REQUIRED_FOR"
TOTP_WORDS = ("须使用动态验证码的职能", "functions that must use a second factor")


def words(name: str) -> tuple[str, str] | None:
    """A setting's words (Chinese, English), for the page and the audit log; None: not a setting."""
    if name == TOTP:
        return TOTP_WORDS
    setting = BY_NAME.get(name)
    return (setting.zh, setting.en) if setting else None


class Settings(ChainMap):
    """The configuration as every reader sees it: the stored settings over ``app.config``;
    ``sources[name]`` is ``None`` (the configured default) or ``{"by": username, "at": ISO time}``."""

    def __init__(self, stored: dict, config: Mapping, sources: dict[str, dict | None]):
        super().__init__(stored, config)
        self.sources = sources


def of_row(row: SecurityPolicy | None, config: Mapping) -> Settings:
    """The settings ``row`` stores over ``config`` (no row: ``config`` alone)."""
    stored, sources, set_by = {}, {}, (row.set_by or {}) if row is not None else {}
    for name in NAMES:
        value = getattr(row, name) if row is not None else None
        if value is not None:
            stored[TOTP_KEY if name == TOTP else BY_NAME[name].config_key] = value
        sources[name] = set_by.get(name) if value is not None else None
    return Settings(stored, config, sources)


def effective(session: Session | None, config: Mapping) -> Settings:
    """The settings in force (``session`` None: the configured defaults alone), read once per request."""
    if session is None:
        return of_row(None, config)
    cache = request.environ if has_request_context() else {}
    if _CACHE not in cache:
        cache[_CACHE] = of_row(session.get(SecurityPolicy, POLICY_ID), config)
    return cache[_CACHE]


def in_force() -> Settings:
    """``effective`` for the current application and its session (what a reader calls)."""
    return effective(db.session, current_app.config)


def forget() -> None:
    """The policy just changed: the next reader of this request reads it again."""
    if has_request_context():
        request.environ.pop(_CACHE, None)


def value_of(settings: Mapping, name: str):
    return settings[TOTP_KEY if name == TOTP else BY_NAME[name].config_key]


def functions_of(text: str | None) -> list[str]:
    """The functions of a comma-separated list, in the order of ``FUNCTIONS``."""
    named = {f.strip() for f in (text or "").split(",") if f.strip()}
    return [f for f in FUNCTIONS if f in named] + sorted(named - set(FUNCTIONS))


def parse(values: Mapping[str, str], config: Mapping) -> dict[str, int | str | None]:
    """The stored form of the settings given (empty: back to the configured default), each checked
    against its bounds; every value out of bounds refused at once, naming its setting."""
    out, problems = {}, []
    for name, text in values.items():
        text = (text or "").strip()
        if name not in NAMES:
            problems.append(Problem(t(f"没有名为 {name} 的安全策略项", f"no security setting {name}"), name))
        elif not text:
            out[name] = None
        elif name == TOTP:
            out[name], problem = _functions(text, config)
            problems += [problem] if problem else []
        else:
            out[name], problem = _number(BY_NAME[name], text)
            problems += [problem] if problem else []
    if problems:
        raise ValidationFailed(problems)
    return out


def _number(setting: Setting, text: str) -> tuple[int | None, Problem | None]:
    value = int(text) if text.lstrip("-").isdigit() else None
    if value is not None and (setting.low <= value <= setting.high or (value == 0 and setting.zero)):
        return value, None
    return None, Problem(t(f"{setting.zh}须为 {setting.bounds()} 的整数，不能是 {text}",
                           f"{setting.en} must be a whole number in {setting.bounds()}, not {text}"),
                         setting.name)


def _functions(text: str, config: Mapping) -> tuple[str | None, Problem | None]:
    """A subset of the functions that keeps every one the configuration requires (the configured
    list is a floor: production's sysadmin, secadmin and auditor can never be dropped)."""
    chosen, floor = functions_of(text), functions_of(config.get(TOTP_KEY))
    unknown = [f for f in chosen if f not in FUNCTIONS]
    missing = [f for f in floor if f not in chosen]
    if unknown:
        return None, Problem(t(f"未知的职能：{', '.join(unknown)}（可选 {', '.join(FUNCTIONS)}）",
                               f"unknown functions {', '.join(unknown)} (choose from {', '.join(FUNCTIONS)})"),
                             TOTP)
    if missing:
        return None, Problem(t(f"配置要求以下职能必须使用动态验证码，不能取消：{', '.join(missing)}",
                               f"the configuration requires a second factor of {', '.join(missing)}: "
                               "it cannot be dropped"), TOTP)
    return ",".join(chosen), None
