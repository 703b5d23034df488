"""``python -m zhnlp`` == the ``zhnlp`` command."""
from zhnlp.cli import main

main()
