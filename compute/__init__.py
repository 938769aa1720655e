"""What the pages ask the engine for, and the caches in front of it: a run from the control values (`runs`), the
live figure's families of runs (`family`, `live`), the Explorer pages' sweeps and races (`explore`), the session's
own data (`custom`), the step-by-step trainer (`stepper`), and the Streamlit caches (`cache`, `explore_cache`).

No sentences and no widgets here (those are `ui`); numbers in, numbers out, so it is tested without a page.
"""
