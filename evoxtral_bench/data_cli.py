"""``evoxtral-bench data …``: corpus validation, statistics, synthesis, export, legacy import."""

from __future__ import annotations

import argparse


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register the ``data`` command group on the main parser's subcommands."""
