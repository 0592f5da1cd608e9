"""The layout rules of the ``wordstack`` package, read from the source (issue 11).

- a command module (``wordstack/commands/*.py``) imports no other command module;
- the shared helpers (``wordstack/_*.py``) import no command module and not ``cli``;
- ``corpus_tools`` and ``models`` are used through their public API only: no import
  of a private module and no lookup of one by name (``sys.modules["models._x"]``).

Every import counts, also those inside functions (the CLI imports its libraries lazily).
The rules of every package (no import cycles, modules of a readable size, ...) are
checked in ``tests/test_layout.py``.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import wordstack

PACKAGE = Path(wordstack.__file__).parent
LIBRARIES = ("corpus_tools", "models")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str) -> set[str]:
    """Absolute names of every module (or imported attribute) ``name`` imports."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(base + ([node.module] if node.module else []))
            else:
                base = node.module
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _internal(name: str) -> set[str]:
    """The wordstack modules ``name`` imports (an imported attribute counts as its module)."""
    return {target for target in _imports(name) if target in MODULES and target != name}


def test_the_package_has_commands_and_helpers():
    assert "wordstack.cli" in MODULES
    assert any(m.startswith("wordstack.commands.") for m in MODULES), sorted(MODULES)


@pytest.mark.parametrize("name", sorted(m for m in MODULES if m.startswith("wordstack.commands.")))
def test_no_command_module_imports_another(name):
    others = {m for m in _internal(name) if m.startswith("wordstack.commands") or m == "wordstack.cli"}
    assert not others, f"{name} imports {sorted(others)}; move what they share into a wordstack/_*.py helper"


@pytest.mark.parametrize("name", sorted(m for m in MODULES if m.rpartition(".")[2].startswith("_")
                                        and m.count(".") == 1 and m != "wordstack.__main__"))
def test_helpers_import_no_command_module(name):
    commands = {m for m in _internal(name) if m.startswith("wordstack.commands") or m == "wordstack.cli"}
    assert not commands, f"helper {name} imports {sorted(commands)}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_libraries_are_used_through_their_public_api(name):
    private = sorted(target for target in _imports(name)
                     if target.split(".")[0] in LIBRARIES and any(p.startswith("_") for p in target.split(".")[1:]))
    assert not private, f"{name} imports private names {private}"
    text = MODULES[name].read_text()
    lookups = re.findall(r"""["']((?:corpus_tools|models)\._\w*)""", text)
    assert not lookups, f"{name} names private library modules {lookups}"
