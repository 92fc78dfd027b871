"""The layering of src/, checked over the import graph (every import: top-level,
function-local and under TYPE_CHECKING alike, parsed with `ast`, nothing imported).

Layers of kubelantern, lowest first; a module may import its own layer or lower ones only.
"""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"

# Lowest first. A module's layer is the first prefix (dotted) that matches it.
LAYERS: list[tuple[str, ...]] = [
    (
        "kubelantern",
        "kubelantern.settings",
        "kubelantern.status",
        "kubelantern.observe",
        "kubelantern.identity",  # team mode's sign-in parts: import nothing else of ours
    ),
    ("kubelantern.clusters", "kubelantern.demo"),  # demo: simulator apps → cluster specs
    ("kubelantern.proxy",),
    ("kubelantern.web", "kubelantern.doctor"),
    (
        "kubelantern.cli",
        "kubelantern.teamflags",
        "kubelantern.sessionflags",
        "kubelantern.limitflags",
        "kubelantern.__main__",
    ),
]
MAX_LINES = 400
# Modules over MAX_LINES, with the reason in ARCHITECTURE.md ("Sizes").
OVERSIZED = {
    "kubelantern.clusters.kubeconfig",  # one parser of one file format
    "kubelantern.clusters.credentials",  # token files, exec plugins, refresh: one Credentials
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in SRC.rglob("*.py")}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The src modules `name` imports (a `from pkg import mod` counts as pkg.mod)."""
    tree = ast.parse(path.read_text(), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{a.name}" for a in node.names] + [base]
        else:
            continue
        for target in targets:
            # The longest known module the target names (a name imported from a module
            # counts as that module).
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports_of(name, path, known) for name, path in mods.items()}


def layer_of(name: str) -> int:
    best, best_len = -1, -1
    for i, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (name == prefix or name.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = i, len(prefix)
    return best


def test_the_graph_is_read() -> None:
    g = graph()
    # A known edge of each kind must be seen, or the checks below prove nothing.
    assert "kubelantern.clusters.cluster" in g["kubelantern.clusters.registry"]
    assert "kubelantern.settings" in g["kubelantern.proxy.deps"]
    assert "kubelantern.web.app" in g["kubelantern.cli"]  # a function-local import


def cycles_in(prefix: str) -> list[list[str]]:
    g = {n: t for n, t in graph().items() if n.startswith(prefix)}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(g.get(node, ())):
            # A package's __init__ importing its own submodules is not a cycle of modules.
            if nxt.startswith(node + "."):
                continue
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(g):
        if node not in state:
            visit(node)
    # Parent packages import their children, children may name their parent package's
    # __init__ only if it imports nothing back: report true module cycles.
    return [c for c in cycles if not all(b.startswith(a + ".") for a, b in itertools.pairwise(c))]


def test_no_import_cycles_in_kubelantern() -> None:
    cycles = cycles_in("kubelantern")
    assert not cycles, "\n".join(" → ".join(c) for c in cycles)


def test_no_import_cycles_in_kubesim() -> None:
    cycles = cycles_in("kubesim")
    assert not cycles, "\n".join(" → ".join(c) for c in cycles)


def test_no_upward_imports_in_kubelantern() -> None:
    g = graph()
    bad = []
    for name, targets in g.items():
        if not name.startswith("kubelantern"):
            continue
        assert layer_of(name) >= 0, f"{name} is in no layer: add it to LAYERS"
        for target in targets:
            if target.startswith("kubelantern") and layer_of(target) > layer_of(name):
                bad.append(f"{name} → {target}")
    assert not bad, "imports from a lower layer to a higher one:\n" + "\n".join(sorted(bad))


def test_kubesim_never_imports_kubelantern() -> None:
    g = graph()
    bad = [
        f"{name} → {t}"
        for name, targets in g.items()
        if name.startswith("kubesim")
        for t in targets
        if t.startswith("kubelantern")
    ]
    assert not bad, "\n".join(sorted(bad))


def test_modules_stay_small() -> None:
    """Both packages: the product and the simulator (kubesim has no exceptions)."""
    big = {name: len(path.read_text().splitlines()) for name, path in modules().items()}
    over = {n: lines for n, lines in big.items() if lines > MAX_LINES and n not in OVERSIZED}
    assert not over, f"modules over {MAX_LINES} lines (split them or say why): {over}"
