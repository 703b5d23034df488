"""``encoder=hf``: parity with transformers on a SentencePiece (XLM-R) and a WordPiece (BERT)
checkpoint, exact char offsets of multi-character pieces, entity alignment through them, long
texts, vocabulary pruning, and the bad-input errors."""
from __future__ import annotations

import json
import warnings

import pytest
import torch
from transformers import AutoTokenizer, BertModel, XLMRobertaConfig, XLMRobertaModel

from zhnlp.alignment import SNAPPED, entity_token_spans, token_spans_to_entities
from zhnlp.data.features import make_features
from zhnlp.errors import ConfigError
from zhnlp.windows import merge_predictions, split_example
from zhnlp_transformers.encoders import build_hf
from zhnlp_transformers.pieces import clean_offsets
from zhnlp_transformers.tiny import write_checkpoint, write_sentencepiece_checkpoint

TEXTS = [
    "张伟 在北京大学读书。",
    "华为Mate60手机于2023年8月在深圳发布😀",
    "ＡＢＣ银行，iPhone 15 Pro Max！",
    "  前后空格  和\t制表符\n换行",
    "𠮷野家 龘",
    "x",
]


@pytest.fixture(scope="module")
def spm_dir(tmp_path_factory):
    return write_sentencepiece_checkpoint(tmp_path_factory.mktemp("spm") / "xlmr")


@pytest.fixture(scope="module")
def bert_dir(tmp_path_factory):
    return write_checkpoint(tmp_path_factory.mktemp("bert") / "bert", "bert")


def reference_hidden(model_cls, directory, texts):
    """transformers' own tokenizer (padded its way) and model: (B, T, H) and the attention mask."""
    tok = AutoTokenizer.from_pretrained(str(directory))
    batch = tok(texts, padding=True, return_tensors="pt")
    model = model_cls.from_pretrained(str(directory), add_pooling_layer=False).eval()
    with torch.no_grad():
        return model(**batch).last_hidden_state, batch  # (B, T, H)


def ours(encoder, texts):
    enc = encoder.tokenizer(texts)
    width = max(len(ids) for ids in enc["input_ids"])
    keys = [k for k in enc if k != "offset_mapping"]
    batch = {k: torch.tensor([list(v) + [0] * (width - len(v)) for v in enc[k]]) for k in keys}  # zhnlp pads with 0
    encoder.eval()
    with torch.no_grad():
        return encoder(**batch), batch, enc  # (B, T, H)


@pytest.mark.parametrize("kind", ["sentencepiece", "wordpiece"])
def test_hidden_states_equal_transformers(kind, spm_dir, bert_dir):
    directory, model_cls = (spm_dir, XLMRobertaModel) if kind == "sentencepiece" else (bert_dir, BertModel)
    encoder = build_hf(str(directory))
    want, ref_batch = reference_hidden(model_cls, directory, TEXTS)
    got, batch, _ = ours(encoder, TEXTS)
    assert batch["input_ids"].masked_fill(batch["attention_mask"] == 0, 0).tolist() == \
        ref_batch["input_ids"].masked_fill(ref_batch["attention_mask"] == 0, 0).tolist()
    mask = ref_batch["attention_mask"].bool()
    torch.testing.assert_close(got[mask], want[mask], atol=1e-5, rtol=1e-4)
    assert encoder.num_special_tokens == 2 and encoder.max_length == 128  # XLM-R: 130 positions, 2 after padding


def test_sentencepiece_offsets_are_exact_char_spans(spm_dir):
    encoder = build_hf(str(spm_dir))
    enc = encoder.tokenizer(TEXTS)
    pieces = encoder.tokenizer.hf.convert_ids_to_tokens(enc["input_ids"][0])
    assert pieces[1:4] == ["▁张伟", "▁在北京", "大学"]  # multi-character pieces, the space inside "▁在北京"
    assert enc["offset_mapping"][0][1:4] == [(0, 2), (3, 6), (6, 8)]  # whitespace trimmed
    for text, offsets in zip(TEXTS, enc["offset_mapping"]):
        assert sum(1 for o in offsets if o == (0, 0)) == encoder.num_special_tokens
        real = [(s, e) for s, e in offsets if e > s]
        assert all(a[1] <= b[0] for a, b in zip(real, real[1:]))  # disjoint, in order
        covered = {i for s, e in real for i in range(s, e)}
        assert covered == {i for i, ch in enumerate(text) if not ch.isspace()}  # every visible char, once
        assert all(not text[s].isspace() and not text[e - 1].isspace() for s, e in real)
    # "▁" then "𠮷" (no word-start form): the standalone "▁" owns no character
    pieces = encoder.tokenizer.hf.convert_ids_to_tokens(enc["input_ids"][4])
    assert pieces[1] == "▁" and enc["offset_mapping"][4][1] == (1, 1)


def test_clean_offsets_rules():
    # a standalone "▁" aligned to the first char of the next piece, and a piece with its space
    assert clean_offsets("在北京 hello", [(0, 1), (0, 3), (3, 9)]) == [(1, 1), (0, 3), (4, 9)]
    # byte-level BPE: three byte pieces of one emoji share its span; the last one owns it
    assert clean_offsets("a😀", [(0, 1), (1, 2), (1, 2), (1, 2)]) == [(0, 1), (1, 1), (1, 1), (1, 2)]
    # a whitespace-only piece, and a partial overlap cut at the previous end
    assert clean_offsets("ab  cd", [(0, 2), (2, 4), (1, 6)]) == [(0, 2), (4, 4), (4, 6)]


def test_entities_align_to_pieces_and_back(spm_dir):
    encoder = build_hf(str(spm_dir))
    text = "张伟在北京大学读书，华为Mate60于2023年发布😀ＡＢＣ"
    gold = {"PER": (0, 2), "LOC": (3, 5), "ORG": (5, 7), "PRD": (12, 18), "EMO": (26, 27), "FW": (27, 30)}
    entities = [{"type": t, "start": s, "end": e, "text": text[s:e]} for t, (s, e) in gold.items()]
    offsets = encoder.tokenizer(text)["offset_mapping"]
    labels = {t: i for i, t in enumerate(gold)}
    spans, notes = entity_token_spans(entities, offsets, labels, allow_overlap=True, snap=True)
    back = {e["type"]: e for e in token_spans_to_entities(spans, offsets, text)}
    for ent in back.values():
        assert text[ent["start"]:ent["end"]] == ent["text"]
    # 北京 starts inside the piece "在北京": widened to it, and counted; the others fit pieces exactly
    assert back["LOC"]["text"] == "在北京"
    assert [(e["type"], why) for e, why in notes] == [("LOC", SNAPPED)]
    for typ in ("PER", "ORG", "PRD", "EMO", "FW"):
        assert (back[typ]["start"], back[typ]["end"]) == gold[typ]


class WindowTagger:
    """The smallest windowing entity head: 1 on the first token of each gold entity (no NER plugin
    import: plugins' tests import only zhnlp and themselves)."""

    def targets(self, example, encoding):
        spans, _ = entity_token_spans(example["entities"], encoding["offset_mapping"], {"ORG": 0},
                                      allow_overlap=False, snap=True)
        tags = [0] * len(encoding["offset_mapping"])
        for _, first, _ in spans:
            tags[first] = 1
        return {"tags": tags}

    def split(self, example, max_chars):
        return split_example(example, max_chars, overlap=8)

    def merge(self, example, parts):
        return merge_predictions(example, parts)


def test_long_texts_are_windowed_within_max_length(spm_dir):
    encoder = build_hf(str(spm_dir), max_length=32)
    unit = "华为Mate60在北京发布，"
    text = unit * 16
    ents = [{"type": "ORG", "start": i, "end": i + 2, "text": "华为"} for i in range(0, len(text), len(unit))]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing truncated
        feats = make_features([{"text": text, "entities": ents, "_file": "m", "_line": 1}], encoder.tokenizer,
                              WindowTagger(), encoder.max_length, encoder.num_special_tokens)
    assert len(feats) > 7 and all(len(f["inputs"]["input_ids"]) <= 32 for f in feats)
    for f in feats:
        window = f["example"]["text"]
        assert all(e <= len(window) for _, e in f["offsets"])
        placed = [window[f["offsets"][k][0]:f["offsets"][k][1]] for k, t in enumerate(f["targets"]["tags"]) if t == 1]
        assert placed and set(placed) == {"华为"}


def test_vocabulary_pruning_keeps_hidden_states(spm_dir, tmp_path):
    train = ["张伟在北京大学读书。", "华为Mate60手机发布"]
    full = build_hf(str(spm_dir))
    pruned = build_hf(str(spm_dir), prune_vocab=True)
    kept = pruned.fit(train)
    rows = pruned.model.get_input_embeddings().num_embeddings
    assert kept == rows and 10 < rows < 100 < full.model.get_input_embeddings().num_embeddings
    covered = train  # two lengths: a padded batch
    want, _, enc_full = ours(full, covered)
    got, _, enc_pruned = ours(pruned, covered)
    assert enc_pruned["offset_mapping"] == enc_full["offset_mapping"]
    unk_row = pruned.tokenizer.remap([pruned.tokenizer.hf.unk_token_id])[0]
    assert max(max(ids) for ids in enc_pruned["input_ids"]) < rows
    assert all(unk_row not in ids for ids in enc_pruned["input_ids"])  # really covered
    torch.testing.assert_close(got, want, atol=1e-6, rtol=1e-5)
    assert pruned.tokenizer("深圳")["input_ids"][1:-1] == [unk_row]  # a piece never seen: the unknown token
    # the saved assets rebuild the same pruned module (config.json of the pruned size + kept ids)
    kwargs = pruned.save_assets(str(tmp_path / "assets"))
    assert json.loads((tmp_path / "assets" / "pruned_vocab.json").read_text())["kept_ids"] == pruned.kept_ids
    again = build_hf(**kwargs)
    again.load_state_dict(pruned.state_dict())
    torch.testing.assert_close(ours(again, covered)[0], want, atol=1e-6, rtol=1e-5)
    assert again.tokenizer(covered) == pruned.tokenizer(covered)
    assert pruned.fit(["北京"]) < kept  # pruning a pruned model again keeps only what it has


def test_pruning_a_wordpiece_checkpoint(bert_dir):
    full, pruned = build_hf(str(bert_dir)), build_hf(str(bert_dir), prune_vocab=True, freeze="embeddings")
    pruned.fit(["华为mate60手机"])
    assert not pruned.model.get_input_embeddings().weight.requires_grad  # the freeze survives pruning
    torch.testing.assert_close(ours(pruned, ["手机华为"])[0], ours(full, ["手机华为"])[0], atol=1e-6, rtol=1e-5)


def test_errors_name_the_directory_and_fix(spm_dir, tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match="encoder.pretrained is required"):
        build_hf()
    with pytest.raises(ConfigError, match="no such directory"):
        build_hf(str(tmp_path / "nowhere"))
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "config.json").write_text((spm_dir / "config.json").read_text())
    with pytest.raises(ConfigError, match=r"bare has no tokenizer .*tokenizer.save_pretrained"):
        build_hf(str(bare))
    # a checkpoint with fewer embedding rows than the tokenizer has ids
    small = write_sentencepiece_checkpoint(tmp_path / "small")
    XLMRobertaModel(XLMRobertaConfig.from_pretrained(str(small), vocab_size=100)).save_pretrained(small)
    with pytest.raises(ConfigError, match=r"ids up to \d+ but the model has only 100 embedding rows"):
        build_hf(str(small))

    # weights of another size than config.json: named, not silently re-initialised
    partial = write_sentencepiece_checkpoint(tmp_path / "partial", with_head=False)
    from safetensors.torch import load_file, save_file

    state = {k: v for k, v in load_file(str(partial / "model.safetensors")).items() if "layer.1." not in k}
    save_file(state, str(partial / "model.safetensors"), metadata={"format": "pt"})
    with pytest.raises(ConfigError, match=r"do not fit the XLMRobertaModel .* 16 missing"):
        build_hf(str(partial))

    class SlowTokenizer:  # what a tokenizer without a Rust backend looks like: no offsets
        is_fast = False

    monkeypatch.setattr("transformers.AutoTokenizer.from_pretrained", lambda *a, **k: SlowTokenizer())
    with pytest.raises(ConfigError, match=r"cannot return character offsets.*fast tokenizers"):
        build_hf(str(spm_dir))
