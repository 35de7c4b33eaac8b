"""The best response without clairvoyance (docs/theory.md §7.2): a deviating household policy
trained against the learned economy's frozen price process.

Gold standards: the deviators' policy gradient is the population's RSPG gradient when the two
policies coincide (RSPG's households are price takers, so its gradient is a single household's
holding the mean field fixed); a deviator that copies the learned policy reproduces the learned
households' path and value exactly; and on Huggett, where the first-order start solves the
model at first order, a deviator trained against it gains next to nothing, while against the
steady-state start (households that ignore every future price) the same training gains a large
share of what the clairvoyant certificate says is on the table.
"""

from __future__ import annotations

import equinox as eqx
import jax
import numpy as np
import pytest

import hank_mfg as hm
from hank_mfg.policies.savings import trainable
from hank_mfg.solvers import continuous as C
from hank_mfg.solvers.deviation import deviation_loss, deviation_path, deviation_values
from models.huggett import Huggett

jax.config.update("jax_enable_x64", True)


@pytest.fixture(scope="module")
def huggett():
    m = Huggett(n_wealth=30)
    ss = hm.steady_state(m)
    return {start: C.savings_problem(m, ss, start=start, horizon=60)
            for start in ("first-order", "steady-state")}


def _perturbed(P, key=1):
    """A policy whose whole network moves the choices (the untrained head is zero)."""
    policy = P.make_policy(key=jax.random.key(0))
    params, static = eqx.partition(policy, trainable(policy))
    leaves, tree = jax.tree_util.tree_flatten(params)
    keys = jax.random.split(jax.random.key(key), len(leaves))
    leaves = [x + 0.05 * jax.random.normal(k, x.shape, x.dtype) for x, k in zip(leaves, keys)]
    return eqx.combine(jax.tree_util.tree_unflatten(tree, leaves), static)


def test_a_deviator_that_copies_the_policy_is_the_population(huggett):
    P = huggett["first-order"]
    policy = _perturbed(P)
    eps = P.sample_noise(key=jax.random.key(3), n_paths=2)
    paths = C.savings_rollout_batch(P, policy, eps)
    dev = jax.vmap(lambda p: deviation_path(P, policy, policy, p))(paths)
    for field in ("mu", "a_next", "c", "share"):
        np.testing.assert_allclose(getattr(dev, field), getattr(paths, field), rtol=0,
                                   atol=1e-12)
    r_dev, r_pop, _ = np.asarray(deviation_values(P, policy, policy, eps))
    np.testing.assert_allclose(r_dev, r_pop, rtol=1e-13)


def test_the_deviators_gradient_is_the_price_takers_rspg_gradient(huggett):
    P = huggett["first-order"]
    policy = _perturbed(P)
    eps = P.sample_noise(key=jax.random.key(4), n_paths=2)
    params, static = eqx.partition(policy, trainable(policy))
    _, want, _ = C.savings_value_and_grad(params, static, P, eps, 0, False, "lottery")
    paths = C.savings_rollout_batch(P, policy, eps)
    got = jax.grad(lambda p: deviation_loss(eqx.combine(p, static), P, policy, paths))(params)
    w = np.concatenate([np.ravel(x) for x in jax.tree_util.tree_leaves(want)])
    g = np.concatenate([np.ravel(x) for x in jax.tree_util.tree_leaves(got)])
    assert np.max(np.abs(w)) > 1e-6
    np.testing.assert_allclose(g, w, rtol=0, atol=1e-9 * np.max(np.abs(w)))


@pytest.mark.slow
def test_a_trained_deviator_beats_the_steady_state_start_and_not_the_first_order_one(huggett):
    kw = dict(iterations=10, learning_rate=3e-3, n_paths=4, eval_paths=8, seed=0)
    got = {}
    for start, P in huggett.items():
        got[start] = hm.trained_best_response(P, policy=P.make_policy(key=jax.random.key(0)),
                                              **kw)
    right, wrong = got["first-order"], got["steady-state"]
    # a fresh deviator starts where the solution started: it gains nothing before training
    for r in (right, wrong):
        assert r.history[0][0] == 0 and abs(r.history[0][1]) < 1e-12 * abs(r.clairvoyant) + 1e-14
        assert r.gain <= r.clairvoyant                  # feasible deviations know less
    assert wrong.consumption_equivalent > 0.3 * wrong.clairvoyant_consumption_equivalent, wrong
    assert right.consumption_equivalent < 0.05 * wrong.consumption_equivalent, (right, wrong)
    with pytest.raises(ValueError, match="start"):
        hm.trained_best_response(huggett["first-order"], policy=right.deviator, start="other")
    with pytest.raises(ValueError, match="n_paths"):
        hm.trained_best_response(huggett["first-order"], policy=right.deviator, n_paths=0)
