"""zhnlp_ner: Chinese NER heads (crf, softmax, global_pointer) and dataset readers (CoNLL char
files, CLUENER JSON lines) for zhnlp. Specs and builders: ``zhnlp_ner.heads`` and
``zhnlp_ner.readers``."""
