"""Lesson links: a teacher sets up a run, chooses what students may touch, adds a challenge, and copies a link; and
creates a class, whose students may share runs onto the teacher's class board."""

import streamlit as st

import board
from compute import classboard
from settings import controls, lesson
from ui import widgets

CLASS = "teacher_class"  # (board.ClassKeys, the lesson query it was made with): the class this session created

values = widgets.init_values()
st.title("Make a lesson link")
st.markdown(
    "Set up the run on the **Playground** (or the **Overfitting** page) first: this page uses the same settings. "
    "Then choose what your students may change, add a challenge if you like, and paste the link into a slide. "
    "Everything lives in the link: no account, nothing stored on the server (unless you create a class board below)."
)
labels = {c.key: c.label for c in controls.CONTROLS}
keys = list(labels)
current = widgets.current_lesson()
hidden = st.multiselect(
    "Hide these controls",
    keys,
    default=sorted(current.hidden),
    format_func=labels.get,
    help="Students do not see them; the link's values apply.",
)
locked = st.multiselect(
    "Show but lock these controls",
    [k for k in keys if k not in hidden],
    default=sorted(current.locked - set(hidden)),
    format_func=labels.get,
    help="Students see the value but cannot change it.",
)
page = st.radio(
    "The link opens",
    list(lesson.LESSON_PAGES),
    format_func=lesson.LESSON_PAGES.get,
    horizontal=True,
    help="The Overfitting page uses the same settings, and its own: degree, powers of x, L1, the points' curve.",
)
goal_loss = goal_epochs = None
if page:  # a challenge is announced and checked on the playground only
    challenge = False
    st.caption("A challenge is checked on the Playground: a link to another page carries none.")
else:
    challenge = st.toggle("Add a challenge", value=current.has_challenge)
if challenge:
    cols = st.columns(2)
    goal_loss = cols[0].number_input("Reach a loss below", min_value=1e-12, value=current.goal_loss or 0.5, format="%g")
    goal_epochs = (
        int(
            cols[1].number_input(
                "within this many epochs (0: no limit)",
                min_value=0,
                max_value=5000,
                value=current.goal_epochs or 50,
                step=1,
            )
        )
        or None
    )
made = lesson.Lesson(frozenset(hidden), frozenset(locked), goal_loss, goal_epochs)
base = st.context.url.split("?")[0].rsplit("/", 1)[0] if st.context.url else "http://localhost:8501"
url = lesson.lesson_url(base, values, made, page)
st.markdown("**The link** (copy it with the button at the top right of the box):")
st.code(url, language=None, wrap_lines=True)
st.link_button("Open it as a student would", url)
st.caption("Students can still edit a link by hand: hiding and locking guide a class, they are not security.")

st.header("A class board")
st.markdown(
    "Create a class and your students can **share their runs** from the playground (a nickname, the settings, the "
    "result). Your board shows every run as it comes in, on the learning-rate × momentum plane next to the theory. "
    "The students' link carries a short class code; the board's link carries a secret teacher key. A board lasts a "
    "day."
)
query = lesson.lesson_query(values, made)
if st.button("Create a class", type="primary", key="create_class"):
    try:
        st.session_state[CLASS] = (classboard.create_class(query), query)
    except board.BoardError as err:  # the database does not answer, or refused
        st.warning(str(err), icon="🔌")
if CLASS in st.session_state:
    made_class, made_query = st.session_state[CLASS]
    st.markdown(f"**Class {made_class.code}: the students' link** (with the share button)")
    st.code(f"{base}/?{classboard.students_query(made_query, made_class.code)}", language=None, wrap_lines=True)
    board_link = lesson.board_url(base, made_class.code, made_class.teacher_key)
    st.markdown("**Your class board's link**")
    st.warning(
        "Keep this link private: anyone who has it can see the class's runs, clear them and download them. Do not "
        "put it on a slide or in the students' chat.",
        icon="🔒",
    )
    st.code(board_link, language=None, wrap_lines=True)
    st.link_button("Open the class board", board_link)
    if made_query != query:
        st.caption(
            "You changed the settings since you created this class: its links keep the old ones. Create a new "
            "class for the new settings."
        )
