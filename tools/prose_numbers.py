"""Every number in a chapter's prose is printed by that chapter, cited, or marked as given.

The preface promises that what a reader reads is what the code printed. This
module finds the numbers in a chapter's markdown cells (folded solutions and
"in our run" remarks included) and checks each against the chapter's stored
text outputs, after the prose's own rounding: "about 0.3" is printed by a cell
that shows 0.31, "0.46" is not printed by one that shows 0.47.

A number needs no printed counterpart when

- its sentence cites a source (``{cite:p}``, ``{cite:t}`` or a link to a paper
  or page outside the book), or an earlier sentence of its paragraph does and
  it does not speak of the book's own results ("our", "we", "the cell
  below", "here", ...);
- it is part of a formula (``$...$``) or of code (backticks): a definition or a
  setting the reader sees in the code itself;
- it is a small count (an integer below 10), a year after a name or in
  parentheses, or a reference to a chapter, exercise, section, cell, figure or
  equation; or
- the cell marks it, invisibly to readers (an HTML comment is dropped by the
  book and by Colab), as a definition or chosen setting:
  ``<!-- given: 1000 (the step budget), 2e-4 (Adam's rate) -->``. Each listed
  number must occur in the cell, so a marker cannot outlive its sentence.

Pages without code (the preface, the FAQ, the glossary) are checked against
the outputs of every chapter.

    python tools/prose_numbers.py            # every page's unprinted numbers
    python tools/prose_numbers.py book/cnn.ipynb
"""
from __future__ import annotations

import argparse
import html
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tools.chapters import chapter_notebooks  # noqa: E402
from tools.nbtools import BOOK  # noqa: E402

# A number as prose writes it: an optional sign, digits with optional thousands commas, decimals, an exponent
# (5e3, 1.2e-4), then an optional scale (%, k, M, G, million, ...).
_NUMBER = re.compile(
    r"(?<![\w.\-−])(?P<sign>[-−])?(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<dec>\d+))?"
    r"(?:[eE](?P<exp>[-+−]?\d+))?"
    r"(?:(?P<pct>\s?%)|(?P<scale>\s?(?:[kKMGB]|thousand|million|billion|trillion))(?![\w]))?"
    r"(?![\w])"
)
_SCALES = {"k": 1e3, "K": 1e3, "thousand": 1e3, "M": 1e6, "million": 1e6, "G": 1e9, "B": 1e9, "billion": 1e9,
           "trillion": 1e12}
_MARKER = re.compile(r"<!--\s*given:(?P<body>.*?)-->", re.S)
_CITE_MARK = " \u27e6cite\u27e7 "   # what a citation or an outside link leaves in the stripped prose
_REFERENCE = re.compile(
    r"(?:chapter|chapters|exercise|exercises|section|sections|cell|cells|figure|figures|equation|eq\.|part|"
    r"version|python|pytorch|torch|ch\.|gtx|rtx|#)\s*$",
    re.I,
)


@dataclass(frozen=True)
class Number:
    text: str         # as written, e.g. "0.46", "11,378,179", "5e3", "12%"
    value: float      # in the prose's own unit (12% -> 12.0, 10.8 M -> 10.8)
    decimals: int     # digits after the point of the mantissa
    exponent: int     # 5e3 -> 3, else 0
    scale: float      # 1, 100 for a percentage read as a fraction, 1e6 for "M", ...
    percent: bool


@dataclass(frozen=True)
class Finding:
    page: str
    cell: int
    number: str
    sentence: str

    def __str__(self) -> str:
        return f"{self.page} cell {self.cell}: {self.number!r} in: {self.sentence}"


def parse_numbers(text: str):
    """Yield (match, Number) for each number in ``text``."""
    for m in _NUMBER.finditer(text):
        sign = -1.0 if m.group("sign") else 1.0
        mantissa = float(m.group("int").replace(",", "") + ("." + m.group("dec") if m.group("dec") else ""))
        exponent = int(m.group("exp").replace("−", "-")) if m.group("exp") else 0
        scale_word = (m.group("scale") or "").strip()
        yield m, Number(
            text=m.group(0).strip(),
            value=sign * mantissa,
            decimals=len(m.group("dec") or ""),
            exponent=exponent,
            scale=_SCALES.get(scale_word, 1.0),
            percent=bool(m.group("pct")),
        )


def output_values(text: str) -> set[float]:
    """Every number in printed output, as a plain value (a printed "12%" is 12, "3.7 M" is 3.7e6, "5e3" 5000)."""
    values = set()
    for _, n in parse_numbers(text):
        values.add(n.value * 10 ** n.exponent * n.scale)
    return values


def _rounds_to(printed: float, n: Number) -> bool:
    """Whether a printed value, rounded as the prose rounds, reads as the prose number."""
    target = n.value
    candidates = [printed / 10 ** n.exponent / n.scale]
    if n.percent:
        candidates.append(printed * 100)          # a printed fraction, written as a percentage
    places = n.decimals
    if n.decimals == 0 and n.exponent == 0 and target != 0:
        digits = str(int(abs(target)))
        places = -(len(digits) - len(digits.rstrip("0")))   # "13,000" is rounded to thousands, "700" to hundreds
    for c in candidates:
        if math.isclose(round(c, places), target, rel_tol=1e-9, abs_tol=1e-12):
            return True
    return False


def is_printed(n: Number, printed: set[float]) -> bool:
    if n.exponent or n.scale != 1.0:
        return any(_rounds_to(p, n) for p in printed) or (n.value * 10 ** n.exponent * n.scale) in printed
    # compare the magnitude too: prose often writes "-0.3" as "0.3" when it says "a drop of 0.3"
    return any(_rounds_to(p, n) or _rounds_to(-p, n) for p in printed)


def _link_labels(text: str) -> set[str]:
    """The labels of a cell's reference-style links (``[issue #592]: https://...``)."""
    return {m.group(1).lower() for m in re.finditer(r"^\[([^\]]+)\]:\s*\S+", text, re.M)}


def _strip(text: str) -> str:
    """Prose without what is not prose: formulas, code, HTML tags and comments, link targets, image paths."""
    text = _MARKER.sub(" ", text)
    text = re.sub(r"^\[[^\]]+\]:\s*\S+.*$", " ", text, flags=re.M)    # link definitions
    text = re.sub(r"^#+\s+\d+\.", "#", text, flags=re.M)             # a chapter's number in its title
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.S)
    text = re.sub(r"\{cite(?::\w+)?\}`[^`]*`", _CITE_MARK, text)
    text = re.sub(r"\]\(https?://[^)]*\)|<https?://[^>]*>", "]" + _CITE_MARK, text)   # a link to a source outside the book
    text = re.sub(r"\]\([^)]*\)", "]", text)                      # link targets inside the book
    text = re.sub(r"\{(?:ref|numref|doc|download|eq)\}`[^`]*`", " ", text)
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r"^(?::::*|```)\{.*$", " ", text, flags=re.M)   # directive lines ({figure}, {note}, ...)
    text = re.sub(r"^:\w[\w-]*:.*$", " ", text, flags=re.M)       # directive options (:width: 60%)
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)
    text = re.sub(r"(?<!\\)\$[^$\n]+?(?<!\\)\$", " ", text)
    text = re.sub(r"``[^`]+``|`[^`\n]+`", " ", text)
    text = re.sub(r"<[^>\n]+>", " ", text)                         # HTML tags (keep their text)
    return html.unescape(text)


def _paragraphs(text: str):
    """Each paragraph of prose as a list of sentences."""
    for paragraph in re.split(r"\n\s*\n", text):
        paragraph = re.sub(r"\s+", " ", paragraph).strip()
        if paragraph:
            yield re.split(r"(?<=[.!?])\s+(?=[A-Z(\"'*_\u27e6])", paragraph)


# A sentence about the book's own results is never covered by a citation earlier in its paragraph.
_OURS = re.compile(r"\b(?:our|ours|we|cell|cells|below|above|here|printed|this chapter|this book)\b", re.I)


def _exempt(sentence: str, m: re.Match, n: Number) -> bool:
    before = sentence[: m.start()]
    after = sentence[m.end():]
    if n.exponent == 0 and n.scale == 1.0 and not n.percent and n.decimals == 0 and 0 <= n.value < 10:
        return True                                   # small counts: "two layers", "3 channels"
    if n.decimals == 0 and 1940 <= n.value <= 2030 and (
        re.search(r"(et al\.,?|\(|in|and|since|,)\s*$", before, re.I) or re.match(r"\s*[),;]", after)
    ):
        return True                                   # a year: "Goodfellow et al. 2014", "(2017)"
    if n.decimals == 0 and 1940 <= n.value <= 2030 and (
        re.search(r"(from|to|–)\s*$", before) or re.match(r"\s*(–|to\s+(19|20)\d\d)", after)
    ):
        return True                                   # a span of years: "from 2020 to 2025", "2020–2025"
    if n.decimals == 0 and (re.search(r"\d\s*[x×]\s*$", before) or re.match(r"\s*[x×]\s*\d", after)):
        return True                                   # a size: "256×256", "3 x 3", "32x32"
    if _REFERENCE.search(before) and n.decimals == 0 and not n.percent:
        return True                                   # "chapter 9", "exercise 4", "PyTorch 2"
    return False


def _given(source: str) -> list[str]:
    """The numbers the cell's ``given:`` markers list (each may carry a reason in parentheses)."""
    items = []
    for marker in _MARKER.finditer(source):
        body = re.sub(r"\([^()]*\)", "", marker.group("body"))
        items += [item.strip() for item in re.split(r"[;,]\s+", body) if item.strip()]
    return items


def cell_numbers(source: str):
    """(number, sentence) for each number in a markdown cell that needs a printed counterpart or a citation."""
    given = set(_given(source))
    labels = _link_labels(source)
    prose = _strip(source)
    for paragraph in _paragraphs(prose):
        cited = False   # a citation covers its sentence and the rest of its paragraph, but never our own results
        for sentence in paragraph:
            cites = _CITE_MARK.strip() in sentence or any(f"[{label}]" in sentence.lower() for label in labels)
            cited = cited or cites
            covered = cites or (cited and not _OURS.search(sentence))
            for m, n in parse_numbers(sentence):
                if n.text in given or covered or _exempt(sentence, m, n):
                    continue
                yield n, sentence.strip()


def stale_markers(source: str) -> list[str]:
    """Numbers a ``given:`` marker lists that the cell's prose does not contain."""
    prose = _strip(source)
    written = {n.text for _, n in parse_numbers(prose)}
    return [item for item in _given(source) if item not in written]


def printed_text(nb) -> str:
    """Every text output a chapter stores: streams, text/plain and text/html (tags dropped)."""
    parts = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                parts.append(out.get("text", ""))
            elif out.get("output_type") in ("execute_result", "display_data"):
                data = out.get("data", {})
                if "text/html" in data:
                    parts.append(re.sub(r"<[^>]+>", " ", "".join(data["text/html"])))
                elif "text/plain" in data:
                    parts.append("".join(data["text/plain"]))
    return html.unescape("\n".join(parts))


def markdown_cells(path: Path):
    """(index, source) for each prose cell of a page: a notebook's markdown cells, or a .md page as one cell."""
    if path.suffix == ".ipynb":
        nb = nbformat.read(path, as_version=4)
        return [(i, c.source) for i, c in enumerate(nb.cells) if c.cell_type == "markdown"]
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S)    # front matter
    return [(0, text)]


def unprinted(path: Path, printed: set[float] | None = None) -> list[Finding]:
    """The numbers of a page's prose that no output of it prints (nor cites, nor marks as given)."""
    if printed is None:
        printed = output_values(printed_text(nbformat.read(path, as_version=4)))
    findings = []
    for index, source in markdown_cells(path):
        for n, sentence in cell_numbers(source):
            if not is_printed(n, printed):
                findings.append(Finding(path.name, index, n.text, sentence))
        for item in stale_markers(source):
            findings.append(Finding(path.name, index, item, "(listed in a given: marker, but not in the cell)"))
    return findings


def book_pages() -> tuple[list[Path], list[Path]]:
    """(chapters, prose pages) in the book's order."""
    chapters = chapter_notebooks()
    pages = [p for p in sorted(BOOK.glob("*.md")) if p.name != "bibliography.md"]
    return chapters, pages


def all_printed() -> set[float]:
    chapters, _ = book_pages()
    values: set[float] = set()
    for path in chapters:
        values |= output_values(printed_text(nbformat.read(path, as_version=4)))
    return values


def check(paths: list[Path]) -> list[Finding]:
    findings = []
    everything = None
    for path in paths:
        if path.suffix == ".md":
            everything = everything if everything is not None else all_printed()
            findings += unprinted(path, everything)
        else:
            findings += unprinted(path)
    return findings


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("pages", nargs="*", type=Path)
    args = parser.parse_args(argv)
    if args.pages:
        paths = args.pages
    else:
        chapters, pages = book_pages()
        paths = chapters + pages
    findings = check([p.resolve() for p in paths])
    for f in findings:
        print(f)
    print(f"{len(findings)} unprinted numbers", file=sys.stderr)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
