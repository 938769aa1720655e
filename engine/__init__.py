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
from .conditioning import Conditioning, condition_number, conditioning, steps_at_best_rate
from .config import DEVICES, INITS, METHODS, OPTIMIZERS, TrainConfig, takes_momentum, takes_nesterov
from .data import DATASET_NAMES, SYNTHETIC, Dataset, Scaling, dataset_from_arrays, make_dataset, scale_inputs
from .devices import available_devices, resolve_device
from .eigen_view import EigenPlane, Milestones, PlaneSurface, eigen_plane, milestones, plane_surface
from .explore import (
    MomentumMap,
    NoiseRuns,
    ScalingCase,
    batch_noise,
    compare_scalings,
    lr_sweep,
    momentum_map,
    rounded_best_pair,
    steps_for,
    sweep_lrs,
)
from .export import export_notebook, export_script
from .features import Polynomial, polynomial
from .fit_sweep import FitSweep, decay_sweep, degree_sweep
from .gradients import GRADIENT_METHODS, delta_sweep, four_gradients
from .limits import MAX_DEGREE, MAX_EPOCHS, MAX_POINTS, MAX_STEPS
from .race import RACERS, Racer, Tuning, run_race, tune_lr
from .regimes import AT_LIMIT, CONVERGES, DIVERGES, LIMIT_RTOL, limit_text, lr_regime, ratio_text
from .regularization import EarlyStop, early_stop, lasso, regularized_loss, regularized_optimum, ridge
from .split import split
from .sweep import Sweep, gd_sweep, heavy_ball_rate, heavy_ball_rates, heavy_ball_regions
from .train import History, Trainer, train
from .warmup import warm_up

__all__ = [
    "Conditioning",
    "EigenPlane",
    "Milestones",
    "PlaneSurface",
    "condition_number",
    "conditioning",
    "eigen_plane",
    "milestones",
    "plane_surface",
    "steps_at_best_rate",
    "EarlyStop",
    "FitSweep",
    "decay_sweep",
    "degree_sweep",
    "MAX_DEGREE",
    "Polynomial",
    "early_stop",
    "lasso",
    "polynomial",
    "regularized_loss",
    "regularized_optimum",
    "ridge",
    "split",
    "batch_max_stable_lr",
    "DATASET_NAMES",
    "Sweep",
    "gd_sweep",
    "heavy_ball_rate",
    "heavy_ball_rates",
    "heavy_ball_regions",
    "MomentumMap",
    "NoiseRuns",
    "RACERS",
    "Racer",
    "ScalingCase",
    "Tuning",
    "batch_noise",
    "compare_scalings",
    "lr_sweep",
    "momentum_map",
    "rounded_best_pair",
    "run_race",
    "steps_for",
    "sweep_lrs",
    "tune_lr",
    "takes_momentum",
    "AT_LIMIT",
    "CONVERGES",
    "DIVERGES",
    "LIMIT_RTOL",
    "lr_regime",
    "ratio_text",
    "limit_text",
    "takes_nesterov",
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
    "export_notebook",
    "export_script",
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
