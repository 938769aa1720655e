"""The playground page through Streamlit's AppTest: every dataset and method, extreme and malformed URLs, the
divergence fix, the learning-rate slider and the New data button. Numbers are checked against numpy (least
squares, gradient descent written out in float64, the Hessian's largest eigenvalue)."""

import gc

import numpy as np
import pytest
from apptest_support import arr, assert_no_exception, figure, fitted, metrics, open_app

import engine
from settings.controls import BY_KEY, LR_GRID, defaults, to_query


def _data(dataset="line", n=30, noise=0.5, seed=0):
    ds = engine.make_dataset(dataset, n=n, noise=noise, seed=seed)
    return ds.x.double().numpy(), ds.y.double().numpy()


def _design(x, fit_bias=True):
    return np.hstack([x, np.ones((len(x), 1))]) if fit_bias else x


def _np_gd(x, y, start, lr, beta, steps, fit_bias=True):
    """Full-batch gradient descent with torch.optim.SGD's momentum in float64: v = beta v + g; p -= lr v."""
    big_x = _design(x, fit_bias)
    p, v = np.array(start, dtype=np.float64), np.zeros(len(start))
    for _ in range(steps):
        v = beta * v + 2.0 / len(y) * big_x.T @ (big_x @ p - y)
        p = p - lr * v
    return p


def _limit(x, beta=0.8, fit_bias=True):
    """Largest stable lr of heavy-ball SGD: 2 (1 + beta) / lambda_max of the Hessian (2/n) X'X."""
    big_x = _design(x, fit_bias)
    return 2.0 * (1.0 + beta) / np.linalg.eigvalsh(2.0 / len(big_x) * big_x.T @ big_x)[-1]


def _safe(limit):
    """The largest learning rate of the slider's ladder at most 90 % of the limit."""
    return max(v for v in LR_GRID if v <= 0.9 * limit)


def _shows_a_chart(at) -> dict:
    assert_no_exception(at)
    assert not at.get("plotly_chart")  # the live figure is the page's one figure
    spec = figure(at)
    assert spec["data"] and spec["frames"] and spec["own"]
    return spec


# ----------------------------------------------------------------------------------------------------
# the landing page
# ----------------------------------------------------------------------------------------------------


def test_defaults():
    at = open_app()
    spec = _shows_a_chart(at)
    assert not at.error and not at.warning
    assert spec["frames"] == list(range(61))
    assert spec["controls"] == {"lr": "free", "momentum": "free", "epochs": "free", "noise": "free", "start": "free"}
    # the noise slider of the figure: every level of the sidebar's, and where to fetch a level's run
    assert spec["noise"] == [round(0.1 * k, 1) for k in range(51)] and spec["own"]["noise"] == 0.5
    assert spec["fetch"] == {"url": "api/live-figure", "token": None, "header": "X-Playground-Token"}
    assert spec["query"] == to_query(defaults())
    assert spec["ladders"]["lr"]["values"][spec["ladders"]["lr"]["current"]] == 0.1
    assert spec["ladders"]["momentum"]["values"][spec["ladders"]["momentum"]["current"]] == 0.8

    x, y = _data()
    optimum = np.linalg.lstsq(_design(x), y, rcond=None)[0]
    min_loss = float(np.mean((_design(x) @ optimum - y) ** 2))
    final = _np_gd(x, y, [-1.0, -2.0], lr=0.1, beta=0.8, steps=60)
    m = metrics(at)
    assert set(m) == {"Steps", "Final loss", "Best possible loss", "R²"}
    assert m["Steps"] == "60"
    assert m["Best possible loss"] == f"{min_loss:.4g}"
    assert float(m["Final loss"]) == pytest.approx(np.mean((_design(x) @ final - y) ** 2), rel=1e-3)
    np.testing.assert_allclose(fitted(spec), final, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(fitted(spec, 0), [-1.0, -2.0], atol=1e-6)

    # the address bar is a link to exactly this run
    assert at.query_params == to_query(defaults())
    captions = [c.value for c in at.caption]
    assert any(f"**{_limit(x):.3g}**" in c and "Largest stable learning rate" in c for c in captions), captions


@pytest.mark.parametrize(
    "dataset, lr",
    [("line", 0.1), ("plane", 0.1), ("thermometer", 1e-4), ("single-point", 0.1), ("four-points", 0.01), ("lab", 0.01)],
)
def test_every_dataset(dataset, lr):
    at = open_app(dataset=dataset, epochs=5, lr=lr)
    spec = _shows_a_chart(at)
    assert not at.error  # a stable learning rate for each
    assert spec["frames"] == list(range(6))
    assert metrics(at)["Steps"] == "5"
    assert at.query_params["dataset"] == dataset
    assert (spec["kind"] == "plane") is (dataset == "plane")


@pytest.mark.parametrize("method", ["optimizer", "autograd", "finite-difference", "analytic"])
def test_every_method_follows_gradient_descent(method):
    at = open_app(method=method, epochs=5)
    spec = _shows_a_chart(at)
    assert not at.error
    x, y = _data()
    for k in range(6):
        expected = _np_gd(x, y, [-1.0, -2.0], lr=0.1, beta=0.8, steps=k)
        np.testing.assert_allclose(fitted(spec, k), expected, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize(
    "query, steps",
    [
        ({"lr": 10}, None),
        ({"epochs": 1}, "1"),
        ({"noise": 0, "epochs": 5}, "5"),
        ({"n": 2, "epochs": 5}, "5"),
        ({"n": 2000, "epochs": 3}, "3"),
        ({"dataset": "plane", "scaling": "standardize", "epochs": 5}, "5"),
        ({"dataset": "plane", "n": 2, "epochs": 3}, "3"),  # 2 points, 3 parameters: no unique optimum
        ({"dataset": "thermometer", "scaling": "x0.1", "epochs": 5}, "5"),
        ({"batch": "single sample", "epochs": 2}, "60"),
        ({"batch": "mini-batch", "batch_size": 7, "epochs": 2}, "10"),
        ({"optimizer": "adam", "epochs": 10}, "10"),
        ({"optimizer": "rmsprop", "epochs": 10}, "10"),
        ({"optimizer": "adagrad", "epochs": 10}, "10"),
        ({"method": "finite-difference", "fd_delta": "1e-07", "epochs": 3}, "3"),
        ({"nesterov": "true", "momentum": 0.9, "epochs": 3}, "3"),
        ({"momentum": 0, "w0": 100, "b0": -100, "epochs": 3}, "3"),
    ],
)
def test_extremes(query, steps):
    at = open_app(**query)
    _shows_a_chart(at)
    assert not at.warning  # every value was valid
    if steps is not None:
        assert metrics(at)["Steps"] == steps
    if query.get("lr") == 10:
        assert "diverged" in at.error[0].value
    if query.get("n") == 2 and query.get("dataset") == "plane":
        assert at.info and "cannot pin down 3 parameters" in at.info[0].value


def test_settings_the_engine_refuses_give_an_error_not_a_traceback():
    at = open_app(dataset="single-point", scaling="standardize")  # one point has no spread to divide by
    assert_no_exception(at)
    assert len(at.error) == 1 and at.error[0].value.startswith("This run cannot start:")
    assert not at.get("plotly_chart")
    # the controls that would fix it are still there (the page draws most of them after its figure)
    assert [r.value for r in at.sidebar.radio if r.label == "Input scaling"] == ["standardize"]
    assert any(s.label == "Epochs" for s in at.sidebar.select_slider)


# ----------------------------------------------------------------------------------------------------
# malformed links
# ----------------------------------------------------------------------------------------------------


def _missing_device() -> str:
    return next(d for d in ("cuda", "mps") if d not in engine.available_devices())


@pytest.mark.parametrize(
    "key, raw, corrected",
    [
        ("lr", "abc", "0.1"),
        ("epochs", "-4", "1"),
        ("dataset", "<script>alert(1)</script>", "line"),
        ("device", None, "cpu"),
        ("momentum", "5", "0.99"),
        ("noise", "nan", "0.5"),
        ("n", "1e9", "2000"),
    ],
)
def test_bad_url_values_are_corrected_with_a_warning(key, raw, corrected):
    raw = _missing_device() if raw is None else raw
    at = open_app(**{key: raw})
    _shows_a_chart(at)
    assert len(at.warning) == 1
    warning = at.warning[0].value
    assert "Link corrected" in warning
    assert BY_KEY[key].label in warning
    assert at.query_params[key] == corrected  # the address bar now holds the value used
    if key == "device":
        assert raw.upper() in warning
    at.run()
    assert not at.warning  # said once
    assert_no_exception(at)


def test_several_bad_values_at_once():
    at = open_app(lr="abc", epochs="-4", dataset="<script>alert(1)</script>", device=_missing_device(), momentum="5")
    spec = _shows_a_chart(at)
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 5 and all("Link corrected" in w for w in warnings)
    for key in ("lr", "epochs", "dataset", "device", "momentum"):
        assert sum(BY_KEY[key].label in w for w in warnings) >= 1, key
    assert len(spec["frames"]) == 2  # epochs corrected to 1
    assert metrics(at)["Steps"] == "1"


def test_an_off_grid_learning_rate_from_a_link_is_used_exactly():
    at = open_app(lr="0.0123", epochs="7", momentum="0")
    spec = _shows_a_chart(at)
    assert not at.warning
    assert at.select_slider(key="ctl_lr").value == 0.0123
    assert at.select_slider(key="ctl_epochs").value == 7
    assert (at.query_params["lr"], at.query_params["epochs"]) == ("0.0123", "7")
    x, y = _data()
    np.testing.assert_allclose(fitted(spec), _np_gd(x, y, [-1.0, -2.0], 0.0123, 0.0, 7), rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------------------------------
# divergence and its one-click fix
# ----------------------------------------------------------------------------------------------------


def test_divergence_shows_the_limit_and_a_button_that_fixes_it():
    at = open_app(lr=2)
    assert_no_exception(at)
    x, y = _data()
    limit = _limit(x)
    assert 2 > limit
    assert len(at.error) == 1
    message = at.error[0].value
    assert "diverged" in message and f"{limit:.3g}" in message and "learning rate 2 " in message
    safe = _safe(limit)
    label = f"Use a stable learning rate ({safe:g})"
    buttons = [b for b in at.button if b.label == label]
    assert len(buttons) == 1, [b.label for b in at.button]
    assert figure(at)["own"]  # the blow-up is still drawn

    buttons[0].click().run()
    spec = _shows_a_chart(at)
    assert not at.error
    assert at.select_slider(key="ctl_lr").value == safe
    assert at.query_params["lr"] == f"{safe:g}"
    np.testing.assert_allclose(fitted(spec), _np_gd(x, y, [-1.0, -2.0], safe, 0.8, 60), rtol=1e-3, atol=1e-4)


def test_a_run_just_above_the_limit_that_has_not_blown_up_yet_is_called_diverging_with_the_same_fix():
    """Plain SGD at lr 1 on the default data (limit 0.949): the loss comes down, then grows to 454,000 in 60
    steps, short of the divergence check. The page says so, with the numbers (float64 gradient descent here), and
    offers the same one-click fix as for a run that blew up."""
    at = open_app(lr=1, momentum=0)
    assert_no_exception(at)
    x, y = _data()
    limit = _limit(x, beta=0.0)
    assert 0.9 * 1.0 < limit < 1.0
    losses = [float(np.mean((_design(x) @ _np_gd(x, y, [-1.0, -2.0], 1.0, 0.0, k) - y) ** 2)) for k in range(61)]
    low = int(np.argmin(losses))
    assert 0 < low < 60 and losses[-1] > 1e4 * losses[0]  # the case: down, then up, far up
    assert not at.error and len(at.warning) == 1
    message = at.warning[0].value
    assert "diverging" in message and f"{limit:.3g}" in message and "learning rate 1 " in message
    assert f"at step {low}" in message and f"{losses[-1]:.4g}" in message and "60 steps" in message
    safe = max(v for v in LR_GRID if v <= 0.9 * limit)
    buttons = [b for b in at.button if b.label == f"Use a stable learning rate ({safe:g})"]
    assert len(buttons) == 1, [b.label for b in at.button]
    buttons[0].click().run()
    assert_no_exception(at)
    assert not at.warning and not at.error
    assert at.select_slider(key="ctl_lr").value == safe


def test_the_stable_learning_rate_button_after_a_mini_batch_divergence_gives_a_stable_run():
    """Single samples blow up below the full-data limit: the offered 'stable' rate must be smaller, and stable."""
    at = open_app(batch="single sample", lr="0.3")
    assert_no_exception(at)
    assert at.error and "diverged" in at.error[0].value
    buttons = [b for b in at.button if b.label.startswith("Use a stable learning rate")]
    assert len(buttons) == 1
    offered = float(buttons[0].label.split("(")[1].rstrip(")"))
    assert offered < 0.3, f"the button offers lr {offered}, larger than the 0.3 that already diverged"
    buttons[0].click().run()
    assert_no_exception(at)
    assert not at.error, [e.value for e in at.error]


def test_an_adaptive_optimizer_diverging_on_mini_batches_is_explained_not_a_traceback():
    x, y = _data("thermometer")
    w, b = np.linalg.lstsq(_design(x), y, rcond=None)[0]
    at = open_app(
        dataset="thermometer",
        optimizer="rmsprop",
        momentum=0,
        lr=10,
        batch="mini-batch",
        batch_size=2,
        w0=round(float(w), 2),
        b0=round(float(b), 2),
    )
    assert_no_exception(at)
    assert at.error and "diverged" in at.error[0].value
    assert figure(at)["ladders"] == {}  # adaptive optimizer: no ladders of SGD runs


# ----------------------------------------------------------------------------------------------------
# widgets
# ----------------------------------------------------------------------------------------------------


def test_moving_the_learning_rate_slider_redraws_and_rewrites_the_link():
    at = open_app()
    before = figure(at)
    at.select_slider(key="ctl_lr").set_value(0.3).run()
    after = _shows_a_chart(at)
    assert at.query_params["lr"] == "0.3"
    assert {k: v for k, v in at.query_params.items() if k != "lr"} == {
        k: v for k, v in to_query(defaults()).items() if k != "lr"
    }
    x, y = _data()
    np.testing.assert_allclose(fitted(after), _np_gd(x, y, [-1.0, -2.0], 0.3, 0.8, 60), rtol=1e-3, atol=1e-4)
    assert not np.allclose(fitted(after), fitted(before), atol=1e-3)
    assert any("Learning rate 0.1 → 0.3" in c.value for c in at.caption)
    at.run()  # a rerun keeps the moved value
    assert at.select_slider(key="ctl_lr").value == 0.3 and at.query_params["lr"] == "0.3"


def test_new_data_button_draws_the_next_seed():
    at = open_app(epochs=5)
    np.testing.assert_allclose(arr(figure(at)["data"]["y"]), _data(seed=0)[1], rtol=1e-6)
    for seed in (1, 2):
        [button] = [b for b in at.button if "New data" in b.label]
        button.click().run()
        spec = _shows_a_chart(at)
        assert at.query_params["seed"] == str(seed)
        assert at.number_input(key="ctl_seed").value == seed
        x, y = _data(seed=seed)
        np.testing.assert_allclose(arr(spec["data"]["x"]), x[:, 0], rtol=1e-6)
        np.testing.assert_allclose(arr(spec["data"]["y"]), y, rtol=1e-6)


def test_switching_to_a_fixed_dataset_hides_the_controls_it_does_not_use():
    at = open_app(epochs=5)
    at.session_state["more_method"] = True  # unfold "Method, batch, start, device": its widgets exist while open
    at.run()
    assert {"ctl_seed", "ctl_w0", "ctl_b0"} <= {n.key for n in at.number_input}
    at.selectbox(key="ctl_dataset").set_value("single-point").run()
    spec = _shows_a_chart(at)
    assert [n.key for n in at.number_input] == ["ctl_w0"]
    assert not {"ctl_n", "ctl_noise"} & {s.key for s in at.slider}
    assert not [b for b in at.button if "New data" in b.label]
    assert at.query_params["dataset"] == "single-point"
    assert spec["surface"]["kind"] == "curve"  # one parameter: a loss curve, not a surface
    at.selectbox(key="ctl_optimizer").set_value("adam").run()
    assert_no_exception(at)
    assert "ctl_momentum" not in {s.key for s in at.slider}


def test_the_server_freezes_what_the_warm_up_loaded():
    """After the warm-up, the long-lived objects (torch, plotly, Streamlit) are out of the garbage collector's way:
    a full collection walks only what sessions made since, instead of some 370,000 objects."""
    open_app()
    assert gc.get_freeze_count() > 100_000
    gc.collect()
    assert gc.get_freeze_count() > 100_000  # a collection does not thaw them


def test_the_zero_grad_switch_is_on_the_playground_and_reaches_the_run():
    """A link with zero_grad=false trains without zeroing (the running sum of gradients), says so, and the page has
    the switch to turn it back on."""
    on = open_app(momentum=0, epochs=300)
    off = open_app(momentum=0, epochs=300, zero_grad="false")
    assert_no_exception(off)
    toggle = off.sidebar.toggle(key="ctl_zero_grad")
    assert toggle.value is False
    assert metrics(off)["Final loss"] != metrics(on)["Final loss"]
    assert any("never zeroed" in c.value for c in off.caption)
    toggle.set_value(True).run()
    assert metrics(off)["Final loss"] == metrics(on)["Final loss"]


def test_a_finite_difference_blow_up_offers_the_fix_of_its_cause_delta_not_the_learning_rate():
    at = open_app(method="finite-difference", fd_delta="1e-07")
    assert at.error and "δ = 1e-07" in at.error[0].value
    labels = [b.label for b in at.button]
    assert not any(label.startswith("Use a stable learning rate") for label in labels)
    (button,) = [b for b in at.button if b.label == "Use δ = 0.1 for the finite differences"]
    button.click().run()
    assert not at.error and at.query_params["fd_delta"] == "0.1" and at.query_params["lr"] == "0.1"


def test_a_run_that_never_zeroes_the_gradient_offers_to_zero_it():
    at = open_app(zero_grad="false", lr=0.01, epochs=200)
    assert at.error and "every learning rate" in at.error[0].value
    (button,) = [b for b in at.button if b.label == "Zero the gradient after each step"]
    button.click().run()
    assert not at.error and at.query_params["zero_grad"] == "true"


def _more_keys(at) -> set[str]:
    """The keys of the widgets inside the sidebar's folded sections."""
    inside = ("ctl_method", "ctl_batch", "ctl_w0", "ctl_b0", "ctl_device", "ctl_test_fraction", "ctl_weight_decay")
    drawn = {w.key for kind in ("selectbox", "radio", "number_input", "slider", "select_slider") for w in at.get(kind)}
    return drawn & set(inside)


def test_the_folded_sections_draw_their_widgets_only_while_open_and_their_settings_hold_when_folded():
    """A folded section's widgets are not drawn (every widget costs the browser time on every rerun); unfolding it
    draws them with the session's values, and folding it again changes nothing about the run."""
    at = open_app(epochs=5)
    assert_no_exception(at)
    assert [e.label for e in at.sidebar.expander] == ["Method, batch, start, device", "Test set, weight decay"]
    assert _more_keys(at) == set()
    at.session_state["more_method"] = True
    at.run()
    assert {"ctl_method", "ctl_batch", "ctl_w0", "ctl_b0"} <= _more_keys(at)
    at.radio(key="ctl_batch").set_value("mini-batch").run()
    steps = metrics(at)["Steps"]
    assert at.query_params["batch"] == "mini-batch" and steps != "5"  # several steps per epoch
    at.session_state["more_method"] = False  # folded again: the run and the link keep the mini-batches
    at.run()
    assert_no_exception(at)
    assert "ctl_batch" not in _more_keys(at)
    assert at.query_params["batch"] == "mini-batch" and metrics(at)["Steps"] == steps


def test_a_link_off_the_defaults_unfolds_the_section_that_holds_the_setting():
    """A teacher's link that sets the batch or the weight decay shows that setting: its section opens by itself."""
    at = open_app(batch="mini-batch", weight_decay="0.1")
    assert_no_exception(at)
    assert {"ctl_batch", "ctl_weight_decay"} <= _more_keys(at)
    plain = open_app()
    assert _more_keys(plain) == set()
