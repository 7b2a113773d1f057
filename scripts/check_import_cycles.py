"""Report import circles between perfinvest modules; exit 1 if there is any.

Every `import` and `from ... import` of a perfinvest module anywhere in a module (deferred,
function-level imports included) is an edge to the module file it names. A package whose
`__init__.py` is only a docstring is not a node: importing it costs nothing.
Usage: python scripts/check_import_cycles.py [SRC_DIR]   (default: src)
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = "perfinvest"


def module_names(src: Path) -> dict[str, Path]:
    """Map every dotted module name under src/perfinvest to its file."""
    names: dict[str, Path] = {}
    for path in sorted((src / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def is_docstring_only(path: Path) -> bool:
    body = ast.parse(path.read_text(encoding="utf-8")).body
    return all(isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) for node in body)


def resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The longest prefix of `name` that is a module (`a.b.func` -> `a.b`)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    targets: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            # `from pkg import sub` names the submodule `pkg.sub`; `from mod import name`
            # names `mod` (resolve() drops the trailing attribute).
            names = [f"{stem}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if name.split(".")[0] != PACKAGE:
                continue
            target = resolve(name, modules)
            if target is not None and target != module:
                targets.add(target)
    return targets


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative; components with more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, list[str]]] = [(root, sorted(graph[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, pending = work[-1]
            if pending:
                child = pending.pop()
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, sorted(graph.get(child, set()))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def main(argv: list[str]) -> int:
    src = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent / "src"
    modules = module_names(src)
    skipped = {name for name, path in modules.items() if is_docstring_only(path)}
    graph = {
        name: imports_of(name, path, modules) - skipped
        for name, path in modules.items()
        if name not in skipped
    }
    components = strongly_connected(graph)
    for component in components:
        members = set(component)
        print(f"import circle ({len(component)} modules):")
        for name in component:
            inside = sorted(graph[name] & members)
            print(f"  {name} -> {', '.join(inside)}")
    if components:
        print(f"{len(components)} import circle(s); break them (see docs/architecture.md)")
        return 1
    print(f"no import circles among {len(graph)} modules")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
