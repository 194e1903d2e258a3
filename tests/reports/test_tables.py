"""The table writers (govhall_sdk.reports.tables): CSV that Excel opens in Chinese, XLSX read back with openpyxl,
JSON by key; formula-looking ticket text that stays text; and the three reports of a scaled demo store written
whole (``python -m tests.reports.test_tables 100000`` times them by hand, ``benchmarks/bench_report.py`` the whole
command over a real results store).

Also the read-back helpers the report tests share: :func:`read_xlsx` and :func:`read_csv`."""
from __future__ import annotations

import csv
import io
import json
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl.utils.escape import unescape

from govhall_sdk.reports import assessment, ledger, tables, visits
from govhall_sdk.reports.data import ReportData
from govhall_sdk.reports.tables import Column, Table

TZ = ZoneInfo("Asia/Shanghai")
REPORTS = (ledger, assessment, visits)
HOSTILE = ["=HYPERLINK(\"http://evil.example\",\"点我\")", "+86 139 1234 5678", "-2+3", "@SUM(A1)",
           "\tcmd", "\r=1+1"]


def read_xlsx(path: Path) -> dict[str, list[list[Any]]]:
    """Each sheet of a workbook, by name, as rows of cell values (header row first); also asserts that no
    cell holds a formula."""
    book = openpyxl.load_workbook(path)
    sheets = {}
    for sheet in book.worksheets:
        rows = []
        for row in sheet.iter_rows():
            assert all(cell.data_type != "f" for cell in row), [c.value for c in row]
            rows.append([cell.value for cell in row])
        sheets[sheet.title] = rows
    return sheets


def read_csv(path: Path) -> list[list[str]]:
    """A CSV file's rows; asserts the byte-order mark and CRLF line ends of Excel's dialect."""
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), raw[:10]
    assert raw.endswith(b"\r\n") and raw.split(b"\n", 1)[0].endswith(b"\r"), raw[:200]
    return list(csv.reader(io.StringIO(raw[3:].decode("utf-8"), newline=""), dialect="excel"))


def text_of(value: Any) -> str | None:
    """An instant as the CSV and XLSX write it, from a record's ISO text, in the config's zone."""
    return datetime.fromisoformat(value).astimezone(TZ).isoformat(sep=" ") if value else None


def sample(lang: str = "zh", rows: list[dict[str, Any]] | None = None) -> Table:
    """A small table of every kind of cell."""
    columns = (Column("name", "名称", "Name"), Column("count", "次数", "Count"),
               Column("kind", "类别", "Kind", {"a": ("甲类", "class A"), None: ("无", "none")}),
               Column("at", "时间", "At"))
    if rows is None:
        rows = [{"name": "营业执照（代办）", "count": 3, "kind": "a", "at": datetime(2025, 3, 3, 10, tzinfo=TZ)},
                {"name": "第二项", "count": 4, "kind": None, "at": None}]
    return Table("sample", "示例表", "Sample table", columns, rows, lang, totals=True)


def test_csv_is_utf8_with_bom_in_excel_dialect_with_chinese_intact(tmp_path):
    [path] = tables.write_csv([sample()], tmp_path / "out.csv")
    assert path == tmp_path / "out.csv"
    assert path.read_bytes().startswith("\ufeff名称,次数,类别,时间\r\n".encode("utf-8"))
    assert read_csv(path) == [["名称", "次数", "类别", "时间"],
                              ["营业执照（代办）", "3", "甲类", "2025-03-03 10:00:00+08:00"],
                              ["第二项", "4", "无", ""],
                              ["合计", "7", "", ""]]


def test_csv_quotes_commas_quotes_and_line_breaks_in_cells(tmp_path):
    text = '材料: "身份证", 户口本\n第二行'
    [path] = tables.write_csv([sample(rows=[{"name": text, "count": 1, "kind": None, "at": None}])], tmp_path / "q.csv")
    assert '"材料: ""身份证"", 户口本\n第二行"'.encode("utf-8") in path.read_bytes()
    assert read_csv(path)[1][0] == text


def test_csv_of_several_tables_is_one_file_each_beside_out(tmp_path):
    other = attrs.evolve(sample(), key="other")
    paths = tables.write_csv([sample(), other], tmp_path / "report.csv")
    assert paths == [tmp_path / "report-sample.csv", tmp_path / "report-other.csv"]
    assert all(read_csv(p)[0] == ["名称", "次数", "类别", "时间"] for p in paths)


def test_english_headers_title_and_labels(tmp_path):
    table = sample("en")
    assert table.title() == "Sample table"
    [path] = tables.write_csv([table], tmp_path / "en.csv")
    rows = read_csv(path)
    assert rows[0] == ["Name", "Count", "Kind", "At"]
    assert rows[1][2] == "class A" and rows[2][2] == "none" and rows[3][0] == "Total"
    tables.write_xlsx([table], tmp_path / "en.xlsx")
    assert list(read_xlsx(tmp_path / "en.xlsx")) == ["Sample table"]


def test_xlsx_one_sheet_per_table_bold_frozen_header_text_instants_and_numbers(tmp_path):
    other = Table("other", "另一表", "Other", (Column("x", "列", "X"),), [], "zh")
    [path] = tables.write_xlsx([sample(), other], tmp_path / "out.xlsx")
    sheets = read_xlsx(path)
    assert list(sheets) == ["示例表", "另一表"]
    assert sheets["示例表"] == [["名称", "次数", "类别", "时间"],
                               ["营业执照（代办）", 3, "甲类", "2025-03-03 10:00:00+08:00"],
                               ["第二项", 4, "无", None],
                               ["合计", 7, None, None]]
    assert sheets["另一表"] == [["列"]]
    sheet = openpyxl.load_workbook(path)["示例表"]
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.b for cell in sheet[1])
    assert not sheet["A2"].font.b
    assert sheet["B2"].data_type == "n" and sheet["D2"].data_type == "s"
    # CJK counts double: the item name is wider than its header and than the one-character-wide column of numbers
    assert sheet.column_dimensions["A"].width >= 2 * len("营业执照（代办）") > sheet.column_dimensions["B"].width


def test_each_instant_of_a_table_is_written_as_itself_whether_it_repeats_or_equals_another():
    """The instants' text is made once per object: equal instants of other zones, or the two readings of
    the hour New York's clocks go back over, keep their own offsets."""
    new_york = ZoneInfo("America/New_York")
    deadline = datetime(2025, 3, 3, 23, 59, 59, tzinfo=TZ)
    instants = [deadline, deadline, deadline.astimezone(timezone.utc), datetime(2025, 11, 2, 1, 30, tzinfo=new_york),
                datetime(2025, 11, 2, 1, 30, fold=1, tzinfo=new_york), deadline]
    table = sample(rows=[{"name": "x", "count": 1, "kind": None, "at": at} for at in instants])
    assert [cells[3] for cells in table.cells()[:-1]] == [tables.instant_text(at) for at in instants]
    assert len({cells[3] for cells in table.cells()[:-1]}) == 4


@given(st.one_of(st.none(), st.integers(), st.text(st.characters(max_codepoint=0x1F600))))
def test_a_cell_is_as_wide_as_its_characters_wide_ones_counted_double(value):
    text = "" if value is None else str(value)
    assert tables._cell_width(value) == sum(2 if ord(ch) >= 0x1100 else 1 for ch in text)


def test_json_has_keys_values_and_iso_instants_not_headers_labels_or_totals(tmp_path):
    [path] = tables.write_json([sample()], tmp_path / "out.json")
    assert json.loads(path.read_text(encoding="utf-8")) == {"sample": [
        {"name": "营业执照（代办）", "count": 3, "kind": "a", "at": "2025-03-03T10:00:00+08:00"},
        {"name": "第二项", "count": 4, "kind": None, "at": None}]}


@pytest.mark.parametrize("text", HOSTILE)
def test_formula_text_is_neutralised_in_csv_and_a_string_in_xlsx(tmp_path, text):
    table = sample(rows=[{"name": text, "count": -1, "kind": text, "at": None}])
    [path] = tables.write_csv([table], tmp_path / "evil.csv")
    row = read_csv(path)[1]
    assert row[0] == "'" + text and row[2] == "'" + text
    assert row[1] == "-1"  # a number is no formula: it stays a number
    tables.write_xlsx([table], tmp_path / "evil.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "evil.xlsx").worksheets[0]
    assert sheet["A2"].data_type == "s" and unescape(sheet["A2"].value) == text  # a CR is stored as _x000D_
    assert sheet["B2"].value == -1
    assert tables.json_document([table])["sample"][0]["name"] == text  # JSON is data, not a spreadsheet


def test_plain_text_is_untouched():
    assert [tables.neutralised(v) for v in ("办结", "a=b", "1-2", 5, None)] == ["办结", "a=b", "1-2", 5, None]


#: Text that may start a formula, hold a NUL, control or wide characters, or CSV's own marks.
ODD_TEXT = st.one_of(st.sampled_from(HOSTILE), st.text(st.sampled_from("=+-@\t\r\n\0\x01 a,\"'营😀\u3000")),
                     st.text(st.characters(exclude_categories=("Cs",))))
#: Instants in zones of odd offsets (seconds included), of their own or shared by several cells.
INSTANTS = st.builds(lambda at, minutes, seconds: at.replace(tzinfo=timezone(timedelta(minutes=minutes, seconds=seconds))),
                     st.datetimes(), st.integers(-1439, 1439), st.integers(0, 59))
CELL = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), ODD_TEXT, INSTANTS)


def straightforward_csv(table: Table) -> str:
    """A table's CSV as written cell by cell: the header, then every cell of every row neutralised."""
    stream = io.StringIO()
    writer = csv.writer(stream, dialect="excel")
    writer.writerow([tables.neutralised(h) for h in table.headers()])
    for cells in table.cells():
        writer.writerow([tables.neutralised(c) if c.__class__ is str else c for c in cells])
    return stream.getvalue()


@given(st.integers(1, 4).flatmap(lambda width: st.tuples(
    st.lists(ODD_TEXT, min_size=width, max_size=width),
    st.lists(st.lists(st.one_of(CELL, st.sampled_from(HOSTILE)), min_size=width, max_size=width), max_size=6),
    st.booleans())))
def test_csv_neutralises_as_cell_by_cell(spec):
    """Columns whose texts cannot start a formula are written as they are, the others cell by cell: the
    file is the one a test of every cell writes, whatever the columns hold."""
    headers, rows, totals = spec
    columns = tuple(Column(f"c{i}", header, header) for i, header in enumerate(headers))
    table = Table("t", "表", "T", columns, [{f"c{i}": v for i, v in enumerate(row)} for row in rows], totals=totals)
    stream = io.StringIO()
    tables.write_csv_table(table, stream)
    assert stream.getvalue() == straightforward_csv(table)


@pytest.mark.parametrize("column,suspect", [(["a", "b"], False), (["a", "=b"], True), (["=a"], True),
                                            ([None, 3, "-x"], True), ([None, -3, "x"], False), (["a\0=b"], True),
                                            ([], False), ([None, 1.5], False)])
def test_a_column_may_start_a_formula_when_a_text_starts_one(column, suspect):
    assert tables._may_start_a_formula(column) is suspect


def test_sheet_names_excel_accepts():
    taken: set[str] = set()
    names = [tables.sheet_name(t, taken) for t in ("a/b:c", "x" * 40, "x" * 40, "A/B:C", "")]
    assert names[0] == "a_b_c" and len(names[1]) == 31
    assert len(set(n.lower() for n in names)) == 5 and all(len(n) <= 31 for n in names)


def scaled_demo(data: ReportData, n: int) -> ReportData:
    """``data`` with its records and history repeated until there are ``n`` records, each copy's tickets
    renamed ``<id>#<copy>`` (the unmasked contacts too)."""
    records, history, contacts = [], [], {}
    copy = 0
    while len(records) < n:
        for record in data.records[:n - len(records)]:
            records.append({**record, "id": f"{record['id']}#{copy}"})
        copy += 1
    kept = {(r["adapter"], r["id"]) for r in records}
    for c in range(copy):
        history.extend(o._replace(ticket_id=f"{o.ticket_id}#{c}") for o in data.history
                       if (o.adapter, f"{o.ticket_id}#{c}") in kept)
        contacts.update({(a, f"{t}#{c}"): p for (a, t), p in (data.contacts or {}).items()})
    return attrs.evolve(data, records=records, history=history,
                        contacts=contacts if data.contacts is not None else None)


def timings(data: ReportData, out: Path) -> dict[str, dict[str, tuple[float, float]]]:
    """(wall, CPU) seconds to build each report and to write it in each format."""
    figures: dict[str, dict[str, tuple[float, float]]] = {}
    for report in REPORTS:
        name = report.__name__.rsplit(".", 1)[1]
        began = time.perf_counter(), time.process_time()
        built = report.build(data)
        figures[name] = {"build": (time.perf_counter() - began[0], time.process_time() - began[1])}
        for fmt, write in tables.WRITERS.items():
            began = time.perf_counter(), time.process_time()
            write(built, out / f"{name}.{fmt}")
            figures[name][fmt] = (time.perf_counter() - began[0], time.process_time() - began[1])
    return figures


def test_a_scaled_store_writes_every_proxy_ticket_in_every_format(demo_data, tmp_path):
    big = scaled_demo(demo_data(), 2_000)
    assert len(big.records) == 2_000
    timings(big, tmp_path)  # the times are benchmarks/bench_report.py's; here, that every file holds every row
    rows = len(read_csv(tmp_path / "ledger.csv")) - 1
    assert rows == sum(1 for r in big.records if r["proxy"])


if __name__ == "__main__":  # python -m tests.reports.test_tables [N]: time each report of N tickets
    import tempfile

    from tests.reports.conftest import NOW, evaluated
    from govhall_sdk.config import default_config
    from govhall_sdk.host import get_plugin_manager
    from govhall_sdk.reports.data import Period, catalog_of, from_evaluations

    pm = get_plugin_manager()
    demo = from_evaluations(evaluated(), NOW, catalog_of(pm.rules), period=Period(), tz=default_config(pm).timezone)
    for count in (len(demo.records), int(sys.argv[1]) if len(sys.argv) > 1 else 100_000):
        with tempfile.TemporaryDirectory() as folder:
            for name, f in timings(scaled_demo(demo, count), Path(folder)).items():
                steps = (f"{k} {w:.2f} s ({c:.2f} s CPU)" for k, (w, c) in f.items())
                print(f"{count} tickets, {name}: " + ", ".join(steps))
