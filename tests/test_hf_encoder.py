"""``encoder=hf`` end to end through the command line: a SentencePiece checkpoint, NER with
pruning, the boundary counts in metrics.json, and ``zhnlp.load(run).predict`` in original offsets."""
from __future__ import annotations

import pytest

import zhnlp
from cli_helpers import explain, metrics, zhnlp as run_zhnlp

TEXTS = ["张伟在北京大学读书。", "  华为Mate60手机于２０２３年8月在深圳发布😀 ", "ＡＢＣ银行", "", "龘" * 300]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from zhnlp_transformers.tiny import write_sentencepiece_checkpoint

    tmp = tmp_path_factory.mktemp("hf")
    ckpt = write_sentencepiece_checkpoint(tmp / "tiny-xlmr")
    run_dir = tmp / "run"
    proc = run_zhnlp("train", "encoder=hf", f"encoder.pretrained={ckpt}", "encoder.prune_vocab=true", "task=ner",
                     "data=sample_ner", "head.lstm_layers=0", "trainer.max_epochs=1", "trainer.enable_progress_bar=false",
                     f"hydra.run.dir={run_dir}", cwd=tmp)
    assert proc.returncode == 0, explain(proc)
    return run_dir, ckpt


def test_metrics_count_entities_cut_by_pieces(run):
    run_dir, _ = run
    m = metrics(run_dir)
    assert m["data/entities_snapped"] > 0 and "data/entities_left_out" in m  # 北京 inside 在北京 ...
    assert 0.0 <= m["test/f1"] <= 1.0


def test_load_predicts_spans_of_the_original_text(run):
    run_dir, ckpt = run
    model = zhnlp.load(str(run_dir))
    assert (run_dir / "model" / "encoder" / "pruned_vocab.json").is_file()
    rows = model.encoder.model.get_input_embeddings().num_embeddings
    assert rows < len(model.encoder.tokenizer)  # pruned: fewer rows than the tokenizer's pieces
    out = model.predict(TEXTS)
    assert len(out) == len(TEXTS) and out[3] == []
    for text, entities in zip(TEXTS, out):
        for ent in entities:
            assert text[ent["start"]:ent["end"]] == ent["text"] and ent["text"].strip()
    assert model.predict(TEXTS) == out  # deterministic after loading
