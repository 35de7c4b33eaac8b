"""The average of the iterates (``RSPGConfig(average=d)``, docs/theory.md §12.7).

Against mathematics: stochastic gradient steps on a quadratic are an AR(1) process around the
minimum, ``theta' = a theta - lr eps`` with ``a = 1 - lr``, whose stationary variance is
``lr / (2 - lr)``; its exponential average with decay ``d`` has the variance
``lr / (2 - lr) (1 - d)(1 + a d) / ((1 + d)(1 - a d))``.
"""

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import hank_mfg as hm
from hank_mfg.solvers.training import AveragedState, averaged, evaluation_params
from models.rspg_macro import RSPGMacro

jax.config.update("jax_enable_x64", True)


def test_the_average_of_sgd_iterates_on_a_quadratic_has_the_ar1_variance():
    lr, d, n, steps = 0.1, 0.95, 40_000, 600
    opt = averaged(optax.sgd(lr), d)
    theta = jnp.zeros((n,))
    state = opt.init(theta)
    assert isinstance(state, AveragedState)
    np.testing.assert_array_equal(evaluation_params(theta, state), theta)  # from the start

    def step(carry, key):
        theta, state = carry
        grads = theta + jax.random.normal(key, theta.shape)   # d/dtheta of theta^2 / 2, noisy
        updates, state = opt.update(grads, state, theta)
        return (optax.apply_updates(theta, updates), state), None

    keys = jax.random.split(jax.random.key(0), steps)
    (theta, state), _ = jax.lax.scan(step, (theta, state), keys)
    a = 1.0 - lr
    v = lr / (2.0 - lr)
    v_avg = v * (1.0 - d) * (1.0 + a * d) / ((1.0 + d) * (1.0 - a * d))
    # 40,000 independent coordinates: the sample variance is within 1.5% (two s.e.)
    assert float(jnp.var(theta)) == pytest.approx(v, rel=0.03)
    assert float(jnp.var(evaluation_params(theta, state))) == pytest.approx(v_avg, rel=0.03)


def test_a_run_is_evaluated_and_returned_with_the_average_and_resumes_with_it(tmp_path):
    model = RSPGMacro(n_wealth=12, n_income=3, n_actions=6, horizon=6)
    cfg = hm.RSPGConfig(iterations=6, n_paths=2, eval_paths=2, hidden=8, widths=(8,),
                        eval_every=2, seed=7, average=0.8)
    plain = hm.solve(model, "rspg", dataclasses.replace(cfg, average=0.0), progress=False)
    avg = hm.solve(model, "rspg", cfg, checkpoint_dir=str(tmp_path / "run"), progress=False)
    # the same steps (the losses are the iterates'), another policy (the average)
    np.testing.assert_array_equal(avg.history.loss.to_numpy()[1:],
                                  plain.history.loss.to_numpy()[1:])
    w_avg, w_plain = (np.asarray(s.policy.trunk.head.weight) for s in (avg, plain))
    assert np.max(np.abs(w_avg - w_plain)) > 1e-6
    loaded = hm.load_solution(model, str(tmp_path / "run"))
    np.testing.assert_array_equal(np.asarray(loaded.policy.trunk.head.weight), w_avg)
    # a run killed after iteration 4 resumes to the same average (it is part of the
    # optimiser's state, which the checkpoint keeps)

    class Killed(Exception):
        pass

    def kill(row):
        if row["iteration"] == 4:
            raise Killed

    with pytest.raises(Killed):
        hm.solve(model, "rspg", cfg, checkpoint_dir=str(tmp_path / "killed"), progress=False,
                 callback=kill)
    resumed = hm.solve(model, "rspg", cfg, checkpoint_dir=str(tmp_path / "killed"),
                       resume=True, progress=False)
    for x, y in zip(jax.tree_util.tree_leaves(eqx.filter(resumed.policy, eqx.is_array)),
                    jax.tree_util.tree_leaves(eqx.filter(avg.policy, eqx.is_array))):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


@pytest.mark.parametrize("bad", [1.0, -0.1, float("nan")])
def test_a_bad_decay_is_refused_by_name(bad):
    with pytest.raises(ValueError, match="RSPGConfig.average"):
        hm.RSPGConfig(average=bad)
