"""Xueji command line: `python run.py --help`.

    python run.py demo            initialise, seed the demo on first run, serve on 127.0.0.1:5000
    python run.py init            create or upgrade the schema, roles and code tables
    python run.py seed --demo     load the demo province
    python run.py serve           serve the application
"""

from __future__ import annotations

from flask.cli import FlaskGroup

from app import create_app


def _create_app():
    return create_app()


class XuejiGroup(FlaskGroup):
    """Flask's group, without plugin commands that would bypass Xueji's roles (fab create-admin)."""

    HIDDEN = {"fab", "limiter"}

    def list_commands(self, ctx):
        return [c for c in super().list_commands(ctx) if c not in self.HIDDEN]

    def get_command(self, ctx, name):
        return None if name in self.HIDDEN else super().get_command(ctx, name)


# the commands themselves are registered on the app (app/cli.py), so tests reach them too
cli = XuejiGroup(create_app=_create_app, add_default_commands=False,
                 help="Xueji (学籍) student registry")


if __name__ == "__main__":
    cli()
