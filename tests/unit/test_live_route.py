"""The figures' routes (components/live_route.py): what each answers is the page's own payload for the same control
values (the playground's live figure, the Overfitting page's fit player), a bad query gets a sentence and a 400, a
class password is asked for, and `streamlit run app.py` serves them."""

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
from compute import cache, overfit
from server import access
from settings import controls

ROOT = Path(__file__).resolve().parents[2]
DEFAULTS = controls.defaults()


def get(query: dict, headers: dict | None = None, endpoint=live_route.endpoint) -> tuple[int, dict]:
    """An endpoint called as Starlette calls it, with a GET request for this query."""
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/" + live_route.PATH,
        "query_string": urlencode(query).encode(),
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
    }
    response = endpoint(Request(scope))
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


@pytest.mark.parametrize(
    ("endpoint", "values"),
    [
        (live_route.endpoint, DEFAULTS | {"noise": 1.7}),
        (live_route.fit_endpoint, DEFAULTS | {"test_fraction": 0.25, "degree": 5, "noise": 0.9}),
    ],
)
def test_a_run_drawn_now_is_answered_in_part_and_the_rest_is_the_wholes(endpoint, values):
    """Asked for now (the figure draws it at once), a payload comes without its ladders' steps; the figure then asks
    for the whole, which is the ordinary answer. Together the part and the steps left out are that whole."""
    query = controls.to_query(values)
    whole = get(query, endpoint=endpoint)[1]
    status, part = get(query, {"X-Playground-Now": "1"}, endpoint=endpoint)
    assert status == 200 and part.pop("partial") is True
    assert part.keys() == whole.keys() and part["ladders"].keys() == whole["ladders"].keys() == set(part["ladders"])
    assert {k: v for k, v in part.items() if k != "ladders"} == {k: v for k, v in whole.items() if k != "ladders"}
    for key, ladder in whole["ladders"].items():
        later = {k for k in ladder if k in live_route.LATER}
        assert later and "params" in later and ladder.keys() - later == part["ladders"][key].keys()
        assert part["ladders"][key] == {k: v for k, v in ladder.items() if k not in later}
        assert "loss" in part["ladders"][key] and "labels" in part["ladders"][key]  # the sliders and loss axis
    assert len(json.dumps(part)) < 0.45 * len(json.dumps(whole))


def _close_payloads(part: dict, whole: dict) -> None:
    """The same payload, but for the page's run's steps (and so its place on the ladders) to float32 rounding."""
    steps = ("params", "loss", "grad", "mom", "test")
    assert {k: v for k, v in part.items() if k not in ("own", "ladders")} == {
        k: v for k, v in whole.items() if k not in ("own", "ladders")
    }
    for block, theirs in [(part["own"], whole["own"]), *((part["ladders"][k], v) for k, v in whole["ladders"].items())]:
        assert {k: v for k, v in block.items() if k not in steps} == {k: v for k, v in theirs.items() if k not in steps}
        for name in {k for k in steps if block.get(k)}:
            np.testing.assert_allclose(unpack(block[name]), unpack(theirs[name]), rtol=1e-5, atol=1e-5)


def test_a_new_run_drawn_now_comes_from_its_ladders_and_once_cached_from_the_whole():
    """Not computed yet, a run the figure draws now is answered from its ladders alone (compute/live.first: its own
    run is its learning-rate ladder's, engine.train's path to float32 rounding) and nothing is cached; the whole asked
    for next is the page's payload; then the same run drawn now is the whole's first part exactly."""
    values = DEFAULTS | {"noise": 2.3, "seed": 11}
    query, now = controls.to_query(values), {"X-Playground-Now": "1"}
    cache.RUNS.clear()
    status, part = get(query, now)
    assert status == 200 and part["partial"] is True and len(cache.RUNS) == 0
    whole = get(query)[1]
    assert whole == json.loads(json.dumps(cache.live_figure(values, {})))
    _close_payloads(part, live_route.first_part(whole))
    assert part["own"]["params"] != whole["own"]["params"]  # not trained: the ladder's (gd_sweep's) rounding
    again = get(query, now)[1]
    assert again == json.loads(json.dumps(live_route.first_part(whole)))


def test_a_new_run_the_fit_player_draws_now_comes_from_its_families():
    """The same for the Overfitting page's player (compute/overfit.player_first: its own run the degree sweep's)."""
    values = DEFAULTS | {"noise": 0.61, "degree": 5}
    query, now = controls.to_query(values), {"X-Playground-Now": "1"}
    overfit.CACHE.clear()
    status, part = get(query, now, endpoint=live_route.fit_endpoint)
    assert status == 200 and part["partial"] is True
    whole = get(query, endpoint=live_route.fit_endpoint)[1]
    _close_payloads(part, live_route.first_part(whole))
    assert part["own"]["params"] != whole["own"]["params"]  # not trained: the sweep's rounding
    assert get(query, now, endpoint=live_route.fit_endpoint)[1] == json.loads(json.dumps(live_route.first_part(whole)))


@pytest.mark.parametrize("changes", [{"method": "finite-difference"}, {"lr": 5.0}])
def test_a_new_run_no_ladder_stands_for_is_trained_even_when_drawn_now(changes):
    """Finite differences' own rounding, a run engine.train ends where it diverges: the first part is the whole's."""
    values = DEFAULTS | changes | {"noise": 2.1}
    query = controls.to_query(values)
    cache.RUNS.clear()
    part = get(query, {"X-Playground-Now": "1"})[1]
    assert part == json.loads(json.dumps(live_route.first_part(get(query)[1])))


def test_a_run_without_ladders_is_answered_whole_even_when_drawn_now():
    values = DEFAULTS | {"optimizer": "adam", "noise": 0.4}  # an adaptive optimizer: no ladder describes it
    status, body = get(controls.to_query(values), {"X-Playground-Now": "1"})
    assert status == 200 and body["ladders"] == {} and "partial" not in body
    assert body == get(controls.to_query(values))[1]


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


@pytest.mark.parametrize(
    "changes", [{"noise": 1.3}, {"lr": 0.03, "test_fraction": 0.4}, {"l1": 0.1, "n": 12, "weight_decay": 0.03}]
)
def test_the_fit_players_route_answers_the_overfitting_pages_payload_and_its_run_is_engine_trains(changes):
    values = DEFAULTS | {"test_fraction": 0.25, "degree": 4} | changes
    status, body = get(controls.to_query(values), endpoint=live_route.fit_endpoint)
    assert status == 200
    page = overfit.cached_player(values, {}) | {"query": controls.to_query(values)}
    assert body == json.loads(json.dumps(page))  # the page's, byte for byte in JSON
    # its run against a loop written the tutorials' way: torch.optim.SGD on the polynomial features, the weights
    # in a group with the decay and the bias in one without, L1 added to the loss; trained on the rows not held out
    import torch

    base = engine.make_dataset("wave", n=values["n"], noise=values["noise"], seed=0)
    train, _ = engine.split(engine.polynomial(base, 4), values["test_fraction"], 0)
    model = torch.nn.Linear(4, 1)
    torch.nn.init.zeros_(model.weight), torch.nn.init.zeros_(model.bias)
    opt = torch.optim.SGD(
        [{"params": [model.weight], "weight_decay": values["weight_decay"]}, {"params": [model.bias]}],
        lr=values["lr"],
    )
    for _ in range(values["epochs"]):
        opt.zero_grad()
        loss = torch.mean((model(train.x).ravel() - train.y.ravel()) ** 2) + values["l1"] * model.weight.abs().sum()
        loss.backward()
        opt.step()
    end = unpack(body["own"]["params"])[0][-1]
    np.testing.assert_allclose(end[:4], model.weight.detach().numpy().ravel(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(end[4], model.bias.item(), rtol=1e-4, atol=1e-6)


def test_the_fit_players_route_refuses_a_bad_query_in_a_sentence():
    status, body = get({"noise": "abc"}, endpoint=live_route.fit_endpoint)
    assert status == 400 and "Noise level: 'abc' is not a number" in body["error"]
    # the playground's own data does not concern the Overfitting page: its run is computed
    assert get({"dataset": "custom"}, endpoint=live_route.fit_endpoint)[0] == 200


def test_a_class_password_is_asked_for_as_the_pages_token(monkeypatch):
    assert live_route.token() is None  # no password: no token needed
    assert get({})[0] == 200
    monkeypatch.setattr(access, "class_password", lambda: "maple")
    token = live_route.token()
    assert token and "maple" not in token
    assert get({}) == (403, {"error": "Enter the class password on the page first."})
    assert get({}, endpoint=live_route.fit_endpoint) == (403, {"error": "Enter the class password on the page first."})
    assert get({}, {live_route.TOKEN_HEADER: token}, endpoint=live_route.fit_endpoint)[0] == 200
    assert get({}, {live_route.TOKEN_HEADER: "x" * len(token)})[0] == 403
    assert get({}, {live_route.TOKEN_HEADER: token})[0] == 200
    monkeypatch.setattr(access, "class_password", lambda: "oak")
    assert get({}, {live_route.TOKEN_HEADER: token})[0] == 403  # a new password: a new token


def test_the_routes_sit_under_the_servers_base_path(monkeypatch):
    assert live_route.url_path("") == "/api/live-figure"
    assert live_route.url_path("/class-7b/") == "/class-7b/api/live-figure"
    assert live_route.url_path("/class-7b/", live_route.FIT_PATH) == "/class-7b/api/fit-player"
    from streamlit import config

    monkeypatch.setattr(config, "get_option", lambda name: "class-7b" if name == "server.baseUrlPath" else None)
    assert [(r.path, r.endpoint) for r in live_route.routes()] == [
        ("/class-7b/api/live-figure", live_route.endpoint),
        ("/class-7b/api/fit-player", live_route.fit_endpoint),
    ]


def test_streamlit_run_app_py_serves_it_as_an_st_app():
    found = discover_asgi_app(ROOT / "app.py")
    assert found.is_asgi_app and found.import_string == "app:app"
