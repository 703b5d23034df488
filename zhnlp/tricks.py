"""Competition tricks as Lightning callbacks: FGM, PGD, EMA and R-Drop.

Each is enabled from the command line through the ``trick`` config group, whose files put a
``{_target_: zhnlp.tricks.X, ...}`` entry under ``callbacks.<name>`` (the core builds every entry of
``callbacks`` and hands it to the Trainer)::

    zhnlp train +trick=fgm
    zhnlp train +trick=[pgd,ema] callbacks.pgd.epsilon=0.5
    zhnlp train +trick=[fgm,ema,rdrop] callbacks.rdrop.alpha=4

FGM / PGD  adversarial training on the encoder's input embeddings. After Lightning's backward
           pass (``on_after_backward``: gradients present, clipping and the optimizer step still to
           come) the embeddings are perturbed along their gradient, the batch's loss is computed
           again and back-propagated (adding to the gradients), and the embeddings are restored.
EMA        exponential moving average of the trainable weights, updated after every optimizer
           step. Validation during fit runs on the averaged weights, every checkpoint's
           ``state_dict`` holds them, and they are left in the module when fit ends: the model that
           is evaluated, saved and loaded by ``zhnlp.load`` IS the EMA model. The raw weights
           travel in the callback's checkpoint state so ``ckpt_path=`` resumes training exactly.
R-Drop     the model's training forward is run twice (different dropout masks); the loss becomes
           the mean of the two losses plus ``alpha`` times the symmetric KL divergence between the
           ``scores`` of the two :class:`~zhnlp.types.ModelOutput` (softmax over the last axis,
           or per element when ``binary``, where ``scores_mask`` is set). Implemented as a forward
           hook on ``pl_module.model``: no change to the training step, one backward pass.

The embedding tables are what each encoder declares with ``input_embeddings()``, else every
``nn.Embedding`` of the encoder with at least 64 rows (token vocabularies: e.g. the char and bigram
tables; not segment, token-type or word-boundary tables). ``param_names`` (substrings of parameter
names) overrides the choice.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Iterable

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback
from torch import nn
from torch.nn import functional as F

from zhnlp.errors import ConfigError
from zhnlp.types import ModelOutput, has

MIN_VOCAB_ROWS = 64


# ---- shared helpers ---------------------------------------------------------------------------
def embedding_params(model: nn.Module, param_names: Iterable[str] | None = None) -> list[tuple[str, nn.Parameter]]:
    """The input-embedding weights adversarial training perturbs.

    Args:
        model: a TaskModel (every member's encoder counts) or a single encoder.
        param_names: substrings; if given, every trainable parameter whose name contains one.

    Returns:
        (name, parameter) pairs, names relative to ``model``.

    Raises:
        ConfigError: nothing matches, or the embeddings are frozen.
    """
    named = dict(model.named_parameters())
    if param_names:
        found = [(n, p) for n, p in named.items() if any(s in n for s in param_names)]
        if not found:
            raise ConfigError(f"param_names={list(param_names)} matches no encoder parameter. "
                              f"Some names: {', '.join(list(named)[:8])}.")
    else:
        by_id = {id(p): n for n, p in named.items()}
        from zhnlp.model import TaskModel

        encoders = [m.encoder for m in model.members] if isinstance(model, TaskModel) else [model]
        found = []
        for encoder in encoders:
            if has(encoder, "input_embeddings"):
                tables = list(encoder.input_embeddings())
            else:
                tables = [m.weight for m in encoder.modules()
                          if isinstance(m, nn.Embedding) and m.num_embeddings >= MIN_VOCAB_ROWS]
            found += [(by_id[id(p)], p) for p in tables if id(p) in by_id]
        if not found:
            raise ConfigError("no input embedding table found in the encoder (it declares no input_embeddings() and has "
                              f"no nn.Embedding with >= {MIN_VOCAB_ROWS} rows). Name it with param_names=[...].")
    frozen = [n for n, p in found if not p.requires_grad]
    if frozen:
        raise ConfigError(f"adversarial training perturbs {frozen}, which are frozen (requires_grad=False). "
                          f"Unfreeze the embeddings (encoder.freeze=none) or choose other param_names.")
    return found


def batch_loss(trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, batch_idx: int) -> torch.Tensor:
    """The training loss of ``batch`` under the trainer's precision, scaled like Lightning's own
    (divided by ``accumulate_grad_batches``): ``pl_module.model(batch).loss`` (no logging)."""
    with trainer.precision_plugin.train_step_context():
        loss = _model(pl_module, "FGM/PGD")(batch).loss
    return loss / trainer.accumulate_grad_batches


def _model(pl_module: L.LightningModule, trick: str) -> nn.Module:
    """The TaskModel a trick works on (zhnlp's TaskModule holds it as ``model``)."""
    from zhnlp.module import TaskModule

    if not isinstance(pl_module, TaskModule):
        raise ConfigError(f"{trick} needs zhnlp's TaskModule (got {type(pl_module).__name__}).")
    return pl_module.model


def backward(trainer: L.Trainer, loss: torch.Tensor) -> None:
    """``loss.backward()``, through the AMP grad scaler when the precision plugin uses one."""
    scaler = getattr(trainer.precision_plugin, "scaler", None)
    (scaler.scale(loss) if scaler is not None else loss).backward()


def _single_process(trainer: L.Trainer, name: str) -> None:
    if trainer.world_size > 1:
        raise ConfigError(f"{name} adds a second backward pass that DDP would not synchronise; it supports "
                          f"single-process training only. Use trainer.devices=1, or drop +trick={name.lower()}.")


# ---- adversarial training -----------------------------------------------------------------------
class _Adversarial(Callback):
    """Shared plumbing: remember the batch, find the embeddings, skip when there is no gradient."""

    def __init__(self, param_names: Iterable[str] | None = None):
        self.param_names = list(param_names) if param_names else None
        self._batch: Any = None
        self._batch_idx = 0
        self._params: list[tuple[str, nn.Parameter]] | None = None

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        _single_process(trainer, type(self).__name__)
        self._params = None  # found lazily: vocabulary-sized tables may be rebuilt before training

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self._batch, self._batch_idx = batch, batch_idx

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self._batch = None

    def params(self, pl_module: L.LightningModule) -> list[nn.Parameter]:
        if self._params is None:
            self._params = embedding_params(_model(pl_module, type(self).__name__), self.param_names)
        return [p for _, p in self._params]


def _unit_step(grad: torch.Tensor, size: float) -> torch.Tensor | None:
    """``size * grad / ||grad||``; None for a zero or non-finite gradient."""
    norm = torch.linalg.vector_norm(grad.float())
    if not torch.isfinite(norm) or norm == 0:
        return None
    return (size * grad.float() / norm).to(grad.dtype)


class FGM(_Adversarial):
    """Fast Gradient Method adversarial training on the input embeddings.

    After the clean backward pass, each embedding table ``E`` moves to ``E + epsilon * g / ||g||``
    (``g`` its gradient), the loss of the same batch is back-propagated there (its gradients add to
    the clean ones) and ``E`` is restored. Costs one extra forward + backward per batch.

    Args:
        epsilon: size of the perturbation (L2 norm, per table).
        param_names: substrings of encoder parameter names to perturb; None: the input embeddings.
    """

    def __init__(self, epsilon: float = 1.0, param_names: Iterable[str] | None = None):
        super().__init__(param_names)
        if not epsilon > 0:
            raise ConfigError(f"FGM epsilon={epsilon!r} must be > 0.")
        self.epsilon = float(epsilon)

    def on_after_backward(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._batch is None:
            return
        backup = []
        for p in self.params(pl_module):
            step = None if p.grad is None else _unit_step(p.grad, self.epsilon)
            if step is not None:
                backup.append((p, p.detach().clone()))
                p.data.add_(step)
        if not backup:
            return
        try:
            backward(trainer, batch_loss(trainer, pl_module, self._batch, self._batch_idx))
        finally:
            for p, original in backup:
                p.data.copy_(original)


class PGD(_Adversarial):
    """Projected Gradient Descent adversarial training on the input embeddings.

    ``steps`` ascent steps of size ``alpha`` (along the normalised gradient), each projected back
    onto the L2 ball of radius ``epsilon`` around the clean embeddings. Intermediate steps only
    find the direction; the gradients of the last step's loss are added to the clean gradients.
    Costs ``steps`` extra forward + backward passes per batch.

    Args:
        epsilon: radius of the ball.
        alpha: size of one step.
        steps: number of ascent steps (>= 1).
        param_names: as for :class:`FGM`.
    """

    def __init__(self, epsilon: float = 1.0, alpha: float = 0.3, steps: int = 3,
                 param_names: Iterable[str] | None = None):
        super().__init__(param_names)
        if not epsilon > 0 or not alpha > 0 or int(steps) < 1:
            raise ConfigError(f"PGD needs epsilon > 0, alpha > 0 and steps >= 1 (got {epsilon}, {alpha}, {steps}).")
        self.epsilon, self.alpha, self.steps = float(epsilon), float(alpha), int(steps)

    def _project(self, p: nn.Parameter, original: torch.Tensor) -> None:
        delta = p.data - original
        norm = torch.linalg.vector_norm(delta.float())
        if norm > self.epsilon:
            p.data.copy_(original + delta * (self.epsilon / norm))

    def on_after_backward(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._batch is None:
            return
        params = [p for p in self.params(pl_module) if p.grad is not None]
        if not params:
            return
        originals = [p.detach().clone() for p in params]
        grads = {id(p): p.grad.detach().clone() for p in pl_module.parameters() if p.grad is not None}
        try:
            for t in range(self.steps):
                for p, original in zip(params, originals):
                    step = None if p.grad is None else _unit_step(p.grad, self.alpha)
                    if step is not None:
                        p.data.add_(step)
                        self._project(p, original)
                if t < self.steps - 1:
                    pl_module.zero_grad(set_to_none=True)
                else:
                    for p in pl_module.parameters():
                        p.grad = grads.get(id(p))
                backward(trainer, batch_loss(trainer, pl_module, self._batch, self._batch_idx))
        finally:
            for p, original in zip(params, originals):
                p.data.copy_(original)


# ---- EMA ----------------------------------------------------------------------------------------
class EMA(Callback):
    """Exponential moving average of the trainable weights (see the module docstring).

    ``shadow = d * shadow + (1 - d) * weights`` after every optimizer step, with ``d = decay`` or,
    with ``warmup``, ``min(decay, (1 + n) / (10 + n))`` at update ``n``. Only parameters are
    averaged; buffers (e.g. tuned thresholds) are used as they are.

    Args:
        decay: averaging factor in (0, 1).
        warmup: ramp the factor up over the first updates.
    """

    def __init__(self, decay: float = 0.999, warmup: bool = True):
        if not 0.0 < float(decay) < 1.0:
            raise ConfigError(f"EMA decay={decay!r} must be between 0 and 1.")
        self.decay, self.warmup = float(decay), bool(warmup)
        self.shadow: dict[str, torch.Tensor] | None = None
        self.updates = 0
        self._backup: dict[str, torch.Tensor] | None = None  # raw weights while the EMA ones are in
        self._resume: dict[str, torch.Tensor] | None = None
        self._last_step = -1
        self._pl_module: L.LightningModule | None = None

    @staticmethod
    def _params(pl_module: L.LightningModule) -> dict[str, nn.Parameter]:
        return {n: p for n, p in pl_module.named_parameters() if p.requires_grad and p.is_floating_point()}

    def factor(self) -> float:
        """The averaging factor of the next update."""
        if self.warmup:
            return min(self.decay, (1.0 + self.updates) / (10.0 + self.updates))
        return self.decay

    # -- lifecycle
    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        params = self._params(pl_module)
        if self._resume is not None:  # resumed: the module holds the EMA weights of the checkpoint
            self.shadow = {n: p.detach().clone() for n, p in params.items()}
            with torch.no_grad():
                for n, p in params.items():
                    if n in self._resume:
                        p.copy_(self._resume[n].to(p.device))
            self._resume = None
        elif self.shadow is None:
            self.shadow = {n: p.detach().clone() for n, p in params.items()}
        self._last_step = trainer.global_step

    @torch.no_grad()
    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if self.shadow is None or trainer.global_step == self._last_step:
            return  # no optimizer step yet (gradient accumulation)
        self._last_step = trainer.global_step
        d = self.factor()
        for n, p in self._params(pl_module).items():
            self.shadow[n].lerp_(p.detach(), 1.0 - d)  # shadow = d * shadow + (1 - d) * p
        self.updates += 1

    def swap_in(self, pl_module: L.LightningModule) -> None:
        """Put the EMA weights into the module (keeping the raw ones aside)."""
        if self.shadow is None or self._backup is not None:
            return
        params = self._params(pl_module)
        self._backup = {n: p.detach().clone() for n, p in params.items()}
        with torch.no_grad():
            for n, p in params.items():
                p.copy_(self.shadow[n])

    def swap_out(self, pl_module: L.LightningModule) -> None:
        """Put the raw training weights back."""
        if self._backup is None:
            return
        with torch.no_grad():
            for n, p in self._params(pl_module).items():
                p.copy_(self._backup[n])
        self._backup = None

    def on_validation_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.state.fn == "fit" and not trainer.sanity_checking:
            self.swap_in(pl_module)

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # Runs before ModelCheckpoint's own on_validation_end (Lightning orders checkpoint
        # callbacks last); on_save_checkpoint puts the EMA weights into what it saves.
        self.swap_out(pl_module)

    def on_exception(self, trainer, pl_module, exception) -> None:
        self.swap_out(pl_module)

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Leave the EMA weights in the module: later evaluation and prediction use them."""
        self.swap_out(pl_module)
        if self.shadow is not None:
            with torch.no_grad():
                for n, p in self._params(pl_module).items():
                    p.copy_(self.shadow[n])

    # -- checkpoints
    def on_save_checkpoint(self, trainer, pl_module, checkpoint: dict) -> None:
        if self.shadow is None:
            return
        state = checkpoint["state_dict"]
        aliases = {n: p for n, p in pl_module.named_parameters(remove_duplicate=False)}
        by_param = {id(p): n for n, p in self._params(pl_module).items()}
        for name, p in aliases.items():  # tied weights appear under every name
            canonical = by_param.get(id(p))
            if canonical is not None and name in state:
                state[name] = self.shadow[canonical].detach().clone()

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        self._pl_module = pl_module  # state_dict() saves its raw weights

    def state_dict(self) -> dict[str, Any]:
        if self.shadow is None:
            return {}
        raw = self._backup  # set while the EMA weights are swapped in
        if raw is None:
            raw = {n: p.detach().clone() for n, p in self._params(self._pl_module).items()}
        return {"updates": self.updates, "training_weights": raw}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.updates = int(state_dict.get("updates", 0))
        weights = state_dict.get("training_weights")
        self._resume = dict(weights) if weights else None


# ---- R-Drop -------------------------------------------------------------------------------------
def symmetric_kl(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor | None, binary: bool) -> torch.Tensor:
    """``(KL(p_a || p_b) + KL(p_b || p_a)) / 2`` averaged over the masked-in rows.

    Args:
        a, b: scores of the two passes, same shape; classes on the last axis (softmax), or one
            independent logit per element when ``binary`` (sigmoid).
        mask: bool, broadcastable to ``a`` without its last axis (softmax) or to ``a`` (binary);
            None: everything.
        binary: Bernoulli distributions per element instead of a softmax over the last axis.

    Returns:
        Scalar tensor.
    """
    a, b = a.float(), b.float()
    if binary:
        la = torch.stack([F.logsigmoid(-a), F.logsigmoid(a)], dim=-1)  # (..., 2) log(1-p), log p
        lb = torch.stack([F.logsigmoid(-b), F.logsigmoid(b)], dim=-1)
    else:
        la, lb = F.log_softmax(a, dim=-1), F.log_softmax(b, dim=-1)
    kl = 0.5 * ((la.exp() * (la - lb)).sum(-1) + (lb.exp() * (lb - la)).sum(-1))  # (...) per row / element
    if mask is None:
        return kl.mean()
    m = mask.to(kl.device).expand_as(kl).float()
    return (kl * m).sum() / m.sum().clamp(min=1.0)


def rdrop_kl(out1: ModelOutput, out2: ModelOutput) -> torch.Tensor:
    """The symmetric KL term between the scores of two training passes (an ensemble's: the mean over
    its members)."""
    if out1.members:
        return torch.stack([rdrop_kl(a, b) for a, b in zip(out1.members, out2.members)]).mean()
    if out1.scores is None:
        raise ConfigError("R-Drop: the head's forward returned no scores (ModelOutput.scores) to compare.")
    return symmetric_kl(out1.scores, out2.scores, out1.scores_mask, binary=out1.binary)


class RDrop(Callback):
    """R-Drop regularisation (see the module docstring).

    Args:
        alpha: weight of the symmetric KL term.
    """

    def __init__(self, alpha: float = 1.0):
        if not float(alpha) >= 0:
            raise ConfigError(f"R-Drop alpha={alpha!r} must be >= 0.")
        self.alpha = float(alpha)
        self._handle = None
        self._active = False
        self._inside = False
        self.last_kl: float | None = None

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._handle = _model(pl_module, "R-Drop").register_forward_hook(self._hook)

    def on_fit_end(self, trainer, pl_module) -> None:
        self._remove()

    def on_exception(self, trainer, pl_module, exception) -> None:
        self._remove()

    def _remove(self) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self._active = True

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self._active = False

    def _hook(self, model: nn.Module, args: tuple, output: ModelOutput) -> ModelOutput | None:
        if not (self._active and model.training and not self._inside and output.loss is not None):
            return None
        self._inside = True
        try:
            second = model(*args)  # (new dropout masks)
        finally:
            self._inside = False
        kl = rdrop_kl(output, second)
        self.last_kl = float(kl.detach())
        return replace(output, loss=0.5 * (output.loss + second.loss) + self.alpha * kl)
