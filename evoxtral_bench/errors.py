"""Exceptions the CLI turns into exit codes: :class:`InputError` is the user's (exit 2)."""

from __future__ import annotations


class InputError(Exception):
    """Bad input or usage: the message says which file, line and field, and what was expected."""
