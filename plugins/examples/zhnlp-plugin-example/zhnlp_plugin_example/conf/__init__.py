"""The config groups of zhnlp-plugin-example (``encoder/``, ``head/``, ``data/``, ``experiment/``),
found by Hydra through the ``zhnlp.conf`` entry point."""
