"""tools/run_notebooks.py: executes in place, reproducibly, and never half-writes a failing notebook."""
import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from tools import run_notebooks
from tools.nbtools import SETUP_TAG, setup_cell_source


def _notebook(tmp_path, body: str):
    setup = new_code_cell("# an old setup cell")
    setup.metadata["tags"] = [SETUP_TAG]
    nb = new_notebook(cells=[new_markdown_cell("# T"), setup, new_code_cell(body)])
    nb.metadata["kernelspec"] = {"name": "something-else", "display_name": "x", "language": "python"}
    path = tmp_path / "t.ipynb"
    nbformat.write(nb, path)
    return path


def test_run_notebooks_executes_in_place_without_timestamps(tmp_path):
    path = _notebook(tmp_path, "import os, pathlib\nprint(pathlib.Path.cwd().name, os.environ['PYTHONHASHSEED'])")
    assert run_notebooks.main([str(path)]) == 0
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[1].source == setup_cell_source()
    assert nb.cells[2].outputs[0].text == f"{tmp_path.name} 0\n"  # ran from the notebook's folder
    assert [c.execution_count for c in nb.cells[1:]] == [1, 2]
    assert all("execution" not in c.metadata for c in nb.cells)
    assert nb.metadata.kernelspec.name == "python3"
    assert "version" not in nb.metadata.language_info


def test_a_failing_notebook_is_left_untouched(tmp_path, capsys):
    path = _notebook(tmp_path, "raise ValueError('boom')")
    before = path.read_bytes()
    assert run_notebooks.main([str(path)]) == 1
    assert path.read_bytes() == before
    assert "boom" in capsys.readouterr().err
