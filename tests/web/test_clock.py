"""One business clock: XUEJI_FIXED_NOW (ISO local time) pins it from the environment for every
command and for the pages; without it, business happens at the local time of XUEJI_TIMEZONE."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from datetime import datetime

import pytest
from factories import PDF, registered_in

from app import clock, create_app
from app.extensions import db
from app.models import Request
from config import TestConfig

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PINNED = "2027-08-10T12:00:00"


def test_a_command_run_under_the_environment_variable_sees_the_pinned_time(app, tmp_path):
    """`run.py rules explain` in a process of its own: environment -> Config -> the command."""
    env = {**os.environ, "XUEJI_ENV": "test", "XUEJI_FIXED_NOW": PINNED,
           "TEST_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "XUEJI_INSTANCE_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "run.py", "rules", "explain", "--school", "4301020001",
                             "--action", "change_field"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "2027-08-10 12:00" in result.stdout


def test_every_command_reads_the_one_clock(app):
    before = app.config["XUEJI_FIXED_NOW"]
    app.config["XUEJI_FIXED_NOW"] = PINNED
    try:
        result = app.test_cli_runner().invoke(args=["rules", "explain", "--school", "4301020001",
                                                    "--action", "change_field"])
    finally:
        app.config["XUEJI_FIXED_NOW"] = before
    assert result.exit_code == 0, result.output
    assert "2027-08-10 12:00" in result.output


def test_a_page_shows_the_pinned_date(ctx, client_for):
    student = registered_in("4301020001")
    before = ctx.config["XUEJI_FIXED_NOW"]
    ctx.config["XUEJI_FIXED_NOW"] = "2026-10-20T09:30:00"  # inside the change window
    try:
        client = client_for("school_registrar")
        r = client.post(f"/requests/new/{student.id}", content_type="multipart/form-data", data={
            "kind": "change_field", "field_1": "ethnicity", "value_1": "06",
            "evidence": (io.BytesIO(PDF[1]), PDF[0])})
        assert r.status_code == 302, re.findall(r'alert-danger">\s*([^<]+)', r.get_data(as_text=True))
        rid = int(r.headers["Location"].rstrip("/").split("/")[-1])
        page = client.get(f"/requests/show/{rid}").get_data(as_text=True)
        client.post(f"/requests/{rid}/cancel")
    finally:
        ctx.config["XUEJI_FIXED_NOW"] = before
    assert "2026-10-20 09:30" in page
    assert db.session.get(Request, rid).created_at == datetime(2026, 10, 20, 9, 30)


def test_unpinned_business_time_is_the_local_time_of_the_zone(ctx):
    before = ctx.config["XUEJI_FIXED_NOW"]
    ctx.config["XUEJI_FIXED_NOW"] = None
    try:
        assert abs((clock.now() - clock.local_now()).total_seconds()) < 5
    finally:
        ctx.config["XUEJI_FIXED_NOW"] = before
    assert clock.now() == datetime.fromisoformat(before) and clock.today() == clock.now().date()


@pytest.mark.parametrize("value", ["next tuesday", "2027-08-10T12:00:00+08:00"])
def test_a_pinned_clock_that_cannot_be_read_stops_the_start(tmp_path, value):
    with pytest.raises(RuntimeError, match="XUEJI_FIXED_NOW"):
        create_app(TestConfig, SQLALCHEMY_DATABASE_URI="sqlite://", INSTANCE_DIR=str(tmp_path),
                   XUEJI_FIXED_NOW=value)
