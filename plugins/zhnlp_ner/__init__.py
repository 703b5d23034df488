"""zhnlp_ner: Chinese NER heads (crf, softmax, global_pointer) and dataset readers (CoNLL char
files, CLUENER JSON lines) for zhnlp. Builders: ``zhnlp_ner.heads`` and ``zhnlp_ner.readers``."""
