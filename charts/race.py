"""Several runs played together on one loss surface, in the browser (components/race_player.js): the optimizer
race and the mini-batch noise picture.

Left, the loss surface with one path per run (and faint extra runs); right, every run's loss on one log axis, with
shaded bands. The payload holds each run's position and loss at the same frames, so the player moves every run
together; the whole loss curves and the extra runs are drawn once. Float32 arrays, packed as the live figure's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import engine

from .common import frame_steps, log_ticks, packed, padded, positive, thin_indices
from .live import surface_payload

RACE_FRAMES = 100  # frames a run is shown at: its path and loss so far grow by one each
GHOST_POINTS = 300  # points of each faint extra run


@dataclass(frozen=True, eq=False)
class Track:
    """One animated run: its parameters and full-data loss at each recorded step, and where each step sits on the
    loss panel's x axis (the step, or the epoch)."""

    name: str
    params: np.ndarray  # (k + 1, p)
    loss: np.ndarray  # (k + 1,)
    time: np.ndarray  # (k + 1,) increasing
    color: str

    @classmethod
    def of(cls, name: str, history: engine.History, color: str, per_epoch: bool = False) -> Track:
        steps = np.arange(len(history.loss), dtype=np.float64)
        return cls(name, history.params, history.loss, steps / history.steps_per_epoch if per_epoch else steps, color)


@dataclass(frozen=True, eq=False)
class Band:
    """A shaded range of the loss per step (e.g. min to max over seeds), drawn under the curves."""

    name: str
    time: np.ndarray
    low: np.ndarray
    high: np.ndarray
    color: str


def payload(
    surface: engine.Surface,
    tracks: list[Track],
    title: str,
    summary: str,
    time_title: str = "step",
    bands: tuple[Band, ...] = (),
    ghosts: tuple[Track, ...] = (),
    max_frames: int = RACE_FRAMES,
) -> dict:
    """The race player's data: `tracks` move together (each at the frame times of the longest one, staying at its
    last recorded point after it ends); `ghosts` are extra runs drawn faintly and still, `bands` shade the loss
    panel. title and summary: the figure's name and a sentence of what it shows (its text alternative)."""
    if not tracks:
        raise ValueError("give at least one run to draw")
    curve = surface.kind == "curve"
    cols = list(surface.columns)
    # where each track is drawn on the surface panel: (w, b) or (w1, w2); (w, loss) when the surface is a curve
    xy = [np.column_stack([t.params[:, cols[0]], t.loss]) if curve else t.params[:, cols] for t in tracks]
    master = max(tracks, key=lambda t: t.time[-1] if len(t.time) else 0.0)
    times = master.time[frame_steps(len(master.time) - 1, max_frames=max_frames)]
    # each track's index at each frame time (the last recorded step at or before it; a diverged run stays put)
    at = [np.clip(np.searchsorted(t.time, times, side="right") - 1, 0, len(t.time) - 1) for t in tracks]
    losses = [positive(t.loss) for t in tracks]
    lo = min(float(v.min()) for v in losses)
    hi = max(float(v.max()) for v in losses)
    for band in bands:
        lo = min(lo, float(positive(band.low).min()))
    loss_range = padded(float(np.log10(lo)), float(np.log10(hi)), 0.05)
    curves = []
    for t, loss in zip(tracks, losses, strict=True):
        keep = thin_indices(len(loss))
        curves.append({"time": packed(t.time[keep]), "loss": packed(loss[keep])})
    return {
        "title": title,
        "summary": summary,
        "time_title": time_title,
        "surface": surface_payload(surface),
        "tracks": [{"name": t.name, "color": t.color} for t in tracks],
        "times": [float(v) for v in times],
        "pos": packed(np.stack([p[i] for p, i in zip(xy, at, strict=True)])),  # (K, F, 2)
        "loss": packed(np.stack([v[i] for v, i in zip(losses, at, strict=True)])),  # (K, F)
        "curves": curves,
        "ghosts": [
            {"color": g.color, "xy": packed(g.params[thin_indices(len(g.params), GHOST_POINTS)][:, cols])}
            for g in ([] if curve else ghosts)
        ],
        "bands": [
            {
                "name": b.name,
                "color": b.color,
                "time": packed(b.time),
                "low": packed(positive(b.low)),
                "high": packed(positive(b.high)),
            }
            for b in bands
        ],
        "loss_range": loss_range,
        "loss_ticks": log_ticks(*loss_range),  # the log axis labelled with plain numbers (panel.js draws them)
    }
