"""The playground's compute core: datasets, training with PyTorch, and closed-form analysis.

Imports neither streamlit nor plotly, so it works from a notebook or a script as well as from the app.
"""

from .analysis import (
    Quadratic,
    Stability,
    Surface,
    batch_max_stable_lr,
    least_squares,
    loss_surface,
    optimum_problem,
    r2,
    rmse,
    stability,
)
from .config import DEVICES, INITS, METHODS, OPTIMIZERS, TrainConfig
from .data import DATASET_NAMES, SYNTHETIC, Dataset, Scaling, dataset_from_arrays, make_dataset, scale_inputs
from .devices import available_devices, resolve_device
from .export import export_notebook, export_script
from .gradients import GRADIENT_METHODS, delta_sweep, four_gradients
from .limits import MAX_EPOCHS, MAX_POINTS, MAX_STEPS
from .sweep import Sweep, gd_sweep, heavy_ball_rate, heavy_ball_rates
from .train import History, Trainer, train
from .warmup import warm_up

__all__ = [
    "batch_max_stable_lr",
    "DATASET_NAMES",
    "export_notebook",
    "export_script",
    "Sweep",
    "gd_sweep",
    "heavy_ball_rate",
    "heavy_ball_rates",
    "GRADIENT_METHODS",
    "delta_sweep",
    "four_gradients",
    "DEVICES",
    "INITS",
    "MAX_EPOCHS",
    "MAX_POINTS",
    "MAX_STEPS",
    "METHODS",
    "OPTIMIZERS",
    "SYNTHETIC",
    "Dataset",
    "History",
    "Quadratic",
    "Scaling",
    "Stability",
    "Surface",
    "TrainConfig",
    "Trainer",
    "available_devices",
    "dataset_from_arrays",
    "least_squares",
    "loss_surface",
    "make_dataset",
    "optimum_problem",
    "r2",
    "resolve_device",
    "rmse",
    "scale_inputs",
    "stability",
    "train",
    "warm_up",
]
