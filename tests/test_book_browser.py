"""The built book in a real browser: headless Chromium through every page, with no network.

The test builds the book (incremental: seconds when it is up to date), serves
``_build/html`` on 127.0.0.1 and visits every page in Debian's Chromium,
driven by Playwright. Any request that leaves 127.0.0.1 is blocked and counts
as a failure, so a page that would need a CDN fails here. Per page it checks:
no JavaScript errors, no failed requests, every image loaded, every formula
typeset by MathJax (no raw ``\\(``, ``$…$`` left, no MathJax errors), saved
widgets rendered, and the Colab button of each chapter pointing at that
chapter's notebook in the repository. Then every internal link (file and
``#anchor``) is resolved, dark mode is checked to keep figures on a light
card, and screenshots are saved under ``_build/screenshots/``.

Needs the ``chromium`` Debian package (``.ci/run`` installs it). Without it
the test is skipped on a reader's machine and fails in CI.
"""
from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest

from tools.nbtools import BOOK, ROOT, release_tag, repository_url

HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = os.environ.get("MINIGAN_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
# As root, offline: no sandbox, no GPU, and none of Chromium's own background traffic.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _missing_tool() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed (pip install -r requirements.txt)"
    if CHROMIUM is None:
        return "Chromium is not installed (Debian: apt-get install chromium)"
    return None


_why = _missing_tool()
if _why and os.environ.get("CI"):
    raise RuntimeError(f"the browser test must run in CI, but {_why}")
pytestmark = pytest.mark.skipif(_why is not None, reason=_why or "")


# ---------------------------------------------------------------- the site

class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output clean
        pass


@pytest.fixture(scope="module")
def site():
    """Build the book and serve it on 127.0.0.1; yields the base URL."""
    _build_book()
    if _stale_assets():  # an up-to-date build does not copy changed static files again
        _build_book("--all")
    assert not _stale_assets(), f"_build/html/_static does not match _assets/: {_stale_assets()}"
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(HTML)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def _build_book(*extra: str) -> None:
    jb = Path(sys.executable).with_name("jupyter-book")
    build = subprocess.run([str(jb), "build", str(ROOT), "-W", "-n", "--keep-going", *extra],
                           capture_output=True, text=True, timeout=900)
    assert build.returncode == 0, f"the book does not build:\n{build.stdout[-3000:]}\n{build.stderr[-3000:]}"


def _stale_assets() -> list[str]:
    """Files of _assets/ whose copy in _build/html/_static/ is missing or different."""
    assets = ROOT / "_assets"
    return [p.relative_to(assets).as_posix() for p in sorted(assets.rglob("*")) if p.is_file()
            and not ((HTML / "_static" / p.relative_to(assets)).is_file()
                     and (HTML / "_static" / p.relative_to(assets)).read_bytes() == p.read_bytes())]


def pages() -> list[str]:
    """Every HTML page of the build, relative to _build/html (sources and static files aside)."""
    return sorted(p.relative_to(HTML).as_posix() for p in HTML.rglob("*.html")
                  if not {"_sources", "_static", "_images"} & set(p.relative_to(HTML).parts))


def chapter_names() -> list[str]:
    return sorted(p.stem for p in BOOK.glob("*.ipynb"))


# ---------------------------------------------------------------- what the browser reports

# Waits until MathJax has typeset the page (if it has any math) and the saved
# widgets have been drawn (if it has any).
SETTLE_JS = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  const views = document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length;
  for (let i = 0; i < 150 && views > 0; i++) {
    if (document.querySelectorAll('.widget-subarea > *').length >= views) break;
    await new Promise(r => setTimeout(r, 100));
  }
}"""

# Everything the checks need from one page, read from the live DOM.
INSPECT_JS = r"""() => {
  const SOLUTIONS = 'details.minigan-solution, .tag_exercise-solution details';
  const textOutsideCode = [];
  const walker = document.createTreeWalker(document.querySelector('main') || document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const n = walker.currentNode;
    if (n.parentElement.closest('pre, code, script, style, mjx-container, .highlight, textarea')) continue;
    textOutsideCode.push(n.nodeValue);
  }
  const maths = Array.from(document.querySelectorAll('span.math, div.math'));
  return {
    images: Array.from(document.images).map(i => ({src: i.currentSrc || i.src, ok: i.complete && i.naturalWidth > 0})),
    mathCount: maths.length,
    untypeset: maths.filter(m => !m.querySelector('mjx-container')).map(m => m.textContent.slice(0, 80)),
    mathErrors: Array.from(document.querySelectorAll('mjx-merror, [data-mjx-error]')).map(e => e.textContent || e.getAttribute('data-mjx-error')),
    text: textOutsideCode.join(' '),
    links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
    ids: Array.from(document.querySelectorAll('[id]')).map(e => e.id),
    widgetViews: document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length,
    widgetsDrawn: document.querySelectorAll('.widget-subarea > *').length,
    colab: Array.from(document.querySelectorAll('a[href*="colab.research.google.com"]')).map(a => a.href),
    solutions: Array.from(document.querySelectorAll(SOLUTIONS)).map(d => ({
      open: d.open,
      visible: Array.from(d.children).some(e => e.tagName !== 'SUMMARY' && e.checkVisibility()),
    })),
  };
}"""

# Raw TeX that MathJax should have turned into math: \( \[ delimiters, $$, or $…$ with TeX inside.
RAW_TEX = re.compile(r"\\\(|\\\[|\$\$|\$[^$\n]{0,200}?[\\^_{][^$\n]{0,200}?\$")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _visit(browser, site: str, path: str, *, dark: bool = False):
    """Open one page offline; returns (page, facts, problems). The caller closes the page's context."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme="dark" if dark else "light")
    page = context.new_page()
    problems: list[str] = []
    host = urlsplit(site).netloc

    def route(r):
        if urlsplit(r.request.url).netloc == host:
            r.continue_()
        else:
            problems.append(f"request to another host (no network when reading offline): {r.request.url}")
            r.abort()

    page.route("**/*", route)
    page.on("pageerror", lambda e: problems.append(f"JavaScript error: {e}"))
    page.on("console", lambda m: m.type == "error" and problems.append(f"console error: {m.text}"))
    page.on("requestfailed", lambda r: urlsplit(r.url).netloc == host
            and problems.append(f"request failed: {r.url} ({r.failure})"))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"HTTP {r.status}: {r.url}"))
    page.goto(urljoin(site, path), wait_until="load")
    if re.search(r'http-equiv="refresh"', (HTML / path).read_text(errors="replace"), re.I):
        page.wait_for_url(lambda u: not u.endswith(path))  # a redirect page (index.html)
        page.wait_for_load_state("load")
    page.evaluate(SETTLE_JS)
    page.wait_for_load_state("networkidle")
    facts = page.evaluate(INSPECT_JS)
    return page, facts, problems


def _colab_url(name: str) -> str:
    branch = release_tag()  # the release's notebooks, which install the release (_ext/minigan_book.py)
    return f"https://colab.research.google.com/github/{urlsplit(repository_url()).path.strip('/')}/blob/{branch}/book/{name}.ipynb"


# ---------------------------------------------------------------- the test

def test_every_page_renders_offline_in_chromium(site, browser):
    all_pages = pages()
    chapters = chapter_names()
    assert {f"book/{c}.html" for c in chapters} <= set(all_pages), "a chapter was not built"
    failures: dict[str, list[str]] = {}
    ids: dict[str, set[str]] = {}
    links: list[tuple[str, str]] = []
    math_pages = []
    for path in all_pages:
        page, facts, problems = _visit(browser, site, path)
        url = page.url  # after redirects (index.html -> book/intro.html)
        ids[urlsplit(url).path] = set(facts["ids"])
        links += [(path, href) for href in facts["links"]]
        problems += [f"image did not load: {i['src']}" for i in facts["images"] if not i["ok"]]
        problems += [f"math not typeset: {m!r}" for m in facts["untypeset"]]
        problems += [f"MathJax error: {m!r}" for m in facts["mathErrors"]]
        problems += [f"raw TeX left in the text: {m.group(0)[:80]!r}" for m in RAW_TEX.finditer(facts["text"])]
        if facts["widgetsDrawn"] < facts["widgetViews"]:
            problems.append(f"only {facts['widgetsDrawn']} of {facts['widgetViews']} saved widgets were drawn")
        name = Path(path).stem
        if path.startswith("book/") and name in chapters:
            expected = _colab_url(name)
            if set(facts["colab"]) != {expected}:
                problems.append(f"Colab button should open {expected}, found {facts['colab']}")
            if not any(i["ok"] for i in facts["images"]):
                problems.append("a chapter with no figure loaded")
            if len(facts["solutions"]) < 3:
                problems.append(f"only {len(facts['solutions'])} worked solutions found")
            if any(sol["open"] or sol["visible"] for sol in facts["solutions"]):
                problems.append("a worked solution is visible before the reader opens it")
        elif facts["colab"]:
            problems.append(f"a page that is not a notebook has a Colab button: {facts['colab']}")
        if facts["mathCount"]:
            math_pages.append(path)
        if problems:
            failures[path] = problems
        page.context.close()
    assert not failures, "\n".join(f"{p}:\n  " + "\n  ".join(v) for p, v in failures.items())
    assert len(math_pages) >= len(chapters), f"too few pages with math: {math_pages}"

    # Every internal link resolves: the file exists and, with a #fragment, the page has that id.
    site_host = urlsplit(site).netloc
    broken = []
    for source, href in links:
        parts = urlsplit(href)
        if parts.netloc != site_host:
            continue
        target = HTML / unquote(parts.path).lstrip("/")
        if target.is_dir():
            target = target / "index.html"
        if not target.exists():
            broken.append(f"{source}: {href} (no such file)")
            continue
        if parts.fragment and target.suffix == ".html":
            known = ids.get("/" + target.relative_to(HTML).as_posix())
            if known is None:  # a page that was not visited: read its ids from the file
                known = set(re.findall(r'\bid="([^"]+)"', target.read_text(errors="replace")))
            if unquote(parts.fragment) not in known:
                broken.append(f"{source}: {href} (no element with id {parts.fragment!r})")
    assert not broken, "broken internal links:\n" + "\n".join(sorted(set(broken)))


def test_screenshots_show_math_and_figures(site, browser):
    """The home page and a chapter passage with typeset math next to a figure, saved as PNG."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page, facts, problems = _visit(browser, site, "book/intro.html")
    assert not problems, problems
    assert facts["mathCount"] > 0 and not facts["untypeset"], "the home page should show typeset math"
    assert any(i["ok"] and "chapter_map" in i["src"] for i in facts["images"]), "the chapter map did not load"
    page.screenshot(path=str(SHOTS / "home.png"), full_page=True)
    page.context.close()

    # A chapter passage with a displayed equation followed by a figure, in light and dark mode.
    chapter, clip = None, None
    for name in SCREENSHOT_CHAPTERS:
        page, facts, problems = _visit(browser, site, f"book/{name}.html")
        assert not problems, problems
        clip = page.evaluate(CLIP_JS)
        page.context.close()
        if clip:
            chapter = name
            break
    assert chapter, f"none of {SCREENSHOT_CHAPTERS} has a displayed equation followed by a figure"
    for dark in (False, True):
        page, facts, problems = _visit(browser, site, f"book/{chapter}.html", dark=dark)
        assert not problems, problems
        clip = page.evaluate(CLIP_JS)
        if dark:
            theme = page.evaluate("document.documentElement.dataset.theme")
            assert theme == "dark", f"the book did not follow the reader's dark setting (theme={theme!r})"
            # Figures have transparent backgrounds and dark axes: in dark mode they need a light card.
            cards = page.evaluate("""() => Array.from(document.querySelectorAll('.cell_output img, figure img'))
                .map(i => getComputedStyle(i).backgroundColor)""")
            assert cards, "no figures found"
            dark_cards = [c for c in cards if _luminance(c) < 0.8]
            assert not dark_cards, f"figures on a dark background in dark mode: {dark_cards[:3]}"
        page.screenshot(path=str(SHOTS / ("chapter-dark.png" if dark else "chapter.png")), full_page=True, clip=clip)
        page.context.close()
    for name in ("home.png", "chapter.png", "chapter-dark.png"):
        assert (SHOTS / name).stat().st_size > 10_000, f"{name} looks empty"


SCREENSHOT_CHAPTERS = ["gan_game", "mlp", "gan_losses", "cnn", "rnn", "attention"]

# The first displayed equation with a chapter figure at most 1,500 px below it: a clip around both.
CLIP_JS = """() => {
  const top = e => e.getBoundingClientRect().top + window.scrollY;
  const images = Array.from(document.querySelectorAll('.cell_output img'));
  for (const m of document.querySelectorAll('div.math mjx-container')) {
    const img = images.find(i => top(i) > top(m) && top(i) - top(m) < 1500);
    if (img) {
      const y = Math.max(0, top(m) - 120), bottom = top(img) + img.getBoundingClientRect().height + 40;
      const main = document.querySelector('main').getBoundingClientRect();
      return {x: main.left, y: y, width: main.width, height: bottom - y};
    }
  }
  return null;
}"""


def _luminance(css_color: str) -> float:
    """Relative brightness 0..1 of 'rgb(r, g, b)' / 'rgba(r, g, b, a)'; transparent counts as dark."""
    nums = [float(v) for v in re.findall(r"[\d.]+", css_color)]
    if len(nums) == 4 and nums[3] == 0:
        return 0.0
    r, g, b = (v / 255 for v in nums[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_worked_solutions_open_with_one_click(site, browser):
    """Solutions are folded (test above); clicking "Solution" / "Show the solution" shows them."""
    kinds = {"prose": "details.minigan-solution", "code": ".tag_exercise-solution details"}
    for kind, selector in kinds.items():
        for name in chapter_names():
            page, facts, problems = _visit(browser, site, f"book/{name}.html")
            assert not problems, problems
            details = page.locator(selector).first
            if details.count():
                details.locator("summary").first.click()
                shown = details.evaluate("""d => d.open && Array.from(d.children)
                    .some(e => e.tagName !== 'SUMMARY' && e.checkVisibility())""")
                assert shown, f"a {kind} solution in {name} did not open when its summary was clicked"
                page.context.close()
                break
            page.context.close()
        else:
            pytest.fail(f"no chapter has a {kind} solution")
