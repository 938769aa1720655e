"""The "Your data" page in a real browser: a CSV uploaded through the file picker, trained on in the playground and
downloaded again as every step of the run; and hostile files, which must get a plain message and never run code.

The numbers are checked against numpy on the generated file: least squares, the least-squares loss, and gradient
descent with torch.optim.SGD's momentum written out (v = beta v + g; p -= lr v) for the downloaded steps.
"""

from __future__ import annotations

import csv
import io
import re
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Page, expect

from settings.controls import LR_GRID

from .helpers import close_page_not_found, guarded_page, shot, wait_idle

CHART = '[data-testid="stBidiComponentRegular"] .lf-data'  # the live figure's data panel
VIEWPORT = {"width": 1400, "height": 1700}
FIT_TEXT = re.compile(r"^\d+ rows\. Least-squares fit: ")
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(autouse=True)
def _no_exceptions(page: Page) -> Iterator[list[str]]:
    """Every test: a tall viewport; no st.exception box, no uncaught browser error and no dialog (alert) at the end."""
    with guarded_page(page, VIEWPORT, no_dialogs=True) as dialogs:
        yield dialogs


def _open_upload(page: Page, base: str) -> None:
    page.goto(f"{base}/your-data")
    expect(page.get_by_role("heading", name="Your data")).to_be_visible()
    expect(page.get_by_text(FIT_TEXT)).to_be_visible()  # the first sample is read and fitted
    wait_idle(page)
    close_page_not_found(page)  # when this is the server's first session (see test_lab.py)
    page.get_by_test_id("stRadio").get_by_text("Upload a CSV file", exact=True).click()
    expect(page.get_by_test_id("stFileUploader")).to_be_visible()
    wait_idle(page)


def _fit_numbers(page: Page) -> dict[str, float]:
    text = page.get_by_text(FIT_TEXT).inner_text()
    return {k: float(v) for k, v in re.findall(r"\b(w|b) = (\S+?),", text)}


def _settled_fit_numbers(page: Page, w: float, timeout_s: float = 15.0) -> dict[str, float]:
    """The fit numbers once the rerun of a column choice has reached the page: the multiselect shows the new column
    at once, in the browser, and the app can still report idle for a moment before the rerun starts."""
    deadline = time.monotonic() + timeout_s
    shown = _fit_numbers(page)
    while shown.get("w") != pytest.approx(w, rel=6e-4) and time.monotonic() < deadline:
        page.wait_for_timeout(200)
        wait_idle(page)
        shown = _fit_numbers(page)
    return shown


def _alert(page: Page, text: str):
    return page.get_by_test_id("stAlert").filter(has_text=text)


def _choose(page: Page, label: str, option: str) -> None:
    """Pick an option of the st.selectbox with this label."""
    box = page.get_by_test_id("stSelectbox").filter(has=page.get_by_text(label, exact=True))
    box.get_by_role("combobox").click()
    page.get_by_role("option", name=option, exact=True).click()


def test_an_uploaded_csv_trains_in_the_playground_and_downloads(page: Page, app_server: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    hours = np.round(rng.uniform(0.5, 6.0, 24), 2)
    score = np.round(48.0 + 6.5 * hours + rng.normal(0.0, 3.0, 24), 2)
    student = np.arange(1, 25)
    upload = tmp_path / "study.csv"
    upload.write_text(
        "hours,score,student\n" + "".join(f"{h},{s},{i}\n" for h, s, i in zip(hours, score, student, strict=True))
    )
    design = np.c_[hours, np.ones_like(hours)]
    (w, b), *_ = np.linalg.lstsq(design, score, rcond=None)
    mse = float(np.mean((design @ [w, b] - score) ** 2))
    limit = 2.0 / np.linalg.eigvalsh(2.0 / len(score) * design.T @ design)[-1]
    lr = max(v for v in LR_GRID if v <= 0.9 * limit)

    _open_upload(page, app_server)
    page.locator("input[type=file]").set_input_files(upload)
    expect(page.get_by_test_id("stFileUploader").get_by_text("study.csv", exact=True)).to_be_visible()
    expect(page.get_by_text("24 rows. Least-squares fit:")).to_be_visible()
    wait_idle(page)
    # the page's guess is the last column against the first other one: choose score against hours instead
    _choose(page, "Column to predict (y)", "score")
    # .first: while the rerun replaces the widget, the old and the new chip can both be in the page for a moment
    chosen = page.get_by_test_id("stMultiSelect").get_by_role("group", name="Selected values")
    expect(chosen.get_by_text("hours", exact=True).first).to_be_visible()
    wait_idle(page)
    shown = _settled_fit_numbers(page, w)
    assert shown["w"] == pytest.approx(w, rel=6e-4) and shown["b"] == pytest.approx(b, rel=6e-4), shown
    shot(page, "your_data_uploaded")

    page.get_by_role("button", name="Train on this data").click()
    expect(page.get_by_text("now use “uploaded table” (24 rows) in this session")).to_be_visible()
    wait_idle(page)
    page.get_by_role("link", name=re.compile("Open the playground")).click()

    chart = page.locator(CHART)
    expect(chart.locator(".pn-svg").first).to_be_visible()
    best = page.get_by_test_id("stMetric").filter(has_text="Best possible loss").get_by_test_id("stMetricValue")
    expect(best).to_have_text(f"{mse:.4g}")
    wait_idle(page)
    expect(page).to_have_url(re.compile(r"[?&]dataset=custom(&|$)"))
    expect(page.get_by_test_id("stSliderThumbValue").first).to_have_text(f"{lr:g}")
    expect(page.get_by_test_id("stAlert").filter(has_text="diverged")).to_have_count(0)
    expect(chart.locator(".pn-xtitle").filter(has_text="hours").first).to_be_attached()
    steps = page.get_by_test_id("stMetric").filter(has_text="Steps").get_by_test_id("stMetricValue")
    expect(steps).to_have_text("60")
    final_loss = page.get_by_test_id("stMetric").filter(has_text="Final loss").get_by_test_id("stMetricValue")
    shown_final = float(final_loss.inner_text())
    shot(page, "playground_custom_data")

    with page.expect_download() as info:
        page.get_by_role("button", name="⬇ Every step (.csv)").click()
    download = info.value
    assert download.suggested_filename == "run_steps.csv"
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text())))
    assert rows[0] == ["step", "epoch", "loss", "w", "b"]
    table = np.array(rows[1:], dtype=float)
    assert table.shape == (61, 5)  # the start and 60 full-batch steps
    np.testing.assert_array_equal(table[:, 0], np.arange(61))

    p, v, path = np.array([-1.0, -2.0]), np.zeros(2), []
    for _ in range(61):
        path.append(p)
        v = 0.8 * v + 2.0 / len(score) * design.T @ (design @ p - score)
        p = p - lr * v
    path = np.array(path)
    np.testing.assert_allclose(table[:, 3:], path, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(table[:, 2], np.mean((design @ path.T - score[:, None]) ** 2, axis=0), rtol=1e-4)
    assert table[-1, 2] == pytest.approx(shown_final, rel=6e-4)


def test_hostile_files_get_a_plain_message_and_run_nothing(page: Page, app_server: str, tmp_path: Path) -> None:
    workbook = tmp_path / "grades.csv"  # an Excel workbook (a zip) renamed .csv
    with zipfile.ZipFile(workbook, "w") as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        z.writestr("xl/workbook.xml", "<workbook/>")
    script = tmp_path / "script.csv"
    script.write_text(f"{HOSTILE},y\n1,2\n2,4.5\n3,5.5\n4,8\n")

    _open_upload(page, app_server)
    page.locator("input[type=file]").set_input_files(workbook)
    message = (
        "This file is an Excel workbook (.xlsx) or another zip file, not a CSV text file. Open it in a spreadsheet "
        "and save it as CSV (File → Save as → CSV)."
    )
    expect(_alert(page, message)).to_be_visible()
    wait_idle(page)
    expect(page.get_by_test_id("stDataFrame")).to_have_count(0)
    expect(page.get_by_role("button", name="Train on this data")).to_have_count(0)
    shot(page, "your_data_hostile")

    page.locator("input[type=file]").set_input_files(script)
    expect(page.get_by_test_id("stFileUploader").get_by_text("script.csv", exact=True)).to_be_visible()
    expect(page.get_by_text("4 rows. Least-squares fit:")).to_be_visible()
    wait_idle(page)
    expect(_alert(page, "Excel workbook")).to_have_count(0)
    # the column name is shown as typed (in the column picker and the summary table), never made into an element
    expect(page.get_by_test_id("stMultiSelect").get_by_text(HOSTILE, exact=True).first).to_be_visible()
    expect(page.get_by_test_id("stDataFrame").locator("td").filter(has_text=HOSTILE).first).to_be_attached()
    assert (
        page.evaluate("() => Array.from(document.scripts).filter(s => s.textContent.includes('alert(1)')).length") == 0
    )
    shot(page, "your_data_hostile_header")

    # and where the name becomes an axis title: the playground's chart
    page.get_by_role("button", name="Train on this data").click()
    expect(page.get_by_text("now use “uploaded table” (4 rows) in this session")).to_be_visible()
    wait_idle(page)
    page.get_by_role("link", name=re.compile("Open the playground")).click()
    chart = page.locator(CHART)
    expect(chart.locator(".pn-svg").first).to_be_visible()
    wait_idle(page)
    page.wait_for_timeout(500)
    assert (
        page.evaluate("() => Array.from(document.scripts).filter(s => s.textContent.includes('alert(1)')).length") == 0
    )
    titles = chart.locator(".pn-xtitle").all_text_contents()
    assert HOSTILE in titles, f"the column name is not shown as typed on the chart's x axis: {titles}"
    shot(page, "playground_hostile_header")
