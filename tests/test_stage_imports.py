"""Stages keep to themselves: who may import whom inside ``drumgenx`` (issue #12, section 2).

Every module under ``src/drumgenx`` is parsed with `ast` (imports inside functions count too)
and each import of a ``drumgenx`` module is checked against one rule:

* A **stage** (``preprocess``, ``transcribe``, ``roles``, ``skeleton``, ``render``, ``groove``,
  ``edit``, ``kit``, ``pictures``, ``training``) imports `drumgenx.core`, its own subpackage,
  and the package's ``__version__``; nothing else of ``drumgenx``. What several stages need
  (an event's default velocity and length, the order of an event grid, the seeded draw of a
  role's samples, where a sample's file is, why an input was skipped) lives in ``core``.
* Except along the data flow the README documents, each edge naming the modules it may use
  (`DATA_FLOW`): stage 1's ``--onset_method transcribe`` slices at the transcriber's hits
  (``preprocess`` -> ``transcribe``: ``model``, ``detect``); stages 3 and 4 render the loop
  they write, and declare the render flags the renderer declares (``skeleton`` -> ``render``:
  ``run``, ``settings``, ``timing``, ``cli_args``; ``groove`` -> ``render``: ``run``,
  ``settings``, ``cli_args``); ``export-kit`` writes the loop's MIDI on the kit's
  keys as ``export-midi`` does (``kit`` -> ``render``: ``midi``, ``settings``); each trainer
  builds and writes the model it trains (``training`` -> ``transcribe``: any module;
  ``groove``: ``model``, ``humanizer``, ``representation``, ``convert`` (the style
  library's roles are GrooVAE's drum classes'); ``roles``: ``learned``, and ``features``,
  ``rules``, ``fusion``, ``calibration`` (the role trainer fits the calibration on what stage
  2 fuses, issue #15); ``preprocess``: ``onsets_flux``,
  ``onsets_learned``; ``skeleton``: ``styles``, the style library it builds).
* ``core`` imports no stage.
* The **assemblers** put stages together and may import any stage: ``chain`` (``drumgenx
  run``), ``cli``, ``__main__`` and the ``drumgenx`` facade.
* Nobody imports another stage's private names (``_name``), assemblers included.

A second test keeps the module graph free of import cycles (lazy imports count), so no two
modules lean on each other's internals; `KNOWN_CYCLES` lists the cycles still to untangle.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "drumgenx"
STAGES = frozenset(
    {
        "preprocess",
        "transcribe",
        "roles",
        "skeleton",
        "render",
        "groove",
        "edit",
        "kit",
        "pictures",
        "training",
    }
)
ASSEMBLERS = frozenset({"chain", "cli", "__main__", "__init__", "studio"})
ANY = None  # every module of the target stage
DATA_FLOW: dict[str, dict[str, frozenset[str] | None]] = {
    "preprocess": {"transcribe": frozenset({"model", "detect"})},
    "skeleton": {"render": frozenset({"run", "settings", "timing", "cli_args"})},
    "groove": {"render": frozenset({"run", "settings", "cli_args"})},
    "kit": {"render": frozenset({"midi", "settings"})},
    "training": {
        "transcribe": ANY,
        "groove": frozenset({"model", "representation", "convert", "humanizer"}),
        "roles": frozenset({"learned", "features", "rules", "fusion", "calibration"}),
        "preprocess": frozenset({"onsets_flux", "onsets_learned"}),
        "skeleton": frozenset({"styles"}),
    },
}
KNOWN_CYCLES: list[frozenset[str]] = []


@dataclass(frozen=True)
class Import:
    """One ``drumgenx`` import: who imports which module, and which names of it."""

    importer: str  # dotted module name, e.g. drumgenx.groove.convert
    line: int
    target: str  # dotted module name imported from, e.g. drumgenx.render.midi
    names: tuple[str, ...]  # the names taken from it (empty for ``import a.b``)

    def where(self) -> str:
        return f"{self.importer}:{self.line}"


def _module_names() -> dict[str, Path]:
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def package_imports() -> list[Import]:
    """Every import of a ``drumgenx`` module anywhere in the package, lazy ones included."""
    modules = _module_names()
    found = []
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    target = node.module or ""
                names = tuple(alias.name for alias in node.names)
                # ``from drumgenx.x import y`` where y is a module imports that module
                submodules = [n for n in names if f"{target}.{n}" in modules]
                for sub in submodules:
                    found.append(Import(name, node.lineno, f"{target}.{sub}", ()))
                rest = tuple(n for n in names if n not in submodules)
                if rest and target.partition(".")[0] == "drumgenx":
                    found.append(Import(name, node.lineno, target, rest))
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.partition(".")[0] == "drumgenx":
                        found.append(Import(name, node.lineno, alias.name, ()))
    return found


def _part(module: str) -> str:
    """The stage (or ``core``, ``cli``...) a dotted ``drumgenx`` module belongs to."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def violation(imp: Import) -> str | None:
    """Why ``imp`` breaks the module docstring's rule, or None when it keeps it."""
    importer, target = _part(imp.importer), _part(imp.target)
    if importer == target:
        return None
    if imp.target == "drumgenx":  # the facade: only its version, for output metadata
        return None if set(imp.names) <= {"__version__"} else "imports the drumgenx facade"
    private = [n for n in (*imp.names, imp.target.rpartition(".")[2]) if n.startswith("_")]
    if private:
        return f"imports private {', '.join(private)} of {target}"
    if target == "core":
        return None
    if importer == "core":
        return f"core imports stage {target}"
    if importer in ASSEMBLERS:
        return None
    if target not in DATA_FLOW.get(importer, {}):
        return f"stage {importer} imports stage {target}"
    allowed = DATA_FLOW[importer][target]
    module = imp.target.split(".")[2] if imp.target.count(".") >= 2 else None
    if allowed is not ANY and module not in allowed:
        return f"{importer} may use {target}'s {', '.join(sorted(allowed))}, not {module}"
    return None


def test_every_part_of_the_package_is_known() -> None:
    parts = {_part(name) for name in _module_names()}
    assert parts <= STAGES | ASSEMBLERS | {"core"}, "add the new part to STAGES or ASSEMBLERS"


def test_no_stage_imports_another_stages_internals() -> None:
    imports = package_imports()
    assert len(imports) > 100  # the parser sees the package
    broken = [f"{imp.where()}: {why}" for imp in imports if (why := violation(imp))]
    assert not broken, "\n".join(broken)


def test_the_rule_catches_what_it_should() -> None:
    def why(importer: str, target: str, *names: str) -> str | None:
        return violation(Import(importer, 1, target, names))

    assert why("drumgenx.groove.convert", "drumgenx.skeleton.patterns", "choose_samples")
    assert why("drumgenx.edit.operations", "drumgenx.skeleton.patterns", "velocity")
    assert why("drumgenx.kit.demo", "drumgenx.render.mixer", "velocity_gain")
    assert why("drumgenx.core.records", "drumgenx.roles.run", "run_roles")
    assert why("drumgenx.chain.run", "drumgenx.preprocess.onsets", "_backtrack")
    assert why("drumgenx.skeleton.run", "drumgenx", "run")
    assert why("drumgenx.kit.export", "drumgenx.render.midi", "events_to_midi") is None
    assert why("drumgenx.chain.run", "drumgenx.skeleton.grid", "build_grid") is None
    assert why("drumgenx.roles.run", "drumgenx", "__version__") is None
    assert why("drumgenx.training.corpus", "drumgenx.transcribe.network", "NetworkSpec") is None


def _cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(graph)))
    try:
        for v in sorted(graph):
            if v not in index:
                visit(v)
    finally:
        sys.setrecursionlimit(limit)
    return found


def test_no_import_cycles() -> None:
    graph: dict[str, set[str]] = {name: set() for name in _module_names()}
    for imp in package_imports():
        if imp.target in graph and imp.target != imp.importer:
            graph[imp.importer].add(imp.target)
    cycles = _cycles(graph)
    new = [sorted(c) for c in cycles if c not in KNOWN_CYCLES]
    assert not new, f"import cycles: {new}"
    untangled = [sorted(c) for c in KNOWN_CYCLES if c not in cycles]
    assert not untangled, f"no longer cycles, drop them from KNOWN_CYCLES: {untangled}"
