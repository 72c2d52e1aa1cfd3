"""One TOTP code sent to two app processes at once is accepted by one of them: the account's row
is locked while its last used step is read and moved (real concurrent sessions, PostgreSQL)."""

from __future__ import annotations

import time

import pytest
from conftest import is_postgres
from factories import account
from sqlalchemy import select
from test_concurrency import race
from test_identity_controls import enrol

from app.extensions import db
from app.models import XuejiUser
from app.security import totp
from app.services.common.transaction import transaction

pytestmark = pytest.mark.skipif(not is_postgres(), reason="row locks are tested on PostgreSQL")


def test_one_code_sent_twice_at_once_signs_in_once(app, ctx):
    account("totp_race_probe", "school_registrar", school_code="4301020001")
    user = db.session.scalar(select(XuejiUser).where(XuejiUser.username == "totp_race_probe"))
    otp = enrol(app, user, offset=-1)
    code = otp.at(time.time())

    def verify(_i):
        with transaction(db.session):
            return totp.verify(db.session, db.session.get(XuejiUser, user.id), code)

    results = race(app, verify, 4)
    assert sorted(r[1] for r in results) == [False, False, False, True], results
