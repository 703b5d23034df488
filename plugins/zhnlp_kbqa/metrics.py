"""End-to-end KBQA metrics (fractions in [0, 1]).

    mention_acc    the tagger's first mention (``tagged``, else ``mention``) == the derived gold mention
                   (by key), over questions that have one
    link_recall    the gold subject is among the linked candidates
    entity_acc     the chosen entity == the gold subject
    predicate_acc  the chosen predicate == the gold predicate (up to spacing / case)
    answer_acc     the answer == the gold answer (outer spaces ignored)
    answer_f1      NLPCC 2016 averaged F1: mean over questions of the F1 between the predicted
                   answer set (every object of the chosen pair) and the gold answer set
    no_answer      share of questions left unanswered
"""
from __future__ import annotations

from zhnlp_kbqa.normalize import key, same_predicate


def answer_f1(predicted: list[str], gold: list[str]) -> float:
    """F1 of two answer sets (0 when either is empty)."""
    pred, ref = {a.strip() for a in predicted}, {a.strip() for a in gold}
    hit = len(pred & ref)
    if not hit:
        return 0.0
    p, r = hit / len(pred), hit / len(ref)
    return 2 * p * r / (p + r)


def kbqa_metrics(predictions: list[dict], examples: list[dict]) -> dict[str, float]:
    """See the module docstring; examples without a gold triple are ignored."""
    pairs = [(p, ex) for p, ex in zip(predictions, examples) if ex.get("subject")]
    n = len(pairs)
    if not n:
        return {}
    counts = dict.fromkeys(("link_recall", "entity_acc", "predicate_acc", "answer_acc", "answer_f1", "no_answer"), 0.0)
    mention_hits = mention_total = 0
    for pred, ex in pairs:
        gold_mentions = ex.get("entities") or []
        if gold_mentions:
            mention_total += 1
            tagged = pred.get("tagged", [pred["mention"]] if pred.get("mention") else [])
            mention_hits += bool(tagged) and key(tagged[0]) == key(gold_mentions[0]["text"])
        counts["link_recall"] += ex["subject"] in (pred.get("candidates") or [])
        counts["entity_acc"] += pred.get("entity") == ex["subject"]
        counts["predicate_acc"] += bool(pred.get("predicate")) and same_predicate(pred["predicate"], ex["predicate"])
        answer = pred.get("answer")
        counts["no_answer"] += answer is None
        counts["answer_acc"] += answer is not None and answer.strip() == ex["answer"].strip()
        counts["answer_f1"] += answer_f1(pred.get("answers") or ([answer] if answer else []), [ex["answer"]])
    out = {"mention_acc": mention_hits / mention_total if mention_total else 0.0}
    out.update({k: v / n for k, v in counts.items()})
    return out
