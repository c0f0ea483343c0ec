"""The house: the package's import graph has no circle, each layer imports only the layers
below it, no module imports another's private names, and optuna's private members stay out.

Imports made only for type checking (under ``if TYPE_CHECKING``) are not edges: they never run.
A function-level import is an edge like any other: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "searchlab"

#: each subpackage's layer: a module may import its own subpackage and lower layers only
LAYERS = {
    "core": 0,
    "rlm": 1,
    "strategies": 1,
    "verifiers": 1,
    "store": 1,
    "report": 1,
    "surrogates": 2,
    "campaign": 3,
    "testing": 4,
    "cli": 4,
}
#: top-level modules: the public facade and the example problems (scikit-learn objectives)
TOP = {"searchlab": 5, "searchlab.examples": 0}


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


class Imports(ast.NodeVisitor):
    """Absolute imports of a module (dotted targets), skipping type-checking-only blocks."""

    def __init__(self) -> None:
        self.targets: list[tuple[str, str | None]] = []  # (module, imported name or None)

    def visit_If(self, node: ast.If) -> None:
        if "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self.targets += [(a.name, None) for a in node.names]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        assert node.level == 0, "relative imports: the house uses absolute ones"
        self.targets += [(node.module or "", a.name) for a in node.names]


def imports_of(path: Path) -> list[tuple[str, str | None]]:
    visitor = Imports()
    visitor.visit(ast.parse(path.read_text(encoding="utf-8")))
    return visitor.targets


def resolve(name: str, known: dict[str, Path]) -> str | None:
    """The module an import names (``a.b.func`` -> ``a.b``), or None outside the package."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def layer(module: str) -> int:
    if module in TOP:
        return TOP[module]
    return LAYERS[module.split(".")[1]]


def graph() -> dict[str, set[str]]:
    known = modules()
    edges: dict[str, set[str]] = {m: set() for m in known}
    for module, path in known.items():
        for target, name in imports_of(path):
            full = f"{target}.{name}" if name else target
            found = resolve(full, known)
            # a module importing its own package's __init__ (a parent) is Python's doing
            if found and found != module and not module.startswith(found + "."):
                edges[module].add(found)
    return edges


def test_every_subpackage_has_a_layer():
    unplaced = {m for m in modules() if m not in TOP and m.split(".")[1] not in LAYERS}
    assert not unplaced, f"modules outside the layered subpackages: {sorted(unplaced)}"


def test_no_import_circle():
    try:
        tuple(TopologicalSorter(graph()).static_order())
    except CycleError as exc:
        pytest.fail(f"import circle: {' -> '.join(exc.args[1])}")


def test_no_layer_imports_a_higher_one():
    wrong = [
        f"{m} (layer {layer(m)}) imports {t} (layer {layer(t)})"
        for m, targets in graph().items()
        for t in targets
        if layer(t) > layer(m)
        and m != "searchlab"
        # within one subpackage anything goes; across subpackages only downwards
        and t.split(".")[:2] != m.split(".")[:2]
    ]
    same = [
        f"{m} imports {t}: {m.split('.')[1]} and {t.split('.')[1]} share layer {layer(m)}"
        for m, targets in graph().items()
        for t in targets
        if m not in TOP and t not in TOP and layer(t) == layer(m)
        and m.split(".")[1] != t.split(".")[1]
    ]  # fmt: skip
    assert not wrong + same, "\n".join(wrong + same)


def test_no_module_imports_another_modules_private_names():
    known = modules()
    reach = [
        f"{m} imports {name} from {target}"
        for m, path in known.items()
        for target, name in imports_of(path)
        if name and name.startswith("_") and target.startswith("searchlab")
    ]
    assert not reach, "\n".join(reach)


#: private-looking names that are public API: SQLAlchemy documents ``Row._mapping``
PUBLIC_UNDERSCORED = {"_mapping"}


def own_private_names(tree: ast.AST) -> set[str]:
    """Underscored names a module defines itself: functions, methods, ``self._x`` fields."""
    names = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef)}
    names |= {
        n.attr
        for n in ast.walk(tree)
        if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Store)
    }
    return {n for n in names if n.startswith("_")}


def test_no_module_reaches_into_another_modules_private_attributes():
    reach = []
    for path in modules().values():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        own = own_private_names(tree) | PUBLIC_UNDERSCORED
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and ast.unparse(node.value) not in ("self", "cls")
                and node.attr not in own
            ):
                where = f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"
                reach.append(f"{where} uses {ast.unparse(node)}")
    assert not reach, "\n".join(reach)


def test_optuna_only_through_its_public_api():
    private = [
        f"{path.relative_to(PACKAGE.parent)}:{node.lineno} uses .{node.attr}"
        for path in modules().values()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute) and node.attr in ("_storage", "_study_id", "_backend")
    ]
    assert not private, "\n".join(private)


def test_the_checks_catch_a_circle_and_a_private_import(tmp_path):
    """The walker itself: a circle and a private import in a scratch package are found."""
    (tmp_path / "a.py").write_text("def f():\n    from b import _g\n")
    (tmp_path / "b.py").write_text("import a\n")
    targets = {p.stem: imports_of(p) for p in tmp_path.glob("*.py")}
    assert targets == {"a": [("b", "_g")], "b": [("a", None)]}
    with pytest.raises(CycleError):
        tuple(TopologicalSorter({"a": {"b"}, "b": {"a"}}).static_order())


def layout_rows() -> dict[str, tuple[str, str]]:
    """The README's Layout table: path -> (layer, what)."""
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Layout", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[1].startswith("`searchlab/") and cells[1].endswith("/`"):
            rows[cells[1].strip("`").rstrip("/").split("/", 1)[1]] = (cells[0], cells[2])
    return rows


def test_the_readme_layout_table_matches_the_folders_and_the_layers():
    """Every subpackage has a row giving its layer and naming each of its modules, and a
    docstring; every row is a subpackage."""
    rows = layout_rows()
    folders = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert set(rows) == folders
    for folder, (row_layer, what) in rows.items():
        assert int(row_layer) == LAYERS[folder], folder
        package = PACKAGE / folder
        assert ast.get_docstring(ast.parse((package / "__init__.py").read_text())), folder
        for module in package.glob("*.py"):
            if module.name != "__init__.py":
                assert f"`{module.name}`" in what, f"README row {folder}/ omits {module.name}"
