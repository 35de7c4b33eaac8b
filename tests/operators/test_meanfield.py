"""Compiled mean-field operators against a naive dense reference (docs/theory.md §3).

The reference builds the full ``N x N`` transition matrix by explicit loops over states ``s``
and actions ``k``; it exists only here (the library never builds a dense matrix).
"""

import os
import subprocess
import sys

import equinox as eqx
import jax
import jax.numpy as jnp
import jaxtyping
import numpy as np
import pytest

import hank_mfg as hm
from models.krusell_smith import KrusellSmith
from models.rspg_macro import RSPGMacro
from tests._tiny import ArrayModel

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def toy(kind, n_a=9, n_e=3, n_k=5, seed=0, lo=0.0):
    rng = np.random.default_rng(seed)
    grid = lo + np.concatenate([[0.0], np.cumsum(rng.uniform(0.2, 1.5, n_a - 1))])
    Pi = rng.dirichlet(np.ones(n_e), size=n_e)
    levels = np.sort(rng.uniform(0.3, 2.0, n_e))
    if kind == "share":
        actions = np.sort(rng.uniform(0.02, 0.98, n_k))
    else:  # savings: some choices below the first and above the last grid point (clipping)
        actions = np.linspace(grid[0] - 0.7, grid[-1] + 2.0, n_k)
    return ArrayModel(grid_a=jnp.asarray(grid), levels_e=jnp.asarray(levels), Pi=jnp.asarray(Pi),
                    actions=jnp.asarray(actions), action_kind=kind)


def random_inputs(mf, seed=1):
    rng = np.random.default_rng(seed)
    mu = jnp.asarray(rng.dirichlet(np.ones(mf.n_states)))
    P = jnp.asarray(rng.dirichlet(np.ones(mf.n_actions), size=mf.n_states))
    v = jnp.asarray(rng.normal(size=mf.n_states))
    return mu, P, v


def agg_with(mf, r, w):
    one = jnp.asarray(1.0)
    return hm.AggregateState(K=one, L=one, z=jnp.zeros_like(one), Y=one, r=jnp.asarray(r), w=jnp.asarray(w))


def dense_reference(a_grid, e_grid, Pi, actions, kind, P, r, w):
    """``T[s, s']`` by explicit loops over (s, k): lottery along wealth, then income."""
    a_grid, e_grid, Pi, actions, P = (np.asarray(x, dtype=np.float64)
                                      for x in (a_grid, e_grid, Pi, actions, P))
    n_a, n_e, n_k = len(a_grid), len(e_grid), len(actions)
    N = n_a * n_e
    T = np.zeros((N, N))
    for s in range(N):
        ia, ie = divmod(s, n_e)
        m = (1.0 + r) * a_grid[ia] + w * e_grid[ie]
        for k in range(n_k):
            if kind == "share":
                ap = m - actions[k] * (m - a_grid[0])
            else:
                ap = actions[k]
            weights = {}
            if ap <= a_grid[0]:
                weights[0] = 1.0
            elif ap >= a_grid[-1]:
                weights[n_a - 1] = 1.0
            else:
                for i in range(n_a - 1):
                    if a_grid[i] <= ap < a_grid[i + 1]:
                        lam = (a_grid[i + 1] - ap) / (a_grid[i + 1] - a_grid[i])
                        weights[i] = lam
                        weights[i + 1] = 1.0 - lam
                        break
            for j, wt in weights.items():
                for je in range(n_e):
                    T[s, j * n_e + je] += P[s, k] * wt * Pi[ie, je]
    return T


CASES = [
    ("toy-share", lambda: toy("share"), 0.04, 1.1),
    ("toy-share-high-r", lambda: toy("share", seed=3), 0.9, 3.0),  # clipped at the top
    ("toy-savings", lambda: toy("savings", n_k=7), 0.03, 0.9),  # clipped at both ends
    ("toy-savings-neg-limit", lambda: toy("savings", lo=-2.0, seed=5), 0.02, 1.0),
    ("toy-share-neg-limit", lambda: toy("share", lo=-1.5, seed=6), 0.05, 1.0),
    ("ks-share", lambda: KrusellSmith(n_wealth=10, n_income=3, n_actions=6, wealth_max=20.0),
     0.03, 1.0),
    ("ks-savings", lambda: KrusellSmith(n_wealth=10, n_income=2, n_actions=8, wealth_max=20.0,
                                        action_kind="savings"), 0.01, 1.2),
    ("rspg-small", lambda: RSPGMacro(n_wealth=12, n_income=3, n_actions=5, wealth_max=8.0),
     0.2, 1.5),
]


@pytest.fixture(params=CASES, ids=[c[0] for c in CASES])
def case(request):
    _, build, r, w = request.param
    mf = hm.compile_model(build())
    return mf, agg_with(mf, r, w), r, w


def test_equals_dense_reference(case):
    mf, agg, r, w = case
    mu, P, v = random_inputs(mf)
    T = dense_reference(mf.a_grid, mf.e_grid, mf.Pi_e, mf.action_grid, mf.model.action_kind,
                        P, r, w)
    np.testing.assert_allclose(T.sum(1), 1.0, atol=1e-13)
    np.testing.assert_allclose(np.asarray(mf.push_forward(mu, P, agg)), T.T @ np.asarray(mu),
                               rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.asarray(mf.expect(v, P, agg)), T @ np.asarray(v),
                               rtol=0, atol=1e-12)


def test_expect_actions_is_dense_per_action(case):
    mf, agg, r, w = case
    _, _, v = random_inputs(mf, seed=4)
    Q = np.asarray(mf.expect_actions(v, agg))
    assert Q.shape == (mf.n_states, mf.n_actions)
    for k in range(mf.n_actions):
        Pk = np.zeros((mf.n_states, mf.n_actions))
        Pk[:, k] = 1.0
        Tk = dense_reference(mf.a_grid, mf.e_grid, mf.Pi_e, mf.action_grid,
                             mf.model.action_kind, Pk, r, w)
        np.testing.assert_allclose(Q[:, k], Tk @ np.asarray(v), rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mass_conservation_and_adjoint(case, seed):
    mf, agg, _, _ = case
    mu, P, v = random_inputs(mf, seed=seed)
    mu1 = mf.push_forward(mu, P, agg)
    assert float(jnp.sum(mu1)) == pytest.approx(1.0, abs=1e-13)
    assert float(jnp.min(mu1)) >= 0.0
    lhs = float(jnp.dot(v, mu1))
    rhs = float(jnp.dot(mf.expect(v, P, agg), mu))
    assert lhs == pytest.approx(rhs, rel=1e-12, abs=1e-13)
    # E of a constant is the constant
    np.testing.assert_allclose(np.asarray(mf.expect(jnp.ones(mf.n_states), P, agg)), 1.0,
                               atol=1e-13)


def test_mass_conservation_with_prices_from_the_distribution():
    mf = hm.compile_model(KrusellSmith(n_wealth=15, n_income=3, n_actions=10))
    mu = mf.initial_distribution()
    P = jnp.full((mf.n_states, mf.n_actions), 1.0 / mf.n_actions)
    for t in range(5):
        mu = mf.push_forward(mu, P, mf.aggregate_state(mu, 0.01 * t))
        assert float(mu.sum()) == pytest.approx(1.0, abs=1e-13)


def test_lottery_preserves_mean_inside_grid():
    grid = jnp.asarray(np.geomspace(0.25, 10.25, 13) - 0.25)
    x = jnp.asarray(np.random.default_rng(0).uniform(0.0, 10.0, 200))
    x = jnp.concatenate([x, grid])  # grid points themselves, including both ends
    lot = hm.lottery_weights(x, grid)
    mean = lot.w_lo * grid[lot.idx] + (1 - lot.w_lo) * grid[lot.idx + 1]
    np.testing.assert_allclose(np.asarray(mean), np.asarray(x), rtol=0, atol=1e-12)
    assert float(lot.w_lo.min()) >= 0 and float(lot.w_lo.max()) <= 1
    # clipped at the grid ends
    out = hm.lottery_weights(jnp.asarray([-1.0, 11.0]), grid)
    np.testing.assert_array_equal(np.asarray(out.idx), [0, 11])
    np.testing.assert_array_equal(np.asarray(out.w_lo), [1.0, 0.0])


def test_push_forward_preserves_mean_wealth_inside_grid():
    """With every a' inside the grid, sum_s mu'(s) a(s) = sum_{s,k} mu(s) P[s,k] a'(s,k)."""
    mf = hm.compile_model(RSPGMacro(n_wealth=15, n_income=3, n_actions=6))
    mu, P, _ = random_inputs(mf)
    agg = mf.aggregate_state(mu, 0.0)
    a_next, _ = mf.choices(agg)
    P = jnp.where(a_next < mf.a_grid[-1], P, 0.0)  # only choices that stay inside the grid
    P = P / P.sum(axis=1, keepdims=True)
    assert float(jnp.min(jnp.max(P, axis=1))) > 0
    lhs = float(mf.push_forward(mu, P, agg) @ mf.a_s)
    rhs = float(jnp.sum(mu[:, None] * P * a_next))
    assert lhs == pytest.approx(rhs, rel=1e-12)


@pytest.mark.slow  # long; run with -m slow (the default suite has a time budget)
def test_vmap_over_noise_paths_equals_loop():
    mf = hm.compile_model(RSPGMacro(n_wealth=12, n_income=3, n_actions=5))
    rng = np.random.default_rng(7)
    B = 3
    mus = jnp.asarray(rng.dirichlet(np.ones(mf.n_states), size=B))
    Ps = jnp.asarray(rng.dirichlet(np.ones(mf.n_actions), size=(B, mf.n_states)))
    vs = jnp.asarray(rng.normal(size=(B, mf.n_states)))
    zs = jnp.asarray([-0.05, 0.0, 0.04])
    aggs = jax.vmap(mf.aggregate_state)(mus, zs)
    assert aggs.r.shape == (B,)
    pf = jax.vmap(mf.push_forward)(mus, Ps, aggs)
    ex = jax.vmap(mf.expect)(vs, Ps, aggs)
    R = jax.vmap(mf.rewards, in_axes=(0, None))(aggs, 2)
    for b in range(B):
        agg = mf.aggregate_state(mus[b], zs[b])
        np.testing.assert_allclose(np.asarray(pf[b]), np.asarray(mf.push_forward(mus[b], Ps[b], agg)),
                                   rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(np.asarray(ex[b]), np.asarray(mf.expect(vs[b], Ps[b], agg)),
                                   rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(np.asarray(R[b]), np.asarray(mf.rewards(agg, 2)), rtol=1e-13)


def test_jit():
    mf = hm.compile_model(KrusellSmith(n_wealth=10, n_income=2, n_actions=4))
    mu, P, v = random_inputs(mf)

    @jax.jit
    def step(mf, mu, P, v, z, t):
        agg = mf.aggregate_state(mu, z)
        return mf.push_forward(mu, P, agg), mf.expect(v, P, agg), mf.rewards(agg, t)

    mu1, ev, R = step(mf, mu, P, v, 0.01, 3)
    agg = mf.aggregate_state(mu, 0.01)
    np.testing.assert_allclose(np.asarray(mu1), np.asarray(mf.push_forward(mu, P, agg)), atol=1e-15)
    np.testing.assert_allclose(np.asarray(ev), np.asarray(mf.expect(v, P, agg)), atol=1e-14)
    np.testing.assert_allclose(np.asarray(R), np.asarray(mf.rewards(agg, 3)), atol=1e-14)
    mu2 = eqx.filter_jit(mf.push_forward)(mu, P, agg)
    np.testing.assert_allclose(np.asarray(mu2), np.asarray(mu1), atol=1e-15)


def test_policy_table_errors():
    mf = hm.compile_model(KrusellSmith(n_wealth=8, n_income=2, n_actions=3))
    mu, P, v = random_inputs(mf)
    agg = mf.aggregate_state(mu, 0.0)
    with pytest.raises(ValueError, match=r"policy table P must have shape \(16, 3\)"):
        mf.push_forward(mu, P[:, :2], agg)
    with pytest.raises(ValueError, match=r"policy table P must have shape"):
        mf.expect(v, P[:, :2], agg)
    # a wrong number of rows is caught by the runtime shape checker first when it is on
    with pytest.raises((ValueError, jaxtyping.TypeCheckError), match="P"):
        mf.expect(v, P[:-1], agg)
    with pytest.raises(ValueError, match="policy table P must be row-stochastic"):
        mf.push_forward(mu, 2.0 * P, agg)
    Pneg = P.at[0, 0].add(-1.0).at[0, 1].add(1.0)
    with pytest.raises(ValueError, match="policy table P must be row-stochastic"):
        mf.expect(v, Pneg, agg)


@pytest.mark.slow  # long; run with -m slow (the default suite has a time budget)
def test_float32_by_default():
    code = (
        "import jax, jax.numpy as jnp, hank_mfg as hm\n"
        "from models.krusell_smith import KrusellSmith\n"
        "from models.rspg_macro import RSPGMacro\n"
        "for m in (RSPGMacro(n_wealth=10, n_income=3, n_actions=4),"
        " KrusellSmith(n_wealth=10, n_income=2, n_actions=4)):\n"
        "    mf = hm.compile_model(m)\n"
        "    mu = mf.initial_distribution()\n"
        "    P = jnp.full((mf.n_states, mf.n_actions), 1.0 / mf.n_actions)\n"
        "    agg = mf.aggregate_state(mu, 0.0)\n"
        "    outs = [mu, agg.r, agg.w, mf.push_forward(mu, P, agg), mf.expect(mu, P, agg),"
        " mf.rewards(agg, 0), mf.observation(agg)]\n"
        "    assert all(o.dtype == jnp.float32 for o in outs), [o.dtype for o in outs]\n"
        "print('ok')\n"
    )
    env = dict(os.environ, JAX_ENABLE_X64="0", JAX_PLATFORMS="cpu")
    out = subprocess.run([sys.executable, "-W", "error::UserWarning", "-c", code], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


# ---- the borrowing limit at the horizon and feasibility -------------------------------------------
def test_terminal_reward_consumes_down_to_the_borrowing_limit():
    """consume_all with a_min = -1, sigma = 2: R_{T-1}[s, k] = u(m - a_min) = -1/(m + 1) < 0."""
    model = KrusellSmith(sigma=2.0, wealth_min=-1.0, n_wealth=10, n_income=3, n_actions=6,
                         wealth_max=20.0, horizon=5)
    mf = hm.compile_model(model)
    r, w = 0.02, 1.3
    agg = agg_with(mf, r, w)
    a = np.repeat(np.asarray(model.a_grid), 3)
    e = np.tile(np.asarray(model.income.e_grid), 10)
    m = (1.0 + r) * a + w * e
    assert m.min() < 0.0 < m.min() + 1.0  # households in debt, above the limit
    R = np.asarray(mf.rewards(agg, 4))
    np.testing.assert_allclose(R, np.repeat((-1.0 / (m + 1.0))[:, None], 6, axis=1), rtol=1e-14)
    assert np.all(R < 0.0)
    # before the horizon: u(share (m - a_min)) by hand, every pair feasible
    shares = np.asarray(model.action_grid)
    np.testing.assert_allclose(np.asarray(mf.rewards(agg, 3)),
                               -1.0 / (shares[None, :] * (m + 1.0)[:, None]), rtol=1e-14)
    assert np.all(np.asarray(mf.feasible(agg, 3))) and np.all(np.asarray(mf.feasible(agg, 4)))


def test_paper_terminal_rule_is_unchanged_at_a_zero_limit():
    mf = hm.compile_model(KrusellSmith(sigma=2.0, n_wealth=8, n_income=2, n_actions=4, horizon=3))
    agg = agg_with(mf, 0.03, 1.1)
    m = 1.03 * np.asarray(mf.a_s) + 1.1 * np.asarray(mf.e_s)
    np.testing.assert_array_equal(np.asarray(mf.rewards(agg, 2))[:, 0], -1.0 / m)


@pytest.mark.parametrize("kind", ["share", "savings"])
def test_infeasible_pairs_are_exactly_those_without_positive_consumption(kind):
    """Prices under which the poorest households' cash on hand falls below the limit."""
    mf = hm.compile_model(toy(kind, lo=-2.0, seed=5, n_k=7))
    r, w = 0.6, 0.4  # (1 + r) a_min + w e < a_min for the poorest
    agg = agg_with(mf, r, w)
    a, e = np.asarray(mf.a_s), np.asarray(mf.e_s)
    m = (1.0 + r) * a + w * e
    a_min, x = float(mf.a_grid[0]), np.asarray(mf.action_grid)
    c = x[None, :] * (m - a_min)[:, None] if kind == "share" else m[:, None] - x[None, :]
    ok = c > 0
    assert 0 < ok.sum() < ok.size
    np.testing.assert_array_equal(np.asarray(mf.feasible(agg, 0)), ok)
    R = np.asarray(mf.rewards(agg, 0))
    np.testing.assert_array_equal(R[~ok], hm.INFEASIBLE_REWARD)
    np.testing.assert_allclose(R[ok], -1.0 / c[ok], rtol=1e-14)
    last = mf.horizon - 1  # the horizon: feasible exactly where m > a_min
    np.testing.assert_array_equal(np.asarray(mf.feasible(agg, last)),
                                  np.repeat((m > a_min)[:, None], mf.n_actions, axis=1))
    np.testing.assert_array_equal(np.asarray(mf.rewards(agg, last))[m <= a_min],
                                  hm.INFEASIBLE_REWARD)


@pytest.mark.parametrize("grid", [
    np.asarray(RSPGMacro().a_grid, dtype=np.float64),                  # 200-point geometric
    np.linspace(-1.0, 5.0, 50),                                        # uniform, negative limit
    np.sort(np.random.default_rng(0).uniform(0.0, 3.0, 80)),           # irregular
    np.concatenate([[0.0], np.geomspace(1e-4, 1e3, 60)]),              # very uneven
])
def test_grid_locator_finds_the_binary_search_index(grid):
    """The guided search returns exactly the index of a binary search, in both precisions, for
    points on, just beside, between and outside the grid points."""
    from hank_mfg.operators.lottery import grid_locator

    for dtype in (np.float32, np.float64):
        g = jnp.asarray(grid.astype(dtype))
        loc = grid_locator(g)
        if loc is None:  # too uneven for a guided search: the binary search is kept
            continue
        gn = np.asarray(g)
        x = np.concatenate([gn, np.nextafter(gn, np.inf), np.nextafter(gn, -np.inf),
                            np.random.default_rng(1).uniform(gn[0] - 1, gn[-1] + 1, 20_000)])
        x = jnp.asarray(x.astype(dtype))
        ref = np.clip(np.searchsorted(gn, np.asarray(x), side="right") - 1, 0, gn.size - 2)
        np.testing.assert_array_equal(np.asarray(loc.index(x, g)), ref)
        a, b = hm.lottery_weights(x, g), hm.lottery_weights(x, g, loc)
        np.testing.assert_array_equal(np.asarray(a.idx), np.asarray(b.idx))
        np.testing.assert_array_equal(np.asarray(a.w_lo), np.asarray(b.w_lo))
    assert hm.compile_model(RSPGMacro()).locator.steps <= 2  # the paper's grid: 2 steps, not 8


def test_grid_locator_is_not_built_for_a_traced_grid():
    from hank_mfg.operators.lottery import grid_locator

    jax.jit(lambda g: (assert_none(grid_locator(g)), g)[1])(jnp.linspace(0.0, 1.0, 5))


def assert_none(x):
    assert x is None
