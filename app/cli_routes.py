"""`python run.py routes`: the route table, with the roles each row opens to, for an auditor."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import with_appcontext

from .security.routes import ANYONE, ROUTES, differences


def _urls(app) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for rule in app.url_map.iter_rules():
        out.setdefault(rule.endpoint, []).append(rule.rule)
    return out


@click.command("routes")
@click.option("--json", "as_json", is_flag=True, help="One object per route.")
@with_appcontext
def routes_command(as_json: bool) -> None:
    """Every URL served: methods, who may use it (roles), and which rows it reaches through the
    jurisdiction scope.  Exits non-zero if the running app and app/security/routes.py disagree."""
    urls = _urls(current_app)
    rows = [{"url": url, "methods": sorted(r.methods), "endpoint": r.endpoint,
             "who": r.who, "roles": "anyone" if r.who == ANYONE else sorted(r.roles),
             "scoped": r.scoped or None}
            for r in ROUTES.values() for url in urls.get(r.endpoint, [])]
    rows.sort(key=lambda row: (row["url"], row["methods"]))
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
    else:
        for row in rows:
            click.echo(f"{row['url']:<42} {','.join(row['methods']):<9} {row['who']:<38} "
                       f"{row['scoped'] or '-'}")
    problems = differences(current_app)
    if problems:
        raise click.ClickException("\n".join(problems))
