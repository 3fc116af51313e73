"""Installing the package where torch and the rest are already there (Colab) reinstalls none of them: every
dependency is a lower bound that the installed versions meet. Checked with pip's own resolver, offline, on the
setup cell's own requirement (the release's tag on GitHub) with this checkout standing in for the tag."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tools.nbtools import install_requirement  # noqa: E402
COLAB_HAS = {"torch", "torchvision", "matplotlib", "pillow", "ipywidgets"}


def test_the_pinned_install_reinstalls_nothing_already_installed(tmp_path):
    pinned = install_requirement()  # "minigan @ git+https://github.com/...@v0.1.0", as the setup cell has it
    name, _, source = pinned.partition(" @ ")
    assert name == "minigan" and source.startswith("git+https://") and "@v" in source
    local = f"{name} @ {ROOT.as_uri()}"  # the same requirement, from this checkout (no network in tests)
    report = tmp_path / "report.json"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--no-index", "--no-build-isolation",
                        "--quiet", "--report", str(report), local],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    would_install = {item["metadata"]["name"].lower() for item in json.loads(report.read_text())["install"]}
    assert would_install == {"minigan"}, would_install  # not torch, torchvision, matplotlib, pillow, ipywidgets
    installed = subprocess.run([sys.executable, "-m", "pip", "list", "--format=json"], capture_output=True,
                               text=True, check=True).stdout
    assert COLAB_HAS <= {p["name"].lower() for p in json.loads(installed)}  # they were there to be kept
