"""wordstack: the command line over :mod:`corpus_tools` and :mod:`models`."""

__version__ = "0.1.0"
