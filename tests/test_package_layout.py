"""The package stays walkable: no import circle between its modules, and no module too long to read in one sitting."""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "minigan"
MAX_LINES = 320  # "about 300"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """The minigan modules ``path`` imports, at the top or inside functions (a package's own submodules excepted)."""
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            if base.startswith("minigan"):
                found |= {f"{base}.{a.name}" for a in node.names} | {base}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("minigan")}
    modules = {module_name(p) for p in PACKAGE.rglob("*.py")}
    found = {m for m in found if m in modules and m != here}
    if path.name == "__init__.py":  # a package gathering its own submodules is not a dependency of them
        found = {m for m in found if not m.startswith(here + ".")}
    return found


def test_no_import_circle():
    g = {module_name(p): imports(p) for p in PACKAGE.rglob("*.py")}
    # a package's __init__ imports its submodules; importing a submodule does not import its siblings, so the
    # packages themselves are left out of the circle search
    packages = {module_name(p) for p in PACKAGE.rglob("__init__.py")}
    edges = {m: {d for d in deps if d not in packages} for m, deps in g.items() if m not in packages}
    seen, stack, circles = set(), [], []

    def visit(m):
        if m in stack:
            circles.append(stack[stack.index(m):] + [m])
            return
        if m in seen:
            return
        seen.add(m)
        stack.append(m)
        for d in sorted(edges.get(m, ())):
            visit(d)
        stack.pop()

    for m in sorted(edges):
        visit(m)
    assert not circles, "import circles: " + "; ".join(" -> ".join(c) for c in circles)


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_stay_short(path):
    n = len(path.read_text().splitlines())
    assert n <= MAX_LINES, f"{path.relative_to(PACKAGE)} has {n} lines; split it along a seam"


def test_cyclegan_modules_are_listed_in_the_order_they_import_each_other():
    """minigan/cyclegan/__init__.py lists its modules in layers; each may import only from those listed before it."""
    import re

    init = PACKAGE / "cyclegan" / "__init__.py"
    listed = re.findall(r"^    (\w+)\.py ", ast.get_docstring(ast.parse(init.read_text())), flags=re.M)
    on_disk = {p.stem for p in init.parent.glob("*.py")} - {"__init__"}
    assert sorted(listed) == sorted(on_disk)
    for i, name in enumerate(listed):
        deps = {m.rsplit(".", 1)[1] for m in imports(init.parent / f"{name}.py") if m.startswith("minigan.cyclegan.")}
        assert deps <= set(listed[:i]), f"{name}.py imports {sorted(deps - set(listed[:i]))}, listed after it"
