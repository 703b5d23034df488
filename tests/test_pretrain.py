"""``zhnlp pretrain`` (zhnlp.pretrain): whole-word masking, 80/10/10 replacement, and short MLM runs
on tiny random checkpoints whose output loads back as a zhnlp encoder."""
from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pytest
import torch

import zhnlp
from zhnlp.pretrain import (IGNORE, build_masked_lm, choose_positions, main, mask_tokens, masked_lm_encoders,
                            pretrain, word_ids_for)
from zhnlp.types import MaskedLM
from zhnlp.weights import read_weights

CORPUS = ["张伟在北京大学读书，他喜欢学习中文。", "华为公司发布了新手机，价格很高。", "我们明天去上海开会。",
          "中国人民银行决定下调存款准备金率。", "他说这个问题很重要，我们要认真研究。"]


def test_whole_words_are_masked_together():
    word_ids = [None, 0, 0, 1, 2, 2, 2, 3, 3, None]  # [CLS] w0 w0 w1 w2 w2 w2 w3 w3 [SEP]
    seen = Counter()
    for seed in range(300):
        flags = choose_positions(word_ids, 0.5, random.Random(seed))
        assert not flags[0] and not flags[-1]  # special tokens never
        for word in range(4):
            group = [flags[i] for i, w in enumerate(word_ids) if w == word]
            assert all(group) or not any(group)  # a word is masked whole or not at all
            seen[word] += all(group)
        assert 1 <= sum(flags) <= round(8 * 0.5)  # never over the budget
    assert all(seen[w] > 0 for w in range(4))  # every word gets its turn
    flags = choose_positions(word_ids, 0.5, random.Random(0), wwm=False)
    assert sum(flags) == 4  # single tokens fill the budget exactly


def test_budget_and_at_least_one():
    assert sum(choose_positions([0, 1, 2, 3, 4], 0.01, random.Random(0))) == 1
    assert sum(choose_positions([None, None], 0.15, random.Random(0))) == 0


def test_replacement_is_80_10_10():
    ids = list(range(10, 110))  # 100 ordinary tokens, one word each
    counts = Counter()
    rng = random.Random(0)
    for _ in range(200):
        inputs, labels = mask_tokens(ids, list(range(100)), rng, mask_id=4, vocab_size=200,
                                     special_ids={0, 1, 2, 3, 4}, mlm_prob=0.15)
        assert sum(lab != IGNORE for lab in labels) == 15
        for x, orig, lab in zip(inputs, ids, labels):
            if lab == IGNORE:
                assert x == orig
                continue
            assert lab == orig and x not in {0, 1, 2, 3}
            counts["mask" if x == 4 else "same" if x == orig else "random"] += 1
    total = sum(counts.values())
    assert abs(counts["mask"] / total - 0.8) < 0.03
    assert abs(counts["random"] / total - 0.1) < 0.02 and abs(counts["same"] / total - 0.1) < 0.02


def test_word_ids_follow_jieba_words():
    text = "北京大学在北京"
    offsets = [(0, 0)] + [(i, i + 1) for i in range(len(text))] + [(0, 0)]
    ids = word_ids_for(text, offsets)
    assert ids[0] is None and ids[-1] is None
    import jieba

    words = jieba.lcut(text)
    expected = [i for i, w in enumerate(words) for _ in w]
    assert ids[1:-1] == expected


def write_corpus(tmp_path: Path) -> Path:
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(CORPUS * 4) + "\n\n", encoding="utf-8")
    return path


def tiny_checkpoint(kind: str, tmp_path: Path) -> Path:
    """The tiny random checkpoint of the encoder spec's ``example_kwargs`` recipe."""
    return Path(zhnlp.registry.get("encoders", kind).example_kwargs(tmp_path)["pretrained"])


@pytest.mark.parametrize("kind", ["bert_wwm", "nezha"])
def test_mlm_loss_decreases_and_output_loads(kind, tmp_path):
    source = tiny_checkpoint(kind, tmp_path)
    out = tmp_path / "out"
    result = pretrain(kind, str(source), str(write_corpus(tmp_path)), str(out), steps=40, batch_size=8, lr=2e-3,
                      warmup=0.0, max_length=32, seed=0, accelerator="cpu", progress_bar=False)
    losses = result["losses"]
    assert len(losses) == 40
    assert sum(losses[-8:]) / 8 < sum(losses[:8]) / 8 - 0.3, losses
    assert {"config.json", "vocab.txt", "model.safetensors", "pretrain.json"} <= {p.name for p in out.iterdir()}
    trained = zhnlp.build_encoder(kind, pretrained=str(out))  # loads strictly, hub layout
    original = zhnlp.build_encoder(kind, pretrained=str(source))
    a, b = trained.state_dict(), original.state_dict()
    assert a.keys() == b.keys() and any(not torch.equal(a[k], b[k]) for k in a)
    assert json.loads((out / "pretrain.json").read_text())["last_loss"] == pytest.approx(losses[-1])


@pytest.mark.parametrize("kind", ["bert_wwm", "ernie", "albert_zh"])
def test_convert_only_keeps_weights_and_mlm_head(kind, tmp_path):
    """steps=0 writes the start checkpoint back: same encoder weights, the hub MLM head kept."""
    source = tiny_checkpoint(kind, tmp_path)
    out = tmp_path / "out"
    result = pretrain(kind, str(source), "unused.txt", str(out), steps=0)
    assert result["head_keys_loaded"] > 0
    before, after = read_weights(source), read_weights(out)
    for key, value in before.items():
        if key in after:
            assert torch.equal(value, after[key]), key
    heads = [k for k in before if k.startswith(("cls.", "predictions."))]
    assert heads and all(k in after for k in heads if "decoder.weight" not in k)
    zhnlp.build_encoder(kind, pretrained=str(out))


def test_from_scratch_with_config_and_vocab(tmp_path):
    source = tiny_checkpoint("roberta_wwm", tmp_path)  # only its config.json and vocab.txt are used
    out = tmp_path / "out"
    main(["--encoder", "roberta_wwm", "--pretrained", "none", "--config", str(source / "config.json"),
          "--vocab", str(source / "vocab.txt"), "--corpus", str(write_corpus(tmp_path)), "--output", str(out),
          "--steps", "3", "--batch-size", "4", "--max-length", "32", "--accelerator", "cpu", "--no-wwm"])
    encoder = zhnlp.build_encoder("roberta_wwm", pretrained=str(out))
    assert encoder.hidden_size == 32
    info = json.loads((out / "pretrain.json").read_text())
    assert info["wwm"] is False and info["head_keys_loaded"] == 0 and info["steps"] == 3


@pytest.mark.parametrize("kind", ["bert_wwm", "nezha"])
def test_the_encoders_masked_lm_is_used(kind, tmp_path):
    source = tiny_checkpoint(kind, tmp_path)
    encoder, mlm = build_masked_lm(kind, source)
    assert isinstance(mlm, MaskedLM) and isinstance(mlm, torch.nn.Module)
    ids = torch.tensor([encoder.tokenizer("北京欢迎你")["input_ids"]])  # (1, T)
    with torch.no_grad():
        assert mlm(ids, torch.ones_like(ids)).shape == (1, ids.shape[1], len(encoder.tokenizer.get_vocab()))


def test_pretrain_imports_no_plugin():
    import ast

    import zhnlp.pretrain as module

    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    imported = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    imported += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert not [m for m in imported if m.startswith("zhnlp_")]


def test_clear_errors(tmp_path):
    with pytest.raises(zhnlp.ConfigError, match="--config config.json and --vocab"):
        pretrain("bert_wwm", "none", "c.txt", str(tmp_path / "o"))
    with pytest.raises(zhnlp.ConfigError, match="not a checkpoint directory"):
        pretrain("bert_wwm", str(tmp_path), "c.txt", str(tmp_path / "o"))
    with pytest.raises(zhnlp.ConfigError, match="encoder 'char' does not start from a checkpoint directory.*"
                                                "Encoders with a masked-LM model .*bert_wwm.*nezha"):
        pretrain("char", str(tiny_checkpoint("bert_wwm", tmp_path)), "c.txt", str(tmp_path / "o"), steps=0)
    with pytest.raises(zhnlp.PluginError, match="Unknown encoder 'bert_wm'"):
        pretrain("bert_wm", str(tiny_checkpoint("bert_wwm", tmp_path)), "c.txt", str(tmp_path / "o"), steps=0)


def test_masked_lm_encoders_lists_the_installed_ones():
    names = masked_lm_encoders()
    assert {"bert_wwm", "roberta_wwm", "ernie", "albert_zh", "nezha"} <= set(names)
    assert not {"char", "bilstm", "textcnn", "word", "charword"} & set(names)
