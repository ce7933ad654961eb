"""The ``evoxtral-bench`` command tree (one argparse tree; every sub-command sets its handler)."""

from evoxtral_bench.cli.app import main, run

__all__ = ["main", "run"]
