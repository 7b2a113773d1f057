"""The one YAML loader of perfinvest: every YAML file it reads goes through :func:`load_yaml`.

YAML aliases let a 1 KiB file describe a billion nodes (the "billion laughs"): PyYAML builds
it cheaply as shared objects, then anything that walks it (validation, a deep copy, JSON)
expands it and takes gigabytes. This loader composes the node graph first (aliases stay
shared: small), counts the nodes it *would* expand to, and refuses (exit 2) a document over
:data:`MAX_NODES` expanded nodes, a recursive alias, nesting deeper than :data:`MAX_DEPTH`
or a text over :data:`MAX_BYTES`, before anything is constructed. Only YAML's safe types are
constructed (``SafeLoader``).

Syntax errors are raised as ``yaml.YAMLError`` for the caller to word (they name the file
its own way); the limits are one-line usage errors naming the limit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from perfinvest.core.errors import usage_error

#: The largest YAML text read (bytes of UTF-8). Hand-written files are far smaller.
MAX_BYTES = 4 * 2**20
#: The most nodes a document may expand to once its aliases are followed.
MAX_NODES = 200_000
#: The deepest nesting accepted (PyYAML composes recursively).
MAX_DEPTH = 200


def _expanded_size(root: Any, source: str) -> int:
    """Nodes the document expands to, aliases followed; refuses a cycle or too many/deep."""
    import yaml

    sizes: dict[int, int] = {}
    # iterative post-order walk: (node, depth, children pushed?)
    stack: list[tuple[Any, int, bool]] = [(root, 1, False)]
    open_nodes: set[int] = set()
    while stack:
        node, depth, expanded = stack.pop()
        key = id(node)
        if expanded:
            open_nodes.discard(key)
            total = 1
            for child in _children(node, yaml):
                total += sizes[id(child)]
                if total > MAX_NODES:
                    raise _too_many(source)
            sizes[key] = total
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise usage_error(f"{source}: refusing YAML with a recursive alias (fix the file)")
        if depth > MAX_DEPTH:
            raise usage_error(
                f"{source}: refusing YAML nested deeper than {MAX_DEPTH} levels (fix the file)"
            )
        open_nodes.add(key)
        stack.append((node, depth, True))
        for child in _children(node, yaml):
            if id(child) not in sizes:
                stack.append((child, depth + 1, False))
    return sizes[id(root)]


def _children(node: Any, yaml: Any) -> list[Any]:
    if isinstance(node, yaml.MappingNode):
        return [item for pair in node.value for item in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _too_many(source: str) -> Exception:
    return usage_error(
        f"{source}: refusing YAML whose aliases expand to more than {MAX_NODES:,} nodes "
        "(a YAML bomb?); write the values out, or use fewer aliases"
    )


def compose_yaml(text: str, source: str) -> tuple[Any, Any]:
    """``(data, root node)`` of one YAML document (``(None, None)`` when empty), within the
    limits. The node gives line numbers for messages."""
    import yaml

    if len(text) > MAX_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise usage_error(
            f"{source}: refusing a YAML file over {MAX_BYTES // 2**20} MiB (the limit for "
            "perfinvest's configuration files)"
        )
    loader = yaml.SafeLoader(text)
    try:
        try:
            root = loader.get_single_node()
        except RecursionError:
            raise usage_error(
                f"{source}: refusing YAML nested deeper than {MAX_DEPTH} levels (fix the file)"
            ) from None
        if root is None:
            return None, None
        _expanded_size(root, source)
        return loader.construct_document(root), root
    finally:
        loader.dispose()


def load_yaml(text: str, source: str) -> Any:
    """The data of one YAML document, within the limits (see the module doc)."""
    return compose_yaml(text, source)[0]


def read_yaml_text(path: Path) -> str:
    """A YAML file's text, refused (exit 2) over :data:`MAX_BYTES` before it is read.

    ``OSError`` (missing, unreadable) and ``UnicodeDecodeError`` reach the caller."""
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise usage_error(
            f"{path}: refusing a YAML file over {MAX_BYTES // 2**20} MiB ({size:,} bytes; "
            "the limit for perfinvest's configuration files)"
        )
    return path.read_text(encoding="utf-8")
