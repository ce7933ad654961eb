"""Exceptions the CLI turns into exit codes: :class:`InputError` is the user's (exit 2)."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from types import ModuleType


class InputError(Exception):
    """Bad input or usage: the message says which file, line and field, and what was expected.

    ``problems`` holds every problem found (``file:line: field: message`` items, the list the
    CLI prints) when the error comes from validating predictions or references.
    """

    def __init__(self, message: str = "", problems: Sequence[object] = ()) -> None:
        self.problems = tuple(problems)
        super().__init__(message or "\n".join(str(p) for p in self.problems))


class InputWarning(UserWarning):
    """A problem that does not stop scoring (e.g. ids missing from the predictions)."""


def require(module: str, purpose: str, extra: str = "data") -> ModuleType:
    """Import an optional dependency, or raise :class:`InputError` saying how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise InputError(f"{purpose} needs '{module}': pip install 'evoxtral-bench[{extra}]'") from err
