"""The package's layout stays readable: no import cycles, and __init__ names each export's home once."""
from __future__ import annotations

import ast
import importlib
from pathlib import Path

import corpus_tools as ct

PKG = Path(ct.__file__).parent


def _imported_modules(path: Path) -> set[str]:
    """corpus_tools modules that ``path`` imports anywhere (function-local imports included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            found |= {node.module} if node.module else {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("corpus_tools."):
            found.add(node.module.split(".")[1])
    return found


def test_no_import_cycles_inside_the_package():
    graph = {f.stem: _imported_modules(f) - {f.stem} for f in PKG.glob("*.py") if f.name != "__init__.py"}
    state: dict[str, int] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for dep in sorted(graph.get(module, ())):
            assert state.get(dep) != 1, f"import cycle: {' -> '.join(path + [module, dep])}"
            if dep not in state:
                visit(dep, path + [module])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [])


def test_every_export_lives_where_exports_and_the_type_checking_block_say():
    tree = ast.parse((PKG / "__init__.py").read_text(encoding="utf-8"))
    (block,) = [n for n in tree.body if isinstance(n, ast.If) and getattr(n.test, "id", None) == "TYPE_CHECKING"]
    typed = {alias.name: node.module for node in block.body for alias in node.names}
    assert typed == ct._EXPORTS
    for name, module in ct._EXPORTS.items():
        assert getattr(ct, name) is getattr(importlib.import_module(f"corpus_tools.{module}"), name), name
