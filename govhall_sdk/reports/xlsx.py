"""A small XLSX writer for the report tables: text, numbers and blank cells, a bold header row frozen and
filtered, and column widths.

The report tables need only this much of SpreadsheetML, and they are large (the assessment of 100,000
tickets is some 315,000 cells), so each row's XML is written as text as it comes, every text cell a shared
string (report cells repeat: departments, names, words). XlsxWriter, which wrote these workbooks before,
keeps an object per cell until the workbook closes: the three workbooks of 100,000 tickets (535,000 cells)
took 7.3 s CPU of a 16 s report with it, 2.5 s with this writer (``benchmarks/bench_report.py``).

The markup is the one XlsxWriter writes for the same workbook (the tests read both back with openpyxl
and compare them cell by cell, with their formats, panes, filters and widths), less what is optional and
unused here: no theme part (the fonts name Calibri 11 and no theme colour), no row ``spans``. Text is
always a string cell, never a formula or a link, whatever it starts with; control characters are written
as Excel's ``_xHHHH_`` escapes (and a literal ``_xHHHH_`` has its underscore escaped, as Excel does), and
text longer than Excel's 32,767 UTF-16 units is cut there.
"""
from __future__ import annotations

import re
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Sequence

import attrs

#: Excel's longest cell text, in UTF-16 units.
MAX_TEXT = 32767
_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_TYPES = "application/vnd.openxmlformats-officedocument"
_ESCAPED_ESCAPE = re.compile("(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile("([\x00-\x08\x0b-\x1f\ufffe\uffff])")
_TO_ESCAPE = re.compile(f"{_ESCAPED_ESCAPE.pattern}|{_CONTROL.pattern}")
_STYLES = (
    f'<styleSheet xmlns="{_MAIN}"><fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/>'
    '</font><font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts><fills count="2"><fill>'
    '<patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs '
    'count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="2"><xf '
    'numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="0" fontId="1" fillId="0" '
    'borderId="0" xfId="0" applyFont="1"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" '
    'builtinId="0"/></cellStyles><dxfs count="0"/><tableStyles count="0" defaultTableStyle="TableStyleMedium9" '
    'defaultPivotStyle="PivotStyleLight16"/></styleSheet>')
_MARGINS = '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
#: The style of the header cells (``cellXfs`` index): the bold font.
_BOLD = 1
#: What Excel adds to a column's width in characters: 5 pixels of padding, at 7 pixels a digit, in 1/256ths.
_PADDING = (5 * 256 // 7) / 256


@attrs.frozen
class Sheet:
    """One worksheet: its ``name`` (as Excel accepts it), the ``headers`` (row 1, bold, frozen, filtered),
    each column's ``widths`` in characters, and the ``rows`` of cells under it: ``str``, ``int`` or
    ``float`` (a number), None (a blank cell), anything else written as its ``str``."""

    name: str
    headers: Sequence[str]
    widths: Sequence[int]
    rows: Iterable[Sequence[Any]]


def column_name(index: int) -> str:
    """The letters of a column (0 is ``A``, 26 is ``AA``)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def escape(text: str) -> str:
    """``&``, ``<`` and ``>`` as XML writes them, as :func:`xml.sax.saxutils.escape` does (whose import brings
    ``urllib.request`` with it: a tenth of the report's start-up)."""
    return text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")


def _quoted_sheet(name: str) -> str:
    """A sheet name as a reference quotes it (always quoted: valid for any name)."""
    return "'" + name.replace("'", "''") + "'"


class _SharedStrings:
    """The workbook's shared-string table: each text once, in the order of first use (``texts``), the end
    of its cells by text (``index``: after the cell's reference, its type and its value, the text's position
    in ``texts``, `` t="s"><v>7</v></c>``), and how many cells use one. :func:`_row_xml` adds the texts
    itself, two steps per text instead of a call."""

    def __init__(self) -> None:
        self.index: dict[str, str] = {}
        self.texts: list[str] = []
        self.count = 0

    def xml(self) -> str:
        """``xl/sharedStrings.xml``, each text cut at Excel's :data:`MAX_TEXT`."""
        texts = self.texts
        if max(map(len, texts), default=0) > MAX_TEXT // 2:  # shorter, a text is within MAX_TEXT UTF-16 units
            texts = list(map(_truncated, texts))
        items = _plain_items(texts)
        if items is None:
            items = "".join(map(_string_item, texts))
        return (f'{_DECLARATION}<sst xmlns="{_MAIN}" count="{self.count}" uniqueCount="{len(self.texts)}">'
                f"{items}</sst>")


def _truncated(text: str) -> str:
    """``text`` cut at Excel's :data:`MAX_TEXT` UTF-16 units (a character is never split)."""
    if len(text) <= MAX_TEXT // 2 or len(text.encode("utf-16-le")) <= 2 * MAX_TEXT:
        return text
    return text.encode("utf-16-le")[:2 * MAX_TEXT].decode("utf-16-le", errors="ignore")


def _string_item(text: str) -> str:
    """One ``<si>`` of the shared strings: control characters escaped, surrounding white space preserved."""
    if _TO_ESCAPE.search(text):  # seldom: one search instead of two substitutions
        text = _ESCAPED_ESCAPE.sub(r"_x005F\1", text)
        text = _CONTROL.sub(lambda m: f"_x{ord(m.group(1)):04X}_", text)
    preserve = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    return f"<si><t{preserve}>{escape(text)}</t></si>"


def _plain_items(texts: Sequence[str]) -> str | None:
    """The ``<si>`` of each text, as :func:`_string_item` writes them, escaped all at once: None when a text
    may need more (a character that is not printable, an ``_x`` that may begin an escape-like
    ``_xHHHH_``, a space at either end), and the texts are written one by one. Printable text has no
    control character, no NUL (so NUL can mark where each text ends) and no white space but the space."""
    whole = "".join(texts)
    if not texts or not whole.isprintable() or "_x" in whole:
        return None
    joined = "\0".join(texts)
    if joined[:1] == " " or joined[-1:] == " " or " \0" in joined or "\0 " in joined:
        return None
    return "<si><t>" + escape(joined).replace("\0", "</t></si><si><t>") + "</t></si>"


def _row_xml(number: int, cells: Sequence[Any], starts: Sequence[str], strings: _SharedStrings) -> str:
    """One ``<row>`` (``number`` from 1) of ``cells``, each cell's XML begun by its column's ``starts`` (see
    :func:`_cell_starts`); blank cells are left out, and a row of blanks is ``""``. A text new to ``strings``
    is added to them (most cells are text: they are tested first)."""
    index, known, parts, numbers = strings.index, strings.texts, [], 0
    row = f'{number}"'
    for start, value in zip(starts, cells):
        if value.__class__ is not str:
            if value is None:
                continue
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                parts.append(f'{start}{row}><v>{value:.16G}</v></c>')
                numbers += 1
                continue
            value = str(value)
        end = index.get(value)
        if end is None:
            end = index[value] = f' t="s"><v>{len(known)}</v></c>'
            known.append(value)
        parts.append(start + row + end)
    strings.count += len(parts) - numbers
    return f'<row r="{number}">{"".join(parts)}</row>' if parts else ""


def _cell_starts(columns: int, style: str = "") -> list[str]:
    """What begins a cell of each column, up to its row number: ``<c``, the ``style`` attribute if any (the
    header's: ``<c s="1" r="A1" t="s">``) and the reference's column letters."""
    return [f'<c{style} r="{column_name(c)}' for c in range(columns)]


def _cols_xml(widths: Sequence[int]) -> str:
    """``<cols>``: each run of columns of one width as one ``<col>``."""
    runs: list[list[int]] = []
    for col, width in enumerate(widths):
        if runs and runs[-1][2] == width and runs[-1][1] == col - 1:
            runs[-1][1] = col
        else:
            runs.append([col, col, width])
    cols = "".join(f'<col min="{first + 1}" max="{last + 1}" width="{width + _PADDING:.16g}" customWidth="1"/>'
                   for first, last, width in runs)
    return f"<cols>{cols}</cols>" if cols else ""


def _sheet_xml(sheet: Sheet, first: bool, strings: _SharedStrings) -> tuple[str, str]:
    """``xl/worksheets/sheetN.xml`` of one sheet, and the range of its filter (``A1:D4``)."""
    starts = _cell_starts(len(sheet.headers))
    rows = [_row_xml(1, sheet.headers, _cell_starts(len(sheet.headers), f' s="{_BOLD}"'), strings)]
    used = 1  # the last row with a cell that is not blank
    for number, cells in enumerate(sheet.rows, start=2):
        rows.append(_row_xml(number, cells, starts, strings))
        used = number if rows[-1] else used
    last = column_name(len(sheet.headers) - 1) if sheet.headers else "A"
    dimension = "A1" if used == 1 and len(sheet.headers) <= 1 else f"A1:{last}{used}"
    filtered = f"A1:{last}{max(len(rows), 2)}"  # the header and the rows, or one empty row under the header
    selected = ' tabSelected="1"' if first else ""
    xml = (f'{_DECLARATION}<worksheet xmlns="{_MAIN}" xmlns:r="{_DOC_RELS}"><dimension ref="{dimension}"/>'
           f'<sheetViews><sheetView{selected} workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
           'activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft"/></sheetView></sheetViews>'
           f'<sheetFormatPr defaultRowHeight="15"/>{_cols_xml(sheet.widths)}<sheetData>{"".join(rows)}'
           f'</sheetData><autoFilter ref="{filtered}"/>{_MARGINS}</worksheet>')
    return xml, filtered


def _absolute(cells: str) -> str:
    """``A1:D4`` as ``$A$1:$D$4``."""
    return ":".join(re.sub(r"([A-Z]+)(\d+)", r"$\1$\2", part) for part in cells.split(":"))


def _workbook_xml(names: Sequence[str], filters: Sequence[str]) -> str:
    sheets = "".join(f'<sheet name="{escape(name).replace(chr(34), "&quot;")}" sheetId="{i + 1}" r:id="rId{i + 1}"/>'
                     for i, name in enumerate(names))
    defined = "".join(f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
                      f"{escape(_quoted_sheet(name))}!{_absolute(cells)}</definedName>"
                      for i, (name, cells) in enumerate(zip(names, filters)))
    return (f'{_DECLARATION}<workbook xmlns="{_MAIN}" xmlns:r="{_DOC_RELS}"><fileVersion appName="xl" '
            'lastEdited="4" lowestEdited="4" rupBuild="4505"/><workbookPr/><bookViews><workbookView xWindow="240" '
            f'yWindow="15" windowWidth="16095" windowHeight="9660"/></bookViews><sheets>{sheets}</sheets>'
            f'<definedNames>{defined}</definedNames><calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>')


def _relationships(targets: Sequence[tuple[str, str]]) -> str:
    """A ``.rels`` part: (type URI, target) as rId1, rId2 ..."""
    items = "".join(f'<Relationship Id="rId{i + 1}" Type="{kind}" Target="{target}"/>'
                    for i, (kind, target) in enumerate(targets))
    return f'{_DECLARATION}<Relationships xmlns="{_RELS}">{items}</Relationships>'


def _content_types(count: int) -> str:
    sheets = "".join(f'<Override PartName="/xl/worksheets/sheet{i + 1}.xml" '
                     f'ContentType="{_TYPES}.spreadsheetml.worksheet+xml"/>' for i in range(count))
    return (f'{_DECLARATION}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/><Override PartName="/docProps/app.xml" '
            f'ContentType="{_TYPES}.extended-properties+xml"/><Override PartName="/docProps/core.xml" '
            'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/><Override '
            f'PartName="/xl/styles.xml" ContentType="{_TYPES}.spreadsheetml.styles+xml"/><Override '
            f'PartName="/xl/workbook.xml" ContentType="{_TYPES}.spreadsheetml.sheet.main+xml"/>{sheets}<Override '
            f'PartName="/xl/sharedStrings.xml" ContentType="{_TYPES}.spreadsheetml.sharedStrings+xml"/></Types>')


def _app_xml(names: Sequence[str]) -> str:
    titles = "".join(f"<vt:lpstr>{escape(name)}</vt:lpstr>" for name in names)
    return (f'{_DECLARATION}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
            'extended-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
            '<Application>Microsoft Excel</Application>'
            '<DocSecurity>0</DocSecurity><ScaleCrop>false</ScaleCrop><HeadingPairs><vt:vector size="2" '
            'baseType="variant"><vt:variant><vt:lpstr>Worksheets</vt:lpstr></vt:variant><vt:variant>'
            f'<vt:i4>{len(names)}</vt:i4></vt:variant></vt:vector></HeadingPairs><TitlesOfParts><vt:vector '
            f'size="{len(names)}" baseType="lpstr">{titles}</vt:vector></TitlesOfParts><Company></Company>'
            '<LinksUpToDate>false</LinksUpToDate><SharedDoc>false</SharedDoc><HyperlinksChanged>false'
            '</HyperlinksChanged><AppVersion>12.0000</AppVersion></Properties>')


def _core_xml(created: datetime) -> str:
    stamp = created.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (f'{_DECLARATION}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
            'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            '<dc:creator></dc:creator><cp:lastModifiedBy></cp:lastModifiedBy><dcterms:created xsi:type="dcterms:'
            f'W3CDTF">{stamp}</dcterms:created><dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}'
            '</dcterms:modified></cp:coreProperties>')


def write_workbook(path: Path, sheets: Sequence[Sheet]) -> None:
    """The sheets as one XLSX workbook at ``path`` (the first sheet selected)."""
    strings = _SharedStrings()
    built = [_sheet_xml(sheet, i == 0, strings) for i, sheet in enumerate(sheets)]
    names = [sheet.name for sheet in sheets]
    book_rels = [(f"{_DOC_RELS}/worksheet", f"worksheets/sheet{i + 1}.xml") for i in range(len(sheets))]
    book_rels += [(f"{_DOC_RELS}/styles", "styles.xml"), (f"{_DOC_RELS}/sharedStrings", "sharedStrings.xml")]
    parts = [
        ("[Content_Types].xml", _content_types(len(sheets))),
        ("_rels/.rels", _relationships([(f"{_DOC_RELS}/officeDocument", "xl/workbook.xml"),
                                        (f"{_RELS}/metadata/core-properties", "docProps/core.xml"),
                                        (f"{_DOC_RELS}/extended-properties", "docProps/app.xml")])),
        ("xl/_rels/workbook.xml.rels", _relationships(book_rels)),
        *((f"xl/worksheets/sheet{i + 1}.xml", xml) for i, (xml, _) in enumerate(built)),
        ("xl/workbook.xml", _workbook_xml(names, [cells for _, cells in built])),
        ("xl/sharedStrings.xml", strings.xml()),
        ("xl/styles.xml", _DECLARATION + _STYLES),
        ("docProps/core.xml", _core_xml(datetime.now(timezone.utc))),
        ("docProps/app.xml", _app_xml(names)),
    ]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts:
            info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text.encode("utf-8"))
