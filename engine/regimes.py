"""Where a learning rate sits against the stability limit: converges, oscillates at the limit, or diverges.

Along the Hessian's steepest direction plain gradient descent multiplies the error by 1 - lr·λmax each step (with
momentum, the limit (2 + 2β)/λmax plays the same part). Below the limit that factor is under 1 in size and the run
converges; at the limit it is exactly -1 and the parameters flip between two points for ever; above it they swing
further out every step, slowly when just above. Standardized data puts 2/λmax at 1 up to float32 rounding, and
lr = 1 is on the slider, so "at the limit" is a real case, decided with a tolerance of float32 rounding's order.
"""

from __future__ import annotations

import math

CONVERGES, AT_LIMIT, DIVERGES = "converges", "at the limit", "diverges"
LIMIT_RTOL = 1e-5  # lr within 1e-5 of the limit counts as at it: the data's own float32 rounding is ~1e-7


def lr_regime(lr: float, limit: float | None) -> str | None:
    """CONVERGES, AT_LIMIT or DIVERGES for a learning rate against its stability limit; None without a limit."""
    if limit is None:
        return None
    if not math.isfinite(limit):
        return CONVERGES
    ratio = lr / limit
    if ratio < 1 - LIMIT_RTOL:
        return CONVERGES
    return AT_LIMIT if ratio <= 1 + LIMIT_RTOL else DIVERGES


def _near_digits(lr: float, limit: float) -> int | None:
    """Decimals that tell lr / limit from 1 when it is within 1 % of it; None when 3 significant digits do."""
    near = abs(lr / limit - 1)
    if near >= 0.01 or near == 0:
        return None
    return min(max(3, 2 - math.floor(math.log10(near))), 12)


def ratio_text(lr: float, limit: float) -> str:
    """lr / limit with the digits that tell it from 1: '0.06', '1.000114', '1.0000000496'."""
    digits = _near_digits(lr, limit)
    return f"{lr / limit:.3g}" if digits is None else f"{lr / limit:.{digits}f}".rstrip("0")


def limit_text(lr: float, limit: float) -> str:
    """The limit with 3 significant digits, or with as many as tell it from a rate within 1 % of it."""
    digits = _near_digits(lr, limit)
    return f"{limit:.3g}" if digits is None else f"{limit:.{digits + 1}g}"
