"""Who can ever be a party to a step of an action's approval chain, under the rules in force: a
button for a step nobody in the account's seat ever takes is not shown."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Jurisdiction, School
from ...policy.ruleset import Effective
from ..common.actors import Actor
from .rulesets import current

_UPPER = ("city", "province")  # chain levels that name a bureau above the school's own


def possible_steps(eff: Effective, action: str) -> set[tuple[str, str]]:
    """Every (role, level) a step of ``action`` may have at a node: its chain, per stage, per
    variant, the lower levels' extra steps, and the entry-age exception path."""
    found = set()
    spec = eff.actions.get(action)
    if spec is not None:
        chains = [spec.chain or (), tuple(spec.extra), *spec.stage_chain.values(),
                  *spec.variants.values()]
        found |= {(s.value.role, s.value.level) for chain in chains for s in chain}
    entry_age = eff.switches.get("entry_age")
    exception = getattr(getattr(entry_age, "value", None), "exception_chain", None) or ()
    if action == "register_new":
        found |= {(s.role, s.level) for s in exception}
    return found


def _school_seat(session: Session, actor: Actor, function: str, actions) -> bool:
    school = session.get(School, actor.school_id)
    eff = current(session).effective(school.province_code, school.city_code, school.county_code)
    return any((function, "school") in possible_steps(eff, a) for a in actions)


def _bureau_seat(session: Session, actor: Actor, function: str, level: str, actions) -> bool:
    """A bureau takes a step as the own bureau of the schools directly under it, or as the city
    or province of every school below it."""
    code = actor.scope.code
    own = select(Jurisdiction.id).where(Jurisdiction.code == code).scalar_subquery()
    chains = session.execute(select(School.province_code, School.city_code, School.county_code,
                                    School.jurisdiction_id == own)
                             .where(actor.scope.clause(School)).distinct()).all()
    ruleset = current(session)
    for province, city, county, directly in chains:
        steps = set().union(*(possible_steps(ruleset.effective(province, city, county), a)
                              for a in actions))
        if (directly and (function, "own_bureau") in steps) or (
                level in _UPPER and (function, level) in steps):
            return True
    return False


def may_take_a_step(session: Session, actor: Actor, actions) -> bool:
    """Whether this account's seat is a party to some step of ``actions`` for some school of its
    jurisdiction (a school's supervisor, the county's registrar ... as the rules in force say)."""
    for role in actor.roles:
        if role.function not in ("registrar", "supervisor"):
            continue
        if role.level == "school" and actor.school_id is not None:
            if _school_seat(session, actor, role.function, actions):
                return True
        elif role.level != "school" and _bureau_seat(session, actor, role.function, role.level,
                                                     actions):
            return True
    return False
