"""zhnlp-plugin-example: a third-party zhnlp plugin, the worked example of docs/plugins.md.

Registered through entry points (see pyproject.toml), each naming a spec object:
    zhnlp.encoders  hashed_char   -> encoder.hashed_char   (EncoderSpec)
    zhnlp.heads     mlp_tagger    -> head.mlp_tagger       (HeadSpec)
    zhnlp.datasets  tsv_entities  -> reader.tsv_entities   (DatasetSpec)
    zhnlp.conf      zhnlp_plugin_example -> the config groups in conf/
It imports only the zhnlp core, never another plugin.
"""
