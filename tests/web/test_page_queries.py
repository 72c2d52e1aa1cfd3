"""Pages cost a fixed number of SQL statements, whatever the rows they show or the students in
scope: no query per row (N+1), no search box listing every student, one read of the grants."""

from __future__ import annotations

import pytest
from flask_appbuilder import ModelView
from sqlalchemy import event

from app.extensions import db
from app.models import Student

# list pages whose rows show a related record (the student, the school, the class, the roles)
LISTS = [("/students/list/", "StudentView", "prov_registrar"),
         ("/family/list/", "FamilyMemberView", "prov_registrar"),
         ("/registry-numbers/list/", "RegistryNumberView", "prov_registrar"),
         ("/classes/list/", "SchoolClassView", "prov_registrar"),
         ("/grades/list/", "GradeView", "prov_registrar"),
         ("/schools/list/", "SchoolView", "prov_registrar"),
         ("/users/list/", "AccountView", "prov_admin")]


class Statements:
    """The statements sent while it is open, as (count, texts)."""

    def __enter__(self):
        self.texts: list[str] = []
        event.listen(db.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(db.engine, "before_cursor_execute", self._seen)

    def _seen(self, conn, cursor, statement, *args) -> None:
        self.texts.append(statement)


def _statements(client, url: str) -> list[str]:
    client.get(url)  # warm: the first request of a client reads more (session, caches)
    with Statements() as seen:
        assert client.get(url).status_code == 200
    return seen.texts


@pytest.mark.parametrize("url,view,username", LISTS)
def test_a_list_page_sends_as_many_statements_for_twenty_rows_as_for_two(ctx, client_for, url, view,
                                                                         username):
    client = client_for(username)
    few = _statements(client, f"{url}?psize_{view}=2")
    many = _statements(client, f"{url}?psize_{view}=20")
    assert len(many) == len(few), [s[:120] for s in many]


def test_no_search_box_lists_every_student(app):
    offenders = []  # a page's search form offers a relation as a select of its rows
    for view in (v for v in app.appbuilder.baseviews if isinstance(v, ModelView)):
        for column in view.search_columns or []:
            if view.datamodel.is_relation(column) and view.datamodel.get_related_model(column) is Student:
                offenders.append(f"{type(view).__name__}.{column}")
    assert offenders == []


@pytest.mark.parametrize("url", ["/students/list/", "/requests/list/", "/inbox/", "/policy/"])
def test_a_page_reads_the_accounts_grants_once(ctx, client_for, url):
    texts = _statements(client_for("county_registrar"), url)
    grants = [s for s in texts if "ab_permission_view_role" in s]
    assert len(grants) <= 2, len(grants)  # the menu's one, and every button's and link's one
