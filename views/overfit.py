"""Overfitting & regularization: polynomial features of a wave's (or a line's) points, a held-out test set, weight
decay and L1, early stopping, the degree and decay sweeps, the ridge / lasso picture, conditioning and the
eigen-directions."""

import streamlit as st

from compute import overfit
from settings.controls import LR_GRID
from ui import fit_player, overfit_text, widgets

TABS = (  # the closer looks, a tab each
    "Which degree?",
    "How much weight decay?",
    "The penalty on two weights",
    "Why high degrees train slowly",
    "Many parameters: the eigen-directions",
)

values = widgets.page("Overfitting & regularization")
lesson_ = widgets.current_lesson()
drawn = set()


def controls() -> None:
    """The sidebar's controls, once: after the fit player (their values are known before any widget is drawn:
    widgets.init_values), or before the message of settings the engine refuses (the learner changes them there)."""
    if "controls" in drawn:
        return
    drawn.add("controls")
    sb = st.sidebar
    sb.header("Model")
    widgets.draw(["degree", "powers", "weight_decay", "l1"], values, sb)
    sb.header("Training")
    widgets.draw(["lr", "epochs"], values, sb)
    sb.header("Data")
    widgets.draw(["shape", "test_fraction", "n", "noise", "seed"], values, sb)
    widgets.sync_url(values)


st.markdown(
    "The model is still linear regression, `nn.Linear(degree, 1)`, but its inputs are x, x², …, x^degree, so it "
    "fits a curve. A higher degree fits the training points better; whether it fits **new** points better is what "
    "the held-out points (crosses) tell. Training is plain full-batch gradient descent (`torch.optim.SGD`, no "
    "momentum) from zeros, with weight decay on the weights only (two parameter groups) and L1 added to the loss."
)
if not values["test_fraction"] and lesson_.allows("test_fraction"):
    st.info("No test set: every point is used for training, so nothing here can show overfitting.", icon="✂️")
    st.button("Hold out a quarter of the points", on_click=widgets.set_values, kwargs={"test_fraction": 0.25})

with widgets.or_stop("This run cannot start", "Training…", controls):
    result = overfit.cached_fit(values)
problem = overfit_text.divergence(result)
if problem:
    st.error(problem, icon="💥")
    safe = overfit_text.safe_lr(result, LR_GRID)
    if lesson_.allows("lr"):
        st.button(f"Use a stable learning rate ({safe:g})", on_click=widgets.set_values, kwargs={"lr": safe})

st.header("The fit and its two losses")
numbers = st.container()  # above the player, written after it: what the script sends first, the browser draws first
with widgets.or_stop("The fit cannot be played on these settings", "Training the degrees and decays…", controls):
    fit_player.show(values, lesson_)
h = result.history
m = numbers.columns(4)
m[0].metric("Training loss", f"{h.final_loss:.4g}", help="Mean squared error on the training points, last step")
test_now = "—" if h.test_loss is None or h.diverged else f"{float(h.test_loss[-1]):.4g}"
m[1].metric("Test loss", test_now, help="Mean squared error on the held-out points, last step")
m[2].metric("Early stop at step", "—" if result.stop is None else str(result.stop.step), help="Lowest test loss")
m[3].metric("Largest stable rate", f"{result.stability.max_stable_lr:.3g}", help="2/λmax of the loss trained")
st.caption(overfit_text.fit_summary(result))
chatter = overfit_text.chatter_text(result)
if chatter:
    st.markdown(f"**L1 near zero.** {chatter}")
controls()

# The closer looks, one at a time: only the open tab's chart is made and sent. Every chart on the page costs the
# browser a Plotly redraw on every rerun, below the fold too, and the fit player waited behind them
# (docs/performance.md).
st.header("Look closer")
degree_tab, decay_tab, pair_tab, conditioning_tab, eigen_tab = st.tabs(TABS, key="overfit_tab", on_change="rerun")

if degree_tab.open:
    with degree_tab, widgets.or_stop("The degree sweep cannot run on these settings", "Training nine degrees at once…"):
        degrees = overfit.cached_degrees(values)
        st.plotly_chart(overfit.degree_figure(values), width="stretch", key="overfit_degrees")
        st.caption(overfit_text.degree_text(degrees, int(values["epochs"]), values["shape"]))

if decay_tab.open:
    with decay_tab, widgets.or_stop("The weight-decay sweep cannot run on these settings", "Training twenty decays…"):
        decays = overfit.cached_decays(values)
        st.plotly_chart(overfit.decay_figure(values), width="stretch", key="overfit_decays")
        st.caption(overfit_text.decay_text(decays, result.degree))

if pair_tab.open:
    with pair_tab, widgets.or_stop("The two-weight picture cannot be drawn on these settings"):
        pair = overfit.cached_pair(values)
        st.plotly_chart(overfit.pair_figure(values), width="stretch", key="overfit_pair")
        st.caption(overfit_text.pair_text(pair))

if conditioning_tab.open:
    with conditioning_tab, widgets.or_stop("The conditioning cannot be computed on these settings"):
        cond = overfit.cached_conditioning(values)
        st.plotly_chart(overfit.conditioning_figure(values), width="stretch", key="overfit_conditioning")
        st.caption(overfit_text.conditioning_text(cond, result))

if eigen_tab.open:
    with eigen_tab:
        eigen_fig = overfit.eigen_figure(values)
        if result.degree < 2:
            st.caption(
                "Degree 1 has two parameters (w, b): its loss surface is the playground's. "
                "Raise the degree to see more."
            )
        elif eigen_fig is None:
            st.caption("The run diverged: there is no path to split along the eigen-directions.")
        else:
            st.plotly_chart(eigen_fig, width="stretch", key="overfit_eigen")
            st.caption(overfit_text.eigen_text(overfit.eigen(result), result))
