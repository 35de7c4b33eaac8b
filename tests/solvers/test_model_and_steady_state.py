"""A model and a steady state passed together: the model passed is the one solved, and a steady
state of another model is refused with what differs; steady states from far starting guesses;
the root finder that keeps unknowns in their domain."""

import math

import jax.numpy as jnp
import numpy as np
import pytest

import hank_mfg as hm
from hank_mfg.solvers.roots import TrialFailed, newton_in_domain
from models.hank import OneAssetHANK
from models.krusell_smith import KrusellSmith

SMALL = dict(n_wealth=30, n_income=3, wealth_max=50.0)  # as tests/solvers/test_economy.py
T = 40
SHOCK = {"rstar": -0.0025 * 0.61 ** np.arange(T)}


@pytest.fixture(scope="module")
def hank():
    model = OneAssetHANK(**SMALL)
    return model, hm.steady_state(model)


def test_a_rule_change_reuses_the_steady_state_and_solves_the_model_passed(hank):
    """phi leaves the steady state unchanged (pi = 0), so phi = 3 may reuse phi = 1.5's: the
    path must be phi = 3's (the one solved from phi = 3's own steady state), not phi = 1.5's."""
    model, ss = hank
    tight = OneAssetHANK(**SMALL, phi=3.0)
    reused = hm.transition_path(tight, shocks=SHOCK, steady_state=ss)
    own = hm.transition_path(tight, shocks=SHOCK, steady_state=hm.steady_state(tight))
    base = hm.transition_path(model, shocks=SHOCK, steady_state=ss)
    for name in ("pi", "Y", "r", "i"):
        np.testing.assert_allclose(reused[name], own[name], rtol=0, atol=1e-11)
    # the Taylor rule of the model passed holds along the path
    np.testing.assert_allclose(reused["i"], reused["rstar"] + 3.0 * reused["pi"], atol=1e-14)
    # and the answer differs from phi = 1.5's: a tighter rule halves inflation's response
    ratio = float(reused["pi"][0] / base["pi"][0])
    assert 0.3 < ratio < 0.7, ratio


@pytest.mark.parametrize("kw, differs", [
    (dict(n_wealth=25), r"wealth grid \(shape \(30,\) in the steady state, \(25,\) in the model\)"),
    (dict(income_sd=0.6), "income levels"),
    (dict(B=6.0), r"residual asset_mkt = -0\.4.*B \(5\.6 there, 6 here\)"),
    (dict(eis=1.0), r"residual asset_mkt.*eis \(0\.5 there, 1 here\)"),
])
def test_a_steady_state_of_another_economy_is_refused_naming_what_differs(hank, kw, differs):
    _, ss = hank
    other = OneAssetHANK(**{**SMALL, **kw})
    with pytest.raises(ValueError, match="transition_path: the steady state .*" + differs):
        hm.transition_path(other, shocks=SHOCK, steady_state=ss)
    with pytest.raises(ValueError, match="savings_problem: the steady state"):
        hm.savings_problem(other, ss)


def test_a_non_finite_shock_path_is_refused_before_solving(hank):
    model, ss = hank
    bad = SHOCK["rstar"].copy()
    bad[7] = np.nan
    with pytest.raises(ValueError, match=r"transition_path.shocks: the paths of \['rstar'\] are "
                                         "not finite"):
        hm.transition_path(model, shocks={"rstar": bad}, steady_state=ss)


def test_capital_economy_refuses_a_steady_state_of_another_model():
    small = dict(n_wealth=40)
    model = KrusellSmith(**small)
    ss = hm.steady_state(model)
    z = 0.01 * 0.9 ** jnp.arange(40)
    with pytest.raises(ValueError, match=r"not a steady state of this KrusellSmith.*A - K"):
        hm.transition_path(KrusellSmith(**small, beta=0.97), z=z, steady_state=ss)
    with pytest.raises(ValueError, match=r"distribution is on \(40, 7\).*\(50, 7\)"):
        hm.transition_path(KrusellSmith(n_wealth=50), z=z, steady_state=ss)
    with pytest.raises(ValueError, match="sequence_jacobian: the steady state is not"):
        hm.sequence_jacobian(KrusellSmith(**small, delta=0.03), ss, 10)
    z_bad = z.at[3].set(jnp.inf)
    with pytest.raises(ValueError, match="transition_path.z is not finite"):
        hm.transition_path(model, z=z_bad, steady_state=ss)


@pytest.mark.parametrize("beta", [0.95, 0.9, 0.999])
def test_hank_steady_state_from_far_starting_guesses(hank, beta):
    """beta and vphi are starting guesses: far ones (beta 0.9 has every household at the
    borrowing limit; 0.999 is outside beta (1 + r) < 1 and is moved inside) give the same
    equilibrium, and no trial leaves the domain."""
    _, ss = hank
    far = hm.steady_state(OneAssetHANK(**SMALL, beta=beta))
    np.testing.assert_allclose(far["beta"], ss["beta"], rtol=1e-9)
    np.testing.assert_allclose(far["vphi"], ss["vphi"], rtol=1e-8)
    assert max(abs(float(far.residuals[t])) for t in ("asset_mkt", "labor_mkt")) < 1e-9


def test_calibration_over_a_wide_bracket_keeps_every_trial_in_the_domain():
    """B over (1, 20): the trials' neighbouring solutions are poor starts for the next; every
    trial still solves and the target is met."""
    cal = hm.calibrate(OneAssetHANK(n_wealth=30, n_income=3), targets={"gini": 0.6},
                       free={"B": (1.0, 20.0)})
    assert cal.diagnostics["success"], cal.diagnostics["message"]
    assert abs(cal.moments["gini"] - 0.6) < 1e-6
    assert 1.0 < cal.params["B"] < 20.0


def test_a_calibration_trial_without_a_steady_state_is_named_with_what_to_try():
    """B = 200 exceeds the most the wealth grid (top 50) can hold: that trial has no steady
    state, and the error says which trial and what to try."""
    with pytest.raises(RuntimeError, match=r"calibrate: the steady state of OneAssetHANK at the "
                                           r"trial B = 200 failed: steady_state: the root find "
                                           r"for \(beta, vphi\).*Narrow the free parameters' "
                                           r"bounds \(B in \(1, 200\)\)"):
        hm.calibrate(OneAssetHANK(**SMALL), targets={"gini": 0.6}, free={"B": (1.0, 200.0)},
                     steady_state_kwargs={"maxiter": 15})


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
