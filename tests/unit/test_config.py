"""TrainConfig validation, the caps (epochs, points, total steps) and device resolution."""

import dataclasses
import math

import numpy as np
import pytest
import torch

import engine


def _names_cap(message: str, cap: int) -> bool:
    return any(form in message for form in (str(cap), f"{cap:,}", f"{cap:_}", f"{cap:,}".replace(",", " ")))


def test_defaults_are_the_documented_ones():
    cfg = engine.TrainConfig()
    assert cfg.method == "optimizer" and cfg.optimizer == "sgd"
    assert cfg.lr == 0.01 and cfg.momentum == 0.0 and cfg.nesterov is False
    assert cfg.epochs == 100 and cfg.batch_size is None and cfg.init == "zeros"
    assert cfg.fit_bias is True and cfg.fd_delta == 0.1 and cfg.seed == 0
    assert cfg.device == "cpu" and cfg.zero_grad is True


def test_config_is_frozen_and_hashable():
    a = engine.TrainConfig(lr=0.05, init=(1.0, 2.0))
    b = engine.TrainConfig(lr=0.05, init=(1.0, 2.0))
    assert a == b and hash(a) == hash(b)
    assert a != engine.TrainConfig(lr=0.06, init=(1.0, 2.0))
    assert len({a, b}) == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.lr = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"lr": 0.0},
        {"lr": -0.1},
        {"lr": math.nan},
        {"lr": math.inf},
        {"momentum": -0.1},
        {"momentum": 1.0},
        {"momentum": 1.5},
        {"momentum": math.nan},
        {"epochs": 0},
        {"epochs": -3},
        {"method": "newton"},
        {"optimizer": "lbfgs"},
        {"device": "tpu"},
        {"nesterov": True, "momentum": 0.0},
        {"optimizer": "adam", "method": "autograd"},
        {"optimizer": "rmsprop", "method": "analytic"},
        {"optimizer": "adagrad", "method": "finite-difference"},
        {"init": (math.nan, 0.0)},
        {"init": (1.0, math.inf)},
        {"init": "ones"},
        {"fd_delta": 0.0},
        {"fd_delta": -0.1},
        {"batch_size": 0},
        {"batch_size": -2},
    ],
)
def test_invalid_values_raise_value_error(kwargs):
    with pytest.raises(ValueError) as exc:
        engine.TrainConfig(**kwargs)
    assert str(exc.value).strip()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"method": "autograd", "momentum": 0.9, "nesterov": True},
        {"method": "finite-difference", "fd_delta": 0.5},
        {"method": "analytic", "batch_size": 3},
        {"optimizer": "adam", "lr": 0.1},
        {"init": "random", "seed": 3},
        {"init": (1.0, -2.0)},
        {"epochs": 1},
        {"momentum": 0.99},
    ],
)
def test_valid_values_are_accepted(kwargs):
    cfg = engine.TrainConfig(**kwargs)
    for key, value in kwargs.items():
        assert getattr(cfg, key) == value


def test_epochs_cap():
    engine.TrainConfig(epochs=engine.MAX_EPOCHS)
    with pytest.raises(ValueError) as exc:
        engine.TrainConfig(epochs=engine.MAX_EPOCHS + 1)
    assert _names_cap(str(exc.value), engine.MAX_EPOCHS), str(exc.value)


def test_total_steps_cap():
    n = engine.MAX_STEPS // engine.MAX_EPOCHS + 1  # batches of one point: n steps per epoch
    assert n <= engine.MAX_POINTS and engine.MAX_EPOCHS * n > engine.MAX_STEPS
    ds = engine.dataset_from_arrays(np.arange(n, dtype=float), np.arange(n, dtype=float))
    cfg = engine.TrainConfig(epochs=engine.MAX_EPOCHS, batch_size=1)
    with pytest.raises(ValueError) as exc:
        engine.train(ds, cfg)
    assert _names_cap(str(exc.value), engine.MAX_STEPS), str(exc.value)
    # Exactly at the cap is allowed (checked without running it: Trainer does no step until asked).
    epochs_at_cap = engine.MAX_STEPS // n
    trainer = engine.Trainer(ds, engine.TrainConfig(epochs=epochs_at_cap, batch_size=1))
    trainer.step()
    assert trainer.history().params.shape == (2, 2)


def test_points_cap():
    n = engine.MAX_POINTS + 1
    with pytest.raises(ValueError) as exc:
        ds = engine.dataset_from_arrays(np.zeros(n), np.zeros(n))
        engine.train(ds, engine.TrainConfig(epochs=1))
    assert _names_cap(str(exc.value), engine.MAX_POINTS), str(exc.value)


def test_points_cap_for_generated_data():
    with pytest.raises(ValueError) as exc:
        ds = engine.make_dataset("line", n=engine.MAX_POINTS + 1)
        engine.train(ds, engine.TrainConfig(epochs=1))
    assert _names_cap(str(exc.value), engine.MAX_POINTS), str(exc.value)


def test_caps_are_sane():
    assert engine.MAX_EPOCHS >= 5000  # the book's 5000-epoch run must be possible
    assert engine.MAX_STEPS >= engine.MAX_EPOCHS
    assert engine.MAX_POINTS >= 50


def test_available_devices_and_resolution():
    devices = engine.available_devices()
    assert "cpu" in devices
    assert engine.resolve_device("cpu") == "cpu"
    auto = engine.resolve_device("auto")
    assert auto in ("cuda", "mps", "cpu") and auto in devices
    if torch.cuda.is_available():
        assert auto == "cuda" and "cuda" in devices
        assert engine.resolve_device("cuda") == "cuda"
    else:
        assert "cuda" not in devices
        with pytest.raises(ValueError):
            engine.resolve_device("cuda")
        with pytest.raises(ValueError):
            engine.train(engine.make_dataset("line", n=5), engine.TrainConfig(device="cuda", epochs=1))
