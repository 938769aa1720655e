"""Which compute device to train on: CUDA, then Apple MPS, then CPU."""

from __future__ import annotations

import torch


def available_devices() -> list[str]:
    """The devices this machine has, CPU always last."""
    found = []
    if torch.cuda.is_available():
        found.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append("mps")
    return found + ["cpu"]


def resolve_device(device: str = "auto") -> str:
    """Turn "auto" into the best device present; a device that is absent is a clear ValueError."""
    have = available_devices()
    if device == "auto":
        return have[0]
    if device not in ("cpu", "cuda", "mps"):
        raise ValueError(f"unknown device {device!r}; choose auto, cpu, cuda or mps")
    if device not in have:
        raise ValueError(f"this machine has no {device.upper()} device; use 'cpu' or 'auto' (found: {', '.join(have)})")
    return device
