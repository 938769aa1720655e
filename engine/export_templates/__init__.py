"""Templates of the exported programs (engine/export.py puts them together): one module per gradient method.

A template is a string of the program's own lines with `$name`s that text.fill replaces; a `$name` alone on its line
takes a block of lines, or disappears when the block is empty. Each method module holds its templates next to the
few functions that fill them, under the same names in every module:

    TITLE, INTRO, GRADIENT_STEP       the method in words (the script's docstring, the notebook's notes)
    DATA, TARGET                      the names of the inputs and targets that the training loop slices
    model(ds, cfg, start)             Section: the parameters at the run's starting point, and the model
    loss(ds, cfg, batch)              Section: the loss (and, without autograd, its gradient)
    before_loop(ds, cfg)              the optimizer, or the momentum buffers ("" when there are none)
    step(ds, cfg, batch, x, y)        (forward, update): one step on the data x, y; forward ends with `loss`
    param_exprs(ds, cfg), collect(cfg)   the parameters as Python floats, in the engine's order (w..., b)

shared.py holds what every method's program has (the loop's frame, the results), data_block.py the data, notes.py
the explanations whose numbers depend on the run, by_hand.py what the two methods without autograd share.
"""

from . import analytic, autograd, finite_difference, optimizer

METHODS = {
    "optimizer": optimizer,
    "autograd": autograd,
    "finite-difference": finite_difference,
    "analytic": analytic,
}
