"""Read the State Council's yearly holiday notice (《国务院办公厅关于20XX年部分节假日安排的通知》).

:func:`parse_notice` takes the notice's text as published and returns the
year's days off (放假, 补休) and make-up working days (调休上班) as a
:class:`NoticeYear`. It reads every form the notices have used since 2007:

- items ``一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。``,
  one holiday or several merged (``六、国庆节、中秋节：…``);
- weekdays written ``周四`` or ``星期四``, with or without lunar dates
  (``（农历除夕、周二）``); full-width or half-width punctuation; simplified or
  traditional characters;
- ranges with ``至`` or a dash, within a month (``1月1日至3日``), across months
  (``9月29日至10月6日``) and across the year (``12月30日至1月1日``,
  ``2017年12月30日至2018年1月1日``); single days (``4月5日放假``), a moved day
  off (``4月6日（星期一）补休``), lists (``2月14日（周六）、2月28日（周六）上班``,
  ``2月20日（星期六）、21日（星期日）上班``);
- ``与周末连休``, ``不调休``, ``放假公休``;
- the older notices' explanations (``其中，1月1日为法定节假日，…公休日调至…``),
  which are checked against the days read, never used to add a day.

Nothing is guessed. A date without a year is in the notice's year, except a
December date of the 元旦 item (the previous year) and the end of a range whose
month is before its start's (the next year). Every weekday written in
parentheses is checked against the date; ``共N天`` against the range; a make-up
day must be a Saturday or Sunday; ``与周末连休`` must touch a weekend; 元旦,
劳动节 and 国庆节 must include 1 January, 1 May and 1 October; every holiday the
introduction lists must have its item. Text that cannot be read this way is
refused with a :class:`NoticeError` that quotes the sentence.

A sentence that only encourages (``鼓励各单位…安排职工在除夕（2月9日）休息``) grants
no day off; it is kept in :attr:`NoticeYear.notes` and counts for nothing.
"""
from __future__ import annotations

import os
import re
import sys
import tomllib
import unicodedata
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import attrs

from .config import (
    CALENDAR_FILE_DEFAULT,
    CalendarYear,
    read_calendar_file,
    render_calendar_file,
    toml_string,
)

if TYPE_CHECKING:
    from .calendar import DaySource
    from .config import Config

__all__ = [
    "ImportRefused",
    "NoticeError",
    "NoticeItem",
    "NoticeYear",
    "builtin_disagreements",
    "describe",
    "import_notice",
    "parse_notice",
]

WEEKDAYS = "一二三四五六日"

#: The holiday names a notice uses, to the name this module reports.
_NAMES = {
    "元旦": "元旦",
    "春节": "春节",
    "清明": "清明节",
    "清明节": "清明节",
    "劳动节": "劳动节",
    "国际劳动节": "劳动节",
    "五一国际劳动节": "劳动节",
    "五一": "劳动节",
    "端午": "端午节",
    "端午节": "端午节",
    "中秋": "中秋节",
    "中秋节": "中秋节",
    "国庆": "国庆节",
    "国庆节": "国庆节",
    "十一": "国庆节",
}
_ALL_SINCE_2008 = ("元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节")
_ALL_BEFORE_2008 = ("元旦", "春节", "劳动节", "国庆节")
#: Holidays whose item must include this fixed day of the notice's year.
_FIXED_DAY = {"元旦": (1, 1), "劳动节": (5, 1), "国庆节": (10, 1)}

# Traditional characters of the words this parser reads, to simplified (one to one).
_T2S = str.maketrans(
    "節調勞動國慶與連補週辦廳關於務曆農臘號發電準將現體禮為當兩個時間勵單則僅際紀議歲參",
    "节调劳动国庆与连补周办厅关于务历农腊号发电准将现体礼为当两个时间励单则仅际纪议岁参",
)
_QUOTES = "“”\"'‘’「」"


class NoticeError(ValueError):
    """The notice text cannot be read without guessing; the message quotes the sentence."""


@attrs.frozen
class NoticeItem:
    """One numbered item of a notice: a holiday (or several merged) and its days.

    :param names: the holidays of the item, e.g. ``("国庆节", "中秋节")``.
    :param days_off: the item's days off (weekends inside its range included), sorted.
    :param working_days: the item's make-up working days (调休上班), sorted.
    :param sentence: the item's text as published.
    """

    names: tuple[str, ...]
    days_off: tuple[date, ...]
    working_days: tuple[date, ...]
    sentence: str

    @property
    def name(self) -> str:
        """The item's holidays joined as the notice writes them: ``国庆节、中秋节``."""
        return "、".join(self.names)


@attrs.frozen
class NoticeYear:
    """What a notice arranges for one year.

    :param year: the notice's year.
    :param holidays: every day off (dates of the item ranges, weekends
        included, and moved days off); may include late December of the year
        before when 元旦 starts there.
    :param working_days: the make-up working days (调休上班); may include late
        December of the year before.
    :param items: each item as read, in the notice's order.
    :param notes: sentences read that grant nothing (``鼓励…``), as published.
    """

    year: int
    holidays: frozenset[date]
    working_days: frozenset[date]
    items: tuple[NoticeItem, ...]
    notes: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        """The notice's title: 国务院办公厅关于20XX年部分节假日安排的通知."""
        return f"国务院办公厅关于{self.year}年部分节假日安排的通知"


# --- normalization, keeping where each character came from -------------------------


class _Text:
    """The text normalized for reading (NFKC, simplified, no spaces) with each
    character's position in the original, to quote the original."""

    def __init__(self, original: str) -> None:
        self.original = original
        chars: list[str] = []
        where: list[int] = []
        for i, c in enumerate(original):
            for n in unicodedata.normalize("NFKC", c).translate(_T2S):
                if n in " \t\u00a0\u3000\r":
                    continue
                if n in "—–―－":
                    n = "-"
                chars.append(n)
                where.append(i)
        self.text = "".join(chars)
        self.where = where

    def quote(self, start: int, end: int) -> str:
        """The original text of normalized ``[start, end)``, on one line."""
        if start >= end:
            return ""
        raw = self.original[self.where[start] : self.where[end - 1] + 1]
        return " ".join(raw.split())


def _fail(reason: str, sentence: str) -> NoticeError:
    return NoticeError(f"{reason}：“{sentence}”" if sentence else reason)


# --- the year --------------------------------------------------------------------

_YEAR_PATTERNS = (
    re.compile(r"关于(\d{4})年部分节假日安排"),
    re.compile(r"现将(\d{4})年"),
    re.compile(r"(\d{4})年,?(?:元旦|春节)"),
)
_INTRO = re.compile(r"(\d{4})年,?(?P<names>[^。;:,()]{2,80}?)放假调休日期")


def _year_of(flat: str, given: int | None) -> int:
    found = sorted({int(m.group(1)) for p in _YEAR_PATTERNS for m in p.finditer(flat)})
    if len(found) > 1:
        raise NoticeError(
            "通知里有不止一个年份（" + "、".join(map(str, found)) + "），不知道是哪一年的安排"
        )
    if given is not None:
        if found and found[0] != given:
            raise NoticeError(f"通知写的是{found[0]}年，不是{given}年")
        return given
    if not found:
        raise NoticeError(
            "找不到通知的年份：请连同标题（国务院办公厅关于20XX年部分节假日安排的通知）"
            "或“经国务院批准，现将20XX年……”一句一起提供"
        )
    return found[0]


def _canonical(name: str) -> str | None:
    return _NAMES.get(name.strip(_QUOTES).replace("“", "").replace("”", "").replace('"', ""))


def _required_names(flat: str, year: int) -> tuple[str, ...]:
    """The holidays the introduction lists, else every holiday of that year's law."""
    m = _INTRO.search(flat)
    if m and int(m.group(1)) == year:
        names = []
        for part in re.split(r"[、和]", m.group("names")):
            canon = _canonical(part)
            if canon is None:
                raise _fail(f"不认识引言里的节日“{part}”", m.group(0))
            names.append(canon)
        return tuple(dict.fromkeys(names))
    return _ALL_SINCE_2008 if year >= 2008 else _ALL_BEFORE_2008


# --- items -----------------------------------------------------------------------

_NUMERALS = "一二三四五六七八九十"
_HEADER = re.compile(r"(?<![^\n。;])(?P<num>[一二三四五六七八九十]{1,3})、(?P<rest>[^\n]*)")
_CLOSING = re.compile(r"节假日期间|国务院办公厅|通知要求|国办要求")
_SIGNATURE = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日$")


def _numeral(text: str) -> int:
    if text == "十":
        return 10
    if len(text) == 1:
        return _NUMERALS.index(text) + 1
    if text.startswith("十"):
        return 10 + _NUMERALS.index(text[1]) + 1
    tens = _NUMERALS.index(text[0]) + 1
    return tens * 10 + (_NUMERALS.index(text[2]) + 1 if len(text) == 3 else 0)


@attrs.define
class _Span:
    start: int
    end: int


def _items(t: _Text) -> list[tuple[int, tuple[str, ...], _Span, _Span]]:
    """(number, names, header span, body span) of every item, in order."""
    text = t.text
    headers = []
    for m in _HEADER.finditer(text):
        rest = m.group("rest")
        colon = rest.find(":")
        digit = re.search(r"\d", rest)
        if colon >= 0 and (digit is None or colon < digit.start()):
            names_text, body_at = rest[:colon], m.start("rest") + colon + 1
        elif digit is not None:
            names_text, body_at = rest[: digit.start()], m.start("rest") + digit.start()
        else:
            names_text, body_at = rest, m.end()
        headers.append((m, names_text, body_at))
    items = []
    for k, (m, names_text, body_at) in enumerate(headers):
        line_end = text.find("\n", m.start())
        line_end = len(text) if line_end < 0 else line_end
        header_line = t.quote(m.start(), line_end)
        names = []
        for part in re.split(r"[、和]", names_text):
            canon = _canonical(part)
            if canon is None:
                raise _fail(f"不认识的节日“{part}”", header_line)
            names.append(canon)
        # The body: the rest of the header's line, then following lines that begin
        # with a date (copies that break an item over lines), up to the next item,
        # the closing paragraph or the signature.
        stop = headers[k + 1][0].start() if k + 1 < len(headers) else len(text)
        end = min(line_end, stop)
        pos = line_end  # a newline, or the end of the text
        while pos < stop:
            nxt = text.find("\n", pos + 1)
            if nxt < 0 or nxt > stop:
                nxt = stop
            line = text[pos + 1 : nxt]
            if line:
                if not line[0].isdigit() or _SIGNATURE.fullmatch(line):
                    break
                end = nxt
            pos = nxt
        closing = _CLOSING.search(text, body_at, end)
        if closing:
            end = closing.start()
        items.append(
            (_numeral(m.group("num")), tuple(names), _Span(m.start(), body_at), _Span(body_at, end))
        )
    return items


# --- dates in a clause -------------------------------------------------------------

_DATE = re.compile(
    r"(?:(?P<y>\d{4})年)?(?:(?P<m>\d{1,2})月)?(?P<d>\d{1,2})日(?:\((?P<p>[^()]*)\))?"
)
_RANGE_SEP = re.compile(r"(?:至|-+|~)")
_WEEKDAY = re.compile(r"(?:星期|周|礼拜)([一二三四五六日天])")

_OFF = re.compile(r"(?P<list>[RD](?:、[RD])*)放假(?:调休|公休)?(?:(?P<n>\d+)天)?")
_SUBST = re.compile(r"(?P<list>[RD](?:、[RD])*)补休")
_WORK = re.compile(r"(?P<list>D(?:、D)*)上班")
_COUNT = re.compile(r"共(?P<n>\d+)天")
_ADJ = re.compile(r"与(?P<w>周末|周六|周日|星期六|星期日)连休")
_NOSWAP = re.compile(r"不调休")
_EXPLAIN = re.compile(r"法定节假日|法定假日|公休日|照常公休|调至|为公休")


@attrs.define
class _Ctx:
    """Reading state of one item: the notice's year, whether it is 元旦, the last date."""

    year: int
    new_year: bool
    sentence: str
    prev: date | None = None


def _one_date(m: re.Match, ctx: _Ctx, start: date | None) -> date:
    """The date of a ``_DATE`` match; ``start`` is the range's start when this ends one."""
    y, mo, d = m.group("y"), m.group("m"), int(m.group("d"))
    if mo is None:
        base = start or ctx.prev
        if base is None:
            raise _fail(f"“{m.group(0)}”没有写月份，前面也没有可以沿用的日期", ctx.sentence)
        year, month = base.year, base.month
    else:
        month = int(mo)
        if y is not None:
            year = int(y)
        elif start is not None and month < start.month:
            year = start.year + 1
        elif start is not None:
            year = start.year
        elif ctx.new_year and month == 12:
            year = ctx.year - 1
        else:
            year = ctx.year
    try:
        value = date(year, month, d)
    except ValueError:
        raise _fail(f"没有这一天：{year}年{month}月{d}日", ctx.sentence) from None
    paren = m.group("p")
    if paren:
        written = {w.replace("天", "日") for w in _WEEKDAY.findall(paren)}
        if len(written) > 1:
            raise _fail(f"{value.isoformat()} 后面的括号里写了两个星期（{paren}）", ctx.sentence)
        if written:
            (w,) = written
            actual = WEEKDAYS[value.weekday()]
            if w != actual:
                raise _fail(
                    f"{value.isoformat()} 是星期{actual}，通知写的是星期{w}", ctx.sentence
                )
    ctx.prev = value
    return value


def _scan(clause: str, ctx: _Ctx) -> tuple[str, list[list[date]]]:
    """The clause with each date written ``D`` and each range ``R``, and their days."""
    skeleton: list[str] = []
    groups: list[list[date]] = []
    pos = 0
    while pos < len(clause):
        m = _DATE.match(clause, pos)
        if not m:
            skeleton.append(clause[pos])
            pos += 1
            continue
        first = _one_date(m, ctx, None)
        pos = m.end()
        sep = _RANGE_SEP.match(clause, pos)
        m2 = _DATE.match(clause, sep.end()) if sep else None
        if m2:
            last = _one_date(m2, ctx, first)
            if last <= first:
                raise _fail(
                    f"日期范围倒过来了：{first.isoformat()} 至 {last.isoformat()}", ctx.sentence
                )
            if (last - first).days > 20:
                raise _fail(
                    f"放假范围太长，不像一个节日：{first.isoformat()} 至 {last.isoformat()}",
                    ctx.sentence,
                )
            pos = m2.end()
            skeleton.append("R")
            groups.append([first + timedelta(k) for k in range((last - first).days + 1)])
        else:
            skeleton.append("D")
            groups.append([first])
    return "".join(skeleton), groups


def _split_outside_parens(text: str, seps: str) -> list[tuple[int, int]]:
    """Spans of ``text`` between separators that are not inside parentheses."""
    spans, depth, start = [], 0, 0
    for i, c in enumerate(text):
        if c == "(":
            depth += 1
        elif c == ")":
            depth = max(0, depth - 1)
        elif c in seps and depth == 0:
            spans.append((start, i))
            start = i + 1
    spans.append((start, len(text)))
    return spans


@attrs.define
class _Item:
    off: list[date] = attrs.Factory(list)
    work: list[date] = attrs.Factory(list)
    last_off: list[date] | None = None
    last_off_sentence: str = ""
    adjacent: list[tuple[str, str]] = attrs.Factory(list)
    no_swap: str | None = None
    explained: list[tuple[date, str, bool, str]] = attrs.Factory(list)
    notes: list[str] = attrs.Factory(list)


def _read_item(t: _Text, header_start: int, body: _Span, ctx: _Ctx) -> _Item:
    item = _Item()
    text = t.text
    first = True
    for s0, s1 in _split_outside_parens(text[body.start : body.end], "。"):
        a, b = body.start + s0, body.start + s1
        sentence_text = text[a:b]
        if not sentence_text.strip("\n"):
            continue
        # The first sentence is quoted with the item's header: "一、元旦：…。"
        sentence = t.quote(header_start if first else a, min(b + 1, body.end) if b < body.end else b)
        first = False
        ctx.sentence = sentence
        stripped = sentence_text.lstrip("\n")
        if stripped.startswith("鼓励"):
            item.notes.append(sentence)
            continue
        explaining = stripped.startswith("其中")
        for c0, c1 in _split_outside_parens(sentence_text, ",;:\n"):
            clause = sentence_text[c0:c1]
            if not clause:
                continue
            _read_clause(clause, explaining, item, ctx)
    return item


def _read_clause(clause: str, explaining: bool, item: _Item, ctx: _Ctx) -> None:
    skeleton, groups = _scan(clause, ctx)
    if not explaining or skeleton.endswith("上班"):
        if m := _OFF.fullmatch(skeleton):
            days = [d for g in groups for d in g]
            if m.group("n") is not None and int(m.group("n")) != len(days):
                raise _fail(f"写的是放假{m.group('n')}天，日期算出来是{len(days)}天", ctx.sentence)
            item.off.extend(days)
            item.last_off, item.last_off_sentence = days, ctx.sentence
            return
        if _SUBST.fullmatch(skeleton):
            days = [d for g in groups for d in g]
            item.off.extend(days)
            return
        if _WORK.fullmatch(skeleton):
            for g in groups:
                (d,) = g
                if d.weekday() < 5:
                    raise _fail(
                        f"调休上班的 {d.isoformat()} 是星期{WEEKDAYS[d.weekday()]}，不是周末",
                        ctx.sentence,
                    )
                item.work.append(d)
            return
        if m := _COUNT.fullmatch(skeleton):
            if item.last_off is None:
                raise _fail("“共…天”前面没有放假日期", ctx.sentence)
            if int(m.group("n")) != len(item.last_off):
                raise _fail(
                    f"写的是共{m.group('n')}天，日期算出来是{len(item.last_off)}天", ctx.sentence
                )
            return
        if m := _ADJ.fullmatch(skeleton):
            item.adjacent.append((m.group("w"), ctx.sentence))
            return
        if _NOSWAP.fullmatch(skeleton):
            item.no_swap = ctx.sentence
            return
    if explaining or _EXPLAIN.search(skeleton):
        # An explanation (older notices): its dates must agree with the days read.
        cut = skeleton.find("调至")
        weekend = "照常公休" in skeleton or "为公休" in skeleton
        k = 0
        for i, ch in enumerate(skeleton):
            if ch in "DR":
                moved_to = 0 <= cut < i
                for d in groups[k]:
                    item.explained.append((d, "off" if moved_to else "any", weekend, ctx.sentence))
                k += 1
        return
    raise _fail("读不懂这一句", ctx.sentence)


def _check_item(names: tuple[str, ...], item: _Item, year: int, header: str) -> None:
    if not item.off:
        raise _fail("这一项没有读到放假日期", header)
    off, work = set(item.off), set(item.work)
    for d, role, weekend, sentence in item.explained:
        if role == "off" and d not in off:
            raise _fail(f"说明里调休放假的 {d.isoformat()} 不在这一项的放假日期里", sentence)
        if d not in off | work:
            raise _fail(f"说明里的 {d.isoformat()} 既不在放假日期里，也不是调休上班日", sentence)
        if weekend and d.weekday() < 5:
            raise _fail(f"说明里的公休日 {d.isoformat()} 不是周末", sentence)
    for which, sentence in item.adjacent:
        days = {"周末": (5, 6), "周六": (5,), "星期六": (5,), "周日": (6,), "星期日": (6,)}[which]
        first, last = min(off), max(off)
        touching = {(first - timedelta(1)).weekday(), (last + timedelta(1)).weekday()}
        touching |= {d.weekday() for d in off}
        if not touching & set(days):
            raise _fail(f"放假日期 {first.isoformat()} 并不挨着{which}", sentence)
    if item.no_swap and work:
        raise _fail("写了不调休，却又有调休上班日", item.no_swap)
    for name in names:
        if name in _FIXED_DAY:
            fixed = date(year, *_FIXED_DAY[name])
            if fixed not in off:
                raise _fail(f"{name}的放假日期不含 {fixed.isoformat()}", header)
    for d in off | work:
        inside = (
            d.year == year
            or (d.year == year - 1 and d.month == 12)
            or (d.year == year + 1 and d.month == 1)
        )
        if not inside:
            raise _fail(f"{d.isoformat()} 不在{year}年的通知所能安排的日子里", header)


def parse_notice(text: str, *, year: int | None = None) -> NoticeYear:
    """Read a State Council holiday notice.

    :param text: the notice as published: the title (or the sentence
        ``经国务院批准，现将20XX年……``) and the numbered items; the greeting,
        the closing paragraph and the signature may be there too.
    :param year: the notice's year, when the text does not say it (if it does,
        the two must agree).
    :raises NoticeError: the text cannot be read without guessing; the message
        quotes the sentence.
    """
    t = _Text(text)
    flat = t.text.replace("\n", "")
    year = _year_of(flat, year)
    found = _items(t)
    if not found:
        raise NoticeError("没有找到“一、元旦：……”这样的条目")
    numbers = [n for n, *_ in found]
    if numbers != list(range(1, len(numbers) + 1)):
        expected = next(i for i, n in enumerate(numbers, 1) if n != i)
        raise NoticeError(
            f"条目编号不连续：第{expected}项应是“{_chinese(expected)}、”，"
            f"读到的是“{_chinese(numbers[expected - 1])}、”"
        )
    items: list[NoticeItem] = []
    notes: list[str] = []
    seen: dict[str, str] = {}
    all_off: dict[date, str] = {}
    all_work: dict[date, str] = {}
    for _, names, header, body in found:
        sentence = t.quote(header.start, body.end)
        for name in names:
            if name in seen:
                raise _fail(f"{name}出现了两次", sentence)
            seen[name] = sentence
        ctx = _Ctx(year=year, new_year="元旦" in names, sentence=sentence)
        item = _read_item(t, header.start, body, ctx)
        _check_item(names, item, year, sentence)
        for d in item.off:
            if d in all_work:
                raise _fail(f"{d.isoformat()} 既是放假日又是调休上班日", sentence)
            all_off.setdefault(d, sentence)
        for d in item.work:
            if d in all_off:
                raise _fail(f"{d.isoformat()} 既是放假日又是调休上班日", sentence)
            all_work.setdefault(d, sentence)
        items.append(
            NoticeItem(
                names=names,
                days_off=tuple(sorted(set(item.off))),
                working_days=tuple(sorted(set(item.work))),
                sentence=sentence,
            )
        )
        notes.extend(item.notes)
    missing = [n for n in _required_names(flat, year) if n not in seen]
    if missing:
        raise NoticeError(f"通知里缺少这些节日的条目：{'、'.join(missing)}")
    return NoticeYear(
        year=year,
        holidays=frozenset(all_off),
        working_days=frozenset(all_work),
        items=tuple(items),
        notes=tuple(notes),
    )


def _chinese(n: int) -> str:
    if n <= 10:
        return _NUMERALS[n - 1]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _NUMERALS[tens - 1]) + "十" + (_NUMERALS[ones - 1] if ones else "")


# --- for people ----------------------------------------------------------------------


def _day(d: date, year: int) -> str:
    shown = f"{d.month}月{d.day}日" if d.year == year else f"{d.year}年{d.month}月{d.day}日"
    return f"{shown}（周{WEEKDAYS[d.weekday()]}）"


def _runs(days: tuple[date, ...]) -> list[tuple[date, date]]:
    runs: list[tuple[date, date]] = []
    for d in days:
        if runs and (d - runs[-1][1]).days == 1:
            runs[-1] = (runs[-1][0], d)
        else:
            runs.append((d, d))
    return runs


def describe(notice: NoticeYear) -> list[str]:
    """What was read, one line a holiday, for a person to check against the notice."""
    lines = [f"{notice.title}：{notice.year}年"]
    for item in notice.items:
        parts = []
        for a, b in _runs(item.days_off):
            n = (b - a).days + 1
            parts.append(_day(a, notice.year) if a == b else f"{_day(a, notice.year)}至{_day(b, notice.year)}，共{n}天")
        off = "、".join(parts)
        work = "、".join(_day(d, notice.year) for d in item.working_days) or "无"
        lines.append(f"  {item.name}：放假 {off}；调休上班 {work}")
    weekdays_off = sum(1 for d in notice.holidays if d.weekday() < 5)
    lines.append(
        f"  合计：放假 {len(notice.holidays)} 天（其中工作日 {weekdays_off} 天），"
        f"调休上班 {len(notice.working_days)} 天"
    )
    for note in notice.notes:
        lines.append(f"  未计入（不是放假安排）：{note}")
    return lines


# --- importing into a calendar file ----------------------------------------------------


class ImportRefused(ValueError):
    """``govhall calendar import`` will not write: bad usage, an unreadable file, no confirmation."""


def _read_notice_text(notice: str, stdin: TextIO) -> str:
    if notice == "-":
        return stdin.read()
    try:
        with open(notice, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise ImportRefused(f"{notice}: {exc.strerror}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRefused(
            f"{notice}: not UTF-8 text (convert it first, e.g. iconv -f GB18030 -t UTF-8)"
        ) from None


def _working(d: date, off: frozenset[date] | set[date], work: frozenset[date] | set[date]) -> bool:
    return d in work or (d.weekday() < 5 and d not in off)


def builtin_disagreements(notice: NoticeYear, source: DaySource) -> list[date]:
    """The days, within the span the notice covers and in years ``source``
    publishes, that the notice and ``source`` count differently."""
    days = notice.holidays | notice.working_days
    first, last = min(days), max(days)
    out = []
    d = first
    while d <= last:
        if d.year in source.published_years and _working(
            d, notice.holidays, notice.working_days
        ) != _working(d, source.holidays, source.makeup_days):
            out.append(d)
        d += timedelta(1)
    return out


def _config_value(target: Path, config_dir: Path) -> str:
    try:
        return target.resolve().relative_to(config_dir.resolve()).as_posix()
    except ValueError:
        return str(target.resolve())


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ImportRefused(f"{path}: {exc.strerror}") from None


def import_notice(
    notice: str,
    *,
    config: Config | None = None,
    config_path: str | Path | None = None,
    file: str | Path | None = None,
    yes: bool = False,
    source: DaySource | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """``govhall calendar import``: read a notice, show it, confirm, write its year.

    :param notice: a text file, or ``-`` for standard input.
    :param config: the loaded configuration, when ``config_path`` is given.
    :param config_path: the govhall.toml; the calendar file is its
        ``[calendar] file``, else ``holidays-cn.toml`` beside it (and the key is
        then appended to the config, when it has no ``[calendar]`` table).
    :param file: the calendar file, without a config (or with one that names none).
    :param yes: write without asking; without it the command asks on a
        terminal and refuses otherwise.
    :param source: the built-in calendar; a year it already publishes is
        imported only when the notice agrees with it.
    :returns: 0 when written (or already there), 1 when not confirmed or when
        the config key could not be added.
    :raises NoticeError: the notice cannot be read.
    :raises ImportRefused: bad usage, an unreadable file, no confirmation.
    :raises ConfigError: the calendar file exists and is malformed.
    """
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    text = _read_notice_text(notice, stdin)
    parsed = parse_notice(text)
    year = parsed.year

    add_key = False
    if config_path is not None:
        config_path = Path(config_path)
        if config is None:
            raise ImportRefused("import_notice: config_path needs the loaded config")
        named = config.calendar_file
        if file is not None and named is not None and Path(file).resolve() != named.resolve():
            raise ImportRefused(
                f"--file {file} is not the calendar file {config_path} names ({named}); "
                f"drop --file or change [calendar] file"
            )
        if named is not None:
            target = named
        else:
            target = Path(file) if file is not None else config.resolve(CALENDAR_FILE_DEFAULT)
            add_key = True
    elif file is not None:
        target = Path(file)
    else:
        raise ImportRefused("calendar import needs --config (a govhall.toml) or --file (the calendar file)")

    existing = read_calendar_file(target)
    if source is not None and year in source.published_years:
        wrong = builtin_disagreements(parsed, source)
        if wrong:
            shown = ", ".join(d.isoformat() for d in wrong[:6]) + (" ..." if len(wrong) > 6 else "")
            raise ImportRefused(
                f"{year} is already in the built-in calendar and the notice disagrees with it on "
                f"{shown} (a later State Council notice may have changed the year); not imported: "
                f"put corrections in [calendar] holidays / working_days of govhall.toml"
            )

    for line in describe(parsed):
        print(line, file=stdout)
    entry = CalendarYear(
        holidays=tuple(sorted(parsed.holidays)),
        working_days=tuple(sorted(parsed.working_days)),
        source=parsed.title,
    )
    config_text = None
    if add_key:
        assert config_path is not None
        try:
            config_text = config_path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ImportRefused(f"{config_path}: {exc.strerror}") from None
        has_table = "calendar" in tomllib.loads(config_text)
        key_line = f"file = {toml_string(_config_value(target, config_path.parent))}"
        if has_table:
            add_key = False
    unchanged = existing.get(year) == entry
    if unchanged and not add_key:
        print(f"{target} 已有同样的 {year} 年安排，没有改动。", file=stdout)
    else:
        what = f"写入 {target}" if not unchanged else ""
        if add_key:
            what += ("并" if what else "") + f"在 {config_path} 末尾加上 [calendar] {key_line}"
        if not yes:
            if notice == "-" or not stdin.isatty():
                raise ImportRefused(
                    f"not written: standard input is not a terminal to confirm on; "
                    f"check what was read above and pass --yes to write {target}"
                )
            stdout.write(f"{what}？[y/N] ")
            stdout.flush()
            if stdin.readline().strip().lower() not in ("y", "yes", "是"):
                print("没有写入。", file=stdout)
                return 1
        if not unchanged:
            years = dict(existing)
            replaced = year in years
            years[year] = entry
            _write_atomically(target, render_calendar_file(years))
            read_back = read_calendar_file(target)
            if read_back.get(year) != entry:  # pragma: no cover - a broken writer
                raise ImportRefused(f"{target}: the written file does not read back as written")
            print(
                f"{'已替换' if replaced else '已写入'} {target} 的 {year} 年："
                f"放假 {len(entry.holidays)} 天，调休上班 {len(entry.working_days)} 天。",
                file=stdout,
            )
        if add_key:
            assert config_path is not None and config_text is not None
            try:
                with config_path.open("a", encoding="utf-8") as fh:
                    fh.write(("" if config_text.endswith("\n") or not config_text else "\n") + f"\n[calendar]\n{key_line}\n")
            except OSError as exc:
                raise ImportRefused(f"{config_path}: {exc.strerror}") from None
            print(f"已在 {config_path} 加上 [calendar] {key_line}", file=stdout)
    if config_path is not None and config is not None and config.calendar_file is None and not add_key:
        print(
            f"govhall: {config_path} has a [calendar] table without file: add this line to it "
            f"to use {target}: {key_line}",
            file=stderr,
        )
        return 1
    if config_path is None:
        print(
            f"要让它生效，在 govhall.toml 的 [calendar] 表里写：file = {toml_string(str(target))}",
            file=stdout,
        )
    return 0
