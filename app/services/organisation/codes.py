"""National code tables: loaded from seed/codes.yaml, looked up by code or label."""

from __future__ import annotations

from pathlib import Path

import yaml
from flask import g, has_request_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...i18n import english
from ...models import CodeItem
from ..common.transaction import transactional


def read_code_file(path: Path) -> dict[str, list[tuple[str, str, str]]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {table: [(str(c), str(zh), str(en)) for c, zh, en in rows] for table, rows in data.items()}


@transactional
def load_code_tables(session: Session, path: Path) -> int:
    """Insert or update every entry of the code file, one transaction; returns how many entries
    it holds."""
    tables = read_code_file(path)
    existing = {(i.table_name, i.code): i for i in session.scalars(select(CodeItem))}
    count = 0
    for table, rows in tables.items():
        for order, (code, zh, en) in enumerate(rows):
            item = existing.get((table, code))
            if item is None:
                session.add(CodeItem(table_name=table, code=code, label=zh, label_en=en,
                                     sort_order=order, active=True))
            else:
                item.label, item.label_en, item.sort_order = zh, en, order
            count += 1
    session.flush()
    return count


def _all(session: Session) -> dict[str, list[CodeItem]]:
    if has_request_context() and "xueji_codes" in g:
        return g.xueji_codes
    tables: dict[str, list[CodeItem]] = {}
    for item in session.scalars(select(CodeItem).where(CodeItem.active).order_by(CodeItem.sort_order)):
        tables.setdefault(item.table_name, []).append(item)
    if has_request_context():
        g.xueji_codes = tables
    return tables


def choices(session: Session, table: str) -> list[tuple[str, str]]:
    """(code, label) pairs for a select box, in the current language."""
    en = english()
    return [(i.code, (i.label_en if en and i.label_en else i.label)) for i in _all(session).get(table, [])]


def labels(session: Session, table: str) -> dict[str, str]:
    return dict(choices(session, table))


def label(session: Session, table: str, code: str | None) -> str:
    if code is None or code == "":
        return ""
    return labels(session, table).get(str(code), str(code))


def template_labels(session: Session) -> dict[str, list[tuple[str, str]]]:
    """{table: [(code, Chinese label), ...]} of the active codes in order: what the official Excel
    template writes and reads, whatever the user's language."""
    return {table: [(i.code, i.label) for i in items] for table, items in _all(session).items()}


def codes(session: Session, table: str) -> set[str]:
    return {i.code for i in _all(session).get(table, [])}


def code_for_label(session: Session, table: str, text: str) -> str | None:
    """Accept a label (as the template has it) or a code; return the code."""
    for item in _all(session).get(table, []):
        if text in (item.label, item.code, item.label_en):
            return item.code
    return None
