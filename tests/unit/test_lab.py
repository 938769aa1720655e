"""The step-by-step lab's numbers against independent references: numpy for the forward pass, loss and gradient,
the Trainer's actual next step for the update, train() for the step-wise Trainer."""

import numpy as np
import pytest

import engine
from engine.gradients import delta_sweep, four_gradients
from ui import lab


def _trainer(method="optimizer", momentum=0.0, nesterov=False, batch_size=None, zero_grad=True, ds=None, steps=3):
    ds = ds or engine.make_dataset("line", n=12, noise=0.5, seed=3)
    cfg = engine.TrainConfig(
        method=method,
        lr=0.05,
        momentum=momentum,
        nesterov=nesterov,
        epochs=20,
        batch_size=batch_size,
        init=(-1.0, -2.0),
        zero_grad=zero_grad,
    )
    t = engine.Trainer(ds, cfg)
    t.run(steps)
    return t


def test_step_view_forward_loss_and_gradient_match_numpy():
    t = _trainer()
    view = lab.step_view(t)
    x, y = t.ds.x[:, 0].double().numpy(), t.ds.y.double().numpy()
    w, b = t.history().params[-1]
    pred = w * x + b
    np.testing.assert_allclose(view.table["prediction ŷ"], pred[: lab.TABLE_ROWS])
    np.testing.assert_allclose(view.loss, np.mean((pred - y) ** 2))
    np.testing.assert_allclose(view.grad, [2 * np.mean((pred - y) * x), 2 * np.mean(pred - y)])
    assert view.n == 12 and view.batch is None


@pytest.mark.parametrize("method", engine.METHODS)
@pytest.mark.parametrize(("momentum", "nesterov"), [(0.0, False), (0.8, False), (0.8, True)])
@pytest.mark.parametrize("zero_grad", [True, False])
def test_predicted_update_is_the_step_the_trainer_takes(method, momentum, nesterov, zero_grad):
    t = _trainer(method, momentum, nesterov, zero_grad=zero_grad)
    view = lab.step_view(t)
    before = t.params
    t.step()
    np.testing.assert_allclose((before - t.params) / t.cfg.lr, view.used, rtol=2e-4, atol=2e-4)


def test_mini_batch_view_uses_the_rows_of_the_next_step():
    t = _trainer(batch_size=4, steps=5)
    view = lab.step_view(t)
    assert view.n == 4 and len(view.batch) == 4
    t.step()
    assert list(t.last_batch.numpy()) == list(view.batch)


def test_stepping_one_at_a_time_equals_train():
    ds = engine.make_dataset("lab")
    cfg = engine.TrainConfig(method="autograd", lr=0.01, momentum=0.5, epochs=30)
    t = engine.Trainer(ds, cfg)
    for _ in range(30):
        t.step()
    assert t.done
    np.testing.assert_array_equal(t.history().params, engine.train(ds, cfg).params)


def test_four_gradients_agree_with_the_closed_form():
    ds = engine.make_dataset("thermometer")
    grads = four_gradients(ds, [1.0, 0.0], True, delta=0.1)
    x, y = np.array(engine.data.THERMOMETER_X), np.array(engine.data.THERMOMETER_Y)
    r = 1.0 * x - y
    exact = np.array([2 * np.mean(r * x), 2 * np.mean(r)])
    for name, g in grads.items():
        np.testing.assert_allclose(g, exact, rtol=1e-5, err_msg=name)


def test_delta_sweep_shows_the_v_for_forward_differences_and_exactness_for_central():
    ds = engine.make_dataset("line", n=30, noise=0.5, seed=0)
    sweep = delta_sweep(ds, [-1.0, -2.0], True)
    fwd32 = sweep.errors[("forward", "float32")]
    i = int(np.argmin(fwd32))
    assert 0 < i < len(fwd32) - 1, "the minimum is inside the range: a V"
    assert fwd32[0] > 10 * fwd32[i] and fwd32[-1] > 10 * fwd32[i]
    # forward truncation error on a quadratic is exactly delta * S_jj (S = X'X/n): largest at delta = 1
    x = ds.x[:, 0].double().numpy()
    assert np.isclose(sweep.errors[("forward", "float64")][0], max(np.mean(x**2), 1.0), rtol=1e-6)
    # central differences are exact on a quadratic: only rounding, tiny in float64 for every delta
    assert sweep.errors[("central", "float64")].max() < 1e-6
    assert sweep.errors[("central", "float32")][0] < 1e-4


def test_gradient_table_has_the_four_methods_and_their_differences():
    t = _trainer()
    view = lab.step_view(t)
    table = lab.gradient_table(t.ds, view, True, 0.1)
    assert list(table["method"]) == list(engine.GRADIENT_METHODS)
    assert table.loc[table["method"] == "analytic", "largest difference from analytic"].item() == 0.0
    assert (table["largest difference from analytic"] < 1e-3).all()


def test_loss_formula_shows_the_batch_size_and_value():
    t = _trainer(batch_size=4)
    view = lab.step_view(t)
    text = lab.loss_formula(view)
    assert r"\frac{1}{4}" in text and text.endswith(lab.num(view.loss))


def test_zero_grad_off_accumulates_in_the_view():
    t = _trainer("autograd", zero_grad=False, steps=4)
    view = lab.step_view(t)
    assert not np.allclose(view.used, view.grad)
    h = t.history()
    np.testing.assert_allclose(view.used, view.grad + h.grads[-1], rtol=1e-5)
