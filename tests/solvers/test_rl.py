"""Model-free baselines (IPPO, recurrent IPPO, M-OMD) on sampled agents."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hank_mfg as hm
from hank_mfg.operators.game import GameMeanField
from hank_mfg.solvers import rl
from hank_mfg.solvers.rl import RLConfig, gae
from models.linear_quadratic import LinearQuadratic

SMALL = dict(n_states=21, max_step=2, idio_atoms=2, horizon=12, early=3, late=8, shift=4.0)
FAST = dict(iterations=30, eval_every=15, n_envs=8, n_agents=64, minibatches=2, hidden=16,
            widths=(16, 16), eval_paths=4, epochs=2)


def test_gae_is_the_discounted_return_at_lambda_one_and_the_td_error_at_zero():
    rng = np.random.default_rng(0)
    r, v = rng.normal(size=(7, 3)), rng.normal(size=(7, 3))
    v_next = np.concatenate([v[1:], np.zeros((1, 3))])
    g = 0.9
    adv1, ret1 = gae(jnp.asarray(r), jnp.asarray(v), jnp.asarray(v_next), g, 1.0)
    ret = np.zeros_like(r)
    acc = np.zeros(3)
    for t in reversed(range(7)):
        acc = r[t] + g * acc
        ret[t] = acc
    np.testing.assert_allclose(ret1, ret, atol=1e-12)
    adv0, _ = gae(jnp.asarray(r), jnp.asarray(v), jnp.asarray(v_next), g, 0.0)
    np.testing.assert_allclose(adv0, r + g * v_next - v, atol=1e-12)


class _NoExactOperators(GameMeanField):
    """A game's mean field whose exact push-forward and expectation refuse to run."""

    def push_forward(self, *a, **k):
        raise AssertionError("a model-free learner used the exact push-forward")

    def expect_actions(self, *a, **k):
        raise AssertionError("a model-free learner used the exact expectation")


@pytest.mark.parametrize("method", [pytest.param("ippo", marks=pytest.mark.slow),
                                    pytest.param("rippo", marks=pytest.mark.slow),
                                    pytest.param("m-omd", marks=pytest.mark.slow)])
def test_learners_train_on_sampled_agents_only(method):
    game = LinearQuadratic(**SMALL)
    config = RLConfig(**FAST)
    mf = _NoExactOperators(model=game, dtype=jnp.asarray(0.0).dtype)
    nets = tuple(n for n in rl.init_networks(mf, method, config, jax.random.key(0)) if n is not None)
    params, static = eqx.partition(nets, tuple(hm.solvers.trainable_filter(n) for n in nets))
    opt_state = rl.optimizer(config, config.iterations).init(params)
    new, _, losses, finite, gnorms = rl.train_chunk(
        params, static, opt_state, mf, (config, method, jax.random.key(1)), jnp.asarray(0),
        jnp.arange(2))
    assert np.all(np.isfinite(losses)) and np.all(finite) and np.all(np.asarray(gnorms) > 0)
    moved = jax.tree_util.tree_leaves(jax.tree_util.tree_map(lambda a, b: jnp.max(jnp.abs(a - b)),
                                                             new, params))
    assert max(float(x) for x in moved) > 0


@pytest.mark.slow  # long; run with -m slow (the default suite has a time budget)
@pytest.mark.parametrize("method", ["ippo", "rippo"])
def test_ppo_learners_reduce_the_exact_exploitability(method):
    """Evaluated exactly, like an RSPG policy: the history's exploitability and
    ``hm.exploitability`` of the returned policy; PPO divides it by more than 2 in 30 updates
    (measured in a quick check: 7 with one epoch per update, 16 with four)."""
    game = LinearQuadratic(**SMALL)
    sol = hm.solve(game, method, RLConfig(**FAST), progress=False)
    h = sol.history
    assert list(h["iteration"]) == [0, 15, 30]
    assert h["exploitability"].iloc[-1] < 0.5 * h["exploitability"].iloc[0]
    res = hm.exploitability(game, sol, key=jax.random.key(5), n_paths=4)
    assert res.exploitability >= -1e-9 and res.best_response_return >= res.policy_return - 1e-9
    assert isinstance(sol.policy, hm.RecurrentPolicy if method == "rippo" else hm.MemorylessPolicy)


def test_rl_methods_check_their_config():
    with pytest.raises(ValueError, match="RLConfig.minibatches must be a divisor of n_envs = 6"):
        RLConfig(n_envs=6, minibatches=4)
    with pytest.raises(ValueError, match="method 'ippo' takes a RLConfig; got a RSPGConfig"):
        hm.solve(LinearQuadratic(**SMALL), "ippo", hm.RSPGConfig(iterations=2), progress=False)
