"""`python run.py` as an operator meets it: Xueji's commands only, each run in the app's context."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = {"audit", "backup", "campaign", "db", "demo", "export", "import", "init", "jobs", "keys", "problems", "report", "requests", "restore", "routes", "rules",
            "security-policy", "seed", "serve", "tally", "users", "worker", "year"}


def _run(*args: str) -> subprocess.CompletedProcess:
    """run.py in a process of its own, on the test configuration (no key file, an in-memory database)."""
    env = {**os.environ, "XUEJI_ENV": "test", "TEST_DATABASE_URL": ""}
    return subprocess.run([sys.executable, "run.py", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=False, env=env)


def test_help_lists_xuejis_commands_and_no_flask_options():
    result = _run("--help")
    assert result.returncode == 0, result.stderr
    listed = set(re.findall(r"^  ([a-z-]+)\s", result.stdout.split("Commands:")[1], re.M))
    assert listed == COMMANDS
    for noise in ("--app", "--env-file", "--debug", "--version", " shell ", " run "):
        assert noise not in result.stdout, noise


def test_an_unknown_command_is_a_usage_error():
    result = _run("shell")
    assert result.returncode == 2 and "No such command 'shell'" in result.stderr


def test_db_stays_for_developers():
    result = _run("db", "--help")
    assert result.returncode == 0 and "upgrade" in result.stdout, result.stderr


def test_export_as_a_school_registrar_names_the_school(app, tmp_path):
    out = tmp_path / "mine.xlsx"
    result = app.test_cli_runner().invoke(args=["export", "students", str(out), "--as", "school_registrar"])
    assert result.exit_code == 0, result.output
    assert "of 4301020001 芙蓉区育英小学 written" in result.output and "None" not in result.output


def test_an_export_while_another_of_the_account_is_being_made_is_refused_in_words(app, tmp_path):
    """PostgreSQL: the account's export lock held elsewhere (a job making a large file)."""
    import pytest
    from conftest import is_postgres
    from sqlalchemy import create_engine, text

    from app.services.exchange.export_window import EXPORT_LOCK

    if not is_postgres():
        pytest.skip("the export lock is PostgreSQL's")
    engine = create_engine(os.environ["TEST_DATABASE_URL"])
    try:
        with engine.begin() as other:
            other.execute(text("SELECT pg_advisory_xact_lock(:k, hashtext('school_registrar'))"), {"k": EXPORT_LOCK})
            result = app.test_cli_runner().invoke(
                args=["export", "students", str(tmp_path / "x.xlsx"), "--as", "school_registrar"])
    finally:
        engine.dispose()
    assert result.exit_code == 1 and "另一个导出正在生成" in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not (tmp_path / "x.xlsx").exists()


def test_export_as_a_county_registrar_names_the_county(app, tmp_path):
    out = tmp_path / "county.xlsx"  # a whole county waits for a supervisor (rules/national.yaml)
    result = app.test_cli_runner().invoke(args=["export", "students", str(out), "--as", "county2_registrar"])
    assert result.exit_code == 3 and "of 430202 荷塘区: held" in result.output, result.output
