"""A note's masking, the text before its marker masked apart (``patch._masked_note``), is the masking of the whole."""
from __future__ import annotations

import random

from govhall_sdk.privacy import mask_text, mask_unique

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
