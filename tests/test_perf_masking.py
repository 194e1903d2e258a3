"""The patch's notes, masked by pieces (``patch._masked_notes``: the text before each marker apart, the markers
together), are the masking of each whole note; ``Context.fmt``'s remembered minute shows what a fresh context
shows, and ``Context.iso`` writes what ``isoformat`` writes, instant by instant."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import attrs

from govhall_sdk.config import default_config
from govhall_sdk.engine import Context
from govhall_sdk.host import get_plugin_manager
from govhall_sdk.model import Finding
from govhall_sdk.patch import _masked_notes, note_body
from govhall_sdk.privacy import mask_unique

PIECES = ["1", "3", "8", "0", "13800138000", "610202198001011234", "029", "8888", "1234", "86", "+", "-", " ",
          "\u00a0", ".", "(", ")", "（", "）", "/", "X", "x", "Ｘ", "１", "３", "８", "a", "号", "：", "】", "[", "]",
          "\\n", "\\", "T", ":"]


def _text(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(PIECES) for _ in range(n))


def _context(lang: str) -> Context:
    config = attrs.evolve(default_config(get_plugin_manager()), lang=lang)
    return Context(datetime(2025, 3, 14, tzinfo=timezone(timedelta(hours=8))), config, None)


def test_notes_masked_by_pieces_are_the_masking_of_each_note():
    rng = random.Random(14)
    for lang in ("zh", "en"):
        ctx = _context(lang)
        for _ in range(300):
            pending = []
            clauses, messages = [_text(rng, 3) for _ in range(2)], [_text(rng, rng.randrange(0, 10)) for _ in range(3)]
            for _ in range(rng.randrange(1, 6)):
                finding = Finding("fr.forbidden_phrase", "first_responsibility", "violation", rng.choice(clauses),
                                  rng.choice(messages))
                marker = rng.choice(["[govhall:", "[govhall:", "govhall:", ""]) + _text(rng, rng.randrange(0, 8)) + "]"
                pending.append((finding, marker, rng.random() < 0.3))
            notes = _masked_notes(*(list(column) for column in zip(*pending)), ctx)
            assert [(n.code, n.marker) for n in notes] == [(f.code, m) for f, m, _ in pending]
            assert [n.body for n in notes] == [mask_unique(note_body(f, ctx, m, p)) for f, m, p in pending]


def test_fmt_remembers_a_minute_only_for_the_instants_it_shows():
    rng = random.Random(7)
    ctx, zones = _context("zh"), [timezone(timedelta(hours=h, minutes=m)) for h, m in ((8, 0), (0, 0), (5, 30), (-3, -30))]
    t = datetime(2025, 3, 3, 9, 0, 59, tzinfo=timezone.utc)
    for _ in range(3000):
        t += timedelta(seconds=rng.choice([0, 1, 29, 59, 60, 3600]), microseconds=rng.choice([0, 1, 999999]))
        instant = t.astimezone(rng.choice(zones))
        assert ctx.fmt(instant) == _context("zh").fmt(instant), instant


def test_iso_is_isoformat_instant_by_instant():
    rng = random.Random(8)
    ctx = _context("zh")
    zones = [timezone(timedelta(hours=8)), timezone.utc, timezone(timedelta(hours=-5, seconds=17)),
             timezone(timedelta(hours=5, minutes=30, microseconds=5))]
    t = datetime(999, 12, 31, 23, 58, tzinfo=timezone.utc)
    for _ in range(3000):
        t += timedelta(seconds=rng.choice([0, 1, 29, 59, 60, 86400 * 400]), microseconds=rng.choice([0, 1, 999999]))
        instant = t.astimezone(rng.choice(zones))
        assert ctx.iso(instant) == instant.isoformat(), instant
    naive = datetime(2025, 3, 3, 9, 0, 1)
    assert ctx.iso(naive) == naive.isoformat()
