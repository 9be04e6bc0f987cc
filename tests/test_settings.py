"""Every SHOEBOX_* variable is declared in shoebox.config and read only through it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from shoebox import config

PACKAGE = Path(config.__file__).parent


def _reads(tree: ast.AST):
    """(function, variable name) of every call reading a SHOEBOX_* literal, and subscripts of os.environ."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            name = node.args[0].value
            if isinstance(name, str) and name.startswith("SHOEBOX_"):
                yield ast.unparse(node.func), name
        if (isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load)
                and ast.unparse(node.value) == "os.environ" and isinstance(node.slice, ast.Constant)
                and str(node.slice.value).startswith("SHOEBOX_")):
            yield "os.environ[]", node.slice.value


def test_no_module_reads_a_shoebox_variable_but_through_config():
    direct, undeclared = [], []
    for path in sorted(PACKAGE.rglob("*.py")):
        for func, name in _reads(ast.parse(path.read_text())):
            where = f"{path.relative_to(PACKAGE)}: {func}({name!r})"
            if func in ("setting", "getenv", "config.setting", "config.getenv"):
                if name not in config.VARIABLES:
                    undeclared.append(where)
            elif path.name != "config.py" and ("environ" in func or func in ("os.getenv",)):
                direct.append(where)
    assert direct == [] and undeclared == []


def test_an_undeclared_variable_is_refused(monkeypatch):
    monkeypatch.setenv("SHOEBOX_NOT_A_THING", "1")
    with pytest.raises(KeyError):
        config.setting("SHOEBOX_NOT_A_THING")
    monkeypatch.setenv("SHOEBOX_FSYNC", "0")
    assert config.setting("SHOEBOX_FSYNC", "1") == "0"
