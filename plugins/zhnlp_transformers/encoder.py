"""One wrapper for the transformers encoders (BERT-wwm, RoBERTa-wwm, ERNIE 3.0, ALBERT-zh).

They differ only by model class: the config is read from ``config.json``, the tokenizer is always
``BertTokenizer`` on ``vocab.txt`` (Chinese RoBERTa-wwm is BERT architecture, and ALBERT-zh ships
a WordPiece vocab.txt, not SentencePiece), and weights are read by ``zhnlp.weights.read_weights``
so old ``pytorch_model.bin`` uploads load as well as ``save_pretrained`` output.
"""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from zhnlp.errors import ConfigError
from zhnlp.layers import freeze as freeze_groups
from zhnlp.types import MaskedLM
from zhnlp.weights import HEAD_PREFIXES, read_weights, strip_prefix, weights_file
from zhnlp_transformers.checkpointing import enable_gradient_checkpointing
from zhnlp_transformers.hub import resolve


@dataclass(frozen=True)
class Architecture:
    """How to build one ``model_type``: transformers config/model class names and key prefixes."""

    model_type: str
    config_class: str
    model_class: str
    prefixes: tuple[str, ...]

    def classes(self):
        import transformers

        return getattr(transformers, self.config_class), getattr(transformers, self.model_class)


ARCHITECTURES = {
    "bert": Architecture("bert", "BertConfig", "BertModel", ("bert.",)),
    "ernie": Architecture("ernie", "ErnieConfig", "ErnieModel", ("ernie.", "bert.")),
    "albert": Architecture("albert", "AlbertConfig", "AlbertModel", ("albert.",)),
}
# Which zhnlp encoder handles a model_type, for "wrong encoder" hints.
ENCODER_FOR = {"bert": "bert_wwm or roberta_wwm", "ernie": "ernie", "albert": "albert_zh",
               "nezha": "nezha"}
# The encoder has no pooler (only last hidden states are used), so pooler weights are head keys.
IGNORED_PREFIXES = HEAD_PREFIXES + ("pooler.",)


def read_config(directory: Path, expected: str, encoder_name: str):
    """Build the transformers config from ``directory/config.json`` for ``expected`` model_type."""
    path = directory / "config.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"Cannot read {path}: {exc}. It must be a JSON model config.") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} must hold a JSON object (a model config).")
    model_type = raw.get("model_type", expected)  # very old uploads have no model_type
    if model_type != expected:
        hint = (f" This looks like a checkpoint for encoder={ENCODER_FOR[model_type]}."
                if model_type in ENCODER_FOR else "")
        if model_type == "roberta":
            hint = (" Chinese RoBERTa-wwm (hfl) is BERT architecture: if this is such a checkpoint,"
                    " set model_type to 'bert'; real RoBERTa checkpoints are not supported.")
        raise ConfigError(
            f"{path}: key 'model_type' is {model_type!r}, which encoder '{encoder_name}' does not "
            f"handle (supported model_type: {expected!r}; this plugin handles "
            f"{', '.join(repr(t) for t in ARCHITECTURES)}).{hint}"
        )
    config_class, _ = ARCHITECTURES[expected].classes()
    try:
        return config_class.from_dict(raw)
    except Exception as exc:
        raise ConfigError(f"{path} is not a valid {config_class.__name__}: {exc}") from exc


def _short(keys: list[str], n: int = 8) -> str:
    more = f" ... (+{len(keys) - n} more)" if len(keys) > n else ""
    return ", ".join(keys[:n]) + more


def load_weights(model: nn.Module, directory: Path, arch: Architecture) -> None:
    """Load the checkpoint in ``directory`` into ``model``; every encoder weight must be there.

    Raises:
        ConfigError: naming the weights file, when keys are missing, unexpected or mis-shaped
            (weights of another architecture or size than config.json describes).
    """
    path = weights_file(directory)
    state = strip_prefix(read_weights(directory), arch.prefixes, drop=IGNORED_PREFIXES)
    own = model.state_dict()
    buffers = {name for name, _ in model.named_buffers()}
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own and k not in buffers]
    mismatched = [f"{k} {tuple(state[k].shape)} vs {tuple(own[k].shape)}"
                  for k in own if k in state and state[k].shape != own[k].shape]
    if missing or unexpected or mismatched:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing ({_short(missing)})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected ({_short(unexpected)})")
        if mismatched:
            parts.append(f"{len(mismatched)} with the wrong shape, checkpoint vs config "
                         f"({_short(mismatched)})")
        raise ConfigError(
            f"Weights file {path} does not match the {arch.model_class} that "
            f"{directory / 'config.json'} describes: {'; '.join(parts)}. config.json, vocab.txt "
            f"and the weights must come from the same checkpoint."
        )
    model.load_state_dict({k: state[k] for k in own}, strict=True)


class TransformerEncoder(nn.Module):
    """A transformers encoder with its BertTokenizer, returning last hidden states (B, T, H).

    Attributes:
        hidden_size: width of the hidden states.
        tokenizer: ``BertTokenizer`` (fast, so ``return_offsets_mapping=True`` works).
        max_length: ``max_position_embeddings`` of the config.
        num_special_tokens: 2 (``[CLS]`` ... ``[SEP]`` around one text).
        model: the transformers model (no pooler).
        source: the checkpoint directory the weights were loaded from (None: random weights);
            ``masked_lm`` takes the MLM head from there.
    """

    num_special_tokens = 2

    def __init__(self, model: nn.Module, tokenizer, vocab_file: Path, model_type: str,
                 source: Path | None = None):
        super().__init__()
        self.model = model
        self.tokenizer = tokenizer
        self.model_type = model_type
        self.hidden_size = int(model.config.hidden_size)
        self.max_length = int(model.config.max_position_embeddings)
        self.source = Path(source) if source is not None else None
        self._vocab_file = Path(vocab_file)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor | None = None, **features) -> torch.Tensor:
        """Encode a padded batch.

        Args:
            input_ids: (B, T) token ids.
            attention_mask: (B, T), 1 for real tokens.
            token_type_ids: (B, T) segment ids, or None for all zeros.
            **features: ``task_type_ids`` (B, T) is passed to ERNIE; other keys are ignored.

        Returns:
            (B, T, H) last hidden states.
        """
        extra = {}
        task_type_ids = features.get("task_type_ids")
        if task_type_ids is not None:
            if self.model_type != "ernie" or not getattr(self.model.config, "use_task_id", False):
                raise ConfigError(
                    "task_type_ids were given but this encoder has no task-type embeddings "
                    "(only ERNIE with use_task_id=true in config.json has them)."
                )
            extra["task_type_ids"] = task_type_ids
        out = self.model(input_ids=input_ids, attention_mask=attention_mask,
                         token_type_ids=token_type_ids, **extra)
        return out.last_hidden_state  # (B, T, H)

    def export_module(self) -> "TransformerEncoder | None":
        """For ``zhnlp export``: this encoder with its ``BertModel`` computing the matrix products on
        real tokens only (:class:`~zhnlp_transformers.export_graph.PackedBert`, same outputs on real
        tokens); None for models it does not cover (ALBERT, ERNIE, NEZHA, ...)."""
        from zhnlp_transformers.export_graph import PackedBert, packable

        if packable(self.model) is not None:
            return None
        return TransformerEncoder(PackedBert(self.model), self.tokenizer, self._vocab_file, self.model_type,
                                  self.source)

    def layer_groups(self) -> list[list[nn.Parameter]]:
        """Embeddings first, then each transformer layer bottom to top; every parameter once.

        ALBERT shares layers: its groups are the embeddings (with the embedding-to-hidden
        projection) and then each distinct shared layer, not one group per applied layer.
        """
        encoder = self.model.encoder
        if hasattr(encoder, "layer"):  # BERT, ERNIE
            embeddings = list(self.model.embeddings.parameters())
            layers = list(encoder.layer)
        else:  # ALBERT
            embeddings = (list(self.model.embeddings.parameters())
                          + list(encoder.embedding_hidden_mapping_in.parameters()))
            layers = [layer for group in encoder.albert_layer_groups for layer in group.albert_layers]
        groups = [embeddings] + [list(layer.parameters()) for layer in layers]
        return [g for g in groups if g]

    def input_embeddings(self) -> list[nn.Parameter]:
        """The word-embedding table (what FGM / PGD perturb)."""
        return [self.model.get_input_embeddings().weight]

    def masked_lm(self) -> MaskedLM:
        """This encoder with its masked-LM head (``zhnlp pretrain``): a ``zhnlp.types.MaskedLM``
        whose ``*ForMaskedLM`` starts from this encoder's weights and, when the checkpoint it was
        loaded from has one, that checkpoint's MLM head (:mod:`zhnlp_transformers.mlm`)."""
        from zhnlp_transformers.mlm import masked_lm

        return masked_lm(self.model, self.model_type, self.source)

    def save_assets(self, directory: str) -> dict:
        """Write config.json, vocab.txt and tokenizer files so the module can be rebuilt offline.

        Returns:
            Builder kwargs that rebuild this encoder without weights from ``directory``.
        """
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        self.model.config.save_pretrained(out)
        target = out / "vocab.txt"
        if not (target.exists() and target.samefile(self._vocab_file)):
            shutil.copyfile(self._vocab_file, target)
        self.tokenizer.save_pretrained(str(out))
        return {"pretrained": str(out), "weights": False}


def build_transformer(
    encoder_name: str,
    model_type: str,
    pretrained: str,
    *,
    weights: bool = True,
    local_files_only: bool = True,
    freeze: str = "none",
    freeze_layers: int = 0,
    gradient_checkpointing: bool = False,
) -> TransformerEncoder:
    """Shared builder behind bert_wwm / roberta_wwm / ernie / albert_zh (see ``encoders.py``)."""
    from transformers import BertTokenizer

    arch = ARCHITECTURES[model_type]
    directory = resolve(pretrained, local_files_only)
    config = read_config(directory, model_type, encoder_name)
    if weights:
        weights_file(directory)  # fail on a missing weights file before building anything
    try:
        tokenizer = BertTokenizer.from_pretrained(str(directory), local_files_only=True)
    except Exception as exc:
        raise ConfigError(f"Cannot build a BertTokenizer from {directory / 'vocab.txt'}: {exc}") from exc
    if len(tokenizer) > config.vocab_size:
        raise ConfigError(
            f"{directory / 'vocab.txt'} has {len(tokenizer)} tokens but {directory / 'config.json'} "
            f"says vocab_size={config.vocab_size}: they come from different checkpoints."
        )
    tokenizer.model_max_length = int(config.max_position_embeddings)
    _, model_class = arch.classes()
    model = model_class(config, add_pooling_layer=False)
    if weights:
        load_weights(model, directory, arch)
    if gradient_checkpointing:
        enable_gradient_checkpointing(model)
    encoder = TransformerEncoder(model, tokenizer, directory / "vocab.txt", model_type,
                                 source=directory if weights else None)
    freeze_groups(encoder.layer_groups(), freeze, freeze_layers)
    return encoder
