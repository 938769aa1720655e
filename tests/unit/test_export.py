"""engine.export_script / engine.export_notebook: the exported program, run by a fresh Python process, ends where
engine.train ends, for every method, full batch and mini-batches, with and without (Nesterov) momentum, on the
tutorials' data sets raw, rescaled and standardized.

Starting torch costs 1-2 s per process, so the scripts of all the cases run in ONE fresh process (a driver that runs
each with runpy in its own namespace); a few also run on their own, as a student would run them.
"""

from __future__ import annotations

import ast
import contextlib
import json
import re
import subprocess
import sys
import textwrap
from dataclasses import replace
from functools import cache

import nbformat
import numpy as np
import pytest
import torch

import engine

# optimizer, autograd and analytic do the engine's float32 arithmetic operation for operation (they agree to the
# last bit here), so only a change of kernels could move them.
EXACT = {"rtol": 1e-5, "atol": 1e-6}
# finite-difference: the script evaluates loss(p + delta e_j) and loss(p - delta e_j) one by one (tutorial 003's
# way), the engine all 2p + 1 losses of a step in one matrix product, so the float32 sums run in another order.
# Each loss can then differ by a few float32 ulps (~1e-7 relative); dividing a difference of two of them by
# 2 delta = 0.2 makes ~1e-6 x loss per gradient component, and lr <= 0.1 over <= 200 steps of a contracting
# iteration keeps the drift of the parameters near 1e-5 (observed over these cases: at most 1.6e-6 relative,
# 1.6e-5 absolute on the thermometer's b ~ -14; the final losses within 2e-5 absolute).
FD = {"rtol": 1e-4, "atol": 2e-5}
MOMENTA = {"plain": (0.0, False), "momentum": (0.9, False), "nesterov": (0.9, True)}
DRIVER_TIMEOUT = 240


# ----------------------------------------------------------------------------------------------------
# The cases
# ----------------------------------------------------------------------------------------------------


@cache
def _datasets() -> dict[str, tuple[engine.Dataset, dict]]:
    """name -> (dataset, config settings that converge on it in a few dozen epochs)."""
    thermometer = engine.make_dataset("thermometer")
    return {
        "line": (engine.make_dataset("line", n=20, noise=0.5, seed=0), {"lr": 0.1, "epochs": 30, "init": "random"}),
        "lab": (engine.make_dataset("lab"), {"lr": 0.01, "epochs": 40}),
        "wave": (engine.make_dataset("wave", n=20, noise=0.3, seed=1), {"lr": 0.1, "epochs": 30}),
        "thermometer-x0.1": (
            engine.scale_inputs(thermometer, "multiply", 0.1),
            {"lr": 0.01, "epochs": 60, "init": (1.0, 0.0)},  # tutorial 003's start
        ),
        "plane-standardized": (
            engine.scale_inputs(engine.make_dataset("plane", n=20, noise=0.5, seed=3), "standardize"),
            {"lr": 0.1, "epochs": 30, "init": "random", "seed": 5},
        ),
        "single-point": (engine.make_dataset("single-point"), {"lr": 0.01, "epochs": 40, "fit_bias": False}),
        "four-points": (engine.make_dataset("four-points"), {"lr": 0.01, "epochs": 40, "fit_bias": False}),
        "custom-plane": (_custom_plane(), {"lr": 0.003, "epochs": 30, "init": (0.5, -0.25, 1.0)}),
        "custom-standardized": (
            engine.scale_inputs(_custom_plane(), "standardize"),
            {"lr": 0.1, "epochs": 30},
        ),
        "custom-unrecoverable": (_unrecoverable(), {"lr": 0.1, "epochs": 30}),
        "thermometer-raw": (thermometer, {"lr": 0.01, "epochs": 100, "init": (1.0, 0.0)}),  # diverges, as in 003
        # the playground's defaults (10 epochs, so that every epoch prints a line)
        "playground": (
            engine.make_dataset("line", n=30, noise=0.5, seed=0),
            {"lr": 0.1, "epochs": 10, "init": (-1.0, -2.0), "momentum": 0.8},
        ),
    }


def _custom_plane() -> engine.Dataset:
    """Uploaded-style data: values that are not float32 numbers, inlined into the script."""
    rng = np.random.default_rng(11)
    x = rng.normal(size=(17, 2)) * [3.0, 0.5] + [10.0, -2.0]
    y = 0.7 * x[:, 0] - 1.9 * x[:, 1] + 0.3 + 0.2 * rng.normal(size=17)
    return engine.dataset_from_arrays(x, y, name="custom")


def _unrecoverable() -> engine.Dataset:
    """Standardized inputs that no raw float32 inputs map to, so the script has to inline the scaled values: near
    1000 a float32 step is 6e-5, which scaling by 1/sd = 0.003 makes 2e-7, several float32 steps at 0.38, so
    most scaled float32 values there have no raw value; one such value replaces the first scaled input."""
    x = [1000.0, 1001.5, 1003.25, 1e-5, 998.0, 1002.0, 999.5, 1000.75]
    y = [2.0, 2.5, 3.0, -1.0, 1.5, 2.75, 1.75, 2.25]
    ds = engine.scale_inputs(engine.dataset_from_arrays(x, y), "standardize")
    broken = ds.x.clone()
    broken[0, 0] = torch.nextafter(broken[0, 0], torch.tensor(1.0))  # no raw float32 value maps here
    return replace(ds, x=broken)


def _cfg(ds_name: str, **overrides) -> engine.TrainConfig:
    return engine.TrainConfig(**{**_datasets()[ds_name][1], **overrides})


def _matrix_cases() -> dict[str, tuple[str, engine.TrainConfig]]:
    """Every method x {full batch, mini-batches} x {no momentum, momentum 0.9, Nesterov} x the data sets."""
    cases = {}
    for ds_name in ("line", "lab", "thermometer-x0.1", "plane-standardized", "single-point", "four-points"):
        n = _datasets()[ds_name][0].n
        batches = [None] if n == 1 else [None, 4 if n > 4 else n - 1]
        for method in engine.METHODS:
            for batch in batches:
                for mom_name, (momentum, nesterov) in MOMENTA.items():
                    cfg = _cfg(ds_name, method=method, batch_size=batch, momentum=momentum, nesterov=nesterov)
                    cases[f"{ds_name}-{method}-{'full' if batch is None else f'batch{batch}'}-{mom_name}"] = (
                        ds_name,
                        cfg,
                    )
    return cases


def _extra_cases() -> dict[str, tuple[str, engine.TrainConfig]]:
    cases = {}
    for method in engine.METHODS:  # the forgotten zero_grad: every gradient adds to the ones before
        for batch in (None, 4):
            cfg = _cfg("line", method=method, batch_size=batch, zero_grad=False, lr=0.02, epochs=12)
            cases[f"no-zero-grad-{method}-{'full' if batch is None else 'batch4'}"] = ("line", cfg)
        cfg = _cfg("line", method=method, zero_grad=False, lr=0.01, epochs=10, momentum=0.5, nesterov=True)
        cases[f"no-zero-grad-nesterov-{method}"] = ("line", cfg)
        for ds_name in ("custom-plane", "custom-standardized", "custom-unrecoverable"):
            cases[f"{ds_name}-{method}"] = (ds_name, _cfg(ds_name, method=method, batch_size=5, momentum=0.5))
    for method in engine.METHODS:  # each epoch's line: the loss at the parameters it prints
        for batch in (None, 8):
            cfg = _cfg("playground", method=method, batch_size=batch)
            cases[f"playground-{method}-{'full' if batch is None else 'batch8'}"] = ("playground", cfg)
    for optimizer, momentum in (("adam", 0.0), ("rmsprop", 0.0), ("rmsprop", 0.9), ("adagrad", 0.0)):
        for ds_name in ("line", "plane-standardized"):
            for batch in (None, 4):
                cfg = _cfg(ds_name, optimizer=optimizer, momentum=momentum, batch_size=batch, lr=0.05)
                name = f"{optimizer}{'-momentum' if momentum else ''}-{ds_name}-{'full' if batch is None else 'batch4'}"
                cases[name] = (ds_name, cfg)
    return cases


def _diverging_cases() -> dict[str, tuple[str, engine.TrainConfig]]:
    """Tutorial 003's loop on the raw readings: lr 1e-2 blows up within a few epochs."""
    return {
        f"diverging-{method}-{'full' if batch is None else 'batch4'}": (
            "thermometer-raw",
            _cfg("thermometer-raw", method=method, batch_size=batch),
        )
        for method in engine.METHODS
        for batch in (None, 4)
    }


CASES = {**_matrix_cases(), **_extra_cases()}
DIVERGING = _diverging_cases()
NOTEBOOK_CASES = [
    "playground-analytic-batch8",
    "line-optimizer-batch4-nesterov",
    "thermometer-x0.1-finite-difference-full-plain",
    "plane-standardized-autograd-batch4-momentum",
    "four-points-analytic-full-momentum",
    "no-zero-grad-optimizer-batch4",
]


# ----------------------------------------------------------------------------------------------------
# Running the exported programs
# ----------------------------------------------------------------------------------------------------

DRIVER = textwrap.dedent(
    """
    import contextlib, io, json, runpy, sys, traceback

    results = {}
    for name, path in json.load(open(sys.argv[1])).items():
        out = io.StringIO()
        error = None
        try:
            with contextlib.redirect_stdout(out):
                runpy.run_path(path, run_name="__main__")  # a fresh namespace for every script
        except BaseException:  # noqa: BLE001 - report it, keep running the others
            error = traceback.format_exc()
        results[name] = {"stdout": out.getvalue(), "error": error}
    json.dump(results, open(sys.argv[2], "w"))
    """
)


def _notebook_code(notebook: str) -> str:
    """The notebook's code cells, one after another: the program a 'Run all' executes."""
    cells = json.loads(notebook)["cells"]
    return "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code") + "\n"


def _code_only(code: str) -> str:
    """The program without its comments and docstring (ast.unparse drops comments), to test what it does."""
    module = ast.parse(code)
    if module.body and isinstance(module.body[0], ast.Expr) and isinstance(module.body[0].value, ast.Constant):
        module.body = module.body[1:]
    return ast.unparse(module)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Write every case's script (and some notebooks' code), run them all in one fresh process."""
    folder = tmp_path_factory.mktemp("exported")
    manifest = {}
    for name, (ds_name, cfg) in {**CASES, **DIVERGING}.items():
        path = folder / f"{name}.py"
        path.write_text(engine.export_script(_datasets()[ds_name][0], cfg), encoding="utf-8")
        manifest[name] = str(path)
    for name in NOTEBOOK_CASES:
        ds_name, cfg = CASES[name]
        path = folder / f"notebook-{name}.py"
        path.write_text(_notebook_code(engine.export_notebook(_datasets()[ds_name][0], cfg)), encoding="utf-8")
        manifest[f"notebook-{name}"] = str(path)
    return run_driver(folder, manifest)


def _result(run: dict) -> dict:
    """The RESULT line, which must be the last line the program prints."""
    assert run["error"] is None, run["error"]
    last = run["stdout"].strip().splitlines()[-1]
    assert last.startswith("RESULT "), run["stdout"][-500:]
    return json.loads(last[len("RESULT ") :])


def _assert_same_run(result: dict, hist: engine.History, method: str) -> None:
    tol = FD if method == "finite-difference" else EXACT
    np.testing.assert_allclose(result["params"], hist.final_params, **tol)
    np.testing.assert_allclose(result["loss"], hist.final_loss, **tol)


PROGRESS = re.compile(r"^Epoch (\d+): loss = (\S+), (.*)$")


def _assert_progress_is_the_history(stdout: str, hist: engine.History, method: str) -> int:
    """Each 'Epoch k: loss = L, w = ..., b = ...' line pairs numbers that belong together: the parameters after
    epoch k's updates and the full-data loss at exactly those parameters, i.e. History.params and History.loss at
    step k * steps_per_epoch (the playground's numbers), to the printed precision. Returns how many lines."""
    lines = [PROGRESS.match(line) for line in stdout.splitlines() if line.startswith("Epoch ") and "loss =" in line]
    tol = FD if method == "finite-difference" else EXACT
    for match in lines:
        assert match, stdout[-2000:]
        step = int(match.group(1)) * hist.steps_per_epoch
        printed = float(match.group(2))
        # 6 significant digits printed: half a unit in the 6th digit, plus the method's own tolerance
        assert printed == pytest.approx(hist.loss[step], rel=5e-6 + tol["rtol"], abs=tol["atol"]), match.group(0)
        params = [float(v) for v in re.findall(r"= (-?\d+\.\d{4})\b", match.group(3))]
        np.testing.assert_allclose(params, hist.params[step], rtol=tol["rtol"], atol=5e-5 + tol["atol"])
    return len(lines)


# ----------------------------------------------------------------------------------------------------
# The tests
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CASES))
def test_the_script_ends_where_the_engine_ends(exported, name):
    ds_name, cfg = CASES[name]
    ds = _datasets()[ds_name][0]
    hist = engine.train(ds, cfg)
    assert not hist.diverged, "a converging config is needed for a meaningful comparison"
    run = exported["results"][name]
    _assert_same_run(_result(run), hist, cfg.method)
    progress = [line for line in run["stdout"].splitlines() if line.startswith("Epoch ")]
    assert 5 <= len(progress) <= 12, progress  # about every 10% of the epochs
    assert all(": loss = " in line for line in progress)
    assert _assert_progress_is_the_history(run["stdout"], hist, cfg.method) == len(progress)
    assert "Final parameters:" in run["stdout"] and "Final loss" in run["stdout"]
    starting = next(line for line in run["stdout"].splitlines() if line.startswith("Starting parameters:"))
    assert starting.count(" = ") == len(hist.param_names), starting
    assert "diverged" not in run["stdout"]


@pytest.mark.parametrize("method", engine.METHODS)
def test_epoch_1_prints_the_loss_at_the_parameters_it_prints(exported, method):
    """At the playground's defaults the first update takes (w, b) from (-1, -2), loss 15.8055, to (-0.5484, -1.4452),
    where the loss is 11.1157: the line pairs those, History's step 1, not the loss from before the update."""
    ds_name, cfg = CASES[f"playground-{method}-full"]
    hist = engine.train(_datasets()[ds_name][0], cfg)
    assert hist.loss[0] == pytest.approx(15.8055, abs=1e-4) and hist.loss[1] == pytest.approx(11.1157, abs=1e-4)
    first = next(
        line for line in exported["results"][f"playground-{method}-full"]["stdout"].splitlines() if "Epoch" in line
    )
    assert first == "Epoch 1: loss = 11.1157, w = -0.5484, b = -1.4452"


@pytest.mark.parametrize("name", list(DIVERGING))
def test_a_diverging_run_stops_cleanly(exported, name):
    ds_name, cfg = DIVERGING[name]
    ds = _datasets()[ds_name][0]
    hist = engine.train(ds, cfg)
    assert hist.diverged
    run = exported["results"][name]
    result = _result(run)  # no exception, and the RESULT line still comes last
    start_loss = hist.loss[0]
    if cfg.method == "finite-difference":
        # Far from the optimum the float32 differences of huge losses cancel: the estimated gradient stalls
        # before anything overflows, so this loop runs to the end with an enormous loss instead.
        assert result["loss"] > 1e6 * start_loss
    else:
        assert "training diverged: stopping early" in run["stdout"]
        assert not np.isfinite(result["loss"]) or result["loss"] > 1e6 * start_loss


@pytest.mark.parametrize("name", NOTEBOOK_CASES)
def test_the_notebook_is_valid_and_runs_the_same(exported, name):
    ds_name, cfg = CASES[name]
    ds = _datasets()[ds_name][0]
    notebook = engine.export_notebook(ds, cfg)
    node = nbformat.reads(notebook, as_version=4)
    nbformat.validate(node)
    kinds = [cell.cell_type for cell in node.cells]
    assert kinds[0] == "markdown" and kinds.count("code") == 6 and kinds.count("markdown") >= 6
    headings = [cell.source.splitlines()[0] for cell in node.cells if cell.cell_type == "markdown"]
    assert any("training loop" in h.lower() for h in headings) and any("result" in h.lower() for h in headings)
    loop_note = next(c.source for c in node.cells if c.cell_type == "markdown" and "training loop" in c.source)
    assert "four steps" in loop_note and "Forward pass" in loop_note
    # the notebook holds the script's program: the same statements, only the comments and docstring differ
    assert _code_only(_notebook_code(notebook)) == _code_only(engine.export_script(ds, cfg))
    hist = engine.train(ds, cfg)
    run = exported["results"][f"notebook-{name}"]
    _assert_same_run(_result(run), hist, cfg.method)
    assert _assert_progress_is_the_history(run["stdout"], hist, cfg.method) >= 5


def test_a_script_and_a_notebook_run_on_their_own(tmp_path):
    """As a student runs them: `python script.py`, in a process of its own."""
    ds_name, cfg = CASES["thermometer-x0.1-autograd-batch4-nesterov"]
    ds = _datasets()[ds_name][0]
    hist = engine.train(ds, cfg)
    for name, code in (
        ("script.py", engine.export_script(ds, cfg)),
        ("notebook.py", _notebook_code(engine.export_notebook(ds, cfg))),
    ):
        path = tmp_path / name
        path.write_text(code, encoding="utf-8")
        done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=60, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        _assert_same_run(_result({"stdout": done.stdout, "error": None}), hist, cfg.method)


# -- what the programs look like -----------------------------------------------------------------------


def _imports(code: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add((node.module or "").split(".")[0])
    return names


HALLMARKS = {
    "optimizer": ["torch.nn.Linear(d, 1, bias=", "torch.nn.MSELoss()", "loss.backward()", "optimizer.step()"],
    "autograd": ["requires_grad=True", "y_hat = X @ W + b", "loss.backward()", "with torch.no_grad():"],
    "finite-difference": ["def grad_fn(", "(loss_plus - loss_minus) / (2.0 * delta)", "params = params - "],
    "analytic": ["Xa.T", "torch.ones(n, 1)", "params = params - "],
}


@pytest.mark.parametrize("method", engine.METHODS)
def test_each_method_is_written_in_its_tutorials_style(method):
    ds = engine.make_dataset("line", n=20)
    script = _code_only(engine.export_script(ds, engine.TrainConfig(method=method, epochs=20)))
    assert _imports(script) == {"json", "torch"}
    for hallmark in HALLMARKS[method]:
        assert hallmark in script
    if method != "optimizer":
        assert "torch.optim" not in script
    if method in ("finite-difference", "analytic"):
        assert "backward" not in script and "requires_grad" not in script
    assert "torch.utils.data" not in script  # full batch: no sampler
    assert "grad.zero_()" in script if method == "autograd" else True
    assert "optimizer.zero_grad()" in script if method == "optimizer" else True


def test_the_switches_show_up_in_the_code():
    ds = engine.make_dataset("line", n=20)
    sgd = _code_only(engine.export_script(ds, engine.TrainConfig(momentum=0.9, nesterov=True, batch_size=4)))
    assert "torch.optim.SGD(model.parameters(), lr=learning_rate, momentum=momentum, nesterov=True)" in sgd
    assert "RandomSampler(range(n), generator=torch.Generator().manual_seed(0))" in sgd
    assert "BatchSampler(sampler, batch_size, drop_last=False)" in sgd
    no_zero = engine.export_script(ds, engine.TrainConfig(zero_grad=False))
    assert "zero_grad()" not in _code_only(no_zero) and "left out on purpose" in no_zero
    manual = _code_only(engine.export_script(ds, engine.TrainConfig(method="autograd", zero_grad=False, momentum=0.5)))
    assert ".grad.zero_()" not in manual and "velocity_W = momentum * velocity_W + W.grad" in manual
    accumulate = _code_only(engine.export_script(ds, engine.TrainConfig(method="analytic", zero_grad=False)))
    assert "grad_sum = grad_sum + grad" in accumulate and "params = params - learning_rate * grad_sum" in accumulate
    adam = engine.export_script(ds, engine.TrainConfig(optimizer="adam", lr=0.1))
    assert "torch.optim.Adam(model.parameters(), lr=learning_rate)" in adam
    rms = engine.export_script(ds, engine.TrainConfig(optimizer="rmsprop", momentum=0.9))
    assert "torch.optim.RMSprop(model.parameters(), lr=learning_rate, momentum=momentum)" in rms


def test_the_data_is_made_again_or_written_out_to_the_last_bit():
    line = engine.make_dataset("line", n=20, noise=0.5, seed=4)
    script = engine.export_script(line, engine.TrainConfig())
    assert "torch.Generator().manual_seed(4)" in script and "torch.randn(n, 1, generator=g)" in script
    thermometer = engine.export_script(engine.make_dataset("thermometer"), engine.TrainConfig())
    assert "[35.7, 55.9, 58.2, 81.9, 56.3, 48.9, 33.9, 21.8, 48.4, 60.4, 68.4]" in thermometer  # the raw readings
    scaled = engine.export_script(
        engine.scale_inputs(engine.make_dataset("thermometer"), "multiply", 0.1), engine.TrainConfig()
    )
    assert "35.7" in scaled and "X = (X.double() * factor).float()" in scaled
    standardized = engine.export_script(engine.scale_inputs(line, "standardize"), engine.TrainConfig())
    assert "X = ((X.double() - offset) * factor).float()" in standardized
    unrecoverable = engine.export_script(_unrecoverable(), engine.TrainConfig())
    assert "already rescaled" in unrecoverable and "offset" not in unrecoverable


def test_user_text_cannot_break_out_of_a_comment(tmp_path):
    name = 'evil"""\nimport os\nos.system("echo hacked")\n#'
    ds = engine.dataset_from_arrays([1.0, 2.0, 3.0], [2.0, 4.0, 6.5], name=name, feature_names=[name])
    ds = replace(ds, description=name)
    for code in (engine.export_script(ds, engine.TrainConfig()), engine.export_notebook(ds, engine.TrainConfig())):
        if code.startswith("{"):
            code = _notebook_code(code)
        assert _imports(code) == {"json", "torch"}
        assert "os.system" not in _code_only(code)  # it may be named in a comment, never run


def test_a_wrong_starting_point_is_refused_in_plain_words():
    with pytest.raises(ValueError, match="starting point needs 2 numbers"):
        engine.export_script(engine.make_dataset("lab"), engine.TrainConfig(init=(1.0, 2.0, 3.0)))


def run_driver(folder, manifest: dict) -> dict:
    """Run every exported file named in `manifest` in one fresh process (DRIVER); {"folder", "results"}."""
    (folder / "manifest.json").write_text(json.dumps(manifest))
    (folder / "driver.py").write_text(DRIVER)
    done = subprocess.run(
        [sys.executable, str(folder / "driver.py"), str(folder / "manifest.json"), str(folder / "results.json")],
        capture_output=True,
        text=True,
        timeout=DRIVER_TIMEOUT,
    )
    assert done.returncode == 0, done.stderr
    return {"folder": folder, "results": json.loads((folder / "results.json").read_text())}


def ruff_findings(folder) -> subprocess.CompletedProcess:
    """ruff on the exported scripts of `folder` (not the test's own driver), with the project's line length."""
    with contextlib.suppress(FileNotFoundError):
        (folder / "driver.py").unlink()
    cmd = [sys.executable, "-m", "ruff", "check", "--isolated", "--line-length", "120", "--select", "E,F,W,B"]
    return subprocess.run([*cmd, str(folder)], capture_output=True, text=True, timeout=60)


def test_the_exported_scripts_pass_ruff(exported):
    """What a student reads should pass a linter: no long lines, no unused names, no undefined ones."""
    done = ruff_findings(exported["folder"])
    assert done.returncode == 0, done.stdout[-3000:]
