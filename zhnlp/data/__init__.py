"""Reading, tokenising, batching."""
from zhnlp.data.datamodule import DataModule

__all__ = ["DataModule"]
