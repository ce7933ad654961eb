"""Exceptions the CLI turns into exit codes: :class:`InputError` is the user's (exit 2)."""

from __future__ import annotations

import importlib
from types import ModuleType


class InputError(Exception):
    """Bad input or usage: the message says which file, line and field, and what was expected."""


def require(module: str, purpose: str, extra: str = "data") -> ModuleType:
    """Import an optional dependency, or raise :class:`InputError` saying how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise InputError(f"{purpose} needs '{module}': pip install 'evoxtral-bench[{extra}]'") from err
