"""The ``nezha`` encoder plugin: a NEZHA checkpoint directory -> a zhnlp Encoder.

The architecture lives in ``modeling_nezha.py``; this module finds the checkpoint files, checks
them, loads the weights (through ``zhnlp.weights``, so old ``pytorch_model.bin`` uploads with
``gamma``/``beta`` names load like new ``model.safetensors`` ones), builds the tokenizer and
applies freezing (``zhnlp.layers.freeze``). ``nezha`` (the ``zhnlp.encoders`` entry point) is its
:class:`~zhnlp.types.EncoderSpec`.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import torch
from torch import nn
from transformers import BertTokenizer

from zhnlp.errors import ConfigError, ZhnlpError
from zhnlp.layers import freeze as freeze_groups
from zhnlp.types import EncoderSpec, MaskedLM
from zhnlp.weights import read_weights, strip_prefix, weights_file
from zhnlp_nezha.modeling_nezha import NezhaConfig, NezhaModel

DEFAULT_PRETRAINED = "sijunhe/nezha-cn-base"
# Prefixes under which NEZHA checkpoints store the encoder (NezhaForMaskedLM / ...: ``nezha.``;
# conversions of Huawei's original release: ``bert.``).
MODEL_PREFIXES = ("nezha.", "bert.")
# Encoder-side keys we do not use: the pooler, and the relative-position table that some
# implementations store although it is a fixed function of the config.
IGNORED_PREFIXES = ("pooler.",)
IGNORED_SUBSTRINGS = ("relative_positions_encoding",)
# Architecture keys config.json must state; the rest default to NEZHA-base values.
REQUIRED_KEYS = (
    "vocab_size",
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "intermediate_size",
)
HUB_FILES = [
    "config.json",
    "vocab.txt",
    "tokenizer_config.json",
    "model.safetensors",
    "pytorch_model.bin",
]
LOCAL_HINT = (
    "Point encoder.pretrained at a local directory holding config.json (model_type \"nezha\"), "
    "vocab.txt and model.safetensors or pytorch_model.bin, e.g. "
    "`zhnlp train encoder=nezha encoder.pretrained=/models/nezha-cn-base`."
)


# --------------------------------------------------------------------------------------------
# Finding and checking the checkpoint files
# --------------------------------------------------------------------------------------------


def resolve_pretrained(pretrained: str) -> Path:
    """A local directory as is; anything else as a hub id, fetched (or found in the cache)."""
    path = Path(str(pretrained)).expanduser()
    if path.is_dir():
        return path
    if path.exists():
        raise ConfigError(
            f"encoder.pretrained={pretrained!r} is a file, not a directory. {LOCAL_HINT}"
        )
    text = str(pretrained)
    if text.startswith(("/", ".", "~")) or "\\" in text or text.count("/") > 1:
        raise ConfigError(f"encoder.pretrained={pretrained!r}: no such directory. {LOCAL_HINT}")
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(text, allow_patterns=HUB_FILES))
    except Exception as exc:  # offline, unknown id, invalid id: all end the same way
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise ZhnlpError(
            f"Cannot get NEZHA checkpoint {text!r} from the Hugging Face hub "
            f"({type(exc).__name__}: {reason}). Without network access, download it elsewhere "
            f"and copy the directory over. {LOCAL_HINT}"
        ) from exc


def read_config(directory: Path) -> NezhaConfig:
    """Read and check ``config.json``; errors name the file and the offending key."""
    path = directory / "config.json"
    if not path.is_file():
        raise ConfigError(f"{path}: file not found; a NEZHA checkpoint needs it. {LOCAL_HINT}")
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc}).") from exc
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: expected a JSON object, got {type(values).__name__}.")
    model_type = values.get("model_type")
    if model_type != "nezha":
        raise ConfigError(
            f"{path}: \"model_type\" is {model_type!r}, expected \"nezha\". The nezha encoder "
            f"loads NEZHA checkpoints only (BERT-architecture checkpoints: encoder=bert_wwm). "
            f"If this really is a NEZHA checkpoint, set \"model_type\": \"nezha\" in that file. "
            f"{LOCAL_HINT}"
        )
    for key in REQUIRED_KEYS:
        if not isinstance(values.get(key), int) or isinstance(values.get(key), bool):
            raise ConfigError(f"{path}: key {key!r} must be an integer, got {values.get(key)!r}.")
    try:
        return NezhaConfig.from_dict(values)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def make_tokenizer(directory: Path, max_length: int) -> BertTokenizer:
    """WordPiece tokenizer on the checkpoint's ``vocab.txt`` (fast backend: gives offsets)."""
    vocab = directory / "vocab.txt"
    if not vocab.is_file():
        raise ConfigError(f"{vocab}: file not found; the NEZHA tokenizer needs it. {LOCAL_HINT}")
    lower = True
    tok_config = directory / "tokenizer_config.json"
    if tok_config.is_file():
        try:
            settings = json.loads(tok_config.read_text(encoding="utf-8"))
            lower = bool(settings.get("do_lower_case", True))
        except (json.JSONDecodeError, AttributeError) as exc:
            raise ConfigError(f"{tok_config}: not a valid JSON object ({exc}).") from exc
    # transformers 5: the vocabulary argument is ``vocab``; ``vocab_file=`` is silently ignored
    # and leaves an almost empty vocabulary.
    return BertTokenizer(vocab=str(vocab), do_lower_case=lower, model_max_length=max_length)


def load_weights(model: NezhaModel, directory: Path) -> None:
    """Load a transformers 4.x NEZHA state dict (any prefix / head) into ``model``, strictly."""
    path = weights_file(directory)
    state = strip_prefix(read_weights(directory), MODEL_PREFIXES)
    state = {
        k: v
        for k, v in state.items()
        if not k.startswith(IGNORED_PREFIXES) and not any(s in k for s in IGNORED_SUBSTRINGS)
    }
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(
        f"{k} {tuple(state[k].shape)} != {tuple(expected[k].shape)}"
        for k in set(state) & set(expected)
        if state[k].shape != expected[k].shape
    )
    problems = []
    for label, keys in (("missing", missing), ("unexpected", unexpected), ("wrong shape", wrong)):
        if keys:
            shown = ", ".join(keys[:8]) + (f" ... ({len(keys)} in all)" if len(keys) > 8 else "")
            problems.append(f"{label} keys: {shown}")
    if problems:
        raise ConfigError(
            f"{path} does not match the NEZHA architecture of {directory / 'config.json'}: "
            + "; ".join(problems)
            + ". Check that config.json belongs to these weights and that they are a NEZHA "
            "checkpoint (keys like 'nezha.encoder.layer.0.attention.self.query.weight')."
        )
    model.load_state_dict(state, strict=True)


# --------------------------------------------------------------------------------------------
# The encoder module
# --------------------------------------------------------------------------------------------


class NezhaTextEncoder(nn.Module):
    """A NEZHA model plus its tokenizer, satisfying ``zhnlp.types.Encoder``.

    Attributes:
        num_special_tokens: 2 (``[CLS]`` ... ``[SEP]`` around one text).
        weights_source: the checkpoint directory the weights were loaded from (None: random
            weights); ``masked_lm`` takes the MLM head from there.
    """

    num_special_tokens = 2

    def __init__(
        self, config: NezhaConfig, tokenizer: BertTokenizer, source: Path, max_length: int
    ):
        super().__init__()
        self.model = NezhaModel(config)
        self.config = config
        self.tokenizer = tokenizer
        self.hidden_size = config.hidden_size
        self.max_length = max_length
        self.weights_source: Path | None = None
        self._source = source

    def forward(
        self,
        input_ids: torch.Tensor,  # (B, T)
        attention_mask: torch.Tensor,  # (B, T)
        token_type_ids: torch.Tensor | None = None,  # (B, T)
        **features: Any,  # other per-token features (bigram ids ...): not used by NEZHA
    ) -> torch.Tensor:
        return self.model(input_ids, attention_mask, token_type_ids)  # (B, T, H)

    def layer_groups(self) -> list[list[nn.Parameter]]:
        """Embeddings, then each transformer layer, bottom to top."""
        groups = [list(self.model.embeddings.parameters())]
        groups += [list(layer.parameters()) for layer in self.model.encoder.layer]
        return groups

    def input_embeddings(self) -> list[nn.Parameter]:
        """The word-embedding table (what FGM / PGD perturb)."""
        return [self.model.embeddings.word_embeddings.weight]

    def masked_lm(self) -> MaskedLM:
        """This encoder with its masked-LM head (``zhnlp pretrain``): a ``zhnlp.types.MaskedLM``
        around ``NezhaForMaskedLM`` (:mod:`zhnlp_nezha.mlm`), starting from this encoder's weights
        and the ``cls.`` head of the checkpoint they were loaded from, when it has one."""
        from zhnlp_nezha.mlm import masked_lm

        return masked_lm(self.model, self.config, self.weights_source)

    def save_assets(self, directory: str) -> dict:
        """Write config.json and vocab.txt (and tokenizer_config.json if the source had one).

        Returns:
            Builder kwargs that rebuild this module from ``directory`` without network and
            without weights (load the state dict afterwards).
        """
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.json").write_text(
            json.dumps(self.config.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        for name in ("vocab.txt", "tokenizer_config.json"):
            src = self._source / name
            if src.is_file() and src.resolve() != (out / name).resolve():
                shutil.copyfile(src, out / name)
        return {"pretrained": str(out), "weights": False}


def build_nezha(
    pretrained: str = DEFAULT_PRETRAINED,
    weights: bool = True,
    freeze: str = "none",
    freeze_layers: int = 0,
    max_length: int | None = None,
    hidden_dropout_prob: float | None = None,
    attention_probs_dropout_prob: float | None = None,
) -> NezhaTextEncoder:
    """Build a NEZHA encoder from a checkpoint in the transformers 4.x ``NezhaModel`` layout.

    Args:
        pretrained: a local directory (config.json with ``model_type: nezha``, vocab.txt, and
            model.safetensors or pytorch_model.bin) or a hub id such as
            ``sijunhe/nezha-cn-base`` (needs network or the local hub cache).
        weights: load the pretrained weights; ``False`` builds the architecture with random
            weights (used when a zhnlp checkpoint supplies the state dict afterwards).
        freeze: ``"none"``, ``"embeddings"`` or ``"all"`` (no encoder parameter is trained).
        freeze_layers: also freeze the embeddings and the first ``k`` transformer layers
            (0 to ``num_hidden_layers``).
        max_length: longest input in tokens; defaults to ``max_position_embeddings`` (512).
        hidden_dropout_prob: override the checkpoint's hidden dropout, if given.
        attention_probs_dropout_prob: override the checkpoint's attention dropout, if given.

    Returns:
        A ``NezhaTextEncoder``: ``forward(input_ids, attention_mask, token_type_ids=None)`` gives
        the last hidden states ``(B, T, hidden_size)``; has ``num_special_tokens`` (2),
        ``layer_groups()``, ``save_assets()``, ``input_embeddings()`` and ``masked_lm()``.

    Raises:
        ConfigError / ZhnlpError: unreachable hub id, missing or wrong files, weights that do
            not fit config.json, or bad freeze options.
    """
    directory = resolve_pretrained(pretrained)
    config = read_config(directory)
    if hidden_dropout_prob is not None:
        config.hidden_dropout_prob = float(hidden_dropout_prob)
    if attention_probs_dropout_prob is not None:
        config.attention_probs_dropout_prob = float(attention_probs_dropout_prob)
    limit = max_length if max_length is not None else config.max_position_embeddings
    if not isinstance(limit, int) or limit < 2:
        raise ConfigError(f"encoder.max_length={max_length!r}: expected an integer >= 2.")
    tokenizer = make_tokenizer(directory, limit)
    if len(tokenizer.get_vocab()) > config.vocab_size:
        raise ConfigError(
            f"{directory / 'vocab.txt'} has {len(tokenizer.get_vocab())} tokens but "
            f"{directory / 'config.json'} says vocab_size={config.vocab_size}: they do not "
            f"belong together."
        )
    encoder = NezhaTextEncoder(config, tokenizer, directory, limit)
    if weights:
        load_weights(encoder.model, directory)
        encoder.weights_source = directory
    freeze_groups(encoder.layer_groups(), freeze, freeze_layers)
    return encoder


# --------------------------------------------------------------------------------------------
# Tiny instance for the shared contract tests
# --------------------------------------------------------------------------------------------

_TINY_TEXT = (
    "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年"
    "过发后作里用道行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心"
    "她本前开但因只从想实日军者意无力它与长把机十民第公此已工使情明性知全三又关点正业外将两高间"
    "由问很最重并物手应战向头文体政美相见被利什二等产或新己制身果加西斯月话合回特代内信表化老给"
    "世位次度门任常先海通教儿原东声提立及比员解水名真论处走义各入几口认条平系气题活尔更别打女变"
    "四神总何电数安少报才结反受目太量再感建务做接必场件计管期市直德资命山金指克许统区保至队形社"
    "便空决治展马科司五基眼书非则听白却界达光放强即像难且权思王象完设式色路记南品住告类求据程北"
    "边死张该交规万取拉格望觉术领共确传师观清今切院让识候带导争运笑飞风步改收根干造言联持组每济"
    "车亲极林服快办议往元英士证近失转夫令准布始怎呢存未远叫台单影具罗字爱击流备兵连调深商算质团"
    "集百需价花党华城石级整府离况亚请技际约示复病息究线似官火断精满支视消越器容照须九增研写称企"
    "八功吗包片史委乎查轻易早曾除农找装广显吧阿李标谈吃图念六引历首医局突专费号尽另周较注语仅考"
    "落青随选列武红响虽推势参希古众构房半节土投某案黑维革划敌致陈律足态护七兴派孩验责营星够章音"
    "京模型圳州江河湖省县镇村街路号楼店银行网络微博"
)


def example_kwargs(tmp_dir) -> dict:
    """Write a tiny random NEZHA checkpoint in the hub layout (``tmp_dir/tiny-nezha``); return
    builder kwargs for it."""
    from safetensors.torch import save_file

    directory = Path(tmp_dir) / "tiny-nezha"
    directory.mkdir(parents=True, exist_ok=True)
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    chars = list(dict.fromkeys(_TINY_TEXT))
    ascii_tokens = [str(d) for d in range(10)] + [chr(c) for c in range(ord("a"), ord("z") + 1)]
    pieces = [f"##{t}" for t in ascii_tokens]
    vocab = specials + chars + ascii_tokens + pieces
    (directory / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    config = NezhaConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=128,
        max_relative_position=16,
        extra={"architectures": ["NezhaModel"]},
    )
    torch.manual_seed(0)
    model = NezhaModel(config)
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(directory / "model.safetensors"))
    config_text = json.dumps(config.to_dict(), indent=2) + "\n"
    (directory / "config.json").write_text(config_text, encoding="utf-8")
    return {"pretrained": str(directory)}


nezha = EncoderSpec(build=build_nezha, example_kwargs=example_kwargs,
                    description="NEZHA (relative positions; a checkpoint in the transformers 4.x NezhaModel layout)")
