"""Jurisdiction scoping: every account sees its own node and everything below it, nothing else.

One ``Scope`` per account; ``clause(model)`` turns it into a WHERE condition by following the path
the model declares as ``__scope__`` (``app.models.scope``): the clear-text chain columns
(province_code / city_code / county_code / school_id) it carries, or another scoped row it hangs on.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import g, has_request_context
from flask_appbuilder.models.filters import BaseFilter
from sqlalchemy import false, or_, select, true
from sqlalchemy.orm import object_session
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.expression import False_

from .. import models
from ..extensions import db
from ..models import Jurisdiction, School
from ..models.scope import AnyOf, Chain, ScopePath, Via
from .custom_roles import specs_for
from .roles import LEVELS, RoleSpec


class Unscoped(TypeError):
    """A model that declares no ``__scope__`` was asked for its scope."""


def declared_path(model) -> ScopePath:
    """The path ``model`` declares to its school or jurisdiction; Unscoped if it declares none."""
    path = getattr(model, "__scope__", None)
    if path is None:
        raise Unscoped(f"{getattr(model, '__name__', model)!s} declares no __scope__: it is not scoped")
    return path


@dataclass(frozen=True)
class Scope:
    """Where an account sits: level, jurisdiction code (bureaus) or school id (schools)."""

    level: str  # province / city / county / school / none / system (maintenance commands)
    code: str | None = None
    school_id: int | None = None

    @property
    def depth(self) -> int:
        """0 for a province, 1 a city, 2 a county, 3 a school; -1 for none and system."""
        return LEVELS.index(self.level) if self.level in LEVELS else -1

    def clause(self, model) -> ColumnElement[bool]:
        """WHERE condition restricting ``model`` rows to this scope (Unscoped if it has no scope)."""
        path = declared_path(model)
        if self.level == "none":
            return false()
        if self.level == "system":
            return true()
        return self._follow(model, path)

    def _follow(self, model, path: ScopePath) -> ColumnElement[bool]:
        if isinstance(path, AnyOf):
            return or_(*(self._follow(model, p) for p in path.paths))
        if isinstance(path, Via):
            return self._via(model, path)
        return self._chain(model, path)

    def _chain(self, model, chain: Chain) -> ColumnElement[bool]:
        """The row's own chain: its school at school level, its level's code column above."""
        if self.level == "school":
            return false() if chain.school is None else getattr(model, chain.school) == self.school_id
        return getattr(model, chain.column(self.level)) == self.code

    def _via(self, model, via: Via) -> ColumnElement[bool]:
        """The row's column among the keys of the rows of ``via.model`` in scope."""
        column, target = getattr(model, via.column), getattr(models, via.model)
        if target is School and self.level == "school":
            return column == self.school_id  # a school's own rows name it: no subquery
        inner = self.clause(target)
        if isinstance(inner, False_):
            return false()  # nothing of the target in scope (the jurisdictions, for a school)
        return column.in_(select(getattr(target, via.key)).where(inner))

    def contains_school(self, school: School) -> bool:
        """Whether ``school`` is in this scope."""
        if self.level == "system":
            return True
        if self.level == "school":
            return school.id == self.school_id
        if self.level == "none":
            return False
        return getattr(school, f"{self.level}_code") == self.code

    def contains_jurisdiction(self, node: Jurisdiction, *, strictly: bool = False) -> bool:
        """Whether ``node`` is in this scope (below it, when ``strictly``)."""
        if self.level == "system":
            return True
        if self.level in ("none", "school"):
            return False
        inside = getattr(node, f"{self.level}_code") == self.code
        return inside and not (strictly and node.code == self.code)


NO_SCOPE = Scope("none")


def scopable(model) -> bool:
    """Whether rows of ``model`` belong to a jurisdiction (it declares ``__scope__``), so are filtered."""
    return getattr(model, "__scope__", None) is not None


def account_roles(user) -> list[RoleSpec]:
    """The account's roles this application knows: built-in, and custom roles in force."""
    names = [r.name for r in getattr(user, "roles", []) or []]
    found = specs_for(object_session(user) or db.session, names)
    return [found[n] for n in names if n in found]


def scope_of(user) -> Scope:
    """The scope of an account, from the node it is bound to."""
    if user is None or not getattr(user, "is_authenticated", False):
        return NO_SCOPE
    if getattr(user, "school_id", None):
        return Scope("school", school_id=user.school_id)
    node = getattr(user, "jurisdiction", None)
    if node is not None:
        return Scope(node.level, code=node.code)
    return NO_SCOPE


def current_user_obj():
    """The signed-in account of the request, None outside one."""
    if has_request_context():
        return getattr(g, "user", None)
    return None


def current_scope() -> Scope:
    """The scope of the signed-in account."""
    return scope_of(current_user_obj())


class InScope(BaseFilter):
    """FAB base filter: restricts a view, an API, a select box or a search to the account's scope."""

    name = "In scope"
    arg_name = "inscope"

    def apply(self, query, value):
        """The query restricted to the account's scope."""
        return query.filter(current_scope().clause(self.model))


SCOPED = [["id", InScope, None]]
