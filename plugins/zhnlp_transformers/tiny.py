"""Random checkpoints in the real hub layout, for tests, contract recipes and benchmarks.

``write_checkpoint`` builds a transformers model with random weights and writes what a hub
download holds: ``config.json``, ``vocab.txt`` and ``model.safetensors`` (via ``save_pretrained``)
or, with ``legacy=True``, an old-style ``pytorch_model.bin`` whose keys carry the model prefix
(``bert.`` ...), LayerNorm parameters named ``gamma``/``beta`` and pretraining-head keys.

Two recipes per encoder name (``bert_wwm``, ``roberta_wwm``, ``ernie``, ``albert_zh``):
    example_kwargs(name, tmp_dir)  builder kwargs for a tiny random checkpoint (the specs'
                                   ``example_kwargs``: contract tests)
    base_kwargs(name, tmp_dir)     builder kwargs for a base-size random model (benchmarks)
"""
from __future__ import annotations

from pathlib import Path

import torch

# Small built-in vocabulary: BERT specials, ASCII, WordPiece continuations and common Chinese
# characters (enough for realistic mixed text without needing the 21k-entry file).
_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
_HANZI = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过"
    "子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体"
    "制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内"
    "数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提"
    "直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计"
    "别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海"
    "口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身"
    "车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石"
    "记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青"
    "省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型"
    "眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严龙飞布角格"
)


def builtin_vocab() -> list[str]:
    """A small, deterministic BERT-style vocabulary (about 800 entries)."""
    ascii_tokens = [chr(c) for c in range(33, 127) if not chr(c).isupper()]
    pieces = [t for t in ascii_tokens if t.isalnum()]
    words = ["mate", "phone", "the", "and", "iphone", "nlp", "cafe", "202", "60"]
    tokens = _SPECIALS + ascii_tokens + ["##" + t for t in pieces] + words + ["##" + w for w in words]
    tokens += list(dict.fromkeys(_HANZI))
    tokens += ["，", "。", "！", "？", "：", "；", "、", "“", "”", "（", "）", "ａ", "##ｂ"]
    return list(dict.fromkeys(tokens))


def synthetic_vocab(size: int) -> list[str]:
    """The built-in vocabulary padded with ``[unusedN]`` entries to exactly ``size`` entries."""
    tokens = builtin_vocab()
    tokens += [f"[unused{i}]" for i in range(max(0, size - len(tokens)))]
    return tokens[:size]


TINY = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64,
        "max_position_embeddings": 128}
BASE = {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
        "intermediate_size": 3072, "max_position_embeddings": 512}


def make_config(model_type: str, vocab_size: int, size: dict | None = None, **overrides):
    """A transformers config of the given ``model_type`` ("bert", "ernie" or "albert")."""
    from transformers import AlbertConfig, BertConfig, ErnieConfig

    kwargs = dict(TINY if size is None else size, vocab_size=vocab_size)
    if model_type == "bert":
        cls = BertConfig
    elif model_type == "ernie":
        cls = ErnieConfig
        kwargs.update(use_task_id=True, task_type_vocab_size=3)
    elif model_type == "albert":
        cls = AlbertConfig
        kwargs.update(embedding_size=min(128, kwargs["hidden_size"] // 2), hidden_act="gelu")
    else:
        raise ValueError(f"no tiny recipe for model_type {model_type!r}")
    kwargs.update(overrides)
    return cls(**kwargs)


_PREFIX = {"bert": "bert.", "ernie": "ernie.", "albert": "albert."}
# The model_type behind each encoder name of this plugin.
MODEL_TYPES = {"bert_wwm": "bert", "roberta_wwm": "bert", "ernie": "ernie", "albert_zh": "albert"}


def write_checkpoint(
    directory: str | Path,
    model_type: str,
    vocab: list[str] | str | Path | None = None,
    *,
    size: dict | None = None,
    legacy: bool = False,
    with_head: bool = True,
    weights: bool = True,
    seed: int = 0,
    **config_overrides,
) -> Path:
    """Write a random checkpoint in hub layout and return its directory.

    Args:
        directory: where to write (created if needed).
        model_type: "bert", "ernie" or "albert".
        vocab: token list, or path of a vocab.txt to copy; default ``builtin_vocab()``.
        size: architecture sizes; default ``TINY`` (hidden 32, 2 layers, 2 heads, ffn 64).
        legacy: write ``pytorch_model.bin`` with prefixed keys and LayerNorm ``gamma``/``beta``
            names (old TF-converted uploads) instead of ``model.safetensors``.
        with_head: save the masked-LM model (prefixed keys plus ``cls.``/``predictions.``
            heads, like hub uploads) rather than the bare encoder.
        weights: False writes config.json and vocab.txt only.
        seed: random seed for the weights.
        **config_overrides: extra config fields.

    Returns:
        The checkpoint directory.
    """
    from transformers import (AlbertForMaskedLM, AlbertModel, BertForMaskedLM, BertModel,
                              ErnieForMaskedLM, ErnieModel)

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if vocab is None:
        tokens = builtin_vocab()
    elif isinstance(vocab, (str, Path)):
        tokens = Path(vocab).read_text(encoding="utf-8").splitlines()
    else:
        tokens = list(vocab)
    (directory / "vocab.txt").write_text("\n".join(tokens) + "\n", encoding="utf-8")
    config = make_config(model_type, len(tokens), size, **config_overrides)
    if not weights:
        config.save_pretrained(directory)
        return directory
    classes = {"bert": (BertModel, BertForMaskedLM), "ernie": (ErnieModel, ErnieForMaskedLM),
               "albert": (AlbertModel, AlbertForMaskedLM)}[model_type]
    torch.manual_seed(seed)
    model = classes[1 if with_head else 0](config).eval()
    if not legacy:
        model.save_pretrained(directory)
        return directory
    config.save_pretrained(directory)
    state = {}
    for key, value in model.state_dict().items():
        if not with_head:
            key = _PREFIX[model_type] + key
        if "LayerNorm" in key or "layer_norm" in key:
            key = key.replace(".weight", ".gamma").replace(".bias", ".beta")
        state[key] = value.clone()
    # Old uploads also stored the position-id buffer.
    n = config.max_position_embeddings
    state[_PREFIX[model_type] + "embeddings.position_ids"] = torch.arange(n).unsqueeze(0)
    torch.save(state, directory / "pytorch_model.bin")
    return directory


def _model_type(name: str) -> str:
    if name not in MODEL_TYPES:
        raise ValueError(f"no recipe for encoder {name!r}; this plugin has {', '.join(MODEL_TYPES)}")
    return MODEL_TYPES[name]


def example_kwargs(name: str, tmp_dir: str | Path) -> dict:
    """Builder kwargs of encoder ``name`` for a tiny random checkpoint (MLM head included)
    written to ``tmp_dir/tiny-<name>``."""
    directory = write_checkpoint(Path(tmp_dir) / f"tiny-{name}", _model_type(name))
    return {"pretrained": str(directory)}


def base_kwargs(name: str, tmp_dir: str | Path) -> dict:
    """Builder kwargs of encoder ``name`` for a base-size model (hidden 768, 12 layers, a
    21,128-entry vocabulary) with random weights: config.json and vocab.txt only, written to
    ``tmp_dir/base-<name>`` (benchmarks; no network, no weights file)."""
    directory = write_checkpoint(Path(tmp_dir) / f"base-{name}", _model_type(name), synthetic_vocab(21128),
                                 size=dict(BASE), weights=False)
    return {"pretrained": str(directory), "weights": False}


# ---- a SentencePiece (Unigram) checkpoint in the XLM-R layout ---------------------------------------
XLMR_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]
# Multi-character pieces, as XLM-R's SentencePiece model has them: entities can end inside one.
_WORDS = ["北京", "在北京", "北京大学", "大学", "华为", "手机", "发布", "中国", "银行", "读书", "张伟", "深圳",
          "公司", "上海", "年月", "mate", "phone", "iphone", "pro", "max", "the", "and", "nlp", "cafe", "pku",
          "edu", "cn", "test", "60", "15", "20", "202", "2023", "123"]


def unigram_pieces() -> list[tuple[str, float]]:
    """A deterministic Unigram vocabulary (about 22k pieces) in XLM-R's order: specials, then
    ``▁``-marked word starts and inner pieces (single characters score lower than the
    multi-character pieces, so ``在北京`` is one piece), then the rest of the CJK block."""
    chars = list(dict.fromkeys(_HANZI)) + [chr(c) for c in range(33, 127)] + list("，。！？：；、“”（）😀")
    pieces = [(p, 0.0) for p in XLMR_SPECIALS] + [("▁", -3.0)]
    pieces += [(w, -6.0) for w in _WORDS] + [("▁" + w, -6.0) for w in _WORDS]
    pieces += [(c, -9.0) for c in chars] + [("▁" + c, -9.5) for c in chars]
    # every other CJK character, without a word-start form: after a space it reads ``▁`` + char
    pieces += [(chr(c), -11.0) for c in range(0x4E00, 0xA000)]
    return list(dict(pieces).items())


def write_sentencepiece_checkpoint(directory: str | Path, *, size: dict | None = None, seed: int = 0,
                                   with_head: bool = True) -> Path:
    """Write a random XLM-RoBERTa checkpoint with a SentencePiece (Unigram) tokenizer.json, in the
    hub layout (``config.json``, ``model.safetensors``, ``tokenizer.json``, ``tokenizer_config.json``),
    built offline with the ``tokenizers`` library: NFKC normaliser, ``▁`` word marks (Metaspace),
    ``<s> A </s>`` and ``<s> A </s></s> B </s>`` templates.

    Args:
        directory: where to write (created if needed).
        size: architecture sizes; default ``TINY``.
        seed: random seed for the weights.
        with_head: save ``XLMRobertaForMaskedLM`` (``roberta.``-prefixed keys, like hub uploads)
            rather than the bare encoder.

    Returns:
        The checkpoint directory.
    """
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import XLMRobertaConfig, XLMRobertaForMaskedLM, XLMRobertaModel, XLMRobertaTokenizerFast

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    pieces = unigram_pieces()
    tok = Tokenizer(models.Unigram(pieces, unk_id=XLMR_SPECIALS.index("<unk>"), byte_fallback=False))
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    sizes = dict(TINY if size is None else size)
    sizes["max_position_embeddings"] += 2  # XLM-R positions start after the padding id
    hf_tok = XLMRobertaTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", sep_token="</s>",
                                     cls_token="<s>", unk_token="<unk>", pad_token="<pad>", mask_token="<unk>",
                                     model_max_length=sizes["max_position_embeddings"] - 2)
    hf_tok.save_pretrained(str(directory))
    config = XLMRobertaConfig(vocab_size=len(pieces), pad_token_id=1, bos_token_id=0, eos_token_id=2,
                              type_vocab_size=1, **sizes)
    torch.manual_seed(seed)
    model = (XLMRobertaForMaskedLM if with_head else XLMRobertaModel)(config).eval()
    model.save_pretrained(directory)
    return directory


def hf_example_kwargs(tmp_dir: str | Path) -> dict:
    """``encoder=hf`` builder kwargs for a tiny SentencePiece checkpoint written to ``tmp_dir/tiny-hf``."""
    return {"pretrained": str(write_sentencepiece_checkpoint(Path(tmp_dir) / "tiny-hf"))}
