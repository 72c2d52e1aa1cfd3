"""While `keys rotate` moves the blind indexes to another profile, a search by ID answers 503 with
the reason (never a 500, never a silent miss); a page without look-ups still works; the answer
follows the database's state at the next request."""

from __future__ import annotations

import contextlib

from factories import student_in
from sqlalchemy import update

from app.extensions import db
from app.models import CryptoState


@contextlib.contextmanager
def state(**values):
    """The crypto state set as `keys rotate` would, and put back afterwards."""
    before = db.session.get(CryptoState, 1)
    kept = (before.blind_profile, before.rotating)
    db.session.execute(update(CryptoState).where(CryptoState.id == 1).values(**values))
    db.session.commit()
    try:
        yield
    finally:
        db.session.execute(update(CryptoState).where(CryptoState.id == 1)
                           .values(blind_profile=kept[0], rotating=kept[1]))
        db.session.commit()


def _search(api, headers, id_number: str):
    q = f"(columns:!(id),filters:!((col:id_blind,opr:exact,value:'{id_number}')))"
    return api.get("/api/v1/student/", query_string={"q": q}, headers=headers)


def test_a_search_by_id_waits_for_the_rotation_with_the_reason(ctx, api, token_for, client_for):
    headers = token_for("county_registrar")
    number = student_in("430102").id_number
    assert _search(api, headers, number).get_json()["ids"]
    with state(rotating=True):
        r = _search(api, headers, number)
        assert r.status_code == 503 and "keys rotate" in str(r.get_json()), r.get_json()
        page = client_for("county_registrar")
        assert page.get("/").status_code == 200  # no look-up: it works
        answer = page.get(f"/students/list/?_flt_0_id_blind={number}")
        assert answer.status_code == 503 and "keys rotate".encode() in answer.data
    with state(blind_profile="sm"):
        r = _search(api, headers, number)
        assert r.status_code == 503 and "standard" in str(r.get_json())
    assert _search(api, headers, number).get_json()["ids"]
