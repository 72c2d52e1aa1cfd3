"""Xueji command line: `python run.py --help`.

    python run.py demo            initialise, seed the demo on first run, serve on 127.0.0.1:5000
    python run.py init            create or upgrade the schema, roles and code tables
    python run.py seed --demo     load the demo province
    python run.py serve           serve the application
"""

from __future__ import annotations

import click
from flask.cli import ScriptInfo
from flask_migrate.cli import db as db_group

from app import create_app
from app.cli import COMMANDS


@click.group(name="run.py", commands=[*COMMANDS, db_group],
             help="Xueji (学籍) student registry.  `python run.py COMMAND --help` explains a command.")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Xueji's commands and nothing else: no Flask options (--app, --env-file, --debug) and no
    generic or plugin commands (run, shell, fab create-admin, which would bypass Xueji's roles)."""
    # the command runs inside the app's context (a test may hand in its own app as ScriptInfo)
    app = ctx.obj.load_app() if isinstance(ctx.obj, ScriptInfo) else create_app()
    ctx.with_resource(app.app_context())


if __name__ == "__main__":
    cli()
