"""Cached results and figures of the Explorer pages, shared by every session (the compute/cache.py pattern).

Each result is keyed by the few control values it depends on (compute.explore's key sets), so moving an unrelated
slider reuses it, and by the fingerprint of the session's own data when the controls say "custom" (the data itself
is passed beside the key, unhashed); figures are cached apart from the results they draw, as JSON specs
(charts.to_spec: cheap to copy out of the cache). Results and figures share one cache bounded by memory, not by
entries (server/bounded_cache.py): a quarter of the runs' budget. Compute takes cache.TRAIN_LOCK.
"""

from __future__ import annotations

import charts
import engine
from compute import custom, explore
from compute.cache import TRAIN_LOCK, _key, _values
from server.bounded_cache import BoundedCache, budget_from_env

RESULTS = BoundedCache(budget_from_env() // 4)


def _locked(compute):
    def run():
        with TRAIN_LOCK:
            return compute()

    return run


def _sweep(key: str, data_id: str, _data) -> tuple[engine.Sweep, engine.Stability]:
    return RESULTS.get(("sweep", key, data_id), _locked(lambda: explore.lr_sweep(_values(key), _data)))


def _sweep_figure(key: str, data_id: str, _data) -> str:
    return RESULTS.get(
        ("sweep figure", key, data_id), lambda: charts.to_spec(charts.sweep_figure(*_sweep(key, data_id, _data)))
    )


def _momentum_map(key: str, data_id: str, _data) -> engine.MomentumMap:
    return RESULTS.get(("momentum map", key, data_id), _locked(lambda: explore.momentum_map(_values(key), _data)))


def _momentum_figures(key: str, data_id: str, _data) -> tuple[str, ...]:
    def draw() -> tuple[str, ...]:
        m = _momentum_map(key, data_id, _data)
        return tuple(charts.to_spec(charts.momentum_map_figure(m, panel)) for panel in charts.MAP_PANELS)

    return RESULTS.get(("momentum figures", key, data_id), draw)


def _race(key: str, tuned: bool, data_id: str, _data) -> explore.RaceResult:
    return RESULTS.get(("race", key, tuned, data_id), _locked(lambda: explore.race(_values(key), tuned, _data)))


def _race_player(key: str, tuned: bool, data_id: str, _data) -> dict:
    return RESULTS.get(
        ("race player", key, tuned, data_id), lambda: explore.race_player(_race(key, tuned, data_id, _data))
    )


def _scaling(dataset: str, probe_lr: float, data_id: str, _data) -> list[engine.ScalingCase]:
    return RESULTS.get(
        ("scaling", dataset, probe_lr, data_id), _locked(lambda: explore.scaling(dataset, probe_lr, _data))
    )


def _scaling_figures(dataset: str, probe_lr: float, data_id: str, _data) -> tuple[str, ...]:
    return RESULTS.get(
        ("scaling figures", dataset, probe_lr, data_id),
        lambda: tuple(charts.to_spec(charts.scaling_figure(c)) for c in _scaling(dataset, probe_lr, data_id, _data)),
    )


def _noise(key: str, data_id: str, _data) -> explore.NoiseResult:
    return RESULTS.get(("noise", key, data_id), _locked(lambda: explore.batch_noise(_values(key), _data)))


def _noise_player(key: str, data_id: str, _data) -> dict:
    return RESULTS.get(("noise player", key, data_id), lambda: explore.noise_player(_noise(key, data_id, _data)))


def _args(values: dict, keys: frozenset) -> tuple:
    """(cache key, data fingerprint, the session's data or None) for these values."""
    data = custom.for_values(values)
    return _key(explore.subset(values, keys)), custom.fingerprint(data), data


def lr_sweep(values: dict) -> tuple[engine.Sweep, engine.Stability]:
    """The learning-rate sweep for the current data (ValueError for data it cannot run on)."""
    return _sweep(*_args(values, explore.SWEEP_KEYS))


def sweep_figure(values: dict) -> charts.Prebuilt:
    return charts.from_spec(_sweep_figure(*_args(values, explore.SWEEP_KEYS)))


def momentum_map(values: dict) -> engine.MomentumMap:
    return _momentum_map(*_args(values, explore.DATA_KEYS))


def momentum_figures(values: dict) -> list[charts.Prebuilt]:
    """The momentum map's two panels, measured and theory (charts.MAP_PANELS)."""
    return [charts.from_spec(spec) for spec in _momentum_figures(*_args(values, explore.DATA_KEYS))]


def race(values: dict, tuned: bool) -> explore.RaceResult:
    key, data_id, data = _args(values, explore.SWEEP_KEYS)
    return _race(key, tuned, data_id, data)


def race_player(values: dict, tuned: bool) -> dict:
    """The race player's payload (charts/race.py) for these values."""
    key, data_id, data = _args(values, explore.SWEEP_KEYS)
    return _race_player(key, tuned, data_id, data)


def scaling(dataset: str, probe_lr: float) -> list[engine.ScalingCase]:
    data = custom.for_values({"dataset": dataset})
    return _scaling(dataset, float(probe_lr), custom.fingerprint(data), data)


def scaling_figures(dataset: str, probe_lr: float) -> list[charts.Prebuilt]:
    """One figure per scaling (raw, times 0.1, standardized), in the order of scaling()."""
    data = custom.for_values({"dataset": dataset})
    return [
        charts.from_spec(spec) for spec in _scaling_figures(dataset, float(probe_lr), custom.fingerprint(data), data)
    ]


def batch_noise(values: dict) -> explore.NoiseResult:
    return _noise(*_args(values, explore.NOISE_KEYS))


def noise_player(values: dict) -> dict:
    """The race player's payload for the mini-batch runs (charts/race.py) for these values."""
    return _noise_player(*_args(values, explore.NOISE_KEYS))
