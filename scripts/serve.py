"""Start the playground with everything warm: `python scripts/serve.py [streamlit options]`.

`streamlit run app.py` imports torch and plotly and trains for the first time when the first student connects, so
that student waits seconds longer than the rest. This does that work before the server opens its port, then runs
Streamlit in the same process (any `--server.port 8501`-style options pass through).
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)  # the repo's .streamlit/config.toml applies

import torch  # noqa: E402

import charts  # noqa: E402
import engine  # noqa: E402
from ui import controls, runs  # noqa: E402


def warm() -> None:
    """Every training path once, and one figure of the landing page's run."""
    torch.set_num_threads(1)
    engine.warm_up()
    result = runs.compute(controls.defaults())
    charts.to_spec(charts.playground_figure(result.dataset, result.history, result.surface, result.optimum))


if __name__ == "__main__":
    warm()
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", str(ROOT / "app.py"), *sys.argv[1:]]
    sys.exit(cli.main())
