"""The docs name the tree as it is: every module path that README.md and docs/design.md name
exists (with the function or class they name in it), and README.md's Layout block names every
module of the package, so neither can go stale silently when a module moves or arrives."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "daemon"
DOCS = [ROOT / "README.md", ROOT / "docs" / "design.md"]
SUBPACKAGES = sorted(p.name for p in PKG.iterdir() if (p / "__init__.py").exists())
TOP_DIRS = ("tests", "bench", "docs", "migrations", "systemd")

# `feeds/poll.record_poll`, daemon/storage/, `pipeline/prepare`, tests/smtpstub.py
_SUB = "|".join(SUBPACKAGES)
_PATH_RE = re.compile(
    rf"(?<![\w/.-])(?:daemon/)?(?:{_SUB})/(?:[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)?/?"
    rf"|(?<![\w/.-])daemon/(?:[a-z_]\w*(?:\.py)?)?"
    rf"|(?<![\w/.-])(?:{'|'.join(TOP_DIRS)})/[\w./-]*"
)
# a bare module file in backticks: `retry.py` (a module of daemon/ itself)
_BARE_RE = re.compile(r"`([a-z_]\w*\.py)`")


def _resolve(ref: str) -> str | None:
    """None when ``ref`` names something that exists, else why not."""
    ref = ref.rstrip(".,;:)")
    parts = ref.split("/")
    if parts[0] in TOP_DIRS:
        return None if (ROOT / ref).exists() else f"{ref}: no such file"
    if parts[0] == "daemon":
        parts = parts[1:]
    *dirs, last = parts
    base = PKG.joinpath(*dirs)
    if not last:  # a directory: feeds/
        return None if base.is_dir() else f"{ref}: no such directory"
    if last.endswith(".py"):
        return None if (base / last).is_file() else f"{ref}: no such module"
    module, *attrs = last.split(".")
    if (base / module).is_dir() and not attrs:
        return None
    if not (base / f"{module}.py").is_file():
        return f"{ref}: no such module"
    obj: object = importlib.import_module(".".join(["daemon", *dirs, module]))
    for a in attrs:
        if not hasattr(obj, a):
            return f"{ref}: {a} is not in it"
        obj = getattr(obj, a)
    return None


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_module_path_the_docs_name_exists(doc: Path) -> None:
    text = doc.read_text()
    refs = {m.group(0) for m in _PATH_RE.finditer(text)}
    refs |= set(_BARE_RE.findall(text))
    assert len(refs) > 10, refs  # the patterns still find what the docs write
    missing = sorted(filter(None, map(_resolve, refs)))
    assert not missing, f"{doc.name} names what does not exist: {missing}"


def _layout_entries() -> dict[str, str]:
    """README.md's Layout block: the text of each package's entry, by package ('' for the
    modules of daemon/ itself). A line at two spaces opens an entry; deeper lines go on."""
    text = (ROOT / "README.md").read_text()
    block = text.split("## Layout", 1)[1].split("```", 2)[1]
    lines = block.splitlines()
    start = lines.index("daemon/")
    entries: dict[str, str] = {}
    current = ""
    for line in lines[start + 1 :]:
        if line and not line.startswith(" "):
            break  # past daemon/: migrations/, tests/ (checked as paths above)
        if line.startswith("  ") and not line.startswith("   "):
            head = line.split()[0]
            current = head[:-1] if head.endswith("/") else ""
            line = line.replace(head, "", 1) if head.endswith("/") else line
        entries[current] = entries.get(current, "") + " " + line.strip()
    return entries


def _names(entry: str) -> list[str]:
    """The module names of an entry: what stays outside its parentheses (descriptions)."""
    while (stripped := re.sub(r"\([^()]*\)", " ", entry)) != entry:
        entry = stripped
    return [t for t in re.split(r"[\s,+;]+", entry) if t]


def test_the_readme_layout_names_every_module_and_only_modules() -> None:
    entries = _layout_entries()
    assert set(SUBPACKAGES) <= set(entries), (
        f"sub-packages missing: {set(SUBPACKAGES) - set(entries)}"
    )
    problems = []
    for pkg, entry in entries.items():
        names = _names(entry)
        base = PKG / pkg
        for n in names:
            stem = n.removesuffix(".py").removesuffix("/")
            if not ((base / f"{stem}.py").is_file() or (base / stem).is_dir()):
                problems.append(f"{pkg or 'daemon'}/: {n!r} is not a module or directory")
        stems = {n.removesuffix(".py").removesuffix("/") for n in names}
        for f in sorted(base.glob("*.py")):
            if f.stem not in ("__init__", "__main__") and f.stem not in stems:
                problems.append(f"{pkg or 'daemon'}/{f.name} is not in README.md's Layout")
    assert not problems, "\n".join(problems)
