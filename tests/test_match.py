"""The one-pass topic matcher: the issue's traps, fields, snippets, families, hostile text."""

from __future__ import annotations

import random
import re
import time

import pytest

from daemon.text import normalize, strip_control
from daemon.topics.match import (
    SNIPPET_RADIUS,
    FieldView,
    Matcher,
    TopicErrors,
    TopicMatch,
    TopicSpec,
    prepare,
    snippet,
    spaced,
    tokenize,
    word_tokens,
)
from daemon.topics.query import WORD_RE, QueryError, parse_query
from daemon.topics.wordfamily import word_family


def matcher(*queries: str) -> Matcher:
    return Matcher.compile([TopicSpec(f"t{i}", q) for i, q in enumerate(queries)])


def hits(query: str, title: str, summary: str = "", text: str = "") -> bool:
    return bool(matcher(query).match(title, summary, text))


def only(query: str, title: str, summary: str = "", text: str = "") -> TopicMatch:
    found = matcher(query).match(title, summary, text)
    assert len(found) == 1, found
    return found[0]


# -- the traps from the issue, one test each ------------------------------------------------


def test_trap_nato_not_inside_renato_nor_lowercase() -> None:
    assert not hits("NATO", "Renato Sanches pindah klub")
    assert not hits("NATO", "perwakilan nato hadir")
    assert not hits("NATO", "Nato menggelar rapat")
    assert hits("NATO", "NATO menggelar rapat")


def test_trap_as_is_whole_word_and_capitals_only() -> None:
    assert hits("AS", "Presiden AS tiba di Jakarta")
    assert not hits("AS", "Harga emas naik lagi")
    assert not hits("AS", "as roda truk patah")
    assert not hits("AS", "HARGA EMAS ASLI TURUN")


def test_trap_nato_split_by_hyphen() -> None:
    assert hits("NATO", "Ketegangan NATO-Rusia meningkat")
    assert hits("NATO", "Demo anti-NATO di Beograd")
    assert hits("Rusia", "Ketegangan NATO-Rusia meningkat")


def test_trap_ukraina_after_hyphen_in_capitals_and_soft_hyphen() -> None:
    assert hits("Ukraina", "Kelompok pro-Ukraina berunjuk rasa")
    assert hits("Ukraina", "UKRAINA DIGEMPUR RUDAL")
    assert hits("Ukraina", "Bantuan untuk Ukra\u00adina tiba")
    assert hits("Ukraina", "Delegasi ke Ukraina, kata menteri")
    assert not hits("Ukraina", "Warga Ukrainadan")


def test_trap_phrase_across_double_space_newline_and_nbsp() -> None:
    q = '"Vladimir Putin"'
    assert hits(q, "Vladimir  Putin berpidato")
    assert hits(q, "kata Vladimir\nPutin kemarin")
    assert hits(q, "Vladimir\u00a0Putin berpidato")
    assert hits(q, "Vladimir \u202f\t Putin berpidato")
    assert not hits(q, "Vladimir bertemu Putin")
    assert not hits(q, "Putin Vladimir")


def test_trap_prefix_matches_longer_spelling() -> None:
    assert hits("Zelensky*", "Zelenskyy bertemu Biden")
    assert hits("Zelensky*", "Presiden Zelensky berkata")
    assert not hits("Zelensky*", "Zelenski berkata")


def test_trap_not_excludes() -> None:
    q = "Ukraina -latihan"
    assert hits(q, "Serangan di Ukraina")
    assert not hits(q, "Latihan militer dekat Ukraina")
    assert not hits("Ukraina NOT (latihan OR simulasi)", "Simulasi evakuasi Ukraina")


def test_trap_title_field_restricts() -> None:
    q = "title:Ukraina"
    assert hits(q, "Ukraina minta bantuan", "isi berita")
    assert not hits(q, "Berita dunia", "Ukraina minta bantuan", "Ukraina lagi")


def test_trap_near_within_n_words_either_order() -> None:
    q = "Putin NEAR/3 Zelensky*"
    assert hits(q, "Putin dan Zelenskyy bertemu")
    assert hits(q, "Zelensky menolak usul Putin")
    assert hits(q, "Putin satu dua Zelensky")  # exactly 3 words apart
    assert not hits(q, "Putin satu dua tiga Zelensky")
    assert not hits(q, "Putin berpidato", "Zelensky menjawab")  # other field


def test_trap_phrase_nested_in_another_term_is_found() -> None:
    m = matcher('"Vladimir Putin"', "Putin", "Vladimir")
    found = m.match("Vladimir Putin tiba di Beijing")
    assert [f.topic for f in found] == ["t0", "t1", "t2"]


# -- semantics ---------------------------------------------------------------------------


def test_case_insensitive_term_matches_any_case() -> None:
    assert hits("ukraina", "UKRAINA dan Ukraina")
    assert hits("Ukraina", "ukraina")


def test_caps_phrase_word_stays_case_sensitive() -> None:
    assert hits('"Presiden AS"', "kata presiden AS kemarin")
    assert not hits('"Presiden AS"', "kata presiden as kemarin")


def test_caps_prefix() -> None:
    assert hits("NATO*", "NATOs summit")
    assert not hits("NATO*", "Natonal event")


def test_and_needs_both_and_or_either() -> None:
    assert hits("banjir Jakarta", "Banjir melanda Jakarta")
    assert not hits("banjir Jakarta", "Banjir melanda Bekasi")
    assert hits("banjir OR longsor", "Longsor di Bogor")


def test_terms_in_different_fields_satisfy_and() -> None:
    assert hits("banjir Jakarta", "Banjir lagi", "Warga Jakarta mengungsi")


def test_phrase_never_spans_two_fields() -> None:
    assert not hits('"Vladimir Putin"', "Vladimir", "Putin berpidato")


def test_summary_and_text_fields() -> None:
    assert hits("summary:(banjir OR longsor)", "judul", "longsor di Bogor")
    assert not hits("summary:(banjir OR longsor)", "longsor", "", "longsor di Bogor")
    assert hits('text:"gencatan senjata"', "judul", "", "menyepakati gencatan senjata")
    assert not hits('text:"gencatan senjata"', "gencatan senjata")


def test_unrestricted_term_searches_full_text() -> None:
    assert hits("Kyiv", "judul", "ringkasan", "Rudal jatuh di Kyiv")


def test_hyphenated_query_word_matches_as_phrase() -> None:
    assert hits("NATO-Rusia", "Dialog NATO Rusia")
    assert hits("NATO-Rusia", "Dialog NATO-Rusia")
    assert not hits("NATO-Rusia", "Dialog Rusia NATO")


def test_numbers_split_on_dots_the_same_way_in_queries() -> None:
    assert hits("Rp1.904.000", "harga Rp1.904.000 per gram")
    assert hits("G20", "KTT G20 di Bali")
    assert not hits("G20", "KTT G2 di Bali")
    assert hits("2025", "Pemilu 2025")


def test_apostrophe_splits() -> None:
    assert hits("Putin", "Putin's speech")
    assert hits("Jum'at", "Salat Jum'at berjamaah")


def test_near_with_phrase_operand() -> None:
    q = '"gencatan senjata" NEAR/2 Gaza'
    assert hits(q, "gencatan senjata di Gaza")
    assert hits(q, "Gaza menyambut gencatan senjata")
    assert not hits(q, "gencatan senjata yang lama di Gaza")


def test_near_one_means_adjacent() -> None:
    assert hits("Putin NEAR/1 Biden", "Biden Putin")
    assert not hits("Putin NEAR/1 Biden", "Biden dan Putin")


def test_near_needs_two_distinct_occurrences() -> None:
    assert not hits("Putin NEAR/3 Putin", "Putin berbicara")
    assert hits("Putin NEAR/3 Putin", "Putin dan Putin")


def test_negated_near_and_phrase() -> None:
    assert not hits('Rusia -"latihan militer"', "Rusia gelar latihan militer")
    assert hits('Rusia -"latihan militer"', "Rusia gelar latihan dan militer siaga")


def test_multiple_topics_share_terms() -> None:
    m = matcher("Ukraina", "Ukraina Rusia", "Ukraina -Rusia", "Rusia OR Kyiv")
    assert m.topic_names == ("t0", "t1", "t2", "t3")
    assert [f.topic for f in m.match("Ukraina dan Rusia")] == ["t0", "t1", "t3"]
    assert [f.topic for f in m.match("Ukraina saja")] == ["t0", "t2"]
    assert m.match("tidak ada apa-apa") == []


def test_results_in_config_order() -> None:
    m = Matcher.compile([TopicSpec("Zeta", "Rusia"), TopicSpec("Alfa", "Rusia")])
    assert [f.topic for f in m.match("Rusia")] == ["Zeta", "Alfa"]


def test_empty_item_and_empty_matcher() -> None:
    assert matcher("Ukraina").match("", "", "") == []
    assert Matcher.compile([]).match("Ukraina") == []


# -- matched terms and snippets ------------------------------------------------------------


def test_terms_as_written_deduplicated_in_first_match_order() -> None:
    m = only(
        "Ukraina OR Kyiv OR Zelensky* OR Moskow",
        "Zelenskyy di Kyiv",
        "Ukraina dan Kyiv",
        "Ukraina lagi",
    )
    assert m.terms == ("Zelensky*", "Kyiv", "Ukraina")


def test_negated_and_failed_branch_terms_are_not_listed() -> None:
    m = only("((Rusia Cina) OR Ukraina) -Iran", "Ukraina dan Rusia")
    assert m.terms == ("Ukraina",)


def test_family_and_phrase_labels() -> None:
    m = only('serang~ "Presiden AS"', "Presiden AS diserang kritik")
    assert m.terms == ("Presiden AS", "serang~")


def test_snippet_is_context_around_first_body_match() -> None:
    before = " ".join(f"kata{i}" for i in range(60))
    after = " ".join(f"lain{i}" for i in range(60))
    body = f"{before} pasukan menyerang kota Kherson {after}"
    m = only("Kherson", "Berita dunia", body)
    s = m.snippet
    assert s.startswith("…") and s.endswith("…")
    assert "Kherson" in s
    core = s.strip("…")
    assert core in body
    i = body.index("Kherson")
    assert body.index(core) >= i - SNIPPET_RADIUS
    assert body.index(core) + len(core) <= i + len("Kherson") + SNIPPET_RADIUS
    assert len(core) >= SNIPPET_RADIUS  # real context on both sides, not just the word
    assert not core.startswith(" ") and not core.endswith(" ")


def test_snippet_prefers_summary_then_text_then_title() -> None:
    assert "ringkasan" in only("Kyiv", "Kyiv judul", "ringkasan Kyiv", "teks Kyiv").snippet
    assert "teks" in only("Kyiv", "Kyiv judul", "ringkasan", "teks Kyiv").snippet
    assert only("Kyiv", "Kyiv judul", "ringkasan", "teks").snippet == "Kyiv judul"


def test_short_text_snippet_is_whole_text_without_ellipsis() -> None:
    assert only("Kyiv", "x", "Rudal jatuh di Kyiv.").snippet == "Rudal jatuh di Kyiv."


def test_snippet_keeps_punctuation_and_folds_whitespace() -> None:
    m = only('"Vladimir Putin"', "x", "Kata  Vladimir\n\u00a0Putin: “tidak”.")
    assert m.snippet == "Kata Vladimir Putin: “tidak”."


def test_snippet_of_phrase_covers_whole_phrase() -> None:
    words = " ".join(["isi"] * 100)
    m = only('"gencatan senjata"', "x", f"{words} gencatan senjata {words}")
    assert "gencatan senjata" in m.snippet


def test_snippet_function_bounds() -> None:
    text = "a" * 300 + " kata " + "b" * 300
    start = text.index("kata")
    s = snippet(text, start, start + 4)
    assert "kata" in s
    assert len(s) <= 4 + 2 * SNIPPET_RADIUS + 2


def test_snippet_offsets_survive_normalisation() -> None:
    # NFKC ("ﬁ" -> "fi"), soft hyphens and NULs shift offsets; the snippet must still show
    # the matched word, not a neighbour.
    body = "\ufb01nal \u00adx\x00y " * 30 + "Kherson tengah " + "\u00ad" * 50 + "akhir"
    m = only("Kherson", "x", body)
    assert "Kherson" in m.snippet
    assert "\u00ad" not in m.snippet and "\x00" not in m.snippet


# -- compile errors ------------------------------------------------------------------------


def test_compile_reports_every_bad_topic_with_position() -> None:
    with pytest.raises(TopicErrors) as info:
        Matcher.compile(
            [
                TopicSpec("baik", "Ukraina"),
                TopicSpec("rusak1", "a AND b OR c"),
                TopicSpec("rusak2", "NOT Rusia"),
                TopicSpec("rusak3", "(banjir"),
            ]
        )
    errors = info.value.errors
    assert [name for name, _ in errors] == ["rusak1", "rusak2", "rusak3"]
    assert all(isinstance(e, QueryError) for _, e in errors)
    assert [e.position for _, e in errors] == [8, 0, 0]
    assert "rusak1" in str(info.value) and "position 8" in str(info.value)


def test_duplicate_topic_names_are_an_error() -> None:
    with pytest.raises(TopicErrors):
        Matcher.compile([TopicSpec("x", "a"), TopicSpec("x", "b")])


# -- word families -------------------------------------------------------------------------


def test_family_matches_derivations() -> None:
    for word in ("menyerang", "diserang", "serangan", "penyerangan", "serang", "diserangnya"):
        assert hits("serang~", f"Kelompok itu {word} pos"), word
    assert hits("serang~", "MENYERANG pos polisi")


def test_family_does_not_match_lookalikes() -> None:
    for word in ("serangga", "pemerintah", "terserang", "penyerbu", "seran"):
        assert not hits("serang~", f"Ada {word} di sini"), word


@pytest.mark.parametrize(
    ("root", "forms"),
    [
        ("pukul", {"memukul", "dipukul", "pemukulan", "pukulan"}),
        ("tembak", {"menembak", "ditembak", "penembakan", "menembakkan"}),
        ("kirim", {"mengirim", "dikirim", "pengiriman", "kiriman", "mengirimkan"}),
        ("ambil", {"mengambil", "pengambilan", "diambil"}),
        ("bom", {"mengebom", "pengeboman", "dibom"}),
        ("lapor", {"melapor", "melaporkan", "pelapor", "laporan"}),
        ("kritik", {"mengkritik", "dikritik"}),  # cluster: k kept
        ("besar", {"memperbesar", "diperbesar"}),
        ("ajar", {"belajar", "pelajaran", "mempelajari"}),
        ("bakar", {"kebakaran", "membakar", "pembakaran"}),
    ],
)
def test_family_morphophonemics(root: str, forms: set[str]) -> None:
    assert forms <= word_family(root)


# Forms news writes that the first rules missed, found by running Sastrawi's stemmer test
# pairs (github.com/sastrawi/sastrawi, 160 derived words) against the families: 53 were not
# generated, most of them by design (ter-, se-, -ku/-mu, reduplication the tokeniser
# splits); these were not.
@pytest.mark.parametrize(
    ("root", "forms"),
    [
        # k, p, t, s kept after meN-/peN-, as news writes loanwords and many others
        ("sosialisasi", {"mensosialisasikan", "disosialisasikan"}),
        ("pengaruh", {"mempengaruhi", "memengaruhi", "dipengaruhi"}),
        ("taat", {"mentaati", "menaati"}),
        ("kaji", {"pengkajian", "mengkaji"}),
        ("populer", {"mempopulerkan", "memopulerkan"}),
        ("sukses", {"mensukseskan", "menyukseskan"}),
        # pe- without the nasal: the doer of a sport or trade
        ("tinju", {"petinju"}),
        ("balap", {"pebalap"}),
        ("silat", {"pesilat"}),
        ("tani", {"petani", "pertanian"}),
        # ber- inside memper-/peN-/di-/ke-...-an
        ("daya", {"memberdayakan", "pemberdayaan", "diberdayakan"}),
        ("hasil", {"keberhasilan", "berhasil"}),
        ("henti", {"memberhentikan", "diberhentikan", "pemberhentian"}),
        ("angkat", {"keberangkatan", "berangkat"}),
    ],
)
def test_family_forms_news_writes(root: str, forms: set[str]) -> None:
    assert forms <= word_family(root)


def test_kept_consonants_do_not_reach_unrelated_words() -> None:
    """men+teri is "menteri" (minister), men+tari "mentari" (sun), pe+gawai "pegawai"
    (employee): a topic on anchovies, dance or gadgets must not follow the cabinet."""
    assert "menteri" not in word_family("teri")
    assert "mentari" not in word_family("tari")
    assert "pegawai" not in word_family("gawai")
    assert not hits("tari~", "Menteri Kebudayaan membuka festival di bawah mentari pagi")
    assert not hits("ikan~", "Pemerintah memberikan bantuan yang diberikan kepada warga")
    assert hits("ikan~", "Kementerian Kelautan dan Perikanan menebar benih ikan")
    assert "memberikan" in word_family("beri")
    # derivations whose meaning left the root, frequent in the real 2025 articles
    assert not hits("tahan~", "Menteri Pertahanan bicara ketahanan pangan mengenai beras")
    assert not hits("kena~", "Diskusi mengenai harga beras")
    assert not hits("harga~", "Ia menerima penghargaan dari presiden")
    assert hits("tahan~", "Polisi menahan tersangka; penahanan diperpanjang")


def test_family_excludes_lexicalised_and_ter_forms() -> None:
    assert "pemerintah" not in word_family("perintah")
    assert "memerintahkan" in word_family("perintah")
    assert "penduduk" not in word_family("duduk")
    assert "terserang" not in word_family("serang")
    assert "tertembak" not in word_family("tembak")


def test_family_is_finite_and_small() -> None:
    assert 20 < len(word_family("serang")) < 200


def test_family_needs_letters() -> None:
    with pytest.raises(ValueError):
        word_family("se-rang")


# -- tokenisation --------------------------------------------------------------------------


def test_tokenize_offsets_point_into_prepared_text() -> None:
    raw = "Ukra\u00adina  pro-NATO,\u00a0Rp1.524.000 Jum'at"
    toks = tokenize(raw)
    prepared = prepare(raw)
    assert [t.text for t in toks] == ["Ukraina", "pro", "NATO", "Rp1", "524", "000", "Jum", "at"]
    assert all(prepared[t.start : t.end] == t.text for t in toks)
    assert toks[0].lower == "ukraina"


def test_fast_tokenizer_equals_regex_tokenizer_on_random_text() -> None:
    rng = random.Random(17)
    alphabet = list("abcXYZ019 -_'.,\t\n\r\x00\x01\x0b\x7f\x85\xa0\xad")
    alphabet += list("\u200b\u00e9\u0301\u2019\u201c\u2014\u0130\u03a3\ud800\u0663\u00b2")
    alphabet += list("\ufb01\u2028\u3000\u200f\u1680\u180e\u034f\u061c")
    for _ in range(3000):
        s = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        assert prepare(s) == strip_control(normalize(s))
        sp = spaced(s)
        assert len(sp) == len(prepare(s))
        assert word_tokens(s) == WORD_RE.findall(prepare(s))
        assert sp.lower().split() == [w.lower() for w in word_tokens(s)]
        view = FieldView(s)
        for k, m in enumerate(WORD_RE.finditer(prepare(s))):
            assert view.span(k) == m.span()


# -- hostile input -------------------------------------------------------------------------


def test_nul_and_direction_marks_do_not_break_words() -> None:
    assert hits("Ukraina", "Ukr\x00aina diserang")
    assert hits("NATO", "NA\u200fTO\u200e bersiaga")
    assert hits("Ukraina", "\u202eUkraina\u202c")  # RTL override is punctuation: splits
    m = only("Ukraina", "x", "Ukr\x00aina \x07diserang\u200f")
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200f]", m.snippet)


def test_one_megabyte_text_matches_quickly() -> None:
    m = matcher("Ukraina OR Zelensky*", '"Vladimir Putin" NEAR/5 Kyiv', "serang~ -latihan")
    body = ("kata lain yang panjang " * 45_000) + "Vladimir Putin menyerang Kyiv"
    assert len(body) > 1_000_000
    t0 = time.perf_counter()
    found = m.match("judul", "", body)
    elapsed = time.perf_counter() - t0
    assert [f.topic for f in found] == ["t1", "t2"]
    # A guard against quadratic matching (which takes minutes here), not a speed target:
    # those live in bench/bench_match.py. The bound leaves room for a loaded machine.
    assert elapsed < 30.0, elapsed


def test_hundred_thousand_distinct_tokens_with_prefixes() -> None:
    m = matcher("ka*", "Zelensky*", '"ka1 ka2"', "ka5 NEAR/2 ka7")
    body = " ".join(f"ka{i}" for i in range(100_000))
    t0 = time.perf_counter()
    found = m.match("judul", "", body)
    elapsed = time.perf_counter() - t0
    assert [f.topic for f in found] == ["t0", "t2", "t3"]
    assert elapsed < 30.0, elapsed  # quadratic would take minutes (see the test above)


def test_repeated_phrase_pairs_are_linear() -> None:
    m = matcher("a1 NEAR/1 b1", '"a1 b1 a1 c1"')
    body = "a1 b1 " * 50_000
    t0 = time.perf_counter()
    found = m.match("x", "", body)
    assert [f.topic for f in found] == ["t0"]
    assert time.perf_counter() - t0 < 3.0


def test_giant_single_token_and_snippet_stays_capped() -> None:
    m = matcher("ab*")
    found = m.match("x", "", "ab" + "c" * 1_000_000)
    assert len(found) == 1
    assert len(found[0].snippet) <= 2 * SNIPPET_RADIUS + 120


def test_non_latin_scripts_and_surrogates() -> None:
    assert hits("Україна", "Новини Україна сьогодні")
    assert hits("Ukraina", "\ud800Ukraina\udfff")


def test_many_topics_compile_fast() -> None:
    rng = random.Random(5)
    words = [f"kata{i}" for i in range(20_000)]
    roots = [f"tem{a}{b}ak" for a in "aiueo" for b in "bdgklmnprst"]  # 55 letter-only roots
    topics = [
        TopicSpec(f"t{i}", f"({' OR '.join(rng.sample(words, 10))}) -x{i} {roots[i % 55]}~")
        for i in range(1_000)
    ]
    t0 = time.perf_counter()
    m = Matcher.compile(topics)
    assert time.perf_counter() - t0 < 2.0
    assert len(m.topic_names) == 1_000


def test_prefix_memo_stays_correct_across_items_and_when_full(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    m = matcher("Zelensky*", "NATO*")
    for _ in range(3):  # the second and third rounds come from the memo
        assert [f.topic for f in m.match("Zelenskyy dan NATOs")] == ["t0", "t1"]
        assert m.match("Zelenski dan Natos") == []
    monkeypatch.setattr("daemon.topics.match._PREFIX_MEMO_MAX", 2)
    for i in range(5):
        words = " ".join(f"kata{i}{j}" for j in range(5))
        assert [f.topic for f in m.match(f"{words} Zelenskyy")] == ["t0"]


def test_near_with_an_or_group_matches_either_alternative_within_the_distance() -> None:
    q = "(Prabowo OR Gibran) NEAR/5 Xi"
    assert hits(q, "Gibran bertemu Presiden Xi di Beijing")
    assert hits(q, "Xi Jinping menyambut Prabowo")
    far = "Gibran membuka pameran dagang di Jakarta pada pagi ini, sementara Xi"
    assert not hits(q, far)  # Xi is 10 words from Gibran
    assert not hits(q, "Prabowo dan Gibran")


def test_near_between_or_groups_is_capped_at_config_time() -> None:
    big = " OR ".join(f"w{i}" for i in range(9))
    with pytest.raises(QueryError, match="at most 64 pairs"):
        parse_query(f"({big}) NEAR/3 ({big})")
