"""Exploitability in consumption units (docs/theory.md §7.1), against streams whose values are
known in closed form: a household that consumes ``c`` (and works ``n``) forever, and one that
consumes ``(1 + lambda) c``; the consumption equivalent of their value gap must be ``lambda``."""

import numpy as np
import pytest

from hank_mfg.model.household import crra_utility
from hank_mfg.solvers.rollout import consumption_equivalent


@pytest.mark.parametrize("sigma", [1.0, 0.5, 2.0, 5.0])
@pytest.mark.parametrize("horizon", [None, 40])
def test_the_value_gap_of_a_permanently_higher_consumption_is_its_share(sigma, horizon):
    beta, c, lam, disutility = 0.97, 0.8, 0.0123, 0.31   # disutility of hours, per date
    dates = 1 / (1 - beta) if horizon is None else (1 - beta ** horizon) / (1 - beta)
    u = lambda x: float(crra_utility(np.asarray(x), sigma))
    W_c = dates * u(c)                                    # the value of consumption alone
    V_pi = W_c - dates * disutility
    V_br = dates * u((1 + lam) * c) - dates * disutility  # same hours, more consumption
    got = float(consumption_equivalent(V_br - V_pi, W_c, sigma, dates))
    assert got == pytest.approx(lam, rel=1e-10)


def test_no_gain_is_zero_and_a_small_gain_is_its_value_in_marginal_utility():
    """At first order ``lambda = exploitability / (u'(c) c D)``: the gain divided by what one
    percent more consumption is worth."""
    beta, c, sigma = 0.99, 1.3, 2.0
    dates = 1 / (1 - beta)
    W_c = dates * float(crra_utility(np.asarray(c), sigma))
    assert float(consumption_equivalent(0.0, W_c, sigma, dates)) == 0.0
    gain = 1e-7
    np.testing.assert_allclose(float(consumption_equivalent(gain, W_c, sigma, dates)),
                               gain / (c ** (-sigma) * c * dates), rtol=1e-5)
