"""Small fixes to the built HTML book, loaded by _config.yml (sphinx: local_extensions).

- One copy of each script per page. sphinx-thebe 0.3.1 registers its inline
  configuration (``const THEBE_JS_URL = ...``) with ``app.add_js_file`` after the
  HTML builder has started, and Sphinx 7.4 then adds it to every page twice, so
  the browser throws "Identifier 'THEBE_JS_URL' has already been declared" on
  every page. tests/test_book_browser.py fails on any such JavaScript error.
- Colab buttons that open the release. ``_config.yml``'s ``repository.branch``
  (``main``) would send a Colab reader to the tip of ``main``, whose notebooks
  may need a package newer than the release their setup cell installs; the
  buttons open the notebooks of the tag ``v<version>`` instead
  (tools/nbtools.py: the version lives in ``minigan/__init__.py``).
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tools.nbtools import release_tag  # noqa: E402


def _one_copy_of_each_script(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for js in scripts:
        # The two copies differ only in filename None vs "" (an inline script).
        key = (str(getattr(js, "filename", js) or ""),
               tuple(sorted((k, str(v)) for k, v in getattr(js, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            kept.append(js)
    context["script_files"] = kept


def _launch_the_release(app, config):
    config.html_theme_options = {**config.html_theme_options, "repository_branch": release_tag()}


def setup(app):
    app.connect("config-inited", _launch_the_release)
    app.connect("html-page-context", _one_copy_of_each_script, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
