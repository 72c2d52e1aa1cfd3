"""Separation of duties (三权分立) in the role table: what moved from the system administrator to
the security administrator and the auditor, and which mixes of duties are forbidden."""

from __future__ import annotations

import pytest

from app.security.duties import (
    LOG_RESOURCES,
    admin_duties,
    catalogue,
    duty_problems,
    grants_of,
    mixes_functions,
)
from app.security.roles import LEVELS, MATRIX, ROLES, RoleSpec, allowed, permissions_for

ADMINISTRATIVE = ("sysadmin", "secadmin", "auditor")


@pytest.mark.parametrize("level", LEVELS)
def test_the_auditor_reads_every_log_and_changes_nothing(level):
    auditor = ROLES[f"{level}_auditor"]
    assert all(allowed(auditor, log, "read") for log in LOG_RESOURCES)
    assert {verb for _, verb in grants_of([auditor])} == {"read"}
    # the logs, and the security policy in force (安全策略), which the auditor checks
    assert {view for _, view in permissions_for(auditor)} == {*LOG_RESOURCES, "SecurityPolicy"}


@pytest.mark.parametrize("level", LEVELS)
def test_system_administrators_lost_unlock_and_the_logs_to_the_other_two(level):
    sysadmin, secadmin = ROLES[f"{level}_sysadmin"], ROLES[f"{level}_secadmin"]
    assert not any(allowed(sysadmin, log, "read") for log in LOG_RESOURCES)
    assert not allowed(sysadmin, "Account", "unlock") and allowed(secadmin, "Account", "unlock")
    assert allowed(sysadmin, "Account", "add") and not allowed(secadmin, "Account", "add")
    assert allowed(secadmin, "AccountApproval", "decide") and not allowed(sysadmin, "AccountApproval", "decide")
    assert allowed(secadmin, "CustomRole", "add") and not allowed(sysadmin, "CustomRole", "add")


@pytest.mark.parametrize("name", sorted(n for n, r in ROLES.items() if r.function in ADMINISTRATIVE))
def test_no_administrative_role_reaches_students_or_mixes_duties(name):
    grants = grants_of([ROLES[name]])
    assert not {resource for resource, _ in grants} & {"Student", "FamilyMember", "RegistryNumber"}
    assert duty_problems(grants) == []


def test_student_access_with_account_administration_is_refused_with_the_reason():
    [reason] = duty_problems({("Student", "read"), ("Account", "add")})
    assert "账号管理" in reason or "account administration" in reason
    assert duty_problems({("Student", "read"), ("Report", "read")}) == []


def test_reading_the_logs_with_anything_that_writes_is_refused_with_the_reason():
    [reason] = duty_problems({("AuditEvent", "read"), ("School", "edit")})
    assert "审计日志" in reason or "audit logs" in reason
    assert duty_problems({("AuditEvent", "read"), ("School", "read")}) == []


def test_an_administrative_function_stands_alone_on_an_account():
    assert mixes_functions([ROLES["county_secadmin"], ROLES["county_registrar"]])
    assert mixes_functions([ROLES["county_auditor"], ROLES["county_sysadmin"]])
    assert not mixes_functions([ROLES["county_registrar"], ROLES["county_supervisor"]])
    assert not mixes_functions([ROLES["county_auditor"]])


def test_a_custom_role_may_exactly_what_it_was_composed_of():
    inspector = RoleSpec("custom_inspector", "county", "custom",
                         grants=frozenset({("Student", "read"), ("Report", "read")}), custom_label="督查员")
    assert allowed(inspector, "Student", "read") and allowed(inspector, "Report", "read")
    assert not allowed(inspector, "Student", "edit") and not allowed(inspector, "Request", "read")
    assert ("can_list", "Student") in permissions_for(inspector)
    assert ("can_edit", "Student") not in permissions_for(inspector)
    assert inspector.label == "县级督查员"


def test_the_catalogue_is_the_role_tables_resources_and_verbs():
    assert set(catalogue()) == {(r, v) for r, verbs in MATRIX.items() for v in verbs}


@pytest.mark.parametrize("grants", [
    {("Account", "add"), ("AccountApproval", "decide")},  # system administrator + security administrator
    {("Account", "add"), ("Request", "add")},  # an administrator's duty + registry work
    {("CustomRole", "add"), ("Report", "read")},
])
def test_a_set_of_grants_spanning_duties_is_refused(grants):
    assert duty_problems(grants)


@pytest.mark.parametrize("grants", [
    {("Student", "read"), ("Report", "read")},  # a read-only inspector
    {("SecurityPolicy", "edit")},
    {("School", "add"), ("Account", "add")},  # one administrator's duties
])
def test_one_duty_alone_is_allowed(grants):
    assert duty_problems(grants) == []


def test_each_built_in_administrator_role_holds_one_duty():
    for role in ROLES.values():
        duties = admin_duties(grants_of([role]))
        assert duties <= {role.function}, role.name
