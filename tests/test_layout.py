"""The package's shape: imports run from higher folders to lower ones only, and never in a loop."""

import ast
import graphlib
import subprocess
import sys
from pathlib import Path

from lottery_init.config.paths import ROOT

# The parts from the floor up; a module may import its own part and the parts below it. Parts on
# one line are peers, which never import each other.
LEVELS = [
    ("floor",),  # seeding, files, devices: anything may import them
    ("models",),
    ("data",),
    ("pruning",),
    ("config",),
    ("runs",),
    ("training",),
    ("sweep",),
    ("report.read", "report.statistics"),
    ("report",),
    ("tools", "train", "hydra_plugins"),
]
RANK = {part: rank for rank, parts in enumerate(LEVELS) for part in parts}
FLOOR = ("lottery_init.seeding", "lottery_init.files", "lottery_init.devices")


def modules() -> dict[str, Path]:
    """Every module of the package and of its Hydra plugins, by dotted name."""
    found = {}
    for top in ("lottery_init", "hydra_plugins"):
        for path in (ROOT / top).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(path: Path, known: set[str]) -> set[str]:
    """The package's modules that `path` imports, anywhere in it (functions and type hints too)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                out.add(full if full in known else node.module)
        elif isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
    return {name for name in out if name in known}


def part(module: str) -> str:
    """The folder (part) a module belongs to."""
    if module in FLOOR:
        return "floor"
    names = module.split(".")
    if names[0] == "hydra_plugins":
        return "hydra_plugins"
    if names[1:3] in (["report", "read"], ["report", "statistics"]):
        return ".".join(names[1:3])
    return names[1] if len(names) > 1 else "lottery_init"


def graph() -> dict[str, set[str]]:
    """Each module's imports of the package's other modules."""
    found = modules()
    return {m: imports(path, set(found)) - {m} for m, path in found.items()}


def test_every_module_is_in_a_part_of_the_layout():
    unplaced = {m for m in graph() if part(m) not in RANK and m != "lottery_init"}
    assert not unplaced


def test_no_import_runs_from_a_lower_part_to_a_higher_one():
    wrong = [
        f"{m} -> {i}"
        for m, imported in graph().items()
        for i in imported
        if m != "lottery_init" and part(i) != part(m) and RANK[part(i)] >= RANK[part(m)]
    ]
    assert not wrong


def test_no_module_imports_itself_through_others():
    # A package's own modules are left out: importing `a.b` runs `a/__init__.py` first.
    edges = {
        m: {i for i in imported if not m.startswith(f"{i}.")} for m, imported in graph().items()
    }
    graphlib.TopologicalSorter(edges).prepare()  # raises CycleError, naming the loop


def test_finding_the_repository_root_imports_neither_hydra_nor_lightning():
    code = (
        "import sys, lottery_init.config.paths; "
        "print(sorted(m for m in ('hydra', 'pytorch_lightning', 'torch') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
