"""The corpus: scripts, splits, card, statistics, the paper's split import, export, audio synthesis."""
