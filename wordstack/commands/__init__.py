"""The commands, one module per area; each module lists its commands in ``COMMANDS``.

- :mod:`.words`: ingest, train, similar (and its interactive mode), demo
- :mod:`.vectors`: analogy, odd-one-out, evaluate, map, clusters, export, import
- :mod:`.seq`: the ``wordstack seq`` group (sequence models)
- :mod:`.ff`: the ``wordstack ff`` group (feed-forward toy networks)

A command module imports click, the ``wordstack._*`` helpers and (inside its
functions) the public API of ``corpus_tools`` or ``models``; never another
command module.
"""
