"""The book's own rules: every chapter is in the table of contents, follows the notebook
conventions and was executed by the project's script. (Citations: test_references.py.)"""
import json
import re
from pathlib import Path

import nbformat
import pytest
import yaml

from tools.nbtools import (BOOK, COLAB_TITLE, ROOT, SETUP_TAG, book_config, chapter_notebooks, repository_url,
                           setup_cell_source, wants_gpu)

NOTEBOOKS = chapter_notebooks()


def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [ch["file"] for ch in part.get("chapters", [])]
    return files


def test_there_is_at_least_one_chapter():
    assert NOTEBOOKS, "no notebooks found under book/"


def test_every_page_is_in_the_toc_and_every_toc_entry_exists():
    listed = set(toc_files())
    pages = {str(p.relative_to(ROOT).with_suffix("")) for p in BOOK.rglob("*") if p.suffix in (".md", ".ipynb")
             and "_build" not in p.parts and ".ipynb_checkpoints" not in p.parts}
    assert pages - listed == set(), "pages missing from _toc.yml"
    assert listed - pages == set(), "_toc.yml lists pages that do not exist"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_conventions(path: Path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# "), "must open with an H1 title"
    h1s = [line for c in nb.cells if c.cell_type == "markdown"
           for line in re.sub(r"(?ms)^```.*?^```", "", c.source).splitlines()  # not comments in code blocks
           if re.match(r"^# ", line)]
    assert len(h1s) == 1, f"exactly one H1 title, found {h1s}"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert SETUP_TAG in code[0].metadata.get("tags", []), "first code cell must be the Colab setup cell"
    assert code[0].source == setup_cell_source(), "setup cell is stale: run tools/run_notebooks.py"
    assert nb.metadata["kernelspec"]["name"] == "python3"
    # Colab opens a chapter that runs bigger on a GPU on a GPU runtime
    assert nb.metadata.get("accelerator") == ("GPU" if wants_gpu(nb) else None), "run tools/run_notebooks.py"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_was_executed_cleanly_and_stays_light(path: Path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    assert all(c.execution_count is not None for c in code), "unexecuted cells: run tools/run_notebooks.py"
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), "cells were run out of order"
    for c in code:
        assert "execution" not in c.metadata, "per-cell timestamps: use tools/run_notebooks.py"
        for out in c.outputs:
            if "raises-exception" not in c.metadata.get("tags", []):
                assert out.output_type != "error", f"error output in cell:\n{c.source[:200]}"
            assert not (out.output_type == "stream" and out.name == "stderr"), \
                f"stderr output (a warning?) in cell:\n{c.source[:200]}\n{out.text[:300]}"
    assert path.stat().st_size < 3e6, "notebook over 3 MB: shrink its figures"


def test_repository_url_lives_only_in_config():
    url = repository_url()
    assert url.startswith("https://github.com/")
    others = [p for p in [ROOT / "pyproject.toml", ROOT / "requirements.txt", *ROOT.glob("minigan/**/*.py")]
              if url in p.read_text()]
    assert others == [], f"repository URL duplicated outside _config.yml: {others}"
    assert json.dumps(setup_cell_source()).count(url) == 1


def test_colab_installs_the_release_the_book_was_built_with():
    """The setup cell pins the tag of the version in minigan/__init__.py, recorded nowhere else."""
    import minigan
    from tools.nbtools import install_requirement, release_tag

    assert release_tag() == f"v{minigan.__version__}"
    assert install_requirement().endswith(f"@{release_tag()}") and f"@{release_tag()}" in setup_cell_source()
    version = f'"{minigan.__version__}"'
    recorded = [p for p in [ROOT / "pyproject.toml", ROOT / "_config.yml", *ROOT.glob("minigan/**/*.py")]
                if version in p.read_text()]
    assert recorded == [ROOT / "minigan" / "__init__.py"], recorded
    assert 'dynamic = ["version"]' in (ROOT / "pyproject.toml").read_text()  # pyproject reads it from there


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_chapter_states_its_run_time_at_the_top(path: Path):
    intro = nbformat.read(path, as_version=4).cells[0].source
    line = re.search(r"\*Run time:\*(.*?)(?:\n\n|$)", intro, re.S)
    assert line, "the opening cell must state the run time: *Run time:* CPU: ... GPU: ..."
    assert "CPU:" in line.group(1) and "GPU:" in line.group(1), "give the run time on a CPU and on a GPU"


def exercises_start(nb) -> int:
    """Index of the cell with the "## Exercises" heading (len(cells) if there is none)."""
    return next((i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and "## Exercises" in c.source),
                len(nb.cells))


LONG_CELL = 35  # lines; longer code is folded in the HTML (the reader opens it with one click)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_long_code_is_folded(path: Path):
    nb = nbformat.read(path, as_version=4)
    for i, c in enumerate(nb.cells[:exercises_start(nb)]):  # an exercise's own cells are the lesson, and stay open
        if c.cell_type == "code" and len(c.source.splitlines()) > LONG_CELL:
            assert {"hide-input", "hide-cell"} & set(c.metadata.get("tags", [])), (
                f"cell {i} has {len(c.source.splitlines())} lines: split it, or tag it hide-input if it is not the lesson")


def test_the_book_loads_no_javascript_from_a_cdn():
    """MathJax and the widget embedder are served from the build (tools/vendor_js.py); the browser
    test (test_book_browser.py) proves the pages render with them and with no network."""
    from tools import vendor_js

    sphinx = book_config()["sphinx"]["config"]
    served = [sphinx["mathjax_path"], *sphinx["nb_ipywidgets_js"]]
    assert not [u for u in served if "://" in u], "a script still comes from another host"
    for rel in served:
        assert (ROOT / "_assets" / rel).is_file(), f"{rel} is not in _assets/"
    assert vendor_js.check() == [], "the vendored files differ from MANIFEST.txt: run tools/vendor_js.py"


# ---------------------------------------------------------------- exercises (minigan.exercises)

EXERCISE = re.compile(r"^\d+\. \*\*", re.M)  # "1. **Predict, then check.** ..."
SOLUTION_TAG = "exercise-solution"
# The exercises each chapter must let the reader implement, checked by minigan.exercises.
REQUIRED_CHECKERS = {
    "mlp": {"check_mlp_backward"},
    "cnn": {"check_conv2d"},
    "rnn": {"check_lstm_cell"},
    "attention": {"check_causal_self_attention"},
    "gan_game": {"check_d_loss_minimax", "check_d_step_detach"},
    "gan_losses": {"check_g_loss_nonsaturating", "check_g_loss_saturating", "check_d_loss_lsgan",
                   "check_g_loss_lsgan", "check_d_loss_wasserstein", "check_g_loss_wasserstein",
                   "check_d_loss_hinge", "check_g_loss_hinge", "check_gradient_penalty"},
    "cyclegan": {"check_cyclegan_generator_loss", "check_image_pool"},
}


def exercise_cells(nb) -> list:
    return nb.cells[exercises_start(nb):]


def _text(output) -> str:
    if output.output_type == "stream":
        return output.text
    return output.get("data", {}).get("text/plain", "")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_chapter_ends_with_exercises_that_each_have_a_folded_solution(path: Path):
    nb = nbformat.read(path, as_version=4)
    assert any(c.cell_type == "markdown" and "## Exercises" in c.source for c in nb.cells), "no ## Exercises"
    cells = exercise_cells(nb)
    # Group the cells by exercise: an exercise starts at a markdown cell with "N. **Title**".
    groups: list[list] = []
    for c in cells:
        if c.cell_type == "markdown" and SOLUTION_TAG not in c.metadata.get("tags", []) and EXERCISE.search(c.source):
            assert len(EXERCISE.findall(c.source)) == 1, "one exercise per cell, so that its solution can follow it"
            groups.append([c])
        elif groups:
            groups[-1].append(c)
    assert 3 <= len(groups) <= 6, f"{len(groups)} exercises; each chapter has 3 to 6"
    for n, group in enumerate(groups, 1):
        solutions = [c for c in group if SOLUTION_TAG in c.metadata.get("tags", [])]
        assert solutions, f"exercise {n} has no worked solution"
        for c in solutions:
            if c.cell_type == "markdown":  # folded in Jupyter and in the HTML alike
                assert c.source.startswith('<details class="minigan-solution">') and c.source.endswith("</details>")
            else:
                assert "hide-cell" in c.metadata.tags, "solution code must be folded in the HTML (hide-cell)"
                assert c.metadata.get("jupyter", {}).get("source_hidden"), "and collapsed in Jupyter"
                assert c.metadata.get("jupyter", {}).get("outputs_hidden")
                assert c.metadata.get("cellView") == "form" and c.source.startswith(COLAB_TITLE), \
                    "and folded on Colab, as a form with a #@title: run tools/run_notebooks.py"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_checked_exercises_show_a_stub_that_fails_and_a_solution_that_passes(path: Path):
    nb = nbformat.read(path, as_version=4)
    used = set()
    for c in exercise_cells(nb):
        if c.cell_type != "code":
            continue
        checks = set(re.findall(r"\b(check_\w+)\b", c.source)) - {"check"}
        used |= checks
        if not re.search(r"\bcheck(_\w+)?\(", c.source):  # imports only
            continue
        verdicts = [line for o in c.outputs for line in _text(o).splitlines()
                    if line.startswith(("Correct:", "Not yet:"))]
        assert verdicts, f"a cell that uses {sorted(checks)} shows no verdict"
        if SOLUTION_TAG in c.metadata.get("tags", []):
            assert all(v.startswith("Correct:") for v in verdicts), f"a worked solution fails its check: {verdicts}"
        else:
            assert any(v.startswith("Not yet:") for v in verdicts), "a stub shows what a failing check looks like"
    missing = REQUIRED_CHECKERS.get(path.stem, set()) - used
    assert not missing, f"the chapter must let the reader implement and check: {sorted(missing)}"


def test_every_checker_is_used_by_a_chapter():
    import minigan.exercises

    used = set()
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        used |= {name for c in exercise_cells(nb) if c.cell_type == "code" for name in re.findall(r"\b(check_\w+)\b", c.source)}
    checkers = {n for n in minigan.exercises.__all__ if n.startswith("check_")}
    assert checkers - used == set(), "checkers that no chapter offers"
