"""Xueji (学籍): the student registry.

The factory lives in ``app.factory``; importing ``app`` alone pulls in no web or database package,
so the pure parts (``app.policy``, ``app.fields``) stay pure.
"""

from __future__ import annotations


def create_app(config_object=None, **overrides):
    """Build the Flask application (see ``app.factory.create_app``)."""
    from .factory import create_app as build

    return build(config_object, **overrides)
