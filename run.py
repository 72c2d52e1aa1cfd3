"""Xueji command line: `python run.py --help`.

    python run.py demo            initialise, seed the demo on first run, serve on 127.0.0.1:5000
    python run.py init            create or upgrade the schema, roles and code tables
    python run.py seed --demo     load the demo province
    python run.py serve           serve the application
"""

from __future__ import annotations

from flask.cli import FlaskGroup

from app import create_app
from app.cli import COMMANDS


def _create_app():
    return create_app()


cli = FlaskGroup(create_app=_create_app, add_default_commands=False,
                 help="Xueji (学籍) student registry")
for command in COMMANDS:
    cli.add_command(command)


if __name__ == "__main__":
    cli()
