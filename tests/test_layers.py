"""The layers stay honest: the domain is pure, and blueprints never commit."""

from __future__ import annotations

import ast
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
