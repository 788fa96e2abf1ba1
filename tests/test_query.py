"""The topic query language: what parses to what, and where errors point."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from daemon.topics.query import (
    And,
    Near,
    Not,
    Or,
    Phrase,
    QueryError,
    Term,
    is_caps,
    leaves,
    parse_query,
    positive,
)


def t(word: str, kind: str = "word", cs: bool = False, field: str | None = None) -> Term:
    return Term(word, kind, cs, field)


# -- what parses to what ------------------------------------------------------------------


def test_single_term() -> None:
    assert parse_query("Ukraina") == t("Ukraina")


def test_juxtaposition_is_and() -> None:
    assert parse_query("Ukraina Rusia") == And((t("Ukraina"), t("Rusia")))


def test_explicit_and_equals_juxtaposition() -> None:
    assert parse_query("Ukraina AND Rusia") == parse_query("Ukraina Rusia")


def test_or_chain() -> None:
    assert parse_query("Ukraina OR Kyiv OR Zelensky*") == Or(
        (t("Ukraina"), t("Kyiv"), t("Zelensky", "prefix"))
    )


def test_minus_and_not_are_negation() -> None:
    expected = And((t("Ukraina"), Not(t("Rusia"))))
    assert parse_query("Ukraina -Rusia") == expected
    assert parse_query("Ukraina NOT Rusia") == expected
    assert parse_query("Ukraina AND NOT Rusia") == expected


def test_parentheses_group() -> None:
    assert parse_query("(banjir OR longsor) Jakarta") == And(
        (Or((t("banjir"), t("longsor"))), t("Jakarta"))
    )


def test_nested_groups_and_negated_group() -> None:
    node = parse_query("korupsi -(latihan OR simulasi)")
    assert node == And((t("korupsi"), Not(Or((t("latihan"), t("simulasi"))))))


def test_all_caps_words_are_case_sensitive() -> None:
    assert parse_query("NATO") == t("NATO", cs=True)
    assert parse_query("KPK") == t("KPK", cs=True)
    assert parse_query("AS") == t("AS", cs=True)


@pytest.mark.parametrize("word", ["A", "G20", "Nato", "nato", "iPhone"])
def test_single_capital_or_mixed_case_is_not_case_sensitive(word: str) -> None:
    node = parse_query(word)
    assert isinstance(node, Term) and not node.case_sensitive


def test_is_caps_needs_two_letters() -> None:
    assert is_caps("AS") and is_caps("G20S") and is_caps("PT-KAI")
    assert not is_caps("A") and not is_caps("G20") and not is_caps("2025")


def test_phrase() -> None:
    assert parse_query('"Vladimir Putin"') == Phrase(("Vladimir", "Putin"), (False, False))


def test_phrase_with_caps_word_is_case_sensitive_per_word() -> None:
    assert parse_query('"Presiden AS"') == Phrase(("Presiden", "AS"), (False, True))


def test_phrase_with_prefix_word() -> None:
    assert parse_query('"Volodymyr Zelensky*"') == Phrase(
        ("Volodymyr", "Zelensky*"), (False, False)
    )


def test_one_word_phrase_is_a_term() -> None:
    assert parse_query('"Ukraina"') == t("Ukraina")


def test_hyphenated_word_is_a_phrase_of_its_parts() -> None:
    assert parse_query("NATO-Rusia") == Phrase(("NATO", "Rusia"), (True, False))


def test_word_split_by_apostrophe_is_a_phrase() -> None:
    assert parse_query("Jum'at") == Phrase(("Jum", "at"), (False, False))


def test_prefix_and_family() -> None:
    assert parse_query("Zelensky*") == t("Zelensky", "prefix")
    assert parse_query("serang~") == t("serang", "family")


def test_labels_are_as_written() -> None:
    assert t("Zelensky", "prefix").label == "Zelensky*"
    assert t("serang", "family").label == "serang~"
    assert Phrase(("Vladimir", "Putin"), (False, False)).label == "Vladimir Putin"


def test_near() -> None:
    assert parse_query("Putin NEAR/5 Zelensky*") == Near(t("Putin"), t("Zelensky", "prefix"), 5)


def test_near_binds_tighter_than_and() -> None:
    node = parse_query('Rusia "gencatan senjata" NEAR/3 Ukraina')
    assert node == And(
        (t("Rusia"), Near(Phrase(("gencatan", "senjata"), (False, False)), t("Ukraina"), 3))
    )


def test_field_on_term_phrase_and_group() -> None:
    assert parse_query("title:Ukraina") == t("Ukraina", field="title")
    assert parse_query('text:"gencatan senjata"') == Phrase(
        ("gencatan", "senjata"), (False, False), "text"
    )
    assert parse_query("summary:(banjir OR longsor)") == Or(
        (t("banjir", field="summary"), t("longsor", field="summary"))
    )


def test_field_reaches_into_negations() -> None:
    assert parse_query("title:(banjir -latihan)") == And(
        (t("banjir", field="title"), Not(t("latihan", field="title")))
    )


def test_field_on_near_operand_applies_to_the_near() -> None:
    assert parse_query("title:Putin NEAR/3 Biden") == Near(t("Putin"), t("Biden"), 3, "title")
    # An OR-group operand distributes into one NEAR per pair (the dashboard's example query).
    assert parse_query("(Prabowo OR Gibran) NEAR/5 Xi") == Or(
        (Near(t("Prabowo"), t("Xi"), 5), Near(t("Gibran"), t("Xi"), 5))
    )
    assert parse_query('title:(a OR "b c") NEAR/2 (d OR e)') == Or(
        tuple(
            Near(x, y, 2, "title")
            for x in (t("a"), Phrase(("b", "c"), (False, False)))
            for y in (t("d"), t("e"))
        )
    )
    assert parse_query("title:(Putin NEAR/3 Biden)") == Near(t("Putin"), t("Biden"), 3, "title")


def test_lowercase_operators_are_errors_not_words() -> None:
    """They were words: "hitam or putih" asked for the word "or" too, and a topic that can
    never match raises no alert and no error (test_operators_other_search_boxes_use...)."""
    assert err("hitam or putih").position == 6
    assert parse_query('hitam "or" putih') == And((t("hitam"), t("or"), t("putih")))


def test_positive_definition_for_nested_cases() -> None:
    assert positive(parse_query("a -b"))
    assert positive(parse_query("a (b OR c)"))
    assert positive(parse_query("a (b OR -c)"))  # the AND has a positive child
    assert not positive(Not(t("a")))
    assert not positive(Or((t("a"), Not(t("b")))))
    assert not positive(And((Not(t("a")), Not(t("b")))))


def test_leaves_lists_negated_ones_too() -> None:
    assert [leaf for leaf in leaves(parse_query("a -(b OR c)"))] == [t("a"), t("b"), t("c")]


# -- errors: each names the right position ------------------------------------------------


def err(query: str) -> QueryError:
    with pytest.raises(QueryError) as info:
        parse_query(query)
    return info.value


def test_error_str_has_position_and_message() -> None:
    e = err("Ukraina OR (NATO")
    assert e.position == 11
    assert str(e) == f"at position 11: {e.message}"
    assert "')'" in e.message
    assert e.pointer("Ukraina OR (NATO").splitlines()[1] == " " * 11 + "^"


def test_unclosed_paren_points_at_it() -> None:
    assert err("(banjir OR (longsor Jakarta)").position == 0
    assert err("banjir (longsor").position == 7


def test_stray_closing_paren_points_at_it() -> None:
    assert err("banjir) longsor").position == 6
    assert err("(a) b)").position == 5


def test_empty_parentheses() -> None:
    assert err("a ()").position == 3


@pytest.mark.parametrize(
    ("query", "pos"),
    [
        ("a AND b OR c", 8),
        ("a OR b AND c", 7),
        ("a b OR c", 4),  # juxtaposition is AND
        ("a OR b c", 7),
        ("(a OR b) AND c OR d", 15),
    ],
)
def test_mixing_and_or_without_parentheses(query: str, pos: int) -> None:
    e = err(query)
    assert e.position == pos
    assert "parentheses" in e.message


def test_mixing_is_fine_with_parentheses() -> None:
    assert isinstance(parse_query("(a AND b) OR c"), Or)
    assert isinstance(parse_query("a (b OR c)"), And)


@pytest.mark.parametrize(
    ("query", "pos"),
    [("NOT Rusia", 0), ("-Rusia", 0), ("-a -b", 0), ("  NOT (a OR b)", 2), ("-a NOT b", 0)],
)
def test_only_negations(query: str, pos: int) -> None:
    e = err(query)
    assert e.position == pos
    assert "positive" in e.message


def test_or_branch_of_only_negation() -> None:
    e = err("Ukraina OR -Rusia")
    assert e.position == 11
    assert "OR" in e.message


def test_double_negation_is_not_positive() -> None:
    assert err("NOT NOT Ukraina").position == 0


@pytest.mark.parametrize("query", ["", "   ", "\n\t"])
def test_empty_query(query: str) -> None:
    e = err(query)
    assert e.position == 0 and "empty" in e.message


@pytest.mark.parametrize(
    ("query", "pos"),
    [("Ukraina AND", 8), ("Ukraina OR", 8), ("AND Ukraina", 0), ("OR Ukraina", 0)],
)
def test_dangling_operator(query: str, pos: int) -> None:
    assert err(query).position == pos


def test_dangling_not() -> None:
    assert err("Ukraina NOT").position == 8
    assert err("Ukraina -").position == 8
    assert err("Ukraina - Rusia").position == 8
    assert err("a AND OR b").position == 2


@pytest.mark.parametrize(
    ("query", "pos"),
    [
        ("Putin NEAR/x Biden", 6),
        ("Putin NEAR/0 Biden", 6),
        ("Putin NEAR/99999 Biden", 6),
        ("Putin NEAR Biden", 6),
        ("Putin NEAR/-3 Biden", 6),
        ("Putin NEAR/3", 12),
        ("(a b) NEAR/3 c", 0),  # an AND-group has no one place
        ("a NEAR/3 (b c)", 9),
        ("(a OR -b) NEAR/3 c", 0),
        ("a NEAR/3 -b", 9),
        ("a NEAR/3 b NEAR/3 c", 11),
        ("NEAR/3 b", 0),
        ("title:a NEAR/3 summary:b", 15),
    ],
)
def test_bad_near(query: str, pos: int) -> None:
    assert err(query).position == pos


def test_unterminated_quote_points_at_it() -> None:
    assert err('Putin "Vladimir Putin').position == 6


def test_empty_phrase() -> None:
    assert err('a ""').position == 2
    assert err('a "--"').position == 2


def test_unknown_field() -> None:
    e = err("Ukraina titel:Rusia")
    assert e.position == 8 and "titel" in e.message


def test_field_needs_an_operand() -> None:
    assert err("title: Ukraina").position == 0
    assert err("title:").position == 0
    assert err("title:-Rusia").position == 6


def test_conflicting_fields() -> None:
    assert err("title:(banjir summary:longsor)").position == 14


def test_short_prefix_and_bad_family() -> None:
    assert err("a b*").position == 2
    assert err("x serang-tembak~").position == 2
    assert err("x ab~").position == 2
    assert err('"serang~ kota"').position == 0


def test_star_inside_word() -> None:
    assert err("Ze*lensky").position == 0


def test_punctuation_only_term() -> None:
    assert err("Ukraina ,,,").position == 8


# -- queries as people type them: phones and word processors, Google habits ---------------
# (a query pasted from a chat or a document comes with typographic quotes and dashes;
# "or" in lower case and "|" are how other search boxes say OR)


@pytest.mark.parametrize(
    "q", ["\u201charga emas\u201d", "\u201eharga emas\u201c", "\u00abharga emas\u00bb"]
)
def test_typographic_quotes_make_a_phrase(q: str) -> None:
    assert parse_query(q) == parse_query('"harga emas"')


@pytest.mark.parametrize("dash", ["\u2013", "\u2014", "\u2212"])
def test_a_dash_that_autocorrect_made_still_excludes(dash: str) -> None:
    assert parse_query(f"Prabowo {dash}Gibran") == parse_query("Prabowo -Gibran")
    assert parse_query(f"Jakarta{dash}Bandung") == parse_query("Jakarta-Bandung")  # inside a word


@pytest.mark.parametrize(
    ("q", "pos", "hint"),
    [
        ("ukraina or rusia", 8, "OR"),
        ("banjir and longsor", 7, "AND"),
        ("korupsi not KPK", 8, "NOT"),
        ("Ukraina|Rusia", 7, "OR"),
        ("Ukraina || Rusia", 8, "OR"),
        ("banjir && longsor", 7, "AND"),
    ],
)
def test_operators_other_search_boxes_use_are_errors_that_say_how(
    q: str, pos: int, hint: str
) -> None:
    """Before, "ukraina or rusia" asked for the word "or" as well, and a topic that can
    never match raises no alert and no error; "Ukraina|Rusia" was a two-word phrase."""
    e = err(q)
    assert e.position == pos and hint in str(e), str(e)


def test_the_words_themselves_can_still_be_asked_for() -> None:
    assert parse_query('"Procter and Gamble"') == Phrase(
        ("Procter", "and", "Gamble"), (False, False, False)
    )
    assert parse_query('"or"') == t("or")


def test_query_error_is_a_value_error() -> None:
    assert issubclass(QueryError, ValueError)


def test_hostile_query_text() -> None:
    # A long query and control characters neither crash nor hang the parser.
    long_query = " OR ".join(f"kata{i}" for i in range(5000))
    assert len(parse_query(long_query).children) == 5000  # type: ignore[union-attr]
    assert parse_query("Ukr\u00adaina") == t("Ukraina")
    assert err("(" * 10 + "a").position == 9


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    assert err("(" * 5000 + "a" + ")" * 5000).position == 50
    assert err("-" * 5000 + "a").position == 50
    assert err("NOT " * 100 + "a").position == 200
    assert parse_query("(" * 20 + "a" + ")" * 20) == t("a")


# ---------------------------------------------------------------- issue 24


@pytest.mark.parametrize(
    "query",
    [
        "Ukraina NEAR/" + "9" * 5000 + " Rusia",  # int() of 5,000 digits raised ValueError
        "Ukraina NEAR/\u0663 Rusia",  # an Arabic-Indic digit is no distance
        '"' + " ".join(["banjir"] * 1000) + '"',  # a phrase whose match cost 7 s and 2 GB
        " ".join(f'"kata{i} lain{i}"' for i in range(200)),
    ],
)
def test_costly_or_malformed_queries_are_query_errors(query: str) -> None:
    with pytest.raises(QueryError):
        parse_query(query)


def test_a_query_error_is_a_config_error_through_the_cli(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        "feeds: [{url: 'https://kabar.example/rss'}]\n"
        f"topics: [{{name: Dekat, query: 'Ukraina NEAR/{'7' * 5000} Rusia'}}]\n"
    )
    r = subprocess.run([sys.executable, "-m", "daemon", "--config", str(cfg), "check"],
                       capture_output=True, text=True, timeout=60)  # fmt: skip
    assert r.returncode == 2, r.stderr
    assert "topics[0].query" in r.stderr and "Traceback" not in r.stderr
