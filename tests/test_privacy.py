"""``govhall_sdk.privacy.mask_text``: applicants' mobiles, landlines and ID numbers masked in every spelling.

Table tests give the exact output for each spelling a security review listed (and for the things that
are no phone number: dates, times, amounts, ticket ids, order numbers). Property tests generate the
spellings: country codes, any grouping with separators of every kind, full-width digits and check
letters, inside random Chinese and English text; the masked digits must be ``*`` and the number must
not be readable once separators are dropped and digits made ASCII. Masking twice is masking once.
"""
from __future__ import annotations

import ast
import json
import unicodedata
from dataclasses import dataclass, field
from datetime import date

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from govhall_sdk import privacy
from govhall_sdk.mapping import DEFAULT_NOTE_PREFIXES, note_spec, read_note
from govhall_sdk.parse import TicketError, ticket_from_dict
from govhall_sdk.privacy import mask_text
from govhall_sdk.rest.paginators import OffsetPaginator, PaginationLoop

# ------------------------------------------------------------------------------------------- tables

MASKED = [
    # the plain forms, exactly as before
    ("13812345678", "138****5678"),
    ("61020219800101123X", "610202********123X"),
    ("电话13912345678，身份证61020219800101123X", "电话139****5678，身份证610202********123X"),
    ("+86 13912345678", "+86 139****5678"),
    ("ID61020219800101123X", "ID610202********123X"),
    ("**13800138000**", "**138****8000**"),
    # mobiles with a country code
    ("8613800138000", "86138****8000"),
    ("008613800138000", "0086138****8000"),
    ("+86 138 0013 8000", "+86 138 **** 8000"),
    ("+86-138-0013-8000", "+86-138-****-8000"),
    ("(+86)13800138000", "(+86)138****8000"),
    ("（+86）13800138000", "（+86）138****8000"),
    ("＋86 13800138000", "＋86 138****8000"),
    # full-width (and other scripts') digits
    ("１３８００１３８０００", "１３８****８０００"),
    ("１３８ ００１３ ８０００", "１３８ **** ８０００"),
    ("١٣٨٠٠١٣٨٠٠٠", "١٣٨****٨٠٠٠"),
    # any grouping of the 11 digits
    ("138 0013-8000", "138 ****-8000"),
    ("1380 0138 000", "138* ***8 000"),
    ("13 800 138 000", "13 8** **8 000"),
    ("1 3 8 0 0 1 3 8 0 0 0", "1 3 8 * * * * 8 0 0 0"),
    # separators of every kind
    ("138\u00a00013\u00a08000", "138\u00a0****\u00a08000"),
    ("138\u30000013\u30008000", "138\u3000****\u30008000"),
    ("138\u20090013\u20098000", "138\u2009****\u20098000"),
    ("138\u202f0013\u202f8000", "138\u202f****\u202f8000"),
    ("138\u200b0013\u200b8000", "138\u200b****\u200b8000"),
    ("138.0013.8000", "138.****.8000"),
    ("138．0013．8000", "138．****．8000"),
    ("138·0013·8000", "138·****·8000"),
    ("138－0013－8000", "138－****－8000"),
    ("138–0013—8000", "138–****—8000"),
    ("138‐0013‑8000", "138‐****‑8000"),
    ("138 - 0013 - 8000", "138 - **** - 8000"),
    ("138/0013/8000", "138/****/8000"),
    ("138\n0013\n8000", "138\n****\n8000"),
    # escaped, as in a JSON text or a repr(): the escapes are read as the characters they stand for
    ('{"phone": "138\\n0013\\t8000"}', '{"phone": "138\\n****\\t8000"}'),
    ('{"phone": "\\uff11\\uff13\\uff18\\uff10\\uff10\\uff11\\uff13\\uff18\\uff10\\uff10\\uff10"}',
     '{"phone": "\\uff11\\uff13\\uff18****\\uff18\\uff10\\uff10\\uff10"}'),
    ('{"phone": "139\\u00a01234\\u00a05678"}', '{"phone": "139\\u00a0****\\u00a05678"}'),
    ("'139\\xa01234\\u30005678'", "'139\\xa0****\\u30005678'"),
    ('"C:\\\\new 13800138000"', '"C:\\\\new 138****8000"'),
    ('"\\u7535\\u8bdd\\u53f713800138000"', '"\\u7535\\u8bdd\\u53f7138****8000"'),  # 电话号: \u53f7 ends in a digit
    # resident ID numbers: 18 characters in groups, check letters, full width; 15 digits
    ("610202 19800101 123X", "610202 ******** 123X"),
    ("610202-19800101-123X", "610202-********-123X"),
    ("610202\u300019800101\u3000123X", "610202\u3000********\u3000123X"),
    ("610 202 1980 0101 123X", "610 202 **** **** 123X"),
    ("61020219800101123x", "610202********123x"),
    ("61020219800101123Ｘ", "610202********123Ｘ"),
    ("61020219800101123ｘ", "610202********123ｘ"),
    ("６１０２０２１９８００１０１１２３Ｘ", "６１０２０２********１２３Ｘ"),
    ("６１０２０２ １９８００１０１ １２３４", "６１０２０２ ******** １２３４"),
    ("610202800101123", "610202******123"),
    ("610202 800101 123", "610202 ****** 123"),
    ("身份证号:610202800101123。", "身份证号:610202******123。"),
    # landlines with their area code
    ("029-88881234", "029-****1234"),
    ("(029)8888-1234", "(029)****-1234"),
    ("（029）88881234", "（029）****1234"),
    ("0919 1234567", "0919 ***4567"),
    ("010-12345678", "010-****5678"),
    ("02988881234", "029****1234"),
    ("0371-6512 3456", "0371-**** 3456"),
    ("+86 29 8888 1234", "+86 29 **** 1234"),
    ("0086-10-12345678", "0086-10-****5678"),
    ("+86 (0)29 8888 1234", "+86 (0)29 **** 1234"),
    ("０２９－８８８８１２３４", "０２９－****１２３４"),
    ("029-88881234-801", "029-****1234-801"),
    # several in one text
    ("13800138000/13900139000", "138****8000/139****9000"),
    ("联系 138 0013 8000 或 029-88881234，证件 610202 19800101 123X。",
     "联系 138 **** 8000 或 029-****1234，证件 610202 ******** 123X。"),
]

LEFT_ALONE = [
    "2025-03-14",
    "2025.03.14 14:00",
    "2025/03/14 09:30:00",
    "2025-03-14T16:00:00+08:00",
    "2025-03-14 2025-03-20",
    "2025-03-14 - 2025-03-20 - 2025-04-01",
    "2019-10-15 2019-03-05 2020-04-01",
    "办理期限 2025-03-14 至 2025-03-20，共 5 个工作日",
    "14:00-16:30",
    "金额 1,380.00 元，另 12 345.67 元",
    "¥13800.00",
    "工单 #100234 与 #100235",
    "100234 100235",
    "88881234",
    "8888-1234",
    "订单 20250314123456",
    "订单 20250314123456789012",
    "202503141234567890",
    "192.168.100.200",
    "v1.2.3.4.5.6.7.8.9.10.11",
    "TC-2025-0314",
    "1234567890",
    "12345678901234",
    "13800138000123",
    "0291234567",
]


@pytest.mark.parametrize("text, expected", MASKED)
def test_each_spelling_is_masked(text, expected):
    assert mask_text(text) == expected
    assert mask_text(expected) == expected, "masking a masked text changes nothing"


@pytest.mark.parametrize("text", LEFT_ALONE)
def test_what_is_no_phone_or_id_number_is_left_alone(text):
    assert mask_text(text) == text


def test_empty_and_digitless_texts_are_returned_as_they_are():
    assert mask_text("") == ""
    text = "请申请人补正材料后再次提交。"
    assert mask_text(text) is text


# ------------------------------------------------------------------------------------------- generators

SEPARATORS = [" ", "\u00a0", "\u3000", "\u2009", "\u2002", "\u202f", "\t", "\n", "\u200b", "\ufeff", "\u00ad",
              "-", "\uff0d", "\u2013", "\u2014", "\u2010", "\u2011", "\u2212", ".", "\uff0e", "\u00b7", "\u30fb",
              "/", "\uff0f", "(", ")", "\uff08", "\uff09"]
CHECK_LETTERS = "XxＸｘ"
COUNTRY_CODES = ["86", "0086", "+86", "＋86", "(+86)", "（+86）", "+86-", "0086 ", "(86)"]
CHINESE = "申请人电话号码身份证来电请核对办理窗口张三李四联系方式补正材料已受理，。：:；、！？ "
CONTEXT = st.text(st.one_of(st.sampled_from(CHINESE), st.characters(categories=("Lu", "Ll", "Lo"))), max_size=12)
ANY_SEPARATOR = st.text(st.sampled_from(SEPARATORS), min_size=1, max_size=3)


def normalized(text: str) -> str:
    """``text`` without separators, its digits in ASCII and its check letters as ``X``: how a reader reads a number."""
    out = []
    for ch in text:
        if ch.isdecimal():
            out.append(str(unicodedata.decimal(ch)))
        elif ch in CHECK_LETTERS:
            out.append("X")
        elif ch not in SEPARATORS and not ch.isspace():
            out.append(ch)
    return "".join(out)


@dataclass
class Number:
    """A generated spelling: its text, the positions in it that must be ``*`` and those that must stay."""

    text: str = ""
    national: str = ""  # the number's own digits in ASCII (no country code, no trunk 0)
    hidden: list[int] = field(default_factory=list)
    kept: list[int] = field(default_factory=list)
    exact: bool = True  # the kept digits are all kept (an ID may lose more: a part of it can look like a mobile)

    def add(self, text: str, keep: bool = True) -> None:
        if keep:
            self.kept.extend(range(len(self.text), len(self.text) + len(text)))
        self.text += text


def digit_style(draw):
    style = draw(st.sampled_from(["ascii", "full", "mixed"]))
    if style == "mixed":
        return lambda d: draw(st.sampled_from([d, chr(0xFF10 + int(d))]))
    return (lambda d: d) if style == "ascii" else (lambda d: chr(0xFF10 + int(d)))


def spell(draw, number: Number, core: str, hidden: set[int], no_cut: set[int], style) -> Number:
    """Append ``core`` (ASCII digits, maybe a final ``X``) in groups split by separators, never at ``no_cut``."""
    cuttable = [k for k in range(1, len(core)) if k not in no_cut and core[k] != "X"]
    cuts = draw(st.sets(st.sampled_from(cuttable), max_size=6))
    for k, ch in enumerate(core):
        if k in cuts:
            number.add(draw(ANY_SEPARATOR))
        shown = draw(st.sampled_from(CHECK_LETTERS)) if ch == "X" else style(ch)
        if k in hidden:
            number.hidden.append(len(number.text))
            number.add(shown, keep=False)
        else:
            number.add(shown)
    return number


def country_code(draw, number: Number, style) -> bool:
    """Maybe a country code in front (``86``, ``0086``, ``+86``, ``(+86)``...), glued or apart."""
    code = draw(st.sampled_from(["", "", *COUNTRY_CODES]))
    if code:
        number.add("".join(style(c) if c.isdigit() else c for c in code))
        number.add(draw(st.sampled_from(["", "", " ", "-", "\u00a0", "\u3000"])))
    return bool(code)


@st.composite
def mobiles(draw) -> Number:
    style = digit_style(draw)
    number = Number()
    country_code(draw, number, style)
    core = "1" + draw(st.sampled_from("3456789")) + draw(st.text("0123456789", min_size=9, max_size=9))
    number.national = core
    return spell(draw, number, core, set(range(3, 7)), set(), style)


@st.composite
def landlines(draw) -> Number:
    style = digit_style(draw)
    number = Number()
    with_country = country_code(draw, number, style)
    area = draw(st.sampled_from(["10", *(f"2{d}" for d in range(10))]) | st.from_regex(r"[3-9][0-9]{2}", fullmatch=True))
    length = 8 if len(area) == 2 else draw(st.sampled_from([7, 8]))
    local = draw(st.from_regex(r"[2-9]", fullmatch=True)) + draw(st.text("0123456789", min_size=length - 1,
                                                                         max_size=length - 1))
    trunk = "0" if not with_country or draw(st.booleans()) else ""
    core = trunk + area + local
    start = len(trunk) + len(area)
    number.national = area + local
    # the area code is written in one piece, and without a country code the trunk 0 goes with it
    no_cut = set(range(len(trunk) + 1, start)) | (set(range(1, start)) if not with_country else set())
    return spell(draw, number, core, set(range(start, len(core) - 4)), no_cut, style)


def birth(draw, low: date, high: date) -> str:
    return draw(st.dates(min_value=low, max_value=high)).strftime("%Y%m%d")


@st.composite
def resident_ids(draw) -> Number:
    style = digit_style(draw)
    region = draw(st.from_regex(r"[1-6][0-9]{5}", fullmatch=True))
    if draw(st.booleans()):
        core = region + birth(draw, date(1900, 1, 1), date(2025, 12, 31)) + draw(st.text("0123456789", min_size=3,
                                                                                     max_size=3))
        core += draw(st.sampled_from("0123456789X"))
        hidden = set(range(6, 14))
    else:  # first generation: 15 digits, the year in two
        core = region + birth(draw, date(1900, 1, 1), date(1999, 12, 31))[2:] + draw(st.text("0123456789", min_size=3,
                                                                                         max_size=3))
        hidden = set(range(6, 12))
    number = Number(national=core, exact=False)
    return spell(draw, number, core, hidden, {1, 2}, style)


NUMBERS = st.one_of(mobiles(), landlines(), resident_ids())


def check_masked(out: str, text: str, number: Number, at: int) -> None:
    """``number``, at ``at`` in ``text``, is masked in ``out``: its hidden digits ``*``, nothing else changed."""
    assert len(out) == len(text)
    for k in number.hidden:
        assert out[at + k] == "*", (text, out)
    kept_digits = [k for k in number.kept if number.text[k].isdecimal()]
    for k in number.kept:
        if k in kept_digits and not number.exact:
            assert out[at + k] in (number.text[k], "*"), (text, out)
        else:
            assert out[at + k] == number.text[k], (text, out)
    assert number.national not in normalized(out), (text, out)


# ------------------------------------------------------------------------------------------- properties

@settings(deadline=None, max_examples=400)
@given(NUMBERS, CONTEXT, CONTEXT)
def test_a_number_in_any_spelling_is_masked_inside_text(number, before, after):
    text = before + number.text + after
    out = mask_text(text)
    check_masked(out, text, number, len(before))
    assert out[:len(before)] == before and out[len(before) + len(number.text):] == after
    assert mask_text(out) == out


@settings(deadline=None, max_examples=300)
@given(NUMBERS, CONTEXT, CONTEXT, st.sampled_from(["json", "json-ascii", "repr"]))
def test_a_number_in_a_json_text_or_a_repr_is_masked(number, before, after, how):
    """Escaped (``\\uff11``, ``\\u00a0``, ``\\xa0``, ``\\n``, a Chinese character as ``\\u53f7``), it is read as
    what it stands for: decoded again, the text is the masked text."""
    text = before + number.text + after
    encode = {"json": lambda t: json.dumps(t, ensure_ascii=False), "json-ascii": json.dumps, "repr": repr}[how]
    decode = ast.literal_eval if how == "repr" else json.loads
    out = decode(mask_text(encode(text)))
    check_masked(out, text, number, len(before))
    assert out == mask_text(text)


@settings(deadline=None, max_examples=200)
@given(resident_ids())
def test_an_id_number_shows_no_birth_date(number):
    out = normalized(mask_text(f"身份证{number.text}号"))
    born = number.national[6:14] if len(number.national) == 18 else number.national[6:12]
    assert born not in out and number.national not in out


@settings(deadline=None, max_examples=200)
@given(st.lists(NUMBERS, min_size=2, max_size=4), st.lists(ANY_SEPARATOR | CONTEXT.filter(bool), min_size=3,
                                                              max_size=3))
def test_numbers_side_by_side_each_stay_masked(numbers, joints):
    """Joined by separators or by words, each number keeps its masked digits masked."""
    text, starts = "", []
    for number, joint in zip(numbers, joints * 2):
        starts.append(len(text))
        text += number.text + joint
    out = mask_text(text)
    for number, at in zip(numbers, starts):
        for k in number.hidden:
            assert out[at + k] == "*", (text, out)
    assert mask_text(out) == out


SOUP = st.text(st.sampled_from(["0", "1", "2", "3", "8", "9", "６", "X", "x", "Ｘ", "*", "+", " ", "-", "(", ")",
                                "．", "\u00a0", "\u3000", "\\", "n", "申", "a"]), max_size=120)


@settings(deadline=None, max_examples=500)
@given(SOUP | st.text(max_size=80))
@example("13800131391 2345678")
@example("1380 0131 391 2345678")
@example("029 88885 1380 0131 391")
def test_masking_twice_is_masking_once_and_only_turns_digits_into_stars(text):
    out = mask_text(text)
    assert mask_text(out) == out
    if "\\" not in text:  # an escaped digit (\\x31) that is masked becomes one star
        assert len(out) == len(text)
        assert all(o == t or (o == "*" and t.isdecimal()) for o, t in zip(out, text))


@settings(deadline=None)
@given(st.text(st.characters(exclude_categories=("Nd",))))
def test_text_without_digits_is_unchanged(text):
    assert mask_text(text) == text


@settings(deadline=None)
@given(st.text(st.sampled_from("0123456789０１２３ -.()申a"), max_size=60).filter(
    lambda t: sum(c.isdecimal() for c in t) < 11))
def test_text_with_fewer_than_11_digits_is_unchanged(text):
    assert mask_text(text) == text


@st.composite
def not_numbers(draw) -> str:
    day = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)))
    sep = draw(st.sampled_from(["-", ".", "/"]))
    iso = day.strftime(f"%Y{sep}%m{sep}%d")
    hour, minute = draw(st.integers(0, 23)), draw(st.integers(0, 59))
    return draw(st.sampled_from([
        iso,
        f"{iso} {hour:02d}:{minute:02d}",
        f"{day.isoformat()}T{hour:02d}:{minute:02d}:00+08:00",
        f"{hour}:{minute:02d}-{hour}:{minute:02d}",
        f"#{draw(st.integers(100000, 999999))}",
        f"{draw(st.integers(0, 10**7))}.{draw(st.integers(0, 99)):02d}元",
        f"{draw(st.integers(0, 999))},{draw(st.integers(0, 999)):03d},{draw(st.integers(0, 999)):03d}",
        f"{draw(st.integers(10**7, 10**8 - 1))}",
        f"20{draw(st.integers(10**11, 10**12 - 1))}",  # a 14-digit order number
        f"20{draw(st.integers(10**17, 10**22))}",  # 20 digits and more
    ]))


@settings(deadline=None, max_examples=300)
@given(st.lists(not_numbers(), min_size=1, max_size=4),
       st.lists(st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)), min_size=1, max_size=4),
       st.sampled_from([" ", " - ", "  ", "\u3000", " ~ "]))
def test_dates_times_amounts_and_ids_are_left_alone(items, days, joint):
    text = "，".join(items) + " 期间 " + joint.join(d.isoformat() for d in days)
    assert mask_text(text) == text


def test_the_work_is_linear_in_the_length_of_the_text(monkeypatch):
    """Every masked digit can make another number readable-looking next to it; each is checked once."""
    calls = []
    recognise = privacy._recognise
    monkeypatch.setattr(privacy, "_recognise", lambda digits, cuts: calls.append(1) or recognise(digits, cuts))

    def work(links):
        calls.clear()
        out = mask_text("13800131391 " + "2341391 " * links)
        assert "2341391" not in out
        return len(calls)

    small, large = work(200), work(800)
    assert large < 4.5 * small


# ------------------------------------------------------------------------------------------- masked, then cut

PREFIX = "申请人自述：本人因工作调动需办理户籍变更登记，身份证号码为"
LONG_ID = PREFIX + "61020219800101123X" + "，请核对后受理，电话 13912345678 联系"


def test_a_parse_error_quotes_a_long_value_masked_before_it_is_cut():
    """The quote is cut at 40 characters, inside the ID number's birth date: the number is masked whole first."""
    assert len(PREFIX) + 6 < 40 < len(PREFIX) + 14, "cut first, the quote would end in the birth date"
    with pytest.raises(TicketError) as caught:
        ticket_from_dict({"id": "T-1", "kind": "application", "channel": "counter",
                          "created_at": "2025-03-14T09:00:00+08:00", "accepted_at": LONG_ID})
    message = str(caught.value)
    assert "accepted_at" in message and "610202****" in message
    assert "1980" not in normalized(message) and "0101" not in normalized(message)


def test_a_cut_in_the_middle_of_an_id_number_leaves_no_birth_date():
    """Cut first, ``61020219800`` would no longer be a number; masked first, the cut shows only stars."""
    for cut in range(20, 45):
        value = "x" * (cut - 10) + "61020219800101123X"
        with pytest.raises(TicketError) as caught:
            ticket_from_dict({"id": "T-1", "kind": "application", "channel": "counter",
                              "created_at": "2025-03-14T09:00:00+08:00", "accepted_at": value})
        assert "1980" not in normalized(str(caught.value)), cut


def test_a_note_value_is_masked_before_it_is_cut():
    problems = []
    read_note("[延期]", note_spec(DEFAULT_NOTE_PREFIXES["[延期]"]), " 工作日: " + LONG_ID, problems)
    (problem,) = problems
    assert "610202****" in problem and "1980" not in problem


def test_a_repeated_page_token_is_masked_before_it_is_cut():
    paginator = OffsetPaginator()
    token = "cursor-for-applicant-" + "61020219800101123X"
    paginator._guard(token)
    with pytest.raises(PaginationLoop) as caught:
        paginator._guard(token)
    assert "610202****" in str(caught.value) and "1980" not in str(caught.value)
