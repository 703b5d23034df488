"""Public builders of the pretrained transformer encoders and their ``EncoderSpec`` registrations
(``bert_wwm``, ``roberta_wwm``, ``ernie``, ``albert_zh``, and ``hf`` for any local checkpoint through
``AutoModel``/``AutoTokenizer``: the ``zhnlp.encoders`` entry points).

Each builder returns a ``TransformerEncoder``; they differ only by model class and default
checkpoint. Each spec's ``example_kwargs(tmp_dir)`` writes a tiny random checkpoint
(:func:`zhnlp_transformers.tiny.example_kwargs`); base-size random models for benchmarks come
from :func:`zhnlp_transformers.tiny.base_kwargs`.
"""
from __future__ import annotations

from functools import partial

from zhnlp.types import EncoderSpec
from zhnlp_transformers import tiny
from zhnlp_transformers.encoder import TransformerEncoder, build_transformer
from zhnlp_transformers.hf import build_hf


def build_bert_wwm(pretrained: str = "hfl/chinese-bert-wwm-ext", weights: bool = True,
                   local_files_only: bool = True, freeze: str = "none", freeze_layers: int = 0,
                   gradient_checkpointing: bool = False) -> TransformerEncoder:
    """Chinese BERT with whole-word masking: BertModel + BertTokenizer.

    Args:
        pretrained: a local directory with config.json, vocab.txt and model.safetensors or
            pytorch_model.bin (old uploads with ``bert.``-prefixed keys and LayerNorm gamma/beta
            load too), or a hub id already in the local Hugging Face cache.
        weights: False builds the architecture from config.json with random weights (when a
            trained zhnlp checkpoint overwrites them); no weights file is needed then.
        local_files_only: True never touches the network; False downloads an uncached hub id.
        freeze: "none", "all" or "embeddings".
        freeze_layers: also freeze the embeddings and the first k transformer layers.
        gradient_checkpointing: recompute activations in backward to save memory.

    Returns:
        TransformerEncoder: ``forward(input_ids, attention_mask, token_type_ids=None)`` gives
        (B, T, H); has ``hidden_size``, ``tokenizer`` (BertTokenizer), ``max_length``,
        ``num_special_tokens`` (2), ``layer_groups()``, ``save_assets()``,
        ``input_embeddings()`` and ``masked_lm()``.
    """
    return build_transformer("bert_wwm", "bert", pretrained, weights=weights,
                             local_files_only=local_files_only, freeze=freeze,
                             freeze_layers=freeze_layers,
                             gradient_checkpointing=gradient_checkpointing)


def build_roberta_wwm(pretrained: str = "hfl/chinese-roberta-wwm-ext", weights: bool = True,
                      local_files_only: bool = True, freeze: str = "none", freeze_layers: int = 0,
                      gradient_checkpointing: bool = False) -> TransformerEncoder:
    """Chinese RoBERTa-wwm-ext. It is BERT architecture: BertModel + BertTokenizer, never Roberta*.

    Args:
        pretrained: a local directory with config.json, vocab.txt and model.safetensors or
            pytorch_model.bin (old uploads with ``bert.``-prefixed keys and LayerNorm gamma/beta
            load too), or a hub id already in the local Hugging Face cache.
        weights: False builds the architecture from config.json with random weights (when a
            trained zhnlp checkpoint overwrites them); no weights file is needed then.
        local_files_only: True never touches the network; False downloads an uncached hub id.
        freeze: "none", "all" or "embeddings".
        freeze_layers: also freeze the embeddings and the first k transformer layers.
        gradient_checkpointing: recompute activations in backward to save memory.

    Returns:
        TransformerEncoder: ``forward(input_ids, attention_mask, token_type_ids=None)`` gives
        (B, T, H); has ``hidden_size``, ``tokenizer`` (BertTokenizer), ``max_length``,
        ``num_special_tokens`` (2), ``layer_groups()``, ``save_assets()``,
        ``input_embeddings()`` and ``masked_lm()``.
    """
    return build_transformer("roberta_wwm", "bert", pretrained, weights=weights,
                             local_files_only=local_files_only, freeze=freeze,
                             freeze_layers=freeze_layers,
                             gradient_checkpointing=gradient_checkpointing)


def build_ernie(pretrained: str = "nghuyong/ernie-3.0-base-zh", weights: bool = True,
                local_files_only: bool = True, freeze: str = "none", freeze_layers: int = 0,
                gradient_checkpointing: bool = False) -> TransformerEncoder:
    """ERNIE 3.0: ErnieModel + BertTokenizer. Pass ``task_type_ids`` (B, T) to forward to use
    the task-type embeddings.

    Args:
        pretrained: a local directory with config.json, vocab.txt and model.safetensors or
            pytorch_model.bin (old uploads with ``ernie.``-prefixed keys and LayerNorm gamma/beta
            load too), or a hub id already in the local Hugging Face cache.
        weights: False builds the architecture from config.json with random weights (when a
            trained zhnlp checkpoint overwrites them); no weights file is needed then.
        local_files_only: True never touches the network; False downloads an uncached hub id.
        freeze: "none", "all" or "embeddings".
        freeze_layers: also freeze the embeddings and the first k transformer layers.
        gradient_checkpointing: recompute activations in backward to save memory.

    Returns:
        TransformerEncoder: ``forward(input_ids, attention_mask, token_type_ids=None)`` gives
        (B, T, H); has ``hidden_size``, ``tokenizer`` (BertTokenizer), ``max_length``,
        ``num_special_tokens`` (2), ``layer_groups()``, ``save_assets()``,
        ``input_embeddings()`` and ``masked_lm()``.
    """
    return build_transformer("ernie", "ernie", pretrained, weights=weights,
                             local_files_only=local_files_only, freeze=freeze,
                             freeze_layers=freeze_layers,
                             gradient_checkpointing=gradient_checkpointing)


def build_albert_zh(pretrained: str = "voidful/albert_chinese_base", weights: bool = True,
                    local_files_only: bool = True, freeze: str = "none", freeze_layers: int = 0,
                    gradient_checkpointing: bool = False) -> TransformerEncoder:
    """ALBERT-zh: AlbertModel + BertTokenizer on vocab.txt (AlbertTokenizer would silently give
    wrong ids on these checkpoints).

    Args:
        pretrained: a local directory with config.json, vocab.txt and model.safetensors or
            pytorch_model.bin (old uploads with ``albert.``-prefixed keys and LayerNorm gamma/beta
            load too), or a hub id already in the local Hugging Face cache.
        weights: False builds the architecture from config.json with random weights (when a
            trained zhnlp checkpoint overwrites them); no weights file is needed then.
        local_files_only: True never touches the network; False downloads an uncached hub id.
        freeze: "none", "all" or "embeddings".
        freeze_layers: also freeze the embeddings and the first k transformer layers.
        gradient_checkpointing: recompute activations in backward to save memory.

    Returns:
        TransformerEncoder: ``forward(input_ids, attention_mask, token_type_ids=None)`` gives
        (B, T, H); has ``hidden_size``, ``tokenizer`` (BertTokenizer), ``max_length``,
        ``num_special_tokens`` (2), ``layer_groups()``, ``save_assets()``,
        ``input_embeddings()`` and ``masked_lm()``.
    """
    return build_transformer("albert_zh", "albert", pretrained, weights=weights,
                             local_files_only=local_files_only, freeze=freeze,
                             freeze_layers=freeze_layers,
                             gradient_checkpointing=gradient_checkpointing)


def _spec(build, name: str, what: str) -> EncoderSpec:
    return EncoderSpec(build=build, example_kwargs=partial(tiny.example_kwargs, name), description=what)


bert_wwm = _spec(build_bert_wwm, "bert_wwm", "Chinese BERT-wwm (BertModel; a hub-layout checkpoint directory)")
roberta_wwm = _spec(build_roberta_wwm, "roberta_wwm", "Chinese RoBERTa-wwm-ext (BERT architecture; a checkpoint directory)")
ernie = _spec(build_ernie, "ernie", "ERNIE 3.0 (ErnieModel; a hub-layout checkpoint directory)")
albert_zh = _spec(build_albert_zh, "albert_zh", "ALBERT-zh (AlbertModel + BertTokenizer; a checkpoint directory)")
hf = EncoderSpec(build=build_hf, example_kwargs=tiny.hf_example_kwargs,
                 description="any local transformers checkpoint (AutoModel + fast AutoTokenizer: WordPiece, SentencePiece, BPE)")
