"""The household block along a path of budgets, and its sequence-space Jacobians.

Timing (the sequence-space codes' and the compiled operators'): ``mu_t`` is the distribution
over ``(a_t, e_t)`` at the start of date ``t``; the date-``t`` budget
``c + a' = R_t a + y_t(e) + we_t(e) n`` is known at ``t``; households choose ``a'_t`` (EGM
backward from the terminal marginal value), and ``mu_{t+1}`` is the lottery push-forward of
``mu_t`` under ``a'_t`` followed by the income matrix. The block's aggregate outputs at ``t`` are
end-of-period assets ``A_t = sum mu_t a'_t``, consumption ``C_t = sum mu_t c_t`` and effective
labour ``N_t = sum mu_t e n_t``.

Jacobians ``J[o][x][t, s] = d O_t / d x_s`` of each output with respect to each named input
(any aggregate the budget reads) come from the fake-news algorithm of Auclert, Bardóczy,
Rognlie and Straub (2021): one forward-mode sweep of the EGM step for a shock ``u`` periods
ahead, ``T`` expectation vectors per output, and a ``T x T`` accumulation
(docs/models.md, section 4).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ..model.economy import HOUSEHOLD_OUTPUTS
from ..operators.lottery import expect, lottery_weights
from .egm import household_arrays, household_step, policy_push_forward

__all__ = ["HouseholdPath", "distribution_path", "household_block_path", "household_jacobians",
           "household_policies"]


class HouseholdPath(eqx.Module):
    """Households along a path of budgets.

    Attributes:
        A, C, N: end-of-period assets, consumption and effective labour at each date ``(T,)``.
        mu: distribution path ``(T, n_a, n_e)`` over ``(a_t, e_t)``.
        a_policy, c_policy, n_policy: savings, consumption and hours ``(T, n_a, n_e)``.
    """

    A: Float[Array, " T"]
    C: Float[Array, " T"]
    N: Float[Array, " T"]
    mu: Float[Array, "T n_a n_e"]
    a_policy: Float[Array, "T n_a n_e"]
    c_policy: Float[Array, "T n_a n_e"]
    n_policy: Float[Array, "T n_a n_e"]

    def outputs(self) -> dict[str, Array]:
        """``{"A": A, "C": C, "N": N}``."""
        return {"A": self.A, "C": self.C, "N": self.N}


def household_policies(model, budgets, Va_T, interp: str = "linear", Pis=None):
    """Savings, consumption and hours policies ``(T, n_a, n_e)`` of households that know the
    budget path ``budgets`` (a :class:`Budget` with a leading time axis): EGM backward from the
    terminal marginal value ``Va_T``. ``Pis (T, n_e, n_e)``: the income matrix from each date
    to the next (default the model's own at every date)."""
    arrays = household_arrays(model)

    def back(Va_next, xs):
        budget, Pi = xs
        Va, a_pol, c_pol, n_pol = household_step(
            model, Va_next, budget, interp=interp,
            arrays=arrays if Pi is None else arrays[:2] + (Pi,) + arrays[3:])
        return Va, (a_pol, c_pol, n_pol)

    return jax.lax.scan(back, Va_T, (budgets, Pis), reverse=True)[1]


def distribution_path(mu_0: Float[Array, "n_a n_e"], a_policy: Float[Array, "T n_a n_e"],
                      a_grid: Float[Array, " n_a"], Pi_e) -> Float[Array, "T n_a n_e"]:
    """The distribution at the start of each date ``(T, n_a, n_e)`` from ``mu_0`` under the
    savings policies ``a_policy``: each date the wealth lottery, then the income matrix
    (``Pi_e`` constant ``(n_e, n_e)``, or one per date ``(T, n_e, n_e)``)."""
    varying = jnp.ndim(Pi_e) == 3

    def fwd(mu, xs):
        a_pol, Pi = xs if varying else (xs, Pi_e)
        return policy_push_forward(mu, a_pol, a_grid, Pi), mu

    return jax.lax.scan(fwd, mu_0, (a_policy, Pi_e) if varying else a_policy)[1]


def household_block_path(model, budgets, Va_T, mu_0, interp: str = "linear") -> HouseholdPath:
    """EGM backward from ``Va_T`` under ``budgets`` (a :class:`Budget` with a leading time
    axis), then the lottery forward from ``mu_0`` (``(n_a, n_e)``)."""
    a_grid, e_grid, Pi_e, _ = household_arrays(model)
    a_p, c_p, n_p = household_policies(model, budgets, Va_T, interp)
    mus = distribution_path(mu_0, a_p, a_grid, Pi_e)
    total = lambda x: jnp.einsum("tae,tae->t", mus, x)  # noqa: E731
    return HouseholdPath(A=total(a_p), C=total(c_p), N=total(n_p * e_grid[None, None, :]),
                         mu=mus, a_policy=a_p, c_policy=c_p, n_policy=n_p)


def household_jacobians(model, budget_of, inputs_ss: dict, Va_ss, mu_ss, T: int,
                        interp: str = "linear", outputs=HOUSEHOLD_OUTPUTS):
    """Fake-news Jacobians ``J[o][x]`` (``T x T``) of the household block at a steady state.

    Args:
        model: the households. budget_of: maps a dict of input aggregates to a :class:`Budget`.
        inputs_ss: steady-state values of the inputs (0-d arrays), e.g. ``{"r": .., "w": ..}``.
        Va_ss, mu_ss: steady-state marginal value and distribution ``(n_a, n_e)``.
        T: horizon. outputs: subset of ``("A", "C", "N")``.

    Returns:
        ``{o: {x: J}}`` with ``J[t, s] = d O_t / d x_s``.
    """
    arrays = household_arrays(model)
    a_grid, e_grid, Pi_e, _ = arrays

    def step(Va, x):
        Va_new, a_pol, c_pol, n_pol = household_step(model, Va, budget_of(x), interp=interp,
                                                     arrays=arrays)
        return Va_new, {"A": a_pol, "C": c_pol, "N": n_pol * e_grid[None, :]}

    _, pol_ss = step(Va_ss, inputs_ss)
    lot = lottery_weights(pol_ss["A"], a_grid)
    h = a_grid[lot.idx + 1] - a_grid[lot.idx]

    def dist_change(da):
        # derivative of the lottery push-forward of mu_ss with respect to the savings policy
        dm = -mu_ss * da / h  # change in the mass put on idx (the rest moves to idx + 1)
        return lot.scatter(dm, -dm) @ Pi_e

    def expectation_vectors(v0):
        def body(v, _):
            return expect(v, lot, Pi_e), v
        return jax.lax.scan(body, v0, None, length=T - 1)[1]  # E[k] = E_t[o_{t+k}]

    E = {o: expectation_vectors(pol_ss[o]) for o in outputs}

    def accumulate(F):
        def acc(prev, row):
            cur = row + jnp.concatenate([jnp.zeros(1, F.dtype), prev[:-1]])
            return cur, cur
        return jax.lax.scan(acc, jnp.zeros(T, F.dtype), F)[1]

    def columns(tangent):
        # u = 0: the input moves today; then it moves u periods ahead (only through Va')
        dVa0, dpol0 = jax.jvp(lambda x: step(Va_ss, x), (inputs_ss,), (tangent,))[1]

        def back(dVa, _):
            dVa_new, dpol = jax.jvp(lambda Va: step(Va, inputs_ss), (Va_ss,), (dVa,))[1]
            return dVa_new, dpol

        _, dpol_rest = jax.lax.scan(back, dVa0, None, length=T - 1)
        dpol = {o: jnp.concatenate([dpol0[o][None], dpol_rest[o]]) for o in dpol0}
        D = jax.vmap(dist_change)(dpol["A"])  # (T, n_a, n_e)
        out = {}
        for o in outputs:
            Y = jnp.einsum("uae,ae->u", dpol[o], mu_ss)
            F = jnp.concatenate([Y[None, :], jnp.einsum("kae,sae->ks", E[o], D)], axis=0)
            out[o] = accumulate(F)
        return out

    # every input's direction through one program (vmapped), not one backward scan per input
    names = list(inputs_ss)
    tangents = {k: jnp.stack([jnp.ones_like(v) if k == name else jnp.zeros_like(v)
                              for name in names]) for k, v in inputs_ss.items()}
    cols = jax.vmap(columns)(tangents)
    return {o: {name: cols[o][i] for i, name in enumerate(names)} for o in outputs}
