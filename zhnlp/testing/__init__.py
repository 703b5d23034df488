"""Contract tests every installed zhnlp plugin must pass: ``pytest --pyargs zhnlp.testing``."""
