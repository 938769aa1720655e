"""The optional class password: without secrets the app is open; with one, nothing shows until it is entered."""

import hashlib
import hmac

from apptest_support import APP, figure
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
    # the admitted page hands its figure the token the figure's route asks for (tests/unit/test_live_route.py)
    token = figure(at)["fetch"]["token"]
    assert token == hmac.new(b"tensors", b"live-figure-route", hashlib.sha256).hexdigest()
