"""Where one playground rerun's server time goes, piece by piece, in one process; and the live figure's payload size.

    python bench/bench_rerun.py                 # default run, the plane, and a 5,000-step run
    python bench/bench_rerun.py --repeats 9

For each case it times the work a slider move costs the server when nothing is cached, which is what
compute.live.build does in the worker: training the page's run (runs.compute, the page's own method, torch.optim by
default), the two ladders the figure's own sliders pick from (family.build for "lr" and for "momentum": one batched
gd_sweep each), the loss surface around their paths (live.surface_for), the payload (charts.live_payload: every run
sampled at the same frames, float32 base64) and the JSON text Streamlit sends it as (st.components.v2 json.dumps the
data). Then compute.live.build in one call (about the sum of those, the check that nothing is missing), and apart from a
new run's work: what a cache hit costs (the (run, payload) pair unpickled, as the run cache does), the run's result
pickled and back 20 times (as it travels from the worker and in and out of the run cache; against the same with its
data's tensors pickled by torch's own machinery, as before engine.Dataset pickled them as numpy arrays), and for
comparison the Plotly figure the page used to send (charts.playground_figure, whose panels the Step-by-step page
draws one chart each, and its JSON). Ratios to the training time and to compute.live.build travel across machines
better than milliseconds; each figure is the best of a few repeats, interleaved, so that load on a shared machine
hits all pieces alike.

Last, the payload's JSON size for the default page and for the largest settings the controls allow, against the
issue's budget: at most 300 kB for the default page, at most 1 MB for any settings.
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

import plotly.io as pio  # noqa: E402
import torch  # noqa: E402

import charts  # noqa: E402
import engine  # noqa: E402
from compute import family, live, runs
from settings import controls

torch.set_num_threads(1)

CASES = {
    "default (line, 60 steps, torch.optim)": {},
    "plane (3-D scene)": {"dataset": "plane"},
    "5,000 steps (analytic)": {"epochs": 5000, "method": "analytic"},
}
DEFAULT_BUDGET_KB = 300  # the default page's payload
MAX_BUDGET_KB = 1000  # any settings' payload
BUILD = "compute.live.build in one call"


def page_controls(values: dict) -> dict[str, str]:
    """The figure's controls as the page adds them (no lesson: nothing hidden or locked)."""
    return live.control_states(values, controls.relevant(values) | {"zero_grad"}, frozenset(), frozenset())


def payload_of(values: dict) -> dict:
    """The payload exactly as the page mounts it (cache.live_figure adds the controls)."""
    return live.build(values)[1] | {"controls": page_controls(values)}


def pieces(values: dict) -> dict:
    """name -> zero-argument function doing one piece of a rerun's work for these values."""
    result = runs.compute(values)
    reason = family.unavailable(values)
    settings = () if reason else live.SLIDERS
    anchors = {s: family.anchor(values, s) for s in settings}
    families = [family.build(anchors[s], s) for s in settings]
    ladders = {s: live.ladder(f, s, float(values[s])) for s, f in zip(settings, families, strict=True)}
    surface = live.surface_for(result, families)
    labels = live.LABELS | {"no_ladder": reason or ""}
    summary = live.summary(result)
    data = payload_of(values)
    cached = pickle.dumps(
        live.build(values), pickle.HIGHEST_PROTOCOL
    )  # how server/bounded_cache.py keeps (run, payload)

    def old_figure() -> str:
        fig = charts.playground_figure(result.dataset, result.history, result.surface, result.optimum, result.fit_bias)
        return pio.to_json(fig, validate=False)

    out = {"train the run (runs.compute)": lambda: runs.compute(values)}
    for s in settings:
        name = f"ladder: {family.SETTINGS[s]} ({len(family.ladder(s, float(values[s])))} runs, gd_sweep)"
        out[name] = lambda s=s: family.build(anchors[s], s)
    return out | {
        "the surface around the paths (live.surface_for)": lambda: live.surface_for(result, families),
        "payload (charts.live_payload)": lambda: charts.live_payload(result, ladders, surface, {}, summary, labels),
        "payload to JSON text (json.dumps, as Streamlit)": lambda: json.dumps(data),
        BUILD: lambda: live.build(values),
        "cache hit: (run, payload) unpickled (run cache)": lambda: pickle.loads(cached),
        "the run's result pickled and back, 20x": lambda: [pickle.loads(pickle.dumps(result)) for _ in range(20)],
        "as before (torch pickles its data), 20x": lambda: [pickle.loads(torch_pickled(result)) for _ in range(20)],
        "for comparison: the old Plotly figure + JSON": old_figure,
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


def best_of(fns: dict, repeats: int) -> dict:
    """Best wall time of each function over `repeats` interleaved rounds."""
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def size_cases() -> dict[str, tuple[dict, float]]:
    """name -> (control changes, budget in kB): the default page, and the largest settings the controls allow."""
    n_max, epochs = controls.MAX_UI_POINTS, engine.MAX_EPOCHS
    big = {"n": n_max, "epochs": epochs, "lr": 0.01}
    return {
        "default page (line, n=30, 60 epochs)": ({}, DEFAULT_BUDGET_KB),
        f"line n={n_max}, {epochs} epochs": (big, MAX_BUDGET_KB),
        f"plane n={n_max}, {epochs} epochs": (big | {"dataset": "plane"}, MAX_BUDGET_KB),
        f"plane n={n_max}, {epochs} epochs, Nesterov": (
            big | {"dataset": "plane", "nesterov": True},
            MAX_BUDGET_KB,
        ),
        f"plane n=30, {epochs} epochs": ({"dataset": "plane", "epochs": epochs, "lr": 0.01}, MAX_BUDGET_KB),
        f"line n={n_max}, batch 200, 2000 epochs (no ladders)": (
            {"n": n_max, "batch": "mini-batch", "batch_size": 200, "epochs": 2000, "lr": 0.01},
            MAX_BUDGET_KB,
        ),
        "line, lr=10 (diverges at once)": ({"lr": 10.0}, MAX_BUDGET_KB),
    }


def payload_sizes() -> list[tuple[str, int, int, int, float, float, float]]:
    """(case, steps, frames, runs shipped, JSON kB, budget kB, build s) for every size case."""
    engine.warm_up()  # first-call costs (lazy imports, torch kernels) out of the build times
    live.build(controls.defaults())
    rows = []
    for name, (changes, budget) in size_cases().items():
        values = controls.defaults() | changes
        t0 = time.perf_counter()
        result, data = live.build(values)
        seconds = time.perf_counter() - t0
        data |= {"controls": page_controls(values)}
        size = len(json.dumps(data).encode())
        n_runs = 1 + sum(len(ladder["values"]) for ladder in data["ladders"].values())
        rows.append((name, int(result.history.steps), len(data["frames"]), n_runs, size / 1000, budget, seconds))
    return rows


def print_sizes(rows) -> bool:
    """Print the payload sizes against their budget; True when every one is within it."""
    print(
        "\nLive figure payload: len(json.dumps(payload)) as Streamlit sends it; build s: compute.live.build, one call"
    )
    print(f"  {'settings':<52}{'steps':>7}{'frames':>8}{'runs':>6}{'kB':>8}{'budget':>8}{'':>6}{'build s':>9}")
    ok = True
    for name, steps, frames, n_runs, kb, budget, seconds in rows:
        within = kb <= budget
        ok &= within
        verdict = "ok" if within else "OVER"
        print(f"  {name:<52}{steps:>7}{frames:>8}{n_runs:>6}{kb:>8.1f}{budget:>8.0f}{verdict:>6}{seconds:>9.2f}")
    print(
        f"  payload budget ({DEFAULT_BUDGET_KB} kB default page, {MAX_BUDGET_KB} kB any settings): "
        + ("all within" if ok else "EXCEEDED")
    )
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    engine.warm_up()  # first-call costs (lazy imports, torch kernels) out of the timings
    for case, change in CASES.items():
        values = controls.defaults() | change
        best = best_of(pieces(values), args.repeats)
        train, build = best["train the run (runs.compute)"], best[BUILD]
        print(f"\n{case}")
        print(f"  {'piece':<54}{'ms':>9}{'/ train':>9}{'/ build':>9}")
        for name, seconds in best.items():
            if name == BUILD:
                work = [s for n, s in list(best.items())[: list(best).index(BUILD)] if not n.startswith("payload to")]
                label = "  (the pieces above but the JSON text, summed)"
                print(f"  {label:<54}{sum(work) * 1e3:>9.1f}{sum(work) / train:>9.2f}{sum(work) / build:>9.2f}")
            print(f"  {name:<54}{seconds * 1e3:>9.1f}{seconds / train:>9.2f}{seconds / build:>9.2f}")
    print_sizes(payload_sizes())


if __name__ == "__main__":
    main()
