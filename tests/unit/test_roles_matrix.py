"""The role table: 5 functions x 4 levels, who may touch student records, FAB permission names."""

from __future__ import annotations

import pytest

from app.security.roles import (
    FUNCTIONS,
    LEVELS,
    MATRIX,
    ROLES,
    VERB_PERMISSIONS,
    allowed,
    permissions_for,
    role_spec,
)

PERSONAL_RESOURCES = ("Student", "FamilyMember")
ALL_ROLES = sorted(ROLES)
SYSADMINS = [name for name in ALL_ROLES if ROLES[name].function == "sysadmin"]
ADMINISTRATORS = [name for name in ALL_ROLES if ROLES[name].function in ("sysadmin", "secadmin", "auditor")]


def test_there_are_twenty_roles_one_per_function_and_level():
    assert len(ROLES) == 20
    assert {(r.function, r.level) for r in ROLES.values()} == {
        (f, lv) for f in ("registrar", "supervisor", "sysadmin", "secadmin", "auditor")
        for lv in ("province", "city", "county", "school")
    }
    assert set(FUNCTIONS) == {"registrar", "supervisor", "sysadmin", "secadmin", "auditor"}
    assert set(LEVELS) == {"province", "city", "county", "school"}


@pytest.mark.parametrize("name", ALL_ROLES)
def test_role_names_are_level_underscore_function(name):
    spec = role_spec(name)
    assert spec is not None and name == f"{spec.level}_{spec.function}"
    assert spec.label and spec.label_en


def test_unknown_role_name_has_no_spec():
    assert role_spec("Admin") is None


@pytest.mark.parametrize("name", ADMINISTRATORS)
def test_system_administrators_hold_no_permission_on_student_personal_data(name):
    spec = ROLES[name]
    held = {view for _, view in permissions_for(spec)}
    assert not held & set(PERSONAL_RESOURCES)
    for resource in PERSONAL_RESOURCES:
        for verb in ("read", "add", "edit", "delete", "personal_data", "issue_number"):
            assert not allowed(spec, resource, verb)


@pytest.mark.parametrize("name", ALL_ROLES)
@pytest.mark.parametrize("verb", ["add", "edit", "delete"])
@pytest.mark.parametrize("resource", PERSONAL_RESOURCES)
def test_only_school_registrars_write_student_records(name, verb, resource):
    spec = ROLES[name]
    expected = name == "school_registrar"
    assert allowed(spec, resource, verb) is expected
    fab = set(VERB_PERMISSIONS[verb])
    assert bool({p for p, v in permissions_for(spec) if v == resource} & fab) is expected


@pytest.mark.parametrize("name", ALL_ROLES)
def test_registrars_and_supervisors_may_approve_registrations_system_administrators_not(name):
    # formal numbers come only from an approved registration review; which step an account may
    # approve is decided by the request's chain, not by this matrix
    spec = ROLES[name]
    expected = spec.function in ("registrar", "supervisor")
    assert allowed(spec, "Student", "approve_registration") is expected
    assert not allowed(spec, "Student", "issue_number")
    assert (("can_approve_registration", "Student") in permissions_for(spec)) is expected


@pytest.mark.parametrize("name", ALL_ROLES)
def test_supervisors_and_registrars_read_students_and_system_administrators_do_not(name):
    spec = ROLES[name]
    assert allowed(spec, "Student", "read") is (spec.function in ("registrar", "supervisor"))


def test_school_registrar_permissions_are_fab_permission_names():
    pairs = permissions_for(ROLES["school_registrar"])
    student = {p for p, v in pairs if v == "Student"}
    assert {"can_list", "can_show", "can_get", "can_info", "can_add", "can_post", "can_edit",
            "can_put", "can_delete"} <= student
    assert "can_approve_registration" in student  # the chain decides which step is whose
    assert all(p.startswith("can_") for p, _ in pairs)
    # verbs never leak into FAB as themselves
    assert not {p for p, _ in pairs} & {"read", "add", "edit", "delete", "issue_number"}


def test_county_registrar_reads_and_approves_registrations_but_cannot_add():
    student = {p for p, v in permissions_for(ROLES["county_registrar"]) if v == "Student"}
    assert {"can_list", "can_show", "can_get", "can_approve_registration"} <= student
    assert not student & {"can_add", "can_post", "can_edit", "can_put", "can_delete"}


@pytest.mark.parametrize("name", SYSADMINS)
def test_system_administrators_manage_accounts(name):
    pairs = permissions_for(ROLES[name])
    assert {("can_list", "Account"), ("can_add", "Account"), ("can_edit", "Account")} <= pairs


def test_every_resource_and_verb_of_the_matrix_has_words_for_the_roles_page():
    """/roles/show/<id> words every permission a role holds: a resource or verb without words
    would be a 500 there."""
    from app.views.display import RESOURCE_WORDS, VERB_WORDS

    assert set(MATRIX) <= set(RESOURCE_WORDS)
    assert {verb for verbs in MATRIX.values() for verb in verbs} <= set(VERB_WORDS)
