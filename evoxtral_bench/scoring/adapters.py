"""Adapters: other systems' event markup -> ``[label]`` tags (docs/spec.md §1).

An adapter is always chosen explicitly. Its table in ``scoring/tags.toml`` has exact mappings
(``map``), lossy ones used only with ``lenient=True``, and markers that carry no event
(``drop``). A marker that is none of these becomes an out-of-vocabulary tag under its own
name, so a system is never silently credited or excused for an event we cannot map.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from evoxtral_bench.errors import InputError
from evoxtral_bench.scoring.tags import TagTable, tag_table

# Marker syntax per adapter; group 1 is the label.
_PATTERNS: dict[str, re.Pattern[str]] = {
    "sensevoice": re.compile(r"<\|([^|<>\n]{1,40})\|>"),
    "parenthesized": re.compile(r"\(([^()\n]{1,40})\)"),
    "angle": re.compile(r"<([A-Za-z][A-Za-z _-]{0,39})>"),
}


def names() -> list[str]:
    return sorted(_PATTERNS)


def get(name: str, *, lenient: bool = False, table: TagTable | None = None) -> Callable[[str], str]:
    """The adapter ``name`` as a text -> tagged-text function; :class:`InputError` if unknown."""
    table = table or tag_table()
    if name not in _PATTERNS or name not in table.adapters:
        raise InputError(f"unknown adapter {name!r}; choose one of {', '.join(names())}")
    spec = table.adapters[name]
    exact = {k.lower(): v for k, v in spec.get("map", {}).items()}
    lossy = {k.lower(): v for k, v in spec.get("lenient", {}).items()}
    drop = {k.lower() for k in spec.get("drop", [])}
    pattern = _PATTERNS[name]
    only_known = name == "parenthesized"  # ordinary parentheses in text must stay text

    def replace(m: re.Match[str]) -> str:
        key = m.group(1).strip().lower()
        if key in drop:
            return " "
        if key in exact:
            return f" [{exact[key]}] "
        if key in lossy:
            return f" [{lossy[key] if lenient else key}] "
        canonical = table.canonicalize(key)
        if table.is_canonical(canonical):
            return f" [{canonical}] "
        return m.group(0) if only_known else f" [{key}] "

    return lambda text: pattern.sub(replace, text)
