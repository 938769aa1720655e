"""Start the playground with everything warm: `python scripts/serve.py [--recycle-idle S] [streamlit options]`.

`streamlit run app.py` imports torch and plotly and trains for the first time when the first student connects, so
that student waits seconds longer than the rest. This does that work before the server opens its port, then runs
Streamlit in the same process (any `--server.port 8501`-style options pass through).

After a class: once no student has been connected for S seconds (default 300; 0: never) and the process's memory
has grown, it restarts itself in place, warm again, so its memory returns to the baseline (server/recycle.py).
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)  # the repo's .streamlit/config.toml applies

import torch  # noqa: E402

import components  # noqa: E402
import engine  # noqa: E402
from compute import live  # noqa: E402
from server import recycle, worker  # noqa: E402
from settings import controls  # noqa: E402

RECYCLE_DEFAULT_S = "300"


def warm() -> None:
    """Every training path once, and the landing page's live figure; the training worker started and warm."""
    torch.set_num_threads(1)
    ready = worker.start()  # server/worker.py: its process imports torch while this one does
    engine.warm_up()
    live.build(controls.defaults())  # the landing page's run, its ladders and its live figure's data
    components.ensure_plotly_js()
    worker.wait_ready(ready)


def take_recycle_idle(args: list[str]) -> tuple[str, list[str]]:
    """--recycle-idle S (or =S) out of the command line: S (the environment's, or the default, when absent) and
    the rest, for Streamlit."""
    idle, rest, it = os.environ.get(recycle.ENV_IDLE, RECYCLE_DEFAULT_S), [], iter(args)
    for arg in it:
        if arg == "--recycle-idle":
            idle = next(it, "")
        elif arg.startswith("--recycle-idle="):
            idle = arg.split("=", 1)[1]
        else:
            rest.append(arg)
    return idle, rest


def valid_idle(idle: str) -> bool:
    """A number of seconds: 0 (never) or one server/recycle.py accepts."""
    try:
        return float(idle) == 0 or recycle.policy_from_env({recycle.ENV_IDLE: idle}) is not None
    except ValueError:
        return False


if __name__ == "__main__":
    idle, streamlit_args = take_recycle_idle(sys.argv[1:])
    if not valid_idle(idle):
        sys.exit(f"serve.py: --recycle-idle takes a number of seconds > 0 (or 0: never), not {idle!r}")
    os.environ[recycle.ENV_IDLE] = idle  # read by the app's warm-up (server/recycle.py), kept across the restart
    recycle.restart_command = [sys.executable, str(Path(__file__).resolve()), *sys.argv[1:]]
    warm()
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", str(ROOT / "app.py"), *streamlit_args]
    sys.exit(cli.main())
