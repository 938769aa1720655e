"""Your data: upload or paste a table (or pick a sample), check it, and train on it on every page."""

import math
from pathlib import Path

import streamlit as st

import engine
from compute import custom
from compute.runs import safe_lr
from settings.controls import LR_GRID
from ui import explain, tabular, widgets

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
SAMPLE_FILES = {
    "Anscombe's quartet (four sets, one line)": ("anscombe.csv", "y1", ["x1"]),
    "Forbes 1857: boiling point and pressure": (
        "forbes_boiling_point.csv",
        "pressure (inches Hg)",
        ["boiling point (°F)"],
    ),
    "Thermometer readings (tutorial 003)": ("thermometer.csv", "temperature (°C)", ["reading (unknown units)"]),
}

values = widgets.init_values()
st.title("Your data")
st.caption(
    "Train on your own table. It stays in this browser session's memory: nothing is saved on the server, "
    "and no other student can see it."
)

source = st.radio("Where is the data?", ["A sample dataset", "Upload a CSV file", "Paste a table"], horizontal=True)
raw, name, default_target, default_features = None, "your data", None, None
if source == "Upload a CSV file":
    upload = st.file_uploader("CSV file (a header row, then one row per observation)", type=["csv", "txt"])
    if upload is not None:
        raw, name = upload.getvalue(), "uploaded table"
elif source == "Paste a table":
    text = st.text_area(
        "Paste rows here (a header row first; commas, semicolons or tabs)",
        height=160,
        placeholder="hours,score\n1,52\n2,58\n3,65",
    )
    raw, name = (text.encode("utf-8"), "pasted table") if text.strip() else (None, name)
else:
    choice = st.selectbox("Sample", list(SAMPLE_FILES))
    file, default_target, default_features = SAMPLE_FILES[choice]
    raw, name = (SAMPLES / file).read_bytes(), choice
    st.caption("Sources and licences: samples/README.md in the project.")

if raw is None:
    st.info("Choose a file, paste a table, or pick a sample.")
    st.stop()
try:
    table = tabular.read_csv(raw)
except ValueError as exc:
    st.error(str(exc), icon="🚫")
    st.stop()
for note in table.notes:
    st.info(note, icon="ℹ️")

frame = table.frame
left, right = st.columns([1.2, 1])
left.markdown("**Preview** (first rows, numeric columns)")
left.dataframe(frame.head(50), height=260, width="stretch")
right.markdown("**Columns**")
right.dataframe(tabular.summary(frame), hide_index=True, height=260, width="stretch")

columns = list(frame.columns)
if len(columns) < 2:
    st.error("A fit needs two numeric columns: one to predict and one to predict it from.")
    st.stop()
pick = st.columns(2)
target = pick[0].selectbox(
    "Column to predict (y)",
    columns,
    index=columns.index(default_target) if default_target in columns else len(columns) - 1,
)
others = [c for c in columns if c != target]
features = pick[1].multiselect(
    "Predict it from (one or two columns)",
    others,
    max_selections=2,
    default=[f for f in (default_features or others[:1]) if f in others],
)
try:
    ds, notes = tabular.to_dataset(frame, target, features, name=name)
except ValueError as exc:
    st.error(str(exc), icon="🚫")
    st.stop()
for note in notes:
    st.warning(note, icon="⚠️")

if engine.optimum_problem(ds, True) is None:
    w = engine.least_squares(ds)
    stab = engine.stability(ds)
    st.markdown(
        f"{ds.n} rows. Least-squares fit: {explain.vector(ds.param_names(), w)}, R² = "
        f"{explain.num(engine.r2(ds, w), 3)}. Largest stable learning rate for plain gradient descent: "
        f"**{explain.num(stab.max_stable_lr, 3)}**"
        + (
            f" — the inputs are badly scaled (condition number {stab.condition_number:.3g}): try input scaling."
            if stab.condition_number > 1e3
            else "."
        )
    )


def use_it() -> None:
    custom.store(ds)
    limit = engine.stability(ds).max_stable_lr
    widgets.set_values(dataset="custom", lr=safe_lr(limit, LR_GRID) if math.isfinite(limit) else 0.1)


in_use = custom.current() is not None and custom.fingerprint(custom.current()) == custom.fingerprint(ds)
st.button("Train on this data", type="primary", on_click=use_it, disabled=in_use and values["dataset"] == "custom")
if custom.current() is not None and values["dataset"] == "custom":
    st.success(
        f"The playground, the step-by-step lab and the explorer now use “{custom.current().name}” "
        f"({custom.current().n} rows) in this session."
    )
    links = st.columns(3)
    links[0].page_link("views/playground.py", label="Open the playground", icon="🎛️")
    links[1].page_link("views/lab.py", label="Step through it", icon="👣")
