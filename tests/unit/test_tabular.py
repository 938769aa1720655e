"""Reading a learner's CSV: every bad file gets the exact message a student sees; good files read exactly.
Writing a run: CSV and JSON that a spreadsheet cannot execute. References: numpy least squares and the
published Anscombe (y = 3.00 + 0.500 x) and Forbes (pressure = -81.06 + 0.5229 x boiling point) fits."""

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import engine
from ui import tabular

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def read(text: str | bytes) -> tabular.Table:
    return tabular.read_csv(text.encode("utf-8") if isinstance(text, str) else text)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"  \n\n ", "The file is empty."),
        (b"x,y\n", "The file has a header row but no data rows."),
        (b"name,city\nada,london\nalan,wilmslow\n", "No column holds numbers."),
        (b"x,y\x00\x01\x02", "This file is not text"),
        (b"%PDF-1.7 blah", "This file is a PDF document, not a CSV text file."),
    ],
)
def test_bad_files_get_a_plain_message(content, message):
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        tabular.read_csv(content)


def test_excel_renamed_to_csv_is_recognised():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
    with pytest.raises(ValueError, match=r"^This file is an Excel workbook \(\.xlsx\) or another zip file, not a CSV"):
        tabular.read_csv(buf.getvalue())


def test_size_and_row_caps_are_clear_limits():
    with pytest.raises(ValueError, match=r"^The file is 3\.0 MB; the limit is 2 MB\."):
        tabular.read_csv(b"x,y\n" + b"1,2\n" * 750_000)
    rows = "x,y\n" + "1,2\n" * (tabular.MAX_UPLOAD_ROWS + 1)
    with pytest.raises(ValueError, match=r"^The file has 10,001 rows; the limit is 10,000\."):
        read(rows)


def test_text_mixed_into_numbers_is_counted_and_dropped():
    table = read("x,y\n1,2\n2,abc\n3,6\n4,8\n")
    assert table.notes == [
        "Column 'y' has 1 text value(s) among its numbers (first: 'abc' in row 2); those cells count as missing."
    ]
    ds, notes = tabular.to_dataset(table.frame, "y", ["x"])
    assert notes == ["1 row(s) with missing or non-finite values were left out; 3 remain."]
    np.testing.assert_array_equal(ds.x[:, 0].numpy(), [1, 3, 4])


def test_missing_and_non_finite_values_drop_rows_with_a_count():
    table = read("x,y\n1,2\n,4\n3,inf\n4,8\n5,NaN\n6,12\n")
    ds, notes = tabular.to_dataset(table.frame, "y", ["x"])
    assert notes == ["3 row(s) with missing or non-finite values were left out; 3 remain."]
    assert ds.n == 3


def test_fewer_rows_than_parameters():
    table = read("x,y\n1,2\n")
    with pytest.raises(ValueError, match=r"^Only 1 usable row\(s\): fitting 2 parameters needs at least 2\."):
        tabular.to_dataset(table.frame, "y", ["x"])


def test_constant_column_is_reported_in_plain_words():
    table = read("x,y\n3,1\n3,2\n3,4\n")
    _, notes = tabular.to_dataset(table.frame, "y", ["x"])
    assert notes == [
        engine.optimum_problem(engine.dataset_from_arrays([3, 3, 3], [1, 2, 4], feature_names=["x"]), True)
    ]
    assert "same value in every row" in notes[0]


def test_semicolons_and_decimal_commas():
    table = read("x;y\n1,5;3,25\n2,5;5,75\n")
    assert table.notes == ["Columns separated by semicolons, decimal commas."]
    np.testing.assert_allclose(table.frame["x"], [1.5, 2.5])
    np.testing.assert_allclose(table.frame["y"], [3.25, 5.75])


def test_utf8_with_bom_and_latin1():
    bom = read("\ufefftempérature,y\n1,2\n2,4\n".encode("utf-8-sig"))
    assert list(bom.frame.columns) == ["température", "y"] and bom.notes == []
    latin = read("température,y\n1,2\n2,4\n".encode("latin-1"))
    assert list(latin.frame.columns) == ["température", "y"]
    assert latin.notes == ["Read as Latin-1 text (it was not UTF-8)."]


def test_hostile_column_names_stay_plain_text():
    name = "<script>alert('x')</script>"
    table = read(f"{name},=SUM(A1)\n1,2\n2,4\n")
    assert list(table.frame.columns) == [name, "=SUM(A1)"]
    ds, _ = tabular.to_dataset(table.frame, "=SUM(A1)", [name])
    assert ds.feature_names == (name,)


def test_duplicate_column_names_are_renamed_with_a_note():
    table = read("x,x,y\n1,10,2\n2,20,4\n")
    assert list(table.frame.columns) == ["x", "x (2)", "y"]
    assert table.notes == ["Two columns are both called 'x': the second is now 'x (2)'."]


def test_choice_errors():
    frame = read("a,b,c,d\n1,2,3,4\n2,3,4,6\n3,5,7,9\n").frame
    with pytest.raises(ValueError, match="^Choose one or two feature columns."):
        tabular.to_dataset(frame, "d", ["a", "b", "c"])
    with pytest.raises(ValueError, match="^The target cannot also be a feature"):
        tabular.to_dataset(frame, "a", ["a"])


def test_summary_counts_means_and_ranges():
    frame = read("x,y\n1,2\n2,\n3,6\n").frame
    s = tabular.summary(frame).set_index("column")
    assert s.loc["y", "count"] == 2 and s.loc["y", "missing or not finite"] == 1
    assert s.loc["x", "mean"] == 2.0 and s.loc["y", "max"] == 6.0


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_anscombe_quartet_has_the_published_line(k):
    table = tabular.read_csv((SAMPLES / "anscombe.csv").read_bytes())
    ds, _ = tabular.to_dataset(table.frame, f"y{k}", [f"x{k}"])
    w, b = engine.least_squares(ds)
    assert round(b, 2) == 3.00 and round(w, 3) == 0.500


def test_forbes_has_the_published_fit():
    table = tabular.read_csv((SAMPLES / "forbes_boiling_point.csv").read_bytes())
    ds, _ = tabular.to_dataset(table.frame, "pressure (inches Hg)", ["boiling point (°F)"])
    w, b = engine.least_squares(ds)
    assert round(b, 2) == -81.06 and round(w, 4) == 0.5229


def test_thermometer_sample_is_tutorial_003():
    table = tabular.read_csv((SAMPLES / "thermometer.csv").read_bytes())
    ds, _ = tabular.to_dataset(table.frame, "temperature (°C)", ["reading (unknown units)"])
    ref = engine.make_dataset("thermometer")
    np.testing.assert_array_equal(ds.x.numpy(), ref.x.numpy())
    np.testing.assert_array_equal(ds.y.numpy(), ref.y.numpy())


def test_history_csv_has_every_step_and_escapes_formulas():
    ds = engine.dataset_from_arrays([1, 2, 3], [2, 4, 6], feature_names=["=cmd|' /C calc'!A0"])
    h = engine.train(ds, engine.TrainConfig(lr=0.05, epochs=7))
    frame = pd.read_csv(io.StringIO(tabular.history_csv(h)))
    assert list(frame.columns) == ["step", "epoch", "loss", "w", "b"]
    assert len(frame) == 8
    np.testing.assert_allclose(frame["w"], h.params[:, 0])
    np.testing.assert_allclose(frame["loss"], h.loss)


def test_escape_cell_only_touches_text():
    assert tabular.escape_cell("=1+1") == "'=1+1"
    assert (
        tabular.escape_cell("+x") == "'+x" and tabular.escape_cell("@a") == "'@a" and tabular.escape_cell("-a") == "'-a"
    )
    assert tabular.escape_cell(-1.5) == -1.5 and tabular.escape_cell("x") == "x"


def test_model_json_has_parameters_in_original_units():
    raw = engine.make_dataset("thermometer")
    ds = engine.scale_inputs(raw, "multiply", factor=0.1)
    cfg = engine.TrainConfig(method="analytic", lr=1e-2, epochs=5000, init=(1.0, 0.0))
    h = engine.train(ds, cfg)
    out = json.loads(tabular.model_json(ds, cfg, h))
    w, b = engine.least_squares(raw)
    assert out["parameters_in_original_units"]["w"] == pytest.approx(w, rel=1e-3)
    assert out["parameters_in_original_units"]["b"] == pytest.approx(b, rel=1e-3)
    assert out["config"]["method"] == "analytic" and out["steps"] == 5000
