"""Custom roles as the role table sees them: a RoleSpec carrying its own grants."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import CustomRole
from .roles import RoleSpec

PREFIX = "custom_"


def spec_of(row: CustomRole) -> RoleSpec:
    """The role of a custom-role row: its level, its label, exactly its grants."""
    grants = frozenset(tuple(g.split(".", 1)) for g in row.grants)
    return RoleSpec(row.name, row.level, "custom", grants=grants, custom_label=row.label)


def specs_for(session: Session, names: Iterable[str]) -> dict[str, RoleSpec]:
    """The roles of ``names`` this application knows, by name: built-in, and custom roles in force
    (one query, only when a name is not built-in); a name that is neither is left out."""
    from .roles import ROLES

    names = list(names)
    custom = [n for n in names if n not in ROLES]
    return {**(active_specs(session, custom) if custom else {}), **{n: ROLES[n] for n in names if n in ROLES}}


def active_specs(session: Session, names: Iterable[str] | None = None) -> dict[str, RoleSpec]:
    """The custom roles in force (not retired), by name; only ``names`` when given."""
    query = select(CustomRole).where(CustomRole.retired_at.is_(None))
    if names is not None:
        query = query.where(CustomRole.name.in_(list(names)))
    return {row.name: spec_of(row) for row in session.scalars(query)}
