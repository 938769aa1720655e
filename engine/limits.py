"""Caps that keep one shared classroom server responsive; enforced by the engine itself."""

MAX_POINTS = 1_000_000  # rows in a dataset
MAX_EPOCHS = 5_000  # passes over the data (tutorial 003's book trains for 5000)
MAX_STEPS = 20_000  # parameter updates in one run (epochs x batches per epoch)
DIVERGENCE_FACTOR = 1e6  # a loss this many times its start counts as divergence
MAX_DEGREE = 9  # polynomial features x, x^2, ..., x^9: the most input columns a Dataset holds
