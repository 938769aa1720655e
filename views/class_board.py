"""The class board (teacher): the runs a class shared, refreshed every few seconds, next to the theory.

Opened with the teacher's link (class code and secret teacher key, made on the Lesson link page); without the key,
or with a wrong one, the same plain "not allowed" and nothing else. Nicknames are students' text: they appear only in
tables (st.dataframe draws text, never HTML) and in the figure's hover labels (escaped by charts/board.py).
"""

import streamlit as st

import board
from board.export import runs_to_csv
from charts.board import board_figure
from compute import classboard
from settings import lesson
from ui import explain

REFRESH_S = 5
CONFIRM = "board_confirm_clear"
DONE = "board_cleared"
COUNT_HELP = {"converged": "Runs whose loss came 99 % of the way down, those that met the challenge included"}

st.title("Class board")
code = st.query_params.get(lesson.CLASS_PARAM, "")
key = st.query_params.get(lesson.KEY_PARAM, "")
base = st.context.url.split("?")[0].rsplit("/", 1)[0] if st.context.url else ""

try:
    classboard.read(code, key)  # the key opens the page, or nothing shows but "not allowed"
except board.Unavailable as err:
    st.warning(str(err), icon="🔌")  # the fragment below tries again every few seconds
except board.BoardError:
    st.error(str(board.NotAllowed()), icon="🔒")
    st.caption("Make a class on the **Lesson link** page: it gives you this board's link. Boards last a day.")
    st.stop()


def clear_board() -> None:
    try:
        st.session_state[DONE] = f"Cleared: {classboard.clear(code, key)} runs deleted."
    except board.BoardError as err:
        st.session_state[DONE] = str(err)
    st.session_state.pop(CONFIRM, None)


@st.fragment(run_every=REFRESH_S)
def live() -> None:
    """Everything that follows the database: read again every REFRESH_S seconds."""
    try:
        found = classboard.read(code, key)
    except board.Unavailable as err:
        st.warning(f"{err} (trying again every {REFRESH_S} s)", icon="🔌")
        return
    except board.BoardError:  # cleared by age while open
        st.error(str(board.NotAllowed()), icon="🔒")
        return
    fixed = classboard.lesson_of(found.lesson_query)
    students = f"{base}/?{classboard.students_query(found.lesson_query, found.code)}"
    st.markdown(f"Class **{found.code}**: the students' link (the teacher's link is the address of this page)")
    st.code(students, language=None, wrap_lines=True)
    row = st.container(horizontal=True, gap="small")  # wraps: two to a row on a phone, not four stacked
    for label, value in classboard.counts(found.runs, fixed.has_challenge).items():
        row.metric(label.capitalize(), value, border=True, width=160, help=COUNT_HELP.get(label))

    stab, why = classboard.lesson_stability(found.lesson_query)
    st.plotly_chart(board_figure(classboard.points(found.runs), stab), width="stretch", key="board_chart")
    if stab is not None:
        st.caption(
            f"Each mark is a shared run. The dashed line is theory's stability limit for plain gradient descent "
            f"with momentum on the lesson's data, (2 + 2·momentum)/λmax (λmax = {explain.num(stab.eigenvalues[-1], 3)}"
            f"): runs to its right blow up. The star is the best pair. Adam, RMSprop, Adagrad, mini-batches and "
            f"Nesterov follow other rules."
        )
    else:
        st.caption(why)
    if not found.runs:
        st.info("No runs yet. When students share a run from the playground, it appears here within a few seconds.")
        return

    ranked = classboard.by_result(found.runs)
    leaders = classboard.leaders(found.runs, fixed.has_challenge)
    if fixed.has_challenge:
        within = f" within {fixed.goal_epochs} epochs" if fixed.goal_epochs else ""
        st.subheader(f"Challenge: a loss below {fixed.goal_loss:g}{within}")
    else:
        st.subheader("Fastest to converge")
    if leaders:
        st.dataframe(
            [{"rank": k + 1, **classboard.row(e, base)} for k, e in enumerate(leaders)],
            hide_index=True,
            column_order=("rank", "nickname", "steps to converge", "final loss", "learning rate", "momentum", "open"),
            column_config=_columns(),
            key="board_leaders",
        )
    else:
        st.caption("Nobody yet.")
    st.subheader("Every run, best first")
    st.dataframe(
        [classboard.row(e, base) for e in ranked],
        hide_index=True,
        column_config=_columns(),
        key="board_runs",
    )
    st.download_button(
        "⬇ Download the board (.csv)",
        runs_to_csv(found.runs),  # the same runs as on screen; text cells escaped for spreadsheets
        file_name=f"class-board-{found.code}.csv",
        mime="text/csv",
        key="board_csv",
    )


def _columns() -> dict:
    return {
        "open": st.column_config.LinkColumn("open on the projector", display_text="▶ open"),
        "nickname": st.column_config.TextColumn("nickname"),
        "learning rate": st.column_config.NumberColumn(format="%.4g"),
        "momentum": st.column_config.NumberColumn(format="%.2f"),
        "final loss": st.column_config.NumberColumn(format="%.4g"),
    }


live()

st.divider()
if DONE in st.session_state:
    st.info(st.session_state.pop(DONE), icon="🗑")
if st.session_state.get(CONFIRM):
    st.warning("Delete every run on this board? The class stays open: students can share again.")
    yes, no = st.columns(2)
    yes.button("Yes, clear the board", type="primary", on_click=clear_board, key="board_clear_yes")
    no.button("Cancel", on_click=lambda: st.session_state.pop(CONFIRM, None), key="board_clear_no")
else:
    st.button("🗑 Clear the board…", on_click=lambda: st.session_state.update({CONFIRM: True}), key="board_clear")
