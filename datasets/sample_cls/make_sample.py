#!/usr/bin/env python3
"""Generate the zhnlp sample Chinese topic-classification dataset (4 classes).

Everything here (templates, filler lists) was written by hand for zhnlp; nothing is copied
from any corpus. The output is fully deterministic (fixed seed, standard library only):

    python datasets/sample_cls/make_sample.py            # writes train/dev/test.tsv next to this file
    python datasets/sample_cls/make_sample.py --out DIR  # writes elsewhere
    python datasets/sample_cls/make_sample.py --stats    # also prints counts

Classes: sports, finance, tech, entertainment (short news-headline-like sentences).
Generalisation: every filler list is shuffled with the seed and split 60/20/20 into
train / dev / test pools, so dev and test sentences use team, company, product and star names
never seen in train. Templates are shared; texts are de-duplicated across splits.

Output: TSV with header ``label<TAB>text_a`` (the ChnSentiCorp layout), UTF-8, LF line endings.
"""
from __future__ import annotations

import argparse
import random
from collections import Counter
from pathlib import Path

SEED = 20240607
SIZES = {"train": 300, "dev": 80, "test": 80}
SPLIT_FRACTIONS = (0.6, 0.2, 0.2)

# --------------------------------------------------------------------------
# Filler lists (hand-written). Each is split into train / dev / test pools.
# --------------------------------------------------------------------------
FILLERS: dict[str, list[str]] = {
    "team": ["上海申花", "北京国安", "广州队", "山东泰山", "成都蓉城", "武汉三镇", "浙江队", "河南队",
             "长春亚泰", "天津津门虎", "辽宁男篮", "广东男篮", "新疆男篮", "浙江稠州", "青岛海牛", "深圳新鹏城",
             "沧州雄狮", "梅州客家", "大连人", "南通支云"],
    "athlete": ["张伟", "李娜娜", "王浩然", "刘洋", "陈一鸣", "赵思远", "孙小雨", "周志强", "吴天宇", "郑凯文",
                "马晓东", "胡静怡", "高远", "林子豪", "何振华"],
    "event": ["亚洲杯", "世锦赛", "全运会", "亚运会", "中超联赛", "CBA总决赛", "马拉松", "羽毛球公开赛",
              "乒乓球团体赛", "游泳冠军赛"],
    "company": ["华信科技", "恒远集团", "中联银行", "东方证券公司", "北辰地产", "宏达汽车", "新锐医药", "嘉禾食品",
                "天启能源", "万通物流", "金桥保险", "瑞丰纺织", "海川化工", "云帆航空", "长风电器"],
    "product": ["X9手机", "星河平板", "Nova耳机", "极光笔记本", "智联手表", "灵犀音箱", "AI翻译笔", "5G路由器",
                "折叠屏手机", "VR眼镜", "扫地机器人", "智能门锁", "无人机", "电动牙刷", "固态硬盘"],
    "tech_org": ["云启实验室", "深蓝研究院", "星辰芯片", "量子云", "灵动软件", "极客网络", "未来智造", "飞腾半导体",
                 "光年AI", "数安科技", "天枢算力", "微光视觉"],
    "star": ["林晓晓", "周子墨", "苏芮", "江一帆", "唐可欣", "陆明轩", "白露露", "秦朗", "韩梦琪", "许嘉豪",
             "叶知秋", "沈星辰", "顾南希", "夏天"],
    "work": ["《长夜》", "《山海之间》", "《追光者》", "《第七天》", "《风起时》", "《归途》", "《星河入梦》",
             "《旧城往事》", "《少年行》", "《雾中人》", "《明日之后》", "《青春纪》"],
}

NUM = {
    "score": ["2比1", "3比0", "1比1", "98比95", "3比2", "110比102", "4比1", "0比2"],
    "pct": ["3.5%", "12%", "0.8%", "7.2%", "15.6%", "2.1%", "21%", "5%"],
    "money": ["120亿元", "3.6亿元", "8000万元", "56亿元", "1.2万亿元", "9亿美元", "45亿港元"],
    "year": ["2023年", "2024年", "今年", "去年", "上半年", "第三季度", "一季度"],
    "count": ["10万", "300万", "5000", "1.5亿", "800多万", "两千万"],
}

TEMPLATES: dict[str, list[str]] = {
    "sports": [
        "{team}主场{score}战胜{team}，联赛排名升至第三",
        "{athlete}在{event}上夺得金牌，创造个人最好成绩",
        "{event}半决赛：{team}加时{score}险胜对手",
        "国家队公布{event}大名单，{athlete}时隔两年回归",
        "{athlete}伤愈复出，{team}迎来强援",
        "{team}主教练赛后表示球队防守还需改进",
        "{athlete}打破{event}纪录，现场观众起立鼓掌",
        "{year}{event}落幕，{team}成功卫冕",
        "{team}官宣签下前锋{athlete}，合同为期三年",
        "{athlete}：我会在{event}上全力以赴",
        "{event}小组赛次轮，{team}{score}逼平强敌",
        "女排姑娘们备战{event}，{athlete}担任队长",
    ],
    "finance": [
        "{company}{year}净利润同比增长{pct}，股价应声上涨",
        "央行宣布下调存款准备金率，释放长期资金约{money}",
        "{company}拟以{money}收购同行业公司",
        "A股三大指数集体收涨，{company}涨停",
        "{company}发布公告称{year}营收达到{money}",
        "人民币兑美元汇率小幅回升，外汇储备增至{money}",
        "多家银行下调房贷利率，{company}率先执行",
        "{company}完成新一轮融资，估值超过{money}",
        "{year}社会消费品零售总额同比增长{pct}",
        "{company}债券违约风险上升，评级被下调",
        "基金经理看好消费板块，{company}获大幅加仓",
        "{company}宣布分红方案，每10股派现{pct}",
    ],
    "tech": [
        "{tech_org}发布新一代{product}，续航提升{pct}",
        "{tech_org}研发出新型AI芯片，算力翻倍",
        "{product}开售首日销量突破{count}台",
        "{tech_org}开源大模型，参数规模达千亿级",
        "5G基站数量突破{count}个，覆盖所有地级市",
        "{tech_org}推出{product}，支持卫星通信",
        "评测：{product}的屏幕和影像表现如何？",
        "{tech_org}与高校共建人工智能实验室",
        "操作系统更新修复多个安全漏洞，{product}用户可升级",
        "{tech_org}自动驾驶测试里程超过{count}公里",
        "量子计算取得新突破，{tech_org}实现稳定纠缠",
        "{product}发布会定档，{tech_org}称将带来惊喜😀",
    ],
    "entertainment": [
        "{star}主演的电影{work}票房突破{money}",
        "{star}新专辑上线，首日播放量超过{count}次",
        "电视剧{work}今晚开播，{star}饰演女主角",
        "{star}与{star}同框亮相电影节红毯",
        "{work}定档暑期，{star}首次挑战反派角色",
        "{star}演唱会门票开售一分钟即售罄",
        "综艺节目邀请{star}担任常驻嘉宾",
        "{star}凭借{work}获得最佳男主角提名",
        "导演透露{work}续集正在筹备中",
        "{star}工作室发布声明，否认恋爱传闻",
        "{work}豆瓣评分出炉，观众称赞{star}演技",
        "{star}现身机场，粉丝接机场面热闹",
    ],
}


def split_pools(rng: random.Random) -> dict[str, dict[str, list[str]]]:
    """Per split, the filler pools (disjoint across splits)."""
    pools: dict[str, dict[str, list[str]]] = {"train": {}, "dev": {}, "test": {}}
    for key, items in FILLERS.items():
        items = list(items)
        rng.shuffle(items)
        n = len(items)
        a = round(n * SPLIT_FRACTIONS[0])
        b = a + round(n * SPLIT_FRACTIONS[1])
        pools["train"][key], pools["dev"][key], pools["test"][key] = items[:a], items[a:b], items[b:]
    return pools


def fill(template: str, pool: dict[str, list[str]], rng: random.Random) -> str:
    """Replace every ``{slot}`` left to right; the same slot twice gets two different values."""
    out, i = [], 0
    used: dict[str, set[str]] = {}
    while i < len(template):
        if template[i] == "{":
            j = template.index("}", i)
            slot = template[i + 1 : j]
            choices = pool.get(slot) or NUM[slot]
            free = [c for c in choices if c not in used.get(slot, set())] or choices
            value = rng.choice(free)
            used.setdefault(slot, set()).add(value)
            out.append(value)
            i = j + 1
        else:
            out.append(template[i])
            i += 1
    return "".join(out)


def generate() -> dict[str, list[tuple[str, str]]]:
    """Rows (label, text) per split."""
    rng = random.Random(SEED)
    pools = split_pools(rng)
    seen: set[str] = set()
    labels = sorted(TEMPLATES)
    data: dict[str, list[tuple[str, str]]] = {}
    for split, size in SIZES.items():
        rows: list[tuple[str, str]] = []
        attempts = 0
        while len(rows) < size:
            attempts += 1
            if attempts > 100 * size:
                raise RuntimeError(f"cannot generate {size} distinct {split} texts")
            label = labels[len(rows) % len(labels)]
            text = fill(rng.choice(TEMPLATES[label]), pools[split], rng)
            if text in seen:
                continue
            seen.add(text)
            rows.append((label, text))
        rng.shuffle(rows)
        data[split] = rows
    return data


def write(data: dict[str, list[tuple[str, str]]], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for split, rows in data.items():
        lines = ["label\ttext_a"] + [f"{label}\t{text}" for label, text in rows]
        (out / f"{split}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    parser.add_argument("--stats", action="store_true")
    args = parser.parse_args()
    data = generate()
    write(data, args.out)
    if args.stats:
        for split, rows in data.items():
            counts = Counter(label for label, _ in rows)
            longest = max(len(t) for _, t in rows)
            print(f"{split}: {len(rows)} rows, {dict(sorted(counts.items()))}, longest {longest} chars")


if __name__ == "__main__":
    main()
