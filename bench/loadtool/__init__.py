"""The classroom load tool: simulated students talk to a Streamlit server the way a browser does.

A student: GET /_stcore/health (the `_streamlit_xsrf` cookie, and a proxy's sticky cookie), a websocket on
/_stcore/stream with `Sec-WebSocket-Protocol: streamlit, <xsrf>`, a first `BackMsg.rerun_script` carrying the page's
query string, then, after a think time, a new widget value and the wait for `script_finished`. Each rerun sends the
state of every widget the last run drew (as the browser's WidgetStateManager does), the query string and page hash
the server last reported, and the hashes of the cacheable messages it holds (the browser's ForwardMsg cache).
Checked against a recorded Chromium session: see bench/calibrate_browser.py.

Read it in this order, each module in one sitting:

    messages.py   what travels on the websocket: the BackMsg a rerun sends, the ForwardMsgs a run sends back
                  (folded into a RunResult), widget states, the browser's message cache
    session.py    one browser tab: a minimal HTTP GET for the cookies, the websocket, one rerun and its result
    profiles.py   what a student of one app does: which widget it moves, how a move shows it took effect
    classroom.py  a class: simulated students with think times, the warm-up, the run of a load
    report.py     what a load leaves: its records, percentiles, the report as a dict and as table rows
    resources.py  memory and CPU of the server processes and their workers, from /proc
    servers.py    starting and stopping the servers under test: `streamlit run`, deploy/start.sh behind nginx

bench/load_test.py is its command line. Traffic goes only where the caller points it; every loop is bounded by a
count or a deadline. Nothing here imports the playground: the tool works against any Streamlit app that shows the
widgets a profile names.
"""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]  # servers start from here, so .streamlit/config.toml applies
