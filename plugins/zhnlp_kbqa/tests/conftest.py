"""Shared fixtures of the zhnlp_kbqa tests: the bundled tiny sample and the ../shared folder."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

DATA = Path(__file__).parent / "data"

# A small KB with the shapes the pipeline must cope with: a parenthetical disambiguation, two
# entities sharing an alias, quotes, % and _ in names, SQL-looking objects.
TRIPLES = [
    ("李娜（网球运动员）", "出生日期", "1982年2月26日"),
    ("李娜（网球运动员）", "职业", "网球运动员"),
    ("李娜（歌手）", "代表作品", "青藏高原"),
    ("李娜（歌手）", "出生日期", "1963年"),
    ("机械设计基础", "作者", "杨可桢，程光蕴，李仲生"),
    ("机械设计基础", "出版社", "高等教育出版社"),
    ("机械设计", "作者", "濮良贵"),
    ("多伦多猛龙队", "成立时间", "1995年"),
    ("史蒂芬·霍金", "国籍", "英国"),
    ("史蒂芬·霍金", "别名", "霍金"),
    ("100%纯棉", "材质", "棉"),
    ("a_b", "别名", "x'); DROP TABLE triples; --"),
    ("O'Brien \"Q\"", "国籍", "爱尔兰"),
]


def write_triples(path: Path, triples=TRIPLES, extra_lines: tuple[str, ...] = ()) -> Path:
    path.write_text("".join(f"{s} ||| {p} ||| {o}\n" for s, p, o in triples) + "".join(extra_lines), encoding="utf-8")
    return path


@pytest.fixture
def kbdata():
    """The helpers above as a namespace (test modules cannot import conftest in importlib mode)."""
    return SimpleNamespace(TRIPLES=TRIPLES, write_triples=write_triples, DATA=DATA)
