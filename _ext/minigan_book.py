"""Small fixes to the built HTML book, loaded by _config.yml (sphinx: local_extensions).

- One copy of each script per page. sphinx-thebe 0.3.1 registers its inline
  configuration (``const THEBE_JS_URL = ...``) with ``app.add_js_file`` after the
  HTML builder has started, and Sphinx 7.4 then adds it to every page twice, so
  the browser throws "Identifier 'THEBE_JS_URL' has already been declared" on
  every page. tests/test_book_browser.py fails on any such JavaScript error.
"""
from __future__ import annotations


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


def setup(app):
    app.connect("html-page-context", _one_copy_of_each_script, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
