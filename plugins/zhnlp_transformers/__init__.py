"""zhnlp plugin: pretrained transformer encoders (bert_wwm, roberta_wwm, ernie, albert_zh)."""
