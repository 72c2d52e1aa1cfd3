"""Web glue shared by the admin pages (``app.views``) and the REST resources (``app.api``), which
never import each other; and the one place both are registered on the AppBuilder."""

from __future__ import annotations


def register(appbuilder) -> None:
    """Every admin page in its menu, then every REST resource."""
    from ..api import register_apis
    from ..views import register_views

    register_views(appbuilder)
    register_apis(appbuilder)
