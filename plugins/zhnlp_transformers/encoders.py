"""Public builders of the pretrained transformer encoders (entry points in ``zhnlp.encoders``).

Each builder returns a ``TransformerEncoder``; they differ only by model class and default
checkpoint. Each carries two recipes:
    example_kwargs(tmp_dir)  kwargs for a tiny random checkpoint (shared contract tests)
    base_kwargs(tmp_dir)     kwargs for a base-size random model (benchmarks/encoder_forward.py)
"""
from __future__ import annotations

from pathlib import Path

from zhnlp_transformers.encoder import TransformerEncoder, build_transformer
from zhnlp_transformers.tiny import BASE, synthetic_vocab, write_checkpoint


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
        ``layer_groups()`` and ``save_assets()``.
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
        ``layer_groups()`` and ``save_assets()``.
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
        ``layer_groups()`` and ``save_assets()``.
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
        ``layer_groups()`` and ``save_assets()``.
    """
    return build_transformer("albert_zh", "albert", pretrained, weights=weights,
                             local_files_only=local_files_only, freeze=freeze,
                             freeze_layers=freeze_layers,
                             gradient_checkpointing=gradient_checkpointing)


def _recipes(builder, model_type: str, name: str) -> None:
    def example_kwargs(tmp_dir) -> dict:
        directory = write_checkpoint(Path(tmp_dir) / f"tiny-{name}", model_type)
        return {"pretrained": str(directory)}

    def base_kwargs(tmp_dir) -> dict:
        size = dict(BASE)
        directory = write_checkpoint(Path(tmp_dir) / f"base-{name}", model_type,
                                     synthetic_vocab(21128), size=size, weights=False)
        return {"pretrained": str(directory), "weights": False}

    builder.example_kwargs = example_kwargs
    builder.base_kwargs = base_kwargs


_recipes(build_bert_wwm, "bert", "bert_wwm")
_recipes(build_roberta_wwm, "bert", "roberta_wwm")
_recipes(build_ernie, "ernie", "ernie")
_recipes(build_albert_zh, "albert", "albert_zh")
