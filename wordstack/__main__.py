"""``python -m wordstack``: the same as the ``wordstack`` command."""
from wordstack.cli import main

main()
