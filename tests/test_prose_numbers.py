"""Every number a chapter's prose states is printed by that chapter, cited, or marked as given.

The preface promises that what a reader reads is what the code printed. These tests hold every page
to it (tools/prose_numbers.py says how a number is matched), and check that the check itself catches
a wrong number, a number no cell prints, and a marker that outlived its sentence.
"""
import nbformat
import pytest

from tools.chapters import chapter_notebooks
from tools.nbtools import BOOK
from tools.prose_numbers import (all_printed, cell_numbers, is_printed, output_values, parse_numbers,
                                 printed_text, stale_markers, unprinted)

CHAPTERS = chapter_notebooks()
PAGES = sorted(p for p in BOOK.glob("*.md") if p.name != "bibliography.md")


def _number(text):
    (_, n), = parse_numbers(text)
    return n


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_number_in_a_chapter_is_printed_cited_or_given(path):
    findings = unprinted(path)
    assert not findings, "numbers no cell of the chapter prints:\n" + "\n".join(map(str, findings))


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.stem)
def test_every_number_on_a_page_is_printed_somewhere_cited_or_given(path):
    findings = unprinted(path, all_printed())
    assert not findings, "numbers no chapter prints:\n" + "\n".join(map(str, findings))


@pytest.mark.parametrize("prose, printed, matches", [
    ("about 0.3", "loss 0.31", True),            # the prose may round more than the output
    ("0.46", "accuracy 0.47", False),            # but not to a different value
    ("0.465", "accuracy 0.47", False),           # nor claim more digits than were printed
    ("about 13,000 steps", "after 13,444 steps", True),   # trailing zeros round to that place
    ("about 13,000 steps", "after 13,544 steps", False),
    ("12%", "a share of 0.12", True),            # a percentage of a printed fraction
    ("12%", "a share of 0.21", False),
    ("10.8 M", "10,825,063 parameters", True),   # a scale word or letter
    ("70 billion", "70 billion parameters", True),
    ("5e3", "ratio 5e+03", True),
    ("5e3", "ratio 6e+03", False),
    ("-0.3", "a drop of 0.3", True),             # a drop written with or without its sign
])
def test_numbers_match_after_the_prose_rounding(prose, printed, matches):
    assert is_printed(_number(prose), output_values(printed)) is matches


def _prose(source):
    return [n.text for n, _ in cell_numbers(source)]


def test_definitions_settings_citations_and_small_counts_need_no_printed_counterpart():
    assert _prose("Two layers of 3 x 3 kernels, 256×256 images, since 2014, chapter 10.") == []
    assert _prose("The step size is $\\eta = 0.5$ and `lr=2e-4` in the code.") == []
    assert _prose("They report 26.8% of trials {cite:p}`zhu2017cyclegan`.") == []
    assert _prose("Kaplan et al. {cite:p}`kaplan2020scaling` fit power laws. Over 400 models were trained.") == []
    # a citation earlier in the paragraph does not cover the book's own results
    assert _prose("Kaplan et al. {cite:p}`kaplan2020scaling` fit power laws. In our run the loss was 1.37.") == ["1.37"]
    assert _prose("We train for 1000 steps.\n<!-- given: 1000 (the budget) -->") == []


def test_a_marker_must_name_a_number_its_cell_still_states():
    assert stale_markers("We train for 1000 steps.\n<!-- given: 1000 (the budget) -->") == []
    assert stale_markers("We train for 2000 steps.\n<!-- given: 1000 (the budget) -->") == ["1000"]


def _planted(tmp_path, old, new):
    """A copy of chapter 1 with one sentence of its prose changed."""
    nb = nbformat.read(BOOK / "mlp.ipynb", as_version=4)
    hits = [c for c in nb.cells if c.cell_type == "markdown" and old in c.source]
    assert len(hits) == 1, old
    hits[0].source = hits[0].source.replace(old, new)
    path = tmp_path / "mlp.ipynb"
    nbformat.write(nb, path)
    return path


def test_the_check_catches_a_planted_wrong_number(tmp_path):
    # Chapter 1 prints the 2000-point network's test accuracy as 0.63. The check matches a number against
    # everything the chapter prints, so a wrong number that happens to equal some other printed value
    # (0.59 is also SGD's loss there) passes it: that is what reading is for. The planted number is the
    # nearest wrong value the chapter prints nowhere.
    assert unprinted(BOOK / "mlp.ipynb") == []
    printed = output_values(printed_text(nbformat.read(BOOK / "mlp.ipynb", as_version=4)))
    wrong = next(f"{v / 100:.2f}" for v in range(64, 100) if not is_printed(_number(f"{v / 100:.2f}"), printed))
    path = _planted(tmp_path, "train and test agree, 0.64 and 0.63.", f"train and test agree, 0.64 and {wrong}.")
    assert [f.number for f in unprinted(path)] == [wrong]


def test_the_check_catches_an_unprinted_result(tmp_path):
    path = _planted(tmp_path, "Many more: roughly ten times as many.",
                    "Many more: roughly ten times as many. In our run SGD needed 12,345 steps.")
    assert [f.number for f in unprinted(path)] == ["12,345"]
