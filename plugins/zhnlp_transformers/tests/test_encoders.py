"""The four transformer encoders against transformers' own models and tokenizers."""
from __future__ import annotations

import pickle
import unicodedata
from pathlib import Path

import pytest
import torch
from transformers import (AlbertForMaskedLM, AlbertModel, BertForMaskedLM, BertModel, BertTokenizer,
                          BertTokenizerLegacy, ErnieForMaskedLM, ErnieModel)

from zhnlp import registry
from zhnlp.types import Encoder, EncoderSpec, MaskedLM, missing
from zhnlp.weights import read_weights, strip_prefix
from zhnlp_transformers import encoders
from zhnlp_transformers.tiny import base_kwargs, write_checkpoint

SHARED_VOCAB = Path(__file__).parents[3].parent / "shared" / "vocab" / "bert-base-chinese-vocab.txt"
VOCAB = SHARED_VOCAB if SHARED_VOCAB.is_file() else None  # None: the small built-in vocabulary

CASES = {  # name: (builder, model_type, reference model class)
    "bert_wwm": (encoders.build_bert_wwm, "bert", BertModel),
    "roberta_wwm": (encoders.build_roberta_wwm, "bert", BertModel),
    "ernie": (encoders.build_ernie, "ernie", ErnieModel),
    "albert_zh": (encoders.build_albert_zh, "albert", AlbertModel),
}
TEXTS = [
    "华为Mate60手机于2023年8月发布",
    "iPhone 15 Pro Max售价７９９９元！😀👍🏻",
    "ＡＢＣ全角字母　和全角空格１２３",
    "北京大学(PKU)成立于1898年，e-mail: test@pku.edu.cn",
    "Café naïve résumé 中文混排\t制表符\n换行",
    "零宽\u200b字符与组合字符e\u0301",
    "𠀀生僻字𪚥龘",
    "  前后空格  ",
]


def ckpt(tmp_path, model_type, **kw) -> Path:
    return write_checkpoint(tmp_path / "ckpt", model_type, VOCAB, **kw)


def encode_batch(tokenizer, texts):
    """Padded (B, T) tensors from per-text encodings, as the core's collate does."""
    encs = [tokenizer(t, return_offsets_mapping=True, add_special_tokens=True, truncation=False)
            for t in texts]
    width = max(len(e["input_ids"]) for e in encs)
    batch = {}
    for key in ("input_ids", "attention_mask", "token_type_ids"):
        batch[key] = torch.tensor([e[key] + [0] * (width - len(e[key])) for e in encs])
    return batch


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("with_head", [True, False], ids=["mlm-checkpoint", "bare-checkpoint"])
def test_hidden_states_match_transformers(tmp_path, name, with_head):
    builder, model_type, reference_class = CASES[name]
    directory = ckpt(tmp_path, model_type, with_head=with_head)
    encoder = builder(pretrained=str(directory)).eval()
    assert isinstance(encoder, Encoder)
    reference = reference_class.from_pretrained(str(directory)).eval()
    batch = encode_batch(encoder.tokenizer, TEXTS)
    batch["token_type_ids"][1, 3:] = 1  # exercise segment embeddings too
    with torch.no_grad():
        ours = encoder(**batch)  # (B, T, H)
        ref = reference(**batch).last_hidden_state
    assert ours.shape == (len(TEXTS), batch["input_ids"].shape[1], 32)
    assert encoder.hidden_size == 32 and encoder.max_length == 128 and encoder.num_special_tokens == 2
    assert (ours - ref).abs().max().item() <= 1e-5
    assert missing(encoder, "encoder") == []
    single = encoder.tokenizer(TEXTS[0])["input_ids"]
    assert encoder.tokenizer.convert_ids_to_tokens([single[0], single[-1]]) == ["[CLS]", "[SEP]"]


def test_ernie_task_type_ids(tmp_path):
    directory = ckpt(tmp_path, "ernie")
    encoder = encoders.build_ernie(pretrained=str(directory)).eval()
    reference = ErnieModel.from_pretrained(str(directory)).eval()
    batch = encode_batch(encoder.tokenizer, TEXTS[:3])
    task = torch.ones_like(batch["input_ids"]) * batch["attention_mask"] * 2
    with torch.no_grad():
        ours = encoder(**batch, task_type_ids=task)
        ref = reference(**batch, task_type_ids=task).last_hidden_state
        plain = encoder(**batch)
    assert (ours - ref).abs().max().item() <= 1e-5
    assert (ours - plain).abs().max().item() > 1e-4  # the ids really changed something


def _normalise(piece: str) -> str:
    """What BertNormalizer does to a span (lower case, accents stripped)."""
    decomposed = unicodedata.normalize("NFD", piece.lower())
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


@pytest.mark.parametrize("name", CASES)
def test_tokenizer_ids_and_offsets(tmp_path, name):
    builder, model_type, _ = CASES[name]
    directory = ckpt(tmp_path, model_type, weights=False)
    tokenizer = builder(pretrained=str(directory), weights=False).tokenizer
    fast_ref = BertTokenizer.from_pretrained(str(directory))
    slow_ref = BertTokenizerLegacy.from_pretrained(str(directory))  # pure-Python reference
    for text in TEXTS:
        enc = tokenizer(text, return_offsets_mapping=True, add_special_tokens=True, truncation=False)
        assert isinstance(enc["input_ids"], list)
        assert enc["input_ids"] == fast_ref(text)["input_ids"] == slow_ref(text)["input_ids"], text
        tokens = tokenizer.convert_ids_to_tokens(enc["input_ids"])
        assert len(enc["offset_mapping"]) == len(tokens)
        covered, previous_end = set(), 0
        for token, (start, end) in zip(tokens, enc["offset_mapping"]):
            if token in ("[CLS]", "[SEP]"):
                assert (start, end) == (0, 0)
                continue
            assert previous_end <= start < end <= len(text), (text, token, start, end)
            previous_end = end
            covered.update(range(start, end))
            piece = text[start:end]
            if token == "[UNK]":
                assert piece.strip() == piece
            else:
                assert _normalise(piece) == token.removeprefix("##"), (text, token, piece)
        for i, char in enumerate(text):  # all that is dropped is space, control or accent
            if i not in covered:
                assert char.isspace() or unicodedata.category(char)[0] in "CM", (text, char)
    batched = tokenizer(TEXTS[:2], return_offsets_mapping=True)
    assert len(batched["input_ids"]) == 2


def test_mate60_pieces(tmp_path):
    """The brief's reference sentence keeps 'Mate60' as two pieces mapping to 'Mate' and '60'."""
    if VOCAB is None:
        pytest.skip("needs the shared 21k vocabulary (../shared/vocab)")
    directory = ckpt(tmp_path, "bert", weights=False)
    tokenizer = encoders.build_bert_wwm(pretrained=str(directory), weights=False).tokenizer
    text = "华为Mate60手机于2023年8月发布"
    enc = tokenizer(text, return_offsets_mapping=True)
    pieces = [text[s:e] for s, e in enc["offset_mapping"][1:-1]]
    assert pieces[:4] == ["华", "为", "Mate", "60"]
    assert "".join(pieces) == text


@pytest.mark.parametrize("name", CASES)
def test_legacy_bin_checkpoint(tmp_path, name):
    """pytorch_model.bin with a model prefix and gamma/beta loads fully and gives equal outputs."""
    builder, model_type, _ = CASES[name]
    modern = write_checkpoint(tmp_path / "modern", model_type, VOCAB, with_head=False, seed=3)
    legacy = write_checkpoint(tmp_path / "legacy", model_type, VOCAB, with_head=False, seed=3,
                              legacy=True)
    raw = torch.load(legacy / "pytorch_model.bin", weights_only=True)
    assert any(k.endswith(".gamma") for k in raw) and all(
        k.startswith(f"{model_type}.") for k in raw)
    assert not (legacy / "model.safetensors").exists()
    new = builder(pretrained=str(modern)).eval()
    old = builder(pretrained=str(legacy)).eval()  # raises if any encoder weight is missing
    stripped = strip_prefix(read_weights(legacy), [f"{model_type}."], drop=("pooler.",))
    own = old.model.state_dict()
    assert set(own) <= set(stripped)  # nothing missing
    assert set(stripped) - set(own) <= {"embeddings.position_ids"}  # nothing unexpected
    batch = encode_batch(new.tokenizer, TEXTS)
    with torch.no_grad():
        assert torch.equal(new(**batch), old(**batch))


@pytest.mark.parametrize("name", CASES)
def test_layer_groups_and_freezing(tmp_path, name):
    builder, model_type, _ = CASES[name]
    directory = ckpt(tmp_path, model_type)
    encoder = builder(pretrained=str(directory))
    groups = encoder.layer_groups()
    ids = [id(p) for g in groups for p in g]
    assert len(ids) == len(set(ids))
    assert set(ids) == {id(p) for p in encoder.parameters()}
    embeddings = {id(p) for p in encoder.model.embeddings.parameters()}
    assert embeddings <= {id(p) for p in groups[0]}
    # ALBERT shares one layer across its 2 applied layers: one group; BERT/ERNIE: one per layer
    assert len(groups) == (2 if model_type == "albert" else 3)
    assert all(p.requires_grad for p in encoder.parameters())

    frozen_all = builder(pretrained=str(directory), freeze="all")
    assert not any(p.requires_grad for p in frozen_all.parameters())

    def frozen_groups(enc):
        return [all(not p.requires_grad for p in g) for g in enc.layer_groups()]

    def trainable_groups(enc):
        return [all(p.requires_grad for p in g) for g in enc.layer_groups()]

    emb = builder(pretrained=str(directory), freeze="embeddings")
    assert frozen_groups(emb)[0] and all(trainable_groups(emb)[1:])
    assert not any(p.requires_grad for p in emb.model.embeddings.parameters())

    first = builder(pretrained=str(directory), freeze_layers=1)
    assert frozen_groups(first)[:2] == [True, True] and all(trainable_groups(first)[2:])
    if model_type != "albert":
        assert not any(p.requires_grad for p in first.model.encoder.layer[0].parameters())
        assert all(p.requires_grad for p in first.model.encoder.layer[1].parameters())


@pytest.mark.parametrize("name", CASES)
def test_save_assets_round_trip(tmp_path, name):
    builder, model_type, _ = CASES[name]
    directory = ckpt(tmp_path, model_type)
    trained = builder(pretrained=str(directory)).eval()
    kwargs = trained.save_assets(str(tmp_path / "assets"))
    assert kwargs == {"pretrained": str(tmp_path / "assets"), "weights": False}
    assert (tmp_path / "assets" / "config.json").is_file()
    assert (tmp_path / "assets" / "vocab.txt").read_bytes() == (directory / "vocab.txt").read_bytes()
    rebuilt = builder(**kwargs).eval()
    batch = encode_batch(trained.tokenizer, TEXTS)
    with torch.no_grad():
        assert not torch.equal(trained(**batch), rebuilt(**batch))  # random until loaded
        rebuilt.load_state_dict(trained.state_dict())
        assert torch.equal(trained(**batch), rebuilt(**batch))
    for text in TEXTS:
        assert rebuilt.tokenizer(text, return_offsets_mapping=True) == trained.tokenizer(
            text, return_offsets_mapping=True)


@pytest.mark.parametrize("name, freeze", [("bert_wwm", "none"), ("ernie", "embeddings"),
                                          ("albert_zh", "none"), ("albert_zh", "embeddings")])
def test_gradient_checkpointing_same_gradients(tmp_path, name, freeze):
    builder, model_type, _ = CASES[name]
    directory = ckpt(tmp_path, model_type, hidden_dropout_prob=0.0,
                     attention_probs_dropout_prob=0.0)
    grads, calls = [], []
    for flag in (False, True):
        encoder = builder(pretrained=str(directory), gradient_checkpointing=flag,
                          freeze=freeze).train()
        encoder_layers = encoder.model.encoder
        first = (encoder_layers.albert_layer_groups[0].albert_layers[0]
                 if model_type == "albert" else encoder_layers.layer[0]).attention
        count = []
        handle = first.register_forward_pre_hook(lambda *args: count.append(1))
        batch = encode_batch(encoder.tokenizer, TEXTS[:3])
        encoder(**batch).pow(2).mean().backward()
        grads.append([p.grad for p in encoder.parameters()])
        calls.append(len(count))
        handle.remove()
        pickle.loads(pickle.dumps(encoder))  # no unpicklable hooks left behind
    for a, b in zip(*grads):
        assert (a is None) == (b is None)
        assert a is None or torch.allclose(a, b, atol=1e-6)
    assert sum(g is not None for g in grads[1]) > 0
    assert calls[1] == 2 * calls[0]  # checkpointed layers run again in backward


@pytest.mark.parametrize("name", CASES)
def test_spec_and_example_kwargs_recipe(tmp_path, name):
    spec = registry.get("encoders", name)
    assert isinstance(spec, EncoderSpec) and spec is getattr(encoders, name) and spec.build is CASES[name][0]
    assert spec.description and not hasattr(spec.build, "example_kwargs")
    encoder = registry.build_encoder({"name": name, **spec.example_kwargs(tmp_path)})
    batch = encode_batch(encoder.tokenizer, TEXTS[:2])
    assert encoder(**batch).shape == (*batch["input_ids"].shape, encoder.hidden_size)


@pytest.mark.parametrize("name", ["bert_wwm", "albert_zh"])
def test_base_kwargs_recipe_is_base_size_without_weights(tmp_path, name):
    kwargs = base_kwargs(name, tmp_path)
    assert kwargs["weights"] is False and not (Path(kwargs["pretrained"]) / "model.safetensors").exists()
    encoder = registry.build_encoder({"name": name, **kwargs})
    assert encoder.hidden_size == 768 and len(encoder.tokenizer) == 21128 and encoder.max_length == 512
    with pytest.raises(ValueError, match="no recipe for encoder 'nezha'"):
        base_kwargs("nezha", tmp_path)


@pytest.mark.parametrize("name", CASES)
def test_input_embeddings_are_the_word_embeddings(tmp_path, name):
    builder, model_type, _ = CASES[name]
    encoder = builder(pretrained=str(ckpt(tmp_path, model_type)))
    (table,) = encoder.input_embeddings()
    assert table is encoder.model.embeddings.word_embeddings.weight
    assert table.shape[0] == encoder.model.config.vocab_size


MLM_REFERENCE = {"bert": BertForMaskedLM, "ernie": ErnieForMaskedLM, "albert": AlbertForMaskedLM}


@pytest.mark.parametrize("name", CASES)
def test_masked_lm_loads_the_checkpoint_head_and_round_trips(tmp_path, name):
    builder, model_type, _ = CASES[name]
    directory = ckpt(tmp_path, model_type, with_head=True)
    encoder = builder(pretrained=str(directory)).eval()
    mlm = encoder.masked_lm().eval()
    assert isinstance(mlm, MaskedLM) and mlm.head_keys_loaded > 0
    reference = MLM_REFERENCE[model_type].from_pretrained(str(directory)).eval()
    batch = encode_batch(encoder.tokenizer, TEXTS[:3])
    with torch.no_grad():
        logits = mlm(batch["input_ids"], batch["attention_mask"])  # (B, T, V)
        want = reference(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    assert logits.shape == (3, batch["input_ids"].shape[1], reference.config.vocab_size)
    assert (logits - want).abs().max().item() <= 1e-5  # encoder weights copied, hub head loaded
    out = tmp_path / "out"
    encoder.save_assets(str(out))
    mlm.save_pretrained(out)
    reloaded = builder(pretrained=str(out)).eval()  # loads strictly
    with torch.no_grad():
        assert torch.equal(reloaded(**batch), encoder(**batch))
        assert (reloaded.masked_lm().eval()(batch["input_ids"], batch["attention_mask"]) - logits).abs().max() <= 1e-5


@pytest.mark.parametrize("name", ["bert_wwm", "albert_zh"])
def test_masked_lm_of_a_bare_or_random_encoder_has_a_fresh_head(tmp_path, name):
    builder, model_type, _ = CASES[name]
    bare = builder(pretrained=str(ckpt(tmp_path, model_type, with_head=False)))
    mlm = bare.masked_lm()
    assert mlm.head_keys_loaded == 0
    base = mlm.model.base_model.state_dict()
    assert all(torch.equal(base[k], v) for k, v in bare.model.state_dict().items())
    assert builder(pretrained=str(ckpt(tmp_path / "r", model_type)), weights=False).masked_lm().head_keys_loaded == 0
