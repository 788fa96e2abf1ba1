"""Copies that differ only in how they write the same facts.

An outlet that reruns agency copy changes its dress, not its facts: its own dateline, the
price written its way ("Rp1.524.000", "Rp 1.524.000,00", "Rp1,524 juta"), the date as
"(24/11)" or "24 November", "persen" or "%", a "Baca juga" line, a credit, a no-break space.
Hypothesis draws such rewrites of reports written for this test (in the project's own words)
and holds what "one story, one alert" rests on: the rewrite is confirmed as the same story,
and it states the same figures and dates, for the story guards and the event signature
alike. Found so far: a price with cents ("Rp2.234.000,00", in 2025's real reports) read a
hundred times too large (``stories._number``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daemon.demo.loopback import LoopbackServer
from daemon.grouping import events
from daemon.grouping.stories import Doc, fingerprint, same_story
from daemon.topics.match import Matcher, TopicSpec
from tests.feedgen import Entry, rss
from tests.test_pipeline import pantau, write_config
from tests.test_stories import assign

WINDOW = timedelta(hours=72)
T0 = datetime(2025, 11, 24, 2, 30, tzinfo=timezone.utc)  # a Monday
MONTHS = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
          "September", "Oktober", "November", "Desember"]  # fmt: skip


# The default suite draws the same examples every run (no flaky CI); `pytest -m slow` draws
# 4,000 new ones per property (as tests/test_fuzz.py does).
SHORT = settings(max_examples=300, derandomize=True, deadline=None, database=None)
LONG = settings(max_examples=4000, deadline=None, print_blob=True)


def both(prop: Callable[..., None], strategy: st.SearchStrategy[Any]) -> tuple[Any, Any]:
    """The property with the short budget, and with the long one marked slow."""
    return SHORT(given(strategy)(prop)), pytest.mark.slow(LONG(given(strategy)(prop)))


@dataclass(frozen=True)
class Report:
    """A report with slots for the facts an outlet may write its own way."""

    title: str
    text: str  # {price}, {date}, {pct} mark where each fact stands
    price: Decimal  # rupiah
    day: int
    month: int
    pct: Decimal


REPORTS = [
    Report(
        "Harga emas batangan naik tipis pada awal pekan",
        "Harga emas batangan yang dijual butik logam mulia pada {date} naik menjadi {price} "
        "per gram, lebih tinggi dari hari sebelumnya. Kenaikan itu setara {pct} dan terjadi "
        "setelah harga emas dunia menguat karena pelemahan dolar Amerika Serikat. Pedagang di "
        "pasar perhiasan mencatat pembeli mulai berdatangan sejak pagi, sementara harga "
        "pembelian kembali oleh butik ikut bergerak naik mengikuti harga jual.",
        Decimal(1524000),
        24,
        11,
        Decimal("0.66"),
    ),
    Report(
        "Pemerintah kabupaten salurkan bantuan beras untuk warga terdampak banjir",
        "Pemerintah kabupaten menyalurkan bantuan beras kepada warga terdampak banjir pada "
        "{date}. Nilai bantuan tahap pertama mencapai {price}, sementara jumlah pengungsi turun "
        "{pct} karena air mulai surut. Kepala dinas sosial menyebut bantuan diambil dari dana "
        "tak terduga daerah, dan posko kesehatan di tiga kecamatan tetap dibuka hingga akhir "
        "pekan untuk melayani warga yang sakit.",
        Decimal(2750000000),
        23,
        11,
        Decimal(12),
    ),
    Report(
        "Tarif tol ruas tengah disesuaikan mulai pekan depan",
        "Badan pengatur jalan tol mengumumkan penyesuaian tarif pada ruas tol tengah yang "
        "berlaku mulai {date}. Untuk kendaraan golongan satu tarif menjadi {price} atau naik "
        "{pct} dari tarif lama. Operator jalan tol menyatakan penyesuaian dilakukan setelah "
        "evaluasi standar pelayanan minimal, termasuk perbaikan lajur, penerangan jalan dan "
        "waktu tanggap petugas ketika terjadi kecelakaan di sepanjang ruas tersebut.",
        Decimal("18500.50"),
        1,
        12,
        Decimal("4.5"),
    ),
]


def _grouped(whole: int) -> str:
    return f"{whole:,}".replace(",", ".")


def price_forms(value: Decimal) -> list[str]:
    """The ways outlets write an amount of rupiah."""
    whole, _, frac = format(value, "f").partition(".")
    frac = frac.rstrip("0")
    cents = f",{frac}" if frac else ",00"
    forms = [f"Rp{_grouped(int(whole))}{f',{frac}' if frac else ''}"]
    forms += [f"Rp {_grouped(int(whole))}{cents}", f"{_grouped(int(whole))}{cents} rupiah"]
    if not frac:
        forms += [f"Rp{_grouped(int(whole))},-", f"Rp. {_grouped(int(whole))}"]
    for word, power in (("ribu", 3), ("juta", 6), ("miliar", 9)):
        scaled = value.scaleb(-power)
        if scaled >= 1 and scaled == scaled.quantize(Decimal("0.001")):
            w, _, f = format(scaled.normalize(), "f").partition(".")
            forms.append(f"Rp{_grouped(int(w))}{f',{f}' if f else ''} {word}")
    return forms


def date_forms(day: int, month: int) -> list[str]:
    """The ways outlets write the day a report names (the dateline's year: 2025)."""
    name = MONTHS[month - 1]
    return [f"({day}/{month})", f"{day} {name}", f"{day} {name} 2025", f"({day}/{month}/2025)",
            f"{day:02d}/{month:02d}/2025", f"{day} {name[:3]} 2025"]  # fmt: skip


def pct_forms(value: Decimal) -> list[str]:
    v = format(value.normalize(), "f").replace(".", ",")
    return [f"{v} persen", f"{v}%", f"{v} %"]


DATELINES = ["", "Jakarta (ANTARA) - ", "JAKARTA, KOMPAS.com - ", "Liputan6.com, Jakarta - ",
             "Jakarta, CNN Indonesia -- ", "REPUBLIKA.CO.ID, JAKARTA -- ",
             "Jakarta (ANTARA) – ", "JAKARTA — ", "Bisnis.com, JAKARTA — "]  # fmt: skip
# what an outlet's CMS appends to a headline
TITLE_TAILS = ["", " | Republika Online", " : Okezone Economy", " - ANTARA News",
               " - Kompas.com"]  # fmt: skip
TAILS = ["", " (ant)", " Baca juga: Harga pangan di pasar tradisional mulai stabil",
         " Simak berita lainnya di kanal ekonomi kami."]  # fmt: skip
# a no-break space, a zero-width space, a soft hyphen: what a CMS leaves in copied text
INVISIBLE: list[Callable[[str], str]] = [
    lambda s: s,
    lambda s: s.replace(" ", "\u00a0", 3),
    lambda s: s.replace("pada ", "pada\u200b ", 1),
    lambda s: re.sub(  # inside every "kenaikan", "bantuan", "penyesuaian"
        r"(?i)\b(kenai|ban|penye)(kan|tuan|suaian)\b", "\\1\u00ad\\2", s
    ),
]


FILLER = (
    "warga yang ditemui di lokasi mengaku sudah mendengar kabar itu sejak beberapa hari lalu "
    "dan berharap pemerintah daerah segera memberikan kepastian agar kegiatan sehari hari "
    "dapat kembali berjalan seperti biasa tanpa hambatan berarti bagi para pedagang kecil"
).split()


@st.composite
def rewrites(draw: st.DrawFn, filler: bool = False) -> tuple[Report, str, str]:
    """A report as written first and as another outlet reran it. ``filler``: both open
    with the same few words of background, so that a signature's lead (its first
    ``events.LEAD_WORDS`` words) ends anywhere in the facts."""
    r = draw(st.sampled_from(REPORTS))
    opening = " ".join(FILLER[: draw(st.integers(0, len(FILLER)))]) if filler else ""

    def dress() -> str:
        text = r.text.format(
            price=draw(st.sampled_from(price_forms(r.price))),
            date=draw(st.sampled_from(date_forms(r.day, r.month))),
            pct=draw(st.sampled_from(pct_forms(r.pct))),
        )
        if opening:
            text = f"{opening.capitalize()}. {text}"
        text = draw(st.sampled_from(DATELINES)) + text + draw(st.sampled_from(TAILS))
        if draw(st.booleans()) and draw(st.booleans()):
            # Antara's main site: a sentence of the report as a pull quote, then the dateline
            quote = draw(st.sampled_from([x for x in r.text.split(". ") if "{" not in x]))
            text = f"{quote.strip().rstrip('.')}. Jakarta (ANTARA) - {text}"
        return draw(st.sampled_from(INVISIBLE))(text)

    return r, dress(), dress()


ELLIPSES = ["...", "…", " [...]", " [&hellip;]"]  # how feeds mark a cut description


@st.composite
def cut_reruns(draw: st.DrawFn) -> tuple[Report, str, str]:
    """``rewrites``, the rerun's summary cut where its feed cuts descriptions: at a number
    of characters, anywhere, a word or a figure included, and marked with an ellipsis; or
    unmarked, between two words (a feed that cuts at a word count; in the last third of
    these reports no figure is followed by its scale: an unmarked cut between the two is
    read as it stands, ``stories.uncut``)."""
    r, first, rerun = draw(rewrites(filler=draw(st.booleans())))
    # at most a third of the report cut off: what is left is enough text to confirm a copy
    at = draw(st.integers(min_value=len(rerun) - len(r.text) // 3, max_value=len(rerun)))
    if draw(st.booleans()):
        return r, first, rerun[:at].rstrip() + draw(st.sampled_from(ELLIPSES))
    return r, first, rerun[: rerun.rfind(" ", 0, at + 1)].rstrip(" ,")


@st.composite
def titled(draw: st.DrawFn) -> tuple[Report, str, str, str, str]:
    """``rewrites`` with each copy's headline as its outlet's CMS writes it."""
    r, first, rerun = draw(rewrites(filler=True))
    tails = st.sampled_from(TITLE_TAILS)
    return r, first, rerun, r.title + draw(tails), r.title + draw(tails)


def _doc(r: Report, text: str, hours: float = 0) -> Doc:
    return Doc(title=r.title, summary=text, published_at=T0 + timedelta(hours=hours))


def _a_rerun_in_another_dress_is_the_same_story(case: tuple[Report, str, str]) -> None:
    r, first, rerun = case
    a, b = _doc(r, first), _doc(r, rerun, hours=2)
    fa, fb = fingerprint(a), fingerprint(b)
    assert same_story(a, b, WINDOW), (first, rerun)
    assert assign([a, b], stored=True) == [0, 0], (first, rerun)  # found through the index
    assert (fa.figures, fa.dates) == (fb.figures, fb.dates), (first, rerun)
    assert fa.lead_day in (fb.lead_day, None) or fb.lead_day is None, (first, rerun)
    assert same_story(a, b, WINDOW), (first, rerun)


(
    test_a_rerun_in_another_dress_is_the_same_story,
    test_a_rerun_in_another_dress_is_the_same_story_long,
) = both(_a_rerun_in_another_dress_is_the_same_story, rewrites(filler=True))


def _a_rerun_in_another_dress_signs_the_same_facts(case: tuple[Report, str, str]) -> None:
    """The reports state their facts within a signature's lead: all of them are read."""
    r, first, rerun = case
    sa, sb = (events.signature(_doc(r, t)) for t in (first, rerun))
    assert sa.figures == sb.figures, (first, rerun)
    assert sa.dates == sb.dates, (first, rerun)


(
    test_a_rerun_in_another_dress_signs_the_same_facts,
    test_a_rerun_in_another_dress_signs_the_same_facts_long,
) = both(_a_rerun_in_another_dress_signs_the_same_facts, rewrites())


def _no_guard_keeps_a_rerun_from_its_event(case: tuple[Report, str, str, str, str]) -> None:
    """Wherever the lead ends, the rerun is no other edition of the report: it may read
    fewer of its facts, never other ones."""
    r, first, rerun, title_a, title_b = case
    sa = events.signature(Doc(title=title_a, summary=first, published_at=T0))
    sb = events.signature(Doc(title=title_b, summary=rerun, published_at=T0 + timedelta(hours=2)))
    assert events.vetoed(sb, events.Profile.of(sa), WINDOW) is None, (first, rerun)
    assert events.vetoed(sa, events.Profile.of(sb), WINDOW) is None, (first, rerun)


test_no_guard_keeps_a_rerun_from_its_event, test_no_guard_keeps_a_rerun_from_its_event_long = both(
    _no_guard_keeps_a_rerun_from_its_event, titled()
)


def _a_description_cut_inside_a_figure_is_still_the_story(
    case: tuple[Report, str, str],
) -> None:
    """Feeds cut their descriptions at a number of characters: "... naik ke Rp1.935..."
    is the story that states Rp1.935.000 in full, not another edition of it. (A cut that
    leaves no sign, "... naik ke Rp1.93", is read as it stands: a text may end with a whole
    figure, ``stories.uncut``.)"""
    r, whole, cut = case
    a, b = _doc(r, whole), _doc(r, cut, hours=2)
    assert same_story(a, b, WINDOW), (whole, cut)
    sa, sb = events.signature(a), events.signature(b)
    assert events.vetoed(sb, events.Profile.of(sa), WINDOW) is None, (whole, cut)
    assert events.vetoed(sa, events.Profile.of(sb), WINDOW) is None, (whole, cut)


(
    test_a_description_cut_inside_a_figure_is_still_the_story,
    test_a_description_cut_inside_a_figure_is_still_the_story_long,
) = both(_a_description_cut_inside_a_figure_is_still_the_story, cut_reruns())


@st.composite
def editions(draw: st.DrawFn) -> tuple[Report, str, str]:
    """Two editions of one templated report in their outlets' dress: another price, on the
    next day or the same day (a price updated at noon), and either description perhaps cut
    by its feed."""
    r = draw(st.sampled_from(REPORTS))
    step = draw(st.sampled_from([Decimal(1000), Decimal(-2000), Decimal(15000)]))
    later = replace(r, price=r.price + step, day=r.day + draw(st.sampled_from([0, 1])))

    def dress(rep: Report) -> str:
        text = draw(st.sampled_from(DATELINES)) + rep.text.format(
            price=draw(st.sampled_from(price_forms(rep.price))),
            date=draw(st.sampled_from(date_forms(rep.day, rep.month))),
            pct=draw(st.sampled_from(pct_forms(rep.pct))),
        )
        if draw(st.booleans()):
            at = draw(st.integers(min_value=len(text) - len(rep.text) // 3, max_value=len(text)))
            text = text[:at].rstrip() + draw(st.sampled_from(ELLIPSES))
        return text

    return r, dress(r), dress(later)


def _two_editions_stay_apart_in_any_dress(case: tuple[Report, str, str]) -> None:
    """The counterpart of the reruns above (precision first): reading figures and dates
    through another dress must not make two editions of a report one story or one event,
    a description cut inside its price included."""
    r, first, second = case
    a, b = _doc(r, first), _doc(r, second, hours=8)
    assert not same_story(a, b, WINDOW), (first, second)
    sa, sb = events.signature(a), events.signature(b)
    assert events.vetoed(sb, events.Profile.of(sa), WINDOW) is not None, (first, second)


test_two_editions_stay_apart_in_any_dress, test_two_editions_stay_apart_in_any_dress_long = both(
    _two_editions_stay_apart_in_any_dress, editions()
)


MATCHER = Matcher.compile(
    [
        TopicSpec(name, query)
        for name, query in [
            ("word", "emas"), ("phrase", '"harga emas"'), ("and", "banjir AND beras"),
            ("near", "tarif NEAR/5 tol"),
            ("soft-hyphened", "summary:(kenaikan OR bantuan OR penyesuaian)"),
            ("family", "naik~"), ("prefix", "penyesuai*"), ("field", "summary:tarif"),
            ("capitals", "BPBD OR golongan"), ("title", 'title:"bantuan beras"'),
        ]
    ]
)  # fmt: skip


def _a_rerun_matches_the_topics_its_original_matches(
    case: tuple[Report, str, str, str, str],
) -> None:
    """No missed story: the dress (a soft hyphen inside "kenaikan", a no-break space, a
    headline tail, another dateline) changes no topic's match."""
    _, first, rerun, title_a, title_b = case
    topics = [
        {m.topic for m in MATCHER.match(t, s)} for t, s in ((title_a, first), (title_b, rerun))
    ]
    assert topics[0] == topics[1], (first, rerun)
    assert topics[0], first  # (the queries are about these reports)


(
    test_a_rerun_matches_the_topics_its_original_matches,
    test_a_rerun_matches_the_topics_its_original_matches_long,
) = both(_a_rerun_matches_the_topics_its_original_matches, titled())


@pytest.mark.parametrize(
    ("price", "until", "then"),
    [
        ("Rp18.500", "(1/12", ""),  # a parenthesis left open: "(1/1" of "(1/12)"
        ("Rp18.500", "Rp18.500", ","),  # a comma ends no description
        ("Rp18,5 ribu", "Rp18,5 ri", ""),  # a piece of "ribu"
    ],
)
def test_a_cut_that_shows_without_an_ellipsis_is_still_the_story(
    price: str, until: str, then: str
) -> None:
    r = REPORTS[2]
    whole = r.text.format(price=price, date="(1/12)", pct="4,5 persen")
    cut = whole[: whole.index(until[:-1]) + len(until) - 1] + then
    assert not cut.endswith(until) or then  # (the cut is inside the figure)
    assert same_story(_doc(r, whole), _doc(r, cut, hours=2), WINDOW), cut


def test_a_description_that_ends_with_a_whole_score_keeps_it() -> None:
    """Precision first: "... dengan skor 4-2." ends many real descriptions, and the score is
    what keeps two matches of one team apart."""
    text = (
        "Tim nasional menutup rangkaian uji coba di stadion utama pada Selasa malam dan "
        "harus mengakui keunggulan tim tamu yang tampil lebih disiplin sepanjang laga "
        "sehingga tim nasional kalah dengan skor 2-4."
    )
    sig = events.signature(Doc(title="Timnas kalah dalam uji coba", summary=text, published_at=T0))
    assert "score:2-4" in sig.figures


def test_two_editions_whose_descriptions_end_with_their_prices_stay_apart() -> None:
    """A description may end with a whole figure ("... seharga Rp1.524.000."): read as a
    possibly cut one and dropped, two days' editions of a template were one text."""
    text = (
        "Harga jual emas batangan di butik logam mulia kawasan timur kota pada perdagangan "
        "hari ini tercatat seharga {}."
    )
    r = REPORTS[0]
    a, b = _doc(r, text.format("Rp1.524.000")), _doc(r, text.format("Rp1.530.000"), hours=24)
    assert not same_story(a, b, WINDOW)


# --- as a user meets it -----------------------------------------------------------------------


def test_one_report_in_three_dresses_is_one_alert_through_the_cli(tmp_path: Path) -> None:
    """Antara's main site with a pull quote, a rerun writing the price with cents and the
    day in words, and a feed that cuts its description inside a percentage: one story,
    one alert listing the other two outlets (before the fixes above: two stories, two
    alerts)."""
    r = REPORTS[0]
    quote = "Pedagang di pasar perhiasan mencatat pembeli mulai berdatangan sejak pagi"
    antara = f"{quote}. Jakarta (ANTARA) - " + r.text.format(
        price="Rp1.524.000", date="Senin (24/11)", pct="0,66 persen"
    )
    republika = "REPUBLIKA.CO.ID, JAKARTA -- " + r.text.format(
        price="Rp 1.524.000,00", date="Senin, 24 November 2025", pct="0,66%"
    )
    whole = "JAKARTA, KOMPAS.com - " + r.text.format(
        price="Rp1,524 juta", date="Senin (24/11)", pct="0,66 persen"
    )
    kompas = whole[: whole.index("0,66") + 3] + "..."  # "... setara 0,6..."
    now = datetime.now(timezone.utc)
    with LoopbackServer() as srv:
        feeds = []
        for k, (outlet, text) in enumerate(
            [("Antara", antara), ("Republika", republika), ("Kompas", kompas)]
        ):
            link = f"https://{outlet.lower()}.example/berita/emas-{k}"
            entry = Entry(link, r.title, text, link, now - timedelta(minutes=30 - 5 * k))
            feeds.append((outlet, srv.static(f"/{outlet}.xml", rss(outlet, [entry]))))
        topics = "topics:\n  - {name: Emas, query: 'emas', notify: [log]}\n" + (
            "notifiers:\n  log: {type: console}\n"
        )
        cfg = write_config(tmp_path, feeds, topics)
        run = pantau("--config", str(cfg), "run", "--once")
        assert run.returncode == 0, run.stderr
    stories = json.loads(pantau("--config", str(cfg), "stories", "--json").stdout)
    assert len(stories) == 1, [s["items"] for s in stories]
    alerts = [ln for ln in run.stdout.splitlines() if ln.startswith("[pantau] Emas")]
    assert len(alerts) == 1, run.stdout
    outlet = alerts[0].split(" | ")[1]
    assert set(alerts[0].rsplit("juga: ", 1)[1].split(", ")) == (
        {"Antara", "Republika", "Kompas"} - {outlet}
    )
