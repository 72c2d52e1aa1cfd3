import pytest

import config


@pytest.mark.parametrize("given,used", [
    ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
    ("postgresql://u@h:5432/db", "postgresql+psycopg://u@h:5432/db"),
    ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ("sqlite:////srv/x.db", "sqlite:////srv/x.db"),
])
def test_database_url_accepts_the_usual_postgres_spellings(monkeypatch, given, used):
    monkeypatch.setenv("DATABASE_URL", given)
    assert config._default_database_url() == used


def test_the_default_database_is_sqlite_under_instance(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert config._default_database_url() == f"sqlite:///{config.INSTANCE_PATH / 'xueji.db'}"
