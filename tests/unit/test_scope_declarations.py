"""Scope is declared once per model: every table that names a school, a jurisdiction or a student
declares its ``__scope__``, and every declaration leads somewhere real at every level."""

from __future__ import annotations

import pytest
from flask_appbuilder import Model
from sqlalchemy import Column, Integer
from sqlalchemy.orm import registry

import app.models as models
from app.models.scope import AnyOf, Via
from app.security.scoping import Scope, Unscoped, declared_path, scopable

# a column with one of these names, or ending with "_" + one of them, ties a row to a place
TIES = ("school_id", "jurisdiction_id", "student_id", "province_code", "province")
# tables that name a place and yet are not scoped, each with its reason (none today)
EXEMPT: dict[str, str] = {}
LEVELS = [Scope("province", "430000"), Scope("city", "430100"), Scope("county", "430102"),
          Scope("school", school_id=1)]


def _ties(column: str) -> bool:
    return any(column == tie or column.endswith("_" + tie) for tie in TIES)


def undeclared(mappers) -> list[str]:
    """Mapped classes whose columns tie them to a place but that declare no scope."""
    return sorted(m.class_.__name__ for m in mappers
                  if any(_ties(c.key) for c in m.columns) and not scopable(m.class_)
                  and m.class_.__name__ not in EXEMPT)


def _scoped_models() -> list[type]:
    return sorted((m.class_ for m in Model.registry.mappers if scopable(m.class_)), key=lambda c: c.__name__)


def test_every_table_tied_to_a_place_declares_its_scope():
    assert undeclared(Model.registry.mappers) == []


def test_the_check_finds_a_new_table_that_forgot():
    """Control: a table with a school_id and no declaration is named."""
    local = registry()

    @local.mapped
    class Graduation:
        __tablename__ = "graduation"
        id = Column(Integer, primary_key=True)
        school_id = Column(Integer)

    assert undeclared(local.mappers) == ["Graduation"]


@pytest.mark.parametrize("model", _scoped_models(), ids=lambda m: m.__name__)
def test_every_declaration_resolves_at_every_level(model):
    for scope in LEVELS:
        scope.clause(model).compile()  # every column it names exists
    paths = declared_path(model).paths if isinstance(declared_path(model), AnyOf) else [declared_path(model)]
    for via in (p for p in paths if isinstance(p, Via)):
        target = getattr(models, via.model)
        assert scopable(target) and hasattr(target, via.key), (model.__name__, via)


def test_an_unscoped_model_says_so():
    assert not scopable(models.CodeItem)
    for scope in [*LEVELS, Scope("none"), Scope("system")]:
        with pytest.raises(Unscoped):
            scope.clause(models.CodeItem)


def test_the_models_the_pages_scope_are_all_declared():
    names = {m.__name__ for m in _scoped_models()}
    assert {"Student", "FamilyMember", "RegistryNumber", "Request", "ProblemCase", "ProblemMember",
            "ImportJob", "ExportLog", "AuditEvent", "PersonalDataAccess", "XuejiUser", "Jurisdiction",
            "School", "Grade", "SchoolClass"} <= names
