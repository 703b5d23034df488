"""FGM / PGD / EMA / R-Drop (zhnlp.tricks): the maths against hand-computed references, and the
wiring through ``+trick=...`` configs into a real training run."""
from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from lightning.pytorch.plugins.precision import Precision

import zhnlp
from cli_helpers import explain, zhnlp as run_zhnlp
from zhnlp.config import sample_path
from zhnlp import registry
from zhnlp.config import compose_train_config
from zhnlp.data.collate import collate
from zhnlp.model import TaskModel, read_checkpoint
from zhnlp.module import TaskModule
from zhnlp.predict import load_model
from zhnlp.tricks import EMA, FGM, PGD, RDrop, embedding_params, rdrop_kl, symmetric_kl

EXAMPLES = [
    {"text": "张伟在北京大学读书。", "entities": [{"type": "PER", "start": 0, "end": 2, "text": "张伟"},
                                                {"type": "ORG", "start": 3, "end": 7, "text": "北京大学"}]},
    {"text": "华为在深圳发布新手机", "entities": [{"type": "ORG", "start": 0, "end": 2, "text": "华为"},
                                                {"type": "LOC", "start": 3, "end": 5, "text": "深圳"}]},
    {"text": "李娜去上海", "entities": [{"type": "PER", "start": 0, "end": 2, "text": "李娜"},
                                      {"type": "LOC", "start": 3, "end": 5, "text": "上海"}]},
]



def tiny_module(head: str = "softmax", seed: int = 0) -> tuple[TaskModule, dict]:
    """A TaskModule (char encoder + ``head``) in eval mode (deterministic) and one batch."""
    torch.manual_seed(seed)
    encoder = zhnlp.build_encoder("char", char_dim=8, bigram_dim=6, seg_dim=4, dropout=0.0, min_freq=1)
    sample = Path(sample_path("sample_cls/train.tsv")).read_text(encoding="utf-8").splitlines()[1:40]
    encoder.fit([ex["text"] for ex in EXAMPLES] + sample)  # vocabularies of >= 64 entries
    kwargs = {"lstm_layers": 0} if head == "crf" else {}
    labels = ["LOC", "ORG", "PER"]
    model_head = zhnlp.build_head(head, hidden_size=encoder.hidden_size, labels=labels, **kwargs)
    config = {"encoder": {"name": "char"}, "head": {"name": head, **kwargs}, "labels": labels}
    module = TaskModule(TaskModel([(encoder, model_head)], config), cfg={}).eval()
    batch = collate(module.model.features(EXAMPLES))
    return module, batch


def fake_trainer(accumulate: int = 1) -> SimpleNamespace:
    return SimpleNamespace(precision_plugin=Precision(), accumulate_grad_batches=accumulate, world_size=1)


def loss_of(module, batch) -> torch.Tensor:
    return module.model(batch).loss


def grads_of(module) -> dict[str, torch.Tensor]:
    return {n: p.grad.clone() for n, p in module.named_parameters() if p.grad is not None}


def clean_backward(module, batch) -> None:
    module.zero_grad(set_to_none=True)
    loss_of(module, batch).backward()


CHAR_TABLE = "emb.char"  # substring of the char embedding table's parameter name


def test_embedding_params_finds_vocabulary_tables():
    module, _ = tiny_module()
    names = [n for n, _ in embedding_params(module.model, [CHAR_TABLE])]
    assert len(names) == 1 and names[0].startswith("members.0.encoder.") and CHAR_TABLE in names[0]
    default = [n for n, _ in embedding_params(module.model)]  # every table of >= 64 rows: char and bigram
    assert names[0] in default and all(p.size(0) >= 64 for n, p in module.model.named_parameters() if n in default)
    with pytest.raises(zhnlp.ConfigError, match="matches no encoder parameter"):
        embedding_params(module.model, ["nope"])


def test_embedding_params_uses_the_declared_input_embeddings(tmp_path):
    spec = registry.get("encoders", "bert_wwm")
    encoder = registry.build_encoder({"name": "bert_wwm", **spec.example_kwargs(tmp_path)})
    (weight,) = encoder.input_embeddings()
    found = embedding_params(encoder)
    assert len(found) == 1 and found[0][1] is weight


def test_fgm_adds_the_gradient_at_the_perturbed_embeddings():
    module, batch = tiny_module()
    params = [p for _, p in embedding_params(module.model, [CHAR_TABLE, "emb.bigram"])]
    originals = [p.detach().clone() for p in params]
    # reference: clean gradient + gradient at E + eps * g / ||g||, computed by hand
    clean_backward(module, batch)
    clean = grads_of(module)
    with torch.no_grad():
        for p in params:
            p.add_(0.5 * p.grad / p.grad.norm())
    module.zero_grad(set_to_none=True)
    loss_of(module, batch).backward()
    adversarial = grads_of(module)
    with torch.no_grad():
        for p, o in zip(params, originals):
            p.copy_(o)
    # the callback
    fgm = FGM(epsilon=0.5, param_names=[CHAR_TABLE, "emb.bigram"])
    clean_backward(module, batch)
    fgm.on_train_batch_start(None, module, batch, 0)
    fgm.on_after_backward(fake_trainer(), module)
    for p, o in zip(params, originals):
        assert torch.equal(p.detach(), o)  # embeddings restored exactly
    got = grads_of(module)
    assert set(got) == set(clean)
    for name in clean:
        torch.testing.assert_close(got[name], clean[name] + adversarial.get(name, 0 * clean[name]))


def test_fgm_divides_by_gradient_accumulation():
    module, batch = tiny_module()
    fgm = FGM(epsilon=0.5)
    clean_backward(module, batch)
    clean = grads_of(module)
    fgm.on_train_batch_start(None, module, batch, 0)
    fgm.on_after_backward(fake_trainer(accumulate=1), module)
    full = grads_of(module)
    clean_backward(module, batch)
    fgm.on_after_backward(fake_trainer(accumulate=4), module)
    quarter = grads_of(module)
    name = "model.members.0.head.proj.weight"
    torch.testing.assert_close(quarter[name] - clean[name], (full[name] - clean[name]) / 4)


def test_pgd_matches_the_reference_loop():
    module, batch = tiny_module("crf")
    params = [p for _, p in embedding_params(module.model)]
    originals = [p.detach().clone() for p in params]
    eps, alpha, steps = 0.3, 0.2, 3
    clean_backward(module, batch)
    clean = grads_of(module)
    for t in range(steps):  # reference PGD: ascend, project, keep only the last step's gradient
        with torch.no_grad():
            for p, o in zip(params, originals):
                p.add_(alpha * p.grad / p.grad.norm())
                delta = p - o
                if delta.norm() > eps:
                    p.copy_(o + eps * delta / delta.norm())
        module.zero_grad(set_to_none=True)
        loss_of(module, batch).backward()
    last = grads_of(module)
    with torch.no_grad():
        for p, o in zip(params, originals):
            p.copy_(o)
    pgd = PGD(epsilon=eps, alpha=alpha, steps=steps)
    clean_backward(module, batch)
    pgd.on_train_batch_start(None, module, batch, 0)
    pgd.on_after_backward(fake_trainer(), module)
    for p, o in zip(params, originals):
        assert torch.equal(p.detach(), o)
    got = grads_of(module)
    for name in clean:
        torch.testing.assert_close(got[name], clean[name] + last[name], rtol=1e-5, atol=1e-6)


def test_ema_average_swap_and_checkpoint():
    module, _ = tiny_module()
    trainer = SimpleNamespace(global_step=0, state=SimpleNamespace(fn="fit"), sanity_checking=False)
    ema = EMA(decay=0.5, warmup=False)
    ema.setup(trainer, module, "fit")
    ema.on_train_start(trainer, module)
    p = module.model.head.proj.weight
    key = "model.members.0.head.proj.weight"
    w0 = p.detach().clone()
    with torch.no_grad():
        p.add_(1.0)
    ema.on_train_batch_end(trainer, module, None, None, 0)  # global_step unchanged: no update
    torch.testing.assert_close(ema.shadow[key], w0)
    trainer.global_step = 1
    ema.on_train_batch_end(trainer, module, None, None, 0)
    torch.testing.assert_close(ema.shadow[key], w0 + 0.5)
    raw = p.detach().clone()
    ema.on_validation_start(trainer, module)
    torch.testing.assert_close(p.detach(), w0 + 0.5)  # validation sees the EMA weights
    ema.on_validation_end(trainer, module)
    torch.testing.assert_close(p.detach(), raw)
    checkpoint = {"state_dict": module.state_dict()}
    ema.on_save_checkpoint(trainer, module, checkpoint)
    torch.testing.assert_close(checkpoint["state_dict"][key], w0 + 0.5)
    state = ema.state_dict()
    torch.testing.assert_close(state["training_weights"][key], raw)
    # resume: the module is loaded with the checkpoint (EMA) weights, the callback with its state
    module.load_state_dict(checkpoint["state_dict"])
    resumed = EMA(decay=0.5, warmup=False)
    resumed.load_state_dict(state)
    resumed.setup(trainer, module, "fit")
    resumed.on_train_start(trainer, module)
    torch.testing.assert_close(p.detach(), raw)
    torch.testing.assert_close(resumed.shadow[key], w0 + 0.5)
    ema.on_fit_end(trainer, module)
    torch.testing.assert_close(p.detach(), w0 + 0.5)


def test_ema_warmup_factor():
    ema = EMA(decay=0.99)
    assert ema.factor() == pytest.approx(0.1)
    ema.updates = 1000
    assert ema.factor() == 0.99


def test_symmetric_kl_against_formula():
    torch.manual_seed(0)
    a, b = torch.randn(4, 5), torch.randn(4, 5)
    p, q = a.softmax(-1), b.softmax(-1)
    ref = 0.5 * ((p * (p / q).log()).sum(-1) + (q * (q / p).log()).sum(-1)).mean()
    torch.testing.assert_close(symmetric_kl(a, b, None, binary=False), ref)
    assert symmetric_kl(a, a, None, binary=False).abs() < 1e-7
    x, y = torch.randn(3, 4), torch.randn(3, 4)
    s, t = x.sigmoid(), y.sigmoid()
    kl = lambda u, v: u * (u / v).log() + (1 - u) * ((1 - u) / (1 - v)).log()  # noqa: E731
    torch.testing.assert_close(symmetric_kl(x, y, None, binary=True), (0.5 * (kl(s, t) + kl(t, s))).mean())
    mask = torch.tensor([True, False, True, True])
    torch.testing.assert_close(symmetric_kl(a, b, mask, binary=False),
                               symmetric_kl(a[mask], b[mask], None, binary=False))


@pytest.mark.parametrize("head", ["softmax", "crf", "global_pointer"])
def test_rdrop_loss_through_the_model_hook(head):
    module, batch = tiny_module(head)
    rdrop = RDrop(alpha=2.0)
    rdrop.on_fit_start(SimpleNamespace(), module)
    try:
        plain = loss_of(module, batch)  # not in a training batch: hook inactive
        rdrop.on_train_batch_start(None, module, batch, 0)
        module.model.eval()  # eval: the hook leaves the output alone
        torch.testing.assert_close(loss_of(module, batch), plain)
        module.train()
        module.model.encoder.eval()  # encoder deterministic; the head's dropout differs between passes
        torch.manual_seed(1)
        mixed = loss_of(module, batch)
        assert rdrop.last_kl is not None and rdrop.last_kl > 0
        mixed.backward()  # one graph through both passes
        torch.manual_seed(1)
        rdrop.on_train_batch_end(None, module, None, batch, 0)
        first = loss_of(module, batch)
        second = loss_of(module, batch)
        torch.testing.assert_close(mixed, 0.5 * (first + second) + 2.0 * rdrop.last_kl, rtol=1e-4, atol=1e-4)
    finally:
        rdrop.on_fit_end(None, module)
    assert not module.model._forward_hooks


def test_rdrop_kl_is_zero_for_identical_outputs():
    module, batch = tiny_module("crf")
    out = module.model(batch)
    assert out.scores is not None and out.scores_mask is not None
    assert float(rdrop_kl(out, out).detach()) == pytest.approx(0.0, abs=1e-6)


def test_trick_configs_compose_and_train(tmp_path):
    """``+trick=[fgm,ema,rdrop]`` through the command line on classification; the saved model is
    the EMA model: the checkpoint differs from the raw weights and re-evaluating it gives val/acc."""
    run_dir = tmp_path / "run"
    proc = run_zhnlp(
        "train", "task=classify", "data=sample_cls", "encoder=textcnn", "encoder.char_dim=16",
        "encoder.bigram_dim=16", "encoder.seg_dim=4", "encoder.filters=16", "head.pooling=max",
        "trainer.max_epochs=2", "trainer.enable_progress_bar=false", "optim.lr=5e-3",
        "+trick=[fgm,ema,rdrop]", "callbacks.ema.decay=0.9", f"hydra.run.dir={run_dir}",
        cwd=tmp_path, env={"OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, explain(proc)
    config = (run_dir / ".hydra" / "config.yaml").read_text(encoding="utf-8")
    assert "zhnlp.tricks.FGM" in config and "zhnlp.tricks.EMA" in config and "zhnlp.tricks.RDrop" in config
    ckpt = read_checkpoint(run_dir / "checkpoints" / "best.ckpt")
    (state,) = [v for k, v in ckpt["callbacks"].items() if k.startswith("EMA")]
    raw = state["training_weights"]
    assert raw and any(not torch.equal(raw[k], ckpt["state_dict"][k]) for k in raw)
    metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    model = load_model(run_dir)
    dev = registry.build_reader(model.cfg["data"])(model.cfg["data"]["dev_path"], key="data.dev_path")
    scores, _ = model.evaluate(dev)
    assert scores["acc"] == pytest.approx(metrics["val/acc"])


def test_pgd_trains_ner(tmp_path):
    from zhnlp.train import train

    data = write_tiny_ner(tmp_path)
    cfg = compose_train_config([
        "encoder.char_dim=16", "encoder.bigram_dim=16", "encoder.seg_dim=8", "head.lstm_hidden=16",
        "trainer.max_epochs=1", "trainer.enable_progress_bar=false", "+trick=[pgd,rdrop]",
        "callbacks.pgd.steps=2", *data])
    metrics = train(cfg, tmp_path / "run")
    assert 0.0 <= metrics["val/f1"] <= 1.0


def write_tiny_ner(tmp_path: Path, sizes=(40, 15, 15)) -> list[str]:
    """The first sentences of the bundled NER sample as train/dev/test; the data.* overrides."""
    src = Path(sample_path("sample_ner"))
    out = []
    for split, n in zip(("train", "dev", "test"), sizes):
        blocks = (src / f"{split}.txt").read_text(encoding="utf-8").split("\n\n")[:n]
        path = tmp_path / f"{split}.txt"
        path.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
        out.append(f"data.{split}_path={path}")
    return out


def test_adversarial_tricks_refuse_ddp():
    fgm = FGM()
    with pytest.raises(zhnlp.ConfigError, match="single-process"):
        fgm.on_fit_start(SimpleNamespace(world_size=2), None)



def test_every_trick_config_composes_and_builds():
    from zhnlp.builders import build

    names = sorted(p.stem for p in (Path(__file__).parents[1] / "conf" / "trick").glob("*.yaml"))
    assert names == ["ema", "fgm", "pgd", "rdrop"]
    callbacks = compose_train_config([f"+trick=[{','.join(names)}]"])["callbacks"]
    assert sorted(callbacks) == names
    built = {name: build(spec) for name, spec in callbacks.items()}
    assert [type(built[n]).__name__ for n in names] == ["EMA", "FGM", "PGD", "RDrop"]
