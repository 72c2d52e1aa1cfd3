"""Signatures inside report files (xlsx and PDF), and their inspection: pure bytes and crypto, no
database and no keys of its own (the caller hands in a signing function and a key look-up).

A signature block is a JSON object: what was signed (kind, node, month, signer, when, key id, the
digest of the content) and ``signature``, an Ed25519 signature over the block's canonical JSON
without that field -- so every field, the embedded copies included, is covered.

* **xlsx**: the content is every non-empty cell of every sheet as (sheet, cell, value as text),
  sorted.  A very hidden, protected sheet ``_signature`` holds the block (A2) and, compressed, the
  signed cells themselves (A3...), so a check names each changed cell: ``月报!C5: 1203 → 1204``.
  The sheet is added to the zip as it stands (the writer's charts survive; openpyxl would drop them).
* **PDF**: the content is the document's exact bytes.  The block follows ``%%EOF`` as a comment
  line, then the trailer's ``startxref`` again, so viewers read the file as before.  It carries a
  hash of every chunk of the bytes (to say where they were altered) and the signed figures.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from xml.sax.saxutils import escape

from .archive import Archive, WorkbookRefused, check, corrupt_as_refused

FORMAT = "xueji-report-signature/1"
SHEET = "_signature"
PDF_MARK = b"%XUEJI-SIGNATURE "
MAX_UPLOAD = 20 * 2**20  # a report file is far smaller
MAX_INFLATED = 64 * 2**20  # what one xlsx may inflate to, all members together, when checked
CELL_CHUNK = 30_000  # characters per cell of the embedded copy (a cell holds 32,767)
_SHEET_PART = "xl/worksheets/xueji_signature.xml"
_SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_REL_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
_REL_ID = "rIdXuejiSignature"
_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")

Signer = Callable[[bytes], bytes]  # message -> signature


class NotSignable(ValueError):
    """The file to be signed is not what this module signs (the writer's xlsx or PDF)."""


def payload(block: dict[str, Any]) -> bytes:
    """What the signature covers: the block's canonical JSON without the signature itself."""
    body = {k: v for k, v in block.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _sealed(block: dict[str, Any], sign: Signer) -> dict[str, Any]:
    return {**block, "signature": base64.b64encode(sign(payload(block))).decode("ascii")}


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def kind_of(data: bytes) -> str | None:
    """"xlsx" (a zip), "pdf", or None."""
    if data.startswith(b"PK\x03\x04"):
        return "xlsx"
    if data.lstrip()[:5] == b"%PDF-":
        return "pdf"
    return None


# -- xlsx: the canonical cells ----------------------------------------------------------------------

def cell_text(value: Any) -> str:
    """A cell's value as the canonical text: numbers without a float's ``.0``, times in ISO."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value.total_seconds())
    return str(value)


Cell = tuple[str, str, str]  # (sheet, coordinate, text)


def _workbook(data: bytes):
    """The upload opened with openpyxl, after the upload guards: the zip's directory checked,
    then every member inflated through the metered archive (and at most MAX_INFLATED together)
    into a plain zip openpyxl may read."""
    from openpyxl import load_workbook

    if len(data) > MAX_UPLOAD:
        raise WorkbookRefused(f"文件超过 {MAX_UPLOAD // 2**20} MB", f"the file is larger than "
                              f"{MAX_UPLOAD // 2**20} MB")
    check(data)
    out, total = io.BytesIO(), 0
    with Archive(data) as archive, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as plain:
        for info in archive._zip.infolist():
            if info.is_dir():
                continue
            part = bytearray()
            for block in archive.stream(info.filename):
                total += len(block)
                if total > MAX_INFLATED:
                    raise WorkbookRefused(f"文件解压后超过 {MAX_INFLATED // 2**20} MB，已拒绝",
                                          f"the file inflates past {MAX_INFLATED // 2**20} MB: refused")
                part += block
            plain.writestr(info.filename, bytes(part))
    with corrupt_as_refused():
        try:
            return load_workbook(io.BytesIO(out.getvalue()), data_only=False)
        except (KeyError, TypeError, AttributeError, IndexError) as exc:  # a zip that is no workbook
            raise WorkbookRefused("不是可读取的 Excel 工作簿", f"not a readable workbook: {exc}") from None


def cells_of(book) -> list[Cell]:
    """Every non-empty cell of every sheet but the signature's, sorted by sheet, row, column."""
    found = []
    for sheet in book.worksheets:
        if sheet.title == SHEET:
            continue
        for row in sheet.iter_rows():
            for cell in row:
                if cell.value is None or cell.value == "":
                    continue
                found.append((sheet.title, cell.row, cell.column, cell.coordinate, cell_text(cell.value)))
    found.sort(key=lambda c: (c[0], c[1], c[2]))
    return [(s, coord, text) for s, _, _, coord, text in found]


def _cells_json(cells: list[Cell]) -> bytes:
    return json.dumps([list(c) for c in cells], separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _sheet_xml(texts: list[str]) -> bytes:
    rows = "".join(f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>{escape(text)}</t></is></c></row>'
                   for n, text in enumerate(texts, start=1))
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'<sheetData>{rows}</sheetData>'
            '<sheetProtection sheet="1" objects="1" scenarios="1" formatCells="0"/></worksheet>').encode()


def _insert(xml: bytes, closing: bytes, addition: str, part: str) -> bytes:
    if xml.count(closing) != 1:
        raise NotSignable(f"{part}: cannot find {closing.decode()} (not the report writer's workbook)")
    return xml.replace(closing, addition.encode("utf-8") + closing)


def _with_sheet(data: bytes, texts: list[str]) -> bytes:
    """The workbook with the signature sheet added, every other member byte for byte as it was."""
    source = zipfile.ZipFile(io.BytesIO(data))
    names = source.namelist()
    if _SHEET_PART in names:
        raise NotSignable("the workbook is signed already")
    workbook = source.read("xl/workbook.xml")
    next_id = 1 + max((int(n) for n in re.findall(rb'sheetId="(\d+)"', workbook)), default=0)
    rel = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
    changed = {
        "xl/workbook.xml": _insert(workbook, b"</sheets>", f'<sheet {rel} name="{SHEET}" '
                                   f'sheetId="{next_id}" state="veryHidden" r:id="{_REL_ID}"/>', "workbook"),
        "xl/_rels/workbook.xml.rels": _insert(
            source.read("xl/_rels/workbook.xml.rels"), b"</Relationships>",
            f'<Relationship Type="{_REL_TYPE}" Target="/{_SHEET_PART}" Id="{_REL_ID}"/>', "relationships"),
        "[Content_Types].xml": _insert(source.read("[Content_Types].xml"), b"</Types>",
                                       f'<Override PartName="/{_SHEET_PART}" ContentType="{_SHEET_TYPE}"/>',
                                       "content types"),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        first = None
        for info in source.infolist():
            first = first or info
            target.writestr(info, changed.get(info.filename, source.read(info.filename)))
        sheet = zipfile.ZipInfo(_SHEET_PART, date_time=first.date_time if first else (1980, 1, 1, 0, 0, 0))
        sheet.compress_type, sheet.external_attr = zipfile.ZIP_DEFLATED, 0o600 << 16
        target.writestr(sheet, _sheet_xml(texts))
    return out.getvalue()


def sign_xlsx(data: bytes, fields: dict[str, Any], sign: Signer) -> bytes:
    """The workbook ``data`` signed: ``fields`` (node, month, signer, ...) and the cells' digest."""
    try:
        book = _workbook(data)
    except WorkbookRefused as exc:
        raise NotSignable(str(exc)) from None
    cells = _cells_json(cells_of(book))
    block = _sealed({**fields, "format": FORMAT, "kind": "xlsx", "content_digest": digest(cells),
                     "cells": len(json.loads(cells))}, sign)
    packed = base64.b64encode(zlib.compress(cells, 9)).decode("ascii")
    chunks = [packed[i:i + CELL_CHUNK] for i in range(0, len(packed), CELL_CHUNK)] or [""]
    head = "此工作表保存报表的签名，请勿改动 (the report's signature: do not edit)"
    return _with_sheet(data, [head, json.dumps(block, ensure_ascii=False, sort_keys=True), *chunks])


# -- PDF ------------------------------------------------------------------------------------------

def _chunk_size(length: int) -> int:
    """Chunks of 1 KiB, or larger so that a file has at most 512 of them."""
    return max(1024, -(-length // 512))


def _chunk_hashes(data: bytes, size: int) -> list[str]:
    return [hashlib.sha256(data[i:i + size]).hexdigest()[:16] for i in range(0, len(data), size)]


def sign_pdf(data: bytes, fields: dict[str, Any], figures: list[list[str]], sign: Signer) -> bytes:
    """The PDF ``data`` signed: its exact bytes, their chunks, and the figures it shows."""
    trailer = _STARTXREF.search(data[-2048:])
    if kind_of(data) != "pdf" or trailer is None:
        raise NotSignable("not a PDF that ends with startxref ... %%EOF")
    if PDF_MARK in data:
        raise NotSignable("the PDF is signed already")
    size = _chunk_size(len(data))
    block = _sealed({**fields, "format": FORMAT, "kind": "pdf", "content_digest": digest(data),
                     "length": len(data), "chunk_size": size, "chunks": _chunk_hashes(data, size),
                     "figures": figures}, sign)
    line = base64.b64encode(json.dumps(block, ensure_ascii=False, sort_keys=True).encode("utf-8"))
    tail = b"startxref\n" + trailer.group(1) + b"\n%%EOF\n"
    return data + (b"" if data.endswith(b"\n") else b"\n") + PDF_MARK + line + b"\n" + tail


# -- inspection -----------------------------------------------------------------------------------

@dataclass
class Inspection:
    """What a file says about its signature, before words are put on it.

    ``status``: ok, altered (content changed after signing), unsigned, unreadable (not an xlsx or
    PDF this can read), damaged (a block that is no block), unknown_key (no such key published for
    the node), forged (the block does not match the key: changed, or signed with another key),
    outside_period (signed at a time the key was not valid)."""

    status: str
    kind: str | None = None
    block: dict[str, Any] | None = None
    changes: list[tuple[str, str | None, str | None]] = field(default_factory=list)  # where, old, new
    altered_at: tuple[int, int] | None = None  # PDF: the first altered byte range
    length: tuple[int, int] | None = None  # PDF: (signed, now)
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


Lookup = Callable[[str, str], Any]  # (node, key id) -> a key with .verify(sig, msg), .valid_at(t)


def inspect(data: bytes, lookup: Lookup) -> Inspection:
    """Check ``data``'s signature against the published keys ``lookup`` finds; never raises on
    what an upload holds."""
    kind = kind_of(data)
    if len(data) > MAX_UPLOAD:
        return Inspection("unreadable", kind, detail=f"larger than {MAX_UPLOAD // 2**20} MB")
    if kind is None:
        return Inspection("unreadable", detail="neither an xlsx workbook nor a PDF")
    if kind == "pdf":
        return _inspect_pdf(data, lookup)
    try:
        book = _workbook(data)
    except WorkbookRefused as exc:
        return Inspection("unreadable", "xlsx", detail=str(exc))
    return _inspect_xlsx(book, lookup)


def _checked(block: Any, kind: str, lookup: Lookup) -> Inspection | None:
    """The verdict on the block itself (None: genuine, go on to the content)."""
    needed = ("node", "month", "signer", "signed_at", "issued_at", "key_id", "content_digest", "signature")
    if not isinstance(block, dict) or block.get("format") != FORMAT or block.get("kind") != kind or \
            any(not isinstance(block.get(k), str) for k in needed):
        return Inspection("damaged", kind, block if isinstance(block, dict) else None,
                          detail="the signature block is not one")
    key = lookup(block["node"], block["key_id"])
    if key is None:
        return Inspection("unknown_key", kind, block)
    try:
        signature = base64.b64decode(block["signature"], validate=True)
        issued = datetime.fromisoformat(block["issued_at"])
    except ValueError:
        return Inspection("damaged", kind, block, detail="signature or time unreadable")
    if not key.verify(signature, payload(block)):
        return Inspection("forged", kind, block)
    if not key.valid_at(issued):
        return Inspection("outside_period", kind, block)
    return None


def _signature_sheet(book) -> list[str] | None:
    if SHEET not in book.sheetnames:
        return None
    sheet = book[SHEET]
    return [str(c.value or "") for (c,) in sheet.iter_rows(min_col=1, max_col=1)]


def _inspect_xlsx(book, lookup: Lookup) -> Inspection:
    texts = _signature_sheet(book)
    if not texts or len(texts) < 2:
        return Inspection("unsigned", "xlsx")
    try:
        block = json.loads(texts[1])
    except ValueError:
        return Inspection("damaged", "xlsx", detail="the signature block is not JSON")
    verdict = _checked(block, "xlsx", lookup)
    if verdict is not None:
        return verdict
    now = _cells_json(cells_of(book))
    if digest(now) == block["content_digest"]:
        return Inspection("ok", "xlsx", block)
    return Inspection("altered", "xlsx", block, changes=_cell_changes(texts[2:], block, now))


def _cell_changes(chunks: list[str], block: dict, now: bytes) -> list[tuple[str, str | None, str | None]]:
    """Each cell that differs from the signed copy; none nameable if the copy itself is gone."""
    try:
        signed = zlib.decompress(base64.b64decode("".join(chunks)), bufsize=len(now) + 1024)
        if digest(signed) != block["content_digest"]:
            return []
        before = {f"{s}!{c}": v for s, c, v in json.loads(signed)}
    except (ValueError, zlib.error, TypeError):
        return []
    after = {f"{s}!{c}": v for s, c, v in json.loads(now)}
    names = sorted(set(before) | set(after), key=_cell_order)
    return [(n, before.get(n), after.get(n)) for n in names if before.get(n) != after.get(n)]


def _cell_order(name: str) -> tuple:
    sheet, _, coord = name.rpartition("!")
    letters = re.match(r"[A-Z]+", coord)
    col = letters.group(0) if letters else ""
    row = coord[len(col):]
    return (sheet, int(row) if row.isdigit() else 0, len(col), col)


def _inspect_pdf(data: bytes, lookup: Lookup) -> Inspection:
    at = data.rfind(PDF_MARK)
    if at < 0:
        return Inspection("unsigned", "pdf")
    end = data.find(b"\n", at)
    try:
        block = json.loads(base64.b64decode(data[at + len(PDF_MARK):end if end >= 0 else None], validate=True))
    except ValueError:
        return Inspection("damaged", "pdf", detail="the signature block is not base64 JSON")
    verdict = _checked(block, "pdf", lookup)
    if verdict is not None:
        return verdict
    content = data[:at]
    if content.endswith(b"\n") and len(content) == block.get("length", -1) + 1:
        content = content[:-1]  # the line break put before the block
    if digest(content) != block["content_digest"]:
        return _pdf_changes(content, block)
    trailer = _STARTXREF.search(content[-2048:])
    tail = b"startxref\n" + trailer.group(1) + b"\n%%EOF\n" if trailer else None
    if end < 0 or data[end + 1:] != tail:  # an update appended after the block changes what is shown
        return Inspection("altered", "pdf", block, altered_at=(end + 1 if end >= 0 else len(data),
                                                               len(data) - 1), detail="appended")
    return Inspection("ok", "pdf", block)


def _pdf_changes(content: bytes, block: dict) -> Inspection:
    size, signed = block.get("chunk_size"), block.get("chunks")
    length = block.get("length")
    out = Inspection("altered", "pdf", block, length=(length, len(content)) if length != len(content) else None)
    if isinstance(size, int) and size > 0 and isinstance(signed, list):
        now = _chunk_hashes(content, size)
        first = next((i for i, (a, b) in enumerate(zip(signed, now)) if a != b), None)
        if first is None and len(signed) != len(now):
            first = min(len(signed), len(now))
        if first is not None:
            out.altered_at = (first * size, min((first + 1) * size, max(len(content), length or 0)) - 1)
    return out
