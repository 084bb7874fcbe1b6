"""The layers stay honest: no import cycle, imports only go down, the domain is pure, and blueprints never commit."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "booking_app"
FORBIDDEN_IN_DOMAIN = {"flask", "flask_login", "flask_sqlalchemy", "flask_wtf", "sqlalchemy", "redis", "rq"}


def _imported_roots(tree: ast.AST) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(a.name.split(".")[0] for a in node.names if not a.name.startswith("booking_app.domain"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if not node.module.startswith("booking_app.domain"):
                roots.add(node.module.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.level >= 2:
            roots.add("booking_app")  # reaching up out of domain/ into the app
    return roots


def _commit_calls(tree: ast.AST) -> list[int]:
    return [
        node.lineno for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "commit"
    ]


def _blueprint_modules() -> list[Path]:
    found = sorted(PACKAGE.glob("*/routes.py")) + sorted((PACKAGE / "api").glob("*.py")) + [PACKAGE / "main.py"]
    return [p for p in found if p.exists()]


@pytest.mark.parametrize("path", sorted((PACKAGE / "domain").glob("*.py")), ids=lambda p: p.name)
def test_the_domain_imports_no_framework(path: Path) -> None:
    bad = _imported_roots(ast.parse(path.read_text())) & (FORBIDDEN_IN_DOMAIN | {"booking_app"})
    assert not bad, f"{path.relative_to(PACKAGE.parent)} imports {sorted(bad)}; keep domain/ pure"


@pytest.mark.parametrize("path", _blueprint_modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_blueprint_commits(path: Path) -> None:
    lines = _commit_calls(ast.parse(path.read_text()))
    assert not lines, f"{path.relative_to(PACKAGE.parent)} calls .commit( on lines {lines}; call a service instead"


def test_the_scans_catch_what_they_are_meant_to_catch() -> None:
    assert _imported_roots(ast.parse("import sqlalchemy as sa")) == {"sqlalchemy"}
    assert _imported_roots(ast.parse("from flask import g")) == {"flask"}
    assert _imported_roots(ast.parse("from ..extensions import db")) == {"booking_app"}
    assert _imported_roots(ast.parse("from booking_app.models import User")) == {"booking_app"}
    assert _imported_roots(ast.parse("from booking_app.domain.timeutil import zone")) == set()
    assert _commit_calls(ast.parse("db.session.commit()")) == [1]
    assert len(_blueprint_modules()) >= 4


# --- the import graph ----------------------------------------------------------------------------

VIEW_AREAS = {"admin", "api", "auth", "availability", "booking", "dashboard", "links", "messages", "privacy",
              "series", "staff_booking", "students"}


def _module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _ancestors(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _imports_of(name: str, source: str, is_package: bool, known: set[str]) -> set[str]:
    """Return the package modules one module imports anywhere in its body (inside functions too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            submodules = [f"{module}.{alias.name}" for alias in node.names if f"{module}.{alias.name}" in known]
            # `from pkg import name` runs pkg itself unless every name is a submodule of it.
            targets = submodules if len(submodules) == len(node.names) else [module, *submodules]
        else:
            continue
        for target in targets:
            if target not in known:
                continue
            # Importing a.b.c runs the packages a.b and a first; the importer's own ancestors are already running.
            found.update(p for p in _ancestors(target) if p in known and p not in _ancestors(name) and p != name)
            found.add(target)
    found.discard(name)
    return found


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    """Return every module of the package with the package modules it imports."""
    paths = {_module_name(p, root): p for p in sorted(root.rglob("*.py"))}
    known = set(paths)
    return {name: _imports_of(name, p.read_text(), p.name == "__init__.py", known) for name, p in paths.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """Return one import cycle as a path that starts and ends on the same module, or None."""
    finished: set[str] = set()
    for start in sorted(graph):
        if start in finished:
            continue
        path = [start]
        branches = [iter(sorted(graph[start]))]
        while branches:
            step = next(branches[-1], None)
            if step is None:
                branches.pop()
                finished.add(path.pop())
            elif step in path:
                return path[path.index(step):] + [step]
            elif step not in finished and step in graph:
                path.append(step)
                branches.append(iter(sorted(graph[step])))
    return None


def _outside(graph: dict[str, set[str]], layer: str, allowed: set[str]) -> dict[str, list[str]]:
    """Return each module of a layer with the package modules it imports outside what the layer may use."""
    bad = {}
    for name, targets in graph.items():
        if name == layer or name.startswith(layer + "."):
            wrong = sorted(t for t in targets if not any(t == a or t.startswith(a + ".") for a in allowed))
            if wrong:
                bad[name] = wrong
    return bad


def _is_view(module: str) -> bool:
    parts = module.split(".")
    if len(parts) < 2:
        return False
    if parts[1] in ("web", "main", "api"):
        return True
    return parts[1] in VIEW_AREAS and (len(parts) == 2 or parts[2] in ("routes", "forms") or parts[1] == "api")


GRAPH = import_graph()

# Web-layer edges that close a cycle and are being removed on the web side (api/routes.py takes
# require_user from the api package that imports it). Delete an entry as soon as its edge is gone.
def test_the_package_has_no_import_cycle() -> None:
    cycle = find_cycle(GRAPH)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_domain_imports_only_the_domain() -> None:
    assert _outside(GRAPH, "booking_app.domain", {"booking_app.domain"}) == {}


def test_wording_imports_only_the_standard_library() -> None:
    assert GRAPH["booking_app.wording"] == set()
    assert _imported_roots(ast.parse((PACKAGE / "wording.py").read_text())) <= set(sys.stdlib_module_names)


def test_services_import_no_view() -> None:
    views = {name: sorted(t for t in targets if _is_view(t)) for name, targets in GRAPH.items()
             if name.startswith("booking_app.services")}
    assert {name: found for name, found in views.items() if found} == {}


def test_the_graph_scan_catches_a_planted_cycle(tmp_path: Path) -> None:
    package = tmp_path / "planted"
    (package / "inner").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "inner" / "__init__.py").write_text("from . import low\n")
    (package / "top.py").write_text("from .inner.low import x\n")
    (package / "inner" / "low.py").write_text("def f():\n    from ..top import y\n")
    (package / "side.py").write_text("import planted.top\n")
    graph = import_graph(package)
    assert graph["planted.top"] == {"planted.inner", "planted.inner.low"}
    assert graph["planted.side"] == {"planted.top"}
    assert find_cycle(graph) == ["planted.inner", "planted.inner.low", "planted.top", "planted.inner"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert _is_view("booking_app.booking.routes") and _is_view("booking_app.api.booking") and _is_view("booking_app.web")
    assert not _is_view("booking_app.services.bookings") and not _is_view("booking_app.wording")


def test_services_reach_the_worker_only_through_the_app() -> None:
    importers = sorted(name for name, targets in GRAPH.items()
                       if name.startswith("booking_app.services") and "booking_app.jobs" in targets)
    assert importers == [], "services wake the worker through app.extensions['wake_effect'], not by importing jobs"


@pytest.mark.parametrize("path", sorted((PACKAGE.parent / "migrations" / "versions").glob("*.py")), ids=lambda p: p.name)
def test_migrations_import_no_app_code(path: Path) -> None:
    roots = _imported_roots(ast.parse(path.read_text()))
    assert "booking_app" not in roots, f"{path.name} imports the app; freeze what it needs inside the migration"


def test_no_module_is_loaded_by_name() -> None:
    # importlib hides imports from the graph above (and with them, cycles): every import is written out.
    users = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py") if "importlib" in p.read_text())
    assert users == [], f"{users} load modules by name; import them explicitly"


def _view_functions() -> list[tuple[str, str, int]]:
    found = []
    for path in _blueprint_modules() + [PACKAGE / "web.py", PACKAGE / "views.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                found.append((str(path.relative_to(PACKAGE)), node.name, length))
    return found


def test_no_view_function_is_over_40_lines() -> None:
    # web.init_app wires the app together rather than serving a page, so it is measured apart.
    long = [f"{path}:{name} ({n} lines)" for path, name, n in _view_functions() if n > 40 and name != "init_app"]
    assert long == [], "views parse, authorize, call one service and render: move the rest into a service"


def test_no_blueprint_queries_the_database() -> None:
    queries = [
        f"{path.relative_to(PACKAGE)}:{node.lineno}"
        for path in _blueprint_modules()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute) and node.attr in ("select", "scalars", "scalar", "execute", "query")
        and isinstance(node.value, ast.Name | ast.Attribute)
        and (getattr(node.value, "id", None) in ("sa", "db") or getattr(node.value, "attr", None) == "session")
    ]
    assert queries == [], "blueprints call services; queries live there"
