"""The live figure's route (components/live_route.py): what it answers is the page's own payload for the same control
values, a bad query gets a sentence and a 400, a class password is asked for, and `streamlit run app.py` serves it."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
import pytest
from starlette.requests import Request
from streamlit.web.server.app_discovery import discover_asgi_app

import engine
from components import live_route
from compute import cache
from server import access
from settings import controls

ROOT = Path(__file__).resolve().parents[2]
DEFAULTS = controls.defaults()


def get(query: dict, headers: dict | None = None) -> tuple[int, dict]:
    """The endpoint called as Starlette calls it, with a GET request for this query."""
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/" + live_route.PATH,
        "query_string": urlencode(query).encode(),
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
    }
    response = live_route.endpoint(Request(scope))
    return response.status_code, json.loads(response.body)


def unpack(block: dict) -> np.ndarray:
    """A base64 array of the payload (charts.live) as numpy."""
    import base64

    a = np.frombuffer(base64.b64decode(block["bdata"]), dtype=np.dtype(block["dtype"]))
    return a.reshape([int(n) for n in str(block["shape"]).split(",")]) if "shape" in block else a


@pytest.mark.parametrize("noise", [0.0, 0.7, 5.0])
def test_it_answers_the_pages_own_payload_and_its_run_is_engine_trains(noise):
    values = DEFAULTS | {"noise": noise}
    status, body = get(controls.to_query(values))
    assert status == 200
    assert body == json.loads(json.dumps(cache.live_figure(values, {})))  # the page's, byte for byte in JSON
    assert body["own"]["noise"] == noise and body["query"]["noise"] == controls.to_query(values)["noise"]
    assert noise in body["noise"] and body["noise"][0] == 0.0 and body["noise"][-1] == 5.0
    ds = engine.make_dataset("line", n=30, noise=noise, seed=0)
    np.testing.assert_allclose(unpack(body["data"]["y"]), ds.y.numpy().ravel(), rtol=1e-6)
    h = engine.train(ds, engine.TrainConfig(lr=0.1, momentum=0.8, epochs=60, init=(-1.0, -2.0)))
    own = unpack(body["own"]["params"])[0]  # the page's run: (1, frames, parameters)
    np.testing.assert_allclose(own, h.params, rtol=1e-5, atol=1e-6)


def test_a_diverging_run_is_answered_in_strict_json():
    status, body = get(controls.to_query(DEFAULTS | {"lr": 5.0, "noise": 1.0}))
    assert status == 200 and "diverges" in body["own"]["label"]


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ({"noise": "abc"}, "Noise level: 'abc' is not a number"),
        ({"noise": "9"}, "Noise level: 9 is outside 0 to 5"),
        ({"dataset": "custom"}, "your own data stays in your session"),
        ({"dataset": "single-point", "scaling": "standardize"}, "standard"),  # the engine's own reason
    ],
)
def test_a_bad_query_gets_a_sentence_and_400(query, words):
    status, body = get(query)
    assert status == 400 and words.lower() in body["error"].lower()


def test_a_class_password_is_asked_for_as_the_pages_token(monkeypatch):
    assert live_route.token() is None  # no password: no token needed
    assert get({})[0] == 200
    monkeypatch.setattr(access, "class_password", lambda: "maple")
    token = live_route.token()
    assert token and "maple" not in token
    assert get({}) == (403, {"error": "Enter the class password on the page first."})
    assert get({}, {live_route.TOKEN_HEADER: "x" * len(token)})[0] == 403
    assert get({}, {live_route.TOKEN_HEADER: token})[0] == 200
    monkeypatch.setattr(access, "class_password", lambda: "oak")
    assert get({}, {live_route.TOKEN_HEADER: token})[0] == 403  # a new password: a new token


def test_the_route_sits_under_the_servers_base_path():
    assert live_route.url_path("") == "/api/live-figure"
    assert live_route.url_path("/class-7b/") == "/class-7b/api/live-figure"


def test_streamlit_run_app_py_serves_it_as_an_st_app():
    found = discover_asgi_app(ROOT / "app.py")
    assert found.is_asgi_app and found.import_string == "app:app"
