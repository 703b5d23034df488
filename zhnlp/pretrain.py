"""``zhnlp pretrain``: continued (or from-scratch) masked-LM pretraining with whole-word masking.

    zhnlp pretrain --encoder bert_wwm --pretrained DIR --corpus raw.txt --output DIR \
        [--steps 1000 --batch-size 32 --max-length 128 --lr 5e-5 --mlm-prob 0.15 --wwm/--no-wwm]
    zhnlp pretrain --encoder nezha --pretrained none --config config.json --vocab vocab.txt ...

The corpus is UTF-8 text, one document or sentence per line (longer lines are cut into pieces of
``max_length - 2`` characters). Masking follows the BERT-wwm recipe (Cui et al. 2019, applied to
Chinese with a word segmenter): the text is segmented with jieba and all tokens (characters /
wordpieces) of a word are chosen together, whole words being added in random order until
``round(mlm_prob * tokens)`` positions are chosen (words that would overshoot are skipped, as in
Google's ``create_pretraining_data.py``); each chosen position becomes ``[MASK]`` 80% of the time,
a random token 10%, and stays 10%. Masks are drawn anew for every batch.

``--pretrained DIR`` starts from a hub-layout checkpoint (its MLM head is loaded when the weights
file has one) or, if DIR holds only config.json and vocab.txt, from random weights;
``--pretrained none`` takes ``--config`` and ``--vocab`` instead. The result is written in hub
layout (config.json, vocab.txt, tokenizer files, model.safetensors with the MLM head) and loads as
``zhnlp train encoder=<same> encoder.pretrained=OUTPUT``.

Encoders: any registered encoder whose builder takes ``pretrained`` and ``weights`` and that offers
the optional ``masked_lm() -> zhnlp.types.MaskedLM`` (the encoder with its MLM head, e.g. the
transformers and NEZHA plugins' encoders). The encoder's ``save_assets`` writes the config and
vocabulary files, the MaskedLM's ``save_pretrained`` the weights.
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Sequence

import torch
from torch.nn import functional as F

from zhnlp import registry
from zhnlp.errors import ConfigError, PluginError
from zhnlp.textio import read_corpus_lines
from zhnlp.types import MaskedLM, has
from zhnlp.weights import WEIGHT_FILES

IGNORE = -100


# ---- masking -----------------------------------------------------------------------------------------
def choose_positions(word_ids: Sequence[int | None], mlm_prob: float, rng: random.Random, wwm: bool = True) -> list[bool]:
    """Positions to predict: whole words (or single tokens) until ``round(mlm_prob * n)`` tokens.

    Args:
        word_ids: per token, the index of the word it belongs to; None for special tokens.
        mlm_prob: share of the (non-special) tokens to predict; at least one.
        rng: random source.
        wwm: group tokens by word (False: every token on its own).

    Returns:
        One flag per token.
    """
    groups: dict[Any, list[int]] = {}
    for pos, word in enumerate(word_ids):
        if word is not None:
            groups.setdefault(word if wwm else pos, []).append(pos)
    n = sum(len(g) for g in groups.values())
    budget = max(1, round(n * mlm_prob)) if n else 0
    order = list(groups.values())
    rng.shuffle(order)
    flags, covered = [False] * len(word_ids), 0
    for group in order:
        if covered >= budget:
            break
        if covered + len(group) > budget:
            continue  # this word would overshoot; a shorter one may still fit
        for pos in group:
            flags[pos] = True
        covered += len(group)
    return flags


def mask_tokens(input_ids: Sequence[int], word_ids: Sequence[int | None], rng: random.Random, mask_id: int,
                vocab_size: int, special_ids: set[int], mlm_prob: float = 0.15, wwm: bool = True) -> tuple[list[int], list[int]]:
    """Masked inputs and labels for one sequence (80% ``[MASK]``, 10% random token, 10% kept).

    Returns:
        (inputs, labels); labels are the original ids at chosen positions and -100 elsewhere.
    """
    flags = choose_positions(word_ids, mlm_prob, rng, wwm)
    inputs, labels = list(input_ids), [IGNORE] * len(input_ids)
    for pos, chosen in enumerate(flags):
        if not chosen:
            continue
        labels[pos] = input_ids[pos]
        draw = rng.random()
        if draw < 0.8:
            inputs[pos] = mask_id
        elif draw < 0.9:
            token = rng.randrange(vocab_size)
            while token in special_ids:
                token = rng.randrange(vocab_size)
            inputs[pos] = token
    return inputs, labels


def word_ids_for(text: str, offsets: Sequence[tuple[int, int]]) -> list[int | None]:
    """The jieba word each token starts in (None for special tokens, offset (0, 0))."""
    import jieba

    owner, start = [0] * len(text), 0
    for index, word in enumerate(jieba.lcut(text, HMM=True)):
        owner[start : start + len(word)] = [index] * len(word)
        start += len(word)
    return [owner[s] if e > s and s < len(owner) else None for s, e in offsets]


# ---- corpus --------------------------------------------------------------------------------------------
def read_corpus(path: str | Path, tokenizer, max_length: int) -> list[dict]:
    """Tokenized pieces of the corpus: ``{"input_ids", "word_ids"}`` per piece of a line."""
    piece = max(8, max_length - 2)
    items = []
    for line in read_corpus_lines(path, "--corpus"):
        for start in range(0, len(line), piece):
            text = line[start : start + piece]
            enc = tokenizer(text, return_offsets_mapping=True, truncation=True, max_length=max_length)
            items.append({"input_ids": list(enc["input_ids"]), "word_ids": word_ids_for(text, enc["offset_mapping"])})
    return items


class MaskingCollator:
    """Pads a list of corpus items and masks them (new masks every call)."""

    def __init__(self, tokenizer, mlm_prob: float, wwm: bool, seed: int):
        vocab = tokenizer.get_vocab()
        self.mask_id = vocab.get("[MASK]")
        if self.mask_id is None:
            raise ConfigError("the tokenizer has no [MASK] token; masked-LM pretraining needs one.")
        self.vocab_size = len(vocab)
        self.special_ids = {i for t, i in vocab.items() if t.startswith("[") and t.endswith("]")}
        self.pad_id = vocab.get("[PAD]", 0)
        self.mlm_prob, self.wwm, self.rng = mlm_prob, wwm, random.Random(seed)

    def __call__(self, items: list[dict]) -> dict[str, torch.Tensor]:
        width = max(len(it["input_ids"]) for it in items)
        ids, labels, mask = [], [], []
        for it in items:
            x, y = mask_tokens(it["input_ids"], it["word_ids"], self.rng, self.mask_id, self.vocab_size,
                               self.special_ids, self.mlm_prob, self.wwm)
            pad = width - len(x)
            ids.append(x + [self.pad_id] * pad)
            labels.append(y + [IGNORE] * pad)
            mask.append([1] * len(x) + [0] * pad)
        return {"input_ids": torch.tensor(ids), "attention_mask": torch.tensor(mask), "labels": torch.tensor(labels)}


# ---- MLM models ---------------------------------------------------------------------------------------
def takes_checkpoint(name: str) -> bool:
    """Whether encoder ``name``'s builder takes ``pretrained`` and ``weights`` (a checkpoint directory)."""
    import inspect

    try:
        params = inspect.signature(registry.get("encoders", name).build).parameters
    except (PluginError, TypeError, ValueError):
        return False
    return {"pretrained", "weights"} <= set(params)


def masked_lm_encoders() -> list[str]:
    """The registered encoders that offer ``masked_lm()``: each checkpoint encoder is built once
    from its spec's tiny ``example_kwargs`` recipe and asked (used for error messages only)."""
    import warnings

    names = []
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in sorted(registry.plugins("encoders")):
            if not takes_checkpoint(name) or registry.get("encoders", name).example_kwargs is None:
                continue
            try:
                spec = registry.get("encoders", name)
                encoder = registry.build_encoder({"name": name, **spec.example_kwargs(Path(tmp) / name)})
            except Exception:  # a broken plugin leaves the list, nothing else
                continue
            if has(encoder, "masked_lm"):
                names.append(name)
    return names


def no_masked_lm(name: str, why: str) -> ConfigError:
    """The error for an encoder that cannot be pretrained, naming those that can."""
    names = masked_lm_encoders()
    return ConfigError(f"encoder '{name}' {why}, so zhnlp pretrain cannot train it. Encoders with a masked-LM "
                       f"model (masked_lm()): {', '.join(names) or '(none installed)'}.")


def build_masked_lm(name: str, source: Path) -> tuple[torch.nn.Module, MaskedLM]:
    """The encoder ``name`` built from the checkpoint directory ``source`` (its weights when the
    folder has a weights file, else random ones) and its ``masked_lm()``.

    Raises:
        ConfigError: the encoder does not start from checkpoint directories or has no masked LM.
    """
    if not takes_checkpoint(name):
        registry.get("encoders", name)  # an unknown name: the registry's message
        raise no_masked_lm(name, "does not start from a checkpoint directory (no pretrained/weights options)")
    weights = any((source / file).is_file() for file in WEIGHT_FILES)
    encoder = registry.build_encoder({"name": name, "pretrained": str(source), "weights": weights})
    if not has(encoder, "masked_lm"):
        raise no_masked_lm(name, f"({type(encoder).__name__}) has no masked-LM model (no masked_lm())")
    return encoder, encoder.masked_lm()


# ---- training ------------------------------------------------------------------------------------------
def _module_class():
    import lightning as L
    from torch.optim.lr_scheduler import LambdaLR

    from zhnlp.optim import schedule_factor

    class MLMModule(L.LightningModule):
        """Masked-LM training of a ``zhnlp.types.MaskedLM`` module (AdamW, warmup + linear decay)."""

        def __init__(self, mlm: MaskedLM, lr: float, weight_decay: float, warmup: float):
            super().__init__()
            self.mlm, self.lr, self.weight_decay, self.warmup = mlm, lr, weight_decay, warmup
            self.losses: list[float] = []

        def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
            logits = self.mlm(batch["input_ids"], batch["attention_mask"])  # (B, T, V)
            labels = batch["labels"]
            if (labels != IGNORE).any():
                loss = F.cross_entropy(logits.float().reshape(-1, logits.size(-1)), labels.reshape(-1), ignore_index=IGNORE)
            else:
                loss = logits.sum() * 0.0
            self.losses.append(float(loss.detach()))
            self.log("train/loss", loss, prog_bar=True, batch_size=labels.size(0))
            return loss

        def configure_optimizers(self):
            params = [p for p in self.mlm.parameters() if p.requires_grad]
            decay = [p for p in params if p.dim() > 1]
            rest = [p for p in params if p.dim() <= 1]
            optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": self.weight_decay},
                                           {"params": rest, "weight_decay": 0.0}], lr=self.lr)
            total = int(self.trainer.max_steps)
            warm = int(self.warmup * total)
            scheduler = LambdaLR(optimizer, lambda step: schedule_factor(step, total, warm, "linear"))
            return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    return MLMModule


def source_dir(pretrained: str, config: str | None, vocab: str | None, tmp: Path) -> Path:
    """The checkpoint directory to start from (``none``: a config-only one made from the files)."""
    if str(pretrained).lower() in ("none", "null", ""):
        if not (config and vocab):
            raise ConfigError("--pretrained none trains from scratch: give --config config.json and --vocab vocab.txt.")
        for flag, path in (("--config", config), ("--vocab", vocab)):
            if not Path(path).is_file():
                raise ConfigError(f"{flag} {path}: file not found.")
        shutil.copyfile(config, tmp / "config.json")
        shutil.copyfile(vocab, tmp / "vocab.txt")
        return tmp
    directory = Path(pretrained)
    if not (directory / "config.json").is_file():
        raise ConfigError(f"--pretrained {pretrained}: not a checkpoint directory with config.json "
                          f"(pass a local directory, or 'none' with --config and --vocab).")
    return directory


def pretrain(encoder: str, pretrained: str, corpus: str, output: str, steps: int = 1000, batch_size: int = 32,
             max_length: int = 128, lr: float = 5e-5, weight_decay: float = 0.01, warmup: float = 0.06,
             mlm_prob: float = 0.15, wwm: bool = True, config: str | None = None, vocab: str | None = None,
             seed: int = 42, accelerator: str = "auto", devices: Any = 1, precision: str = "32-true",
             progress_bar: bool = True) -> dict:
    """Masked-LM pretraining; writes ``output`` in hub layout (see the module docstring).

    Args:
        encoder: a registered encoder name with ``masked_lm()`` (e.g. ``bert_wwm``, ``nezha``).
        pretrained: checkpoint directory to start from, or ``none`` (with ``config`` and ``vocab``).
        corpus: UTF-8 text file, one document or sentence per line.
        output: directory to write.
        steps: optimizer steps; 0 only converts (saves the start checkpoint with an MLM head).
        batch_size, max_length, lr, weight_decay: the usual; ``warmup`` is a share of ``steps``.
        mlm_prob: share of tokens to predict.
        wwm: whole-word masking (jieba words) instead of single tokens.
        config, vocab: config.json and vocab.txt for ``pretrained=none``.
        seed: data order and masking seed.
        accelerator, devices, precision: Lightning Trainer settings.
        progress_bar: show Lightning's progress bar.

    Returns:
        ``{"losses": [loss per step], "output": str, "head_keys_loaded": int}``.
    """
    import lightning as L
    from lightning.pytorch.loggers import CSVLogger
    from torch.utils.data import DataLoader

    if steps < 0 or batch_size < 1 or max_length < 8:
        raise ConfigError("--steps must be >= 0, --batch-size >= 1 and --max-length >= 8.")
    if not 0.0 < mlm_prob < 1.0:
        raise ConfigError(f"--mlm-prob {mlm_prob}: must be between 0 and 1.")
    out = Path(output)
    with tempfile.TemporaryDirectory() as tmp:
        source = source_dir(pretrained, config, vocab, Path(tmp))
        base, mlm = build_masked_lm(encoder, source)
        out.mkdir(parents=True, exist_ok=True)
        if has(base, "save_assets"):
            base.save_assets(str(out))  # config.json, vocab.txt, tokenizer files
    losses: list[float] = []
    if steps:
        items = read_corpus(corpus, base.tokenizer, max_length)
        L.seed_everything(seed, verbose=False)
        loader = DataLoader(items, batch_size=batch_size, shuffle=True,
                            collate_fn=MaskingCollator(base.tokenizer, mlm_prob, wwm, seed),
                            generator=torch.Generator().manual_seed(seed))
        module = _module_class()(mlm, lr, weight_decay, warmup)
        trainer = L.Trainer(max_steps=steps, max_epochs=-1, accelerator=accelerator, devices=devices,
                            precision=precision, logger=CSVLogger(out, name="logs", version=""),
                            enable_checkpointing=False, enable_model_summary=False, gradient_clip_val=1.0,
                            log_every_n_steps=max(1, min(50, steps)), enable_progress_bar=progress_bar)
        trainer.fit(module, loader)
        losses = module.losses
        if not trainer.is_global_zero:
            return {"losses": losses, "output": str(out), "head_keys_loaded": mlm.head_keys_loaded}
    mlm.cpu().save_pretrained(out)
    summary = {"encoder": encoder, "pretrained": str(pretrained), "corpus": str(corpus), "steps": steps,
               "batch_size": batch_size, "max_length": max_length, "lr": lr, "mlm_prob": mlm_prob, "wwm": wwm,
               "seed": seed, "head_keys_loaded": mlm.head_keys_loaded,
               "first_loss": losses[0] if losses else None, "last_loss": losses[-1] if losses else None}
    (out / "pretrain.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return {"losses": losses, "output": str(out), "head_keys_loaded": mlm.head_keys_loaded}


def main(argv: list[str]) -> None:
    """``zhnlp pretrain ...`` (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="zhnlp pretrain", description="Masked-LM pretraining with whole-word masking.")
    parser.add_argument("--encoder", required=True,
                        help="a registered encoder with a masked-LM model, e.g. bert_wwm | roberta_wwm | ernie | "
                             "albert_zh | nezha")
    parser.add_argument("--pretrained", required=True, help="checkpoint directory, or 'none' (with --config/--vocab)")
    parser.add_argument("--corpus", required=True, help="UTF-8 text, one document or sentence per line")
    parser.add_argument("--output", required=True, help="where to write the pretrained checkpoint")
    parser.add_argument("--config", help="config.json when --pretrained none")
    parser.add_argument("--vocab", help="vocab.txt when --pretrained none")
    parser.add_argument("--steps", type=int, default=1000, help="optimizer steps (0: only convert/save)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--weight-decay", type=float, default=0.01)
    parser.add_argument("--warmup", type=float, default=0.06, help="warmup share of the steps")
    parser.add_argument("--mlm-prob", type=float, default=0.15)
    parser.add_argument("--wwm", action=argparse.BooleanOptionalAction, default=True,
                        help="whole-word masking with jieba (default on; --no-wwm masks single tokens)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--accelerator", default="auto")
    parser.add_argument("--devices", default="1")
    parser.add_argument("--precision", default="32-true", help="32-true | bf16-mixed | 16-mixed")
    args = parser.parse_args(argv)
    devices = int(args.devices) if args.devices.isdigit() else args.devices
    result = pretrain(args.encoder, args.pretrained, args.corpus, args.output, steps=args.steps,
                      batch_size=args.batch_size, max_length=args.max_length, lr=args.lr,
                      weight_decay=args.weight_decay, warmup=args.warmup, mlm_prob=args.mlm_prob, wwm=args.wwm,
                      config=args.config, vocab=args.vocab, seed=args.seed, accelerator=args.accelerator,
                      devices=devices, precision=args.precision)
    losses = result["losses"]
    if losses:
        print(f"MLM loss: first {losses[0]:.3f}, last {losses[-1]:.3f} over {len(losses)} steps", file=sys.stderr)
    print(f"Wrote {result['output']}\n  use it: zhnlp train encoder={args.encoder} encoder.pretrained={result['output']}",
          file=sys.stderr)
