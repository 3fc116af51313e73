"""Getting the story right: every bibliography entry is complete (authors, title, venue, year, the arXiv id
where the work is on arXiv), every entry is cited, and no page credits the wrong people.

The attribution checks read every page's text: the chapters' markdown and outputs, the .md pages, and, when
the book has been built (``jupyter-book build .``), the HTML readers see.
"""
import re
from html.parser import HTMLParser

import nbformat
import pytest
from pybtex.database import parse_file

from tools.nbtools import BOOK, ROOT, chapter_notebooks

BIB = parse_file(str(ROOT / "references.bib"))
CITE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")

# Works that are not on arXiv, and why. Anything else from 1991 (arXiv's start) on must carry its arXiv id.
NO_ARXIV = {
    "jaccard1912distribution": "1912", "mcculloch1943logical": "1943", "matheron1963principles": "1963",
    "rosenblatt1958perceptron": "1958", "minsky1969perceptrons": "1969 book",
    "rumelhart1986backprop": "1986", "cybenko1989approximation": "1989", "hornik1989multilayer": "1989",
    "elman1990finding": "1990", "bengio1994learning": "IEEE TNN 1994, not posted to arXiv",
    "hochreiter1997lstm": "Neural Computation 1997, not posted to arXiv",
    "lecun1998gradient": "Proc. IEEE 1998, not posted to arXiv",
    "gers2000forget": "Neural Computation 2000, not posted to arXiv",
    "hinton2006reducing": "Science 2006, not posted to arXiv",
    "deng2009imagenet": "CVPR 2009, not posted to arXiv",
    "glorot2010understanding": "AISTATS 2010, not posted to arXiv",
    "lecun1998efficient": "a 1998 book chapter (Neural Networks: Tricks of the Trade), not posted to arXiv",
    "nair2010relu": "ICML 2010, not posted to arXiv",
    "krizhevsky2012imagenet": "NIPS 2012, not posted to arXiv",
    "odena2016deconvolution": "a Distill article", "olah2017feature": "a Distill article",
    "buolamwini2018gender": "FAT* 2018 (PMLR), not posted to arXiv",
    "raissi2019pinn": "J. Comput. Phys. 2019; it merges two 2017 arXiv preprints, neither of which is this paper",
    "jumper2021alphafold": "Nature 2021, not posted to arXiv",
    "karpathy2015unreasonable": "a blog post", "karpathy2022nanogpt": "software",
    "radford2019language": "an OpenAI technical report",
}
VENUE = {"article": ("journal",), "inproceedings": ("booktitle",), "incollection": ("booktitle",), "book": ("publisher",),
         "techreport": ("institution",), "misc": ("eprint", "howpublished", "url")}


def book_texts() -> dict[str, str]:
    """Every page's text by name: markdown pages, and each notebook's markdown cells plus its text outputs."""
    texts = {p.name: p.read_text() for p in BOOK.glob("*.md")}
    for path in chapter_notebooks():
        nb = nbformat.read(path, as_version=4)
        parts = []
        for c in nb.cells:
            if c.cell_type == "markdown":
                parts.append(c.source)
            for out in c.get("outputs", []):
                parts.append(out.get("text", "") + out.get("data", {}).get("text/plain", ""))
        texts[path.name] = "\n\n".join(parts)
    return texts


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts, self.skip = [], 0

    def handle_starttag(self, tag, attrs):
        self.skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self.skip -= tag in ("script", "style") and self.skip > 0

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def built_pages() -> dict[str, str]:
    html = ROOT / "_build" / "html"
    pages = {}
    for path in sorted(html.rglob("*.html")) if html.is_dir() else []:
        if "_static" in path.parts or path.name in ("genindex.html", "search.html"):
            continue
        parser = _Text()
        parser.feed(path.read_text(encoding="utf-8", errors="replace"))
        pages[str(path.relative_to(html))] = " ".join(parser.parts)
    return pages


def sentences(text: str) -> list[str]:
    text = re.sub(r"\s+", " ", text)
    return [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z\"(*])|\n\n", text) if s.strip()]


def misattributions(text: str) -> list[str]:
    """Sentences that credit Karpathy with the Transformer or CycleGAN, call pix2pix's paper CycleGAN's,
    give CycleGAN a Wasserstein loss, or credit Bahdanau et al. with the dot-product score (theirs was
    additive; the dot product is Luong et al.'s), unless the sentence says that this is *not* so."""
    negated = re.compile(r"\b(not|no|neither|nor|never|isn't|wasn't|didn't|doesn't)\b|n't\b", re.I)
    bad = []
    for s in sentences(text):
        if re.search(r"Karpathy", s) and re.search(r"Transformer|CycleGAN|attention is all", s, re.I):
            if re.search(r"\b(invent|creat|introduc|propos|author|wrote|develop|design)", s, re.I) \
                    and not negated.search(s):
                bad.append(s)
        if re.search(r"Image-to-Image Translation with Conditional Adversarial Networks", s, re.I):
            if re.search(r"CycleGAN", s) and not (negated.search(s) or re.search(r"pix2pix|Isola", s)):
                bad.append(s)
        if re.search(r"CycleGAN", s) and re.search(r"Wasserstein|WGAN", s) and re.search(r"\buses?\b|\btrain", s) \
                and not (negated.search(s) or re.search(r"least[- ]squares|LSGAN", s)):
            bad.append(s)
        if re.search(r"Bahdanau", s) and re.search(r"dot[- ]product", s, re.I) \
                and not (negated.search(s) or re.search(r"Luong|additive", s)):
            bad.append(s)
    return bad


@pytest.mark.parametrize("key", sorted(BIB.entries))
def test_every_entry_is_complete(key):
    e = BIB.entries[key]
    assert e.persons.get("author") or e.persons.get("editor"), "no authors"
    assert e.fields.get("title"), "no title"
    year = e.fields.get("year", "")
    assert re.fullmatch(r"\d{4}", year), "no year"
    assert any(e.fields.get(f) for f in VENUE[e.type]), f"@{e.type} needs one of {VENUE[e.type]} (its venue)"
    eprint = e.fields.get("eprint")
    if key in NO_ARXIV:
        assert eprint is None, f"{key} is listed as not on arXiv but has eprint {eprint}"
        return
    assert int(year) < 1991 or eprint, "a work from the arXiv era needs its arXiv id (or a reason in NO_ARXIV)"
    assert e.fields.get("archivePrefix") == "arXiv", "eprint without archivePrefix = {arXiv}"
    m = re.fullmatch(r"(\d{2})(\d{2})\.\d{4,5}", eprint)
    assert m, f"not a modern arXiv id: {eprint}"
    # an id names the month of announcement: a paper posted on 31 December gets January's
    assert 2000 + int(m.group(1)) <= int(year) + 1, f"arXiv id {eprint} is from after the entry's year {year}"


def test_every_entry_is_cited_and_every_citation_resolves():
    texts = book_texts()
    cited = {k.strip() for t in texts.values() for m in CITE.findall(t) for k in m.split(",")}
    assert cited - set(BIB.entries) == set(), "cited keys missing from references.bib"
    assert set(BIB.entries) - cited == set(), "entries nobody cites: cite them or remove them"


def test_the_checker_catches_misattributions():
    assert misattributions("Andrej Karpathy invented the Transformer in 2017.")
    assert misattributions("CycleGAN, introduced by Karpathy, translates images.")
    assert misattributions('CycleGAN\'s paper, "Image-to-Image Translation with Conditional Adversarial '
                           'Networks", came out in 2017.')
    assert misattributions("CycleGAN uses a Wasserstein loss.")
    assert not misattributions("Karpathy did not create the Transformer (Vaswani et al.) or CycleGAN.")
    assert not misattributions('"Image-to-Image Translation with Conditional Adversarial Networks" is pix2pix, '
                               "by Isola et al., not CycleGAN.")
    assert not misattributions("CycleGAN uses a least-squares loss, not a Wasserstein one.")
    assert not misattributions("Karpathy's nanoGPT trains a small Transformer.")
    assert misattributions("Bahdanau et al. introduced dot-product attention for translation.")
    assert not misattributions("Bahdanau et al. scored with a small MLP (additive attention); Luong et al. used "
                               "the dot product.")


def test_no_page_credits_the_wrong_people():
    pages = {**book_texts(), **built_pages()}
    assert pages
    found = {name: bad for name, text in pages.items() if (bad := misattributions(text))}
    assert found == {}
