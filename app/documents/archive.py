"""An uploaded .xlsx opened as the reader may open it: bounded in total, and only the parts it needs.

A zip's directory says what each member inflates to, but whoever made the file wrote it, so the
directory is only used to refuse early.  What is really inflated is counted while it streams, all
members together, and inflation stops at the limits.  Members the reader does not need (images,
custom XML, other sheets, anything else) are never inflated at all: an archive of 58 members of
9.9 MB of zeros each once held the server at 3.3 GB for 40 s.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

MAX_BYTES = 40 * 2**20  # the upload itself
# zipfile builds one object (~560 bytes) per directory entry as it opens a file; a workbook has tens
MAX_MEMBERS = 10_000
# everything one read of a file inflates, all members together: the sheet of a 100,000-row template
# measures 347 MB, so MAX_ROWS (150,000) rows fit with some room
MAX_INFLATED = 600 * 2**20
MAX_RATIO = 150  # inflated / uploaded, all members together: that template compresses 14:1
RATIO_FLOOR = 16 * 2**20  # what a small file may inflate to whatever its ratio: harmless
# the parts other than the sheet (shared strings above all) are held in memory and copied into every
# chunk; the shared strings of 100,000 distinct rows measure 10.5 MB
MAX_PARTS = 64 * 2**20
# the parts python-calamine (0.9) reads besides the sheet, as it looks them up (any case, either
# slash); it reads nothing else (checked by filling every other member with garbage:
# [Content_Types].xml, docProps, the theme, drawings, media and the other sheets are never opened)
PARTS = ("_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/sharedStrings.xml",
         "xl/styles.xml")
BLOCK = 1 << 20
_CENTRAL_ENTRY = b"PK\x01\x02"  # every directory entry zipfile parses starts with it


class WorkbookRefused(ValueError):
    """An upload refused before it is read, the reason in Chinese and in English."""

    def __init__(self, zh: str, en: str):
        super().__init__(f"{zh} ({en})")
        self.zh, self.en = zh, en

    def __reduce__(self):  # raised in an import's worker process, re-raised in its parent
        return type(self), (self.zh, self.en)


def _too_large() -> WorkbookRefused:
    return WorkbookRefused(f"文件解压后超过 {MAX_INFLATED // 2**20} MB，已拒绝",
                           f"the file inflates past {MAX_INFLATED // 2**20} MB: refused")


def _too_dense() -> WorkbookRefused:
    return WorkbookRefused(f"文件解压后超过原大小的 {MAX_RATIO} 倍（疑似压缩炸弹），已拒绝",
                           f"the file inflates past {MAX_RATIO} times its size (a zip bomb?): refused")


def _corrupt(why: str) -> WorkbookRefused:
    return WorkbookRefused("文件已损坏，无法读取", f"the file is corrupt: {why}")


class Meter:
    """Bytes inflated from one upload, all members together, held to both limits as they come."""

    def __init__(self, uploaded: int, spent: int = 0):
        self.limit = min(MAX_INFLATED, max(RATIO_FLOOR, MAX_RATIO * uploaded))
        self.spent = spent

    def add(self, count: int) -> None:
        """Count ``count`` more inflated bytes; refused past either limit."""
        self.spent += count
        if self.spent > MAX_INFLATED:
            raise _too_large()
        if self.spent > self.limit:
            raise _too_dense()


@contextmanager
def corrupt_as_refused() -> Iterator[None]:
    """Whatever zipfile or zlib raise on a broken or hostile file is said as 'corrupt', never a 500."""
    try:
        yield
    except WorkbookRefused:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, struct.error,
            NotImplementedError, RuntimeError) as exc:  # a bad name is a UnicodeDecodeError
        raise _corrupt(type(exc).__name__) from None


def _key(name: str) -> str:
    """A member's name as calamine matches it: any case, either slash."""
    return name.replace("\\", "/").lower()


def check(data: bytes) -> None:
    """Refuse what is not a plain, reasonably sized .xlsx, from its directory alone: nothing is
    inflated, and the sizes the directory claims, all members together, must already fit."""
    if len(data) > MAX_BYTES:
        raise WorkbookRefused(f"文件超过 {MAX_BYTES // 2**20} MB",
                              f"the file is larger than {MAX_BYTES // 2**20} MB")
    if not data.startswith(b"PK\x03\x04"):
        raise WorkbookRefused("不是 .xlsx 文件（请另存为 Excel 工作簿 .xlsx）",
                              "not an .xlsx workbook (save it as an Excel .xlsx file)")
    if data.count(_CENTRAL_ENTRY) > MAX_MEMBERS:  # before zipfile builds an object for each
        raise WorkbookRefused(f"文件包含的部件超过 {MAX_MEMBERS:,} 个，已拒绝",
                              f"the file holds more than {MAX_MEMBERS:,} members: refused")
    with Archive(data) as archive:
        if not archive.has("xl/workbook.xml"):
            raise WorkbookRefused("不是 Excel 工作簿", "not an Excel workbook")
        Meter(len(data)).add(archive.declared())


class Archive:
    """The upload's zip: members looked up as calamine looks them up, every byte inflated from it
    counted by one meter (``spent`` carries what an earlier pass already inflated)."""

    def __init__(self, data: bytes, spent: int = 0):
        self.meter = Meter(len(data), spent)
        with corrupt_as_refused():
            self._zip = zipfile.ZipFile(io.BytesIO(data))
            self._members: dict[str, zipfile.ZipInfo | None] = {}
            for info in self._zip.infolist():
                key = _key(info.filename)
                self._members[key] = None if key in self._members else info  # twice: which one is read?

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self._zip.close()

    def declared(self) -> int:
        """What the directory claims every member inflates to: a claim, used only to refuse."""
        return sum(info.file_size for info in self._zip.infolist())

    def has(self, name: str) -> bool:
        """Whether the member is in the zip (named as calamine names it)."""
        return _key(name) in self._members

    def read(self, name: str, room: int | None = None) -> bytes | None:
        """A needed part inflated whole (None if absent), refused past ``room`` bytes."""
        if not self.has(name):
            return None
        room, data = MAX_PARTS if room is None else room, bytearray()
        for block in self.stream(name):
            data += block
            if len(data) > room:
                raise WorkbookRefused(f"工作簿的附属部件超过 {MAX_PARTS // 2**20} MB，已拒绝",
                                      f"the workbook's parts exceed {MAX_PARTS // 2**20} MB: refused")
        return bytes(data)

    def parts(self) -> dict[str, bytes]:
        """Every part calamine reads besides the sheet, under its own name, MAX_PARTS together."""
        out, room = {}, MAX_PARTS
        for name in PARTS:
            data = self.read(name, room)
            if data is not None:
                out[self._member(name).filename] = data
                room -= len(data)
        return out

    def stream(self, name: str, block: int = BLOCK) -> Iterator[bytes]:
        """The member inflated ``block`` bytes at a time, each counted before it is handed on: a read
        of the whole member at once would inflate it all in one call, whatever its header says."""
        with corrupt_as_refused(), self._zip.open(self._member(name)) as member:
            while data := member.read(block):
                self.meter.add(len(data))
                yield data

    def _member(self, name: str) -> zipfile.ZipInfo:
        info = self._members.get(_key(name))
        if info is None:
            raise _corrupt(f"{name} is missing or given twice")
        if info.flag_bits & 0x1:
            raise WorkbookRefused("文件已加密，请去掉密码后再上传", "the file is encrypted: remove the password")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            # bzip2 and lzma: zipfile inflates those without a bound per read, and no workbook uses them
            raise _corrupt(f"{name} uses compression method {info.compress_type}")
        return info
