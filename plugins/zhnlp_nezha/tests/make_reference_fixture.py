"""Write the NEZHA reference fixture with the transformers 4.x implementation (run once).

transformers 5 removed NEZHA, so the reference outputs come from the last 4.x line that still
ships ``NezhaModel`` (under ``transformers.models.deprecated.nezha``). The fixture was made with

    python -m venv --system-site-packages /tmp/nz          # reuses the global torch 2.13.0+cpu
    /tmp/nz/bin/pip install "transformers==4.44.*"          # got 4.44.2, tokenizers 0.19.1,
                                                            # huggingface-hub 0.36.2; numpy 2.4.6
    /tmp/nz/bin/python plugins/zhnlp_nezha/tests/make_reference_fixture.py

and writes, under ``tests/fixtures/`` (about 0.3 MB in all):

    vocab.txt                  a few hundred tokens (specials, CJK chars, digits, word pieces)
    mlm/                       NezhaForMaskedLM.save_pretrained(safe_serialization=False):
                               config.json + pytorch_model.bin, keys prefixed ``nezha.``,
                               plus ``cls.predictions.*`` head keys
    bare/                      NezhaModel.save_pretrained(safe_serialization=True):
                               config.json + model.safetensors, no prefix, with ``pooler.*``
    inputs.json                input_ids / attention_mask / token_type_ids (3 rows, 20 tokens,
                               two rows padded) and the 4.x BertTokenizer ids of a test sentence
    expected.safetensors       last_hidden_state of each model on those inputs (eval mode),
                               and the masked-LM logits of the mlm model

The models are tiny (hidden 32, 2 layers, 4 heads, intermediate 64) with
``max_relative_position=8``: the 20-token inputs reach distances up to 19, so the clipping of
relative positions is exercised. Every parameter is redrawn with a large spread (LayerNorm
gains around 1) so that attention is far from uniform and any mismatch shows.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch
import transformers
from safetensors.torch import save_file
from transformers import BertTokenizer, NezhaConfig, NezhaForMaskedLM, NezhaModel

OUT = Path(__file__).resolve().parent / "fixtures"
SENTENCE = "华为Mate60手机于2023年8月发布"


def build_vocab() -> list[str]:
    """Specials, then CJK characters, digits, Latin letters and a few word pieces."""
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    text = (
        "华为手机于年月发布中国北京上海广州深圳南京大学小明天今日的是了在有人我你他她它们这那"
        "个一二三四五六七八九十百千万亿公司市场新闻报道技术研究自然语言处理模型数据训练测试"
        "东西南北春夏秋冬山水风雨云雪花草树木鸟鱼虫马牛羊猪狗猫红黄蓝绿白黑长短高低快慢好坏"
    )
    chars = list(dict.fromkeys(text))
    digits = [str(i) for i in range(10)] + [f"##{i}" for i in range(10)]
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    pieces = ["mate", "##60", "202", "##3", "##te", "##ma", "phone", "##s", "2023", "60"]
    return specials + chars + digits + letters + pieces


def randomise(model: torch.nn.Module, seed: int) -> None:
    """Redraw every parameter: weights ~ N(0, 0.2), LayerNorm gains ~ 1 + N(0, 0.2)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            noise = torch.randn(param.shape, generator=gen) * 0.2
            param.copy_(1.0 + noise if "LayerNorm.weight" in name else noise)


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    vocab = build_vocab()
    (OUT / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")

    config = NezhaConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        hidden_act="gelu",
        max_position_embeddings=64,
        max_relative_position=8,
        type_vocab_size=2,
        layer_norm_eps=1e-12,
        pad_token_id=0,
    )

    # Fixed inputs: 3 rows x 20 tokens; row 1 padded after 12 tokens, row 2 after 5.
    gen = torch.Generator().manual_seed(0)
    batch, length = 3, 20
    input_ids = torch.randint(5, len(vocab), (batch, length), generator=gen)  # (B, T)
    input_ids[:, 0] = vocab.index("[CLS]")
    attention_mask = torch.ones(batch, length, dtype=torch.long)  # (B, T)
    token_type_ids = torch.zeros(batch, length, dtype=torch.long)  # (B, T)
    for row, used in ((0, 20), (1, 12), (2, 5)):
        input_ids[row, used - 1] = vocab.index("[SEP]")
        input_ids[row, used:] = 0
        attention_mask[row, used:] = 0
    token_type_ids[0, 11:] = 1  # a sentence pair in row 0
    token_type_ids[1, 7:12] = 1  # and in row 1 (padding keeps type 0)

    expected = {}
    for name, cls, seed, safe in (
        ("mlm", NezhaForMaskedLM, 1, False),
        ("bare", NezhaModel, 2, True),
    ):
        torch.manual_seed(seed)
        model = cls(config)
        randomise(model, seed)
        model.eval()
        base = model.nezha if name == "mlm" else model
        with torch.no_grad():
            out = base(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state  # (B, T, H)
            if name == "mlm":
                logits = model(
                    input_ids=input_ids,
                    attention_mask=attention_mask,
                    token_type_ids=token_type_ids,
                ).logits  # (B, T, V)
                expected["mlm_logits"] = logits.contiguous()
        expected[name] = out.contiguous()
        model.save_pretrained(OUT / name, safe_serialization=safe)
        for extra in ("generation_config.json",):
            (OUT / name / extra).unlink(missing_ok=True)

    save_file(expected, str(OUT / "expected.safetensors"))
    tokenizer = BertTokenizer(str(OUT / "vocab.txt"))
    (OUT / "inputs.json").write_text(
        json.dumps(
            {
                "transformers_version": transformers.__version__,
                "torch_version": torch.__version__,
                "input_ids": input_ids.tolist(),
                "attention_mask": attention_mask.tolist(),
                "token_type_ids": token_type_ids.tolist(),
                "sentence": SENTENCE,
                "sentence_ids": tokenizer(SENTENCE)["input_ids"],
            },
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"wrote {OUT} ({total / 1024:.0f} KiB) with transformers {transformers.__version__}")


if __name__ == "__main__":
    main()
