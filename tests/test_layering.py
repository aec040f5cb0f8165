"""Imports go one way: cli -> sweep -> solver -> models -> layers -> kernels -> backend.

Every ``import`` of every module of the package is read (those inside functions too), and no
module may import one of a higher layer. The ranks follow docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import ast
from pathlib import Path

import xnn

PACKAGE = Path(xnn.__file__).parent

# Rank of each top-level module or subpackage of xnn; a module may import ranks <= its own.
RANKS = {
    "backend": 0, "npz": 0, "choices": 0, "progress": 0,
    "validation": 1, "data": 1, "vis": 1, "gradient_check": 1,
    "kernels": 2,
    "layers": 3, "optim": 3,
    "models": 4,
    "solver": 5, "captioning_solver": 5, "training": 5,
    "compat": 6, "bench": 6,
    "sweep": 7,
    "cli": 8, "__init__": 9, "__main__": 9,
}
# Exceptions to the order (none: the output-size helpers the checks share with the kernels live in
# validation itself).
ALLOWED: set[tuple[str, str]] = set()


def _module_parts(path: Path) -> list[str]:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" and len(parts) > 1 else parts


def _imports(path: Path) -> list[tuple[int, str]]:
    """``(line, dotted name inside xnn)`` of every xnn import in ``path``."""
    parts = _module_parts(path)
    package = parts if path.name == "__init__.py" else parts[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)]
                target = [*base, *(node.module.split(".") if node.module else [])]
            elif node.module and node.module.split(".")[0] == "xnn":
                target = node.module.split(".")[1:]
            else:
                continue
            # "from .. import kernels" names a module too: the imported name completes the path
            found += [(node.lineno, ".".join([*target, alias.name])) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name.split(".", 1)[1]) for a in node.names
                      if a.name.startswith("xnn.")]
    return found


def _violations() -> list[str]:
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = _module_parts(path)[0]
        for line, target in _imports(path):
            top = target.split(".")[0]
            if top not in RANKS or source not in RANKS or RANKS[top] <= RANKS[source]:
                continue
            if not any(source == s and target.startswith(t) for s, t in ALLOWED):
                bad.append(f"{path.relative_to(PACKAGE)}:{line} imports xnn.{target}")
    return bad


def test_every_top_level_module_has_a_rank():
    tops = {_module_parts(p)[0] for p in PACKAGE.rglob("*.py")}
    assert tops <= set(RANKS), f"give these a rank: {sorted(tops - set(RANKS))}"


def test_no_module_imports_a_higher_layer():
    assert _violations() == []
