"""The site's templates: Jinja2 with autoescaping, so escaping is the default and a page can
only insert raw HTML that the code marked safe on purpose."""

from __future__ import annotations

import re

from markupsafe import Markup

from evoxtral_bench.leaderboard import site
from evoxtral_bench.leaderboard.samples import diff_html

PROBE = "</script><script>window.__pwned=1</script>\"'&"


def test_templates_escape_by_default_and_refuse_unknown_names():
    env = site._environment()
    assert env.from_string("<p title='{{ x }}'>{{ x }}</p>").render(x=PROBE) == (
        "<p title='&lt;/script&gt;&lt;script&gt;window.__pwned=1&lt;/script&gt;&#34;&#39;&amp;'>"
        "&lt;/script&gt;&lt;script&gt;window.__pwned=1&lt;/script&gt;&#34;&#39;&amp;</p>"
    )
    try:
        env.from_string("{{ misspelt }}").render()
    except Exception as error:  # StrictUndefined: an error, never an empty string
        assert "misspelt" in str(error)
    else:
        raise AssertionError("an undefined name rendered")


def test_only_literals_are_marked_safe_in_the_templates():
    """``|safe`` may follow a string literal only; no template disables autoescaping."""
    for path in sorted(site.TEMPLATES.glob("*.html")):
        text = path.read_text(encoding="utf-8")
        assert "autoescape" not in text, path
        for match in re.finditer(r"\|\s*safe\b", text):
            before = text[: match.start()].rstrip()
            assert before.endswith(('"', "'")), f"{path.name}: |safe on a non-literal near {text[max(0, match.start() - 60):match.end()]!r}"


def test_markup_helpers_escape_what_they_wrap():
    notes = site.paragraphs(f"`{PROBE}` and {PROBE}")
    assert isinstance(notes, Markup) and "<script>" not in notes and notes.count("<code>") == 1
    reference, prediction = diff_html(f"a {PROBE}", f"[{PROBE}] b")
    assert isinstance(reference, Markup) and isinstance(prediction, Markup)
    assert "<script>" not in reference + prediction and "&lt;script&gt;" in reference
