"""What the README's commands install is exactly what was tested: every requirement pinned, the environment on the
pins, and the ranges in the .in files no wider than what was run."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
LOCKS = ("requirements.txt", "requirements-dev.txt")


def requirements(name: str) -> list[Requirement]:
    """The requirement lines of a requirements file (comments, options and -r/-c lines left out)."""
    lines = (ln.split("#")[0].strip() for ln in (ROOT / name).read_text().splitlines())
    return [Requirement(ln) for ln in lines if ln and not ln.startswith("-")]


def pins(name: str) -> dict[str, Version]:
    """Package -> pinned version, for the pins whose markers hold on this interpreter and platform."""
    out = {}
    for req in requirements(name):
        if req.marker is None or req.marker.evaluate():
            (spec,) = req.specifier
            out[req.name.lower()] = Version(spec.version)
    return out


@pytest.mark.parametrize("lock", LOCKS)
def test_every_requirement_is_pinned_to_one_version(lock):
    reqs = requirements(lock)
    assert len(reqs) > 20, "the transitive requirements are listed too"
    for req in reqs:
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"{lock}: {req} is not pinned"


@pytest.mark.parametrize("lock", LOCKS)
def test_the_installed_packages_are_the_pinned_ones(lock):
    for name, version in pins(lock).items():
        installed = Version(importlib.metadata.version(name))
        # torch's CPU build is 2.13.0+cpu: the pin fixes the public version, the build is the user's choice
        assert Version(installed.public) == version, f"{name}: {installed} installed, {version} pinned in {lock}"


def test_the_dev_pins_agree_with_the_runtime_pins():
    runtime, dev = pins("requirements.txt"), pins("requirements-dev.txt")
    assert {name: dev.get(name) for name in runtime} == runtime


@pytest.mark.parametrize("source", ["requirements.in", "requirements-dev.in"])
def test_each_lower_bound_is_the_series_that_was_tested(source):
    """A lower bound promises that version works: it must be the major.minor series the suite ran with."""
    pinned = pins("requirements-dev.txt")
    bounded = 0
    for req in requirements(source):
        for spec in req.specifier:
            if spec.operator in (">=", "=="):
                low, tested = Version(spec.version), pinned[req.name.lower()]
                assert low <= tested, f"{req}: pinned {tested} is below the bound"
                assert low.release[:2] == tested.release[:2], (
                    f"{source}: {req} admits an older series than the {tested} the suite ran; raise the bound"
                )
                bounded += 1
    assert bounded >= 3


def test_the_pins_hold_for_linux_macos_and_windows_on_python_3_11_to_3_13():
    """One pinned file for every platform: each package it needs there is pinned once, with markers that parse."""
    for lock in LOCKS:
        reqs = requirements(lock)
        for python in ("3.11", "3.12", "3.13"):
            for platform, system in (("linux", "Linux"), ("darwin", "Darwin"), ("win32", "Windows")):
                env = {"python_version": python, "python_full_version": f"{python}.0", "sys_platform": platform}
                env |= {"platform_system": system, "platform_machine": "x86_64" if system != "Darwin" else "arm64"}
                chosen = [r.name.lower() for r in reqs if r.marker is None or Marker(str(r.marker)).evaluate(env)]
                assert len(chosen) == len(set(chosen)), (lock, python, platform)
                assert {"torch", "streamlit", "plotly", "numpy", "pandas"} <= set(chosen), (lock, python, platform)


def test_the_readme_installs_the_pinned_files():
    readme = (ROOT / "README.md").read_text()
    assert "pip install -r requirements.txt" in readme
    test_script = (ROOT / "scripts" / "test.sh").read_text()
    assert re.search(r"pip install .*-r requirements-dev\.txt", test_script)
