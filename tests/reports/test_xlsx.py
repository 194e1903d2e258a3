"""The XLSX writer (govhall_sdk.reports.xlsx) against XlsxWriter, which wrote the report workbooks before it:
the same sheets read back with openpyxl give the same cells (values and types), fonts, frozen panes, filters,
dimensions and column widths, for every kind of cell the tables hold and the edge cases of text (control
characters, Excel's own escapes, white space, markup, text past Excel's limit) and of shape (no rows, one
column, blank rows); and the workbook's parts are well-formed XML.

One difference is on purpose: XlsxWriter writes a text that starts with ``<r>`` and ends with ``</r>`` as
rich-text markup (ticket text ``<r>x</r>`` reads back empty); this writer keeps it as the text it is."""
from __future__ import annotations

import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.dom import minidom

import openpyxl
import pytest
import xlsxwriter
from hypothesis import given
from hypothesis import strategies as st

from govhall_sdk.reports import xlsx
from govhall_sdk.reports.tables import MAX_WIDTH, column_widths, sheet_name

from .test_tables import CELL, HOSTILE, TZ

TEXTS = ["营业执照（代办）", "a\x01b\x1fc", "_x0041_ literal", " leading", "trailing ", "\n", "&<>\"'", "x" * 40_000,
         "😀" * 20_000, "line\r\nbreak", "\ufffe\uffff", *HOSTILE]
#: Text that XlsxWriter takes for rich-text markup.
MARKUP = "<r>x</r>"


def xlsxwriter_workbook(path: Path, sheets: list[xlsx.Sheet]) -> None:
    """The sheets as the report tables wrote them with XlsxWriter: header bold, frozen and filtered, widths
    set, numbers as numbers, every other cell as a string, None blank."""
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                           "strings_to_numbers": False})
    bold = book.add_format({"bold": True})
    for sheet in sheets:
        page = book.add_worksheet(sheet.name)
        for col, width in enumerate(sheet.widths):
            page.set_column(col, col, width)
        for col, header in enumerate(sheet.headers):
            page.write_string(0, col, header, bold)
        page.freeze_panes(1, 0)
        last = 0
        for last, cells in enumerate(sheet.rows, start=1):
            for col, value in enumerate(cells):
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    page.write_number(last, col, value)
                elif value is not None:
                    page.write_string(last, col, str(value))
        page.autofilter(0, 0, max(last, 1), len(sheet.headers) - 1)
    book.close()


def described(path: Path) -> list[tuple[Any, ...]]:
    """Everything openpyxl reads of each sheet."""
    book = openpyxl.load_workbook(path)
    return [(sheet.title, sheet.freeze_panes, sheet.auto_filter.ref, sheet.dimensions,
             {key: (dim.width, dim.min, dim.max) for key, dim in sheet.column_dimensions.items()},
             [[(cell.value, cell.data_type, bool(cell.font.b), cell.font.name, cell.font.sz) for cell in row]
              for row in sheet.iter_rows()])
            for sheet in book.worksheets]


def sheets_of_every_kind(texts: list[str] = TEXTS) -> list[Any]:
    """Sheets of rows with every kind of cell and shape, the first one's first column ``texts``."""
    when = datetime(2025, 3, 3, 10, tzinfo=TZ)
    rows = [[text, i, None if i % 3 else -i, when if i % 2 else None] for i, text in enumerate(texts)]
    rows += [[None, None, None, None], ["after a blank row", 10 ** 17, 2.5, "末"], [None, None, None, None]]
    return [("示例表", ["名称", "次数", "数", "时间"], rows),
            ("it's \"quoted\" & <marked>", ["only"], []),
            ("one column", ["一"], [["x"], ["x"], [None]]),
            ("Sheet", ["a", "b", "c"], [[None, None, "z"]])]


def as_sheets(specs: list[Any]) -> list[xlsx.Sheet]:
    taken: set[str] = set()
    return [xlsx.Sheet(sheet_name(name, taken), headers, column_widths(headers, rows[:1000]), rows)
            for name, headers, rows in specs]


def test_the_workbook_reads_back_as_xlsxwriters_does(tmp_path):
    ours, theirs = tmp_path / "ours.xlsx", tmp_path / "theirs.xlsx"
    xlsx.write_workbook(ours, as_sheets(sheets_of_every_kind()))
    xlsxwriter_workbook(theirs, as_sheets(sheets_of_every_kind()))
    assert described(ours) == described(theirs)


def test_text_is_never_a_formula_and_keeps_its_characters(tmp_path):
    path = tmp_path / "t.xlsx"
    xlsx.write_workbook(path, as_sheets(sheets_of_every_kind([*TEXTS, MARKUP])))
    sheet = openpyxl.load_workbook(path).worksheets[0]
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert all(cell.data_type == "s" for cell in cells if cell.value is not None)
    assert [cell.value for cell in cells[:7]] == ["营业执照（代办）", "a_x0001_b_x001F_c", "_x0041_ literal",
                                                  " leading", "trailing ", "\n", "&<>\"'"]
    assert len(cells[7].value) == xlsx.MAX_TEXT and len(cells[8].value) == xlsx.MAX_TEXT // 2  # 2 units each
    assert cells[len(TEXTS)].value == MARKUP


def test_every_part_is_well_formed_xml(tmp_path):
    path = tmp_path / "t.xlsx"
    xlsx.write_workbook(path, as_sheets(sheets_of_every_kind()))
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        for name in names:
            minidom.parseString(archive.read(name))
    assert names[0] == "[Content_Types].xml" and "xl/worksheets/sheet4.xml" in names


@pytest.mark.parametrize("index,name", [(0, "A"), (25, "Z"), (26, "AA"), (701, "ZZ"), (702, "AAA")])
def test_column_names(index, name):
    assert xlsx.column_name(index) == name


@given(st.lists(st.text(st.sampled_from("a _x0041 \x01\t\u3000\xa0<&>营\n")), max_size=8))
def test_the_shared_strings_written_at_once_are_those_written_one_by_one(texts):
    """The shared strings' fast path gives the bytes of the text-by-text one, or declines."""
    plain = xlsx._plain_items(texts)
    assert plain is None or plain == "".join(map(xlsx._string_item, texts))


@pytest.mark.parametrize("texts", [["营业执照", "a&b", "<c>", ""], ["x y", "z"]])
def test_plain_texts_take_the_fast_path(texts):
    assert xlsx._plain_items(texts) == "".join(map(xlsx._string_item, texts))


@pytest.mark.parametrize("texts", [[], [" lead"], ["trail "], ["a", " b"], ["a\tb"], ["_x0041_"], ["\u3000"]])
def test_texts_that_may_need_more_are_written_one_by_one(texts):
    assert xlsx._plain_items(texts) is None


def row_xml_cell_by_cell(number: int, cells: list[Any], starts: list[str], strings: dict[str, int]) -> str:
    """A row as the straightforward way writes it, cell by cell (``strings``: each text's position, added to
    in order of first use)."""
    parts = []
    for start, value in zip(starts, cells):
        if value is None:
            continue
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            parts.append(f'{start}{number}"><v>{value:.16G}</v></c>')
            continue
        position = strings.setdefault(str(value), len(strings))
        parts.append(f'{start}{number}" t="s"><v>{position}</v></c>')
    return f'<row r="{number}">{"".join(parts)}</row>' if parts else ""


@given(st.lists(st.lists(st.one_of(CELL, st.sampled_from(["x", "y", "营"])), max_size=5), max_size=6),
       st.integers(0, 4))
def test_rows_are_written_as_cell_by_cell(rows, width):
    """Every kind of cell (texts repeated within a row and across rows, blanks, numbers, bools, instants),
    rows shorter or longer than the sheet: the rows, the shared strings and their count of cells are the
    straightforward way's."""
    starts = xlsx._cell_starts(width)
    strings, expected = xlsx._SharedStrings(), {}
    for number, cells in enumerate(rows, start=2):
        assert xlsx._row_xml(number, cells, starts, strings) == row_xml_cell_by_cell(number, cells, starts, expected)
    assert strings.texts == list(expected)
    assert strings.count == sum(1 for cells in rows for _, value in zip(starts, cells) if value is not None
                                and not (isinstance(value, (int, float)) and not isinstance(value, bool)))


@given(st.lists(st.text(st.characters(exclude_categories=("Cs",))), max_size=4),
       st.lists(st.lists(st.one_of(CELL, st.text(st.sampled_from("a营😀\u1100\u10ff"))), max_size=5), max_size=5))
def test_column_widths_are_the_widest_cell_of_each_column(headers, rows):
    widths = [tables_cell_width(h) for h in headers]
    for cells in rows:
        widths = [max(w, tables_cell_width(c)) for w, c in zip(widths, cells)]
    assert column_widths(headers, rows) == [min(w + 2, MAX_WIDTH) for w in widths]


def tables_cell_width(value: Any) -> int:
    """A cell's width counted character by character, wide ones (from U+1100) double."""
    return sum(2 if ord(ch) >= 0x1100 else 1 for ch in ("" if value is None else str(value)))


@given(st.text())
def test_escape_is_that_of_the_xml_library(text):
    from xml.sax.saxutils import escape

    assert xlsx.escape(text) == escape(text)
    assert xlsx.escape(text).replace('"', "&quot;") == escape(text, {'"': "&quot;"})
