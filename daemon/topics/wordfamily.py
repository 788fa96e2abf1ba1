"""Indonesian word families for ``root~`` queries, generated once when the config loads.

Why rules and not a stemmer: stemming every word at match time is slow and wrong in exactly
the cases that matter ("terserang" = falls ill, "pemerintah" = government are not attacks or
orders). Generating the derivations of the *root the operator wrote* gives a finite, explicit
set of exact words that the matcher puts in its dictionary; a form that is not generated is
simply not matched, which is better than an over-broad family raising false alerts.

Included (with the meN-/peN- nasal rules: mem-/men-/meny-/meng-/menge-, initial k/p/t/s
dropped unless followed by a consonant, and also kept, as news writes it): the root;
root-an/-kan/-i; meN-, meN-…-kan, meN-…-i; di-, di-…-kan, di-…-i; peN-, peN-…-an; a bare
pe-, pe-…-an (petinju, pedesaan); ke-…-an; per-…-an; memper-/diper-(…-kan/-i); ber-/be-
(…-an/-kan), and inside memper-/di-/pember-…-an/keber-…-an (memberdayakan, keberhasilan);
each also with the clitics -nya, -lah, -kah. Sastrawi's stemmer test pairs
(github.com/sastrawi/sastrawi) are the outside check: docs/design.md, "Word families".

Deliberately excluded: ter- (terserang "falls ill", tertarik "interested", terlalu "too":
its meanings drift; write ``(serang~ OR terserang)`` to opt in), bare ke-/se-/per- (collide
with unrelated words: ke+tua = ketua "chairman"), and a short list of lexicalised words whose
meaning left the root (pemerintah, penduduk, pengadilan, ...).
"""

from __future__ import annotations

VOWELS = frozenset("aeiou")
CLITICS = ("", "nya", "lah", "kah")

# Derivations whose meaning drifted far from the root and that are frequent in news.
LEXICALISED = frozenset(
    {
        "pemerintah",  # government, not "order"
        "pemerintahan",
        "penduduk",  # resident, not "sit"
        "kependudukan",
        "pendapat",  # opinion, not "get"
        "pendapatan",  # income
        "pengadilan",  # court, not "just"
        "pengacara",  # lawyer, not "event"
        "perempuan",  # woman
        "pelabuhan",  # port
        "perusahaan",  # company, not "effort"
        # read off the 1,908 real 2025 articles, the families of 40 news roots
        "ketahanan",  # resilience, security (ketahanan pangan): 311 times; not "detain"
        "pertahanan",  # defence (Kementerian Pertahanan), not "detain"
        "mengenai",  # "about, regarding": 66 times; not "hit"
        "penghargaan",  # an award, not a price
        # a kept consonant or a bare pe- that makes another word
        "menteri",  # minister (men+teri: anchovy)
        "mentari",  # sun (men+tari: dance)
        "mentega",  # butter (men+tega: heartless)
        "pentas",  # stage (pen+tas: bag)
        "pegawai",  # employee (pe+gawai: gadget)
        "petang",  # evening (pe+tang: pliers)
        "petinggi",  # senior official, not "high"
    }
)

# Forms of a root that spell another, commoner word: ber+ikan (fish) is "berikan" (give),
# and so are the memberikan and diberikan the nested ber- builds from it (one of the three
# is in 201 of the 1,908 real 2025 articles; a topic on fisheries must not follow gifts).
COLLISIONS: dict[str, frozenset[str]] = {
    "ikan": frozenset({"berikan", "memberikan", "diberikan"}),
}

# ber-/peN- forms that do not follow the rules.
IRREGULAR = {
    "ajar": ("belajar", "pelajar", "pelajaran", "mempelajari", "dipelajari"),
    "kerja": ("bekerja", "pekerja", "pekerjaan", "berkerja"),
    "ternak": ("beternak", "peternak", "peternakan"),
}


def _syllables(word: str) -> int:
    count, prev = 0, False
    for c in word:
        v = c in VOWELS
        if v and not prev:
            count += 1
        prev = v
    return count


def nasal_stems(root: str) -> list[str]:
    """What follows me-/pe- for meN-/peN-: serang -> nyerang, pukul -> mukul, ambil ->
    ngambil; monosyllables take nge- (bom -> ngebom) and keep the regular form too. k, p,
    t and s before a vowel are dropped by the rule and kept by much of the news (loanwords
    above all: mensosialisasikan, mempengaruhi, mentaati, pengkajian): both forms."""
    r = root
    c0 = r[0]
    cluster = len(r) > 1 and c0 not in VOWELS and r[1] not in VOWELS
    if c0 in VOWELS or c0 in "gh":
        out = ["ng" + r]
    elif c0 == "k":
        out = ["ng" + r] if cluster else ["ng" + r[1:], "ng" + r]
    elif c0 in "bfv":
        out = ["m" + r]
    elif c0 == "p":
        out = ["m" + r] if cluster else ["m" + r[1:], "m" + r]
    elif c0 in "dcjz":
        out = ["n" + r]
    elif c0 == "t":
        out = ["n" + r] if cluster else ["n" + r[1:], "n" + r]
    elif c0 == "s":
        out = ["n" + r] if cluster else ["ny" + r[1:], "n" + r]
    elif c0 in "qx":
        out = ["ng" + r]
    else:  # l m n r w y (and ny-, ng-): plain me-/pe-
        out = [r]
    if _syllables(r) == 1:
        out.append("nge" + r)
    return out


def _with_suffixes(stem: str, root: str, suffixes: tuple[str, ...]) -> list[str]:
    out = []
    for suf in suffixes:
        if suf == "i" and root.endswith("i"):
            continue
        out.append(stem + suf)
    return out


def _bases(root: str) -> set[str]:
    nasal = nasal_stems(root)
    verb_suffixes = ("", "kan", "i")
    forms: set[str] = set(_with_suffixes(root, root, ("", "an", "kan", "i")))
    for n in nasal:
        forms.update(_with_suffixes("me" + n, root, verb_suffixes))
        forms.update(("pe" + n, "pe" + n + "an"))
    forms.update(_with_suffixes("di" + root, root, verb_suffixes))
    forms.update(_with_suffixes("memper" + root, root, verb_suffixes))
    forms.update(_with_suffixes("diper" + root, root, verb_suffixes))
    forms.update(("ke" + root + "an", "per" + root + "an"))
    forms.update(("pe" + root, "pe" + root + "an"))  # a bare pe-: petinju, pebalap, petani
    ber = "be" if root.startswith("r") else "ber"
    forms.update(_with_suffixes(ber + root, root, ("", "an", "kan")))
    # ber- inside other affixes: memberdayakan, pemberhentian, keberhasilan
    for outer in ("mem", "di"):
        forms.update(_with_suffixes(outer + ber + root, root, verb_suffixes))
    forms.update(("pem" + ber + root + "an", "ke" + ber + root + "an"))
    forms.update(IRREGULAR.get(root, ()))
    return forms - LEXICALISED - COLLISIONS.get(root, frozenset())


def word_family(root: str) -> frozenset[str]:
    """The lower-cased exact words of ``root``'s family, the root included."""
    root = root.lower()
    if not root.isalpha():
        raise ValueError(f"a word-family root must be letters only: {root!r}")
    return frozenset(base + clitic for base in _bases(root) for clitic in CLITICS)
