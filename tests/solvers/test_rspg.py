"""RSPG/SPG: loss gradient, convergence on a control problem, resume, determinism, errors."""

from __future__ import annotations

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hank_mfg as hm
from hank_mfg.solvers.rollout import policy_values, replay_tables, rollout_batch
from hank_mfg.solvers.rspg import rspg_loss, trainable_filter
from models.krusell_smith import KrusellSmith
from models.rspg_macro import RSPGMacro
from tests._tiny import FixedPriceModel

SMALL_MACRO = dict(n_wealth=12, n_income=3, n_actions=6, horizon=6)


def test_rspg_gradient_matches_finite_differences_with_fixed_mean_field():
    """Theory §6.1: the gradient flows through P_t only; the mean-field path is held fixed."""
    mf = hm.compile_model(RSPGMacro(**SMALL_MACRO))
    policy = hm.RecurrentPolicy(mf, key=jax.random.key(0), hidden=6, widths=(8, 8), activation="tanh")
    eps = mf.sample_noise(key=jax.random.key(1), n_paths=2)
    params, static = eqx.partition(policy, trainable_filter(policy))
    grad = eqx.filter_jit(eqx.filter_grad(lambda p: rspg_loss(eqx.combine(p, static), mf, eps)[0]))(params)

    mu0 = mf.initial_distribution()
    fixed = rollout_batch(mf, policy, eps)  # the mean-field path at theta_0, held fixed below

    @eqx.filter_jit
    def loss_fixed_path(p):
        pol = eqx.combine(p, static)
        P = jax.vmap(lambda obs: replay_tables(pol, obs))(fixed.obs)
        traj = eqx.tree_at(lambda tr: tr.P, fixed, P)
        v0 = jax.vmap(lambda tr: policy_values(mf, tr)[0])(traj)
        return -jnp.mean(v0 @ mu0)

    leaves, treedef = jax.tree_util.tree_flatten(params)
    keys = jax.random.split(jax.random.key(2), len(leaves))
    direction = jax.tree_util.tree_unflatten(
        treedef, [jax.random.normal(k, x.shape, x.dtype) for k, x in zip(keys, leaves)])
    h = 1e-6
    plus = jax.tree_util.tree_map(lambda x, d: x + h * d, params, direction)
    minus = jax.tree_util.tree_map(lambda x, d: x - h * d, params, direction)
    fd = (loss_fixed_path(plus) - loss_fixed_path(minus)) / (2 * h)
    ad = sum(jnp.vdot(g, d) for g, d in zip(jax.tree_util.tree_leaves(grad),
                                            jax.tree_util.tree_leaves(direction)))
    assert abs(float(ad)) > 1e-3  # a real, non-trivial gradient
    np.testing.assert_allclose(float(ad), float(fd), rtol=1e-6)


@pytest.mark.slow  # convergence; the small paper model's RSPG reduction stays in the default suite
def test_rspg_solves_single_agent_control_problem():
    """Prices independent of the distribution, no common noise: exploitability -> 0."""
    cfg = hm.RSPGConfig(iterations=400, n_paths=1, eval_paths=1, lr=0.05, lr_final=0.005,
                        hidden=16, widths=(32, 32), eval_every=200, clip_norm=10.0)
    sol = hm.solve(FixedPriceModel(), "rspg", cfg, progress=False)
    last = sol.history.iloc[-1]
    assert last.exploitability >= 0
    assert last.exploitability < 1e-3 * abs(last.best_response_return)
    assert sol.history.exploitability.iloc[0] > 0.5 * abs(last.best_response_return)


@pytest.mark.slow  # long; run with -m slow (the default suite has a time budget)
@pytest.mark.parametrize("method", ["rspg", pytest.param("spg", marks=pytest.mark.slow)])
def test_both_methods_reduce_exploitability_on_small_paper_model(method):
    cfg = hm.RSPGConfig(iterations=40, n_paths=4, eval_paths=4, hidden=16, widths=(32, 32),
                        eval_every=20, seed=3)
    sol = hm.solve(RSPGMacro(**SMALL_MACRO), method, cfg, progress=False)
    ex = sol.history.exploitability.to_numpy()
    assert np.all(ex >= 0)
    assert ex[-1] < 0.5 * ex[0]
    assert list(sol.history.columns[:8]) == [
        "iteration", "seconds", "wall_seconds", "loss", "exploitability",
        "consumption_equivalent", "policy_return", "best_response_return"]
    # wall time counts set-up, compilation and the first evaluation; training time does not
    wall, train = sol.history.wall_seconds.to_numpy(), sol.history.seconds.to_numpy()
    assert wall[0] > 0 and np.all(np.diff(wall) > 0) and np.all(wall > train)


def _cfg(**kw):
    base = dict(iterations=6, n_paths=2, eval_paths=2, hidden=8, widths=(8,), eval_every=2, seed=7)
    base.update(kw)
    return hm.RSPGConfig(**base)


def test_same_seed_same_numbers_and_killed_run_resumes_exactly(tmp_path):
    model = RSPGMacro(**SMALL_MACRO)
    full = hm.solve(model, "rspg", _cfg(), progress=False)
    again = hm.solve(model, "rspg", _cfg(), progress=False)
    np.testing.assert_array_equal(full.history.loss.to_numpy(), again.history.loss.to_numpy())
    # the summary answers "quality" when first asked: the verdicts `hank-mfg solve` states,
    # on the run's last evaluation
    assert "quality" not in full.summary
    q = full.summary["quality"]
    assert full.summary["quality"] is q and "quality" in full.summary
    assert list(q["checks"]) == ["monotone_consumption", "euler_mean_log10", "euler_max_log10",
                                 "relative_exploitability"]
    last = full.history.iloc[-1]
    assert q["checks"]["relative_exploitability"]["value"] == pytest.approx(
        last.exploitability / abs(last.policy_return), rel=1e-12)
    assert q["passed"] == all(c["passed"] for c in q["checks"].values())

    class Killed(Exception):
        pass

    def kill_after_iteration_4(row):
        if row["iteration"] == 4:
            raise Killed

    ckpt = tmp_path / "run"
    with pytest.raises(Killed):
        hm.solve(model, "rspg", _cfg(), checkpoint_dir=str(ckpt), progress=False,
                 callback=kill_after_iteration_4)
    resumed = hm.solve(model, "rspg", _cfg(), checkpoint_dir=str(ckpt), resume=True, progress=False)
    np.testing.assert_array_equal(resumed.history.iteration.to_numpy(), [0, 2, 4, 6])
    assert np.all(np.diff(resumed.history.wall_seconds.to_numpy()) > 0)  # the clock carries on
    np.testing.assert_array_equal(resumed.history.loss.to_numpy()[1:], full.history.loss.to_numpy()[1:])
    for a, b in zip(jax.tree_util.tree_leaves(eqx.filter(resumed.policy, eqx.is_array)),
                    jax.tree_util.tree_leaves(eqx.filter(full.policy, eqx.is_array))):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    loaded = hm.load_solution(model, str(ckpt))
    np.testing.assert_array_equal(
        np.asarray(loaded.policy.trunk.head.weight), np.asarray(full.policy.trunk.head.weight))


def test_resume_refuses_a_checkpoint_of_another_run(tmp_path):
    model = RSPGMacro(**SMALL_MACRO)
    hm.solve(model, "rspg", _cfg(iterations=2), checkpoint_dir=str(tmp_path), progress=False)
    with pytest.raises(ValueError, match="config"):
        hm.solve(model, "rspg", _cfg(iterations=2, lr=0.02), checkpoint_dir=str(tmp_path),
                 resume=True, progress=False)


@pytest.mark.slow  # long; run with -m slow (the default suite has a time budget)
def test_any_optax_transformation_trains_and_a_checkpoint_remembers_it(tmp_path):
    import optax

    model = RSPGMacro(**SMALL_MACRO)
    cfg = _cfg(iterations=4)
    default = hm.solve(model, "rspg", cfg, progress=False)
    # the default written out by hand: the same numbers bit for bit
    by_hand = optax.chain(optax.clip_by_global_norm(cfg.clip_norm),
                          optax.adam(optax.linear_schedule(cfg.lr, cfg.lr_final, cfg.iterations)))
    same = hm.solve(model, "rspg", cfg, progress=False, optimizer=by_hand)
    np.testing.assert_array_equal(same.history.loss.to_numpy()[1:],
                                  default.history.loss.to_numpy()[1:])
    # a zero step leaves the policy where it started: every evaluation is the first one
    frozen = hm.solve(model, "rspg", cfg, progress=False, optimizer=optax.sgd(0.0),
                      checkpoint_dir=str(tmp_path))
    expl = frozen.history.exploitability.to_numpy()
    np.testing.assert_array_equal(expl, np.full_like(expl, expl[0]))
    assert expl[0] == default.history.exploitability.iloc[0]
    with pytest.raises(ValueError, match="optimizer"):
        hm.solve(model, "rspg", _cfg(iterations=6), checkpoint_dir=str(tmp_path), resume=True,
                 progress=False)


def test_non_finite_prices_stop_training_with_the_iteration_named():
    # a rate that is not finite is refused at construction by name; set past that check, it
    # stands for prices that turn non-finite during training
    with pytest.raises(ValueError, match="r_fixed must be finite"):
        FixedPriceModel(r_fixed=float("nan"))
    model = eqx.tree_at(lambda m: m.r_fixed, FixedPriceModel(), jnp.asarray(float("nan")))
    with pytest.raises(FloatingPointError, match=r"iteration 0: non-finite prices in the "
                       r"evaluation rollout: the model's prices\(K = .*\) returned r = nan"):
        hm.solve(model, "rspg", _cfg(), progress=False)


@pytest.mark.parametrize(
    "field, value",
    [("iterations", 0), ("n_paths", -1), ("lr", 0.0), ("clip_norm", float("inf")),
     ("activation", "sigmoidal"), ("head", "gaussian"), ("init", "egm")],
)
def test_config_errors_name_the_field(field, value):
    with pytest.raises(ValueError, match=f"RSPGConfig.{field}"):
        hm.RSPGConfig(**{field: value})


def test_unknown_method_is_an_error():
    with pytest.raises(ValueError, match="method"):
        hm.solve(FixedPriceModel(), "ppo", _cfg(), progress=False)


@pytest.mark.slow  # long; run with -m slow (the default suite has a time budget)
def test_policy_gradient_identity_equals_reverse_mode_through_the_recursion():
    """The training gradient (occupancy-weighted action values) equals autodiff of the loss."""
    from hank_mfg.solvers.rspg import rspg_value_and_grad

    mf = hm.compile_model(RSPGMacro(**SMALL_MACRO))
    for method in ("rspg", "spg"):
        policy = hm.make_policy(mf, method, key=jax.random.key(4), hidden=6, widths=(8, 8))
        eps = mf.sample_noise(key=jax.random.key(5), n_paths=3)
        params, static = eqx.partition(policy, trainable_filter(policy))
        loss_ref, grad_ref = eqx.filter_value_and_grad(
            lambda p: rspg_loss(eqx.combine(p, static), mf, eps)[0])(params)
        loss, grad, finite = rspg_value_and_grad(params, static, mf, eps)
        assert bool(finite)
        np.testing.assert_allclose(float(loss), float(loss_ref), rtol=1e-13)
        for a, b in zip(jax.tree_util.tree_leaves(grad), jax.tree_util.tree_leaves(grad_ref)):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-9, atol=1e-13)


def _leaves(policy):
    return [np.asarray(x) for x in jax.tree_util.tree_leaves(eqx.filter(policy, eqx.is_array))]


@pytest.mark.slow  # the resume test checks the same determinism across chunk boundaries
def test_training_does_not_depend_on_the_evaluation_cadence():
    """Iteration i draws its noise from fold_in(training key, i): evaluating every 2 or every 4
    iterations trains the same policy, bit for bit."""
    model = RSPGMacro(**SMALL_MACRO)
    every2 = hm.solve(model, "rspg", _cfg(iterations=4, eval_every=2), progress=False)
    every4 = hm.solve(model, "rspg", _cfg(iterations=4, eval_every=4), progress=False)
    for a, b in zip(_leaves(every2.policy), _leaves(every4.policy)):
        np.testing.assert_array_equal(a, b)
    h2, h4 = every2.history.set_index("iteration"), every4.history.set_index("iteration")
    for col in ("loss", "exploitability", "policy_return", "best_response_return"):
        assert h2.loc[4, col] == h4.loc[4, col]


def test_auto_init_is_the_paper_start_from_a_uniform_distribution():
    from hank_mfg.solvers.rspg import _init_state

    mf = hm.compile_model(RSPGMacro(**SMALL_MACRO))
    auto, _, _ = _init_state(mf, "rspg", _cfg())
    symmetric, _, _ = _init_state(mf, "rspg", _cfg(init="symmetric"))
    for a, b in zip(jax.tree_util.tree_leaves(auto), jax.tree_util.tree_leaves(symmetric)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    np.testing.assert_array_equal(np.asarray(auto.trunk.head.bias), 0.0)


@pytest.mark.parametrize("head", ["beta", "categorical"])
@pytest.mark.parametrize("kind", ["share", "savings"])
def test_stationary_init_keeps_capital_at_its_initial_level(head, kind):
    """With every household playing actions of mean s = (M - K)/(M - a_min), next capital is
    a_min + (1 - s)(M - a_min) = K (mean-preserving lottery); with savings actions of mean K,
    next capital is K. Checked on a non-uniform initial distribution, by hand."""
    from hank_mfg.solvers.rspg import _init_state, stationary_action_mean

    base = KrusellSmith(sigma=2.0, wealth_min=-1.0, n_wealth=12, n_income=3, n_actions=9,
                        wealth_max=60.0, horizon=4, action_kind=kind)
    w = np.exp(-0.5 * ((np.repeat(np.asarray(base.a_grid), 3) - 8.0) / 4.0) ** 2)
    model = dataclasses.replace(base, initial_mu=jnp.asarray(w / w.sum()))
    mf = hm.compile_model(model)
    mu0 = np.asarray(mf.initial_distribution())
    a, e = np.asarray(mf.a_s), np.asarray(mf.e_s)
    agg = mf.aggregate_state(jnp.asarray(mu0), 0.0)
    K0 = mu0 @ a
    m = (1.0 + float(agg.r)) * a + float(agg.w) * e
    target, values = stationary_action_mean(mf)
    if kind == "share":
        np.testing.assert_allclose(target, (mu0 @ m - K0) / (mu0 @ m + 1.0), rtol=1e-13)
    else:
        np.testing.assert_allclose(target, K0, rtol=1e-13)

    cfg = _cfg(head=head, hidden=8, widths=(8,))  # init "auto": a given distribution
    params, static, _ = _init_state(mf, "rspg", cfg)
    policy = eqx.combine(params, static)
    flat = eqx.tree_at(lambda p: p.trunk.head.weight, policy, 0.0 * policy.trunk.head.weight)
    _, P = flat.step(flat.init_carry(), mf.observation(agg), 0, flat.prepare())
    P = np.asarray(P)
    np.testing.assert_allclose(P @ np.asarray(values), target, rtol=1e-10)
    mu1 = mf.push_forward(jnp.asarray(mu0), jnp.asarray(P), agg)
    np.testing.assert_allclose(float(mu1 @ mf.a_s), K0, rtol=1e-10)
    # the initialised policy itself (small state-dependent head weights) stays close
    _, P = policy.step(policy.init_carry(), mf.observation(agg), 0, policy.prepare())
    K1 = float(mf.push_forward(jnp.asarray(mu0), P, agg) @ mf.a_s)
    assert abs(K1 / K0 - 1.0) < 0.05


def test_non_finite_prices_name_the_aggregate_the_date_and_the_path():
    """Consuming 95% of cash on hand above a limit of -1 runs capital below zero at date 1:
    K_1 = a_min + 0.05 (M_0 - a_min) by hand (the lottery preserves mean wealth)."""
    model = KrusellSmith(wealth_min=-1.0, n_wealth=10, n_income=2, n_actions=10,
                         wealth_max=40.0, horizon=5, common_noise=False)
    mf = hm.compile_model(model)
    P = jnp.zeros((mf.n_states, mf.n_actions)).at[:, -1].set(1.0)  # share 0.95
    mu0 = mf.initial_distribution()
    agg = mf.aggregate_state(mu0, 0.0)
    M0 = float(mu0 @ mf.cash_on_hand(agg))
    K1 = -1.0 + 0.05 * (M0 + 1.0)
    assert K1 < 0 < float(agg.K)
    with pytest.raises(FloatingPointError) as err:
        hm.exploitability(model, P, key=jax.random.key(0), n_paths=1)
    msg = str(err.value)
    assert f"capital K = {K1:.6g} <= 0 at date 1 on path 0" in msg, msg
    assert f"K on the way: {float(agg.K):.4g}, {K1:.4g})" in msg, msg
    assert "init='stationary'" in msg
