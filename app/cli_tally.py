"""The ``tally`` commands: the students' per-school counts the landing page reads (``student_tally``,
kept by triggers) -- ``tally compact`` folds the deltas (the worker does so every five minutes),
``tally rebuild`` recounts from the records after a bulk load, ``tally check`` compares them."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from .extensions import db

SHOWN = 20  # differences printed one per line


@click.group("tally")
def tally_group() -> None:
    """The students' counts per school and status (the landing page's)."""


@tally_group.command("compact")
@with_appcontext
def tally_compact() -> None:
    """Fold the deltas into one row per school and status; safe while others write."""
    from .services.record.tally import compact

    folded = compact(db.session)
    click.echo(f"{folded.deltas} tally rows folded into {folded.rows}")


@tally_group.command("rebuild")
@with_appcontext
def tally_rebuild() -> None:
    """Recount every school's students from the records (after a bulk load, or to repair)."""
    from .services.record.tally import rebuild

    click.echo(f"tally rebuilt: {rebuild(db.session)} rows")


@tally_group.command("check")
@with_appcontext
def tally_check() -> None:
    """Count the records and compare with the tally (reads every record); exit 1 if they differ."""
    from .services.record.tally import differences

    found = differences(db.session)  # a read: the command ends with it, nothing to commit
    if not found:
        click.echo("tally matches the records")
        return
    click.echo(f"tally differs from the records for {len(found)} (school, status) pairs:")
    for (school, status), (tally, counted) in sorted(found.items())[:SHOWN]:
        click.echo(f"  school {school} {status}: tally {tally}, counted {counted}")
    sys.exit(1)
