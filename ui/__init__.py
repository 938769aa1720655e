"""The page layer's helpers: widgets drawn from the control schema (`widgets`), the sentences that explain a run
(`explain`, `explore_text`, `lab`), the live figure's mount and callbacks (`figure`), and tables in and out
(`tabular`). Pages in `views/` compose these; computations live in `compute`, the server's machinery in `server`.
"""
