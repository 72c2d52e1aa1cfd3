"""Command-line interface: `python run.py --help`. Each command calls one service, which owns its
transaction (a command never commits), at the business time of ``app.clock``."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from . import clock
from .cli_common import acting_as, attach_modules
from .errors import DomainError
from .extensions import db


def _fail(exc: Exception) -> None:
    raise click.ClickException(str(exc))


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create or upgrade the schema (Alembic), then roles, permissions and code tables."""
    from flask_migrate import upgrade

    from .models import Student
    from .policy import RuleSetInvalid
    from .security import blind_state
    from .security.keys import profile_of
    from .security.sync import sync_roles
    from .services.common.transaction import transaction
    from .services.operations.audit_chain import adopt_unchained
    from .services.organisation.codes import load_code_tables
    from .services.policy import rulesets as policy

    upgrade(directory=current_app.extensions["migrate"].directory)
    if adopted := adopt_unchained(db.session):  # log rows of before the audit chain begin it
        click.echo(f"{adopted} log rows written before the audit chain sealed into it")
    if db.session.scalar(select(Student.id).limit(1)) is None:  # a new registry: indexes of the configured profile
        with transaction(db.session):
            blind_state.record(db.session, profile_of(current_app.config), rotating=False, now=clock.now())
    counts = sync_roles(current_app.appbuilder)
    n = load_code_tables(db.session, Path(current_app.config["SEED_DIR"]) / "codes.yaml")
    click.echo(f"schema at head; {len(counts)} roles synchronised; {n} code-table entries loaded")
    if policy.latest_version(db.session) is None:  # first run: the shipped rules come into force
        try:
            row = policy.activate_dir(db.session, current_app.config["RULES_DIR"], by="init",
                                      note="shipped rules")
        except RuleSetInvalid as exc:
            raise click.ClickException(f"the rule files are invalid:\n{exc}") from None
        click.echo(f"rule set v{row.id} in force ({', '.join(row.changed)})")


@click.command("seed")
@click.option("--demo", is_flag=True, help="Load the demo province (湖南) with ~3,000 students.")
@click.option("--password", default=None, help="Password for every demo account.")
@click.option("--students", default=3000, show_default=True, help="How many demo students.")
@with_appcontext
def seed_command(demo: bool, password: str | None, students: int) -> None:
    """Load seed data."""
    from .services.operations.demo import DEFAULT_PASSWORD, seed_demo

    if not demo:
        raise click.UsageError("nothing to seed: pass --demo")
    try:
        report = seed_demo(db.session, Path(current_app.config["SEED_DIR"]),
                           password=password or DEFAULT_PASSWORD, students=students,
                           today=clock.today())
    except DomainError as exc:
        _fail(exc)
    click.echo(json.dumps(report, ensure_ascii=False))


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=None, type=click.IntRange(min=1),
              help="Threads per process (waitress: 8; gunicorn: app/serving.py's, 4).")
@click.option("--workers", default=None, type=click.IntRange(min=1),
              help="Serve with gunicorn in this many worker processes (Linux; app/serving.py). "
                   "Unset: waitress in this one process, as the demo.")
@with_appcontext
def serve_command(host: str, port: int, threads: int | None, workers: int | None) -> None:
    """Serve the application: waitress in one process, or gunicorn's worker processes (--workers)."""
    if workers:
        from .serving import gunicorn_argv

        try:
            argv = gunicorn_argv(current_app.config, bind=f"{host}:{port}", workers=workers, threads=threads)
        except RuntimeError as exc:
            _fail(exc)
        db.engine.dispose()  # gunicorn's workers build their own app and pool; this process becomes it
        os.execv(argv[0], argv)
    from waitress import serve

    click.echo(f"Xueji on http://{host}:{port}/  (Ctrl+C to stop)")
    serve(current_app._get_current_object(), host=host, port=port, threads=threads or 8)


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--password", default=None, help="Password for every demo account.")
@click.pass_context
@with_appcontext
def demo_command(ctx, host: str, port: int, password: str | None) -> None:
    """Initialise the database, load the demo on first run, and serve it."""
    from .models import Student

    ctx.invoke(init_command)
    if not db.session.scalar(select(func.count()).select_from(Student)):
        ctx.invoke(seed_command, demo=True, password=password, students=3000)
    ctx.invoke(serve_command, host=host, port=port, threads=8)


@click.group("users")
def users_group() -> None:
    """Accounts."""


@users_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def users_list(as_json: bool) -> None:
    """Every account with its username, roles and jurisdiction code."""
    from .models import XuejiUser
    from .services.organisation.accounts import describe

    rows = [describe(u) for u in db.session.scalars(select(XuejiUser).order_by(XuejiUser.username))]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        click.echo(f"{r['username']:<28} {','.join(r['roles']):<24} {r['jurisdiction'] or '-'}")


@users_group.command("create")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True, help="e.g. county_registrar")
@click.option("--node", default=None, help="Jurisdiction code the account is bound to.")
@click.option("--school", default=None, help="School code the account is bound to.")
@click.password_option()
@with_appcontext
def users_create(username, roles, node, school, password) -> None:
    """Create an account bound to a jurisdiction or a school."""
    from .services.common.actors import Actor
    from .services.organisation.accounts import create_account

    try:  # audited as the command line's doing (an operator on the server)
        create_account(db.session, username=username, password=password, roles=list(roles),
                       node_code=node, school_code=school, actor=Actor.system("cli:users create"),
                       must_change_password=True)  # identity controls: its own at first sign-in
    except DomainError as exc:
        _fail(exc)
    click.echo(f"created {username}")


@users_group.command("approve")
@click.argument("username")
@click.option("--as", "secadmin", required=True, help="The security administrator who approves.")
@click.option("--refuse", is_flag=True, help="Refuse the change instead (a new account stays disabled).")
@with_appcontext
def users_approve(username, secadmin, refuse) -> None:
    """Approve (or --refuse) the pending change of an account that gains access to students."""
    from .services.organisation.approvals import decide_for

    try:
        decide_for(db.session, acting_as(secadmin), username, approve=not refuse, now=clock.now())
    except DomainError as exc:
        _fail(exc)
    click.echo(f"{'refused' if refuse else 'approved'} {username}")


@users_group.command("seal-dormant")
@with_appcontext
def users_seal_dormant() -> None:
    """Seal every account unused for XUEJI_DORMANT_DAYS (identity controls; the scheduled job's)."""
    from .models.base import local_now
    from .services.organisation.identity import seal_dormant

    click.echo(f"sealed {seal_dormant(db.session, local_now())}")


@click.group("keys")
def keys_group() -> None:
    """Encryption keys for personal data."""


@keys_group.command("rotate")
@click.option("--no-new-key", is_flag=True,
              help="Only re-encrypt to the configured active key (keys from the environment).")
@click.option("--profile", type=click.Choice(["standard", "sm"]), default=None,
              help="Move every value to this crypto profile (sm: SM4-GCM and HMAC-SM3).")
@with_appcontext
def keys_rotate(no_new_key: bool, profile: str | None) -> None:
    """Make a new key active (key file) and re-encrypt every personal value with it."""
    from .services.operations.keys import rotate

    report = rotate(current_app, db.session, new_key=not no_new_key, profile=profile)
    click.echo(json.dumps(report))


@keys_group.command("status")
@with_appcontext
def keys_status() -> None:
    """How many stored values each key id protects."""
    from .services.operations.keys import key_usage

    click.echo(json.dumps(key_usage(db.session), indent=2))


@click.group("problems")
def problems_group() -> None:
    """Problem records (问题学籍)."""


@problems_group.command("detect")
@with_appcontext
def problems_detect() -> None:
    """Check every record: invalid IDs, duplicate IDs, duplicates without ID."""
    from .services.record.problems import detect

    click.echo(json.dumps(detect(db.session, clock.now())))


def _commands():
    from .cli_audit import audit_group
    from .cli_backups import backup_command, restore_command
    from .cli_campaign import campaign_group
    from .cli_jobs import jobs_group, worker_command
    from .cli_reports import report_group
    from .cli_requests import requests_group
    from .cli_routes import routes_command
    from .cli_rules import rules_group
    from .cli_security_policy import security_policy_group
    from .cli_tally import tally_group
    from .cli_year import year_group

    return [init_command, seed_command, serve_command, demo_command, users_group, keys_group,
            rules_group, problems_group, import_group, export_group, routes_command, report_group,
            year_group, requests_group, campaign_group, worker_command, jobs_group, backup_command, restore_command, audit_group,
            security_policy_group, tally_group]





@click.group("import")
def import_group() -> None:
    """Import data from the official Excel template."""


@import_group.command("students")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--school", "school_code", required=True, help="10-digit school code.")
@click.option("--dry-run", is_flag=True, help="Check every row, write nothing.")
@click.option("--valid-only", is_flag=True, help="Import the valid rows even if others have problems.")
@click.option("--report", type=click.Path(dir_okay=False), help="Write the annotated workbook here.")
@click.option("--as", "username", default=None, help="Account to act as (default: the school's registrar).")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def import_students(file, school_code, dry_run, valid_only, report, username, as_json) -> None:
    """Check (and unless --dry-run, import) FILE into the school SCHOOL."""
    from .services.exchange import imports

    school = _school(school_code)
    actor = _acting(username, school)
    try:
        job = imports.run(db.session, school=school, actor=actor, filename=Path(file).name,
                          data=Path(file).read_bytes(), now=clock.now(), dry=dry_run, valid_only=valid_only)
    except DomainError as exc:
        _fail(exc)
    if report:
        from .services.exchange.import_report import annotated

        Path(report).write_bytes(annotated(db.session, job))
    summary = {"rows": job.rows_total, "valid": job.rows_valid, "invalid": job.rows_invalid,
               "status": job.status, "created": job.created, "updated": job.updated,
               "unchanged": job.unchanged, "message": job.message, "job": job.id,
               "errors": job.problems or []}
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False, indent=1, default=str))
    else:
        click.echo(f"{job.rows_total} rows: {job.rows_valid} valid, {job.rows_invalid} with problems; "
                   f"{job.status}; created {job.created}, updated {job.updated}, unchanged {job.unchanged}")
        for p in (job.problems or [])[:50]:
            click.echo(f"  row {p['row']} {p['column']}: {p['message']}")
        if job.message:
            click.echo(f"  {job.message}")
    if job.status in ("refused", "failed") or (job.rows_invalid and not valid_only):
        sys.exit(1)


@click.group("export")
def export_group() -> None:
    """Export data in the official Excel template."""


attach_modules(export_group, "app.cli_exports")  # export requests: approve, refuse, download


@export_group.command("students")
@click.argument("out", type=click.Path(dir_okay=False))
@click.option("--school", "school_code", default=None,
              help="10-digit school code (default: everything the --as account may see).")
@click.option("--as", "username", default=None, help="Account to act as (default: the school's registrar).")
@with_appcontext
def export_students(out, school_code, username) -> None:
    """Write students to OUT (.xlsx), as the import template lays them out: one school, or the
    whole jurisdiction of the --as account.  An export the rules' ``exports`` threshold holds is
    filed for a supervisor's approval instead (exit 3; then ``export download ID OUT``)."""
    from .services.exchange import export_requests
    from .services.policy import rulesets

    if not school_code and not username:
        raise click.UsageError("pass --school CODE, or --as USERNAME for that account's whole jurisdiction")
    school = _school(school_code) if school_code else None
    actor = _acting(username, school, "export")
    if school is not None and not actor.sees_school(school):
        raise click.ClickException(f"{actor.username} may not see school {school.code}")
    what, ruleset = export_requests.What("students", school), rulesets.current(db.session)
    try:
        count = export_requests.deliver(db.session, ruleset, actor, what, Path(out))
    except export_requests.ExportHeld as held:
        req = export_requests.file(db.session, ruleset, actor, what, clock.now())
        click.echo(f"{req.rows} students of {_scope_named(actor, school)}: held for a supervisor's approval "
                   f"as export request #{req.id}, nothing written\n  {held}")
        sys.exit(3)
    except DomainError as exc:  # another export of the account under way, a gate closed...
        _fail(exc)
    click.echo(f"{count} students of {_scope_named(actor, school)} written to {out}")


def _scope_named(actor, school) -> str:
    """What was exported, as code and name: the school, or the account's school or jurisdiction."""
    node = school or actor.place(db.session)
    return f"{node.code} {node.name}" if node is not None else str(actor.scope.code)


def _school(code: str):
    from .models import School

    school = db.session.scalar(select(School).where(School.code == code))
    if school is None:
        raise click.ClickException(f"no school {code}")
    return school


def _acting(username: str | None, school, verb: str = "add"):
    """The account a command acts as: named, or the school's first registrar."""
    from .models import XuejiUser
    from .services.common.actors import Actor

    query = select(XuejiUser)
    if username:
        query = query.where(XuejiUser.username == username)
    else:
        query = query.where(XuejiUser.school_id == school.id).order_by(XuejiUser.id)
    for user in db.session.scalars(query):
        actor = Actor.of(user)
        if actor.may("ImportJob", verb) or username:
            return actor
    raise click.ClickException("no registrar account for this school: pass --as USERNAME")


COMMANDS = _commands()
