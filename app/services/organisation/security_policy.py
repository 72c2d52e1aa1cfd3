"""The security policy (安全策略): a province security administrator changes the settings the
identity controls read (app/security/policy_settings.py); each change is audited with the values
in force before and after."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Jurisdiction, SecurityPolicy
from ...security import policy_settings as ps
from ...security.roles import FUNCTIONS
from ..common.actors import Actor
from ..common.transaction import transactional
from .audit import policy_event


@dataclass(frozen=True)
class Row:
    """One setting as the page and ``security-policy show`` present it."""

    name: str
    label: str
    value: object
    default: object
    bounds: str
    source: dict | None  # None: the configured default; else {"by", "at"}


def rows(session: Session, config: Mapping) -> list[Row]:
    """Every setting in force, with its configured default, its bounds and who set it."""
    settings = ps.effective(session, config)
    out = [Row(s.name, f"{s.zh} / {s.en}", ps.value_of(settings, s.name), ps.value_of(config, s.name),
               s.bounds(), settings.sources[s.name]) for s in ps.SETTINGS]
    floor = ",".join(ps.functions_of(config.get(ps.TOTP_KEY))) or "-"
    out.append(Row(ps.TOTP, " / ".join(ps.TOTP_WORDS),
                   settings[ps.TOTP_KEY], config.get(ps.TOTP_KEY), f"{','.join(FUNCTIONS)} ⊇ {floor}",
                   settings.sources[ps.TOTP]))
    return out


@transactional
def change(session: Session, actor: Actor, values: Mapping[str, str], config: Mapping,
           now: datetime) -> dict[str, dict]:
    """Store the settings given (empty: back to the default) and audit what changed in force:
    {setting: {"old", "new"}}, empty when nothing did."""
    actor.require("SecurityPolicy", "edit")
    stored = ps.parse(values, config)
    row = session.get(SecurityPolicy, ps.POLICY_ID, with_for_update=True)
    if row is None:
        row = SecurityPolicy(id=ps.POLICY_ID, set_by={})
        session.add(row)
    before = ps.of_row(row, config)
    changed = {name: value for name, value in stored.items() if getattr(row, name) != value}
    for name, value in changed.items():
        setattr(row, name, value)
    after = ps.of_row(row, config)
    diff = {name: {"old": ps.value_of(before, name), "new": ps.value_of(after, name)} for name in changed}
    if changed:
        row.set_by = {**(row.set_by or {}),
                      **{name: {"by": actor.username, "at": now.isoformat(timespec="seconds")}
                         for name in changed}}
        policy_event(session, actor, diff, _province(session))
    ps.forget()
    return diff


def _province(session: Session) -> str | None:
    return session.scalar(select(Jurisdiction.code).where(Jurisdiction.level == "province")
                          .order_by(Jurisdiction.id).limit(1))
