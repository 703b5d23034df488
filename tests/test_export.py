"""ONNX export (zhnlp.export): onnxruntime gives the same tags / probabilities as PyTorch on the test
split, ``zhnlp.load(EXPORT_DIR)`` predicts like the run, and untraceable encoders fail clearly."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import zhnlp
from zhnlp import registry
from zhnlp.config import compose_train_config, sample_path
from zhnlp.data.collate import collate
from zhnlp.export import ExportWrapper, OnnxPredictor, check_exportable, export_onnx, load_onnx
from zhnlp.predict import load_model

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

NER_TINY = ["encoder.char_dim=16", "encoder.bigram_dim=16", "encoder.seg_dim=8", "head.lstm_hidden=16"]
RUNS = {
    "char_crf": NER_TINY,
    "bert_crf": ["encoder=bert_wwm", "head.lstm_layers=0"],
    "nezha_softmax": ["encoder=nezha", "head=softmax"],
    "textcnn_cls": ["task=classify", "data=sample_cls", "encoder=textcnn", "encoder.char_dim=16",
                    "encoder.bigram_dim=16", "encoder.seg_dim=4", "encoder.filters=16", "head.pooling=max",
                    "optim.lr=5e-3"],
}
LONG = "王小明在北京大学读书，" * 60  # 600 chars: split into windows by the NER heads
# export-time rewrites (zhnlp.onnx_optimize) and an op the rewritten graph must (not) contain
REWRITES = {"char_crf": ([], None), "bert_crf": (["TransformerEncoder"], "NonZero"), "nezha_softmax": ([], None),
            "textcnn_cls": (["TextCNN"], "Conv")}



def tiny_ner_files(tmp: Path) -> list[str]:
    out = []
    for split, n in (("train", 40), ("dev", 15), ("test", 30)):
        blocks = Path(sample_path(f"sample_ner/{split}.txt")).read_text(encoding="utf-8").split("\n\n")[:n]
        (tmp / f"{split}.txt").write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
        out.append(f"data.{split}_path={tmp / f'{split}.txt'}")
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One tiny trained run per kind (1 epoch)."""
    from zhnlp.train import train

    tmp = tmp_path_factory.mktemp("export")
    torch.set_num_threads(1)
    ner_data = tiny_ner_files(tmp)
    out = {}
    for name, overrides in RUNS.items():
        extra = [] if "task=classify" in overrides else ner_data
        encoder = next((o.split("=")[1] for o in overrides if o.startswith("encoder=")), None)
        if encoder in ("bert_wwm", "nezha"):
            spec = registry.get("encoders", encoder)
            extra += [f"encoder.pretrained={spec.example_kwargs(tmp)['pretrained']}"]
        cfg = compose_train_config([*overrides, *extra, "trainer.max_epochs=1", "trainer.enable_progress_bar=false"])
        train(cfg, tmp / name)
        out[name] = tmp / name
    return out


def split_texts(model) -> list[str]:
    data = model.cfg["data"]
    return [ex["text"] for ex in registry.build_reader(data)(data["test_path"], key="data.test_path")]


@pytest.mark.parametrize("name", list(RUNS))
def test_onnx_matches_pytorch(runs, name, tmp_path):
    out = export_onnx(runs[name], tmp_path / "onnx")
    assert {p.name for p in out.iterdir()} >= {"model.onnx", "export.json", "model", "predictor.json"}
    eager = load_model(runs[name])
    onnx = zhnlp.load(str(out))
    assert isinstance(onnx, OnnxPredictor)
    rewrites, op = REWRITES[name]
    assert onnx.meta["rewrites"] == rewrites
    if op:
        import onnx as onnx_lib

        ops = {node.op_type for node in onnx_lib.load(str(out / "model.onnx")).graph.node}
        assert (op in ops) == (name == "bert_crf")  # BERT packs real tokens; TextCNN has no Conv left
    texts = split_texts(eager)
    # the tensor part, batch by batch: tags identical, probabilities within 1e-4
    feats = eager.features([{"text": t, "_gold": False} for t in texts])
    part = eager.head.export_part(collate(feats[:4])).module
    wrapper = ExportWrapper(eager.encoder, part, onnx.keys).eval()
    for start in range(0, len(feats), 16):
        batch = collate(feats[start : start + 16])
        with torch.no_grad():
            want = wrapper(*(batch[k] for k in onnx.keys))
        got = onnx.run_graph(batch)
        if want.is_floating_point():
            torch.testing.assert_close(got, want, atol=1e-4, rtol=0)
        else:
            assert torch.equal(got, want)
    # whole predictions, with empty, whitespace-only and windowed long texts
    texts += ["", "  ", "😀", LONG]
    a, b = eager.predict(texts), onnx.predict(texts)
    if "probs" in onnx.meta["output"]:
        assert [p["label"] for p in a] == [p["label"] for p in b]
        for x, y in zip(a, b):
            for (la, pa), (lb, pb) in zip(x["top_k"], y["top_k"]):
                assert la == lb and abs(pa - pb) < 1e-4
    else:
        assert a == b


def test_export_command_and_metadata(runs, tmp_path):
    from zhnlp.cli import main

    main(["export", str(runs["char_crf"]), "--format", "onnx", "--output", str(tmp_path / "x")])
    meta = json.loads((tmp_path / "x" / "export.json").read_text())
    assert meta["output"] == "tags" and meta["encoder"] == "char"
    assert meta["inputs"][0] == "input_ids" and "bigram_ids" in meta["inputs"]
    import onnx

    model = onnx.load(str(tmp_path / "x" / "model.onnx"))
    assert any(node.op_type == "Loop" for node in model.graph.node)  # Viterbi stays a loop
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param for d in dims] == ["batch", "seq"]
    loaded = load_onnx(tmp_path / "x", threads=2)
    assert loaded.predict(["张伟在北京"]) == load_model(runs["char_crf"]).predict(["张伟在北京"])
    # onnxruntime's idle workers must sleep, not spin: spinning ones starve the torch post-processing
    # (and any torch model) in the same process of the CPU
    options = loaded.session.get_session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    # threads=2: batches run two at a time, one onnxruntime thread each, with the same predictions
    assert loaded.workers == 2 and options.intra_op_num_threads == 1
    texts = [f"张伟{i}在北京大学读书" + "，李娜去了上海" * (i % 4) for i in range(23)]
    sequential = load_onnx(tmp_path / "x", threads=1)
    assert sequential.workers == 1
    assert loaded.predict(texts, batch_size=4) == sequential.predict(texts, batch_size=4) == \
        load_model(runs["char_crf"]).predict(texts, batch_size=4)


def test_untraceable_encoder_is_a_clear_error(runs, tmp_path, monkeypatch):
    from zhnlp_classic.encoders import ClassicEncoder

    forward = ClassicEncoder.forward

    def unsupported(self, *args, **kwargs):
        hidden = forward(self, *args, **kwargs)
        return torch.cummax(hidden, dim=1).values  # no ONNX equivalent

    monkeypatch.setattr(ClassicEncoder, "forward", unsupported)
    with pytest.raises(zhnlp.ZhnlpError, match=r"encoder 'char' \(ClassicEncoder\).*cummax"):
        export_onnx(runs["char_crf"], tmp_path / "bad")
    from zhnlp.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["export", str(runs["char_crf"]), "--output", str(tmp_path / "bad2")])
    assert exit_info.value.code == 2


def test_shape_frozen_while_tracing_is_caught(runs, tmp_path, monkeypatch):
    from zhnlp_classic.encoders import ClassicEncoder

    forward = ClassicEncoder.forward

    def frozen(self, *args, **kwargs):
        hidden = forward(self, *args, **kwargs)
        return hidden * float(hidden.shape[1])  # the traced length becomes a constant

    monkeypatch.setattr(ClassicEncoder, "forward", frozen)
    with pytest.raises(zhnlp.ZhnlpError, match="encoder 'textcnn' disagrees.*frozen while tracing"):
        export_onnx(runs["textcnn_cls"], tmp_path / "bad")
    assert not (tmp_path / "bad" / "predictor.json").exists()  # nothing loadable is left behind


def test_unsupported_head_names_itself(runs):
    from zhnlp.model import TaskModel

    model = load_model(runs["char_crf"])
    span = TaskModel([(model.encoder, zhnlp.build_head("global_pointer", hidden_size=model.encoder.hidden_size,
                                                       labels=["PER"]))], model.config)
    with pytest.raises(zhnlp.ConfigError, match="GlobalPointerHead cannot be exported to ONNX: it declares no export_part"):
        check_exportable(span)
    pair = zhnlp.build_head("classification", hidden_size=8, labels=["a", "b"], pair_mode="siamese", pooling="max")
    with pytest.raises(zhnlp.ConfigError, match="pair_mode=siamese"):
        pair.export_part({"offsets": [[(0, 1)]]})


def test_plain_export_keeps_the_modules(runs, tmp_path):
    import onnx

    from zhnlp.cli import main

    main(["export", str(runs["textcnn_cls"]), "--output", str(tmp_path / "plain"), "--plain"])
    meta = json.loads((tmp_path / "plain" / "export.json").read_text())
    assert meta["rewrites"] == []
    assert any(node.op_type == "Conv" for node in onnx.load(str(tmp_path / "plain" / "model.onnx")).graph.node)
    texts = ["李娜在杭州", "", "ＡＢＣ银行的王小明去了上海浦东机场"]
    got, want = load_onnx(tmp_path / "plain").predict(texts), load_model(runs["textcnn_cls"]).predict(texts)
    assert [p["label"] for p in got] == [p["label"] for p in want]


def test_wrong_rewrite_fails_the_export(runs, tmp_path, monkeypatch):
    from zhnlp_classic.context import TextCNN
    from zhnlp_classic.export_graph import TextCNNMatMul

    def off_by_bias(self):
        fast = TextCNNMatMul(self)
        fast.bias.data += 0.5  # not equivalent any more
        return fast

    monkeypatch.setattr(TextCNN, "export_module", off_by_bias)
    with pytest.raises(zhnlp.ZhnlpError, match="rewrite of TextCNN is not equivalent.*--plain"):
        export_onnx(runs["textcnn_cls"], tmp_path / "bad")
    assert not (tmp_path / "bad" / "predictor.json").exists()


def test_int8_option_keeps_fp32_and_reports_agreement(runs, tmp_path):
    out = export_onnx(runs["textcnn_cls"], tmp_path / "q", quantize="int8")
    meta = json.loads((out / "export.json").read_text())
    q = meta["quantize"]
    assert q["type"] == "int8" and (out / q["fp32_model"]).exists() and 0.0 <= q["agreement"] <= 1.0
    assert q["texts"] > 0
    assert (out / "model.onnx").stat().st_size < (out / q["fp32_model"]).stat().st_size  # int8 weights
    assert len(zhnlp.load(str(out)).predict(["李娜在杭州", ""])) == 2
    with pytest.raises(zhnlp.ConfigError, match="int4"):
        from zhnlp.export import quantize_int8

        quantize_int8(out / "model.onnx", None, [], "probs", "int4")
