"""A learned correction without a linear term (docs/theory.md §12.12).

Gold standards: finite differences of the network with its linear term (the term removed is
its first-order expansion along the history, exactly), and the perfect-foresight responses of
the economy (a first-order start with any correction that has no linear term still responds
to a small innovation as the sequence-space solution does).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hank_mfg as hm
from hank_mfg.analysis.aggregate_risk import irf_gap, learned_irf
from hank_mfg.policies.networks import ACTIVATIONS
from hank_mfg.policies.savings import Forecaster, SavingsPolicy
from hank_mfg.solvers import continuous as C
from models.huggett import Huggett

jax.config.update("jax_enable_x64", True)


def _random_last_layers(policy, key, scale=1.0):
    """The policy with random last layers (the trained-looking correction of any parameters)."""
    k1, k2 = jax.random.split(key)
    policy = eqx.tree_at(lambda p: p.out.weight, policy,
                         scale * jax.random.normal(k1, policy.out.weight.shape))
    if policy.forecaster is not None:
        policy = eqx.tree_at(lambda p: p.forecaster.out.weight, policy,
                             scale * jax.random.normal(k2, policy.forecaster.out.weight.shape))
    return policy


@pytest.fixture(scope="module")
def networks():
    a = np.linspace(0.0, 10.0, 20)
    obs_ref, scale = jnp.array([1.0, 0.5, 0.0]), jnp.full(3, 0.01)
    policy = SavingsPolicy(a, 3, obs_ref, scale, key=jax.random.key(0), hidden=8, widths=(16,),
                           n_knots=5)
    forecaster = Forecaster(obs_ref, scale, jnp.array([1.0, 2.0]), jnp.ones(2), 1,
                            key=jax.random.key(2), hidden=8, widths=(16,))
    policy = _random_last_layers(policy.with_forecaster(forecaster), jax.random.key(3))
    path = jax.random.normal(jax.random.key(4), (30, 3))
    return policy, obs_ref, scale, path


@eqx.filter_jit
def _moves(policy, obs_ref, scale, path, s):
    """The correction's and the forecast's move from their steady-state values along the
    history ``obs_ref + s scale path``."""
    ss = jnp.tile(obs_ref, (path.shape[0], 1))
    obs = obs_ref + s * scale * path
    return (policy.deltas(obs) - policy.deltas(ss),
            policy.forecaster.forecasts(obs) - policy.forecaster.forecasts(ss))


def test_the_correction_without_its_linear_term_is_second_order_in_the_history(networks):
    policy, obs_ref, scale, path = networks
    free, second = policy, policy.with_linear(False)
    assert (free.linear, free.forecaster.linear) == (True, True)
    assert (second.linear, second.forecaster.linear) == (False, False)
    for k in range(2):   # the households' correction, then the firms' forecast
        small = float(jnp.abs(_moves(second, obs_ref, scale, path, 1e-3)[k]).max())
        double = float(jnp.abs(_moves(second, obs_ref, scale, path, 2e-3)[k]).max())
        assert 3.9 < double / small < 4.1           # quadratic: the linear term is gone
        lin_small = float(jnp.abs(_moves(free, obs_ref, scale, path, 1e-3)[k]).max())
        lin_double = float(jnp.abs(_moves(free, obs_ref, scale, path, 2e-3)[k]).max())
        assert 1.95 < lin_double / lin_small < 2.05   # with it: linear
        assert small < 1e-3 * lin_small
    # at the steady-state history both play the same constant
    ss = jnp.tile(obs_ref, (path.shape[0], 1))
    np.testing.assert_allclose(second.deltas(ss), free.deltas(ss), rtol=0, atol=1e-14)
    np.testing.assert_allclose(second.forecaster.forecasts(ss), free.forecaster.forecasts(ss),
                               rtol=0, atol=1e-14)


def test_the_term_removed_is_the_networks_derivative_along_the_history(networks):
    """``f - (f without its linear term)`` at size ``s`` is ``s`` times the derivative of the
    whole recurrent network along the history at ``s = 0``: central differences."""
    policy, obs_ref, scale, path = networks
    second = policy.with_linear(False)
    s, h = 0.7, 1e-4
    for k in range(2):
        removed = _moves(policy, obs_ref, scale, path, s)[k] - _moves(second, obs_ref, scale, path, s)[k]
        derivative = (_moves(policy, obs_ref, scale, path, h)[k]
                      - _moves(policy, obs_ref, scale, path, -h)[k]) / (2 * h)
        np.testing.assert_allclose(removed, s * derivative, rtol=0,
                                   atol=1e-7 * float(jnp.abs(removed).max()))


def test_the_memoryless_correction_loses_its_linear_term_too():
    a = np.linspace(0.0, 10.0, 20)
    obs_ref, scale = jnp.array([1.0, 0.5]), jnp.full(2, 0.01)
    p = SavingsPolicy(a, 2, obs_ref, scale, key=jax.random.key(5), hidden=8, widths=(16,),
                      n_knots=5, recurrent=False, linear=False)
    p = _random_last_layers(p, jax.random.key(6))
    x = jax.random.normal(jax.random.key(7), (1, 2))
    d = [p.deltas(obs_ref + s * scale * x)[0] - p.deltas(obs_ref[None])[0] for s in (1e-3, 2e-3)]
    assert 3.9 < float(jnp.abs(d[1]).max() / jnp.abs(d[0]).max()) < 4.1


def test_the_corrected_share_keeps_the_starts_slope_and_its_derivative_is_exact():
    """``corrected_share``: at ``base = base_ss`` the share's slope in ``base`` is the start's
    for any ``delta``; ``dx/d delta`` matches automatic differentiation; ``structural_logit``
    inverts it; without ``base_ss`` it is the plain logit correction."""
    key = jax.random.split(jax.random.key(8), 3)
    b0 = jax.random.normal(key[0], (40,)) * 3.0
    delta = jax.random.normal(key[1], (40,)) * 0.3
    base = b0 + jax.random.normal(key[2], (40,))
    slope = jax.vmap(jax.grad(lambda b, d, s: C.corrected_share(b, d, s)[0]))(b0, delta, b0)
    np.testing.assert_allclose(slope, jax.nn.sigmoid(b0) * (1 - jax.nn.sigmoid(b0)),
                               rtol=1e-12)
    plain = jax.vmap(jax.grad(lambda b, d: C.corrected_share(b, d)[0]))(b0, delta)
    assert float(jnp.max(jnp.abs(plain / slope - 1))) > 0.05   # the logit's slope moves
    for ref in (None, b0):
        x, dx = C.corrected_share(base, delta, ref)
        auto = jax.vmap(jax.grad(lambda b, d, s: C.corrected_share(b, d, s)[0], argnums=1))(
            base, delta, b0 if ref is not None else None) if ref is not None else \
            jax.vmap(jax.grad(lambda b, d: C.corrected_share(b, d)[0], argnums=1))(base, delta)
        np.testing.assert_allclose(dx, auto, rtol=1e-10, atol=1e-15)
        np.testing.assert_allclose(C.structural_logit(x, delta, ref), base, rtol=0, atol=1e-8)
    x0, _ = C.corrected_share(base, jnp.zeros_like(delta), b0)
    np.testing.assert_allclose(x0, jax.nn.sigmoid(base), rtol=1e-13)  # no correction: the start


def test_a_correction_without_a_linear_term_needs_a_first_order_start():
    with pytest.raises(ValueError, match="linear_correction"):
        hm.RSPGConfig.continuous(linear_correction=False)
    # refused by the type checker where one runs (the tests'), else by the configuration
    with pytest.raises((ValueError, TypeError), match="linear_correction"):
        hm.RSPGConfig.continuous(start="first-order", linear_correction="no")
    with pytest.raises((ValueError, TypeError), match="linear"):
        SavingsPolicy(np.linspace(0, 1, 5), 2, jnp.zeros(1), jnp.ones(1), key=jax.random.key(0),
                      linear=1)
    assert hm.RSPGConfig.continuous().savings_architecture()["linear"] is True
    assert hm.RSPGConfig.continuous(start="first-order").savings_architecture()["linear"] is False
    assert hm.RSPGConfig.continuous(
        start="risk-adjusted", linear_correction=True).savings_architecture()["linear"] is True
    m = Huggett(n_wealth=12)
    problem = C.savings_problem(m, hm.steady_state(m), horizon=20)
    with pytest.raises(ValueError, match="linear=False"):
        problem.make_policy(key=jax.random.key(0), linear=False)


def _without_constant(policy):
    """The policy with the output biases that make its correction (and its forecaster's) zero
    at the steady-state history: a correction of second and higher order only."""
    act = ACTIVATIONS[policy.activation]

    def head_input(net, n_obs):
        h = net.gru(jnp.zeros(net.gru.input_size), net.init_carry()[:net.gru.hidden_size])
        f = jnp.concatenate([h, jnp.zeros(n_obs)])
        for layer in net.layers:
            f = act(layer(f))
        return f

    f = head_input(policy, policy.obs_ref.shape[0])
    policy = eqx.tree_at(lambda p: p.out.bias, policy, -policy.out.weight @ f)
    if policy.forecaster is not None:
        fc = policy.forecaster
        f = head_input(fc, fc.obs_ref.shape[0] - fc.n_priced)
        policy = eqx.tree_at(lambda p: p.forecaster.out.bias, policy, -fc.out.weight @ f)
    return policy


def test_a_correction_without_constant_or_linear_term_keeps_the_start_exact_at_first_order():
    """Huggett 30 x 3 from the first-order start, the correction's last layer random and its
    value at the steady-state history zero: the noise-free response to a small endowment
    innovation is the perfect-foresight one to the start's own accuracy without the linear
    term, and off by a share of its peak with it."""
    m = Huggett(n_wealth=30)
    ss = hm.steady_state(m)
    problem = C.savings_problem(m, ss, start="first-order", horizon=80)
    name = problem.noise_names[0]
    size = 2e-3 * float(problem.sigma[0])
    t = np.arange(problem.first_order.horizon)
    ref = hm.transition_path(m, ss, **{problem.shock_names[0]: size * float(problem.rho[0]) ** t})
    want = {"r": np.asarray(ref.values["r"][:40]) - float(ss.values["r"])}

    def gap(policy):
        got = learned_irf(problem, {name: size}, T=40, policy=policy)
        return float(irf_gap(got, want, ("r",), T=20)["r"])

    base = gap(problem.make_policy(key=jax.random.key(1)))
    gaps = {}
    for linear in (True, False):
        policy = problem.make_policy(key=jax.random.key(1), linear=linear)
        gaps[linear] = gap(_without_constant(_random_last_layers(policy, jax.random.key(2),
                                                                 scale=0.05)))
    assert base < 1e-3
    assert gaps[True] > 0.05                  # a correction with a linear term moves it
    assert gaps[False] < base + 1e-3          # without one it stays the start's
