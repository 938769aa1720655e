"""Where one playground rerun's server time goes, piece by piece, in one process.

    python bench/bench_rerun.py                 # default run, the plane, and a 5,000-step run
    python bench/bench_rerun.py --repeats 9

For each case it times the work a slider move costs the server when nothing is cached: training the run (the
page's own method, torch.optim by default), building the playground figure as plain Plotly JSON (its loss panel's
picture apart: a learning-rate move reuses it), the family of runs (gd_sweep over the learning-rate ladder) and its
figure, and turning both into the JSON Streamlit sends; apart from those, what a cache hit costs (unpickling both
figures, as st.cache_data does, against parsing them from JSON text, how they were cached before), and a run's
result pickled and back, 20 times, as it travels from the worker and in and out of st.cache_data on every move
(against the same with its data's tensors pickled by torch's own machinery, as before engine.Dataset pickled them
as numpy arrays). The
baseline, in the same process on the same figure, is what the figure used to cost: plotly.py validating it
(go.Figure(spec), which st.plotly_chart does to a dict) and serializing the validated object (Figure.to_dict's deep
copy). Ratios to the training time and to that baseline travel across machines better than milliseconds. Each
figure is the best of a few repeats, interleaved, so that load on a shared machine hits all pieces alike.
"""

from __future__ import annotations

import argparse
import copyreg
import dataclasses
import io
import json
import os
import pickle
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import plotly.graph_objects as go  # noqa: E402
import plotly.io as pio  # noqa: E402
import torch  # noqa: E402

import charts  # noqa: E402
import engine  # noqa: E402
from charts import raster  # noqa: E402
from charts.common import positive  # noqa: E402
from ui import controls, family, runs  # noqa: E402

torch.set_num_threads(1)

CASES = {
    "default (line, 60 steps, torch.optim)": {},
    "plane (3-D scene)": {"dataset": "plane"},
    "5,000 steps (analytic)": {"epochs": 5000, "method": "analytic"},
}


def pieces(values: dict) -> dict:
    """name -> zero-argument function doing one piece of a rerun's work for these values."""
    result = runs.compute(values)
    spec = charts.playground_figure(result.dataset, result.history, result.surface, result.optimum, result.fit_bias)
    fam = family.build(values, "lr")
    fam_spec = charts.family_figure(fam)
    pickled = [pickle.dumps(f, pickle.HIGHEST_PROTOCOL) for f in (spec, fam_spec)]  # how st.cache_data keeps them
    texts = [pio.to_json(f, validate=False) for f in (spec, fam_spec)]
    return {
        "train the run": lambda: runs.compute(values),
        "playground figure, panel picture reused (JSON)": lambda: charts.playground_figure(
            result.dataset, result.history, result.surface, result.optimum, result.fit_bias
        ),
        "the panel's picture (a new panel only)": lambda: new_picture(result.surface),
        "family: 37 runs in one gd_sweep": lambda: family.build(values, "lr"),
        "family figure (JSON)": lambda: charts.family_figure(fam),
        "both figures to JSON text": lambda: (pio.to_json(spec, validate=False), pio.to_json(fam_spec, validate=False)),
        "cache hit: both figures unpickled (st.cache_data)": lambda: [pickle.loads(p) for p in pickled],
        "cache hit, as before: both parsed from JSON text": lambda: [json.loads(t) for t in texts],
        "the run's result pickled and back, 20x": lambda: [pickle.loads(pickle.dumps(result)) for _ in range(20)],
        "as before (torch pickles its data), 20x": lambda: [pickle.loads(torch_pickled(result)) for _ in range(20)],
        "baseline: plotly.py validates + copies the figure": lambda: go.Figure(spec).to_dict(),
    }


def torch_pickled(result: runs.RunResult) -> bytes:
    """The result pickled as before engine.Dataset pickled its tensors as numpy arrays: torch pickles them."""
    out = io.BytesIO()
    pickler = pickle.Pickler(out, pickle.HIGHEST_PROTOCOL)
    fields = [f.name for f in dataclasses.fields(engine.Dataset)]
    pickler.dispatch_table = copyreg.dispatch_table | {
        engine.Dataset: lambda ds: (engine.Dataset, tuple(getattr(ds, name) for name in fields))
    }
    pickler.dump(result)
    return out.getvalue()


def new_picture(s) -> None:
    """Draw a loss panel's picture as if for the first time (past its cache): needed when the data, the momentum
    or the start change, not when only the learning rate does (the run is drawn on the family's panel)."""
    if s.kind != "curve":
        raster._picture.__wrapped__(raster._Field(np.log10(positive(s.z))), 24)


def best_of(fns: dict, repeats: int) -> dict:
    """Best wall time of each function over `repeats` interleaved rounds."""
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    for case, change in CASES.items():
        values = controls.defaults() | change
        best = best_of(pieces(values), args.repeats)
        train, baseline = best["train the run"], best["baseline: plotly.py validates + copies the figure"]
        print(f"\n{case}")
        print(f"  {'piece':<52}{'ms':>9}{'/ train':>9}{'/ baseline':>12}")
        for name, seconds in best.items():
            print(f"  {name:<52}{seconds * 1e3:>9.1f}{seconds / train:>9.2f}{seconds / baseline:>12.2f}")
        apart = ("baseline", "cache hit", "as before", "the run's result")  # not a new run's own work
        ours = sum(s for n, s in best.items() if not n.startswith(apart))
        label = "all of the above but the cache hits, pickles, baseline"
        print(f"  {label:<52}{ours * 1e3:>9.1f}{ours / train:>9.2f}{ours / baseline:>12.2f}")


if __name__ == "__main__":
    main()
