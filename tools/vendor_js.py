#!/usr/bin/env python3
"""Refresh the JavaScript the built book serves itself: _assets/vendor/.

    python tools/vendor_js.py            # fetch the pinned versions from the npm registry
    python tools/vendor_js.py --check    # verify the files on disk against MANIFEST.txt

The HTML book must render with no network, so it does not load MathJax or the
ipywidgets embedder from a CDN (the Sphinx and myst-nb defaults). Their files
are kept in the repository, under ``_assets/vendor/`` (Sphinx copies them to
``_build/html/_static/vendor/``), so building and reading the book needs
neither a network nor Node.js. This script is how they got there: it asks
``npm pack`` for the pinned package versions (npm checks the registry's
integrity hashes), extracts only the files the book uses, and writes
``MANIFEST.txt`` with each file's source and sha256, which
``tests/test_book_offline.py`` checks.

Only maintainers run it, to move to a new version: change PACKAGES, run it,
rebuild the book and run the browser test.
"""
from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "_assets" / "vendor"
MANIFEST = VENDOR / "MANIFEST.txt"

# npm package@version: {path inside the package: path under _assets/vendor/}
PACKAGES: dict[str, dict[str, str]] = {
    # MathJax 3, TeX input with every extension built in and SVG output: one
    # file, no fonts to fetch and nothing loaded on demand (the CHTML build
    # fetches fonts and TeX extensions lazily). SVG math takes the text colour,
    # so it stays readable in dark mode.
    "mathjax@3.2.2": {
        "es5/tex-svg-full.js": "mathjax/tex-svg-full.js",
        "LICENSE": "mathjax/LICENSE",
    },
    # RequireJS, which the ipywidgets embedder is loaded with (myst-nb's default
    # loads 2.3.4 from a CDN; the same version).
    "requirejs@2.3.4": {
        "require.js": "requirejs/require.js",
        "README.md": "requirejs/README.md",
    },
    # The embedder that renders saved widget state (tqdm progress bars, live
    # plots) in static HTML: the same version myst-nb pins. The woff2 files are
    # its icon fonts; browsers that read woff2 need no other format.
    "@jupyter-widgets/html-manager@1.0.6": {
        "dist/embed-amd.js": "html-manager/embed-amd.js",
        "dist/1551f4f60c37af51121f.woff2": "html-manager/1551f4f60c37af51121f.woff2",
        "dist/7a3337626410ca2f4071.woff2": "html-manager/7a3337626410ca2f4071.woff2",
        "dist/d878b0a6a1144760244f.woff2": "html-manager/d878b0a6a1144760244f.woff2",
        "dist/embed.js.LICENSE.txt": "html-manager/embed.js.LICENSE.txt",
        "LICENSE": "html-manager/LICENSE",
    },
}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_manifest(path: Path = MANIFEST) -> dict[str, tuple[str, str]]:
    """{vendored path: (package@version, sha256)} from MANIFEST.txt."""
    out = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            rel, package, digest = line.split()
            out[rel] = (package, digest)
    return out


def check() -> list[str]:
    """Problems with the vendored files (missing, changed, unlisted); empty when all is well."""
    if not MANIFEST.exists():
        return [f"{MANIFEST.relative_to(ROOT)} is missing: run python tools/vendor_js.py"]
    listed = read_manifest()
    problems = []
    for rel, (package, digest) in listed.items():
        path = VENDOR / rel
        if not path.exists():
            problems.append(f"{rel} ({package}) is missing")
        elif sha256(path) != digest:
            problems.append(f"{rel} differs from {package}'s file")
    for path in sorted(VENDOR.rglob("*")):
        rel = path.relative_to(VENDOR).as_posix()
        if path.is_file() and path != MANIFEST and rel not in listed:
            problems.append(f"{rel} is not in MANIFEST.txt")
    return problems


def fetch() -> None:
    if shutil.which("npm") is None:
        sys.exit("npm is needed to fetch packages from the npm registry")
    lines = ["# Vendored by tools/vendor_js.py: path, npm package@version, sha256.",
             "# Do not edit these files by hand; change the pins in the script and re-run it."]
    with tempfile.TemporaryDirectory() as tmp:
        shutil.rmtree(VENDOR, ignore_errors=True)
        for package, files in PACKAGES.items():
            name = subprocess.run(["npm", "pack", package, "--silent", "--pack-destination", tmp],
                                  check=True, capture_output=True, text=True).stdout.split()[-1]
            with tarfile.open(Path(tmp) / name) as tar:
                for src, dst in files.items():
                    member = tar.extractfile(f"package/{src}")
                    if member is None:
                        sys.exit(f"{package} has no file {src}")
                    out = VENDOR / dst
                    out.parent.mkdir(parents=True, exist_ok=True)
                    out.write_bytes(member.read())
                    lines.append(f"{dst} {package} {sha256(out)}")
                    print(f"{package}: {src} -> _assets/vendor/{dst}")
    MANIFEST.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify the vendored files, fetch nothing")
    if parser.parse_args().check:
        problems = check()
        print("\n".join(problems) or "vendored files match MANIFEST.txt")
        sys.exit(1 if problems else 0)
    fetch()


if __name__ == "__main__":
    main()
