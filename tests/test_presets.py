"""Every shipped experiment preset of the NER and classification plugins composes, builds and trains.

Each preset runs for two steps on the first lines of the real datasets in ../shared (copied to a
temporary ``data_root`` in the same layout), so a preset whose keys no builder takes, whose
encoder/head combination does not fit, or whose data config points at the wrong files fails here
rather than in a user's 20-minute run.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from zhnlp.config import compose_train_config
from zhnlp.train import train

# preset -> the files (relative to data_root) it reads; each is copied up to LINES lines
PRESETS = {
    "resume_ner_scratch": ["resume_ner/train.char.bmes", "resume_ner/dev.char.bmes"],
    "weibo_ner_scratch": ["weibo_ner/weiboNER_2nd_conll.train", "weibo_ner/weiboNER_2nd_conll.dev"],
    "msra_ner_scratch": ["msra_ner/train.txt", "msra_ner/dev.txt"],
    "cluener_scratch": ["cluener/train.json", "cluener/dev.json"],
    "thucnews_scratch": ["thucnews/train.txt", "thucnews/dev.txt", "thucnews/class.txt"],
    "chnsenticorp_scratch": ["chnsenticorp/train.tsv", "chnsenticorp/dev.tsv"],
}
LINES = {"cluener": 40, "thucnews": 120, "chnsenticorp": 40}  # JSON lines / rows of a dev file
COLUMN_LINES = 400  # char-per-line dev files: ~10-30 sentences, cut at a sentence break
TRAIN_FACTOR = 6  # training files keep 6x more, so that they hold every label of the dev slice


def head_copy(src: Path, dst: Path, dataset: str) -> None:
    """The first lines of ``src`` into ``dst`` (column files end at a blank line: whole sentences)."""
    lines = src.read_text(encoding="utf-8").splitlines()
    factor = TRAIN_FACTOR if "train" in src.name else 1
    if src.name == "class.txt":
        keep = lines
    elif dataset in LINES:
        keep = lines[: LINES[dataset] * factor]
    else:
        keep = lines[: COLUMN_LINES * factor]
        while keep and keep[-1].strip():
            keep.pop()
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text("\n".join(keep) + "\n", encoding="utf-8")


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_preset_trains_two_steps(preset, shared, tmp_path):
    root = shared("datasets")
    for rel in PRESETS[preset]:
        head_copy(root / rel, tmp_path / "data" / rel, rel.split("/")[0])
    cfg = compose_train_config([f"experiment={preset}", f"data_root={tmp_path / 'data'}",
                                "trainer.max_steps=2", "trainer.limit_val_batches=2", "trainer.max_epochs=1",
                                "trainer.val_check_interval=1.0", "trainer.enable_progress_bar=false",
                                "trainer.accelerator=cpu"])
    metrics = train(cfg, tmp_path / "run")
    key = cfg["report_metric"]
    assert key in metrics and 0.0 <= metrics[key] <= 1.0
    written = json.loads((tmp_path / "run" / "metrics.json").read_text(encoding="utf-8"))
    assert written[key] == pytest.approx(metrics[key])
    assert list((tmp_path / "run" / "checkpoints").glob("*.ckpt")), "no checkpoint written"


# vectors preset -> (the preset whose data it reads, {vector file: (width, tokens)}, a token only the files have)
VECTOR_PRESETS = {
    "resume_ner_vectors": ("resume_ner_scratch", {"char128": (128, ["高", "龘"]), "bigram128": (128, ["高勇", "龘龘"]),
                                                  "word50": (50, ["工程师"])}),
    "thucnews_vectors": ("thucnews_scratch", {"char64": (64, ["中", "龘"]), "bigram64": (64, ["中国", "龘龘"]),
                                              "word64": (64, ["中国", "龘龘龘"])}),
    "cluener_vectors": ("cluener_scratch", {"char128": (128, ["浙", "龘"]), "bigram128": (128, ["浙商", "龘龘"]),
                                            "word50": (50, ["银行"])}),
    "weibo_ner_vectors": ("weibo_ner_scratch", {"char128": (128, ["我", "龘"]), "bigram128": (128, ["我们", "龘龘"])}),
}


@pytest.mark.parametrize("preset", sorted(VECTOR_PRESETS))
def test_vectors_preset_trains_with_tiny_vector_files(preset, shared, tmp_path):
    source, files = VECTOR_PRESETS[preset]
    root = shared("datasets")
    for rel in PRESETS[source]:
        head_copy(root / rel, tmp_path / "data" / rel, rel.split("/")[0])
    vectors = tmp_path / "vectors"
    vectors.mkdir()
    for name, (dim, tokens) in files.items():
        rows = [f"{tok} " + " ".join(["0.5"] * dim) for tok in tokens]
        (vectors / f"{name}.vec").write_text(f"{len(rows)} {dim}\n" + "\n".join(rows) + "\n", encoding="utf-8")
    cfg = compose_train_config([f"experiment={preset}", f"data_root={tmp_path / 'data'}",
                                f"vectors_dir={vectors}", "trainer.max_steps=2", "trainer.limit_val_batches=2",
                                "trainer.max_epochs=1", "trainer.val_check_interval=1.0",
                                "trainer.enable_progress_bar=false", "trainer.accelerator=cpu"])
    assert set(cfg["encoder"]["pretrained_embeddings"].values()) == {f"{vectors}/{name}.vec" for name in files}
    metrics = train(cfg, tmp_path / "run")
    assert 0.0 <= metrics[cfg["report_metric"]] <= 1.0
    import zhnlp

    vocabs = zhnlp.load(tmp_path / "run").encoder.tokenizer.vocabs
    # tokens only the vector files have joined the vocabularies (pretrained_extend)
    assert "龘" in vocabs["input_ids"].stoi and "龘龘" in vocabs["bigram_ids"].stoi
