"""What the command groups share: acting as an account (``--as``), and attaching the commands
that other modules keep for a group -- apart from every group, so no group imports another."""

from __future__ import annotations

import importlib

import click
from sqlalchemy import select

from .extensions import db


def acting_as(username: str | None):
    """The named account as the services see it (its own node and below); without --as, the
    system, which reads every node."""
    from .models import XuejiUser
    from .services.common.actors import Actor

    if not username:
        return Actor.system("cli")
    user = db.session.scalar(select(XuejiUser).where(XuejiUser.username == username))
    if user is None:
        raise click.ClickException(f"no account {username}")
    return Actor.of(user)


def attach_modules(group: click.Group, *names: str) -> click.Group:
    """Add the commands the modules ``names`` keep for ``group`` (each has ``attach(group)``)."""
    for name in names:
        importlib.import_module(name).attach(group)
    return group
