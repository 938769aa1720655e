"""The "Your data" page through Streamlit's AppTest: the samples, a pasted table, an uploaded file, hostile input,
and the hand-over to the playground and the lab.

The page's numbers are checked against numpy on the file's own columns (read with pandas, not with the page's
reader): least squares, R², the largest stable learning rate 2 / lambda_max of the Hessian (2/n) X'X, the
least-squares loss the playground reports, and the lab's first update.
"""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from apptest_support import arr, assert_no_exception, figure, metrics, open_app, open_page

from settings.controls import LR_GRID

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
PAGE = "views/your_data.py"
# (label in the Sample box, file, default target, default features)
SAMPLE_CASES = [
    ("Anscombe's quartet (four sets, one line)", "anscombe.csv", "y1", ["x1"]),
    (
        "Forbes 1857: boiling point and pressure",
        "forbes_boiling_point.csv",
        "pressure (inches Hg)",
        ["boiling point (°F)"],
    ),
    ("Thermometer readings (tutorial 003)", "thermometer.csv", "temperature (°C)", ["reading (unknown units)"]),
]
NO_UPLOAD = (
    "This run cannot start: This link uses uploaded data, which stays in the browser session that uploaded it. "
    "Open “Your data” to upload a table (or pick a sample), or choose a built-in dataset."
)
FIT_TEXT = re.compile(
    r"^(\d+) rows\. Least-squares fit: (.+), R² = (\S+)\. Largest stable learning rate for plain gradient descent: "
    r"\*\*(\S+)\*\*"
)


# ----------------------------------------------------------------------------------------------------
# numpy references
# ----------------------------------------------------------------------------------------------------


def _design(x):
    return np.hstack([x, np.ones((len(x), 1))])


def _lstsq(x, y) -> tuple[np.ndarray, float, float, float]:
    """(parameters, MSE, R², largest stable lr of plain gradient descent) of y ~ x with a bias."""
    big_x = _design(x)
    params = np.linalg.lstsq(big_x, y, rcond=None)[0]
    residual = big_x @ params - y
    mse = float(np.mean(residual**2))
    r2 = 1.0 - float(np.sum(residual**2)) / float(np.sum((y - y.mean()) ** 2))
    limit = 2.0 / np.linalg.eigvalsh(2.0 / len(y) * big_x.T @ big_x)[-1]
    return params, mse, r2, float(limit)


def _columns(frame: pd.DataFrame, target: str, features: list[str]) -> tuple[np.ndarray, np.ndarray]:
    return frame[features].to_numpy(dtype=np.float64), frame[target].to_numpy(dtype=np.float64)


# ----------------------------------------------------------------------------------------------------
# reading the page
# ----------------------------------------------------------------------------------------------------


def _page():
    at = open_page(PAGE)
    assert_no_exception(at)
    return at


def _paste(text: str):
    at = _page()
    [source] = [r for r in at.radio if r.label == "Where is the data?"]
    source.set_value("Paste a table").run()
    [area] = at.text_area
    area.input(text).run()
    assert_no_exception(at)
    return at


def _upload(name: str, content: bytes, mime: str = "text/csv"):
    at = _page()
    [source] = [r for r in at.radio if r.label == "Where is the data?"]
    source.set_value("Upload a CSV file").run()
    [uploader] = at.file_uploader
    assert uploader.label == "CSV file (a header row, then one row per observation)"
    uploader.set_value((name, content, mime)).run()
    assert_no_exception(at)
    return at


def _fit_shown(at) -> tuple[int, dict[str, float], float, float]:
    """The least-squares sentence: rows, parameters by name, R², largest stable learning rate."""
    [match] = [FIT_TEXT.match(m.value) for m in at.markdown if FIT_TEXT.match(m.value)]
    rows, params, r2, limit = match.groups()
    named = {k: float(v) for k, v in re.findall(r"(\w+) = (\S+?)(?:,|$)", params)}
    return int(rows), named, float(r2), float(limit)


def _check_fit(at, x, y) -> None:
    params, _, r2, limit = _lstsq(x, y)
    rows, shown, shown_r2, shown_limit = _fit_shown(at)
    assert rows == len(y)
    names = ["w"] if x.shape[1] == 1 else ["w1", "w2"]
    assert list(shown) == [*names, "b"]
    np.testing.assert_allclose(list(shown.values()), params, rtol=6e-4, atol=1e-9)  # 4 significant digits
    assert shown_r2 == pytest.approx(r2, rel=6e-3)  # 3 significant digits
    assert shown_limit == pytest.approx(limit, rel=6e-3)


def _preview_and_summary(at):
    preview = next(d.value for d in at.dataframe if "column" not in d.value.columns)
    summary = next(d.value for d in at.dataframe if "column" in d.value.columns)
    return preview, summary


def _train(at):
    [button] = [b for b in at.button if b.label == "Train on this data"]
    assert not button.disabled
    button.click().run()
    assert_no_exception(at)
    [button] = [b for b in at.button if b.label == "Train on this data"]
    assert button.disabled  # this data is in use now
    return at


# ----------------------------------------------------------------------------------------------------
# samples
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("label, file, target, features", SAMPLE_CASES)
def test_a_sample_is_read_summarised_fitted_and_trained_on(label, file, target, features):
    frame = pd.read_csv(SAMPLES / file)
    at = _page()
    [sample] = [s for s in at.selectbox if s.label == "Sample"]
    sample.set_value(label).run()
    assert_no_exception(at)
    assert not at.error and not at.warning

    preview, summary = _preview_and_summary(at)
    pd.testing.assert_frame_equal(preview.reset_index(drop=True), frame.head(50), check_dtype=False)
    assert list(summary["column"]) == list(frame.columns)
    np.testing.assert_array_equal(summary["count"], frame.notna().sum().to_numpy())
    np.testing.assert_allclose(summary["mean"], frame.mean().to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(summary["min"], frame.min().to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(summary["max"], frame.max().to_numpy(), rtol=1e-12)
    assert [s.value for s in at.selectbox if s.label == "Column to predict (y)"] == [target]
    assert [m.value for m in at.multiselect] == [features]

    x, y = _columns(frame, target, features)
    _check_fit(at, x, y)
    _, mse, _, limit = _lstsq(x, y)

    _train(at)
    assert [s.value for s in at.success] == [
        f"The playground, the step-by-step lab and the explorer now use “{label}” ({len(y)} rows) in this session."
    ]
    assert [p.value for p in at.get("page_link")] == ["Open the playground", "Step through it"]
    lr = max(v for v in LR_GRID if v <= 0.9 * limit)  # the ladder's largest rate 10 % under the limit
    assert at.session_state["values"]["dataset"] == "custom"
    assert at.session_state["values"]["lr"] == lr

    at.switch_page("views/playground.py").run()
    assert_no_exception(at)
    assert not at.error, [e.value for e in at.error]
    m = metrics(at)
    assert set(m) == {"Steps", "Final loss", "Best possible loss", "R²"}
    assert m["Steps"] == "60"
    assert m["Best possible loss"] == f"{mse:.4g}"
    assert float(m["Final loss"]) >= float(m["Best possible loss"])
    assert at.query_params["dataset"] == "custom" and at.query_params["lr"] == f"{lr:g}"
    spec = figure(at)
    np.testing.assert_allclose(arr(spec["data"]["x"]), x[:, 0], rtol=1e-6)
    np.testing.assert_allclose(arr(spec["data"]["y"]), y, rtol=1e-6)
    assert spec["features"] == [features[0]] and spec["target"] == target


def test_two_feature_columns_train_a_plane():
    frame = pd.read_csv(SAMPLES / "anscombe.csv")
    at = _page()
    [chosen] = at.multiselect
    chosen.set_value(["x1", "y2"]).run()
    assert_no_exception(at)
    x, y = _columns(frame, "y1", ["x1", "y2"])
    _check_fit(at, x, y)
    _, mse, _, _ = _lstsq(x, y)
    _train(at)
    at.switch_page("views/playground.py").run()
    assert_no_exception(at)
    assert metrics(at)["Best possible loss"] == f"{mse:.4g}"
    assert figure(at)["kind"] == "plane"


def test_the_lab_steps_through_the_sample_as_numpy_does():
    """ "Step through it": the lab's first update on the thermometer sample, against gradient descent in numpy."""
    frame = pd.read_csv(SAMPLES / "thermometer.csv")
    x, y = _columns(frame, "temperature (°C)", ["reading (unknown units)"])
    at = _page()
    [sample] = [s for s in at.selectbox if s.label == "Sample"]
    sample.set_value("Thermometer readings (tutorial 003)").run()
    _train(at)
    lr = at.session_state["values"]["lr"]
    assert lr == 3e-4  # the ladder's largest rate under 90 % of this data's limit, 2 / lambda_max = 3.4e-4
    at.switch_page("views/lab.py").run()  # the "Step through it" link
    assert_no_exception(at)
    assert not at.error
    used = {"dataset": at.selectbox(key="ctl_dataset").value, "lr": at.select_slider(key="ctl_lr").value}
    assert used == {"dataset": "custom", "lr": lr}, "the lab does not use the data and learning rate just chosen"
    assert any(m.value.startswith("**Step 0 of 60**") for m in at.markdown)

    big_x, p = _design(x), np.array([-1.0, -2.0])
    v = 2.0 / len(y) * big_x.T @ (big_x @ p - y)  # the first momentum buffer is the first gradient
    [code] = [c.value for c in at.code if c.value.startswith("Update with lr × ")]
    rows = [re.match(r"^(\w+) ← (\S+) − (\S+) × (\S+) = (\S+)$", line).groups() for line in code.splitlines()[1:]]
    assert [r[0] for r in rows] == ["w", "b"]
    shown = np.array([[float(v) for v in r[1:]] for r in rows])
    np.testing.assert_allclose(shown[:, 1], lr)
    np.testing.assert_allclose(shown[:, [0, 2, 3]], np.c_[p, v, p - lr * v], rtol=6e-4)


# ----------------------------------------------------------------------------------------------------
# pasted and uploaded tables
# ----------------------------------------------------------------------------------------------------


def test_a_pasted_table_with_semicolons_and_decimal_commas():
    at = _paste("hours;score\n1,5;52,5\n2,25;58\n3;64,75\n4,5;71,5\n5;73\n")
    assert not at.error
    assert [i.value for i in at.info] == ["Columns separated by semicolons, decimal commas."]
    x = np.array([[1.5], [2.25], [3.0], [4.5], [5.0]])
    y = np.array([52.5, 58.0, 64.75, 71.5, 73.0])
    preview, summary = _preview_and_summary(at)
    np.testing.assert_allclose(preview[["hours", "score"]].to_numpy(), np.c_[x, y])
    assert list(summary["column"]) == ["hours", "score"]
    _check_fit(at, x, y)


def test_an_uploaded_file_is_read_like_a_pasted_one():
    x = np.linspace(-2.0, 3.0, 12)
    y = 0.5 - 1.5 * x + np.sin(3 * x)  # not on a line: a real fit
    text = "x,y\n" + "".join(f"{float(a)!r},{float(b)!r}\n" for a, b in zip(x, y, strict=True))
    at = _upload("mine.csv", text.encode())
    assert not at.error and not at.info
    _check_fit(at, x[:, None], y)
    _train(at)
    assert at.success[0].value.startswith("The playground, the step-by-step lab and the explorer now use “uploaded")


def test_a_latin1_file_is_read_with_a_note():
    at = _upload("old.csv", "température,durée\n1,2\n2,4.5\n3,5.5\n".encode("latin-1"))
    assert [i.value for i in at.info] == ["Read as Latin-1 text (it was not UTF-8)."]
    _, summary = _preview_and_summary(at)
    assert list(summary["column"]) == ["température", "durée"]
    _check_fit(at, np.array([[1.0], [2.0], [3.0]]), np.array([2.0, 4.5, 5.5]))


def test_the_column_to_predict_may_come_first_in_the_file():
    """A table of "price,size": predict the first column from the second (decimal numbers, as most tables hold)."""
    at = _paste("price,size\n152.5,41.5\n199.0,60.25\n231.75,70.0\n305.5,98.5\n")
    [target] = [s for s in at.selectbox if s.label == "Column to predict (y)"]
    assert target.value == "size"  # the page's guess: the last column
    target.set_value("price").run()
    assert_no_exception(at)
    assert [m.value for m in at.multiselect] == [["size"]]
    assert not at.error, [e.value for e in at.error]
    _check_fit(at, np.array([[41.5], [60.25], [70.0], [98.5]]), np.array([152.5, 199.0, 231.75, 305.5]))
    _train(at)


def test_duplicate_column_names_are_renamed_with_a_note():
    at = _paste("x,x,y\n1,2,3\n2,3,5\n3,5,8\n4,4,9\n")
    assert [i.value for i in at.info] == ["Two columns are both called 'x': the second is now 'x (2)'."]
    _, summary = _preview_and_summary(at)
    assert list(summary["column"]) == ["x", "x (2)", "y"]
    assert [m.options for m in at.multiselect] == [["x", "x (2)"]]
    _check_fit(at, np.array([[1.0], [2.0], [3.0], [4.0]]), np.array([3.0, 5.0, 8.0, 9.0]))


def test_a_script_tag_in_a_column_name_is_plain_text():
    name = "<script>alert(1)</script>"
    at = _paste(f"{name},y\n1,2\n2,4.1\n3,5.9\n")
    assert not at.error
    _, summary = _preview_and_summary(at)
    assert list(summary["column"]) == [name, "y"]  # shown as typed, in a table cell
    assert [m.options for m in at.multiselect] == [[name]]
    assert not at.get("html")
    texts = [*at.markdown, *at.caption, *at.info, *at.warning, *at.error, *at.success]
    assert not [t.value for t in texts if "script" in t.value.lower()]
    assert not [m.value for m in at.markdown if m.proto.allow_html]
    _check_fit(at, np.array([[1.0], [2.0], [3.0]]), np.array([2.0, 4.1, 5.9]))


def _centred_lstsq(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """numpy.linalg.lstsq in float64 on the centred column, mapped back to (w, b) of the raw column."""
    mean = x.mean()
    w, b = np.linalg.lstsq(np.c_[x - mean, np.ones_like(x)], y, rcond=None)[0]
    return np.array([w, b - w * mean])


def test_unix_timestamps_are_called_badly_scaled_with_the_float64_optimum():
    """Seconds since 1970 (1e9 is 2001, 4e9 is 2096): not "all zero" but a condition number far beyond float32
    gradient descent, the fix, and the optimum solved in float64 on the centred column."""
    rng = np.random.default_rng(5)
    seconds = np.sort(rng.integers(1_000_000_000, 4_000_000_000, 30)).astype(np.float64)
    price = 2.5e-9 * seconds + 10.0 + 0.25 * rng.normal(size=30)
    at = _paste("time,price\n" + "".join(f"{int(t)},{float(p)!r}\n" for t, p in zip(seconds, price, strict=True)))
    assert not at.error
    [warning] = [w.value for w in at.warning]
    assert warning.startswith("the inputs are badly scaled: 'time' runs from") and "all zero" not in warning
    x = seconds.astype(np.float32).astype(np.float64)  # the float32 column the playground trains on
    var, trace = float(np.mean((x - x.mean()) ** 2)), float(np.mean(x**2)) + 1.0
    big = (trace + np.sqrt(trace**2 - 4.0 * var)) / 2.0
    kappa = big / (var / big)  # the eigenvalues of [[m2, m1], [m1, 1]] multiply to var and add to m2 + 1
    shown_kappa = float(re.search(r"condition number (\S+), so", warning).group(1))
    assert kappa > 1e18 and shown_kappa == pytest.approx(kappa, rel=0.05)
    assert (
        "standardize the inputs (the playground's Input scaling: standardize), which brings the condition number to 1"
        in warning
    )
    shown = [float(v) for v in re.findall(r"\b[wb] = (\S+?)(?:,|\.$)", warning)]
    np.testing.assert_allclose(shown, _centred_lstsq(x, price.astype(np.float32).astype(np.float64)), rtol=1e-5)
    np.testing.assert_allclose(shown, _centred_lstsq(seconds, price), rtol=1e-4)  # and the file's own numbers
    assert not [m for m in at.markdown if FIT_TEXT.match(m.value)]  # no float32 fit sentence beside it


@pytest.mark.parametrize(
    "column, words",
    [("0,0,0,0,0", "the inputs are all zero"), ("7,7,7,7,7", "the feature 'x' has the same value in every row")],
)
def test_zeros_and_a_constant_column_keep_their_own_words(column, words):
    at = _paste("x,y\n" + "".join(f"{v},{i * 1.5 + 2}\n" for i, v in enumerate(column.split(","))))
    assert not at.error
    [warning] = [w.value for w in at.warning]
    assert warning.startswith(words) and "badly scaled" not in warning


EMPTY = "Choose a file, paste a table, or pick a sample."


@pytest.mark.parametrize(
    "text, message",
    [
        ("", None),
        ("   \n\t\n", None),
        ("a,b\n", "The file has a header row but no data rows."),
        (
            "name,city\nann,paris\nbob,rome\n",
            "No column holds numbers. The playground fits numbers: check the separator and that the first row is a "
            "header.",
        ),
        ("a\n1\n2\n3\n", "A fit needs two numeric columns: one to predict and one to predict it from."),
        ("a,b\n1,2\n", "Only 1 usable row(s): fitting 2 parameters needs at least 2."),
        (
            "a,b\n1,1e20\n2,3\n3,4\n",
            "Values above 1e15 are refused: the loss squares each error, and an error beyond 1.84e19 (soon reached "
            "from such values while training) squares past float32's largest number, 3.4e38. Rescale the column "
            "first (divide it by a power of ten).",
        ),
    ],
)
def test_a_bad_paste_gets_a_plain_message(text, message):
    at = _paste(text)
    if message is None:
        assert [i.value for i in at.info] == [EMPTY] and not at.error
        assert not at.dataframe
    else:
        assert [e.value for e in at.error] == [message]
    assert not [b for b in at.button if b.label == "Train on this data"]


@pytest.mark.parametrize(
    "content, message",
    [
        (
            b"PK\x03\x04\x14\x00\x06\x00" + bytes(200),
            "This file is an Excel workbook (.xlsx) or another zip file, not a CSV text file. Open it in a "
            "spreadsheet and save it as CSV (File → Save as → CSV).",
        ),
        (
            b"\x89PNG\r\n\x1a\n" + bytes(100),
            "This file is a PNG picture, not a CSV text file. Open it in a spreadsheet and save it as CSV "
            "(File → Save as → CSV).",
        ),
        (
            b"a,b\n1,2\x00\x00\n3,4\n",
            "This file is not text (it contains binary bytes). Save your table as a CSV file.",
        ),
        (
            b"a,b\n" + b"1,2\n" * 10_001,
            "The file has 10,001 rows; the limit is 10,000. Upload a sample of the rows.",
        ),
        (
            b"a,b\n" + b"1234567890,1234567890\n" * 100_000,
            "The file is 2.2 MB; the limit is 2 MB. Upload a smaller table (a sample of the rows is enough to learn "
            "from).",
        ),
    ],
)
def test_a_bad_upload_gets_a_plain_message(content, message):
    at = _upload("data.csv", content)
    assert [e.value for e in at.error] == [message]
    assert not at.dataframe


# ----------------------------------------------------------------------------------------------------
# a link to uploaded data in a session that has none
# ----------------------------------------------------------------------------------------------------


def test_a_custom_data_link_in_a_fresh_session_explains_itself():
    at = open_app(dataset="custom")
    assert_no_exception(at)
    assert [e.value for e in at.error] == [NO_UPLOAD]
    assert not at.get("plotly_chart") and not at.metric
    at.switch_page(PAGE).run()  # the way out the message names
    assert_no_exception(at)
    at.switch_page("views/lab.py").run()
    assert_no_exception(at)
    assert [e.value for e in at.error] == [NO_UPLOAD]
