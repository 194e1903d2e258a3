"""A note's masking, the text before its marker masked apart (``patch._masked_note``), is the masking of the whole."""
from __future__ import annotations

import random

from govhall_sdk.privacy import mask_text, mask_unique, none_masked

PIECES = ["1", "3", "8", "0", "13800138000", "610202198001011234", "029", "8888", "1234", "86", "+", "-", " ",
          "\u00a0", ".", "(", ")", "（", "）", "/", "X", "x", "Ｘ", "１", "３", "８", "a", "号", "：", "】", "\\n", "\\"]


def _text(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(PIECES) for _ in range(n))


def test_the_head_and_the_marker_mask_as_the_whole():
    rng = random.Random(14)
    for _ in range(4000):
        head = _text(rng, rng.randrange(0, 12))
        marker = "[govhall:" + _text(rng, rng.randrange(0, 8)) + "]"
        whole = mask_unique(head + marker)
        if "\\" not in head and "\\" not in marker:
            assert mask_text(head) + mask_unique(marker) == whole, (head, marker)
        assert mask_text(head + marker) == whole


def test_none_masked_answers_as_masking_each_text():
    """``none_masked`` (decided per digit shape) is True only when masking changes none of the texts, and False
    for any text with a stretch of 11 digits (then each is masked: a long number not masked, such as an order
    number, costs that pass, never a wrong note)."""
    rng = random.Random(15)
    for _ in range(3000):
        texts = ["[govhall:" + _text(rng, rng.randrange(0, 10)) + "]" for _ in range(rng.randrange(1, 5))]
        if any(mask_unique(t) != t for t in texts):
            assert not none_masked(texts), texts
        digits_only = ["".join(c for c in t if c.isdigit()) for t in texts]
        if all(len(d) < 11 for d in digits_only):
            assert none_masked(texts), texts
    assert none_masked(["[govhall:fr.forbidden_phrase:2025-03-03T09:00:01+08:00]"] * 3)
    assert not none_masked(["[govhall:x:2025-03-03]", "[govhall:x:13800138000]"])
    assert not none_masked(["[govhall:x:１３８００１３８０００]"])  # full-width digits: not ASCII, masked one by one
