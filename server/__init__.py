"""The machinery that lets one server hold a class: the second process that trains (`worker`), the memory-bounded
cache (`bounded_cache`), the class password (`access`), recycling an idle process (`recycle`), sending small
frames at once (`nodelay`) and the check that Streamlit is a release those last two were tested with (`compat`).

Nothing here knows about a page or a chart; it imports the engine at most. Pages never call it directly except
through `compute` (runs) and `app.py` (start-up).
"""
