"""Bad input gets a short error naming the file/line/key, never a deep traceback, and loses nothing."""
from __future__ import annotations

import pytest

import zhnlp
from cli_helpers import explain, train
from zhnlp.errors import ZhnlpError

GOOD = "张 B-PER\n伟 I-PER\n在 O\n北 B-LOC\n京 I-LOC\n\n李 B-PER\n明 I-PER\n来 O\n了 O\n"


def write(tmp, name, text):
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path


def data_overrides(train_path, dev_path, test_path=None):
    out = [f"data.train_path={train_path}", f"data.dev_path={dev_path}"]
    out.append(f"data.test_path={test_path}" if test_path else "data.test_path=null")
    return out


def assert_short_error(proc, *needles):
    assert proc.returncode != 0, explain(proc)
    assert "Traceback" not in proc.stderr, explain(proc)
    for needle in needles:
        assert needle in proc.stderr, explain(proc)


def test_missing_data_file(tmp_path):
    good = write(tmp_path, "good.txt", GOOD)
    proc, _ = train(tmp_path, *data_overrides(tmp_path / "nope.txt", good))
    assert_short_error(proc, "nope.txt", "data.train_path")


def test_malformed_line_names_file_and_line(tmp_path):
    bad = write(tmp_path, "bad.txt", GOOD + "\n王 B-PER\n五\n")
    proc, _ = train(tmp_path, *data_overrides(bad, bad))
    assert_short_error(proc, "bad.txt:13")


def test_unknown_config_option(tmp_path):
    proc, _ = train(tmp_path, "trainer.no_such_option=3")
    assert_short_error(proc, "no_such_option")
    proc, _ = train(tmp_path, "encoder=no_such_encoder")
    assert_short_error(proc, "no_such_encoder")


def test_dev_label_never_seen_in_train(tmp_path):
    good = write(tmp_path, "train.txt", GOOD)
    dev = write(tmp_path, "dev.txt", "微 B-ORG\n软 I-ORG\n")
    proc, run_dir = train(tmp_path, *data_overrides(good, dev))
    assert_short_error(proc, "dev.txt:1", "ORG")
    assert not run_dir.exists()  # stopped before training: no folder holding only .hydra/


def test_empty_dataset(tmp_path):
    good = write(tmp_path, "train.txt", GOOD)
    empty = write(tmp_path, "empty.txt", "\n\n")
    proc, _ = train(tmp_path, *data_overrides(good, empty))
    assert_short_error(proc, "empty.txt", "empty")


def test_load_without_checkpoint(tmp_path):
    (tmp_path / "checkpoints").mkdir()
    with pytest.raises(ZhnlpError, match="no model found"):
        zhnlp.load(str(tmp_path))


def test_crash_keeps_checkpoints(tmp_path):
    (tmp_path / "boom.py").write_text(
        "from lightning.pytorch.callbacks import Callback\n"
        "class Boom(Callback):\n"
        "    def on_train_epoch_start(self, trainer, module):\n"
        "        if trainer.current_epoch == 1:\n"
        "            raise RuntimeError('simulated crash')\n"
    )
    proc, run_dir = train(tmp_path, "trainer.max_epochs=3", "+callbacks.boom._target_=boom.Boom",
                          env={"PYTHONPATH": str(tmp_path)})
    assert proc.returncode != 0
    assert (run_dir / "checkpoints" / "last.ckpt").is_file(), explain(proc)
    assert (run_dir / "checkpoints" / "crash.ckpt").is_file(), explain(proc)
    assert (run_dir / "logs" / "metrics.csv").is_file()
    assert zhnlp.load(str(run_dir)).predict(["张伟在北京。"])  # the saved model is usable


def test_corrupt_or_foreign_checkpoint_says_what_the_file_is(tmp_path):
    import torch

    text = tmp_path / "notes.ckpt"
    text.write_text("not a checkpoint", encoding="utf-8")
    cut = tmp_path / "cut.ckpt"
    torch.save({"state_dict": {"w": torch.zeros(3)}}, cut)
    cut.write_bytes(cut.read_bytes()[:60])  # a truncated zip archive
    foreign = tmp_path / "foreign.ckpt"
    torch.save({"state_dict": {"w": torch.zeros(3)}, "hyper_parameters": {}}, foreign)
    for path, what in ((text, "no zip archive inside"), (cut, "truncated or corrupt"),
                       (foreign, "without a zhnlp model config")):
        with pytest.raises(ZhnlpError) as info:
            zhnlp.load(str(path))
        assert what in str(info.value) and "weights_only=False" not in str(info.value), str(info.value)
