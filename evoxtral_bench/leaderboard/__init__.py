"""The leaderboard: ``submissions/<slug>/`` entries re-scored into a static site (docs/spec.md §8).

``meta`` validates meta.yaml and ``entries`` the submissions folder; ``build`` scores them
(kept in a ``cache``), ranks them (``ranking``, ``standings``) and writes ``downloads``, the
``site`` pages (with ``samples``) and the ``plots``; ``oracle`` writes baseline predictions;
``scaffold`` starts a new entry and ``summary`` shows a change's entries beside the current ones;
``cli`` is the ``evoxtral-bench leaderboard`` command group.
"""
