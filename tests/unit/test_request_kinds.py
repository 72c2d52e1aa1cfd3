"""The request kinds, declared once, agree with the engine's own vocabulary, and every set the
workflow, the pages and the API use is read from their declarations."""

from __future__ import annotations

import pytest

from app.policy import engine
from app.policy.vocab import ACTIONS, STUDENT_STATUSES
from app.services.requests import kinds

# engine actions done without a request (a direct edit, a bulk job, a campaign), each on purpose:
# a new engine action is either declared as a kind or added here
NOT_REQUESTS = {"edit_field", "complete", "promote", "enroll",
                "delete_record", "assign_class", "verify_data", "enter_corrections",
                "plan_enrollment", "change_enrollment_plan"}


def test_every_request_kind_is_an_engine_action_with_the_same_label():
    assert {name: kind.label for name, kind in kinds.KINDS.items()} == {
        name: ACTIONS[name][0] for name in kinds.KINDS if name in ACTIONS}
    assert set(kinds.KINDS) <= set(ACTIONS)


def test_every_engine_action_that_is_a_request_kind_is_declared():
    assert set(ACTIONS) - NOT_REQUESTS == set(kinds.KINDS)
    assert not NOT_REQUESTS & set(kinds.KINDS)


def test_a_kind_is_exclusive_exactly_when_the_engine_refuses_it_during_other_business():
    assert {n for n, k in kinds.KINDS.items() if k.exclusive} == set(kinds.KINDS) & engine.EXCLUSIVE


@pytest.mark.parametrize("kind", kinds.KINDS.values(), ids=lambda k: k.name)
def test_a_declaration_names_known_statuses_and_page_fields(kind):
    assert kind.status_after is None or kind.status_after in STUDENT_STATUSES
    assert set(kind.asks) <= set(kinds.FIELDS)
    assert not kind.needs_class or "target_class" in kind.asks
    assert kind.label == kinds.label(kind.name)


def test_the_derived_sets_are_the_ones_the_workflow_and_the_pages_used_to_list():
    assert kinds.REGISTRATIONS == ("register_new", "register_in_school", "register_returnee")
    assert kinds.OWN_STUDENT == ("change_field", "suspend", "resume", "repeat", "skip", "dropout",
                                 "withdraw", "expel", "abroad", "death",
                                 "revoke_graduation")
    assert set(kinds.STARTABLE) == set(kinds.OWN_STUDENT) | {"transfer", "enroll_cross_province"}
    assert {n: k.status_after for n, k in kinds.KINDS.items() if k.status_after} == {
        "suspend": "suspended", "dropout": "dropout", "withdraw": "left_other",
        "expel": "left_other", "abroad": "abroad", "death": "deceased", "resume": "in_school",
        "graduate": "graduated", "revoke_graduation": "in_school",
        "enroll_cross_province": "in_school"}
    assert {n for n, k in kinds.KINDS.items() if k.needs_class} == {"transfer", "skip",
                                                                   "enroll_cross_province"}
    assert {n for n, k in kinds.KINDS.items() if k.by_registry_no} == {"enroll_cross_province"}
    assert not any(kinds.get(n).cancellable for n in kinds.REGISTRATIONS)


def test_a_kind_no_school_may_start_is_refused_naming_the_kind():
    from app.errors import ValidationFailed

    for name in ("register_new", "graduate", "nonsense"):
        with pytest.raises(ValidationFailed) as caught:
            kinds.startable(name)
        assert caught.value.problems[0].field == "kind"
    assert kinds.startable("transfer").from_other_school
