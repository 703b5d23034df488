"""``TaskModel``: the one model object. Encoder + head (or K of them), assembled, run and persisted here.

Everything that trains, predicts, exports, cross-validates or ensembles wraps a TaskModel:
the LightningModule (:mod:`zhnlp.module`), ``zhnlp.load`` (a run folder, a ``model/`` folder or a
checkpoint), ``zhnlp export``, ``zhnlp cv`` and ``zhnlp ensemble``.

A TaskModel holds ``members``: K >= 1 (encoder, head) pairs built from the same configs. With
K = 1 it is a plain model. With K > 1 it is an ensemble trained in one run: every member sees the
same batches (one tokenization: the members' tokenizers are built and fitted identically), the
loss is the mean of the members' losses, and predictions are combined per example by the head's
``combine`` (e.g. entity voting, probability averaging), else by a weighted majority vote.

On disk (``save_pretrained``), no pickle anywhere::

    zhnlp.json          {"format", "encoder": {name, ...}, "head": {name, ...}, "labels",
                         "members", "max_length", "data", "assets"}
    model.safetensors   every tensor of ``state_dict()`` (vocabularies travel as extra state)
    encoder/            the encoder's own files (config.json, vocab.txt ...), from ``save_assets``
"""
from __future__ import annotations

import copy
import json
import warnings
from pathlib import Path
from typing import Any, Iterable, Sequence

import torch
from torch import nn

from zhnlp import registry
from zhnlp.data.collate import collate, nonempty
from zhnlp.data.features import make_features, merge_windows
from zhnlp.errors import ConfigError, ZhnlpError
from zhnlp.types import ModelOutput, has
from zhnlp.voting import majority

FORMAT = "zhnlp-model/1"
CONFIG_FILE = "zhnlp.json"
WEIGHTS_FILE = "model.safetensors"
ASSETS_DIR = "encoder"
CHECK_TEXTS = ["张伟在北京大学读书。", "华为Mate60于2023年发布😀", "ＡＢＣ银行"]


class Member(nn.Module):
    """One encoder + head pair."""

    def __init__(self, encoder: nn.Module, head: nn.Module):
        super().__init__()
        self.encoder, self.head = encoder, head


def combine_predictions(heads: Sequence[Any], predictions: Sequence[Any], weights: Sequence[float],
                        vote: float = 0.5) -> Any:
    """One example's ensemble prediction: the first head's ``combine``, else :func:`majority`."""
    if has(heads[0], "combine"):
        return heads[0].combine(list(predictions), list(weights), list(heads), vote)
    return majority(predictions, weights)


class TaskModel(nn.Module):
    """K (encoder, head) members and the config that rebuilds them (see the module docstring).

    Build one with :meth:`build` (training), :meth:`from_pretrained` (a ``save_pretrained``
    folder) or :meth:`from_checkpoint` (a Lightning ``.ckpt`` of ``zhnlp train``).

    Args:
        members: the (encoder, head) pairs.
        config: the JSON-able description written to ``zhnlp.json``.
    """

    def __init__(self, members: Sequence[tuple[nn.Module, nn.Module]], config: dict):
        super().__init__()
        if not members:
            raise ConfigError("a model needs at least one member.")
        self.members = nn.ModuleList(Member(e, h) for e, h in members)
        self.config = config
        self.labels = list(config["labels"])
        self.max_length = int(config.get("max_length") or self.encoder.max_length)

    # ---- parts --------------------------------------------------------------------------------
    @property
    def encoder(self) -> nn.Module:
        """Member 0's encoder (its tokenizer is every member's)."""
        return self.members[0].encoder

    @property
    def head(self) -> nn.Module:
        """Member 0's head (targets, windows, evaluation)."""
        return self.members[0].head

    @property
    def heads(self) -> list[nn.Module]:
        return [m.head for m in self.members]

    @property
    def cfg(self) -> dict:
        """What the model was trained with: ``{"encoder", "head", "data", ...}`` (the stored config)."""
        return self.config

    # ---- building -----------------------------------------------------------------------------
    @classmethod
    def build(cls, encoder: dict, head: dict, labels: Sequence[str], train_examples: Sequence[dict] | None = None,
              members: int = 1, max_length: int | None = None, data: dict | None = None,
              assets_dir: str | Path | None = None) -> "TaskModel":
        """Build a fresh model from the encoder and head configs.

        Args:
            encoder: ``{"name": ..., **params}``.
            head: ``{"name": ..., **params}``.
            labels: the label set (from the head spec's ``collect_labels``).
            train_examples: the training examples: encoders with ``fit`` build their vocabulary
                from their texts, heads with ``fit`` see them once.
            members: K > 1 builds an ensemble of K independently initialised members.
            max_length: the most tokens per row (default: the encoder's ``max_length``).
            data: the data config, kept for ``zhnlp eval`` / export (reader, dev split).
            assets_dir: where the encoder writes its files (``save_assets``); None: nowhere.

        Returns:
            The model (training mode).
        """
        if int(members) < 1:
            raise ConfigError(f"members={members!r}: use 1 (one model) or K >= 2 (an ensemble trained in one run).")
        texts = _texts(train_examples or [])
        pairs = []
        for _ in range(int(members)):
            enc = registry.build_encoder(encoder)
            if has(enc, "fit"):
                enc.fit(texts)
            hd = registry.build_head(head, hidden_size=enc.hidden_size, labels=list(labels))
            if has(hd, "fit") and train_examples is not None:
                hd.fit(list(train_examples))
            pairs.append((enc, hd))
        _check_same_tokens([e for e, _ in pairs])
        assets = {}
        if assets_dir is not None and has(pairs[0][0], "save_assets"):
            assets = relative_assets(pairs[0][0].save_assets(str(Path(assets_dir) / ASSETS_DIR)), Path(assets_dir))
        config = {"format": FORMAT, "encoder": dict(encoder), "head": dict(head), "labels": list(labels),
                  "members": int(members), "max_length": max_length, "data": dict(data or {}), "assets": assets}
        return cls(pairs, config)

    @classmethod
    def from_config(cls, config: dict, base: Path) -> "TaskModel":
        """The model a stored config describes, with freshly initialised weights; the encoder files
        are read from ``base`` (the folder the assets were saved in)."""
        if config.get("format") != FORMAT:
            raise ZhnlpError(f"{base}: not a zhnlp model config (format {config.get('format')!r}, expected {FORMAT}).")
        encoder_cfg = {**config["encoder"], **absolute_assets(config.get("assets") or {}, base)}
        pairs = []
        for _ in range(int(config.get("members", 1))):
            enc = registry.build_encoder(encoder_cfg)
            hd = registry.build_head(config["head"], hidden_size=enc.hidden_size, labels=list(config["labels"]))
            pairs.append((enc, hd))
        return cls(pairs, config)

    # ---- running ------------------------------------------------------------------------------
    def hidden(self, batch: dict, member: int = 0) -> torch.Tensor:
        """Member ``member``'s encoder states (B, T, H) for a collated batch."""
        return self.members[member].encoder(**{k: batch[k] for k in batch["encoder_keys"]})

    def forward(self, batch: dict) -> ModelOutput:
        """Every member's head output; the loss is their mean."""
        outputs = [m.head(self.hidden(batch, i), batch) for i, m in enumerate(self.members)]
        if len(outputs) == 1:
            return outputs[0]
        losses = [o.loss for o in outputs]
        loss = torch.stack(losses).mean() if all(x is not None for x in losses) else None
        return ModelOutput(loss=loss, members=outputs)

    @torch.no_grad()
    def predict_batch(self, batch: dict) -> list:
        """One prediction per row of a collated batch (the members' predictions combined)."""
        per_member = [m.head.predict(self.hidden(batch, i), batch) for i, m in enumerate(self.members)]
        if len(per_member) == 1:
            return per_member[0]
        weights = [1.0] * len(per_member)
        return [combine_predictions(self.heads, preds, weights) for preds in zip(*per_member)]

    def features(self, examples: list[dict]) -> list[dict]:
        """Model features of examples (tokens, offsets, targets when they carry gold)."""
        return make_features(examples, self.encoder.tokenizer, self.head, self.max_length,
                             int(self.encoder.num_special_tokens))

    def sorted_features(self, examples: list[dict]) -> tuple[list[dict], list[int]]:
        """The examples' features, and their indices ordered by token length (for batching)."""
        for ex in examples:
            if not isinstance(ex.get("text"), str):
                raise ZhnlpError(f"predict expects strings; got {type(ex.get('text')).__name__}: {ex.get('text')!r}")
        features = self.features(examples)
        return features, sorted(range(len(features)), key=lambda i: len(features[i]["inputs"]["input_ids"]))

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    @torch.inference_mode()
    def predict_examples(self, examples: list[dict], batch_size: int = 64) -> list[Any]:
        """Predictions for example dicts (``text`` and optional ``text_b``), in input order."""
        if not examples:
            return []
        was_training = self.training
        self.eval()
        device = self.device
        features, order = self.sorted_features(examples)
        stash = []
        try:
            for start in range(0, len(order), batch_size):
                batch = nonempty(collate([features[i] for i in order[start : start + batch_size]]))
                for key in batch["encoder_keys"]:
                    batch[key] = batch[key].to(device)
                stash += list(zip(batch["index"].tolist(), batch["examples"], self.predict_batch(batch)))
        finally:
            self.train(was_training)
        _, predictions = merge_windows(self.head, examples, stash)
        return predictions

    def predict(self, texts: Iterable[str] | str, batch_size: int = 64) -> list[Any]:
        """Predict for each text. NER: a list of ``{"type","start","end","text"}`` per text, with
        offsets into the original string (``end`` exclusive)."""
        return self.predict_examples(as_examples(texts), batch_size)

    def evaluate(self, examples: list[dict], batch_size: int = 64) -> tuple[dict[str, float], list[Any]]:
        """The head's metrics on labelled examples, and the predictions."""
        predictions = self.predict_examples([{**ex, "_gold": False} for ex in examples], batch_size)
        return self.head.evaluate(predictions, examples), predictions

    # ---- persistence --------------------------------------------------------------------------
    def save_pretrained(self, directory: str | Path, parameters: bool = True) -> Path:
        """Write ``zhnlp.json``, ``model.safetensors`` and the encoder's files to ``directory``.

        Args:
            directory: the folder (created).
            parameters: False keeps only buffers and extra state (vocabularies, thresholds): what
                an ONNX export needs besides its graph.

        Returns:
            The folder.
        """
        from safetensors.torch import save_file

        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        config = copy.deepcopy(self.config)
        if has(self.encoder, "save_assets"):
            config["assets"] = relative_assets(self.encoder.save_assets(str(out / ASSETS_DIR)), out)
        state = self.state_dict()
        if not parameters:
            names = {n for n, _ in self.named_parameters(remove_duplicate=False)}
            state = {k: v for k, v in state.items() if k not in names}
        save_file(_unshared(state), str(out / WEIGHTS_FILE), metadata={"format": FORMAT})
        (out / CONFIG_FILE).write_text(json.dumps(config, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return out

    @classmethod
    def from_pretrained(cls, directory: str | Path, device: str = "cpu") -> "TaskModel":
        """Rebuild a model saved with :meth:`save_pretrained` (no Hydra, no network, no pickle)."""
        from safetensors.torch import load_file

        base = Path(directory)
        config_path = base / CONFIG_FILE
        if not config_path.is_file():
            raise ZhnlpError(f"{base}: no {CONFIG_FILE} here; not a folder written by TaskModel.save_pretrained.")
        try:
            config = json.loads(config_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ZhnlpError(f"{config_path}: cannot read the model config ({exc}).") from exc
        model = cls.from_config(config, base)
        try:
            state = load_file(str(base / WEIGHTS_FILE))
        except Exception as exc:
            raise ZhnlpError(f"{base / WEIGHTS_FILE}: cannot read the weights ({type(exc).__name__}: {exc}).") from exc
        model.load_weights(state, strict=not _parameters_missing(model, state), source=base / WEIGHTS_FILE)
        return model.to(device).eval()

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str = "cpu") -> "TaskModel":
        """Rebuild the model of a ``zhnlp train`` checkpoint (its weights under ``model.``)."""
        path = Path(path)
        ckpt = read_checkpoint(path)
        hp = ckpt.get("hyper_parameters") or {}
        if not isinstance(hp.get("model"), dict):
            raise ZhnlpError(f"{path}: a Lightning checkpoint without a zhnlp model config; it was not written by "
                             f"`zhnlp train` (or by an older zhnlp: retrain, or load its run folder).")
        run_dir = path.parent.parent if path.parent.name == "checkpoints" else path.parent
        model = cls.from_config(hp["model"], run_dir / "model")
        state = {k[len("model."):]: v for k, v in ckpt["state_dict"].items() if k.startswith("model.")}
        model.load_weights(state, strict=True, source=path)
        return model.to(device).eval()

    def load_weights(self, state: dict[str, torch.Tensor], strict: bool, source: Path) -> None:
        """Load a state dict, with an error naming the file when it does not fit."""
        own = self.state_dict()
        for key, value in state.items():  # tied weights are stored once: restore every alias
            if key in own and value.shape != own[key].shape and not key.endswith("_extra_state"):
                raise ZhnlpError(f"{source}: {key} has shape {tuple(value.shape)} but the model built from its "
                                 f"config has {tuple(own[key].shape)}; weights and config do not belong together.")
        result = self.load_state_dict(state, strict=False)
        missing = [k for k in result.missing_keys if not _is_tied_alias(self, k, state)]
        if strict and (missing or result.unexpected_keys):
            raise ZhnlpError(f"{source}: the weights do not fit the model built from its config "
                             f"({len(missing)} missing, e.g. {missing[:3]}; {len(result.unexpected_keys)} unexpected, "
                             f"e.g. {result.unexpected_keys[:3]}).")


# ---- helpers --------------------------------------------------------------------------------------
def as_examples(texts: Iterable[str] | str) -> list[dict]:
    """Texts (or example dicts) -> example dicts without gold."""
    if isinstance(texts, str):
        texts = [texts]
    return [{**t, "_gold": False} if isinstance(t, dict) else {"text": t, "_gold": False} for t in texts]


def _texts(examples: Sequence[dict]) -> list[str]:
    """Training texts (and second texts of pairs), for vocabulary building."""
    out = []
    for ex in examples:
        out.append(ex["text"])
        if ex.get("text_b"):
            out.append(ex["text_b"])
    return out


def _check_same_tokens(encoders: Sequence[nn.Module]) -> None:
    """Ensemble members share one tokenization: their tokenizers must agree."""
    if len(encoders) < 2:
        return
    want = dict(encoders[0].tokenizer(CHECK_TEXTS, return_offsets_mapping=True))
    for i, enc in enumerate(encoders[1:], 1):
        if dict(enc.tokenizer(CHECK_TEXTS, return_offsets_mapping=True)) != want:
            raise ConfigError(f"ensemble member {i} tokenizes differently from member 0; members must build the same "
                              f"tokenizer from the same config and training texts.")


def relative_assets(kwargs: dict, base: Path) -> dict:
    """Builder kwargs from ``save_assets``, with paths under ``base`` made relative to it."""
    out, relative = dict(kwargs), []
    for key, value in kwargs.items():
        if isinstance(value, str) and Path(value).is_absolute() and Path(value).is_relative_to(base):
            out[key] = str(Path(value).relative_to(base))
            relative.append(key)
    return {**out, "_relative": relative} if out else {}


def absolute_assets(assets: dict, base: Path) -> dict:
    """Stored asset kwargs -> builder kwargs, relative paths resolved against ``base``."""
    relative = set(assets.get("_relative", []))
    return {k: str(base / v) if k in relative else v for k, v in assets.items() if k != "_relative"}


def _unshared(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Tensors that share storage (tied weights) are stored once, under their first name."""
    out, seen = {}, set()
    for key, value in state.items():
        if not isinstance(value, torch.Tensor):
            raise ZhnlpError(f"{key}: extra state must be a tensor to be saved in safetensors (got "
                             f"{type(value).__name__}); return e.g. JSON bytes as a uint8 tensor from get_extra_state.")
        ident = (value.untyped_storage().data_ptr(), value.storage_offset(), tuple(value.shape)) if value.numel() else None
        if ident is not None and ident in seen:
            continue
        if ident is not None:
            seen.add(ident)
        out[key] = value.detach().contiguous().cpu()
    return out


def _is_tied_alias(model: nn.Module, key: str, state: dict) -> bool:
    """A missing key that is another name of a parameter the state does hold (tied weights)."""
    params = dict(model.named_parameters(remove_duplicate=False))
    if key not in params:
        return False
    target = params[key]
    return any(name in state for name, p in params.items() if p is target and name != key)


def _parameters_missing(model: nn.Module, state: dict) -> bool:
    names = {n for n, _ in model.named_parameters()}
    return bool(names) and not (names & set(state))


def read_checkpoint(path: Path) -> dict:
    """A checkpoint loaded without unrestricted unpickling; a clear error for anything else."""
    if not path.is_file():
        raise ZhnlpError(f"{path}: no such checkpoint file.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        head = path.read_bytes()[:4]
        what = ("a zip archive but not a readable torch checkpoint (truncated or corrupt?)" if head == b"PK\x03\x04"
                else "not a torch checkpoint (no zip archive inside)")
        raise ZhnlpError(f"{path}: cannot read this checkpoint: the file is {what}. Only checkpoints written by "
                         f"`zhnlp train` load here; zhnlp never unpickles arbitrary objects.") from None
