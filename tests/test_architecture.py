"""The code's shape, held from its syntax trees (docs/ARCHITECTURE.md): imports run one
way through the layers, without cycles; datasette and the network each stay in their
own room; no module takes another's private names; no module grows past 400 lines.

Every import counts, including those inside functions (a cycle held together by an
import inside a function is still a cycle). Each rule is also shown to fail on a tree
planted with the fault it looks for.
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).parent.parent
PACKAGES = ("ingest", "kb")
# the layers, lowest first: a module may import its own layer and those below it
LAYERS = (
    ("ingest",),
    ("kb.data",),
    ("kb.evidence", "kb.match", "kb.resolve"),
    ("kb.db",),
    ("kb.export",),
    ("kb.web",),
    ("kb.cli",),
)
# who may import what: a module outside these rooms importing one of these is a fault
CONFINED = {
    "datasette": ("kb.web",),
    "jinja2": ("kb.web",),
    # the network: only the E-utilities client opens connections
    **{name: ("ingest.entrez",) for name in (
        "Bio", "socket", "http.client", "urllib.request", "requests", "httpx", "urllib3",
        "aiohttp", "ftplib", "smtplib", "xmlrpc")},
}
MAX_LINES = 400
# modules allowed to be longer, each with the reason (none today)
LONG_MODULES: dict[str, str] = {}


@dataclass(frozen=True)
class Import:
    source: str      # the importing module
    target: str      # the module imported (a project module, or the external name)
    line: int
    names: tuple[str, ...] = ()   # the names a `from ... import` takes


def project_modules(root: Path, packages=PACKAGES) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the packages under root."""
    found = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(module: str, path: Path, known: dict[str, Path]) -> list[Import]:
    """Every import of one module, wherever it stands (inside functions too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Import(module, alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module != "__future__":
            base = _absolute(module, path.name == "__init__.py", node)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                if sub in known:          # `from kb.data import schema`: the module
                    found.append(Import(module, sub, node.lineno))
                else:                     # `from kb.data.schema import CLAIMS`: names
                    found.append(Import(module, base, node.lineno, (alias.name,)))
    return found


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _owner(target: str, known: dict[str, Path]) -> str | None:
    """The project module an imported name belongs to (itself or its nearest parent)."""
    parts = target.split(".")
    while parts:
        if ".".join(parts) in known:
            return ".".join(parts)
        parts.pop()
    return None


def _layer(module: str) -> int | None:
    best = None
    for number, rooms in enumerate(LAYERS):
        for room in rooms:
            if module == room or module.startswith(room + "."):
                if best is None or len(room) > best[1]:
                    best = (number, len(room))
    return None if best is None else best[0]


def graph(root: Path, packages=PACKAGES) -> tuple[dict[str, Path], list[Import]]:
    known = project_modules(root, packages)
    edges = [i for module, path in known.items() for i in imports_of(module, path, known)]
    return known, edges


def cycles(known: dict[str, Path], edges: list[Import]) -> list[list[str]]:
    """The import cycles: strongly connected groups of modules (Tarjan), and modules
    importing themselves."""
    out: dict[str, set[str]] = {m: set() for m in known}
    for edge in edges:
        target = _owner(edge.target, known)
        if target is not None and target != edge.source:
            out[edge.source].add(target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(out[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(known):
        if v not in index:
            visit(v)
    return found


def layer_faults(known: dict[str, Path], edges: list[Import]) -> list[str]:
    faults = []
    for edge in edges:
        target = _owner(edge.target, known)
        if target is None:
            continue
        mine, theirs = _layer(edge.source), _layer(target)
        if mine is None or theirs is None:
            continue
        if theirs > mine:
            faults.append(f"{known[edge.source].name}:{edge.line}: {edge.source} (layer "
                          f"{LAYERS[mine]}) imports {target} (layer {LAYERS[theirs]}), "
                          "which is above it")
    return faults


def confinement_faults(known: dict[str, Path], edges: list[Import],
                       confined=CONFINED) -> list[str]:
    faults = []
    for edge in edges:
        for name, rooms in confined.items():
            if edge.target == name or edge.target.startswith(name + "."):
                if not any(edge.source == r or edge.source.startswith(r + ".")
                           for r in rooms):
                    faults.append(f"{edge.source}:{edge.line}: imports {edge.target}, which "
                                  f"only {', '.join(rooms)} may import")
    return faults


def private_faults(known: dict[str, Path], edges: list[Import]) -> list[str]:
    """Private names of one project module taken by another: `from m import _x`, or
    `m._x` on a module bound by an import."""
    faults = [f"{edge.source}:{edge.line}: takes {name} from {edge.target}"
              for edge in edges if _owner(edge.target, known) not in (None, edge.source)
              for name in edge.names if _private(name)]
    for module, path in known.items():
        faults += _private_attributes(module, path, known)
    return faults


def _private_attributes(module: str, path: Path, known: dict[str, Path]) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bound: dict[str, str] = {}   # local name -> project module it stands for
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname and alias.name in known:
                    bound[alias.asname] = alias.name
                elif not alias.asname:
                    top = alias.name.split(".")[0]
                    bound.setdefault(top, top)
        elif isinstance(node, ast.ImportFrom) and node.module != "__future__":
            base = _absolute(module, path.name == "__init__.py", node)
            for alias in node.names:
                if f"{base}.{alias.name}" in known:
                    bound[alias.asname or alias.name] = f"{base}.{alias.name}"
    faults = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            chain, value = [], node.value
            while isinstance(value, ast.Attribute):
                chain.insert(0, value.attr)
                value = value.value
            if isinstance(value, ast.Name) and value.id in bound:
                owner = ".".join([bound[value.id], *chain])
                if owner in known and owner != module:
                    faults.append(f"{module}:{node.lineno}: uses {owner}.{node.attr}")
    return faults


def long_modules(known: dict[str, Path], exempt=LONG_MODULES) -> list[str]:
    return [f"{path.relative_to(path.parents[len(module.split('.')) - 1]).as_posix()}: "
            f"{n} lines (at most {MAX_LINES})"
            for module, path in known.items() if module not in exempt
            for n in [len(path.read_text(encoding="utf-8").splitlines())] if n > MAX_LINES]


# -- the project --------------------------------------------------------------------


@pytest.fixture(scope="module")
def project():
    return graph(REPO)


def test_the_layers_are_the_packages_the_project_has(project):
    known, _ = project
    rooms = {room for layer in LAYERS for room in layer}
    assert all(any(m == r or m.startswith(r + ".") for r in rooms) or m in PACKAGES
               for m in known), "a module outside every layer"
    assert {r for r in rooms if not any(m == r or m.startswith(r + ".") for m in known)} \
        == set(), "a layer names a room the code does not have"


def test_imports_form_no_cycle(project):
    assert cycles(*project) == []


def test_imports_run_down_the_layers(project):
    assert layer_faults(*project) == []


def test_nothing_imports_the_command_line(project):
    known, edges = project
    assert [e for e in edges if _owner(e.target, known) == "kb.cli"] == []


def test_datasette_and_the_network_stay_in_their_rooms(project):
    assert confinement_faults(*project) == []


def test_the_network_is_reached_through_bio_entrez_in_one_module(project):
    known, edges = project
    assert {e.source for e in edges if e.target.split(".")[0] == "Bio"} == {"ingest.entrez"}
    assert {e.source for e in edges if e.target.split(".")[0] == "datasette"} <= {
        m for m in known if m.startswith("kb.web")}


def test_no_module_takes_another_modules_private_names(project):
    assert private_faults(*project) == []


def test_benchmarks_use_only_public_names_of_the_code():
    known = project_modules(REPO)
    faults = []
    for path in sorted((REPO / "bench").glob("*.py")):
        name = "bench." + path.stem
        edges = imports_of(name, path, known)
        faults += [f"{path.name}:{e.line}: takes {n} from {e.target}" for e in edges
                   for n in e.names if _owner(e.target, known) and _private(n)]
        faults += _private_attributes(name, path, known)
    assert faults == []


def test_no_module_is_over_400_lines(project):
    known, _ = project
    assert long_modules(known) == []


# -- each rule fails on a tree planted with its fault -----------------------------------


def plant(root: Path, files: dict[str, str]) -> tuple[dict[str, Path], list[Import]]:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return graph(root, ("kb", "ingest"))


def test_a_planted_cycle_is_found_even_through_an_import_inside_a_function(tmp_path):
    tree = plant(tmp_path, {
        "kb/__init__.py": "",
        "kb/data/__init__.py": "",
        "kb/data/a.py": "from . import b\n",
        "kb/data/b.py": "def later():\n    from kb.data import a\n    return a\n",
        "kb/data/c.py": "from .a import thing\n",
        "ingest/__init__.py": "",
    })
    assert cycles(*tree) == [["kb.data.a", "kb.data.b"]]


def test_a_planted_import_up_the_layers_is_found(tmp_path):
    tree = plant(tmp_path, {
        "kb/__init__.py": "", "kb/web/__init__.py": "", "kb/db/__init__.py": "",
        "kb/web/pages.py": "X = 1\n",
        "kb/db/rows.py": "def f():\n    from kb.web.pages import X\n    return X\n",
        "ingest/__init__.py": "", "ingest/sync.py": "import kb.db.rows\n",
    })
    faults = layer_faults(*tree)
    assert len(faults) == 2
    assert faults[0].startswith("rows.py:2: kb.db.rows (layer ('kb.db',)) imports "
                                "kb.web.pages")
    assert faults[1].startswith("sync.py:1: ingest.sync (layer ('ingest',)) imports "
                                "kb.db.rows")


def test_planted_datasette_and_network_imports_outside_their_rooms_are_found(tmp_path):
    tree = plant(tmp_path, {
        "kb/__init__.py": "", "kb/db/__init__.py": "",
        "kb/db/build.py": "def f():\n    import urllib.request\n    from datasette import"
                          " hookimpl\n",
        "ingest/__init__.py": "", "ingest/entrez.py": "from Bio import Entrez\n",
        "ingest/cache.py": "import socket\n",
    })
    assert confinement_faults(*tree) == [
        "kb.db.build:2: imports urllib.request, which only ingest.entrez may import",
        "kb.db.build:3: imports datasette, which only kb.web may import",
        "ingest.cache:1: imports socket, which only ingest.entrez may import",
    ]


def test_planted_private_names_taken_across_modules_are_found(tmp_path):
    tree = plant(tmp_path, {
        "kb/__init__.py": "", "kb/data/__init__.py": "",
        "kb/data/a.py": "def _hidden():\n    pass\n\ndef _mine():\n    return _hidden()\n",
        "kb/data/b.py": "from .a import _hidden\n",
        "kb/data/c.py": "from kb.data import a\n\ndef f():\n    return a._hidden()\n",
        "ingest/__init__.py": "",
    })
    assert sorted(private_faults(*tree)) == ["kb.data.b:1: takes _hidden from kb.data.a",
                                             "kb.data.c:4: uses kb.data.a._hidden"]


def test_a_planted_long_module_is_found_unless_exempted_by_name(tmp_path):
    known, _ = plant(tmp_path, {
        "kb/__init__.py": "", "kb/data/__init__.py": "",
        "kb/data/table.py": "X = 1\n" * (MAX_LINES + 1), "ingest/__init__.py": "",
    })
    assert long_modules(known) == [f"kb/data/table.py: {MAX_LINES + 1} lines (at most 400)"]
    assert long_modules(known, {"kb.data.table": "a data table"}) == []


# -- named records and the tables they fill -------------------------------------------


def test_the_named_records_are_the_rows_of_their_tables():
    """A Hop is a claim_trails row, a Conflict a claim_conflicts row, ClaimEvidence the
    claims table's computed columns, a ClaimCitation a claim_citations row, and the works
    carry the sources table's columns: each in its table's column order."""
    from kb.data import works
    from kb.data.cites import ClaimCitation
    from kb.db.tables import EVIDENCE_COLUMNS, TABLES_BY_NAME
    from kb.evidence.model import ClaimEvidence, Conflict, Hop

    def columns(name):
        return tuple(TABLES_BY_NAME[name].columns)

    assert Hop._fields == columns("claim_trails")
    assert Conflict._fields == columns("claim_conflicts")
    assert ClaimCitation._fields == columns("claim_citations")
    assert ClaimEvidence._fields == tuple(name for name, _, _ in EVIDENCE_COLUMNS)
    assert columns("claims")[-len(EVIDENCE_COLUMNS):] == ClaimEvidence._fields
    assert works.COLUMNS == columns("sources")
