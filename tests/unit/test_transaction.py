"""The transaction rule: commit on success, roll back on error, the outermost block decides."""

from __future__ import annotations

import pytest

from app.services.common.transaction import transaction, transactional


class FakeSession:
    def __init__(self):
        self.info, self.log = {}, []

    def commit(self):
        self.log.append("commit")

    def rollback(self):
        self.log.append("rollback")


def test_a_use_case_commits_when_it_succeeds():
    session = FakeSession()
    with transaction(session):
        pass
    assert session.log == ["commit"]


def test_a_use_case_rolls_back_and_reraises_when_it_fails():
    session = FakeSession()
    with pytest.raises(ValueError), transaction(session):
        raise ValueError("refused")
    assert session.log == ["rollback"]


def test_a_nested_use_case_joins_the_outer_transaction():
    session = FakeSession()

    @transactional
    def inner(s):
        return "done"

    with transaction(session):
        assert inner(session) == "done"
        assert session.log == []
    assert session.log == ["commit"]
    with pytest.raises(KeyError), transaction(session):
        inner(session)
        raise KeyError("late")
    assert session.log == ["commit", "rollback"] and session.info["xueji_transaction_depth"] == 0
