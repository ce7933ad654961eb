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


def type_name(value: object, *, dialect: str = "json") -> str:
    """How a message names a parsed value's type: JSON's words (``object``, ``array``, …) or,
    with ``dialect="yaml"``, YAML's (``a mapping``, ``a list``, …, with a hint for booleans)."""
    if dialect == "yaml":
        if isinstance(value, bool):
            return "a boolean (YAML reads yes/no/on/off/true/false as booleans; quote the text)"
        if isinstance(value, (int, float)):
            return "a number"
        return {type(None): "null", str: "a string", list: "a list", dict: "a mapping"}.get(type(value), type(value).__name__)
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(type(value), "number")


def shown(value: object, limit: int = 60) -> str:
    """``repr(value)`` for a message, cut to ``limit`` characters (never a whole huge value)."""
    text = repr(value) if not isinstance(value, str) or len(value) <= 4 * limit else repr(value[: 4 * limit])
    return text if len(text) <= limit else text[: limit - 1] + "…"


class InputWarning(UserWarning):
    """A problem that does not stop scoring (e.g. ids missing from the predictions)."""


def require(module: str, purpose: str, extra: str = "data") -> ModuleType:
    """Import an optional dependency, or raise :class:`InputError` saying how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise InputError(f"{purpose} needs '{module}': pip install 'evoxtral-bench[{extra}]'") from err
