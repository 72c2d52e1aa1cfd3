"""What every page and REST resource needs: who acts, the business time, the data interface, the
scoped related-row pickers, a scoped row or 404, and downloads."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from flask import Response, abort, g

from .. import clock
from ..errors import NotFound
from ..extensions import db
from ..security.scoping import SCOPED, scopable
from ..services.common.actors import Actor
from .data import XuejiInterface


def actor() -> Actor:
    """The signed-in account as the services see it."""
    return Actor.of(getattr(g, "user", None))


def now() -> datetime:
    """The business time (``app.clock.now``: local time, or the pinned XUEJI_FIXED_NOW)."""
    return clock.now()


def interface(model) -> XuejiInterface:
    """The data interface of a page's or resource's model."""
    return XuejiInterface(model, db.session)


def scoped_relations(datamodel) -> dict:
    """Every related-row picker of a form or body, limited to the jurisdiction."""
    return {c: SCOPED for c in datamodel.get_columns_list()
            if datamodel.is_relation(c) and scopable(datamodel.get_related_model(c))}


def find_or_404(model, *criteria):
    """The one ``model`` row matching ``criteria`` inside the account's jurisdiction, else 404
    (never 403: another jurisdiction's rows are not there)."""
    try:
        return actor().find(db.session, model, "", *criteria)
    except NotFound:
        abort(404)


def fetch_or_404(model, pk):
    """The ``model`` row ``pk`` inside the account's jurisdiction, else 404."""
    return find_or_404(model, model.id == pk)


def attachment(body, name: str, mime: str, **headers) -> Response:
    """A download under its (Chinese) file name, never cached: the bodies are personal data."""
    return Response(body, mimetype=mime, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}", "Cache-Control": "no-store",
        **headers})
