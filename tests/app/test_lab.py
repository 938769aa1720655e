"""The step-by-step lab through Streamlit's AppTest: the buttons, the numbers of every step, the four gradients,
divergence, a forgotten zero_grad, a shared ?step= link and the exported script.

Every number the page writes is checked against numpy in float64: gradient descent with torch.optim.SGD's momentum
written out by hand (v = beta v + g; p -= lr v), and the gradient 2/n X'(Xp - y). The page prints 4 significant
digits, hence the relative tolerance of 6e-4 on what is read back from its text.
"""

import json
import re
import subprocess
import sys

import numpy as np
import pytest
from apptest_support import (
    arr,
    assert_no_exception,
    fitted_line,
    keyed_chart_spec,
    open_app,
    open_page,
    trace_index,
)

import engine
from engine.limits import DIVERGENCE_FACTOR

LAB = "views/lab.py"
DIGITS = {"rtol": 6e-4, "atol": 1e-9}  # what 4 significant digits can hold
START, LR, BETA, STEPS = (-1.0, -2.0), 0.1, 0.8, 60
UPDATE_LINE = re.compile(r"^(\w+) ← (\S+) − (\S+) × (\S+) = (\S+)$")
STEP_TEXT = re.compile(r"^\*\*Step (\d+) of (\d+)\*\* · epoch \S+ · full-data loss (\S+)$")


def _data(n=30, noise=0.5, seed=0):
    ds = engine.make_dataset("line", n=n, noise=noise, seed=seed)
    return ds.x.double().numpy(), ds.y.double().numpy()


def _design(x):
    return np.hstack([x, np.ones((len(x), 1))])


def _grad(x, y, p):
    big_x = _design(x)
    return 2.0 / len(y) * big_x.T @ (big_x @ p - y)


def _loss(x, y, p):
    return float(np.mean((_design(x) @ p - y) ** 2))


def _np_gd(x, y, steps, lr=LR, beta=BETA, start=START, zero_grad=True):
    """Full-batch SGD with momentum in float64. Returns the parameters at every step, the direction each update
    multiplied by lr, and what .grad held at each update (the running sum when the gradient is never zeroed)."""
    p, v, total = np.array(start, dtype=np.float64), np.zeros(len(start)), np.zeros(len(start))
    path, directions, grads = [p], [], []
    for _ in range(steps):
        g = _grad(x, y, p)
        total = g if zero_grad else total + g
        v = beta * v + total
        p = p - lr * v
        path.append(p)
        directions.append(v)
        grads.append(total)
    return np.array(path), np.array(directions), np.array(grads)


def _lab(**query):
    at = open_page(LAB, **query)
    assert_no_exception(at)
    return at


def _button(at, label):
    [button] = [b for b in at.button if b.label == label]
    return button


def _step_shown(at) -> tuple[int, int, float]:
    [(k, total, loss)] = [STEP_TEXT.match(m.value).groups() for m in at.markdown if STEP_TEXT.match(m.value)]
    return int(k), int(total), float(loss)


def _update_block(at) -> tuple[str, dict[str, tuple[float, ...]]]:
    """The st.code "Update with lr × ...:" block: its head line and, per parameter, (before, lr, direction, after)."""
    [code] = [c.value for c in at.code if c.value.startswith("Update with lr × ")]
    head, *lines = code.splitlines()
    rows = {}
    for line in lines:
        match = UPDATE_LINE.match(line)
        assert match, line
        rows[match.group(1)] = tuple(float(v) for v in match.groups()[1:])
    return head, rows


MOMENTUM_LINE = re.compile(r"^(\w+): v_new = (\S+) × \(?(\S+?)\)? \+ \(?(\S+?)\)? = (\S+)$")
NESTEROV_LINE = re.compile(r"^(\w+): \(?(\S+?)\)? \+ (\S+) × \(?(\S+?)\)? = (\S+)$")


def _momentum_block(at) -> tuple[dict, dict]:
    """The momentum buffer's block: per parameter (beta, v_old, g, v_new) as written on the line
    "w: v_new = β × v_old + g = v_new", and for Nesterov (g, beta, v_new, direction) from "w: g + β × v_new = d"."""
    [code] = [c.value for c in at.code if c.value.startswith("v_new = β·v_old + g")]
    buffer, nesterov = {}, {}
    for line in code.splitlines()[1:]:
        if match := MOMENTUM_LINE.match(line):
            buffer[match.group(1)] = tuple(float(v) for v in match.groups()[1:])
        elif match := NESTEROV_LINE.match(line):
            nesterov[match.group(1)] = tuple(float(v) for v in match.groups()[1:])
        else:
            assert line == "Nesterov's direction g + β·v_new:", line
    return buffer, nesterov


def _forward_params(at) -> np.ndarray:
    """The parameters written in "1. Forward pass: ... with w = ..., b = ..."."""
    [text] = [m.value for m in at.markdown if m.value.startswith("**1. Forward pass:**")]
    found = dict(re.findall(r"(\w+) = (\S+?)(?:,|$)", text.split(" with ", 1)[1]))
    return np.array([float(found["w"]), float(found["b"])])


def _table(at, column: str):
    """The first dataframe that has this column."""
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert found, [list(d.value.columns) for d in at.dataframe]
    return found[0]


def _as_one_frame(spec: dict) -> dict:
    """The lab's figure has no frames (it is redrawn after each click): wrap its data as one, for fitted_line."""
    return {"data": spec["data"], "frames": [{"data": spec["data"], "traces": list(range(len(spec["data"])))}]}


def _check_step(at, k: int, path, directions, x, y) -> None:
    """Everything the lab shows at step k agrees with the numpy run."""
    shown_k, total, loss = _step_shown(at)
    assert (shown_k, total) == (k, STEPS)
    assert at.query_params["step"] == str(k)
    assert loss == pytest.approx(_loss(x, y, path[k]), rel=DIGITS["rtol"])
    np.testing.assert_allclose(_forward_params(at), path[k], **DIGITS)

    # the forward-pass table: the first rows of the data and the model's predictions at p_k
    table = _table(at, "prediction ŷ")
    rows = len(table)
    np.testing.assert_allclose(table["x"], x[:rows, 0], rtol=1e-6)
    np.testing.assert_allclose(table["y"], y[:rows], rtol=1e-6)
    np.testing.assert_allclose(table["prediction ŷ"], _design(x[:rows]) @ path[k], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(table["error ŷ − y"], _design(x[:rows]) @ path[k] - y[:rows], rtol=1e-4, atol=1e-5)

    # the gradient written out, and the update with its numbers
    latex = [entry.value for entry in at.latex if r"\partial L" in entry.value]
    shown_grad = [float(re.search(r"= (\S+)\s*\$\$$", v.strip()).group(1)) for v in latex]
    np.testing.assert_allclose(shown_grad, _grad(x, y, path[k]), **DIGITS)
    head, update = _update_block(at)
    assert head == "Update with lr × v_new:"
    assert list(update) == ["w", "b"]
    for j, name in enumerate(("w", "b")):
        before, lr, direction, after = update[name]
        assert lr == LR
        np.testing.assert_allclose([before, direction, after], [path[k][j], directions[k][j], path[k + 1][j]], **DIGITS)

    # the momentum buffer: the old one, the gradient and the new one, which is the one the update multiplies
    buffer, _ = _momentum_block(at)
    v_old = directions[k - 1] if k else np.zeros(2)
    for j, name in enumerate(("w", "b")):
        beta, old, g, v_new = buffer[name]
        assert beta == BETA
        np.testing.assert_allclose([old, g, v_new], [v_old[j], _grad(x, y, path[k])[j], directions[k][j]], **DIGITS)
        assert v_new == pytest.approx(beta * old + g, rel=DIGITS["rtol"], abs=1e-3 * (abs(old) + abs(g)))
        assert v_new == update[name][2]  # the same number in both blocks

    # the charts: the model line at p_k, and the path so far on the loss surface
    np.testing.assert_allclose(
        fitted_line(_as_one_frame(keyed_chart_spec(at, "lab_data"))), path[k], rtol=1e-4, atol=1e-5
    )
    spec = keyed_chart_spec(at, "lab_surface")
    route = spec["data"][trace_index(spec, "path")]
    np.testing.assert_allclose(np.c_[arr(route["x"]), arr(route["y"])], path[: k + 1], rtol=1e-4, atol=1e-5)


# ----------------------------------------------------------------------------------------------------
# the buttons at the default settings
# ----------------------------------------------------------------------------------------------------


def test_defaults_and_every_button():
    x, y = _data()
    path, directions, _ = _np_gd(x, y, STEPS)
    at = _lab()
    assert not at.error and not at.warning
    assert [b.label for b in at.button][:4] == ["Step", "Step ×10", "Run to the end", "Reset"]
    # the run's three panels (each a chart of its own, so that they stack on a phone), and the finite-difference
    # error against delta
    assert [c.key for c in at.get("plotly_chart")] == ["lab_data", "lab_surface", "lab_loss", "lab_delta_chart"]
    _check_step(at, 0, path, directions, x, y)

    _button(at, "Step").click().run()
    assert_no_exception(at)
    _check_step(at, 1, path, directions, x, y)

    _button(at, "Step ×10").click().run()
    assert_no_exception(at)
    _check_step(at, 11, path, directions, x, y)

    _button(at, "Run to the end").click().run()
    assert_no_exception(at)
    k, total, loss = _step_shown(at)
    assert (k, total) == (STEPS, STEPS)
    assert loss == pytest.approx(_loss(x, y, path[STEPS]), rel=DIGITS["rtol"])
    assert [s.value for s in at.success] == ["The run is over. Reset to start again, or change a setting."]
    assert all(_button(at, label).disabled for label in ("Step", "Step ×10", "Run to the end"))
    np.testing.assert_allclose(
        fitted_line(_as_one_frame(keyed_chart_spec(at, "lab_data"))), path[STEPS], rtol=1e-4, atol=1e-5
    )

    _button(at, "Reset").click().run()
    assert_no_exception(at)
    assert not at.success
    _check_step(at, 0, path, directions, x, y)


@pytest.mark.parametrize("method", ["optimizer", "autograd", "finite-difference", "analytic"])
def test_every_method_shows_the_four_gradients_and_steps_the_same(method):
    x, y = _data()
    path, directions, _ = _np_gd(x, y, 2)
    at = _lab(method=method)
    assert not at.error
    table = _table(at, "largest difference from analytic")
    assert list(table["method"]) == list(engine.GRADIENT_METHODS)
    exact = _grad(x, y, np.array(START))
    analytic = table[table["method"] == "analytic"]
    np.testing.assert_allclose(analytic[["∂L/∂w", "∂L/∂b"]].to_numpy()[0], exact, rtol=1e-9)
    for _, row in table.iterrows():  # each row's own difference column, against numpy's exact gradient
        found = row[["∂L/∂w", "∂L/∂b"]].to_numpy(dtype=float)
        np.testing.assert_allclose(found, exact, rtol=1e-3)
        assert row["largest difference from analytic"] == pytest.approx(np.max(np.abs(found - exact)), abs=1e-9)

    _button(at, "Step").click().run()
    assert_no_exception(at)
    _check_step(at, 1, path, directions, x, y)


# ----------------------------------------------------------------------------------------------------
# divergence, a forgotten zero_grad, links
# ----------------------------------------------------------------------------------------------------


def test_a_diverging_learning_rate_says_so_at_the_step_numpy_finds():
    x, y = _data()
    at = _lab(lr=2)
    assert not at.error  # nothing has happened yet
    _button(at, "Run to the end").click().run()
    assert_no_exception(at)

    path, _, _ = _np_gd(x, y, STEPS, lr=2.0)
    with np.errstate(all="ignore"):
        losses = np.array([_loss(x, y, p) for p in path])
    blown = ~np.isfinite(losses) | (losses > DIVERGENCE_FACTOR * losses[0])
    assert blown.any()
    first = int(np.argmax(blown))
    assert len(at.error) == 1
    assert at.error[0].value == (f"The run diverged at step {first}: the loss grew past a million times its start."), (
        at.error[0].value
    )
    assert _step_shown(at)[0] == first
    assert all(_button(at, label).disabled for label in ("Step", "Step ×10", "Run to the end"))
    assert len(at.get("plotly_chart")) == 3  # the blow-up is drawn; the gradient comparison waits for a reset


@pytest.mark.parametrize("method", ["optimizer", "autograd", "finite-difference", "analytic"])
def test_without_zero_grad_the_gradients_pile_up(method):
    x, y = _data()
    path, directions, grads = _np_gd(x, y, 3, zero_grad=False)
    at = _lab(zero_grad="false", method=method)
    assert len(at.warning) == 1
    assert at.warning[0].value.startswith("The gradient is not zeroed: every backward() adds to .grad")
    assert at.toggle(key="ctl_zero_grad").value is False

    _button(at, "Step").click().run()
    _button(at, "Step").click().run()
    assert_no_exception(at)
    assert _step_shown(at)[0] == 2
    np.testing.assert_allclose(_forward_params(at), path[2], **DIGITS)
    [note] = [m.value for m in at.markdown if "Not zeroed" in m.value]
    found = dict(re.findall(r"\b(w|b) = (\S+?),", note))
    np.testing.assert_allclose([float(found["w"]), float(found["b"])], grads[2], **DIGITS)  # g0 + g1 + g2

    head, rows = _update_block(at)
    assert head == "Update with lr × v_new (built from the accumulated .grad):"
    for j, name in enumerate(("w", "b")):
        before, _, direction, after = rows[name]
        np.testing.assert_allclose([before, direction, after], [path[2][j], directions[2][j], path[3][j]], **DIGITS)


def test_nesterov_writes_its_direction_with_the_new_buffer():
    """Nesterov: v_new = beta v_old + g, and the step is lr (g + beta v_new), each line's numbers adding up."""
    x, y = _data()
    p, v = np.array(START), np.zeros(2)
    for _ in range(3):
        g = _grad(x, y, p)
        v = BETA * v + g
        p = p - LR * (g + BETA * v)
    at = _lab(nesterov="true", step=3)
    g = _grad(x, y, p)
    v_new = BETA * v + g
    head, update = _update_block(at)
    assert head == "Update with lr × (g + β·v_new):"
    buffer, nesterov = _momentum_block(at)
    for j, name in enumerate(("w", "b")):
        beta, old, g_shown, v_shown = buffer[name]
        np.testing.assert_allclose([old, g_shown, v_shown], [v[j], g[j], v_new[j]], **DIGITS)
        g_again, beta_again, v_again, direction = nesterov[name]
        assert (g_again, beta_again, v_again) == (g_shown, BETA, v_shown)
        tol = 1e-3 * (abs(g_again) + abs(v_again))
        assert direction == pytest.approx(g_again + beta_again * v_again, rel=DIGITS["rtol"], abs=tol)
        np.testing.assert_allclose(direction, g[j] + BETA * v_new[j], **DIGITS)
        before, _, used, after = update[name]
        assert used == direction
        np.testing.assert_allclose([before, after], [p[j], p[j] - LR * (g[j] + BETA * v_new[j])], **DIGITS)


def _lr_caption(at) -> list[str]:
    return [c.value for c in at.sidebar.caption if "Largest stable learning rate" in c.value]


def test_without_zero_grad_and_momentum_the_swings_keep_their_size():
    """Not zeroing is momentum 1: lr * lambda_max = 0.21 < 4 swings for ever at one size; the zeroed run's limit
    caption would not apply, so it is gone."""
    assert _lr_caption(_lab())  # zeroed: the caption is there
    at = _lab(zero_grad="false", momentum=0, epochs=300)
    assert not _lr_caption(at)
    [warning] = [w.value for w in at.warning]
    assert "neither growing nor dying down (lr·λmax = 0.211, below 4)" in warning
    _button(at, "Run to the end").click().run()
    assert_no_exception(at)
    assert not at.error
    h = engine.train(
        engine.make_dataset("line", n=30, noise=0.5, seed=0),
        engine.TrainConfig(lr=LR, epochs=300, init=START, zero_grad=False),
    )
    steps = np.linalg.norm(np.diff(h.params, axis=0), axis=1)
    assert steps[-50:].max() == pytest.approx(steps[:50].max(), rel=0.02)
    assert _step_shown(at)[2] == pytest.approx(h.loss[-1], rel=DIGITS["rtol"])  # 5.13: far from L* = 0.30


def test_without_zero_grad_momentum_blows_up_at_a_rate_far_below_the_limit():
    """lr 0.01 with beta 0.8 is 1 % of the zeroed limit, yet the page must say the swings grow, and when it blows up."""
    at = _lab(zero_grad="false", lr=0.01, epochs=150)
    assert not _lr_caption(at)
    h = engine.train(
        engine.make_dataset("line", n=30, noise=0.5, seed=0),
        engine.TrainConfig(lr=0.01, momentum=BETA, epochs=150, init=START, zero_grad=False),
    )
    assert h.diverged_at == 114
    [warning] = [w.value for w in at.warning]
    assert "larger than the last, at any learning rate however small: here by about 7.5% a step" in warning
    assert warning.endswith("This run blows up at step 114.")
    _button(at, "Run to the end").click().run()
    assert [e.value for e in at.error] == [
        "The run diverged at step 114: the loss grew past a million times its start."
    ]


def test_without_zero_grad_the_surface_panel_covers_the_path_shown():
    at = _lab(zero_grad="false", momentum=0)
    _button(at, "Run to the end").click().run()
    assert_no_exception(at)
    spec = keyed_chart_spec(at, "lab_surface")
    route = spec["data"][trace_index(spec, "path")]
    drawn = np.c_[arr(route["x"]), arr(route["y"])]
    x, y = _data()
    path, _, _ = _np_gd(x, y, STEPS, beta=0.0, zero_grad=False)  # the whole path the page steps through
    np.testing.assert_allclose(drawn[-1], path[-1], rtol=1e-4, atol=1e-5)
    path = np.vstack([path, drawn])
    assert path[:, 0].max() > 6  # w swings out past 6 (the zeroed run's surface stopped at 2.5)
    (x_lo, x_hi), (y_lo, y_hi) = spec["layout"]["xaxis"]["range"], spec["layout"]["yaxis"]["range"]
    assert x_lo <= path[:, 0].min() and path[:, 0].max() <= x_hi
    assert y_lo <= path[:, 1].min() and path[:, 1].max() <= y_hi
    losses = keyed_chart_spec(at, "lab_loss")
    loss = arr(losses["data"][trace_index(losses, "loss")]["y"])
    lo, hi = losses["layout"]["yaxis"]["range"]  # log axis: the range is in powers of ten
    assert lo <= np.log10(loss.min()) and np.log10(loss.max()) <= hi


@pytest.mark.parametrize("raw, expected", [("5", 5), ("1000", STEPS), ("abc", 0), ("-3", 0)])
def test_a_link_with_a_step_opens_at_that_step(raw, expected):
    x, y = _data()
    path, _, _ = _np_gd(x, y, STEPS)
    at = _lab(step=raw)
    k, total, loss = _step_shown(at)
    assert (k, total) == (expected, STEPS)
    assert at.query_params["step"] == str(expected)
    assert loss == pytest.approx(_loss(x, y, path[expected]), rel=DIGITS["rtol"])
    if expected < STEPS:
        np.testing.assert_allclose(_forward_params(at), path[expected], **DIGITS)
    else:
        assert at.success and at.success[0].value.startswith("The run is over.")


def test_the_controls_survive_the_way_from_the_playground_to_the_lab():
    """A learner on the playground opens "Step by step": the lab must use the same settings (the defaults here)."""
    at = open_app()
    assert at.select_slider(key="ctl_lr").value == LR
    at.switch_page(LAB).run()
    assert_no_exception(at)
    at.session_state["more_method"] = True  # unfold "Method, batch, start, device" for the start field
    at.run()
    settings = {
        "lr": at.select_slider(key="ctl_lr").value,
        "epochs": at.select_slider(key="ctl_epochs").value,
        "momentum": at.slider(key="ctl_momentum").value,
        "n": at.slider(key="ctl_n").value,
        "w0": at.number_input(key="ctl_w0").value,
    }
    assert settings == {"lr": LR, "epochs": STEPS, "momentum": BETA, "n": 30, "w0": START[0]}
    assert _step_shown(at)[:2] == (0, STEPS)


# ----------------------------------------------------------------------------------------------------
# the exported script
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query, cfg, rtol",
    [
        ({}, engine.TrainConfig(lr=0.1, momentum=0.8, epochs=60, init=START), 1e-6),
        (
            {"method": "autograd", "batch": "mini-batch", "batch_size": 7, "epochs": 3, "zero_grad": "false"},
            engine.TrainConfig(
                method="autograd", lr=0.1, momentum=0.8, epochs=3, batch_size=7, init=START, zero_grad=False
            ),
            1e-6,
        ),
        # float32 losses summed in another order than the engine's one-matmul evaluation: last digits differ
        (
            {"method": "finite-difference", "epochs": 5},
            engine.TrainConfig(method="finite-difference", lr=0.1, momentum=0.8, epochs=5, init=START),
            1e-5,
        ),
    ],
)
def test_the_code_expander_shows_a_script_that_repeats_the_run(query, cfg, rtol, tmp_path):
    at = _lab(**query)
    [expander] = [e for e in at.expander if e.label.startswith("Show the code")]
    [script] = [c.value for c in expander.code]
    assert "import torch" in script
    assert [b.label for b in expander.get("download_button")] == ["Download .py", "Download notebook (.ipynb)"]
    assert expander.get("download_button")[0].proto.url.endswith(".py")

    path = tmp_path / "train.py"
    path.write_text(script)
    done = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("RESULT "), last
    result = json.loads(last[len("RESULT ") :])

    reference = engine.train(engine.make_dataset("line", n=30, noise=0.5, seed=0), cfg)
    assert reference.steps == cfg.epochs * (1 if cfg.batch_size is None else 5)
    np.testing.assert_allclose(result["params"], reference.final_params, rtol=rtol, atol=1e-7)
    assert result["loss"] == pytest.approx(reference.final_loss, rel=2 * rtol)
    if not query:  # full batch: numpy's run too
        x, y = _data()
        np.testing.assert_allclose(result["params"], _np_gd(x, y, STEPS)[0][-1], rtol=1e-4, atol=1e-5)


def test_a_links_test_set_and_weight_decay_are_left_to_the_playground():
    """The lab's formulas sum every point and have no decay term: it steps the plain run, and says so."""
    at = open_page("views/lab.py", test_fraction="0.25", weight_decay="0.1")
    assert_no_exception(at)
    assert any("Test fraction and Weight decay (L2) apply on the playground" in i.value for i in at.info)
    keys = {w.key for w in at.sidebar.slider} | {w.key for w in at.sidebar.select_slider}
    assert not {"ctl_test_fraction", "ctl_weight_decay"} & keys
    plain = open_page("views/lab.py")
    step_line = [m.value for m in at.markdown if m.value.startswith("**Step")]
    assert step_line and step_line == [m.value for m in plain.markdown if m.value.startswith("**Step")]
