"""Entry point: `streamlit run app.py`. Process set-up, then the page router.

`streamlit run` finds `app` below (st.App) and serves this same file as the app's script, with two more routes beside
Streamlit's: the figures' data (components/live_route.py).
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

if __name__ not in ("__main__", "__mp_main__"):  # imported by `streamlit run` (or uvicorn) to serve the app
    import streamlit as st
    from starlette.middleware import Middleware

    from components import live_route
    from server.route_first import RouteFirst

    app = st.App(
        __file__,
        routes=live_route.routes(),
        middleware=[Middleware(RouteFirst, paths=(live_route.PATH, live_route.FIT_PATH))],
    )

# Streamlit runs this file as __main__. Imported under another name (as multiprocessing's spawn would import a
# parent's main script in a child, as __mp_main__), it does nothing; the training workers (server/worker.py) are
# started with no main script at all.
if __name__ == "__main__":
    import gc

    import streamlit as st
    import torch

    import components
    import engine
    from compute import cache, overfit
    from server import access, compat, nodelay, recycle, worker
    from settings import controls
    from ui import tabular  # noqa: F401  (tabular: pandas loads at start, not in a page)

    torch.set_num_threads(1)  # tiny tensors, many sessions: one thread each

    @st.cache_resource(show_spinner=False)
    def warm_up() -> bool:
        """Once per server process: run every code path so the first student's first click is not the slowest."""
        compat.warn_if_untested()  # the server's log says so when this Streamlit is not a tested release
        nodelay.enable()  # Streamlit's connections keep Nagle's algorithm on: ~40 ms on most moves (server/nodelay.py)
        workers_ready = worker.start()  # the training worker starts and warms up while this process does
        engine.warm_up()
        components.ensure_plotly_js()  # the live figure's Plotly.js, from the plotly package, under static/
        cache.run(controls.defaults())  # also fills the cache for the landing page
        overfit.cached_player(controls.defaults(), {})  # the worker loads the Overfitting page's module (~0.4 s)
        worker.wait_ready(workers_ready)
        # Everything alive now (torch, plotly, pandas, Streamlit: about 370,000 objects) stays for the life of the
        # process. Frozen, Python's automatic full collections (which run now and then inside some student's
        # rerun, holding the GIL) no longer walk it: a full collection of it took ~185 ms (docs/performance.md,
        # postScriptGC).
        gc.freeze()
        recycle.start()  # a classroom server's supervisor may ask for a fresh process after a class (server/recycle.py)
        return True

    st.set_page_config(page_title="PyTorch training playground", page_icon="📉", layout="wide")
    access.gate()  # a class password, when .streamlit/secrets.toml sets one
    warm_up()

    PAGES = {
        "Learn": [
            st.Page("views/playground.py", title="Playground", icon="🎛️", default=True, url_path="playground"),
            st.Page("views/lab.py", title="Step by step", icon="👣", url_path="step-by-step"),
            st.Page("views/your_data.py", title="Your data", icon="📄", url_path="your-data"),
        ],
        "Teach": [
            st.Page("views/teacher.py", title="Lesson link", icon="🧑‍🏫", url_path="lesson-link"),
            st.Page("views/class_board.py", title="Class board", icon="📋", url_path="class-board"),
        ],
        "Explore": [
            st.Page("views/explore_lr.py", title="Learning rate & momentum", icon="📈", url_path="learning-rate"),
            st.Page("views/race.py", title="Optimizer race", icon="🏁", url_path="optimizer-race"),
            st.Page("views/scaling.py", title="Feature scaling", icon="📏", url_path="feature-scaling"),
            st.Page("views/batch_noise.py", title="Mini-batch noise", icon="🎲", url_path="mini-batch-noise"),
            st.Page("views/overfit.py", title="Overfitting & regularization", icon="🪢", url_path="overfitting"),
        ],
    }
    st.navigation(PAGES).run()
