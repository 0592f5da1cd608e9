"""The corpus shipped with wordstack, installed as the package ``corpus_tools.shipped``.

This folder is mapped to ``corpus_tools.shipped`` in ``setup.cfg`` so that the texts
are found after a plain ``pip install .`` as well as an editable install; use
:func:`corpus_tools.shipped_corpus` rather than a path relative to the checkout.
"""
