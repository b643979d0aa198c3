"""The layers stay layers: the core performs no I/O, and no import cycles hide between modules."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "cfinval"
#: What the core never imports, even inside a function: the network, the terminal, processes,
#: event loops, real sleeping. (``time`` itself is allowed for ``time.time`` defaults.)
FORBIDDEN = {
    "httpx",
    "httpcore",
    "anyio",
    "asyncio",
    "trio",
    "socket",
    "ssl",
    "getpass",
    "subprocess",
    "select",
    "selectors",
}
#: Modules outside ``_core`` that the core may import: plain values and errors.
CORE_MAY_IMPORT = {
    "cfinval._errors",
    "cfinval._models",
    "cfinval._tenant_models",
    "cfinval._version",
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[str, int, bool]]:
    """(absolute module, line, under TYPE_CHECKING) for every import in ``path``."""
    tree = ast.parse(path.read_text())
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in ast.walk(node):
                typing_only.add(id(inner))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno, id(node) in typing_only) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((module, node.lineno, id(node) in typing_only))
    return found


def test_the_core_imports_no_io_and_nothing_above_it() -> None:
    offences = []
    for path in sorted((PACKAGE / "_core").glob("*.py")):
        for module, line, typing_only in _imports(path):
            top = module.split(".")[0]
            if top in FORBIDDEN:
                offences.append(f"{path.name}:{line} imports {module}")
            elif (
                module.startswith("cfinval.")
                and not module.startswith("cfinval._core")
                and module not in CORE_MAY_IMPORT
                and not typing_only
            ):
                offences.append(f"{path.name}:{line} imports {module} (a layer above the core)")
        source = path.read_text()
        if "time.sleep" in source:
            offences.append(f"{path.name} calls time.sleep")
    assert offences == []


def test_no_import_cycles_between_modules() -> None:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {
        name: {
            module
            for module, _, typing_only in _imports(path)
            if module in modules and module != name and not typing_only
        }
        for name, path in modules.items()
    }
    cycles = []

    def visit(node: str, stack: list[str]) -> None:
        for nxt in graph[node]:
            if nxt in stack:
                cycles.append(" -> ".join([*stack[stack.index(nxt) :], nxt]))
            elif len(stack) < 12:
                visit(nxt, [*stack, nxt])

    for name in sorted(graph):
        visit(name, [name])
    assert sorted(set(cycles)) == []


def test_no_module_is_over_700_lines() -> None:
    sizes = {
        str(p.relative_to(PACKAGE)): len(p.read_text().splitlines()) for p in PACKAGE.rglob("*.py")
    }
    assert {name: n for name, n in sizes.items() if n > 700} == {}
