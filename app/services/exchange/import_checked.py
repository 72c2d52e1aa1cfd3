"""The dry run's result, kept with the job so that the commit checks each row once.

The commit re-reads the cells of the rows the dry run found valid (parsing and reading a cell
costs a fraction of checking it) and re-checks only what the database can have changed since:
the records the rows match (duplicates by ID number, or name, gender and birth date), the seats
of classes whose head count moved, and the rule set itself -- another version in force, or another
kind of account committing, and every row is checked again.

It is stored encrypted in a column of its own (``import_job.checked_enc``, re-encrypted by key
rotation like any other), so a commit that writes the rows the dry run kept never decrypts the
workbook.  A job checked before that column existed kept its result in front of the workbook
(``MAGIC``); such a result is still read.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from ...documents.reader import Layout, header_layout
from ...i18n import t
from ...models import ImportJob
from ...models.base import keyring
from ...security.crypto import aad_for
from . import import_writes
from .import_rows import Checker, Row

MAGIC = b"XUEJI-CHECKED/1\n"
RECHECKED = str(t("检查之后规则已更新（或提交者的角色不同）：已按现行规则重新检查了每一行",
                  "the rules changed since the check (or another role commits): every row was checked again"))


@dataclass
class Checked:
    """What the dry run saw: enough to trust its verdicts while nothing they rest on has moved."""

    rules: str  # the digest of the rule set the rows were checked against
    actor: str  # the facts of the account they were checked for
    invalid: list[int] = field(default_factory=list)  # rows with a problem (Excel numbers)
    seats: dict[int, int] = field(default_factory=dict)  # class id -> seated students when checked
    matched: dict[int, int] = field(default_factory=dict)  # row -> the record it described then
    key: str | None = None  # the key a worker encrypted the kept rows' new records with
    profile: str | None = None  # the blind-index profile of their ID indexes
    chunks: int = 0  # chunks of valid rows kept ready to write (import_chunks)
    head: list | None = None  # the header's row number, the row above it and the header row

    def layout(self) -> Layout | None:
        """The sheet's layout as the dry run read it: the commit that writes kept rows opens no sheet."""
        return header_layout(*self.head) if self.head else None

    @staticmethod
    def head_of(layout: Layout) -> list:
        return [layout.header_row, *([c if c is None or isinstance(c, (str, int, float)) else str(c)
                                      for c in row] for row in layout.rows)]

    def note(self, row: Row) -> None:
        if not row.ok:
            self.invalid.append(row.number)
        elif row.existing is not None:
            self.matched[row.number] = row.existing.id


def actor_key(checker: Checker) -> str:
    """What the rules know of the account: the same for the uploader and the committer, or every
    row is checked again."""
    return json.dumps(checker.actor_facts, sort_keys=True, default=str)


def reusable(checked: Checked | None, checker: Checker) -> bool:
    """Whether the dry run's verdicts hold: same rule set, same kind of account."""
    return (checked is not None and checked.rules == checker.ruleset.digest
            and checked.actor == actor_key(checker))


def kept_rows_usable(checked: Checked | None, checker: Checker) -> bool:
    """Whether the commit may write the rows the dry run kept: its verdicts hold, and the key and
    blind-index profile the rows were sealed with are still the ones in force (a key rotation in
    between: the workbook is read again)."""
    ring = checker.ring
    return (reusable(checked, checker) and checked.chunks > 0 and checked.key == ring.active
            and checked.profile == ring.profile)


def decide(session, checker: Checker, rows: list[Row]) -> list[Row]:
    """Rows whose cells a reader has read and checked: their class, the duplicates in the file and
    in the database, the rules, the seats they take."""
    for row in rows:
        checker.place(row)
    import_writes.match_existing(session, checker.school, rows, checker.actor)
    for row in rows:
        if row.ok:
            checker.rules(row)
        if row.ok:
            checker.take_seat(row)
    return rows


class Recheck:
    """The commit's checks of rows the dry run found valid: only what the database can have changed
    since (with no usable dry run, ``checked`` None: every check, as the dry run did)."""

    def __init__(self, checker: Checker, checked: Checked | None):
        self.checker, self.checked = checker, checked
        if checked is not None:  # classes whose head count moved since: their rows ask the rules again
            then, now = checked.seats, checker.seats
            self.moved = {c for c in set(then) | set(now) if then.get(c, 0) != now.get(c, 0)}

    def __call__(self, session, rows: list[Row]) -> None:
        checker, checked = self.checker, self.checked
        if checked is None:
            decide(session, checker, rows)
            return
        for row in rows:
            checker.place(row, checked=False)
        import_writes.match_existing(session, checker.school, rows, checker.actor)
        for row in rows:
            if not row.ok:  # on record at another school by now
                continue
            then, now = checked.matched.get(row.number), row.existing.id if row.existing else None
            klass = row.klass.id if row.klass is not None else None
            if row.existing is not None or then != now or klass in self.moved:
                checker.rules(row)
            if then != now and klass is not None:
                self.moved.add(klass)  # it takes a seat it did not (or no more): the next rows ask
            if row.ok:
                checker.take_seat(row)


def _aad(job: ImportJob, column: str = "file_enc") -> bytes:
    return aad_for("import_job", column, job.ensure_uid())


def seal(job: ImportJob, workbook: bytes) -> None:
    """Keep the uploaded workbook encrypted with the job."""
    job.file_enc = keyring().encrypt_bytes(workbook, _aad(job))


def record(job: ImportJob, checked: Checked | None) -> None:
    """Keep the dry run's result encrypted with the job (None: no result, a dry run under way)."""
    job.checked_enc = None if checked is None else keyring().encrypt_bytes(
        json.dumps(asdict(checked), separators=(",", ":")).encode(), _aad(job, "checked_enc"))


def workbook(job: ImportJob) -> bytes | memoryview:
    """The uploaded workbook (without the result an older dry run kept in front of it: a view, not
    a copy)."""
    plain = keyring().decrypt_bytes(job.file_enc, _aad(job))
    end = _legacy_end(plain)
    return memoryview(plain)[end:] if end else plain


def result(job: ImportJob) -> Checked | None:
    """The dry run's result, once one has finished."""
    if job.checked_enc is not None:
        return _checked(json.loads(keyring().decrypt_bytes(job.checked_enc, _aad(job, "checked_enc"))))
    if job.status not in ("checked", "committing", "failed"):
        return None
    plain = keyring().decrypt_bytes(job.file_enc, _aad(job))  # checked before checked_enc existed
    end = _legacy_end(plain)
    return _checked(json.loads(plain[len(MAGIC) + 4:end])) if end else None


def _legacy_end(plain: bytes) -> int:
    """Where the workbook starts behind a result kept in front of it (MAGIC); 0 if none is."""
    if not plain.startswith(MAGIC):
        return 0
    start = len(MAGIC) + 4
    return start + int.from_bytes(plain[len(MAGIC):start], "big")


def _checked(meta: dict) -> Checked:
    return Checked(meta["rules"], meta["actor"], meta["invalid"], {int(k): v for k, v in meta["seats"].items()},
                   {int(k): v for k, v in meta["matched"].items()}, meta.get("key"), meta.get("profile"),
                   meta.get("chunks", 0), meta.get("head"))
