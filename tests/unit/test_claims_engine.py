"""Every sentence true: the numbers behind what the engine's texts say (the exported scripts' comments and the
optimum_problem message), each checked against a run of the engine, an independent plain-PyTorch loop written the
tutorials' way, a closed form in numpy, or torch.optim's own state.

- A forgotten grad.zero_(): the scripts say the step uses the running total of all gradients (momentum 1 in
  effect); with no momentum and lr * lambda_max < 4 the path swings for ever at about constant size, from 4 on it
  grows; with any momentum it blows up at every learning rate; with mini-batches it can grow below 4 too.
- Badly scaled inputs (Unix timestamps, values near 1e14, values near 1e-30): the message names the scale and the
  condition number, the fix, and the float64 optimum; zeros stay "all zero", a constant column "the same value".
- The optimizers' comments in the scripts: Adagrad's all-time sum, RMSprop's decaying average, Adam's bias-corrected
  averages, and the first momentum step.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys

import numpy as np
import pytest
import torch

import engine
from engine.analysis import bad_scale

START = (-1.0, -2.0)  # the playground's default start (w0, b0)


def _playground_line() -> engine.Dataset:
    """The playground's default data: tutorial 001's line, 30 points, noise 0.5, seed 0."""
    return engine.make_dataset("line", n=30, noise=0.5, seed=0)


# ----------------------------------------------------------------------------------------------------
# A forgotten grad.zero_()
# ----------------------------------------------------------------------------------------------------


def _forgetful_loop(x: np.ndarray, y: np.ndarray, lr: float, steps: int, momentum: float = 0.0, nesterov=False):
    """Tutorial 001's loop with W.grad.zero_() forgotten: raw W and b, loss.backward(), the update under no_grad.
    Returns the parameters before every update and after the last one, (steps + 1, 2)."""
    X = torch.tensor(x, dtype=torch.float32).reshape(-1, 1)
    Y = torch.tensor(y, dtype=torch.float32).reshape(-1, 1)
    W = torch.tensor([[START[0]]], requires_grad=True)
    b = torch.tensor([START[1]], requires_grad=True)
    v_W, v_b = torch.zeros_like(W), torch.zeros_like(b)
    path = [[W.item(), b.item()]]
    for _ in range(steps):
        loss = torch.mean((X @ W + b - Y) ** 2)
        loss.backward()  # W.grad += the new gradient: never zeroed, it holds the sum of all of them
        with torch.no_grad():
            if momentum:
                v_W = momentum * v_W + W.grad
                v_b = momentum * v_b + b.grad
                W -= lr * (W.grad + momentum * v_W if nesterov else v_W)
                b -= lr * (b.grad + momentum * v_b if nesterov else v_b)
            else:
                W -= lr * W.grad
                b -= lr * b.grad
        path.append([W.item(), b.item()])
    return np.array(path)


def _mse(x: np.ndarray, y: np.ndarray, path: np.ndarray) -> np.ndarray:
    """The full-data MSE at each row (w, b) of a path, in float64 numpy."""
    x, y = x.astype(np.float64), y.astype(np.float64)
    with np.errstate(all="ignore"):
        return np.mean((path[:, :1] * x[None, :] + path[:, 1:] - y[None, :]) ** 2, axis=1)


def _step_sizes(path: np.ndarray) -> np.ndarray:
    return np.linalg.norm(np.diff(path, axis=0), axis=1)


def _blow_up_step(losses: np.ndarray) -> int | None:
    """The first step whose loss is not finite or above a million times the start's."""
    bad = ~np.isfinite(losses) | (losses > 1e6 * losses[0])
    return int(np.argmax(bad)) if bad.any() else None


def _xy(ds):
    return ds.x.numpy()[:, 0], ds.y.numpy()


def test_without_momentum_a_forgotten_zero_grad_swings_for_ever_at_constant_size():
    """lr 0.1 on the playground's line (lr * lambda_max = 0.21 < 4): step 1.79 at the start, 1.78 after 300 steps;
    the loss goes 15.8 -> 5.1 and never settles near the least-squares loss 0.304."""
    ds = _playground_line()
    x, y = _xy(ds)
    path = _forgetful_loop(x, y, lr=0.1, steps=300)
    hist = engine.train(ds, engine.TrainConfig(lr=0.1, epochs=300, init=START, zero_grad=False))
    np.testing.assert_allclose(hist.params, path, rtol=1e-4, atol=1e-4)  # the engine does what the loop does
    min_loss = engine.Quadratic.of(ds, True).min_loss
    assert min_loss == pytest.approx(0.3039, abs=1e-4)
    for p, loss in ((path, _mse(x, y, path)), (hist.params, hist.loss)):
        steps = _step_sizes(p)
        first, last = steps[:50].max(), steps[-50:].max()
        assert first == pytest.approx(1.79, abs=0.005) and last == pytest.approx(1.78, abs=0.005)
        assert 0.98 < last / first < 1.02  # the same size after 300 steps: no growth, no decay
        assert loss[0] == pytest.approx(15.8055, abs=1e-4) and loss[300] == pytest.approx(5.128, abs=1e-3)
        late = loss[-100:]
        assert late.min() > 2.0 * min_loss and late.max() > 10.0 * min_loss  # still swinging: never settles
    assert not hist.diverged


def test_without_momentum_the_size_stays_below_lr_lambda_max_4_and_grows_above():
    ds = _playground_line()
    x, y = _xy(ds)
    lam = float(engine.stability(ds).eigenvalues[-1])
    below = 0.97 * 4.0 / lam
    path = _forgetful_loop(x, y, lr=below, steps=300)
    steps = _step_sizes(path)
    assert np.isfinite(path).all() and 0.9 < steps[-50:].max() / steps[:50].max() < 1.1
    assert not engine.train(ds, engine.TrainConfig(lr=below, epochs=300, init=START, zero_grad=False)).diverged
    above = 1.03 * 4.0 / lam
    path = _forgetful_loop(x, y, lr=above, steps=300)
    assert _blow_up_step(_mse(x, y, path)) is not None
    assert engine.train(ds, engine.TrainConfig(lr=above, epochs=300, init=START, zero_grad=False)).diverged


@pytest.mark.parametrize(
    ("lr", "momentum", "nesterov", "blows_up_at"),
    [(0.01, 0.8, False, 114), (0.1, 0.1, False, 634), (0.001, 0.5, False, 3833), (0.01, 0.5, True, 836)],
)
def test_with_momentum_a_forgotten_zero_grad_blows_up(lr, momentum, nesterov, blows_up_at):
    """lr 0.01, momentum 0.8: blown up at step 114, by the engine and by the plain loop alike."""
    ds = _playground_line()
    x, y = _xy(ds)
    hist = engine.train(
        ds,
        engine.TrainConfig(lr=lr, momentum=momentum, nesterov=nesterov, epochs=5000, init=START, zero_grad=False),
    )
    assert hist.diverged and hist.diverged_at == blows_up_at
    path = _forgetful_loop(x, y, lr, blows_up_at + 5, momentum, nesterov)
    assert abs(_blow_up_step(_mse(x, y, path)) - blows_up_at) <= 2


def test_with_momentum_the_smaller_the_learning_rate_the_later_it_blows_up():
    ds = _playground_line()
    at = [
        engine.train(ds, engine.TrainConfig(lr=lr, momentum=0.5, epochs=5000, init=START, zero_grad=False)).diverged_at
        for lr in (0.1, 0.01, 0.001)
    ]
    assert at == [77, 439, 3833]


def _recurrence(a: float, beta: float, nesterov: bool) -> np.ndarray:
    """One step of gradient descent on a 1-D quadratic of curvature lambda (a = lr * lambda, lr absorbed) with the
    gradients never zeroed, on the state (error e, gradient total G, velocity v), torch.optim.SGD's momentum."""
    G = np.array([a, 1.0, 0.0])  # G' = G + a e
    v = np.array([a, 1.0, beta])  # v' = beta v + G'
    e = np.array([1.0, 0.0, 0.0]) - (G + beta * v if nesterov else v)  # e' = e - (G' + beta v' | v')
    return np.array([e, G, v])


def test_the_rule_holds_at_every_learning_rate_by_the_recurrences_eigenvalues():
    """No momentum: spectral radius 1 (constant size) for 0 < lr lambda < 4, above 1 from 4 on. Any momentum:
    above 1 at every lr lambda, heavy ball and Nesterov alike, so the run blows up sooner or later."""
    radius = lambda a, beta, nesterov=False: max(abs(np.linalg.eigvals(_recurrence(a, beta, nesterov))))  # noqa: E731
    for a in np.geomspace(1e-4, 3.99, 60):
        assert radius(a, 0.0) == pytest.approx(1.0, abs=1e-6)
    assert radius(4.1, 0.0) > 1.3
    for beta in (0.05, 0.3, 0.8, 0.99):
        for a in np.geomspace(1e-3, 10.0, 60):
            assert radius(a, beta) > 1.0 and radius(a, beta, True) > 1.0


def test_with_mini_batches_the_swings_can_grow_below_4_and_sooner_with_a_larger_lr():
    ds = _playground_line()
    lam = float(engine.stability(ds).eigenvalues[-1])
    assert 0.1 * lam < 4
    runs = {
        lr: engine.train(ds, engine.TrainConfig(lr=lr, batch_size=4, epochs=2000, init=START, zero_grad=False))
        for lr in (0.1, 0.01)
    }
    assert runs[0.1].diverged_at == 176 and runs[0.01].diverged_at == 8437
    assert not engine.train(ds, engine.TrainConfig(lr=0.1, epochs=2000, init=START, zero_grad=False)).diverged


def _no_zero_grad_comment(script: str) -> str:
    """The comment block the script writes where zero_grad is left out, as one line of text."""
    lines = script.splitlines()
    at = next(i for i, line in enumerate(lines) if "left out on purpose" in line or "Each new gradient" in line)
    block = []
    for line in lines[at:]:
        if not line.strip().startswith("#"):
            break
        block.append(line.strip().lstrip("#").strip())
    return " ".join(block)


@pytest.mark.parametrize("method", engine.METHODS)
def test_the_scripts_say_what_the_runs_do(method):
    ds = _playground_line()
    lam = float(engine.stability(ds).eigenvalues[-1])
    swinging = engine.export_script(ds, engine.TrainConfig(method=method, lr=0.1, init=START, zero_grad=False))
    text = _no_zero_grad_comment(swinging)
    assert "momentum 1, in effect" in text and "running total of all the gradients so far" in text
    assert f"learning_rate * lambda_max = 0.1 * {lam:.4g} = {0.1 * lam:.3g}: below 4, so it swings for ever" in text
    assert "keep growing" not in swinging and "wider and wider" not in swinging
    growing = engine.export_script(ds, engine.TrainConfig(method=method, lr=2.0, init=START, zero_grad=False))
    assert f"= {2.0 * lam:.3g}: it blows up." in _no_zero_grad_comment(growing)
    momentum = engine.export_script(
        ds, engine.TrainConfig(method=method, lr=0.01, momentum=0.8, init=START, zero_grad=False)
    )
    assert "wider and wider at every learning rate until the run blows up" in _no_zero_grad_comment(momentum)
    batches = engine.export_script(
        ds, engine.TrainConfig(method=method, lr=0.1, batch_size=4, init=START, zero_grad=False)
    )
    assert "the swings can grow even below 4" in _no_zero_grad_comment(batches)


def test_a_forgetful_script_in_a_fresh_process_swings_as_its_comment_says(tmp_path):
    """The exported script (300 epochs, lr 0.1, zero_grad off) run by python: it ends where the plain loop ends,
    and its progress lines swing between high and low losses instead of settling."""
    ds = _playground_line()
    x, y = _xy(ds)
    path = tmp_path / "forgetful.py"
    cfg = engine.TrainConfig(method="autograd", lr=0.1, epochs=300, init=START, zero_grad=False)
    path.write_text(engine.export_script(ds, cfg), encoding="utf-8")
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1][len("RESULT ") :])
    reference = _forgetful_loop(x, y, lr=0.1, steps=300)
    np.testing.assert_allclose(result["params"], reference[-1], rtol=1e-4, atol=1e-4)
    assert result["loss"] == pytest.approx(5.128, abs=1e-3)
    printed = [float(v) for v in re.findall(r"^Epoch \d+: loss = (\S+),", done.stdout, flags=re.M)]
    assert len(printed) == 10 and min(printed) < 4.0 and max(printed) > 10.0  # swinging, not settling


# ----------------------------------------------------------------------------------------------------
# Badly scaled inputs
# ----------------------------------------------------------------------------------------------------


def _scaled_case(name: str) -> engine.Dataset:
    rng = np.random.default_rng(3)
    if name == "timestamps":  # Unix times, seconds: 1e9 is 2001, 4e9 is 2096
        x = np.sort(rng.uniform(1e9, 4e9, 40)).round()
        return engine.dataset_from_arrays(x, 3e-9 * x + 5.0 + 0.5 * rng.normal(size=40), feature_names=["time"])
    if name == "near 1e14":
        x = 1e14 + np.sort(rng.uniform(0.0, 5e11, 25))
        return engine.dataset_from_arrays(x, 2e-11 * (x - 1e14) - 1.0 + 0.1 * rng.normal(size=25))
    if name == "near 1e-30":
        x = np.sort(rng.uniform(1e-30, 5e-30, 25))
        return engine.dataset_from_arrays(x, 4e29 * x + 2.0 + 0.1 * rng.normal(size=25))
    if name == "near 1e7, spread 20":  # values where subtracting the first one is enough
        x = 1e7 + np.arange(20.0)
        return engine.dataset_from_arrays(x, 0.5 * (x - 1e7) + 3.0 + 0.2 * rng.normal(size=20))
    raise KeyError(name)


def _condition_1d(x: np.ndarray) -> float:
    """The condition number of (2/n) X'X for X = [x, 1], in closed form without cancellation: the eigenvalues of
    [[m2, m1], [m1, 1]] multiply to the variance (from centred x) and add to m2 + 1."""
    x = x.astype(np.float64)
    var = float(np.mean((x - x.mean()) ** 2))
    trace = float(np.mean(x**2)) + 1.0
    big = (trace + math.sqrt(trace**2 - 4.0 * var)) / 2.0
    return big / (var / big)


def _optimum_centred(x: np.ndarray, y: np.ndarray, standardize: bool = False) -> np.ndarray:
    """numpy.linalg.lstsq in float64 on the centred inputs (also divided by their spread when asked), mapped back."""
    x, y = x.astype(np.float64), y.astype(np.float64)
    mean, sd = x.mean(), (x.std() if standardize else 1.0)
    w, b = np.linalg.lstsq(np.c_[(x - mean) / sd, np.ones_like(x)], y, rcond=None)[0]
    return np.array([w / sd, b - w / sd * mean])


def _number_after(text: str, words: str) -> float:
    match = re.search(re.escape(words) + r" (-?\d+(?:\.\d+)?(?:e[+-]\d+)?)", text)
    assert match, (words, text)
    return float(match.group(1))


def test_zeros_are_all_zero_and_a_constant_is_the_same_value():
    zeros = engine.dataset_from_arrays([0.0, 0.0, 0.0, 0.0], [1.0, 2.0, 3.0, 5.0])
    for fit_bias in (True, False):
        problem = engine.optimum_problem(zeros, fit_bias)
        assert problem.startswith("the inputs are all zero") and "badly scaled" not in problem
        assert engine.stability(zeros, fit_bias).eigenvalues[0] == 0.0  # the number behind it: a flat direction
        with pytest.raises(ValueError, match="all zero"):
            engine.least_squares(zeros, fit_bias)
    constant = engine.dataset_from_arrays([3.0, 3.0, 3.0, 3.0], [1.0, 2.0, 3.0, 5.0], feature_names=["x"])
    problem = engine.optimum_problem(constant)
    assert "'x' has the same value in every row" in problem and "all zero" not in problem
    assert engine.stability(constant).eigenvalues[0] < 1e-12 * engine.stability(constant).eigenvalues[-1]
    assert engine.optimum_problem(constant, fit_bias=False) is None  # w = sum(x y) / sum(x^2) is unique
    plane = engine.dataset_from_arrays(np.c_[[1.0, 2.0, 4.0, 3.0], np.zeros(4)], [1.0, 2.0, 3.0, 5.0])
    assert engine.optimum_problem(plane).startswith("the feature 'x2' is all zero")


@pytest.mark.parametrize("name", ["timestamps", "near 1e14", "near 1e-30", "near 1e7, spread 20"])
def test_badly_scaled_inputs_are_named_with_their_condition_number_fix_and_optimum(name):
    ds = _scaled_case(name)
    x, y = ds.x.numpy()[:, 0], ds.y.numpy()
    problem = engine.optimum_problem(ds)
    assert problem.startswith("the inputs are badly scaled") and "all zero" not in problem
    assert "same value" not in problem and "no single best fit" not in problem
    # the range it names
    low, high = re.search(r"runs from (\S+) to (\S+) \(standard deviation (\S+)\)", problem).groups()[:2]
    assert float(low) == pytest.approx(float(x.min()), rel=5e-3)
    assert float(high) == pytest.approx(float(x.max()), rel=5e-3) and float(high) > float(low)
    assert _number_after(problem, "(standard deviation") == pytest.approx(float(x.astype(np.float64).std()), rel=0.05)
    # the condition number, against the closed form
    kappa = _condition_1d(x)
    assert kappa > 1e12
    bad = bad_scale(ds)
    assert bad.condition_number == pytest.approx(kappa, rel=1e-6)
    assert _number_after(problem, "condition number") == pytest.approx(kappa, rel=0.05)
    assert _number_after(problem, "on the order of") == pytest.approx(kappa, rel=0.5)
    # the fix: standardizing, as the input-scaling control does, brings it to the number named
    standardized = engine.stability(engine.scale_inputs(ds, "standardize")).condition_number
    assert _number_after(problem, "brings the condition number to") == pytest.approx(standardized, rel=0.05)
    assert standardized < 1.01
    shifted = _condition_1d(x - x[0])
    if name == "near 1e7, spread 20":
        assert shifted < 1e3
        assert _number_after(problem, "subtract the first value from each input, which brings it to") == (
            pytest.approx(shifted, rel=0.05)
        )
    else:
        assert shifted > 1e12
        assert _number_after(problem, "not enough here: it leaves") == pytest.approx(shifted, rel=0.05)
    # the float64 optimum, against numpy's lstsq on the centred data mapped back (and divided by the spread where
    # x is so tiny that centring alone leaves a column lstsq would cut off)
    reference = _optimum_centred(x, y, standardize=name == "near 1e-30")
    np.testing.assert_allclose(bad.optimum, reference, rtol=1e-6)
    shown = [_number_after(problem, f"{p} =") for p in ("w", "b")]
    np.testing.assert_allclose(shown, reference, rtol=1e-5)
    with pytest.raises(ValueError, match="badly scaled"):
        engine.least_squares(ds)


def test_timestamps_optimum_is_numpys_centred_lstsq_and_training_cannot_reach_it_unscaled():
    ds = _scaled_case("timestamps")
    x, y = ds.x.numpy()[:, 0], ds.y.numpy()
    bad = bad_scale(ds)
    np.testing.assert_allclose(bad.optimum, _optimum_centred(x, y), rtol=1e-7)
    quad = engine.Quadratic.of(ds, True)
    stab = engine.stability(ds)
    # "far more than any run takes": the longest run at 0.9 of the largest stable rate gets nowhere near
    hist = engine.train(ds, engine.TrainConfig(lr=0.9 * stab.max_stable_lr, epochs=engine.MAX_EPOCHS))
    assert not hist.diverged
    assert hist.final_loss > 10 * quad.min_loss and abs(hist.final_params[1]) < 1e-6 < abs(bad.optimum[1])
    # "Fix: standardize": the same data standardized trains to that optimum in 200 steps
    scaled = engine.scale_inputs(ds, "standardize")
    fitted = engine.train(scaled, engine.TrainConfig(lr=0.1, epochs=200))
    np.testing.assert_allclose(scaled.scaling.to_original(fitted.final_params), bad.optimum, rtol=1e-5)


def test_well_scaled_data_has_no_problem():
    for name in ("line", "plane", "thermometer", "lab"):
        assert engine.optimum_problem(engine.make_dataset(name)) is None
        assert bad_scale(engine.make_dataset(name)) is None


# ----------------------------------------------------------------------------------------------------
# The optimizers, as the scripts' comments describe them
# ----------------------------------------------------------------------------------------------------


def _gradients(steps: int) -> list[torch.Tensor]:
    return [torch.tensor([0.5 - 0.3 * k, 2.0 / (k + 1)]) for k in range(steps)]


def _optimizer_comment(optimizer: str, momentum: float = 0.0) -> str:
    script = engine.export_script(_playground_line(), engine.TrainConfig(optimizer=optimizer, momentum=momentum))
    lines = script.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("optimizer = "))
    start = at
    while lines[start - 1].startswith("#"):
        start -= 1
    return " ".join(line.lstrip("# ") for line in lines[start:at])


def test_adagrad_divides_by_the_all_time_sum_of_squared_gradients():
    comment = _optimizer_comment("adagrad")
    assert "sum of ALL the squared gradients so far" in comment and "never decays" in comment
    p = torch.zeros(2, requires_grad=True)
    opt = torch.optim.Adagrad([p], lr=0.1)
    grads = _gradients(6)
    for g in grads:
        p.grad = g.clone()
        opt.step()
    total = sum(g**2 for g in grads)
    torch.testing.assert_close(opt.state[p]["sum"], total)  # torch's state_sum: the all-time total


def test_rmsprop_divides_by_the_root_of_a_decaying_average():
    comment = _optimizer_comment("rmsprop")
    assert "square root of a decaying average" in comment and "0.99 * square_avg + 0.01 * grad ** 2" in comment
    p = torch.zeros(2, requires_grad=True)
    opt = torch.optim.RMSprop([p], lr=0.1)
    square_avg, expected = torch.zeros(2), torch.zeros(2)
    for g in _gradients(5):
        p.grad = g.clone()
        opt.step()
        square_avg = 0.99 * square_avg + 0.01 * g**2
        expected = expected - 0.1 * g / (square_avg.sqrt() + 1e-8)
    torch.testing.assert_close(p.detach(), expected)
    with_momentum = _optimizer_comment("rmsprop", 0.9)
    assert "buf = momentum * buf + that scaled gradient" in with_momentum


def test_adam_steps_by_its_bias_corrected_averages():
    comment = _optimizer_comment("adam")
    assert "corrects both for starting at zero" in comment and "lr * m_hat / (sqrt(v_hat) + 1e-8)" in comment
    p = torch.zeros(2, requires_grad=True)
    opt = torch.optim.Adam([p], lr=0.1)
    m, v, expected = torch.zeros(2), torch.zeros(2), torch.zeros(2)
    for t, g in enumerate(_gradients(5), 1):
        p.grad = g.clone()
        opt.step()
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g**2
        expected = expected - 0.1 * (m / (1 - 0.9**t)) / ((v / (1 - 0.999**t)).sqrt() + 1e-8)
    torch.testing.assert_close(p.detach(), expected)


@pytest.mark.parametrize("nesterov", [False, True])
def test_the_first_velocity_is_the_gradient_and_nesterovs_first_step_is_not_plain(nesterov):
    script = engine.export_script(
        _playground_line(), engine.TrainConfig(method="analytic", momentum=0.5, nesterov=nesterov)
    )
    assert "(zero at first, so the first velocity is the gradient itself)" in script
    assert "first step is a plain gradient step" not in script
    p = torch.zeros(2, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1, momentum=0.5, nesterov=nesterov)
    g = torch.tensor([1.0, -2.0])
    p.grad = g.clone()
    opt.step()
    torch.testing.assert_close(opt.state[p]["momentum_buffer"], g)
    torch.testing.assert_close(p.detach(), -0.1 * (1.5 if nesterov else 1.0) * g)  # Nesterov: (1 + beta) lr g


def test_nesterov_in_torchs_form_is_the_look_ahead_method_after_a_change_of_variables():
    """The markdown says torch's parameters are the classic method's look-ahead points theta + beta v: run both on
    a quadratic and compare."""
    notebook = engine.export_notebook(_playground_line(), engine.TrainConfig(momentum=0.5, nesterov=True))
    assert "only after a change of variables" in notebook and "look-ahead points" in notebook
    hessian = torch.tensor([[3.0, 1.0], [1.0, 2.0]], dtype=torch.float64)
    lr, beta = 0.1, 0.5
    p = torch.tensor([1.0, -1.0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr, momentum=beta, nesterov=True)
    theta, v = p.detach().clone(), torch.zeros(2, dtype=torch.float64)  # classic: look ahead, take the gradient there
    for _ in range(20):
        p.grad = hessian @ p.detach()
        opt.step()
        v = beta * v - lr * (hessian @ (theta + beta * v))
        theta = theta + v
        torch.testing.assert_close(p.detach(), theta + beta * v)
