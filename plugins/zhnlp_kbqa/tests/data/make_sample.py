"""Write the tiny synthetic NLPCC-format sample used by the zhnlp_kbqa tests (deterministic).

    python make_sample.py      # -> train.txt, dev.txt, kb.txt next to this file

Entities are invented (people, books, towns); some names carry a parenthetical disambiguation
that the questions leave out, some questions write the digits of a name in full width, and the
KB has distractor entities, quotes and % in names and objects.
"""
from __future__ import annotations

import random
from pathlib import Path

HERE = Path(__file__).parent
FULL_WIDTH = {ord(c): chr(ord(c) + 0xFEE0) for c in "0123456789"}
SURNAMES = "王李张刘陈杨黄赵周吴徐孙马朱胡郭何林罗高"
GIVEN = ["晓峰", "雨桐", "子墨", "一鸣", "思远", "海涛", "静怡", "文博", "嘉欣", "浩然", "梦琪", "俊杰"]
BOOK_WORDS = ["数据", "结构", "原理", "算法", "设计", "基础", "工程", "分析", "导论", "实践", "方法", "系统"]
TOWNS = ["青石", "白河", "东岭", "南湖", "西山", "北川", "清水", "龙门"]
PERSON = [("出生日期", "{n}的出生日期是哪天？", lambda r: f"19{r.randint(50, 99)}年{r.randint(1, 12)}月"),
          ("国籍", "{n}是哪国人？", lambda r: r.choice(["中国", "日本", "法国", "巴西"])),
          ("毕业院校", "{n}毕业于哪所学校？", lambda r: r.choice(["北京大学", "复旦大学", "浙江大学"]) )]
BOOK = [("作者", "《{n}》这本书的作者是谁？", lambda r: r.choice(SURNAMES) + r.choice(GIVEN)),
        ("出版社", "{n}是哪个出版社出版的？", lambda r: r.choice(["人民邮电出版社", "清华大学出版社", "科学出版社"])),
        ("isbn", "请问{n}的ISBN是多少？",
         lambda r: f"978-7-{r.randint(100, 999)}-{r.randint(10000, 99999)}-{r.randint(0, 9)}")]
TOWN = [("面积", "{n}的面积有多大？", lambda r: f"{r.randint(10, 900)}平方公里"),
        ("人口", "{n}有多少人口？", lambda r: f"{r.randint(1, 90)}万"),
        ("所属地区", "{n}属于哪个地区？", lambda r: r.choice(["华东", "华南", "西北"]))]


def main() -> None:
    r = random.Random(7)
    entities = []  # (kb name, name used in questions, attribute table)
    for i in range(40):
        name = r.choice(SURNAMES) + GIVEN[i % len(GIVEN)] + ("" if i < 24 else str(i))
        kb_name = name + "（网球运动员）" if i % 5 == 0 else name
        entities.append((kb_name, name, PERSON))
    for i in range(40):
        name = "".join(r.sample(BOOK_WORDS, 2 + i % 2))
        entities.append((name, name, BOOK))
    for i, t in enumerate(TOWNS):
        entities.append((t + "镇", t + "镇", TOWN))
    seen, triples, questions = set(), [], []
    for kb_name, name, table in entities:
        if kb_name in seen:
            continue
        seen.add(kb_name)
        for pred, template, value in table:
            obj = value(r)
            triples.append((kb_name, pred, obj))
            shown = name.translate(FULL_WIDTH) if r.random() < 0.3 else name  # ２４ for 24
            questions.append((template.format(n=shown), (kb_name, pred, obj)))
    r.shuffle(questions)
    cut = int(len(questions) * 0.8)
    for fname, part, first in (("train.txt", questions[:cut], 1), ("dev.txt", questions[cut:], 5001)):
        with (HERE / fname).open("w", encoding="utf-8") as f:
            for n, (q, (s, p, o)) in enumerate(part, first):
                f.write(f"<question id={n}>\t{q}\n<triple id={n}>\t{s} ||| {p} ||| {o}\n<answer id={n}>\t{o}\n")
                f.write("=" * 50 + "\n")
    extra = [("机械设计基础", "作者", "杨可桢，程光蕴，李仲生"), ("100%纯棉", "材质", "棉"),
             ("O'Brien \"Quote\"", "国籍", "爱尔兰"), ("a_b%c", "别名", "下划线; DROP TABLE x"),
             ("白河镇（旧称）", "面积", "12平方公里")]
    with (HERE / "kb.txt").open("w", encoding="utf-8") as f:
        for s, p, o in triples + extra:
            f.write(f"{s} ||| {p} ||| {o}\n")
    print(f"{cut} train, {len(questions) - cut} dev questions, {len(triples) + len(extra)} triples")


if __name__ == "__main__":
    main()
