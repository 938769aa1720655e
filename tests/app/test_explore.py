"""The Explorer pages through Streamlit's AppTest: each page at its defaults and at an extreme, its charts present
and their numbers checked against numpy; the links back to the playground round-trip through the URL schema."""

import math
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from apptest_support import APP, arr, assert_no_exception, chart_spec, figure, metrics
from streamlit.testing.v1 import AppTest

import engine
from compute import explore
from settings import controls

PAGES = Path(__file__).resolve().parents[2] / "views"
THERMOMETER_X = np.array([35.7, 55.9, 58.2, 81.9, 56.3, 48.9, 33.9, 21.8, 48.4, 60.4, 68.4])


def open_page(name: str, **query) -> AppTest:
    """One page script run on its own (no router, no warm-up) with these URL query values."""
    at = AppTest.from_file(str(PAGES / name), default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = str(value)
    return at.run()


def charts_of(at: AppTest, count: int) -> list[dict]:
    assert_no_exception(at)
    assert not at.error, [e.value for e in at.error]
    assert len(at.get("plotly_chart")) == count
    return [chart_spec(at, i) for i in range(count)]


def player_of(at: AppTest) -> dict:
    """The race player's payload on a page with no Plotly chart of its own (charts.race_payload)."""
    assert_no_exception(at)
    assert not at.error, [e.value for e in at.error]
    assert len(at.get("plotly_chart")) == 0
    return figure(at)


def link_query(at: AppTest, index: int = 0) -> dict:
    """The playground values a link button on the page opens."""
    url = at.get("link_button")[index].proto.url
    assert url.startswith("./?")  # the playground is the default page, at the root
    values, notes = controls.parse_query(parse_qs(urlsplit(url).query))
    assert not notes, notes
    return values


def _eigenvalues(x: np.ndarray) -> np.ndarray:
    """Ascending eigenvalues of the MSE Hessian (2/n) X'X, X = [x, 1]."""
    big_x = np.column_stack([x, np.ones_like(x)])
    return np.linalg.eigvalsh(2.0 / len(x) * big_x.T @ big_x)


def _condition(x: np.ndarray) -> float:
    lam = _eigenvalues(x)
    return float(lam[-1] / lam[0])


def test_pages_are_registered_under_explore_and_the_router_runs_them():
    source = (PAGES.parent / "app.py").read_text()
    assert '"Learn": [' in source and '"Explore": [' in source
    assert source.index('"Explore"') > source.index("views/playground.py")
    for name in ("explore_lr.py", "race.py", "scaling.py", "batch_noise.py"):
        assert f'"views/{name}"' in source[source.index('"Explore"') :]
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    at.switch_page("views/race.py").run()
    assert_no_exception(at)
    assert at.title[0].value == "Optimizer race"


# ----------------------------------------------------------------------------------------------------------------
# learning rate & momentum
# ----------------------------------------------------------------------------------------------------------------


def test_learning_rate_page_defaults():
    at = open_page("explore_lr.py")
    sweep, measured, theory = charts_of(at, 3)
    final = next(t for t in sweep["data"] if t.get("name") == "final loss")
    lrs = arr(final["x"])
    x = engine.make_dataset("line", n=30, noise=0.5, seed=0).x.double().numpy()[:, 0]
    lmin, lmax = _eigenvalues(x)
    assert lrs.min() == pytest.approx(1e-3 * 2 / lmax, rel=1e-6)  # the sweep starts far below the limit ...
    diverged = next(t for t in sweep["data"] if t.get("name") == "diverged")
    assert arr(diverged["x"]).min() > 2 / lmax  # ... and blows up only past 2 / lambda_max
    assert [t["name"] for spec in (measured, theory) for t in spec["data"] if t["type"] == "heatmap"] == [
        "measured",
        "theory",
    ]
    assert metrics(at)["Condition number λmax/λmin"] == f"{_condition(x):.3g}"
    # the link opens plain SGD at the picked rate in the playground, with this page's data and start
    picked = at.select_slider[0].value
    opened = link_query(at, 0)
    assert opened["lr"] == picked and opened["momentum"] == 0.0 and opened["dataset"] == "line"
    assert (opened["w0"], opened["b0"], opened["epochs"]) == (-1.0, -2.0, 60)
    choices = [float(c) for c in at.select_slider[0].options]
    step = np.log(choices[1] / choices[0])
    assert abs(np.log(picked / (2 / (lmin + lmax)))) <= step  # it starts at the best rate 2 / (lmin + lmax)
    at.select_slider[0].set_value(choices[3]).run()
    assert link_query(at, 0)["lr"] == pytest.approx(choices[3])
    pair = link_query(at, 1)
    assert pair["momentum"] >= 0.0 and pair["lr"] > 0


def test_learning_rate_page_thermometer():
    at = open_page("explore_lr.py", dataset="thermometer")
    sweep, heat, _ = charts_of(at, 3)
    assert metrics(at)["Condition number λmax/λmin"] == f"{_condition(THERMOMETER_X):.3g}"
    stars = [t for t in heat["data"] if str(t.get("name", "")).startswith("best pair")]
    k = _condition(THERMOMETER_X)
    assert arr(stars[0]["y"])[0] == pytest.approx(((np.sqrt(k) - 1) / (np.sqrt(k) + 1)) ** 2, rel=1e-4)
    assert link_query(at, 0)["lr"] < 2 / _eigenvalues(THERMOMETER_X)[-1]  # the rate picked first converges
    pair = link_query(at, 1)
    assert pair["momentum"] == 0.98  # the best momentum 0.978, rounded up to the slider's step
    assert (
        pair["lr"] < (2 + 2 * pair["momentum"]) / _eigenvalues(THERMOMETER_X)[-1]
    )  # the link stays on the stable side


def test_learning_rate_page_explains_data_it_cannot_run_on():
    at = open_page("explore_lr.py", dataset="custom")  # a link to uploaded data, opened in a session without it
    assert_no_exception(at)
    assert at.error and "uploaded data" in at.error[0].value


# ----------------------------------------------------------------------------------------------------------------
# optimizer race
# ----------------------------------------------------------------------------------------------------------------


def test_race_page_defaults_and_tuned():
    at = open_page("race.py")
    player = player_of(at)
    assert 2 <= len(player["times"]) <= 100 and player["title"] == "Optimizer race"
    assert [t["name"].split(" (lr")[0] for t in player["tracks"]] == [r.name for r in engine.RACERS]
    table = at.dataframe[0].value
    assert list(table["optimizer"]) == [r.name for r in engine.RACERS]
    lmax = _eigenvalues(engine.make_dataset("line", n=30).x.double().numpy()[:, 0])[-1]
    assert float(table["learning rate"][0]) == pytest.approx(1 / lmax, rel=1e-2)  # SGD: half the limit
    texts = " ".join(m.value for m in at.markdown)
    # the loss panel plots L, which flattens at L* (not "ten times closer"); at 1/lambda_max SGD does not zig-zag
    assert "ten times closer" not in texts and "extra loss L − L*" in texts and "no zig-zag" in texts
    assert "Adagrad**: s ← s + g², the sum of all squared gradients so far" in texts
    assert "The race plays by itself" in texts and "Press" not in texts
    at.radio(key="race_mode").set_value("tuned").run()
    assert player_of(at)["tracks"] != player["tracks"]  # the names carry the tuned learning rates
    assert list(at.dataframe[0].value["learning rate"]) != list(table["learning rate"])
    assert "Tuned" in at.caption[0].value


def test_race_page_plane_and_many_epochs():
    at = open_page("race.py", dataset="plane", epochs=5000)
    player = player_of(at)
    assert at.info and f"at most {explore.RACE_MAX_STEPS:,} steps" in at.info[0].value
    assert player["surface"]["axes"][0] == "w1" and player["times"][-1] == explore.RACE_MAX_STEPS


# ----------------------------------------------------------------------------------------------------------------
# feature scaling
# ----------------------------------------------------------------------------------------------------------------


def test_scaling_page_explains_tutorial_003():
    at = open_page("scaling.py")
    specs = charts_of(at, 3)  # one picture per version, each in its column above its numbers
    assert [len(spec["layout"]["images"]) for spec in specs] == [1, 1, 1]
    conditions = [m.value for m in at.metric if m.label == "Condition number λmax/λmin"]
    z = (THERMOMETER_X - THERMOMETER_X.mean()) / THERMOMETER_X.std()
    assert conditions == [f"{_condition(v):.3g}" for v in (THERMOMETER_X, 0.1 * THERMOMETER_X, z)]
    texts = " ".join(m.value for m in at.markdown)
    assert "blew up at step" in texts and "it converges" in texts
    assert "compares curvatures, not slopes" in texts and "Centring alone (subtracting the mean) gives κ = 258" in texts
    assert "w = 16.05, b = 51.8" in " ".join(c.value for c in at.caption)  # where the standardized path starts
    steps = [m for m in at.metric if m.label == "Steps to converge at that rate"]
    assert steps[0].value == "> 5,000" and steps[2].value == "1"
    # under the raw one, the estimate from the rate: gradient descent at 2/(λmin+λmax) shrinks the error by
    # (κ-1)/(κ+1) a step, the excess loss by its square, so 1 % of it takes ln(0.01) / (2 ln((κ-1)/(κ+1))) steps
    kappa = _condition(THERMOMETER_X)
    expected = math.log(0.01) / (2 * math.log((kappa - 1) / (kappa + 1)))
    estimate = float(re.fullmatch(r"about ([\d,]+), estimated from the rate", steps[0].delta)[1].replace(",", ""))
    assert estimate == pytest.approx(expected, rel=0.01) and not steps[2].delta


def test_scaling_page_lab_data_and_a_small_rate():
    at = open_page("scaling.py")
    at.selectbox(key="scaling_data").set_value("lab").run()
    at.select_slider(key="scaling_lr").set_value(0.001).run()
    charts_of(at, 3)
    assert "blew up" not in " ".join(m.value for m in at.markdown)


# ----------------------------------------------------------------------------------------------------------------
# mini-batch noise
# ----------------------------------------------------------------------------------------------------------------


def test_noise_page_defaults():
    at = open_page("batch_noise.py")
    player = player_of(at)
    assert [t["name"] for t in player["tracks"]] == ["batch size 1", "batch size 8", "full batch"]
    assert len(player["bands"]) == 2 and player["time_title"] == "epoch"
    assert set(metrics(at)) == {"batch size 1", "batch size 8", "full batch"}
    assert "their residuals there have an RMS of 0.551" in " ".join(m.value for m in at.markdown)


def test_noise_page_exact_data_settles():
    """With noise 0 every point lies on the line: batch size 1 ends near 1e-14 on every seed, and the page says so."""
    at = open_page("batch_noise.py", noise=0, lr=0.05)
    player_of(at)
    assert float(metrics(at)["batch size 1"]) < 1e-12
    texts = " ".join(m.value for m in at.markdown)
    assert "every point lies on the best line" in texts and "do not settle" not in texts


def test_noise_page_thermometer_blows_up_without_a_traceback():
    at = open_page("batch_noise.py", dataset="thermometer", lr=0.1)
    player_of(at)
    assert any("diverged" in c.value for c in at.caption)


def test_noise_page_many_points_is_cut_short():
    at = open_page("batch_noise.py", n=2000, epochs=100)
    player_of(at)
    assert at.info and "Cut to 1 epoch" in at.info[0].value


@pytest.mark.parametrize("view", ["views/explore_lr.py", "views/race.py", "views/batch_noise.py"])
def test_a_corrected_link_quotes_the_url_value_as_text(view):
    """Every page's link notes are escaped, as the playground's are: a URL value is never Markdown on the page."""
    at = open_page(view.removeprefix("views/"), dataset="[click](javascript:alert(1))")
    assert not at.exception
    notes = [w.value for w in at.warning if "Link corrected" in w.value]
    assert notes and all("\\[click\\]\\(javascript" in n for n in notes), notes
