"""What a YAML file may not do before it is turned into data: repeat a key (the last one would silently win), or
expand aliases beyond a bound (a few kilobytes of nested aliases can grow into gigabytes once walked)."""
from __future__ import annotations

import yaml

# Nodes that aliases may add to a document, beyond those written out in it.
ALIAS_BUDGET = 10_000
MERGE_TAG = "tag:yaml.org,2002:merge"


def duplicate_keys(root: yaml.Node | None) -> list[tuple[tuple, int, str]]:
    """(path, line, message) of every mapping key written twice in one mapping."""
    found: list[tuple[tuple, int, str]] = []
    seen_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, tuple]] = [(root, ())] if root is not None else []
    while stack:
        node, path = stack.pop()
        if id(node) in seen_nodes:      # an alias: its mapping was checked where it was written
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            first: dict[str, int] = {}
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.tag != MERGE_TAG:
                    line = key.start_mark.line + 1
                    if key.value in first:
                        found.append((path + (key.value,), line,
                                      f"duplicate key {key.value!r} (first on line {first[key.value]})"))
                    else:
                        first[key.value] = line
                stack.append((value, path + (getattr(key, "value", "?"),)))
        elif isinstance(node, yaml.SequenceNode):
            stack += [(item, path + (i,)) for i, item in enumerate(node.value)]
    found.sort(key=lambda f: f[1])
    return found


def alias_problem(root: yaml.Node | None) -> str | None:
    """Why the document's aliases are refused (a cycle, or expanding past ALIAS_BUDGET), or None."""
    if root is None:
        return None
    sizes: dict[int, int] = {}      # nodes a subtree holds once every alias is expanded
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            on_path.discard(key)
            sizes[key] = 1 + sum(sizes[id(c)] for c in _children(node))
            continue
        if key in sizes:
            continue
        if key in on_path:
            return "an alias refers to the node that holds it"
        on_path.add(key)
        stack.append((node, True))
        stack += [(c, False) for c in _children(node) if id(c) not in sizes]
    if sizes[id(root)] > len(sizes) + ALIAS_BUDGET:   # len(sizes): the nodes written out
        return (f"aliases expand the document by more than {ALIAS_BUDGET} nodes; write the repeated parts out "
                "or use fewer aliases")
    return None


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []
