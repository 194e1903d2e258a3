"""The tables of the ledger, the assessment and the return-visit list, and their CSV, XLSX and JSON writers.

A :class:`Table` is what a report builds: a title, columns and rows. Each
:class:`Column` has a stable English ``key`` (the JSON key, the same in every
language) and a Chinese and an English header; each row is a dict by key whose
values are JSON-ready data or aware datetimes: ``str``, ``int``, ``None`` or a
``datetime`` already in the config's time zone. A column may carry ``labels``:
the words people read for a stable value (``"help"`` is 帮办, rating ``5`` is
5 非常满意, ``None`` may read 未评价); JSON keeps the value, CSV and XLSX show
the words in the table's language.

The writers:

- **CSV** (:func:`write_csv`): one file per table, UTF-8 with a byte-order mark
  and the csv module's ``excel`` dialect (commas, CRLF, quotes doubled), so that
  Excel opens it in Chinese without an import dialog. One table is written to
  ``out`` itself; several go beside it as ``<stem>-<table key>.csv``.
- **XLSX** (:func:`write_xlsx`): one workbook, one sheet per table named by its
  title, the header row bold, frozen and filtered, the columns as wide as their
  header and their first :data:`WIDTH_SAMPLE` rows (CJK counted double, at most
  :data:`MAX_WIDTH`), written by :mod:`.xlsx` (every text a shared string).
- **JSON** (:func:`write_json`, :func:`json_document`): an object with one
  member per table key, each the list of its rows by column key, values as in
  the rows (labels not applied).

Instants are written as text with their offset, ``2025-03-03 10:00:00+08:00``
in CSV and XLSX and ISO 8601 (``2025-03-03T10:00:00+08:00``) in JSON, in the
config's time zone: unambiguous wherever the file is opened, the same in CSV and
XLSX, and in order when sorted as text (one zone, one offset). They are not Excel
datetimes, which carry no zone.

Totals: a table with ``totals`` gets one last row in CSV and XLSX, 合计 (Total)
in its first column and the sum of each integer column; JSON leaves it out (its
reader can sum).

Ticket text is untrusted: a cell that starts with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return would become a formula in Excel (CSV injection). CSV
prefixes such a cell with an apostrophe, Excel's own mark of text; XLSX writes
every text cell as a string cell, never as a formula, keeping it intact.
"""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

import attrs

from . import xlsx

#: The first characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: How many rows, after the header, the XLSX column widths are measured on.
WIDTH_SAMPLE = 1000
#: The widest column of an XLSX sheet, in characters.
MAX_WIDTH = 60
#: The first code point counted as a wide character (Hangul Jamo; CJK, fullwidth forms and emoji are above it).
_WIDE = 0x1100
#: The first cell of the totals row.
TOTAL_LABEL = ("合计", "Total")


@attrs.frozen
class Column:
    """One column: a stable English ``key``, its Chinese and English headers, and optional ``labels``
    (value -> (zh, en) words people read in CSV and XLSX)."""

    key: str
    zh: str
    en: str
    labels: Mapping[Any, tuple[str, str]] | None = None

    def header(self, lang: str) -> str:
        """The header in ``lang`` (``en``, else Chinese)."""
        return self.en if lang == "en" else self.zh

    def text(self, value: Any, lang: str) -> Any:
        """What CSV and XLSX show for ``value``: its label when the column has one, else the value."""
        words = self.words(lang)
        return value if words is None else words.get(value, value)

    def words(self, lang: str) -> dict[Any, str] | None:
        """What CSV and XLSX show for each labelled value, in ``lang`` (None: the column has no labels, every
        value is shown as it is)."""
        if self.labels is None:
            return None
        return {value: en if lang == "en" else zh for value, (zh, en) in self.labels.items()}


@attrs.frozen
class Table:
    """A report table: ``key`` (the JSON member and the CSV file suffix), a Chinese and an English title,
    the columns, the rows (dicts by column key), the language of its headers and words, and whether CSV and
    XLSX end it with a totals row. A table is built whole, then written: its :meth:`cells` are made once."""

    key: str
    zh: str
    en: str
    columns: tuple[Column, ...]
    rows: list[dict[str, Any]]
    lang: str = "zh"
    totals: bool = False
    _cells: list[list[Any]] = attrs.field(factory=list, init=False, eq=False, repr=False)

    def title(self) -> str:
        """The title in the table's language."""
        return self.en if self.lang == "en" else self.zh

    def headers(self) -> list[str]:
        """The column headers in the table's language."""
        return [c.header(self.lang) for c in self.columns]

    def cells(self) -> list[list[Any]]:
        """Each row as people read it (labels applied, instants as :func:`instant_text`), then the totals row
        when the table has one; made on the first call (the CSV and the XLSX of a report show the same)."""
        if not self._cells:
            self._cells.extend(self._shown())
        return self._cells

    def _shown(self) -> Iterator[list[Any]]:
        columns = [(c.key, c.words(self.lang)) for c in self.columns]
        shown: dict[int, str] = {}
        for row in self.rows:
            cells = []
            for key, words in columns:
                value = row.get(key)
                if words is not None:  # a labelled value shows its words, any other value itself
                    value = words.get(value, value)
                cells.append(_instant_cell(value, shown) if isinstance(value, datetime) else value)
            yield cells
        if self.totals:
            yield self.total_row()

    def total_row(self) -> list[Any]:
        """合计 (Total) in the first column and the sum of each integer column, the other cells empty."""
        sums: list[Any] = [None] * len(self.columns)
        for i, column in enumerate(self.columns):
            values = [row.get(column.key) for row in self.rows]
            if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
                sums[i] = sum(values)
        sums[0] = TOTAL_LABEL[1] if self.lang == "en" else TOTAL_LABEL[0]
        return sums


def instant_text(value: datetime) -> str:
    """An instant as CSV and XLSX show it: ``2025-03-03 10:00:00+08:00``."""
    return value.isoformat(sep=" ")


def _instant_cell(value: datetime, shown: dict[int, str]) -> str:
    """:func:`instant_text`, written once for each instant object of a table (the reports share one object
    per instant text: deadlines repeat down a column); the table's rows hold the objects meanwhile, so no
    two have the same ``id``."""
    text = shown.get(id(value))
    if text is None:
        text = shown[id(value)] = instant_text(value)
    return text


def neutralised(value: Any) -> Any:
    """A CSV cell that Excel cannot read as a formula: text starting with = + - @ tab or CR gets a leading
    apostrophe; other values are unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_paths(tables: Sequence[Table], out: Path) -> list[Path]:
    """Where :func:`write_csv` writes each table: ``out`` for a single table, else ``<stem>-<key><suffix>``."""
    out = Path(out)
    if len(tables) == 1:
        return [out]
    return [out.with_name(f"{out.stem}-{t.key}{out.suffix or '.csv'}") for t in tables]


def write_csv_table(table: Table, stream: Any) -> None:
    """One table as CSV into a text stream opened with ``newline=""`` (the caller picks the encoding)."""
    writer = csv.writer(stream, dialect="excel")
    writer.writerow([neutralised(h) for h in table.headers()])
    writer.writerows(_neutralised_rows(table.cells()))


def _neutralised_rows(cells: list[list[Any]]) -> Iterable[Sequence[Any]]:
    """The rows of a table's ``cells`` (rows of one length) with each text cell :func:`neutralised`: a
    column where no text starts a formula is kept as it is (most are), any other neutralised cell by cell."""
    columns: list[Sequence[Any]] = list(zip(*cells))
    suspect = [i for i, column in enumerate(columns) if _may_start_a_formula(column)]
    if not suspect:
        return cells
    for i in suspect:
        columns[i] = [neutralised(c) if c.__class__ is str else c for c in columns[i]]
    return zip(*columns)


def _may_start_a_formula(column: Sequence[Any]) -> bool:
    """False when no text of ``column`` starts with one of :data:`FORMULA_STARTS`; True may be a false alarm
    (a text holding a NUL then such a character). The texts are joined, each after a NUL, and searched in C,
    which costs less than a test of each cell."""
    try:
        joined = "\0" + "\0".join(column)
    except TypeError:  # not all text: the texts alone
        joined = "\0" + "\0".join([c for c in column if c.__class__ is str])
    return any("\0" + start in joined for start in FORMULA_STARTS)


def write_csv(tables: Sequence[Table], out: Path) -> list[Path]:
    """Each table as a CSV file that Excel opens in Chinese (UTF-8 with BOM, excel dialect); the paths written."""
    paths = csv_paths(tables, out)
    for table, path in zip(tables, paths):
        text = io.StringIO(newline="")  # the file's text, then encoded and written at once (not row by row)
        write_csv_table(table, text)
        with open(path, "w", encoding="utf-8-sig", newline="") as stream:
            stream.write(text.getvalue())
    return paths


def _cell_width(value: Any) -> int:
    """The width of a cell's text in characters, CJK and other wide characters counted double."""
    text = "" if value is None else str(value)
    if text.isascii():  # no wide character (a flag of the string: no character is looked at)
        return len(text)
    return len(text) + sum(map(_WIDE.__le__, map(ord, text)))  # each character in C


def column_widths(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[int]:
    """The width of each column: its widest header or cell among ``rows``, plus a margin, at most MAX_WIDTH
    (as many columns as the shortest row has)."""
    return [min(max(map(_cell_width, column)) + 2, MAX_WIDTH) for column in zip(headers, *rows)]


def sheet_name(title: str, taken: set[str]) -> str:
    """A sheet name Excel accepts from a title: no ``[]:*?/\\``, at most 31 characters, unique in the book."""
    name = "".join("_" if ch in "[]:*?/\\" else ch for ch in title)[:31] or "Sheet"
    candidate, n = name, 1
    while candidate.lower() in taken:
        n += 1
        candidate = f"{name[:28]}~{n}"
    taken.add(candidate.lower())
    return candidate


def write_xlsx(tables: Sequence[Table], out: Path) -> list[Path]:
    """The tables as one XLSX workbook at ``out``, one sheet per table (bold frozen header row with a filter,
    measured widths, then the rows); the path written."""
    taken: set[str] = set()
    sheets = []
    for table in tables:
        headers = table.headers()
        cells = table.cells()
        sheets.append(xlsx.Sheet(sheet_name(table.title(), taken), headers,
                                 column_widths(headers, cells[:WIDTH_SAMPLE]), cells))
    xlsx.write_workbook(Path(out), sheets)
    return [Path(out)]


def _json_value(value: Any) -> Any:
    """A row value for JSON: instants in ISO 8601 with their offset."""
    return value.isoformat() if isinstance(value, datetime) else value


def json_document(tables: Sequence[Table]) -> dict[str, list[dict[str, Any]]]:
    """The tables as JSON-ready data: ``{table key: [row by column key, ...]}`` (no labels, no totals row)."""
    return {t.key: [{c.key: _json_value(row.get(c.key)) for c in t.columns} for row in t.rows] for t in tables}


def write_json(tables: Sequence[Table], out: Path) -> list[Path]:
    """The tables as one UTF-8 JSON file at ``out`` (see :func:`json_document`); the path written."""
    with open(out, "w", encoding="utf-8") as stream:
        json.dump(json_document(tables), stream, ensure_ascii=False, indent=1)
        stream.write("\n")
    return [Path(out)]


#: The writer of each ``--format``: (tables, out) -> the paths written.
WRITERS = {"csv": write_csv, "xlsx": write_xlsx, "json": write_json}
