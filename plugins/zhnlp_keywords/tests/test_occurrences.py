"""Keyword occurrence alignment: every occurrence, overlaps, width / case normalisation."""
from zhnlp_keywords.occurrences import find_occurrences, keyword_entities, select_non_overlapping
from zhnlp_keywords.text import normalize_keyword


def spans(occ):
    return [(o["start"], o["end"], o["text"]) for o in occ]


def test_all_occurrences_in_original_offsets():
    text = "深度学习很火。我们用深度学习做深度学习研究"
    occ = find_occurrences(text, ["深度学习"])
    assert spans(occ) == [(0, 4, "深度学习"), (10, 14, "深度学习"), (15, 19, "深度学习")]
    assert all(text[o["start"]:o["end"]] == o["text"] and o["type"] == "KW" for o in occ)


def test_width_and_case_normalisation():
    text = "采用ＧＰＵ加速与Lstm模型,gpu集群"
    occ = find_occurrences(text, ["GPU", "LSTM模型"])
    assert spans(occ) == [(2, 5, "ＧＰＵ"), (8, 14, "Lstm模型"), (15, 18, "gpu")]
    assert normalize_keyword(" ＬＳＴＭ  模型 ") == "lstm 模型"


def test_overlapping_and_nested_keywords():
    text = "全过程管理与项目管理"
    occ = find_occurrences(text, ["全过程管理", "管理", "过程"])
    assert spans(occ) == [(0, 5, "全过程管理"), (1, 3, "过程"), (3, 5, "管理"), (8, 10, "管理")]
    kept = select_non_overlapping(occ)
    assert spans(kept) == [(0, 5, "全过程管理"), (8, 10, "管理")]
    ents = keyword_entities(text, ["全过程管理", "管理", "过程"])
    assert [(e["start"], e["end"]) for e in ents] == [(0, 5), (8, 10)] and "keyword" not in ents[0]


def test_self_overlapping_occurrences():
    assert [(o["start"], o["end"]) for o in find_occurrences("哈哈哈", ["哈哈"])] == [(0, 2), (1, 3)]


def test_latin_word_boundaries():
    text = "mRNA与RNA测序,RNA-seq"
    assert [(o["start"], o["end"]) for o in find_occurrences(text, ["RNA"])] == [(5, 8), (11, 14)]
    # a keyword ending in a Chinese char may be followed by anything
    assert [(o["start"], o["end"]) for o in find_occurrences("RNA测序abc", ["RNA测序"])] == [(0, 5)]


def test_expanding_chars_match_whole_only():
    text = "重量5㎏左右"  # ㎏ normalises to "kg"
    assert spans(find_occurrences(text, ["5kg"])) == [(2, 4, "5㎏")]
    assert find_occurrences(text, ["5k"]) == []  # half of an expanded char is no match


def test_absent_empty_and_duplicate_keywords():
    assert find_occurrences("文本", ["不存在", "", "  "]) == []
    assert len(find_occurrences("图像图像", ["图像", "图像", "ＩＭＧ"])) == 2
