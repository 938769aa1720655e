"""Exported scripts and notebooks of runs with polynomial features, a held-out test set, weight decay (two parameter
groups) and L1, run in a fresh process: they end where engine.train ends, test loss included. The driver and the
comparisons are test_export's; the cases are issue 26's."""

from __future__ import annotations

import nbformat
import numpy as np
import pytest

import engine

from .test_export import (
    EXACT,
    FD,
    _assert_progress_is_the_history,
    _code_only,
    _notebook_code,
    _result,
    ruff_findings,
    run_driver,
)


def _datasets():
    line = engine.make_dataset("line", n=20, noise=0.5, seed=1)
    return {
        "poly3": engine.polynomial(line, 3),
        "poly5-raw": engine.polynomial(engine.make_dataset("line", n=16, noise=0.3, seed=2), 5, standardize=False),
        # the thermometer's readings are written out (no recipe), then their powers
        "thermo-poly2": engine.polynomial(engine.make_dataset("thermometer"), 2),
        "plane": engine.make_dataset("plane", n=20, noise=0.5, seed=3),
    }


DATASETS = _datasets()
BASE = {"lr": 0.05, "epochs": 30, "init": "random", "seed": 3}


def _cases() -> dict[str, tuple[str, engine.TrainConfig]]:
    cases = {}
    for method in engine.METHODS:
        for batch in (None, 4):
            for mom_name, momentum, nesterov in (
                ("plain", 0.0, False),
                ("momentum", 0.9, False),
                ("nesterov", 0.5, True),
            ):
                cfg = engine.TrainConfig(
                    method=method,
                    batch_size=batch,
                    momentum=momentum,
                    nesterov=nesterov,
                    weight_decay=0.2,
                    l1=0.05,
                    test_fraction=0.25,
                    **BASE,
                )
                cases[f"poly3-{method}-{'full' if batch is None else 'batch4'}-{mom_name}"] = ("poly3", cfg)
        cases[f"no-zero-grad-{method}"] = (
            "poly3",
            engine.TrainConfig(
                method=method, zero_grad=False, lr=0.01, epochs=10, weight_decay=0.3, l1=0.1, test_fraction=0.2
            ),
        )
        cases[f"decay-only-{method}"] = (
            "poly5-raw",
            engine.TrainConfig(method=method, lr=1e-4, epochs=20, weight_decay=0.5),
        )
        cases[f"l1-only-split-{method}"] = (
            "thermo-poly2",
            engine.TrainConfig(method=method, lr=0.1, epochs=20, l1=0.2, test_fraction=0.3, seed=9),
        )
        cases[f"no-bias-decay-{method}"] = (
            "plane",
            engine.TrainConfig(method=method, lr=0.05, epochs=20, fit_bias=False, weight_decay=1.0),
        )
    for optimizer in ("adam", "rmsprop", "adagrad"):
        cases[f"{optimizer}-decay"] = (
            "poly3",
            engine.TrainConfig(optimizer=optimizer, lr=0.05, epochs=20, weight_decay=0.1, l1=0.01, test_fraction=0.25),
        )
    return cases


CASES = _cases()
NOTEBOOK_CASES = ["poly3-optimizer-batch4-momentum", "poly3-analytic-full-nesterov", "no-zero-grad-autograd"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("exported-regularization")
    manifest = {}
    for name, (ds_name, cfg) in CASES.items():
        path = folder / f"{name}.py"
        path.write_text(engine.export_script(DATASETS[ds_name], cfg), encoding="utf-8")
        manifest[name] = str(path)
    for name in NOTEBOOK_CASES:
        ds_name, cfg = CASES[name]
        path = folder / f"notebook-{name}.py"
        path.write_text(_notebook_code(engine.export_notebook(DATASETS[ds_name], cfg)), encoding="utf-8")
        manifest[f"notebook-{name}"] = str(path)
    return run_driver(folder, manifest)


def _check(result: dict, hist: engine.History, method: str) -> None:
    tol = FD if method == "finite-difference" else EXACT
    np.testing.assert_allclose(result["params"], hist.final_params, **tol)
    np.testing.assert_allclose(result["loss"], hist.final_loss, **tol)
    if hist.test_loss is None:
        assert "test_loss" not in result
    else:
        np.testing.assert_allclose(result["test_loss"], hist.test_loss[-1], **tol)


@pytest.mark.parametrize("name", list(CASES))
def test_the_script_ends_where_the_engine_ends(exported, name):
    ds_name, cfg = CASES[name]
    hist = engine.train(DATASETS[ds_name], cfg)
    assert not hist.diverged
    run = exported["results"][name]
    _check(_result(run), hist, cfg.method)
    assert _assert_progress_is_the_history(run["stdout"], hist, cfg.method) >= 5


@pytest.mark.parametrize("name", NOTEBOOK_CASES)
def test_the_notebook_runs_the_same(exported, name):
    ds_name, cfg = CASES[name]
    ds = DATASETS[ds_name]
    notebook = engine.export_notebook(ds, cfg)
    nbformat.validate(nbformat.reads(notebook, as_version=4))
    assert _code_only(_notebook_code(notebook)) == _code_only(engine.export_script(ds, cfg))
    _check(_result(exported["results"][f"notebook-{name}"]), engine.train(ds, cfg), cfg.method)


def test_the_regularization_shows_up_in_the_code():
    ds = DATASETS["poly3"]
    cfg = engine.TrainConfig(momentum=0.9, weight_decay=0.2, l1=0.05, test_fraction=0.25, seed=4)
    code = _code_only(engine.export_script(ds, cfg))
    assert "{'params': [model.weight], 'weight_decay': weight_decay}" in code
    assert "{'params': [model.bias], 'weight_decay': 0.0}" in code
    assert "torch.optim.SGD(param_groups, lr=learning_rate, momentum=momentum)" in code
    assert "loss = loss + l1 * model.weight.abs().sum()" in code
    assert "torch.randperm(n, generator=torch.Generator().manual_seed(4))" in code
    assert "powers.append(powers[-1] * powers[0])" in code and "X = ((powers - offset) * factor).float()" in code
    manual = _code_only(engine.export_script(ds, engine.TrainConfig(method="autograd", weight_decay=0.2, l1=0.05)))
    assert "W -= learning_rate * (W.grad + weight_decay * W)" in manual and "b -= learning_rate * b.grad" in manual
    assert "loss = loss + l1 * W.abs().sum()" in manual
    flat = _code_only(engine.export_script(ds, engine.TrainConfig(method="analytic", weight_decay=0.2, l1=0.05)))
    assert "grad = grad + l1 * is_weight * torch.sign(params)" in flat
    assert "step_grad = grad + weight_decay * is_weight * params" in flat
    assert "is_weight = torch.tensor([1.0, 1.0, 1.0, 0.0])" in flat
    # without the new settings, nothing of it appears
    plain = engine.export_script(engine.make_dataset("line", n=20), engine.TrainConfig())
    for word in ("weight_decay", "l1", "randperm", "powers", "is_weight", "test"):
        assert word not in _code_only(plain)


def test_the_exported_scripts_pass_ruff(exported):
    done = ruff_findings(exported["folder"])
    assert done.returncode == 0, done.stdout[-3000:]
