from evoxtral_bench.scoring import adapters
from evoxtral_bench.scoring.tags import bracket_problems, emphasis_tokens, parse, tag_table


def test_table_has_the_17_canonical_tags_and_aliases_map_onto_them():
    table = tag_table()
    assert len(table.canonical) == 17
    assert {"sighs", "clears throat", "scared", "pause"} <= set(table.canonical)
    assert all(target in table.canonical for target in table.aliases.values())


def test_canonicalization_nfkc_case_space_and_alias():
    table = tag_table()
    assert table.canonicalize("  Clearing   THROAT ") == "clears throat"
    assert table.canonicalize("ＬＡＵＧＨＩＮＧ") == "laughs"  # full-width letters, NFKC
    assert table.canonicalize("long pause") == "pause"
    assert table.canonicalize("Laughs Nervously") == "laughs nervously"  # OOV kept under its name


def test_parse_splits_chunks_and_tags_with_positions():
    t = parse("[sighs] I NEVER [laughing] said [Foo] that")
    assert t.chunks == ("", " I NEVER ", " said ", " that")
    assert [(x.label, x.oov, x.position) for x in t.tags] == [("sighs", False, 1), ("laughs", False, 2), ("foo", True, 3)]
    assert t.text.split() == ["I", "NEVER", "said", "that"]


def test_stray_brackets_are_text_for_the_parser_but_problems_for_the_validator():
    t = parse("a ] b [ c")
    assert t.tags == () and t.text == "a ] b [ c"
    assert bracket_problems("a ] b") == ["']' at character 3 closes no tag"]
    assert bracket_problems("[ok] fine [also ok]") == []
    assert "nested" in bracket_problems("[a [b]]")[0]


def test_emphasis_words_need_two_uppercase_letters():
    assert emphasis_tokens("I NEVER said DON'T, A OK? x-RAY WELL-KNOWN") == ["NEVER", "DON'T,", "OK?", "WELL-KNOWN"]


def test_adapters_strict_and_lenient():
    sv = adapters.get("sensevoice")
    assert sv("<|en|><|NEUTRAL|><|Speech|>hello <|Laughter|> there<|HAPPY|>") == "   hello  [laughs]  there [happy] "
    assert adapters.get("sensevoice", lenient=True)("<|HAPPY|>yes") == " [excited] yes"
    par = adapters.get("parenthesized")
    assert par("(laughter) well (which I hated) (sighs)") == " [laughs]  well (which I hated)  [sighs] "
    assert par("(cough) ok") == " [cough]  ok"
    assert adapters.get("parenthesized", lenient=True)("(cough) ok") == " [clears throat]  ok"
    ang = adapters.get("angle")
    assert ang("<laugh> no <yawn>") == " [laughs]  no  [yawn] "


def test_format_characters_in_labels_are_stripped():
    from evoxtral_bench.scoring.tags import parse

    for hidden in ("si\u200dghs", "\u202esighs", "sig\u2066hs", "\ufeffsighs"):
        (tag,) = parse(f"ok [{hidden}] fine").tags
        assert tag.label == "sighs" and not tag.oov
