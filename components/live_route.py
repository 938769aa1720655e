"""The live figure's data over plain HTTP, beside Streamlit's own routes (app.py mounts it through st.App).

A move of the figure's noise slider needs new data, so a new run: the figure fetches that run's payload here and
draws it at once, and only when the slider comes to rest does the page rerun to catch up (URL, readouts, words). A
rerun of a whole page costs the browser far more than drawing the figure does (docs/performance.md), so a slider that
waited for one could not follow a learner's hand.

GET <base>/api/live-figure?<the page's query> answers the payload that compute/cache.live_figure gives the page for
the same control values (the same cache, so the page's catch-up finds it there), with no controls of a teacher's link:
the figure keeps its own. A malformed or refused query gets 400 and a sentence; a class password (server/access.py)
is asked for as a token the admitted page hands its figure.
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
from compute import cache
from server import access
from settings import controls

PATH = "api/live-figure"
TOKEN_HEADER = "X-Playground-Token"
_LOG = logging.getLogger(__name__)


def token() -> str | None:
    """What an admitted page hands its figure to show the route it may ask (None: no class password is set)."""
    password = access.class_password()
    if password is None:
        return None
    return hmac.new(password.encode(), b"live-figure-route", hashlib.sha256).hexdigest()


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def answer(query: dict[str, str], sent_token: str | None) -> tuple[int, dict]:
    """The status and JSON body for a query (the route's work, apart from HTTP)."""
    wanted = token()
    if wanted is not None and not hmac.compare_digest(sent_token or "", wanted):
        return 403, {"error": "Enter the class password on the page first."}
    values, notes = controls.parse_query(query, tuple(engine.available_devices()))
    if notes:
        return 400, {"error": " ".join(notes)}
    if values["dataset"] == "custom":
        return 400, {"error": "Only the built-in datasets are computed here: your own data stays in your session."}
    try:
        payload = cache.live_figure(values, {})
    except ValueError as exc:  # settings the engine refuses: the page says the same in its own words
        return 400, {"error": str(exc)}
    return 200, payload


def endpoint(request: Request) -> Response:
    """GET: the live figure's payload for the query's control values (a plain function: Starlette runs it in a
    thread, so training here never holds up the server's event loop)."""
    try:
        status, body = answer(dict(request.query_params), request.headers.get(TOKEN_HEADER))
        if status != 200:
            return _error(status, body["error"])
        return Response(json.dumps(body, allow_nan=False), media_type="application/json")
    except Exception:  # a message, never a traceback
        _LOG.exception("the live figure's route failed")
        return _error(500, "The server could not compute this run.")


def url_path(base_url_path: str) -> str:
    """The route's path under Streamlit's server.baseUrlPath ('' or 'a/b')."""
    base = base_url_path.strip("/")
    return f"/{base}/{PATH}" if base else f"/{PATH}"


def routes() -> list[Route]:
    """The route, where the server's base path puts it."""
    from streamlit import config

    return [Route(url_path(config.get_option("server.baseUrlPath") or ""), endpoint, methods=["GET"])]
