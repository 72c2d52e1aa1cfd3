"""An imported row read and checked on its own: everything that needs no database, so the
import's worker processes run it -- this module imports no ORM, no web framework beyond what the
bilingual messages need (pinyin: pypinyin, cached per name)."""

from __future__ import annotations

import io
import pickle
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING

import zstandard

from ...documents import normalize as cell
from ...documents.pinyin import pinyin
from ...documents.reader import Layout
from ...fields import ALL_STUDENT_FIELDS, MEMBER_FIELDS
from ...security.crypto import Keyring, aad_for
from ..organisation import divisions
from ..record.identity import RESIDENT_ID
from ..record.validation import NUMBER_LIMITS, Context, family_values_problems, number_limit, record_problems

if TYPE_CHECKING:
    from ...models import SchoolClass, Student

STUDENT_ITEMS = [f.name for f in ALL_STUDENT_FIELDS if f.kind not in ("school", "class")]
PERSONAL = {f.name for f in ALL_STUDENT_FIELDS if f.personal}
MEMBER_PERSONAL = {f.name for f in MEMBER_FIELDS if f.personal}
PLAIN_ITEMS = tuple(name for name in STUDENT_ITEMS if name not in PERSONAL)  # stored as they are


@dataclass
class Row:
    """One data row: where it is, what it says, what is wrong with it."""

    number: int
    values: dict = field(default_factory=dict)
    members: list[dict] = field(default_factory=list)
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # (column, message, code)
    klass: SchoolClass | None = None
    id_blind: str | None = None
    person: tuple | None = None  # (name, gender, birth date) of a record without an ID
    existing: Student | None = None  # the school's record this row describes, if any
    changes: dict = field(default_factory=dict)  # what the row would change in it
    read: bool = False  # its cells were all readable and its own checks ran (or were done before)
    class_name: str | None = None  # the class the row names
    pinyin: str | None = None  # of the name, for a new record
    sealed: tuple | None = None  # (student columns, member rows) of a new record, encrypted (``seal``)
    part: object | None = None  # a row sent back slim: the chunk that holds the rest (``restore``)

    @property
    def ok(self) -> bool:
        return not self.problems

    def identify(self, ring: Keyring) -> None:
        """The keys that find the same person in the file and in the database: the ID number's blind
        index, or without one the name, gender and birth date."""
        values = self.values
        if values.get("id_type") == RESIDENT_ID and values.get("id_number"):
            self.id_blind = ring.blind_index("id_number", values["id_number"])
        else:
            self.person = (values.get("name"), values.get("gender"), values.get("birth_date"))

    def restore(self) -> None:
        """All a slim row's values and members, read back from the chunk its worker packed (a row
        that turns out to describe a known record: what it would change is compared item by item)."""
        if self.part is not None:
            self.part.restore(self)
            self.part = None


def _division(value: str | None) -> str | None:
    """A division named in a cell becomes its 12-digit code; anything else stays as written."""
    if value and not value.isdigit():
        return divisions.code_for_name(value) or value
    return value


class RowReader:
    """What a row says and what is wrong with it on its own -- everything that needs no database,
    so the import's worker processes run it (it pickles: the closures are rebuilt where it runs)."""

    def __init__(self, layout: Layout, labels: dict, codes: dict, today: date, special: bool,
                 school_code: str, class_names: set[str]):
        self.layout, self.labels, self.codes, self.today = layout, labels, codes, today
        self.special, self.school_code, self.class_names = special, school_code, frozenset(class_names)
        self._readers: list | None = None
        # what the Numeric columns hold, read from the models here: a worker process imports none
        self.limits = {c.spec.name: number_limit(c.spec.name) for c in layout.columns.values()
                       if c.spec.kind == "number"}

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_readers": None}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        NUMBER_LIMITS.update(self.limits)

    def read(self, number: int, cells: list, *, check: bool = True, sealing: Sealing | None = None) -> Row:
        """The row's values; ``check``: and its own problems (an import's commit, having the dry
        run's result, only reads); ``sealing``: and its columns as a new record would store them."""
        row = self.convert(number, cells)
        if check:
            self.check(row)
        elif not row.problems:
            row.read, row.class_name = True, row.values.get("class_name") or None
            row.values["school_code"] = self.school_code
        if row.ok and row.values.get("name"):
            row.pinyin = pinyin(row.values["name"])
        if row.ok and sealing is not None:
            row.sealed = seal(sealing.keyring, row.values, row.members)
        return row

    _OWNERS = {"student": 0, "member1": 1, "member2": 2}

    def convert(self, number: int, cells: list) -> Row:
        if self._readers is None:  # per column, once: where it is, whose item, which, how it reads
            self._readers = [(i, self._OWNERS[c.owner], c.spec.name, self._reader(c.spec), c.header)
                             for i, c in sorted(self.layout.columns.items())]
        row = Row(number)
        values, first, second = row.values, {}, {}
        owners = (values, first, second)
        width = len(cells)
        for index, owner, name, read, header in self._readers:
            raw = cells[index] if index < width else None
            if raw is None or raw == "":
                owners[owner][name] = None  # most cells of most rows: nothing to read
                continue
            try:
                owners[owner][name] = read(raw)
            except cell.CellProblem as problem:
                row.problems.append((header, str(problem), problem.code))
        row.members = [first, second] if any(v not in (None, "") for v in second.values()) else [first]
        return row

    def _reader(self, spec):
        """The function that reads one column's cells, chosen once per file."""
        kind = spec.kind
        if kind == "code":
            labels = self.labels.get(spec.code_table, {})
            return lambda raw: cell.code(raw, labels)
        if kind == "phone":
            return lambda raw: cell.digits(raw, leading_zero=True)
        if kind in ("region", "place"):  # a division's code, or its name (湖南省长沙市芙蓉区)
            read = cell.digits if kind == "region" else cell.text
            return lambda raw: _division(read(raw))
        simple = {"bool": cell.yes_no, "date": cell.day, "month": cell.month, "number": cell.number,
                  "id_number": cell.id_number, "postcode": cell.digits, "school": cell.digits}
        return simple.get(kind, cell.text)

    def check(self, row: Row) -> Row:
        """The record checks of the form, the school and the class named (the checker puts the
        class itself in later)."""
        values = row.values
        if row.problems:  # an unreadable cell: checking the rest would only add echoes
            return row
        if values.get("school_code") not in (None, self.school_code):
            row.problems.append(("学校标识码", f"学校标识码 {values['school_code']} 不是本校 "
                                             f"{self.school_code}", "school"))
        row.read, row.class_name = True, values.get("class_name") or None
        if row.class_name and row.class_name not in self.class_names:
            row.problems.append(("班级", f"本校没有班级“{values['class_name']}”", "class"))
        values["school_code"] = self.school_code
        ctx = Context(lambda table: self.codes.get(table, set()), self.today, self.special)
        problems = record_problems(values, ctx) + family_values_problems(values, row.members, ctx)
        row.problems += [(_header(p.field), str(p.message), p.code) for p in problems]
        return row


def _header(name: str | None) -> str:
    """The column a problem of item ``name`` is shown in."""
    from ...fields import STUDENT_FIELD_BY_NAME

    if not name:
        return ""
    if name.startswith("成员"):
        spec = next((f for f in MEMBER_FIELDS if name.endswith(f.name)), None)
        return f"{name[:3]}{spec.header}" if spec else name
    spec = STUDENT_FIELD_BY_NAME.get(name)
    return spec.header if spec else ("成员1姓名" if name == "members" else name)


# -- a new record's columns, encrypted where the worker reads the row ---------------------------------

@dataclass
class Sealing:
    """What a worker process needs to encrypt a new record's values: the active key and the
    blind-index key (nothing else of the keyring leaves the job's process)."""

    key: bytes
    active: str
    blind_key: bytes
    profile: str
    sm4: bool

    @classmethod
    def of(cls, ring: Keyring) -> Sealing:
        if ring.guard is not None:
            ring.guard(ring.profile)  # the app's keyring refuses while the blind indexes are moving
        return cls(ring.keys[ring.active], ring.active, ring.blind_key, ring.profile, ring.active in ring.sm4)

    @cached_property
    def keyring(self) -> Keyring:
        return Keyring({self.active: self.key}, self.active, self.blind_key, self.profile,
                       frozenset({self.active}) if self.sm4 else frozenset())

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "keyring"}


def enc(ring: Keyring, table: str, column: str, uid: str, value) -> str | None:
    if value in (None, ""):
        return None
    return ring.encrypt(str(value), aad_for(table, column, uid))


def seal(ring: Keyring, values: dict, members: list[dict]) -> tuple[dict, list[dict]]:
    """A new record's encrypted columns (its personal items, for a new uid) and uid, and its
    members' rows; the record's plain items are its values' (``own_columns``)."""
    uid = uuid.uuid4().hex
    data = {f"{name}_enc": enc(ring, "student", f"{name}_enc", uid, values.get(name)) for name in PERSONAL}
    data["uid"] = uid
    return data, [_member(ring, seq, member) for seq, member in enumerate(members, start=1)]


def own_columns(values: dict, sealed: dict) -> dict:
    """A new record's own columns, but for what the database gives (ids) and what the job adds
    (school, class, number...): its plain items as read, its encrypted ones as sealed."""
    data = {name: values.get(name) for name in PLAIN_ITEMS}
    data.update(sealed)
    return data


def _member(ring: Keyring, seq: int, values: dict) -> dict:
    uid = uuid.uuid4().hex
    data = {f.name: values.get(f.name) for f in MEMBER_FIELDS if f.name not in MEMBER_PERSONAL}
    data["is_guardian"] = bool(values.get("is_guardian"))
    data["name"] = data.get("name") or ""
    data["relation"] = data.get("relation") or "9"
    for name in MEMBER_PERSONAL:
        data[f"{name}_enc"] = enc(ring, "family_member", f"{name}_enc", uid, values.get(name))
    number = values.get("id_number")
    data.update(uid=uid, seq=seq, id_blind=ring.blind_index("id_number", number) if number else None)
    return data


# -- the dry run's valid rows, packed to keep (``import_chunks``): here, so a worker packs its own ----

_NOT_KEPT = ("class_name", "school_code")  # objects once placed: kept as named (``Row.class_name``)


def kept_item(row: Row) -> list:
    """What the commit needs of a row: its number, values, members, class named, pinyin, and a new
    record's encrypted columns (its plain items are the values')."""
    values = dict(row.values)
    for name in _NOT_KEPT:
        values.pop(name, None)
    return [row.number, values, row.members, row.class_name, row.pinyin, row.sealed]


def chunk_aad(job_id: int, seq: int) -> bytes:
    return aad_for("import_chunk", "data_enc", f"{job_id}:{seq}")


def pack(ring: Keyring, job_id: int, seq: int, rows: list[Row]) -> tuple[bytes, int] | None:
    """A chunk's readable rows, pickled (plain data only), compressed and encrypted under the job
    and the chunk's place; with its last row's number.  None: no row to keep."""
    kept = [kept_item(row) for row in rows if row.ok and row.read]
    if not kept:
        return None
    plain = zstandard.ZstdCompressor(level=1).compress(pickle.dumps(kept, protocol=5))
    return ring.encrypt_bytes(plain, chunk_aad(job_id, seq)), kept[-1][0]


class _Unpickler(pickle.Unpickler):
    """Plain data only: lists, dicts, text, numbers, dates, decimals -- no other class is ever
    built, whatever the (authenticated) blob says."""

    ALLOWED = frozenset({("datetime", "date"), ("datetime", "datetime"), ("decimal", "Decimal")})

    def find_class(self, module: str, name: str):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"an import chunk holds no {module}.{name}")


_ZSTD = b"\x28\xb5\x2f\xfd"  # a zstandard frame's magic number (a zlib stream begins 0x78)


def unpack(ring: Keyring, job_id: int, seq: int, token: bytes) -> list[list]:
    """What ``pack`` kept of a chunk's rows (``kept_item``s), decrypted and checked.  Chunks packed
    with zlib (before zstandard, in a dry run not yet committed) are still read."""
    packed = ring.decrypt_bytes(token, chunk_aad(job_id, seq))
    plain = (zstandard.ZstdDecompressor().decompress(packed) if packed[:4] == _ZSTD
             else zlib.decompress(packed))
    return _Unpickler(io.BytesIO(plain)).load()
