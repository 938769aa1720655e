"""The class board in Chromium, two browser contexts on one real server: a student shares a run from the playground,
and the teacher's open board shows it within seconds, by itself; 40 runs; a phone's width; and a restarted server
(same data directory) still has the board. Screenshots: class_board_0, _1, _40, _40_phone, _after_restart."""

from __future__ import annotations

import math

import numpy as np
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import create_engine

import board
from compute import classboard, runs
from settings import lesson

from .helpers import close_page_not_found, guarded_page, shot, streamlit_server, wait_idle

LESSON = "dataset=line&lr=0.1&momentum=0.5&epochs=60&goal_loss=0.35&goal_epochs=30"
WIDE = {"width": 1400, "height": 1000}
PHONE = {"width": 412}


def _metric(page: Page, label: str):
    return page.get_by_test_id("stMetric").filter(has_text=label).get_by_test_id("stMetricValue")


def _open_board(page: Page, url: str) -> None:
    page.goto(url)
    close_page_not_found(page)
    expect(page.get_by_test_id("stMetric").first).to_be_visible()
    wait_idle(page)


def _tall_shot(page: Page, name: str, width: int) -> None:
    """A screenshot of the whole board: Streamlit scrolls inside the page, so make the window as tall as the page."""
    page.set_viewport_size({"width": width, "height": 2600})
    page.wait_for_timeout(1500)  # the figure and the tables redraw at the new size
    shot(page, name)
    page.set_viewport_size({"width": width, "height": WIDE["height"]})


def _fill_board(engine, code: str, count: int) -> None:
    """`count` more runs from as many sessions, real runs of the lesson's data over a spread of settings."""
    rng = np.random.default_rng(0)
    fixed = classboard.lesson_of(LESSON)
    base = classboard.lesson_values(LESSON)
    for k in range(count):
        momentum = float(rng.choice([0.0, 0.3, 0.5, 0.8, 0.9]))
        lr = float(f"{10 ** rng.uniform(-2.3, math.log10(3.5)):.2g}")
        values = base | {"lr": lr, "momentum": momentum}
        run = classboard.shared_run(runs.compute(values), values, fixed)
        board.share(engine, code, f"student {k + 2}", run, session_id=f"filler-{k}")


def test_a_shared_run_reaches_the_teachers_board_and_outlives_a_restart(browser: Browser, tmp_path) -> None:
    env = {board.store.DATA_DIR_ENV: str(tmp_path)}
    engine = create_engine(f"sqlite:///{tmp_path / 'board.sqlite'}")
    board.prepare(engine)
    made = board.create_class(engine, LESSON)
    students_url = f"/?{classboard.students_query(LESSON, made.code)}"
    board_path = f"/{lesson.BOARD_PATH}?class={made.code}&key={made.teacher_key}"

    with streamlit_server(env=env) as base:
        teacher_ctx, student_ctx = browser.new_context(), browser.new_context()
        teacher, student = teacher_ctx.new_page(), student_ctx.new_page()
        with guarded_page(teacher, WIDE), guarded_page(student, WIDE):
            _open_board(teacher, base + board_path)
            expect(_metric(teacher, "Shared")).to_have_text("0")
            expect(teacher.get_by_text("No runs yet")).to_be_visible()
            _tall_shot(teacher, "class_board_0", WIDE["width"])

            student.goto(base + students_url)
            close_page_not_found(student)
            nickname = student.get_by_role("textbox", name="Nickname")
            expect(nickname).to_be_visible()
            wait_idle(student)
            nickname.fill("<b>Ada</b>")
            nickname.press("Enter")
            wait_idle(student)
            student.get_by_role("button", name="Share with the class").click()
            expect(student.get_by_text("Shared: your run is on the class board.")).to_be_visible()

            # the teacher does nothing: the board's fragment reads the database again every few seconds
            expect(_metric(teacher, "Shared")).to_have_text("1", timeout=15_000)
            expect(teacher.get_by_text("No runs yet")).to_have_count(0)
            wait_idle(teacher)
            expect(teacher.locator(".legendtext").filter(has_text="(1)").first).to_be_attached()
            _tall_shot(teacher, "class_board_1", WIDE["width"])

            _fill_board(engine, made.code, 39)
            expect(_metric(teacher, "Shared")).to_have_text("40", timeout=15_000)
            wait_idle(teacher)
            _tall_shot(teacher, "class_board_40", WIDE["width"])
            _tall_shot(teacher, "class_board_40_phone", PHONE["width"])
            assert "<b>Ada</b>" not in teacher.inner_html("body").replace("&lt;b&gt;Ada&lt;/b&gt;", "")
        teacher_ctx.close()
        student_ctx.close()

    with streamlit_server(env=env) as base:  # a new server process on the same data directory
        page = browser.new_page()
        with guarded_page(page, WIDE):
            _open_board(page, base + board_path)
            expect(_metric(page, "Shared")).to_have_text("40")
            shot(page, "class_board_after_restart")
            page.goto(base + f"/{lesson.BOARD_PATH}?class={made.code}&key=wrong")
            close_page_not_found(page)
            expect(page.get_by_text(str(board.NotAllowed()))).to_be_visible()
            expect(page.get_by_test_id("stMetric")).to_have_count(0)
        page.close()
