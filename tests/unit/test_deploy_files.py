"""The deployment files that cannot run here (no docker, no cluster) still name what exists and what the app needs.

The Dockerfile once copied a `pages/` folder that had moved to `views/`: its build would have failed at that line,
and the image would have lacked every page. These checks read the files as text.
"""

from __future__ import annotations

import ast
import re
import textwrap
import tomllib
from pathlib import Path

import board
from server import recycle

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "deploy" / "Dockerfile").read_text()
MANIFEST = (ROOT / "deploy" / "k8s" / "playground.yaml").read_text()


def copied() -> set[str]:
    """The sources of the Dockerfile's COPY lines (the last word of each is its destination)."""
    sources = set()
    for line in DOCKERFILE.splitlines():
        words = line.split()
        if words[:1] == ["COPY"]:
            sources.update(w.rstrip("/") for w in words[1:-1] if not w.startswith("--"))
    return sources


def local_imports(path: Path) -> set[str]:
    """Top-level names a script imports that are folders or modules of this repository."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return {n for n in names if (ROOT / n).is_dir() or (ROOT / f"{n}.py").is_file()}


def test_every_file_the_dockerfile_copies_exists():
    missing = sorted(s for s in copied() if not (ROOT / s).exists())
    assert not missing, f"deploy/Dockerfile copies what is not in the repository: {missing}"


def test_the_image_holds_every_page_and_every_package_the_app_imports():
    pages = set(re.findall(r'st\.Page\("([^/"]+)/', (ROOT / "app.py").read_text()))
    assert pages == {"views"}
    packages = ("views", "settings", "server", "compute", "ui", "components")
    scripts = [ROOT / "app.py", *(py for p in packages for py in (ROOT / p).glob("*.py"))]
    needed = pages | {".streamlit", "requirements.txt"} | set().union(*map(local_imports, scripts))
    assert needed >= {"engine", "charts", "settings", "server", "compute", "ui", "views", "components", "board"}
    assert needed <= copied() | {"app"}, f"not copied into the image: {sorted(needed - copied())}"


def test_the_manifest_turns_recycling_on_with_a_value_the_app_accepts():
    found = re.search(r"name: (PLAYGROUND_RECYCLE_IDLE_S)\s*\n\s*value: \"([^\"]*)\"", MANIFEST)
    assert found, "deploy/k8s/playground.yaml does not set PLAYGROUND_RECYCLE_IDLE_S"
    policy = recycle.policy_from_env({found[1]: found[2]})
    assert policy is not None and policy.idle_s >= 120  # past Streamlit's 2 minutes for a reconnect


def test_start_sh_turns_recycling_on_by_default_with_a_value_the_app_accepts():
    start_sh = (ROOT / "deploy" / "start.sh").read_text()
    default = re.search(r'RECYCLE_IDLE="\$\{PLAYGROUND_RECYCLE_IDLE_S:-([^}]*)\}"', start_sh)
    assert default, "deploy/start.sh has no default for PLAYGROUND_RECYCLE_IDLE_S"
    policy = recycle.policy_from_env({"PLAYGROUND_RECYCLE_IDLE_S": default[1]})
    assert policy is not None and policy.idle_s >= 120


def test_the_image_gives_the_class_board_a_data_directory_its_user_can_write():
    assert "board" in copied()
    assert re.search(r"PLAYGROUND_DATA_DIR=/data\b", DOCKERFILE) and "chown playground /data" in DOCKERFILE
    assert DOCKERFILE.index("chown playground /data") < DOCKERFILE.index("USER playground")
    assert "data/" in (ROOT / ".dockerignore").read_text().split()  # a local board.sqlite stays out of the image


def test_the_manifest_points_every_replica_at_one_postgresql_board():
    block = re.search(r"secrets\.toml: \|\n((?: {4}.*\n| *\n)+)", MANIFEST)
    assert block, "deploy/k8s/playground.yaml has no secrets.toml in a Secret"
    secrets = tomllib.loads(textwrap.dedent(block[1]))
    section = secrets["connections"]["board"]
    assert section["url"].startswith("postgresql+psycopg://")
    assert section["create_engine_kwargs"] == {"pool_pre_ping": True, "connect_args": {"connect_timeout": 3}}
    assert board.connection_kwargs(secrets) == {}  # secrets.toml's URL, not the pod's own SQLite file
    assert "mountPath: /app/.streamlit/secrets.toml" in MANIFEST and "subPath: secrets.toml" in MANIFEST
