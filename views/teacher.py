"""Lesson links: a teacher sets up a run, chooses what students may touch, adds a challenge, and copies a link."""

import streamlit as st

from settings import controls, lesson
from ui import widgets

values = widgets.init_values()
st.title("Make a lesson link")
st.markdown(
    "Set up the run on the **Playground** first (this page uses the same settings). Then choose what your "
    "students may change, add a challenge if you like, and paste the link into a slide. Everything lives in the "
    "link: no account, nothing stored on the server."
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
challenge = st.toggle("Add a challenge", value=current.has_challenge)
goal_loss = goal_epochs = None
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
url = lesson.lesson_url(base, values, made)
st.markdown("**The link** (copy it with the button at the top right of the box):")
st.code(url, language=None, wrap_lines=True)
st.link_button("Open it as a student would", url)
st.caption("Students can still edit a link by hand: hiding and locking guide a class, they are not security.")
