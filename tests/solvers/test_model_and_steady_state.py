"""A capital economy's steady state passed with another model is refused with what differs; the
root finder that keeps unknowns in their domain (the economies' cases: tests/solvers/
test_economy.py)."""

import math

import jax.numpy as jnp
import numpy as np
import pytest

import hank_mfg as hm
from hank_mfg.solvers.roots import TrialFailed, newton_in_domain
from models.krusell_smith import KrusellSmith

def test_capital_economy_refuses_a_steady_state_of_another_model():
    small = dict(n_wealth=40)
    model = KrusellSmith(**small)
    ss = hm.steady_state(model)
    z = 0.01 * 0.9 ** jnp.arange(40)
    with pytest.raises(ValueError, match=r"not a steady state of this KrusellSmith.*asset_mkt"
                                         r".*fields that differ.*beta \(0.99 there, 0.97 here\)"):
        hm.transition_path(KrusellSmith(**small, beta=0.97), z=z, steady_state=ss)
    with pytest.raises(ValueError, match=r"wealth grid \(shape \(40,\) in the steady state, "
                                         r"\(50,\) in the model\)"):
        hm.transition_path(KrusellSmith(n_wealth=50), z=z, steady_state=ss)
    with pytest.raises(ValueError, match="sequence_jacobian: the steady state is not"):
        hm.sequence_jacobian(KrusellSmith(**small, delta=0.03), ss, 10)
    z_bad = z.at[3].set(jnp.inf)
    with pytest.raises(ValueError, match=r"transition_path.shocks: the paths of \['z'\] are not "
                                         "finite"):
        hm.transition_path(model, z=z_bad, steady_state=ss)


# ---- the root finder ---------------------------------------------------------------------------
def test_newton_keeps_unknowns_in_their_domain_and_backtracks_over_failed_trials():
    seen = []

    def f(x):
        seen.append(x.copy())
        if x[1] > 3.0:  # no value there (as an inner solve that does not converge)
            raise TrialFailed("undefined above 3")
        return np.array([math.log(x[0]) - 1.0, x[1] ** 2 - 6.25])

    x, res, n = newton_in_domain(f, [50.0, 0.2], names=("a", "b"), domains={"a": (0.0, None)},
                                 tol=1e-12, maxiter=100, where="test", advice="none")
    np.testing.assert_allclose(x, [math.e, 2.5], rtol=1e-10)
    assert np.max(np.abs(res)) <= 1e-12 and n == len(seen)
    assert all(s[0] > 0 for s in seen)


def test_newton_names_the_failed_trial_and_the_closest_point():
    def f(x):
        if x[0] > 1.0:
            raise TrialFailed("no solution here")
        return np.array([x[0] ** 2 + 1.0])  # no root at all

    with pytest.raises(RuntimeError, match=r"test: the root find for \(a\).*the closest point "
                                           r"was a = .*max \|residual\| 1.*; try this"):
        newton_in_domain(f, [0.5], names=("a",), domains={"a": (-2.0, 2.0)}, tol=1e-10,
                         maxiter=40, where="test", advice="try this")
