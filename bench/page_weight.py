"""What a page's other elements cost a move that needs the server: the floor page, heavier by steps, in Chromium.

    python bench/page_weight.py            # 4 presses each way per case and page
    python bench/page_weight.py --n 6 --pages floor sidebar

Each page is bench_latency.py's floor page (the learning-rate and noise sliders and the live figure, with the same
cached payload) plus some of these, and is timed as `bench_latency.py --floor` times it, against the trivial app in
the same run:
- floor: nothing more;
- sidebar: the two sliders in the sidebar, with 16 other widgets under them (sliders, select boxes, number inputs,
  radios, toggles, a button), about what the playground's sidebar holds;
- main: readouts and words in the main area: four metrics, a caption, two download buttons and two open expanders
  of Markdown with LaTeX, whose numbers change with the noise;
- sidebar+main: both;
- fragment: the sidebar's 16 widgets, with the learning-rate slider and the figure in an st.fragment of their own
  (a learning-rate move reruns the fragment only; a noise move, outside it, the whole page).
It prints, per page, the median of each case over the trivial app's median. The growth from the floor is what the
page's weight costs: Streamlit's page re-renders its elements on every rerun, those a fragment's rerun leaves alone
too, if less (docs/performance.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import bench_latency as bl  # noqa: E402

SIDEBAR = """
with st.sidebar:
    st.header("Data")
    st.selectbox("Dataset", ["a", "b", "c"])
    st.slider("Points", 1, 500, 100)
    st.number_input("Seed", 0, 100, 1)
    st.header("Model")
    st.radio("Method", ["x", "y", "z"], horizontal=True)
    st.selectbox("Loss", ["mse", "mae"])
    st.slider("Epochs", 1, 100, 60)
    st.slider("Batch", 1, 100, 10)
    st.toggle("Bias", True)
    st.toggle("Standardize", False)
    st.selectbox("Init", ["zero", "rand"])
    st.number_input("w0", value=0.0)
    st.number_input("b0", value=0.0)
    st.radio("Device", ["cpu", "gpu"], horizontal=True)
    st.selectbox("Optimizer", ["sgd", "adam"])
    st.slider("Speed", 1, 10, 5)
    st.button("New data")
"""
MAIN = """
n = values["noise"]
m = st.columns(4)
m[0].metric("Steps", "60", help="steps")
m[1].metric("Final loss", f"{n:.3f}", help="loss")
m[2].metric("Best possible loss", f"{2 * n:.3f}", help="best")
m[3].metric("R²", f"{n / 3:.3f}", help="r2")
st.caption(f"w = {n:.4f}, b = {2 * n:.4f}")
d = st.columns([1, 1, 3])
d[0].download_button("Every step (.csv)", lambda: "a", file_name="a.csv")
d[1].download_button("Final model (.json)", lambda: "b", file_name="b.json")
left, right = st.columns(2)
with left.expander("What am I looking at?", expanded=True):
    st.markdown(f"The model fits $y = wx + b$ to points with noise {n}. " * 8)
with right.expander("The update rule", expanded=True):
    st.markdown(f"$$w_{{t+1}} = w_t - \\\\eta \\\\, \\\\nabla L = {n:.3f}$$ and a line of words. " * 4)
"""
# the floor page's figure and learning-rate slider in a fragment, the noise slider and the 16 widgets outside it
FRAGMENT = (
    bl.FLOOR_APP.split("values = controls.defaults()")[0]
    + f"""
values = controls.defaults() | {{"seed": 1, "momentum": 0.8}}
values["noise"] = st.sidebar.slider("Noise level", 0.0, 5.0, 0.5, 0.1)


@st.fragment
def run_section():
    values["lr"] = st.select_slider(
        "Learning rate", controls.LR_GRID, value=controls.LR_GRID[{bl.START_LR_INDEX}], format_func=lambda v: f"{{v:g}}"
    )
    components.live_figure(
        cache.live_figure(values, {{}}), key="fig", on_lr=None, on_momentum=None, on_epochs=None, on_start=None
    )


run_section()
"""
    + SIDEBAR
)


def page_source(name: str) -> str:
    """The script of one page (see the module's docstring)."""
    if name == "fragment":
        return FRAGMENT
    source = bl.FLOOR_APP
    if "sidebar" in name:
        source = source.replace('values["lr"] = st.select_slider(', 'values["lr"] = st.sidebar.select_slider(')
        source = source.replace('values["noise"] = st.slider(', 'values["noise"] = st.sidebar.slider(')
        source += SIDEBAR
    if "main" in name:
        source += MAIN
    return source


PAGES = ("floor", "sidebar", "main", "sidebar+main", "fragment")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=4, help="presses each way per case and page (default 4)")
    parser.add_argument("--pages", nargs="+", choices=PAGES, default=list(PAGES), help="which pages (default all)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for one result (default 120)")
    args = parser.parse_args()
    args.no_sizes, args.floor = True, True
    for name in set(bl.CASES) - set(bl.FLOOR_CASES):
        del bl.CASES[name]
    cases = [c for c in bl.FLOOR_CASES if c != "trivial"]
    rows = {}
    for name in args.pages:
        print(f"--- page: {name}", flush=True)
        samples, _, version = bl.with_servers(args, bl.measure, "page_weight_", page_source(name))
        base = bl.p50([s.shown for s in samples["trivial"]])
        rows[name] = (base, [bl.p50([s.shown for s in samples[c]]) / base for c in cases])
    print(f"\nA move's median / the trivial app's median, same run (Chromium {version}, {args.n} presses each way)")
    print(f"{'page':<14}{'trivial ms':>11}" + "".join(f"{c:>20}" for c in cases))
    for name, (base, ratios) in rows.items():
        print(f"{name:<14}{base:>11.0f}" + "".join(f"{r:>20.2f}" for r in ratios))


if __name__ == "__main__":
    main()
