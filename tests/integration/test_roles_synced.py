"""The role table as FAB holds it after `init`: what sync_roles wrote into the ab_* tables."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import XuejiUser
from app.security.roles import BUREAU_LEVELS, ROLES

PERSONAL_VIEWS = {"Student", "FamilyMember"}


def granted(app, role: str) -> set[tuple[str, str]]:
    found = app.appbuilder.sm.find_role(role)
    assert found is not None, f"role {role} was not synchronised"
    return {(pv.permission.name, pv.view_menu.name) for pv in found.permissions}


@pytest.mark.parametrize("role", sorted(n for n, r in ROLES.items()
                                        if r.function in ("sysadmin", "secadmin", "auditor")))
def test_system_administrators_hold_no_permission_on_student_views(ctx, role):
    pairs = granted(ctx, role)
    assert pairs, "a system administrator should hold some permissions"
    assert not {v for _, v in pairs} & PERSONAL_VIEWS


@pytest.mark.parametrize("level", BUREAU_LEVELS)
def test_bureau_registrars_hold_the_registration_approval_action_fab_created(ctx, level):
    assert ("can_approve_registration", "Student") in granted(ctx, f"{level}_registrar")


def test_only_the_school_registrar_may_add_students_through_fab(ctx):
    adders = {name for name in ROLES if ("can_add", "Student") in granted(ctx, name)}
    assert adders == {"school_registrar"}


def test_no_demo_account_holds_fab_admin_role(session):
    users = session.scalars(select(XuejiUser)).all()
    assert len(users) >= 20
    assert all(role.name in ROLES or role.name.startswith("custom_") for user in users for role in user.roles)
