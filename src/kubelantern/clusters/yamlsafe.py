"""Bounds for YAML read from files a user points us at (kubeconfigs), pure.

A YAML alias (`*a`) repeats a node without repeating its text: ten lines of `&a [*b, *b,
...]` stand for a document of billions of nodes, which PyYAML builds as shared references
and the first `json.dumps` or walk over it then expands (issue 10, defect 12: >1.5 GiB in
17 s). `expanded_size` measures the document as if every alias were written out, in time
linear in the distinct nodes, so the loader can refuse it before anything expands it.
"""

from __future__ import annotations

from typing import Any

MAX_FILE_BYTES = 64 << 20  # a kubeconfig with hundreds of contexts and certificates: ~1 MiB
MAX_EXPANDED = 16 << 20  # nodes + characters once every alias is expanded


class TooLarge(ValueError):
    """The document expands past the bound, or refers to itself."""


def expanded_size(doc: Any, limit: int = MAX_EXPANDED) -> int:
    """Nodes plus string/bytes characters of `doc` with every shared node counted each time
    it is referred to; raises TooLarge past `limit` or on a node that contains itself."""
    sizes: dict[int, int] = {}
    # Iterative post-order walk: (node, children pushed yet?)
    stack: list[tuple[Any, bool]] = [(doc, False)]
    open_nodes: set[int] = set()
    while stack:
        node, expanded = stack.pop()
        key = id(node)
        if isinstance(node, dict):
            children = [*node.keys(), *node.values()]
        elif isinstance(node, list | tuple):
            children = list(node)
        else:
            size = len(node) if isinstance(node, str | bytes) else 1
            sizes[key] = size + 1
            continue
        if key in sizes and not expanded:
            continue
        if not expanded:
            if key in open_nodes:
                raise TooLarge("a YAML alias refers to a node that contains it")
            open_nodes.add(key)
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in sizes or not _is_container(c))
            continue
        open_nodes.discard(key)
        total = 1 + sum(sizes[id(c)] for c in children)
        if total > limit:
            raise TooLarge(f"it expands to more than {limit:,} nodes and characters")
        sizes[key] = total
    return sizes[id(doc)]


def _is_container(node: Any) -> bool:
    return isinstance(node, dict | list | tuple)
