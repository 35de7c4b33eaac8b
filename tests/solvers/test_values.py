"""The one value recursion against dense Bellman equations on a tiny grid (docs/theory.md §5).

The reference builds, for every date and choice, the dense ``N x N`` matrix that moves a state
to next date's states (the Young lottery along wealth, then the income matrix) by explicit
loops, and runs the Bellman equations with it.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hank_mfg.operators.lottery import expect, lottery_weights
from hank_mfg.solvers.values import backward_values

jax.config.update("jax_enable_x64", True)

T, N_A, N_E, N_K = 4, 5, 2, 3


@pytest.fixture(scope="module")
def case():
    rng = np.random.default_rng(0)
    grid = np.concatenate([[0.0], np.cumsum(rng.uniform(0.3, 1.2, N_A - 1))])
    Pi = rng.dirichlet(np.ones(N_E), size=(T, N_E))               # a matrix per date
    # next wealth of every date, state and choice, some beyond the grid's ends (clipped)
    a_next = rng.uniform(grid[0] - 0.5, grid[-1] + 0.5, (T, N_A, N_E, N_K))
    R = rng.normal(size=(T, N_A, N_E, N_K))
    P = rng.dirichlet(np.ones(N_K), size=(T, N_A, N_E))
    disc = rng.uniform(0.9, 0.99, T)
    V_T = rng.normal(size=(N_A, N_E))
    return grid, Pi, a_next, R, P, disc, V_T


def dense(grid, Pi_t, a_next_t):
    """``M[k][(a, e), (a', e')]``: the probability of ``(a', e')`` after choice ``k``."""
    n = N_A * N_E
    M = np.zeros((N_K, n, n))
    for k in range(N_K):
        for a in range(N_A):
            for e in range(N_E):
                x = min(max(a_next_t[a, e, k], grid[0]), grid[-1])
                i = min(np.searchsorted(grid, x, side="right") - 1, N_A - 2)
                w = (grid[i + 1] - x) / (grid[i + 1] - grid[i])
                for e2 in range(N_E):
                    M[k, a * N_E + e, i * N_E + e2] += w * Pi_t[e, e2]
                    M[k, a * N_E + e, (i + 1) * N_E + e2] += (1 - w) * Pi_t[e, e2]
    return M


def reference(case, rule):
    grid, Pi, a_next, R, P, disc, V_T = case
    V = V_T.reshape(-1)
    out = []
    for t in reversed(range(T)):
        M = dense(grid, Pi[t], a_next[t])
        Q = R[t].reshape(-1, N_K) + disc[t] * np.stack([M[k] @ V for k in range(N_K)], axis=1)
        V = Q.max(axis=1) if rule == "best" else (P[t].reshape(-1, N_K) * Q).sum(axis=1)
        out.append(V.reshape(N_A, N_E))
    return np.stack(out[::-1])


def run(case, **rule):
    grid, Pi, a_next, R, P, disc, V_T = case
    lots = lottery_weights(jnp.asarray(a_next), jnp.asarray(grid))
    if rule.get("P") is True:
        rule["P"] = jnp.asarray(P)
    return backward_values(jnp.asarray(V_T), jnp.asarray(R), lambda V, x: expect(V, *x),
                           (lots, jnp.asarray(Pi)), jnp.asarray(disc), **rule)


def test_a_policys_values_are_the_dense_bellman_equation(case):
    V, Q = run(case, P=True)
    np.testing.assert_allclose(V, reference(case, "policy"), rtol=1e-12, atol=1e-12)
    assert Q.shape == (T, N_A, N_E, N_K)


def test_the_best_response_is_the_dense_maximum_and_its_choice_attains_it(case):
    V, k = run(case, best=True)
    np.testing.assert_allclose(V, reference(case, "best"), rtol=1e-12, atol=1e-12)
    # playing the best response's choices as a policy gives the same values
    V_k, _ = run(case, P=jax.nn.one_hot(k, N_K, dtype=V.dtype))
    np.testing.assert_allclose(V_k, V, rtol=1e-13, atol=1e-13)


def test_a_continuous_choice_is_one_outcome_per_state(case):
    """One choice per state: the finite rule with a single choice, bit for bit."""
    grid, Pi, a_next, R, P, disc, V_T = case
    one = (grid, Pi, a_next[..., :1], R[..., :1], np.ones_like(P[..., :1]), disc, V_T)
    V, out = run(one[:2] + (one[2][..., 0], one[3][..., 0]) + one[4:])
    assert out is None
    np.testing.assert_allclose(V, run(one, P=True)[0], rtol=0, atol=0)


def test_values_that_share_one_expectation_equal_separate_recursions(case):
    grid, Pi, a_next, R, P, disc, V_T = case
    R2 = R ** 2
    lots = lottery_weights(jnp.asarray(a_next), jnp.asarray(grid))

    def both(Vs, x):
        return tuple(expect(V, x[0], x[1]) for V in Vs)

    def choose(Q, x):
        return (jnp.sum(x[2] * Q[0], axis=-1), jnp.max(Q[1], axis=-1)), None

    (V1, V2), _ = backward_values((jnp.asarray(V_T), jnp.asarray(V_T)),
                                  lambda x: (jnp.asarray(x[3]), jnp.asarray(x[3]) ** 2), both,
                                  (lots, jnp.asarray(Pi), jnp.asarray(P), jnp.asarray(R)),
                                  jnp.asarray(disc), choose=choose)
    np.testing.assert_allclose(V1, run(case, P=True)[0], rtol=1e-14, atol=1e-14)
    two = (grid, Pi, a_next, R2, P, disc, V_T)
    np.testing.assert_allclose(V2, run(two, best=True)[0], rtol=1e-14, atol=1e-14)


def test_two_rules_at_once_are_refused(case):
    with pytest.raises(ValueError, match="one rule"):
        run(case, P=True, best=True)
