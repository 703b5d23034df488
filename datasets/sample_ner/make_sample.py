#!/usr/bin/env python3
"""Generate the zhnlp sample Chinese NER dataset (PER / LOC / ORG, BIO tags).

Everything here (templates, name lists) was written by hand for zhnlp; nothing
is copied from any corpus.  The output is fully deterministic (fixed seed,
standard library only):

    python datasets/sample_ner/make_sample.py            # writes train/dev/test.txt next to this file
    python datasets/sample_ner/make_sample.py --out DIR  # writes elsewhere
    python datasets/sample_ner/make_sample.py --stats    # also prints counts

Generalisation: every entity list (per type and sub-category) is shuffled with
the fixed seed and split 70/15/15 into train / dev / test pools, so dev and
test sentences only contain person names, places and organisations that never
occur as entities in train.  Templates are shared by all splits; sentences are
de-duplicated across splits.

Output format: one "char tag" line per character, a blank line after every
sentence, UTF-8, LF line endings.
"""

from __future__ import annotations

import argparse
import random
import re
from collections import Counter
from pathlib import Path

SEED = 20240521
SIZES = {"train": 600, "dev": 100, "test": 100}
SPLIT_FRACTIONS = (0.70, 0.15, 0.15)  # train / dev / test share of every entity list

# --------------------------------------------------------------------------
# Entity lists (hand-written).  Keys are (type, sub-category).
# --------------------------------------------------------------------------
ENTITIES: dict[tuple[str, str], list[str]] = {
    ("PER", "two"): [
        "王芳", "李强", "张伟", "刘洋", "陈静", "杨帆", "赵磊", "黄敏", "周杰", "吴昊",
        "徐丽", "孙浩", "马超", "朱琳", "胡军", "郭涛", "何欣", "高峰", "林莉", "罗斌",
        "叶青", "田甜", "沈毅", "白雪",
    ],
    ("PER", "three"): [
        "张晓明", "李建国", "王秀英", "刘志强", "陈思远", "杨丽华", "赵文博", "黄嘉怡",
        "周子涵", "吴俊杰", "徐海燕", "孙立伟", "马晓红", "朱国平", "胡雅琴", "郭明辉",
        "何振东", "高玉兰", "林嘉欣", "罗家豪", "梁美玲", "宋志刚", "郑雨婷", "谢伟民",
        "韩冬梅", "唐文静", "冯宇航", "董海涛", "萧逸凡", "程雪莉", "欧阳明", "司马南",
        "上官婉", "潘一鸣", "姚晨光", "蒋春燕",
    ],
    ("PER", "foreign"): [
        "艾伦·图灵", "玛丽·居里", "约翰·史密斯", "迈克尔·乔丹", "伊丽莎白·布朗",
        "托马斯·穆勒", "彼得·帕克", "索菲亚·罗西", "卡洛斯·桑切斯", "山田太郎",
        "金敏俊", "安娜·伊万诺娃",
    ],
    ("LOC", "prov"): [
        "广东省", "浙江省", "江苏省", "四川省", "湖南省", "湖北省", "山东省", "河南省",
        "福建省", "云南省", "陕西省", "黑龙江省", "内蒙古自治区", "新疆维吾尔自治区",
        "广西", "贵州", "江西", "安徽", "河北", "甘肃",
    ],
    ("LOC", "city"): [
        "北京", "上海", "广州", "深圳", "杭州", "南京", "成都", "武汉", "西安", "重庆",
        "天津", "苏州", "长沙", "郑州", "青岛", "厦门", "昆明", "哈尔滨", "大连", "宁波",
        "合肥", "贵阳", "兰州", "拉萨", "乌鲁木齐", "香港", "澳门", "北京市", "上海市",
        "三亚", "洛阳", "桂林", "温州", "珠海",
    ],
    ("LOC", "district"): [
        "海淀区", "朝阳区", "浦东新区", "南山区", "天河区", "西湖区", "鼓楼区", "武侯区",
        "徐汇区", "福田区", "余杭区", "江北区", "雁塔区", "滨海新区", "黄埔区", "龙岗区",
    ],
    ("LOC", "river"): [
        "长江", "黄河", "珠江", "淮河", "松花江", "雅鲁藏布江", "嘉陵江", "汉江", "澜沧江",
        "湘江", "钱塘江",
    ],
    ("LOC", "mountain"): [
        "泰山", "黄山", "峨眉山", "华山", "珠穆朗玛峰", "庐山", "武当山", "长白山", "衡山",
        "玉龙雪山", "天山",
    ],
    ("LOC", "lake"): [
        "西湖", "洞庭湖", "青海湖", "太湖", "鄱阳湖", "滇池", "千岛湖", "洱海",
    ],
    ("LOC", "country"): [
        "中国", "美国", "日本", "韩国", "德国", "法国", "英国", "俄罗斯", "巴西", "印度",
        "澳大利亚", "新加坡", "意大利", "西班牙", "加拿大", "埃及", "南非", "墨西哥",
        "新西兰", "泰国", "越南", "阿根廷",
    ],
    ("ORG", "company"): [
        "华为技术有限公司", "华为", "阿里巴巴集团", "腾讯公司", "小米科技", "58同城",
        "比亚迪股份有限公司", "京东集团", "百度", "字节跳动", "联想集团", "美团", "海尔集团",
        "格力电器", "网易", "360公司", "蔚来汽车", "中兴通讯", "顺丰速运", "3M公司",
        "星辰科技有限公司", "蓝海数据股份有限公司", "IBM中国研究院", "TCL集团",
        "云帆智能", "长风物流有限公司", "青禾食品集团", "K12教育科技",
    ],
    ("ORG", "uni"): [
        "北京大学", "清华大学", "复旦大学", "浙江大学", "南京大学", "武汉大学", "中山大学",
        "四川大学", "上海交通大学", "哈尔滨工业大学", "中国科学技术大学", "西安交通大学",
        "厦门大学", "同济大学", "香港中文大学", "北京师范大学", "华中科技大学", "南开大学",
    ],
    ("ORG", "gov"): [
        "国家卫生健康委员会", "教育部", "外交部", "财政部", "工业和信息化部", "生态环境部",
        "交通运输部", "商务部", "国家统计局", "深圳市人民政府", "杭州市公安局", "中国气象局",
        "应急管理部", "国家税务总局", "文化和旅游部", "成都市教育局",
    ],
    ("ORG", "hosp"): [
        "北京协和医院", "华西医院", "浙江省人民医院", "上海市第六人民医院",
        "中山大学附属第一医院", "湘雅医院", "武汉同济医院", "广州市妇女儿童医疗中心",
        "解放军总医院", "南京鼓楼医院", "瑞金医院", "西京医院",
    ],
    ("ORG", "bank"): [
        "中国工商银行", "中国建设银行", "招商银行", "中国银行", "交通银行", "浦发银行",
        "ABC银行", "兴业银行", "平安银行", "汇丰银行", "民生银行", "宁波银行",
    ],
    ("ORG", "club"): [
        "上海申花", "北京国安", "山东泰山队", "皇家马德里", "巴塞罗那队", "拜仁慕尼黑",
        "曼联", "利物浦队", "浙江队", "成都蓉城", "辽宁男篮", "广东宏远", "湖人队",
        "深圳新鹏城",
    ],
}

# --------------------------------------------------------------------------
# Non-entity fillers (tagged O).
# --------------------------------------------------------------------------
FILLERS: dict[str, list[str]] = {
    "DATE": ["2023年8月", "2024年3月15日", "去年12月", "今年5月", "上周三", "1月9日",
             "2022年底", "本月20日", "10月1日", "2021年6月", "前天", "2025年1月", "昨日",
             "12月31日晚"],
    "PROD": ["Mate60", "iPhone15", "P70", "Model3", "GalaxyS24", "Pixel8", "Xiaomi14",
             "MacBookAir", "Kindle", "iPad", "Nova12", "ThinkPadX1"],
    "PRICE": ["3999", "5499", "6999", "1299", "8888", "2599", "4999"],
    "PCT": ["3.5%", "12%", "0.8%", "21.6%", "5％", "百分之七", "9.2%"],
    "SCORE": ["2比1", "3比0", "1:0", "98比95", "4比2", "3比1", "108比102"],
    "NUM": ["2", "3", "5", "6", "8", "10", "12", "15", "20", "30"],
    "BIG": ["1.2", "35", "120", "560", "2800", "8.6", "4500", "73"],
    "CNT": ["300", "1200", "860", "5000", "150", "2.3"],
    "YEAR": ["2018", "2020", "2025", "2026", "2010", "1998", "2027"],
    "BP": ["10", "15", "20", "25"],
    "TIME": ["8点", "七点半", "9:30", "6点"],
}

# --------------------------------------------------------------------------
# Templates.  {PER}, {LOC.city}, {ORG.club2} ... are entity slots ("TYPE" or
# "TYPE.sub", an optional trailing digit makes a second distinct slot of the
# same kind); {DATE}, {PROD} ... are O-tagged fillers.  No literal spaces.
# --------------------------------------------------------------------------
TEMPLATES: list[str] = [
    # news / business
    "{PER}今天上午在{LOC.city}出席了{ORG.company}举办的年度技术论坛。",
    "{ORG.company}于{DATE}正式发布新款手机{PROD}，起售价为{PRICE}元。",
    "据{ORG.gov}消息，{DATE}全国城镇新增就业人数同比增长{PCT}。",
    "{PER}毕业于{ORG.uni}，现任{ORG.company}副总裁，主要负责AI业务。",
    "{DATE}，{ORG}与{ORG2}在{LOC.city}签署战略合作协议，双方将在5G和云计算领域展开合作。",
    "{ORG.company}{PER}在发布会上介绍了{PROD}的主要功能。",
    "{ORG.bank}{DATE}发布公告称，将下调部分定期存款利率{BP}个基点。",
    "{ORG.gov}发言人{PER}在例行记者会上回答了记者提问。",
    "{ORG.company}股价今日上涨{PCT}，总市值突破{BIG}亿元。",
    "据悉，{ORG.company}计划在{LOC.prov}投资建设新的数据中心，预计{YEAR}年投入使用。",
    "{ORG.gov}、{ORG.gov2}联合印发通知，要求各地加强安全生产检查。",
    "{LOC.country}和{LOC.country2}的外长在{LOC.city}举行会谈，双方就经贸合作交换了意见。",
    "{ORG.company}是一家总部位于{LOC.city}的科技公司，成立于{YEAR}年。",
    "会议由{ORG}主办，{ORG2}承办，来自{LOC.country}、{LOC.country2}等国的{CNT}名代表参会。",
    "{ORG.company}CEO{PER}在微博上宣布了这一消息。",
    "报告显示，{LOC.prov}{YEAR}年GDP达到{BIG}亿元，位居全国前列。",
    "根据{ORG.gov}的数据，今年1至7月{LOC.prov}共接待游客{CNT}万人次。",
    "{ORG.company}宣布与{ORG.uni}共建联合实验室，重点研究大语言模型和芯片设计。",
    "{LOC.country}总统{DATE}抵达{LOC.city}，开始为期{NUM}天的国事访问。",
    "{ORG.bank}与{ORG.company}达成合作，为中小企业提供线上贷款服务。",
    "公司第三季度营收为{BIG}亿元，净利润同比增长{PCT}。",
    "受强降雨影响，{LOC.river}{LOC.city}段水位持续上涨，当地已启动防汛应急响应。",
    "{LOC.city}到{LOC.city2}的高铁将于{DATE}开通，全程约需{NUM}小时。",
    "（记者{PER}）",
    # education / health / science
    "{PER}的研究团队来自{ORG.uni}和{ORG.hosp}，相关论文已在国际期刊上发表。",
    "{PER}在{ORG.hosp}接受了手术，目前恢复良好。",
    "{DATE}，{ORG.uni}{NUM}名学生赴{LOC.country}参加国际大学生程序设计竞赛。",
    "她从{ORG.uni}博士毕业后，加入了{ORG.company}的研发团队。",
    "{PER}是{ORG.hosp}心内科主任医师，从医已有{NUM}年。",
    "{DATE}，{PER}当选为{ORG.uni}新一任校长。",
    "{PER}从小就对计算机感兴趣，大学毕业后成了一名AI工程师。",
    "{PER}建议大家出门前先查看天气，并关注{ORG.gov}发布的预警信息。",
    # sports
    "在昨晚结束的比赛中，{ORG.club}以{SCORE}战胜{ORG.club2}，{PER}梅开二度。",
    "{ORG.club}主教练{PER}表示，球队将全力备战下一场比赛。",
    "{ORG.club}客场{SCORE}不敌{ORG.club2}，积分榜排名下滑至第{NUM}位。",
    "{PER}、{PER2}和{PER3}入选了本赛季{ORG.club}的首发阵容。",
    # travel / geography
    "{LOC.mountain}是当地著名的旅游景点，每年吸引大量游客前来观光。",
    "{LOC.lake}边的柳树发芽了，很多市民前来踏青。",
    "游客在{LOC.mountain}景区内走失，当地救援队连夜搜救，最终在山顶附近找到了他。",
    "从{LOC.district}到机场大概需要{NUM}分钟车程。",
    "{LOC.river}是我国重要的水上运输通道，沿岸分布着许多港口城市。",
    "欢迎来到{LOC.city}",
    "这次旅行我们先去了{LOC.city}，然后经{LOC.city2}前往{LOC.prov}。",
    # everyday
    "昨天下午，{PER}和{PER2}在{LOC.district}的一家咖啡馆见面，讨论了新书的出版计划。",
    "{PER}说：“我在{LOC.city}生活了{NUM}年，这里已经是我的第二故乡。”",
    "{PER}、{PER2}和{PER3}共同获得了本年度的最佳员工奖。",
    "{LOC.city}市民{PER}在家门口的超市买到了新鲜的荔枝。",
    "{PER}用{PROD}拍了一张{LOC.mountain}日出的照片，在朋友圈获得了上百个点赞。",
    "{PER}出生在{LOC.prov}的一个小山村，{NUM}岁时随父母搬到了{LOC.city}。",
    "我昨天在{ORG.company}的App上买了一台{PROD}，今天就送到了。",
    "在{LOC.country}留学的{PER}通过视频和家人一起过了春节。",
    "{PER}正在{LOC.city}的{ORG.company}总部参加面试。",
    "请问去{LOC.district}坐几路公交车比较方便？",
    "感谢{PER}老师的耐心指导！",
    "{PER}：坚持就是胜利",
    "家住{LOC.district}的{PER}每天骑共享单车上班，单程约{NUM}公里。",
    # no entities
    "这家餐厅的菜味道不错，价格也比较实惠，周末经常要排队。",
    "我们明天早上{TIME}出发，记得带上雨伞和充电宝。",
    "你周末有空吗？我们一起去看电影吧。",
    "今天的天气预报说，下午有雷阵雨，气温在25到32摄氏度之间。",
    "这个问题我们下次开会再讨论吧，今天时间不够了。",
    "新版App上线后，用户满意度提升了{PCT}。",
    "手机电量只剩{NUM}%了，我得赶紧找个地方充电。",
]

SLOT_RE = re.compile(r"\{([A-Z]+)(?:\.([a-z]+))?(\d?)\}")
TYPES = ("PER", "LOC", "ORG")


def split_pools(rng: random.Random) -> dict[str, dict[tuple[str, str], list[str]]]:
    """Shuffle each entity list and cut it into train/dev/test pools.

    Dev and test pools hold their own unseen names plus as many names from the train pool, so
    about half of their entity mentions are new to the model (as in real NER test sets).
    """
    pools: dict[str, dict[tuple[str, str], list[str]]] = {s: {} for s in SIZES}
    for key in sorted(ENTITIES):
        items = list(dict.fromkeys(ENTITIES[key]))
        rng.shuffle(items)
        n = len(items)
        n_dev = max(1, round(n * SPLIT_FRACTIONS[1]))
        n_test = max(1, round(n * SPLIT_FRACTIONS[2]))
        train = items[n_dev + n_test:]
        pools["dev"][key] = items[:n_dev] + train[:n_dev]
        pools["test"][key] = items[n_dev:n_dev + n_test] + train[-n_test:]
        pools["train"][key] = train
    return pools


def render(template: str, pool: dict[tuple[str, str], list[str]],
           rng: random.Random) -> list[tuple[str, str]]:
    """Fill one template; return a list of (char, BIO tag)."""
    out: list[tuple[str, str]] = []
    used: set[str] = set()
    pos = 0
    for m in SLOT_RE.finditer(template):
        out.extend((c, "O") for c in template[pos:m.start()])
        pos = m.end()
        kind, sub, _ = m.groups()
        if kind in TYPES:
            if sub:
                cands = pool[(kind, sub)]
            else:
                cands = [e for (t, _s), lst in sorted(pool.items()) if t == kind for e in lst]
            cands = [c for c in cands if c not in used] or cands
            ent = rng.choice(cands)
            used.add(ent)
            out.extend((c, ("B-" if i == 0 else "I-") + kind) for i, c in enumerate(ent))
        else:
            out.extend((c, "O") for c in rng.choice(FILLERS[kind]))
    out.extend((c, "O") for c in template[pos:])
    return out


def generate(seed: int = SEED) -> dict[str, list[list[tuple[str, str]]]]:
    rng = random.Random(seed)
    pools = split_pools(rng)
    seen: set[str] = set()
    data: dict[str, list[list[tuple[str, str]]]] = {}
    for split, size in SIZES.items():
        sents: list[list[tuple[str, str]]] = []
        # cycle through a shuffled template order so every template is used
        order: list[str] = []
        while len(sents) < size:
            if not order:
                order = list(TEMPLATES)
                rng.shuffle(order)
            tpl = order.pop()
            for _ in range(20):  # retry on duplicates; give up on saturated templates
                sent = render(tpl, pools[split], rng)
                text = "".join(c for c, _ in sent)
                if text not in seen:
                    seen.add(text)
                    sents.append(sent)
                    break
        data[split] = sents
    return data


def entities(sent: list[tuple[str, str]]) -> list[tuple[str, str]]:
    spans, cur, typ = [], "", None
    for c, t in sent + [("", "O")]:
        if t.startswith("I-") and typ == t[2:]:
            cur += c
            continue
        if typ:
            spans.append((typ, cur))
        typ, cur = (t[2:], c) if t.startswith("B-") else (None, "")
    return spans


def write(data: dict[str, list[list[tuple[str, str]]]], out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for split, sents in data.items():
        lines = []
        for sent in sents:
            for c, t in sent:
                assert not c.isspace(), f"whitespace char in {split}: {sent}"
                lines.append(f"{c} {t}\n")
            lines.append("\n")
        with open(out_dir / f"{split}.txt", "w", encoding="utf-8", newline="\n") as f:
            f.writelines(lines)


def stats(data: dict[str, list[list[tuple[str, str]]]]) -> str:
    rows = ["| split | sentences | chars | PER | LOC | ORG | sentences w/o entities |",
            "|---|---|---|---|---|---|---|"]
    for split, sents in data.items():
        cnt = Counter(t for s in sents for t, _ in entities(s))
        empty = sum(1 for s in sents if not entities(s))
        rows.append(f"| {split} | {len(sents)} | {sum(len(s) for s in sents)} | "
                    f"{cnt['PER']} | {cnt['LOC']} | {cnt['ORG']} | {empty} |")
    return "\n".join(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--stats", action="store_true", help="print per-split counts")
    args = ap.parse_args()
    data = generate(args.seed)
    write(data, args.out)
    if args.stats:
        print(stats(data))


if __name__ == "__main__":
    main()
