"""The figures' data over plain HTTP, beside Streamlit's own routes (app.py mounts them through st.App).

A move of the live figure's noise slider needs new data, so a new run: the figure fetches that run's payload here and
draws it at once, and only when the slider comes to rest does the page rerun to catch up (URL, readouts, words). A
rerun of a whole page costs the browser far more than drawing the figure does (docs/performance.md), so a slider that
waited for one could not follow a learner's hand. The Overfitting page's fit player fetches its runs the same way
when the learner moves a sidebar control its two families do not cover (noise, learning rate, test fraction, ...).

GET <base>/api/live-figure?<the page's query> answers the payload that compute/cache.live_figure gives the page for
the same control values, and GET <base>/api/fit-player?<the page's query> the one compute/overfit.cached_player gives
(the same caches, so the page's catch-up finds them there), each with no controls of a teacher's link: the figure
keeps its own. A malformed or refused query gets 400 and a sentence; a class password (server/access.py) is asked for
as a token the admitted page hands its figure.

A request for the run a figure draws now (its X-Playground-Now header, server/route_first.py) is answered in part
(first_part): the payload without its ladders' steps, a quarter of the bytes and all the figure needs to draw the run,
its surface and its sliders. The figure draws it, then asks for the whole (an ordinary request). Reading, parsing and
unpacking the ladders' parameters, gradients and momenta first delayed the picture (docs/performance.md). A live
figure's run not computed yet is then drawn from its ladders alone (compute.cache.live_first): the page's own run as
its learning-rate ladder has it, engine.train's path to float32 rounding, in ~4 ms rather than ~11; the fit player's
from its families, its own run the degree sweep's (compute.overfit.player_now, ~7 ms rather than ~13). The whole,
which trains it, brings engine.train's own, and the figure takes it in where it is (RunPlayer.completed).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

import engine
from compute import cache, overfit
from server import access
from server.route_first import NOW_HEADER
from settings import controls

PATH = "api/live-figure"
FIT_PATH = "api/fit-player"
TOKEN_HEADER = "X-Playground-Token"
LATER = ("params", "grad", "mom")  # a ladder's arrays of every step of every run: not in the first part
_LOG = logging.getLogger(__name__)


def token() -> str | None:
    """What an admitted page hands its figure to show the route it may ask (None: no class password is set)."""
    password = access.class_password()
    if password is None:
        return None
    return hmac.new(password.encode(), b"live-figure-route", hashlib.sha256).hexdigest()


def fetch(path: str = PATH) -> dict:
    """What a page hands its figure to ask a route: where (under the page's base URL), and the class's token."""
    return {"url": path, "token": token(), "header": TOKEN_HEADER}


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def live_figure(values: dict) -> dict:
    """The live figure's payload for these control values; not a learner's own data (it stays in their session)."""
    if values["dataset"] == "custom":
        raise ValueError("Only the built-in datasets are computed here: your own data stays in your session.")
    return cache.live_figure(values, {})


def live_figure_now(values: dict) -> dict:
    """The live figure's payload for a run it draws now: from the cache, else from its ladders alone where they stand
    for the run (compute.cache.live_first: the page's own run comes with the whole), else the whole."""
    if values["dataset"] == "custom":
        return live_figure(values)
    return cache.live_first(values) or live_figure(values)


def fit_player(values: dict) -> dict:
    """The fit player's payload for these control values, with the query that asks for it (as the page's)."""
    return overfit.cached_player(values, {}) | {"query": controls.to_query(values)}


def fit_player_now(values: dict) -> dict:
    """The fit player's payload for a run it draws now: from the cache, else from its families alone where the degree
    sweep stands for the run (compute.overfit.player_now: the page's own run comes with the whole), else the whole."""
    return overfit.player_now(values) | {"query": controls.to_query(values)}


def first_part(body: dict) -> dict:
    """A payload without its ladders' LATER arrays, marked "partial": the answer to a request for the run a figure
    draws now (the ladders' values, labels and losses stay: the figure's sliders and loss axis are drawn from them).
    A payload with no ladder (an adaptive optimizer's run, ...) is whole already."""
    if not any(k in ladder for ladder in body["ladders"].values() for k in LATER):
        return body
    ladders = {key: {k: v for k, v in ladder.items() if k not in LATER} for key, ladder in body["ladders"].items()}
    return body | {"ladders": ladders, "partial": True}


def answer(query: dict[str, str], sent_token: str | None, payload=live_figure) -> tuple[int, dict]:
    """The status and JSON body for a query (a route's work, apart from HTTP); payload(values) computes the body."""
    wanted = token()
    if wanted is not None and not hmac.compare_digest(sent_token or "", wanted):
        return 403, {"error": "Enter the class password on the page first."}
    values, notes = controls.parse_query(query, tuple(engine.available_devices()))
    if notes:
        return 400, {"error": " ".join(notes)}
    try:
        body = payload(values)
    except ValueError as exc:  # settings the engine refuses: the page says the same in its own words
        return 400, {"error": str(exc)}
    return 200, body


def _endpoint(payload, now_payload):
    def endpoint(request: Request) -> Response:
        """GET: a figure's payload for the query's control values (a plain function: Starlette runs it in a
        thread, so training here never holds up the server's event loop)."""
        try:
            now = NOW_HEADER in request.headers  # the figure draws it at once: the whole once it has
            query, sent_token = dict(request.query_params), request.headers.get(TOKEN_HEADER)
            status, body = answer(query, sent_token, now_payload if now else payload)
            if status != 200:
                return _error(status, body["error"])
            if now:
                body = first_part(body)
            return Response(json.dumps(body, allow_nan=False), media_type="application/json")
        except Exception:  # a message, never a traceback
            _LOG.exception("the %s route failed", payload.__name__)
            return _error(500, "The server could not compute this run.")

    return endpoint


endpoint = _endpoint(live_figure, live_figure_now)
fit_endpoint = _endpoint(fit_player, fit_player_now)


def url_path(base_url_path: str, path: str = PATH) -> str:
    """A route's path under Streamlit's server.baseUrlPath ('' or 'a/b')."""
    base = base_url_path.strip("/")
    return f"/{base}/{path}" if base else f"/{path}"


def routes() -> list[Route]:
    """The two routes, where the server's base path puts them."""
    from streamlit import config

    base = config.get_option("server.baseUrlPath") or ""
    return [
        Route(url_path(base), endpoint, methods=["GET"]),
        Route(url_path(base, FIT_PATH), fit_endpoint, methods=["GET"]),
    ]
