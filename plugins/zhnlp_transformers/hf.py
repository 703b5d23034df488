"""``encoder=hf``: any local transformers checkpoint through ``AutoModel`` + a fast ``AutoTokenizer``.

The named encoders (``bert_wwm`` ...) pin one architecture and BertTokenizer; this one takes what
the directory says: ``config.json`` picks the model class, the tokenizer files pick the tokenizer
(WordPiece, SentencePiece/Unigram, BPE). Offsets come from the fast tokenizer, cleaned by
:mod:`zhnlp_transformers.pieces`, so character labels align to multi-character pieces.

Vocabulary pruning (``prune_vocab``): :meth:`HFEncoder.fit` tokenizes the training texts, keeps
the embedding rows of the pieces found there plus the special tokens, and remaps ids after
tokenization (an unseen piece becomes the unknown token). ``save_assets`` writes the pruned
``config.json``, the full tokenizer and ``pruned_vocab.json`` (the kept original ids), from which
the builder rebuilds the same module: a pruned directory is a checkpoint of its own.
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Sequence

import torch
from torch import nn

from zhnlp.errors import ConfigError
from zhnlp.layers import freeze as freeze_groups
from zhnlp_transformers.checkpointing import enable_gradient_checkpointing
from zhnlp_transformers.pieces import CAN_OFFSET, PieceTokenizer

PRUNED_FILE = "pruned_vocab.json"
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "sentencepiece.bpe.model",
                   "spiece.model", "vocab.json")
# Position embeddings that start after the padding id (RoBERTa family): usable length is shorter.
POSITION_OFFSET_TYPES = ("roberta", "xlm-roberta", "camembert", "xlm-roberta-xl")
PRUNE_CHUNK = 2000


class HFEncoder(nn.Module):
    """A transformers ``AutoModel`` and its fast tokenizer, returning last hidden states (B, T, H).

    Attributes:
        hidden_size: the model's hidden size.
        tokenizer: a :class:`~zhnlp_transformers.pieces.PieceTokenizer`.
        max_length: the most tokens ``forward`` accepts (positions of the model).
        num_special_tokens: what the tokenizer adds around one text (2 for ``<s> ... </s>``).
        model: the transformers model.
        kept_ids: the original ids of the embedding rows (pruned vocabulary), or None.
    """

    def __init__(self, model: nn.Module, tokenizer, max_length: int, prune_vocab: bool = False,
                 kept_ids: Sequence[int] | None = None):
        super().__init__()
        self.model = model
        self.hidden_size = int(model.config.hidden_size)
        self.max_length = int(max_length)
        self.prune_vocab = bool(prune_vocab)
        self.num_special_tokens = int(tokenizer.num_special_tokens_to_add(pair=False))
        self.tokenizer = PieceTokenizer(tokenizer)
        self.kept_ids: list[int] | None = None
        if kept_ids is not None:  # a pruned checkpoint: its embedding already holds these rows
            self._remap(list(kept_ids))

    @property
    def pad_row(self) -> int:
        """The id padding positions get in ``forward`` (the model's own pad id, else 0)."""
        pad = self.model.config.pad_token_id
        return int(pad) if pad is not None else 0

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor | None = None, **_) -> torch.Tensor:
        """Encode a padded batch.

        Args:
            input_ids: (B, T) ids (embedding rows), padded with anything.
            attention_mask: (B, T), 1 for real tokens.
            token_type_ids: (B, T) segment ids, or None.

        Returns:
            (B, T, H) last hidden states.
        """
        # zhnlp pads with 0; RoBERTa-style models count positions from the pad id, so padding
        # must carry it (real positions are then exactly transformers' own)
        ids = input_ids.masked_fill(attention_mask == 0, self.pad_row)  # (B, T)
        extra = {"token_type_ids": token_type_ids} if token_type_ids is not None else {}
        return self.model(input_ids=ids, attention_mask=attention_mask, **extra).last_hidden_state  # (B, T, H)

    # ---- vocabulary pruning ---------------------------------------------------------------------
    def fit(self, texts: Sequence[str]) -> int | None:
        """With ``prune_vocab``: keep the embedding rows of the pieces in ``texts`` and the
        special tokens; return the number of rows kept (None without pruning: nothing to fit)."""
        if not self.prune_vocab:
            return None
        hf = self.tokenizer.hf
        seen = set(hf.all_special_ids)
        for start in range(0, len(texts), PRUNE_CHUNK):
            enc = hf(list(texts[start : start + PRUNE_CHUNK]), add_special_tokens=False, truncation=False)
            for ids in enc["input_ids"]:
                seen.update(ids)
        old = self.model.get_input_embeddings()
        current = self.kept_ids if self.kept_ids is not None else range(old.num_embeddings)
        row_of = {orig: row for row, orig in enumerate(current)}
        kept = sorted(i for i in seen if i in row_of)  # a pruned checkpoint prunes only what it has
        rows = torch.tensor([row_of[i] for i in kept], dtype=torch.long)  # (V',)
        new = nn.Embedding(len(kept), old.embedding_dim, device=old.weight.device, dtype=old.weight.dtype)
        with torch.no_grad():
            new.weight.copy_(old.weight[rows])  # (V', H): the kept rows, unchanged
        new.weight.requires_grad_(old.weight.requires_grad)
        self.model.set_input_embeddings(new)
        self._remap(kept)
        return len(kept)

    def _remap(self, kept: list[int]) -> None:
        """Ids after tokenization -> rows of the embedding that holds the original ids ``kept``."""
        hf = self.tokenizer.hf
        table = [-1] * (max(max(kept), max(hf.get_vocab().values())) + 1)
        for row, orig in enumerate(kept):
            table[orig] = row
        self.model.config.vocab_size = len(kept)
        pad = self.model.config.pad_token_id
        if pad is not None and table[pad] != pad:  # the padding row moved: the model counts positions from it
            self.model.config.pad_token_id = table[pad]
            self.model.get_input_embeddings().padding_idx = table[pad]
            embeddings = getattr(self.model, "embeddings", None)
            if getattr(embeddings, "padding_idx", None) is not None:
                embeddings.padding_idx = table[pad]
        unk = hf.unk_token_id
        unk_row = table[unk] if unk is not None and table[unk] >= 0 else self.pad_row
        self.kept_ids = list(kept)
        self.tokenizer = PieceTokenizer(hf, id_map=table, unk_row=unk_row)

    # ---- optional capabilities ------------------------------------------------------------------
    def layer_groups(self) -> list[list[nn.Parameter]]:
        """Bottom-to-top groups: the embeddings, then each transformer layer; any other parameter
        (a final norm, a pooler) joins the top group. Every parameter once."""
        layers = _layer_list(self.model)
        in_layers = {id(p) for layer in layers for p in layer.parameters()}
        embeddings = [p for n, p in self.model.named_parameters() if id(p) not in in_layers and "embed" in n]
        taken = in_layers | {id(p) for p in embeddings}
        rest = [p for p in self.model.parameters() if id(p) not in taken]
        groups = [embeddings] + [list(layer.parameters()) for layer in layers]
        groups[-1] = groups[-1] + rest
        return [g for g in groups if g]

    def input_embeddings(self) -> list[nn.Parameter]:
        """The word-embedding table (what FGM / PGD perturb)."""
        return [self.model.get_input_embeddings().weight]

    def save_assets(self, directory: str) -> dict:
        """Write config.json (the pruned vocabulary size when pruned), the tokenizer files and
        ``pruned_vocab.json``, so that the builder rebuilds this module offline without weights.

        Returns:
            Builder kwargs: ``{"pretrained": directory, "weights": False}``.
        """
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        self.model.config.save_pretrained(out)
        self.tokenizer.hf.save_pretrained(str(out))
        pruned = out / PRUNED_FILE
        if self.kept_ids is not None:
            pruned.write_text(json.dumps({"kept_ids": self.kept_ids}) + "\n", encoding="utf-8")
        elif pruned.exists():
            pruned.unlink()
        return {"pretrained": str(out), "weights": False}


def _layer_list(model: nn.Module) -> list[nn.Module]:
    """The model's transformer layers: the longest ``nn.ModuleList`` of ``num_hidden_layers``."""
    n = getattr(model.config, "num_hidden_layers", None)
    lists = [m for m in model.modules() if isinstance(m, nn.ModuleList) and (n is None or len(m) == n)]
    return list(max(lists, key=len)) if lists else []


def _directory(pretrained: str | None) -> Path:
    if not pretrained:
        raise ConfigError("encoder.pretrained is required for encoder=hf: encoder.pretrained=/path/to/checkpoint "
                          "(a directory with config.json, the weights and tokenizer files).")
    path = Path(str(pretrained)).expanduser()
    if not path.is_dir():
        raise ConfigError(f"encoder.pretrained={pretrained}: no such directory. encoder=hf loads local checkpoint "
                          f"directories only (config.json, model.safetensors or pytorch_model.bin, tokenizer files).")
    if not (path / "config.json").is_file():
        raise ConfigError(f"{path / 'config.json'} not found: encoder.pretrained must be a transformers checkpoint "
                          f"directory (save_pretrained layout).")
    if not any((path / name).is_file() for name in TOKENIZER_FILES):
        raise ConfigError(f"{path} has no tokenizer (none of {', '.join(TOKENIZER_FILES)}): save the checkpoint's "
                          f"tokenizer into it (tokenizer.save_pretrained(DIR)) or copy tokenizer.json from its download.")
    return path


def _load_tokenizer(directory: Path):
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(directory), local_files_only=True)
    except Exception as exc:
        raise ConfigError(f"Cannot load the tokenizer in {directory}: {type(exc).__name__}: {exc}") from exc
    if not getattr(tokenizer, "is_fast", False):
        raise ConfigError(f"The tokenizer in {directory} ({type(tokenizer).__name__}) cannot return character "
                          f"offsets, which zhnlp needs to align labels; only {CAN_OFFSET} can. Convert it once: "
                          f"AutoTokenizer.from_pretrained(DIR).save_pretrained(DIR) with the `tokenizers` package "
                          f"installed writes tokenizer.json.")
    return tokenizer


def _load_model(directory: Path, weights: bool, kept: list[int] | None):
    from transformers import AutoConfig, AutoModel

    try:
        config = AutoConfig.from_pretrained(str(directory), local_files_only=True)
    except Exception as exc:
        raise ConfigError(f"Cannot read {directory / 'config.json'}: {type(exc).__name__}: {exc}") from exc
    if kept is not None and len(kept) != config.vocab_size:
        raise ConfigError(f"{directory / PRUNED_FILE} lists {len(kept)} ids but {directory / 'config.json'} says "
                          f"vocab_size={config.vocab_size}: the pruned checkpoint's files do not belong together.")
    try:
        if not weights:
            try:
                return AutoModel.from_config(config, add_pooling_layer=False)
            except TypeError:  # a model without a pooler option
                return AutoModel.from_config(config)
        with quiet_transformers():  # its load report lists the pretraining heads we leave out
            try:
                model, info = AutoModel.from_pretrained(str(directory), local_files_only=True, add_pooling_layer=False,
                                                        output_loading_info=True)
            except TypeError:
                model, info = AutoModel.from_pretrained(str(directory), local_files_only=True,
                                                        output_loading_info=True)
    except ConfigError:
        raise
    except Exception as exc:
        what = "build the model of" if not weights else "load the weights in"
        raise ConfigError(f"Cannot {what} {directory} with AutoModel: {type(exc).__name__}: {exc}. It needs "
                          f"config.json and model.safetensors or pytorch_model.bin (encoder.weights=false builds "
                          f"random weights from config.json).") from exc
    missing = [k for k in info.get("missing_keys", ()) if "pooler" not in k]
    mismatched = [str(k) for k in info.get("mismatched_keys", ())]
    if missing or mismatched:
        raise ConfigError(f"The weights in {directory} do not fit the {type(model).__name__} that config.json describes: "
                          f"{len(missing)} missing (e.g. {missing[:3]}), {len(mismatched)} with another shape "
                          f"(e.g. {mismatched[:2]}). config.json and the weights must come from the same checkpoint.")
    return model


@contextmanager
def quiet_transformers():
    """transformers' own warnings silenced (errors still show) for the duration."""
    from transformers.utils import logging

    level = logging.get_verbosity()
    logging.set_verbosity_error()
    try:
        yield
    finally:
        logging.set_verbosity(level)


def _max_length(config, tokenizer, max_length: int | None) -> int:
    positions = int(getattr(config, "max_position_embeddings", 0) or 512)
    if getattr(config, "model_type", "") in POSITION_OFFSET_TYPES and config.pad_token_id is not None:
        positions -= int(config.pad_token_id) + 1
    limit = min(positions, int(tokenizer.model_max_length)) if tokenizer.model_max_length else positions
    if max_length is None:
        return limit
    if not 8 < int(max_length) <= limit:
        raise ConfigError(f"encoder.max_length={max_length}: use 9 .. {limit} (the model's positions), or null.")
    return int(max_length)


def build_hf(pretrained: str | None = None, weights: bool = True, prune_vocab: bool = False,
             max_length: int | None = None, freeze: str = "none", freeze_layers: int = 0,
             gradient_checkpointing: bool = False) -> HFEncoder:
    """Any local transformers checkpoint: ``AutoModel`` + its fast ``AutoTokenizer`` (WordPiece,
    SentencePiece/Unigram or BPE), offline (``local_files_only``).

    Args:
        pretrained: the checkpoint directory (config.json, model.safetensors or pytorch_model.bin,
            tokenizer.json or the tokenizer's own files). Required.
        weights: False builds the model from config.json with random weights (when a trained zhnlp
            model overwrites them); no weights file is needed then.
        prune_vocab: keep only the embedding rows of the pieces in the training texts plus the
            special tokens (``fit``); other pieces then read as the unknown token.
        max_length: the most tokens per row; None: the model's positions.
        freeze: "none", "all" or "embeddings".
        freeze_layers: also freeze the embeddings and the first k transformer layers.
        gradient_checkpointing: recompute activations in backward to save memory.

    Returns:
        HFEncoder: ``forward(input_ids, attention_mask, token_type_ids=None)`` gives (B, T, H); has
        ``fit`` (pruning), ``layer_groups()``, ``input_embeddings()`` and ``save_assets()``.

    Raises:
        ConfigError: no directory, no config.json or tokenizer in it, a tokenizer without offsets
            (not a fast one), a tokenizer with more ids than the model has embedding rows.
    """
    directory = _directory(pretrained)
    tokenizer = _load_tokenizer(directory)
    pruned = directory / PRUNED_FILE
    kept = json.loads(pruned.read_text(encoding="utf-8"))["kept_ids"] if pruned.is_file() else None
    model = _load_model(directory, weights, kept)
    rows = int(model.get_input_embeddings().num_embeddings)
    ids = max(tokenizer.get_vocab().values()) + 1
    if kept is None and ids > rows:
        raise ConfigError(f"The tokenizer in {directory} has ids up to {ids - 1} but the model has only {rows} embedding "
                          f"rows ({directory / 'config.json'} vocab_size={model.config.vocab_size}): the tokenizer does "
                          f"not belong to this checkpoint; use the tokenizer files it was trained with.")
    if gradient_checkpointing:
        enable_gradient_checkpointing(model)
    encoder = HFEncoder(model, tokenizer, _max_length(model.config, tokenizer, max_length), prune_vocab, kept)
    freeze_groups(encoder.layer_groups(), freeze, freeze_layers)
    return encoder
