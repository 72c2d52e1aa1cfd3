"""Workbooks that give the same bytes for the same content: openpyxl's save without its two clocks
(the document's modified time and every zip entry's time), so a signed or compared file is stable."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import IO
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter


def naive(moment: datetime) -> datetime:
    """A workbook property time: no microseconds (core.xml keeps seconds), no zone."""
    return moment.replace(microsecond=0, tzinfo=None)


class _FixedTimeZip(ZipFile):
    """A zip whose every entry carries one fixed time (ZipFile stamps the current time)."""

    def __init__(self, target, when: datetime):
        super().__init__(target, "w", ZIP_DEFLATED, allowZip64=True)
        self._when = (max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second)

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
        if not isinstance(zinfo_or_arcname, ZipInfo):
            info = ZipInfo(zinfo_or_arcname, date_time=self._when)
            info.compress_type = ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            zinfo_or_arcname = info
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
        """openpyxl writes each worksheet to a temporary file and adds it with ``write``, which
        would stamp the file's time: add its bytes instead."""
        with open(filename, "rb") as source:
            self.writestr(arcname or Path(filename).name, source.read())


def save(book: Workbook, target: str | Path | IO[bytes], when: datetime) -> None:
    """Save ``book`` to a path or binary stream with every time set to ``when``."""
    ExcelWriter(book, _FixedTimeZip(target, when)).save()
