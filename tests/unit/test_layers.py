"""The packages' layering (docs/architecture.md, "Folders"): each imports only packages below it, so the folder
names tell a newcomer where a thing lives and what it may use."""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
# bottom first; a package may import those listed before it (and itself)
LAYERS = ["engine", "settings", "charts", "server", "compute", "components", "ui", "views"]
OWN = set(LAYERS) | {"board"}


def imported_packages(path: pathlib.Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & OWN


@pytest.mark.parametrize("package", LAYERS)
def test_a_package_imports_only_the_layers_below_it(package):
    allowed = set(LAYERS[: LAYERS.index(package) + 1]) | ({"board"} if package in ("ui", "views") else set())
    wrong = {
        f"{py.relative_to(ROOT)} imports {sorted(imported_packages(py) - allowed)}"
        for py in (ROOT / package).rglob("*.py")
        if imported_packages(py) - allowed
    }
    assert not wrong, sorted(wrong)


def test_no_module_is_left_in_a_package_that_no_longer_holds_it():
    # ui/ held everything once; what moved must not come back under its old name
    moved = {"controls", "lesson", "worker", "recycle", "nodelay", "compat", "access", "bounded_cache", "runs"}
    assert not {p.stem for p in (ROOT / "ui").glob("*.py")} & moved
