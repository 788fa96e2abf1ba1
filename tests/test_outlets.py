"""One outlet under several names (daemon/outlets.py): the names Indonesian outlets go by in
operators' configs, Google News' <source> and Bing's <News:Source>, compared as a desk
reads them; then the same through every notifier's "juga" list."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as hst

from daemon.delivery import Source
from daemon.delivery.base import other_outlets
from daemon.delivery.console import format_line
from daemon.outlets import distinct_outlets, others_than, outlet_key
from tests.alerts import alert

# Names one newsroom goes by: an operator's feed name, then aggregators' names for it.
SAME = [
    ("Detik", "detikNews"),
    ("Detik", "detikcom"),
    ("detik.com", "Detik"),
    ("Antara", "ANTARA News"),
    ("Antara", "antaranews.com"),
    ("Tempo", "Tempo.co"),
    ("Kompas", "Kompas.com"),
    ("Republika", "Republika Online"),
    ("Republika", "republika.co.id"),
    ("Okezone", "Okezone News"),
    ("Liputan6", "Liputan6.com"),
    ("CNN Indonesia", "CNNIndonesia.com"),
    ("Tribunnews", "TribunNews.com"),
    ("Bisnis", "Bisnis.com"),
    ("Medcom", "Medcom.id"),
    ("Kumparan", "kumparan"),
    ("IDN Times", "IDNTimes.com"),
    ("Sindonews", "SINDOnews.com"),
    ("Jawa Pos", "JawaPos.com"),
    ("Berita Satu", "BeritaSatu.com"),
    ("iNews", "inews.id"),
    ("Kompas TV", "KOMPAS.tv"),
    ("Media Indonesia", "mediaindonesia.com"),
    # a feed configured without a name is named by its host
    ("Detik", "rss.detik.com"),
    ("Liputan6", "feed.liputan6.com"),
    ("CNN Indonesia", "www.cnnindonesia.com"),
]
# Different newsrooms, or another desk of one: kept apart.
DIFFERENT = [
    ("Detik", "detikFinance"),
    ("detikNews", "detikSport"),
    ("Antara", "Antara Sumbar"),
    ("Kompas", "Kompas TV"),
    ("Kompas", "KOMPAS.tv"),
    ("Okezone", "Okezone Economy"),
    ("Antara", "Antara News Jatim"),
    ("iNews", "News"),
    ("Republika", "ihram.republika.co.id"),  # a sister outlet on the parent's domain
    ("Antara", "jogja.antaranews.com"),  # a regional desk
    ("Tribunnews", "Tribun Jabar"),
    ("Tempo", "Tempo English"),
    ("Medcom", "Med"),  # a stem too short to stand alone: "Medcom" is not "Med" + "com"
    ("Republika", "IHRAM"),
    ("CNN Indonesia", "CNBC Indonesia"),
    ("Sindonews", "Koran Sindo"),
    ("News", "Online"),  # names that are only the medium's word stay themselves
    ("...", "!!!"),
]


@pytest.mark.parametrize(("a", "b"), SAME)
def test_one_newsroom_under_two_names_is_one_outlet(a: str, b: str) -> None:
    assert outlet_key(a) == outlet_key(b)
    assert distinct_outlets([a, b]) == [a]


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_other_newsrooms_and_desks_stay_apart(a: str, b: str) -> None:
    assert outlet_key(a) != outlet_key(b)
    assert distinct_outlets([a, b]) == [a, b]


def test_the_first_name_an_outlet_came_with_is_kept_in_order() -> None:
    got = distinct_outlets(["detikNews", "Kompas.id", "", "Detik", "Tempo", "detikcom"])
    assert got == ["detikNews", "Kompas.id", "Tempo"]


def test_juga_lists_neither_the_alerts_outlet_again_nor_one_outlet_twice() -> None:
    a = alert(
        outlet="Detik",
        sources=(
            Source("Detik", "https://news.detik.com/d-1", "KPK Tahan Bupati"),
            Source("detikNews", "https://news.google.com/rss/articles/x", "KPK Tahan Bupati"),
            Source("Kompas.id", "https://news.google.com/rss/articles/y", "Bupati Ditahan"),
            Source("ANTARA News", "https://news.google.com/rss/articles/z", "KPK Tahan"),
            Source("Antara", "https://antaranews.com/1", "KPK Tahan"),
        ),
    )
    assert other_outlets(a) == ["Kompas.id", "ANTARA News"]
    assert format_line(a).endswith(" | juga: Kompas.id, ANTARA News")


def test_an_alert_without_an_outlet_lists_every_source_outlet() -> None:
    assert others_than("", ["Detik", "detikNews", "Tempo"]) == ["Detik", "Tempo"]


_names = hst.lists(hst.text(max_size=40), max_size=12)


@given(_names)
def test_distinct_outlets_keeps_one_name_per_outlet_in_order(names: list[str]) -> None:
    got = distinct_outlets(names)
    keys = [outlet_key(n) for n in got]
    assert len(set(keys)) == len(keys)  # no outlet twice
    assert {outlet_key(n) for n in names if n} == set(keys)  # none lost
    it = iter(names)
    assert all(any(g == n for n in it) for g in got)  # a subsequence of the input


@given(hst.text(max_size=40), _names)
def test_others_never_name_the_alerts_outlet(named: str, names: list[str]) -> None:
    got = others_than(named, names)
    if named:
        assert outlet_key(named) not in {outlet_key(n) for n in got}
    assert len(got) <= len({outlet_key(n) for n in names if n})


@given(hst.from_regex(r"[A-Za-z][A-Za-z .]{0,20}", fullmatch=True))
def test_case_and_spacing_do_not_make_another_outlet(name: str) -> None:
    assert outlet_key(name) == outlet_key(name.upper()) == outlet_key(f"  {name.lower()} ")


def test_the_same_article_from_another_feed_of_the_outlet_is_no_other_outlet() -> None:
    """Detik's main feed and its finance feed both carry one article (one address): the
    alert named "Detik News" listed "juga: Detik Finance", a second newsroom to a reader."""
    url = "https://finance.detik.com/berita-ekonomi-bisnis/d-8012345/harga-emas-antam-naik"
    a = alert(
        outlet="Detik News",
        url=url,
        sources=(
            Source("Detik News", url, "Harga Emas Antam Naik"),
            Source("Detik Finance", url, "Harga Emas Antam Naik"),
            Source("Kontan", "https://kontan.co.id/x", "Emas Antam Naik Rp8.000"),
        ),
    )
    assert other_outlets(a) == ["Kontan"]
