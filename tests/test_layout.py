"""The layout rules of CONTRIBUTING.md, checked from the source: no import cycles in any
package, no package importing another's private module, modules of a readable size,
``models/`` by subpackage, and every public name's home spelled out for static tools."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("corpus_tools", "models", "wordstack")
MAX_LINES = 650            # "about 600": a module past this is two modules


def _modules(package: str) -> dict[str, Path]:
    """Dotted module name -> file, for every .py/.pyx/.pxd of a package."""
    out = {}
    for path in sorted((ROOT / package).rglob("*")):
        if path.suffix not in (".py", ".pyx", ".pxd") or "__pycache__" in path.parts:
            continue
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out.setdefault(".".join(parts), path)
    return out


ALL = {name: path for package in PACKAGES for name, path in _modules(package).items()}


def _imports(name: str, path: Path) -> set[str]:
    """Modules of the three packages that ``name`` imports anywhere (functions included)."""
    is_package = path.stem == "__init__"
    base = name.split(".") if is_package else name.split(".")[:-1]
    found = set()
    text = path.read_text()
    if path.suffix in (".pyx", ".pxd"):
        for line in text.splitlines():           # cimports: "from models.x cimport ..."
            words = line.split()
            if len(words) >= 3 and words[0] == "from" and words[2] in ("cimport", "import"):
                found.add(words[1])
        tree = None
    else:
        tree = ast.parse(text)
    for node in ast.walk(tree) if tree is not None else ():
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                prefix = ".".join(base[:len(base) - node.level + 1])
                module = f"{prefix}.{node.module}" if node.module else prefix
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    resolved = set()
    for module in found:
        while module and module not in ALL:
            module = module.rpartition(".")[0]
        if module and module != name:
            resolved.add(module)
    return resolved


GRAPH = {name: _imports(name, path) for name, path in ALL.items()}


def _cycle() -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(GRAPH[node]):
            # a package's __init__ re-exporting its own modules is not a cycle of the design
            if nxt in ("models", "corpus_tools") or node in ("models", "corpus_tools"):
                continue
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(GRAPH):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_no_import_cycles():
    cycle = _cycle()
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_no_package_imports_another_packages_private_modules():
    bad = []
    for name, targets in GRAPH.items():
        package = name.split(".")[0]
        for target in targets:
            if target.split(".")[0] != package and any(p.startswith("_") for p in target.split(".")[1:]):
                bad.append(f"{name} imports {target}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("name", sorted(ALL))
def test_module_is_of_a_readable_size(name):
    lines = ALL[name].read_text().count("\n")
    assert lines <= MAX_LINES, f"{ALL[name].relative_to(ROOT)} has {lines} lines (> {MAX_LINES}): split it"


def test_models_is_by_part():
    loose = sorted(p.name for p in (ROOT / "models").iterdir()
                   if p.is_file() and p.suffix in (".py", ".pyx", ".pxd", ".h"))
    assert loose == ["__init__.py", "_kernels.py"], loose
    for sub in ("core", "recurrent", "memory", "estimators", "training", "tasks", "ff", "workflows"):
        assert (ROOT / "models" / sub / "__init__.py").is_file(), sub


@pytest.mark.parametrize("package", ["models", "corpus_tools"])
def test_type_checking_block_names_every_export(package):
    """The TYPE_CHECKING imports of __init__ (for editors and static tools) import each
    public name from the module the lazy loader takes it from."""
    tree = ast.parse((ROOT / package / "__init__.py").read_text())
    exports = next(ast.literal_eval(node.value) for node in tree.body
                   if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "_EXPORTS")
    block = next(node for node in tree.body if isinstance(node, ast.If)
                 and getattr(node.test, "id", "") == "TYPE_CHECKING")
    seen = {}
    for node in ast.walk(block):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                seen[alias.asname or alias.name] = f"{node.module}:{alias.name}"
    for name, target in exports.items():
        module, _, attr = target.partition(":")
        assert seen.get(name) == f"{module}:{attr or name}", (name, seen.get(name), target)


@pytest.mark.parametrize("package", ["models", "corpus_tools"])
def test_every_export_is_the_object_of_the_module_it_names(package):
    import importlib

    pkg = importlib.import_module(package)
    for name, target in pkg._EXPORTS.items():
        module, _, attr = target.partition(":")
        home = importlib.import_module(f"{package}.{module}")
        assert getattr(pkg, name) is getattr(home, attr or name), name
    assert sorted(pkg.__all__) == sorted(set(pkg._EXPORTS) | ({"tasks"} if package == "models" else set()))


def test_setup_cfg_lists_every_package():
    """A subpackage missing from setup.cfg would be left out of a wheel (editable installs
    and the tests would not notice)."""
    import configparser

    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    listed = set(cfg["options"]["packages"].split())
    found = {".".join(p.parent.relative_to(ROOT).parts) for package in PACKAGES
             for p in (ROOT / package).rglob("__init__.py")}
    assert found <= listed, sorted(found - listed)
