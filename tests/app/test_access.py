"""The optional class password: without secrets the app is open; with one, nothing shows until it is entered."""

from apptest_support import APP
from streamlit.testing.v1 import AppTest


def test_open_without_a_class_password():
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    assert not at.exception and at.get("bidi_component")


def test_class_password_gate():
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.secrets["class_password"] = "tensors"
    at.run()
    assert not at.get("bidi_component") and at.text_input[0].label == "Class password"
    at.text_input[0].input("wrong")
    at.button[0].click().run()
    assert at.error[0].value == "That is not the class password." and not at.get("bidi_component")
    at.text_input[0].input("tensors")
    at.button[0].click().run()
    assert not at.exception and at.get("bidi_component")
