"""The time-iteration start of continuous-choice RSPG (docs/theory.md §12.7): next to the
borrowing limit the households' expected continuation is one step of time iteration — the
mean over Gauss–Hermite nodes of next date's marginal value, next date's choice at each node
one EGM step at that node's first-order budget.

Checked against mathematics: with one node (the mean) the step is the first-order solution's
own continuation to first order in the state (the difference is second order: halving the
state divides it by four), and reading only the cells next to the limit gives, there, exactly
what the step over the whole grid gives.
"""

from __future__ import annotations

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hank_mfg as hm
from hank_mfg.solvers import continuous as C
from hank_mfg.solvers import savings_certificates as S
from models.hank import OneAssetHANK
from models.huggett import Huggett

jax.config.update("jax_enable_x64", True)


@pytest.fixture(scope="module")
def hank():
    """The one-asset HANK on 30 x 3 states (a labour choice, prices cleared with the firms'
    forecast) with its risk-adjusted first-order start."""
    m = OneAssetHANK(n_wealth=30, n_income=3)
    return C.savings_problem(m, hm.steady_state(m), start="risk-adjusted", horizon=60)


def _state(problem, size, lag=2, shock=0):
    """The noise state after an innovation of ``size`` s.d. of the shock ``shock`` made ``lag``
    dates ago, and none since."""
    z = jnp.zeros((problem.n_state,), problem.a_grid.dtype)
    for t in range(lag + 1):
        e = jnp.zeros((problem.n_noise,), z.dtype)
        if t == 0:
            e = e.at[shock].set(size)
        z = C._advance(problem, z, e, jnp.zeros_like(e))
    return z


@eqx.filter_jit
def _stepped(problem, z):
    """The time-iteration continuation and the linear one at the noise state ``z``."""
    return problem.quadrature_continuation(z), problem.linear_continuation(z)


@eqx.filter_jit
def _read(problem, z):
    return problem.continuation(z)


def _with(problem, **fields):
    start = dataclasses.replace(problem.first_order, **fields)
    return eqx.tree_at(lambda p: p.first_order, problem, start)


@pytest.fixture(scope="module")
def huggett():
    """Huggett on 30 wealth points (no labour choice, one price cleared each date) with its
    risk-adjusted first-order start."""
    m = Huggett(n_wealth=30)
    return C.savings_problem(m, hm.steady_state(m), start="risk-adjusted", horizon=40)


@pytest.mark.parametrize("case", [pytest.param("hank", marks=pytest.mark.slow), "huggett"])
def test_one_node_is_the_first_order_continuation_to_first_order(case, request):
    """With the node at the mean and no risk adjustment, one step of time iteration from the
    first-order continuation is that continuation up to terms of second order in the state:
    at the steady state EGM's fixed point gives back ``Va_ss``, and the gap after an
    innovation falls by four when the innovation halves, while the continuation's own move
    halves."""
    problem = request.getfixturevalue(case)
    n_a, n_e = problem.a_ss.shape
    P = _with(problem, risk=None, quadrature=1, cells=(n_a, n_e, n_a))
    step, lin = _stepped(P, _state(P, 0.0))
    assert float(jnp.max(jnp.abs(step - lin) / P.Va_ss)) < 1e-9
    gaps, moves = [], []
    for size in (1.0, 0.5):
        step, lin = _stepped(P, _state(P, size))
        gaps.append(float(jnp.max(jnp.abs(step - lin) / P.Va_ss)))
        moves.append(float(jnp.max(jnp.abs(lin - P.Va_ss) / P.Va_ss)))
    assert moves[0] / moves[1] == pytest.approx(2.0, rel=0.05), moves
    assert gaps[0] / gaps[1] == pytest.approx(4.0, rel=0.15), gaps
    assert gaps[0] < 0.05 * moves[0], (gaps, moves)


@pytest.mark.parametrize("case", [pytest.param("hank", marks=pytest.mark.slow), "huggett"])
def test_the_cells_next_to_the_limit_read_what_the_whole_grid_reads(case, request):
    """The step on the cells of ``quadrature_cells`` (the endogenous-grid step on the first
    ``J`` savings points, read at the first ``K`` wealth points of the first ``E`` income
    states) equals the step over the whole grid there, along a noisy path; elsewhere the
    continuation is the linear one."""
    hank = request.getfixturevalue(case)
    n_a, n_e = hank.a_ss.shape
    K, E, J = C.quadrature_cells(hank)
    assert 2 <= K < n_a and 1 <= E <= n_e and K <= J <= n_a, (K, E, J)
    cells = C.time_iteration_step(hank)
    whole = C.time_iteration_step(hank, cells=(n_a, n_e, n_a))
    eps = hank.sample_noise(key=jax.random.key(3), n_paths=1)[0, :12] * 2.0
    z = jnp.zeros((hank.n_state,), hank.a_grid.dtype)
    for e in eps:
        z = C._advance(hank, z, e, jnp.zeros_like(e))
        a, b = _read(cells, z), _read(whole, z)
        np.testing.assert_allclose(a[:K, :E], b[:K, :E], rtol=1e-12)
        np.testing.assert_allclose(a[K:], _read(hank, z)[K:], rtol=1e-14)  # the linear one
        # far from the limit the whole grid's step differs from the linear continuation by a
        # term of the order of the risk (Huggett's shocks, doubled here, are larger: measured
        # 1.6e-3 of the marginal value)
        assert float(jnp.max(jnp.abs(b[K:] - a[K:]) / a[K:])) < (1e-3 if case == "hank"
                                                                  else 3e-3)


def test_the_time_iteration_start_is_refused_without_its_ingredients(huggett):
    with pytest.raises(ValueError, match="risk-adjusted"):  # a first-order start without risk
        C.time_iteration_step(_with(huggett, risk=None))
    with pytest.raises(ValueError, match="n_nodes"):
        C.time_iteration_step(huggett, n_nodes=0)
    with pytest.raises(ValueError, match="cells"):
        C.time_iteration_step(huggett, cells=(0, 1, 2))
    with pytest.raises(ValueError, match="start must be one of"):
        hm.RSPGConfig.continuous(start="time iteration")
    cfg = hm.RSPGConfig.continuous(start="time-iteration")
    assert cfg.average == 0.95 and cfg.continuation == "egm" and cfg.lr == 3e-4
    assert (cfg.iterations, cfg.eval_every) == (25, 25)
    assert hm.RSPGConfig.continuous(start="time-iteration", iterations=150).iterations == 150


@pytest.mark.slow  # two untrained starts' certificates along noisy paths
def test_time_iteration_lowers_the_largest_euler_error_next_to_the_limit(hank):
    """Along the same noisy paths, the untrained time-iteration start's largest Euler error
    lies below the risk-adjusted start's (both exact at first order), and its mean is no
    worse."""
    step = C.time_iteration_step(hank)
    policy = hank.make_policy(key=jax.random.key(0), linear=False)
    eps = hank.sample_noise(key=jax.random.key(5), n_paths=2)
    out = {}
    for name, P in (("risk-adjusted", hank), ("time-iteration", step)):
        ev = S.evaluate_savings(P, policy, eps)
        out[name] = (float(jnp.mean(ev.euler_mean)), float(jnp.max(ev.euler_max)))
    # measured on 2 paths: max -2.80 -> -2.84, mean -4.545 -> -4.556
    assert out["time-iteration"][1] < out["risk-adjusted"][1] - 0.02, out
    assert out["time-iteration"][0] <= out["risk-adjusted"][0] + 0.005, out
