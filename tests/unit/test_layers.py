"""The packages' layering (docs/architecture.md, "Folders"): each imports only packages below it, so the folder
names tell a newcomer where a thing lives and what it may use."""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
# bottom first; a package may import those listed before it (and itself)
LAYERS = ["engine", "settings", "charts", "server", "compute", "components", "ui", "views"]
OWN = set(LAYERS) | {"board"}
BOARD_USERS = ("server", "compute", "components", "ui", "views")


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
    # board (the class board's storage: SQLAlchemy, no Streamlit) is opened by server/board_db.py, used through
    # compute/classboard.py, and its errors and records are named by ui and views
    allowed = set(LAYERS[: LAYERS.index(package) + 1]) | ({"board"} if package in BOARD_USERS else set())
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


def test_the_board_imports_none_of_the_layers():
    # it sits beside the engine, below everything that uses it: pure storage and rules
    wrong = {f"{py.relative_to(ROOT)}" for py in (ROOT / "board").rglob("*.py") if imported_packages(py) - {"board"}}
    assert not wrong, sorted(wrong)
