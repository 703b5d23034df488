"""Mention derivation from the gold subject, matching keys, and the longest common substring."""
from __future__ import annotations

import random

import pytest

from zhnlp_kbqa.mentions import derive_mention, longest_common_substring, mask_mention
from zhnlp_kbqa.normalize import (alias_key, char_overlap, key, key_with_offsets, lookup_key, overlap_units,
                                  strip_parenthetical)

CASES = [
    # question, subject, expected mention text, method
    ("《机械设计基础》这本书的作者是谁？", "机械设计基础", "机械设计基础", "exact"),
    ("笑傲江湖是什么语种的电视剧", "《笑傲江湖》", "笑傲江湖", "normalized"),
    ("请问史蒂芬霍金的著名成就是什么？", "史蒂芬·霍金", "史蒂芬霍金", "normalized"),
    ("请问史蒂芬·霍金的国籍？", "史蒂芬霍金", "史蒂芬·霍金", "normalized"),
    ("请问iPad的输入方式有什么？", "ipad", "iPad", "normalized"),
    ("ＩＰＡＤ 多少钱", "ipad", "ＩＰＡＤ", "normalized"),
    ("方正圆明hr580的标准内存容量有多大？", "方正圆明 hr580", "方正圆明hr580", "normalized"),
    ("李娜的出生日期是哪天？", "李娜（网球运动员）", "李娜", "alias"),
    ("hp pavilion dv2304tx的显示屏是什么尺寸的？", "hp pavilion dv2304tx(gc235pa)", "hp pavilion dv2304tx", "alias"),
    ("HP Pavilion DV2304TX的显示屏？", "hp pavilion dv2304tx(gc235pa)", "HP Pavilion DV2304TX", "alias"),
    ("万达的总部在哪", "万达广场", "万达", "partial"),
    ("我想问一下多沦落猛龙队是啥时候建立的？", "多伦多猛龙队", "猛龙队", "partial"),
]


@pytest.mark.parametrize("question, subject, text, method", CASES)
def test_derive_mention(question, subject, text, method):
    m = derive_mention(question, subject)
    assert m is not None and (m.text, m.method) == (text, method)
    assert question[m.start : m.end] == m.text  # offsets into the ORIGINAL question


@pytest.mark.parametrize("question, subject", [
    ("海地人是什么种族的？", "海底人"),       # only one shared char in a row
    ("郑州驱逐舰型号是什么有人知道吗", "郑州号导弹驱逐舰"),  # common part < half the subject
    ("谁写的？", "机械设计基础"),
])
def test_no_mention(question, subject):
    assert derive_mention(question, subject) is None


def test_min_partial_is_respected():
    assert derive_mention("万达的总部在哪", "万达广场", min_partial=0.6) is None


def test_first_occurrence_and_mask():
    m = derive_mention("鳞是什么？鳞的笔画", "鳞")
    assert (m.start, m.end) == (0, 1)
    assert mask_mention("李娜的生日", 0, 2, "◆") == "◆的生日"


def test_keys():
    assert key("《史蒂芬·霍金》 ") == "史蒂芬霍金"
    assert key("ＡＢＣ　Ｄ") == "abcd"
    assert key("！？。") == "" and lookup_key(" ！！ ") == "！！"
    text = "ａ，Ｂ《c》"
    k, origin = key_with_offsets(text)
    assert k == "abc" and [text[i] for i in origin] == ["ａ", "Ｂ", "c"]
    assert strip_parenthetical("李娜（网球运动员）") == "李娜"
    assert strip_parenthetical("慧炬u盘 (8gb)") == "慧炬u盘"
    assert strip_parenthetical("（仅括号）") == "（仅括号）"  # nothing left: keep the name
    assert alias_key("李娜（网球运动员）") == "李娜" and alias_key("李娜") is None
    assert char_overlap("万达", "万达广场") == pytest.approx(2 * 2 / 6)
    assert char_overlap("", "x") == 0.0
    assert overlap_units("ntn2220轴承x") == ["nt", "tn", "n2", "22", "22", "20", "轴", "承", "x"]
    assert char_overlap(key("'; DROP TABLE triples; --"), key("sepboo sepad-615portable")) < 0.25


def brute_force_lcs(a: str, b: str) -> int:
    return max((j - i for i in range(len(a)) for j in range(i + 1, len(a) + 1) if a[i:j] in b), default=0)


def test_longest_common_substring_against_brute_force():
    rng = random.Random(0)
    for _ in range(300):
        a = "".join(rng.choice("abcd") for _ in range(rng.randint(0, 9)))
        b = "".join(rng.choice("abcd") for _ in range(rng.randint(0, 9)))
        start, length = longest_common_substring(a, b)
        assert length == brute_force_lcs(a, b)
        assert a[start : start + length] in b
