"""On a CUDA machine: training on the GPU gives the reference loop's numbers (and the CPU's), results come
back as numpy arrays, nothing stays on the GPU. Skipped where there is no CUDA."""

import numpy as np
import pytest
import torch

import engine

from .references import assert_matches, torch_optim_loop, tutorial003_fd_loop

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")

F32 = {"rtol": 1e-5, "atol": 2e-6}
FD = {"rtol": 1e-4, "atol": 2e-5}


def _xy(ds):
    return ds.x.numpy(), ds.y.numpy()


@needs_cuda
@pytest.mark.parametrize(("momentum", "nesterov"), [(0.0, False), (0.9, False), (0.9, True)])
@pytest.mark.parametrize("method", ["optimizer", "autograd", "analytic", "finite-difference"])
def test_cuda_matches_reference_and_cpu(method, momentum, nesterov):
    ds = engine.make_dataset("plane", n=25, seed=2)
    kwargs = {"method": method, "lr": 0.03, "momentum": momentum, "nesterov": nesterov, "epochs": 40}
    init = (0.5, 0.25, -1.0)
    gpu = engine.train(ds, engine.TrainConfig(device="cuda", init=init, **kwargs))
    cpu = engine.train(ds, engine.TrainConfig(device="cpu", init=init, **kwargs))
    ref = torch_optim_loop(*_xy(ds), init, lr=0.03, epochs=40, momentum=momentum, nesterov=nesterov)
    tol = FD if method == "finite-difference" else F32
    for a in (gpu.params, gpu.loss, gpu.grads):
        assert isinstance(a, np.ndarray)
    assert_matches(gpu, ref, **tol)
    assert_matches(gpu, {"params": cpu.params, "loss": cpu.loss, "grads": cpu.grads}, **tol)


@needs_cuda
@pytest.mark.parametrize("optimizer", ["sgd", "adam", "rmsprop", "adagrad"])
def test_cuda_mini_batches_match_the_reference_sampler_loop(optimizer):
    ds = engine.make_dataset("line", n=20, seed=1)
    cfg = engine.TrainConfig(
        device="cuda", optimizer=optimizer, lr=0.05, epochs=5, batch_size=6, seed=4, init=(0.5, 0.0)
    )
    hist = engine.train(ds, cfg)
    ref = torch_optim_loop(*_xy(ds), (0.5, 0.0), lr=0.05, epochs=5, optimizer=optimizer, batch_size=6, seed=4)
    assert_matches(hist, ref, **F32)
    np.testing.assert_allclose(hist.batch_loss, ref["batch_loss"], **F32)


@needs_cuda
def test_cuda_finite_differences_on_scaled_thermometer():
    ds = engine.scale_inputs(engine.make_dataset("thermometer"), "multiply", factor=0.1)
    cfg = engine.TrainConfig(device="cuda", method="finite-difference", lr=1e-2, epochs=500, init=(1.0, 0.0))
    hist = engine.train(ds, cfg)
    ref = tutorial003_fd_loop(*_xy(ds), (1.0, 0.0), lr=1e-2, epochs=500)
    assert_matches(hist, ref, **FD)


@needs_cuda
def test_cuda_divergence_is_clean_and_nothing_stays_on_the_gpu():
    ds = engine.make_dataset("line", n=20)
    torch.cuda.synchronize()
    before = torch.cuda.memory_allocated()
    hist = engine.train(ds, engine.TrainConfig(device="cuda", lr=10.0, epochs=200))
    assert hist.diverged
    assert np.isfinite(hist.params).all() and np.isfinite(hist.loss).all()
    torch.cuda.synchronize()
    assert torch.cuda.memory_allocated() <= before
    assert engine.resolve_device("auto") == "cuda"
