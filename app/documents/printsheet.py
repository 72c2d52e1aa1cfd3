"""A printable one-sheet workbook of text cells, written as SpreadsheetML straight into the zip.

openpyxl spends about 10 µs on each styled cell (a cell object, its style, an lxml element); a
school's confirmation forms have 80,000 boxed cells, so a download took seconds.  Here each row is
one line of XML streamed into the zip (about 1 µs a cell), with the few parts a printed form needs:
four cell styles, column widths, A4 page set-up and a page break after each form.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Sequence
from typing import IO
from xml.sax.saxutils import escape

from .safe import FORMULA_STARTS

PLAIN, BIG, BOLD_BOX, BOX = 0, 1, 2, 3  # cell styles: the xf index in styles.xml (BIG: bold 14)
_QUOTED = 4  # BOX, kept as text if typed into again although it starts like a formula
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # characters XML 1.0 refuses
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"

_PARTS = {
    "[Content_Types].xml": (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_TYPE}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_TYPE}.worksheet+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{_TYPE}.styles+xml"/></Types>'),
    "_rels/.rels": (
        f'<Relationships xmlns="{_PKG}"><Relationship Id="rId1" '
        f'Type="{_R}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
    "xl/_rels/workbook.xml.rels": (
        f'<Relationships xmlns="{_PKG}">'
        f'<Relationship Id="rId1" Type="{_R}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_R}/styles" Target="styles.xml"/></Relationships>'),
    "xl/styles.xml": (
        f'<styleSheet xmlns="{_MAIN}"><fonts count="3">'
        '<font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
        '<font><b/><sz val="14"/><name val="Calibri"/><family val="2"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border><border>'
        + "".join(f'<{side} style="thin"><color auto="1"/></{side}>' for side in ("left", "right", "top", "bottom"))
        + '<diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="5"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="1" xfId="0" applyFont="1" applyBorder="1"/>'
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="1" xfId="0" applyBorder="1" applyAlignment="1">'
        '<alignment vertical="top" wrapText="1"/></xf>'
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="1" xfId="0" applyBorder="1" applyAlignment="1" '
        'quotePrefix="1"><alignment vertical="top" wrapText="1"/></xf></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'),
}


def _column(index: int) -> str:
    return "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[index]


class PrintSheet:
    """One worksheet streamed into an .xlsx: ``row`` appends a row of (text, style) cells,
    ``page_break`` ends a printed page after the last row, ``close`` finishes the file."""

    def __init__(self, target: IO[bytes], name: str, widths: Sequence[float], *, scale: int = 100):
        self.zip = zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=6)
        for part, xml in _PARTS.items():
            self.zip.writestr(part, _HEAD + xml)
        self.zip.writestr("xl/workbook.xml", _HEAD + f'<workbook xmlns="{_MAIN}" xmlns:r="{_R}"><sheets>'
                          f'<sheet name="{escape(name)}" sheetId="1" r:id="rId1"/></sheets></workbook>')
        self.sheet = self.zip.open("xl/worksheets/sheet1.xml", "w")
        self.rows, self.breaks, self.scale = 0, [], scale
        cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'
                       for i, w in enumerate(widths, start=1))
        self._put(f'{_HEAD}<worksheet xmlns="{_MAIN}" xmlns:r="{_R}"><cols>{cols}</cols><sheetData>')

    def row(self, cells: Sequence[tuple[object, int]] = ()) -> None:
        """Append a row; a cell is (text or None, style); None with a style is an empty styled cell."""
        self.rows += 1
        r = self.rows
        out = [f'<row r="{r}">']
        for i, (text, style) in enumerate(cells):
            ref = f"{_column(i)}{r}"
            if text is None or text == "":
                if style:
                    out.append(f'<c r="{ref}" s="{style}"/>')
                continue
            text = _NOT_XML.sub("", str(text))
            if style == BOX and text.startswith(FORMULA_STARTS):
                style = _QUOTED
            space = ' xml:space="preserve"' if text != text.strip() else ""
            out.append(f'<c r="{ref}" s="{style}" t="inlineStr"><is><t{space}>{escape(text)}</t></is></c>')
        out.append("</row>")
        self._put("".join(out))

    def page_break(self) -> None:
        """The printed page ends after the last row written."""
        self.breaks.append(self.rows)

    def close(self) -> None:
        breaks = "".join(f'<brk id="{r}" max="16383" man="1"/>' for r in self.breaks)
        self._put('</sheetData><pageMargins left="0.5" right="0.5" top="0.5" bottom="0.5" header="0.3" '
                  f'footer="0.3"/><pageSetup paperSize="9" scale="{self.scale}" orientation="portrait"/>'
                  + (f'<rowBreaks count="{len(self.breaks)}" manualBreakCount="{len(self.breaks)}">'
                     f'{breaks}</rowBreaks>' if self.breaks else "") + "</worksheet>")
        self.sheet.close()
        self.zip.close()

    def _put(self, text: str) -> None:
        self.sheet.write(text.encode("utf-8"))
