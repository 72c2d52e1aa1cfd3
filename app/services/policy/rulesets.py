"""The rules in force: versions in the database, the compiled rule set cached per process, and the
gate every write path passes through."""

from __future__ import annotations

import difflib
from datetime import datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...errors import Problem, RuleViolation
from ...models import RuleSetVersion, SchoolClass, Student
from ...policy import Decision, Facts, RuleSet, evaluate, load_texts, read_dir
from ...policy.ruleset import Effective, level_of_code
from ..common.transaction import transactional

SEATED = ("in_school",)  # statuses that occupy a seat in a class


def _holder() -> dict:
    return current_app.extensions.setdefault("xueji_rules", {})


def latest_version(session: Session) -> RuleSetVersion | None:
    return session.scalar(select(RuleSetVersion).order_by(RuleSetVersion.id.desc()).limit(1))


def current(session: Session) -> RuleSet:
    """The rule set in force: the latest activated version (cached until a newer one appears)."""
    latest = session.scalar(select(func.max(RuleSetVersion.id)))
    holder = _holder()
    if holder.get("id") != latest or "ruleset" not in holder:
        if latest is None:  # before the first activation: the shipped files
            ruleset = load_texts(read_dir(current_app.config["RULES_DIR"]))
        else:
            ruleset = load_texts(session.get(RuleSetVersion, latest).files, version=latest)
        holder.update(id=latest, ruleset=ruleset)
    return holder["ruleset"]


def current_texts(session: Session) -> dict[str, str]:
    row = latest_version(session)
    return dict(row.files) if row else read_dir(current_app.config["RULES_DIR"])


@transactional
def activate(session: Session, texts: dict[str, str], *, by: str, note: str | None = None
             ) -> RuleSetVersion | None:
    """Validate the whole set and make it the rules in force; RuleSetInvalid leaves them as they are.

    Returns the new version, or None when nothing changed."""
    ruleset = load_texts(texts)
    before = latest_version(session)
    if before is not None and before.digest == ruleset.digest:
        return None
    old = dict(before.files) if before else {}
    changed = sorted(n for n in set(old) | set(texts) if old.get(n) != texts.get(n))
    row = RuleSetVersion(created_by=by, note=note, digest=ruleset.digest, files=dict(texts),
                         changed=changed)
    session.add(row)
    return row


def activate_dir(session: Session, directory: str | Path, *, by: str, note: str | None = None):
    return activate(session, read_dir(directory), by=by, note=note)


def diff(old: str, new: str, name: str) -> str:
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        f"{name} (in force)", f"{name} (new)"))


def editable_file(node_code: str) -> str:
    """The file a bureau's administrator edits: named by the node's code."""
    if level_of_code(node_code) is None:
        raise ValueError(f"{node_code} is not a division code")
    return f"{node_code}.yaml"


# -- gathering facts and gating -------------------------------------------------------------

def codes_of(school) -> tuple[str, ...]:
    """The division codes above a school (or a bureau): province, city, county."""
    return tuple(c for c in (school.province_code, school.city_code, school.county_code) if c)


def effective_for(session: Session, school) -> Effective:
    """The policy in force for a school (or a bureau): every level's rules merged, each with its source."""
    return current(session).effective(*codes_of(school))


def violation_problems(decision: Decision) -> list[Problem]:
    """Every rule that refuses a decision, as the problems a page or a 422 shows (with file:line)."""
    return [Problem(v.message, v.field, v.code, v.source) for v in decision.violations]


def seated(session: Session, class_id: int, *, lock: bool = True) -> int:
    """Students occupying seats in a class; locks the class row so the last seat goes once."""
    if lock:
        session.execute(select(SchoolClass.id).where(SchoolClass.id == class_id).with_for_update())
    return session.scalar(select(func.count()).select_from(Student).where(
        Student.class_id == class_id, Student.status.in_(SEATED))) or 0


def decide(session: Session, facts: Facts) -> Decision:
    return evaluate(current(session), facts)


def require(session: Session, facts: Facts) -> Decision:
    """The decision, or RuleViolation naming every rule (with its file:line) that refuses it."""
    decision = decide(session, facts)
    if not decision.allowed:
        raise RuleViolation(violation_problems(decision))
    return decision


def facts(action: str, at: datetime, school, **kw) -> Facts:
    return Facts(action=action, at=at, codes=codes_of(school), **kw)
