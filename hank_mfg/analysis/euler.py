"""Euler-equation errors of a learned (history-dependent, stochastic) policy along rollouts (docs/theory.md §8.2).

What is computed, exactly. Along each sampled common-noise path the population is rolled forward
under the policy (as in :func:`~hank_mfg.rollout`). At every date ``t = 0..T-2`` and state ``s``:

* ``c_t(s) = sum_k P_t[s,k] c_t[s,k]``: the policy's expected consumption (at ``t = T-1`` under
  ``terminal="consume_all"`` consumption is cash on hand ``m``, which is what the reward values);
* next period's aggregate state is known up to the innovation: ``mu_{t+1}`` is deterministic and
  ``z_{t+1} = rho_z z_t + sigma_z eps`` with ``eps ~ N(0, 1)``, integrated by Gauss–Hermite
  quadrature (``n_nodes`` nodes; a single node ``eps = 0`` without common noise). For each node the
  policy is stepped from its date-``t`` hidden state with the node's observation, giving
  ``P_{t+1}`` and ``c_{t+1}`` — the history-aware policy's own forecast of its behaviour;
* ``c_hat_t(s) = (u')^{-1}(beta E_t[(1 + r_{t+1}) u'(c_{t+1}(s'))])`` where ``E_t`` averages over
  the quadrature nodes, the policy's action lottery at ``t`` (``P_t``), the wealth lottery of each
  action's ``a'`` onto the grid and the income transition (the operators' adjoint ``E``);
* the error is ``log10 |1 - c_hat / c|`` at *unconstrained* states (expected next wealth
  ``sum_k P_t a'_t > a_0``); its mass-weighted mean over states with ``mu_t(s) > 0`` and its max
  are reported per date and path, and averaged (mean) / maximised (max) over dates and paths.

With a discrete action grid the Euler equation cannot hold exactly; the numbers say how far from
intertemporal optimality the learned consumption rule is, in the units economists use.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ..model.exogenous import gauss_hermite
from ..operators.meanfield import MeanField
from ..policies.networks import AbstractPolicy
from .simulation import expected_choices

__all__ = ["LearnedEulerErrors", "learned_euler_errors"]


class LearnedEulerErrors(eqx.Module):
    """Euler-equation errors of a learned policy along ``B`` paths (dates ``0..T-2``).

    Attributes:
        errors: ``|1 - c_hat / c|`` ``(B, T-1, n_s)``. unconstrained: mask of the same shape.
        mu: the distribution at each date ``(B, T-1, n_s)``.
        mean, max: per path and date ``(B, T-1)``: mass-weighted mean and max of ``log10`` errors
            over unconstrained states with mass.
        mean_log10, max_log10: their mean and max over paths and dates (0-d).
    """

    errors: Float[Array, "B Tm1 n_s"]
    unconstrained: Array
    mu: Float[Array, "B Tm1 n_s"]
    mean: Float[Array, "B Tm1"]
    max: Float[Array, "B Tm1"]
    mean_log10: Array
    max_log10: Array


@eqx.filter_jit
def _errors(mf: MeanField, policy: AbstractPolicy, eps, mu0, nodes, weights):
    cache = policy.prepare()
    T = eps.shape[-1]
    model = mf.model
    consume_all = model.terminal == "consume_all"
    a0 = mf.a_grid[0]

    def cons(P, agg, t):
        c, a_next, _ = expected_choices(mf, P, agg)
        if consume_all:
            c = jnp.where(t == T - 1, mf.cash_on_hand(agg), c)
        return c, a_next

    def one(e):
        def body(state, xs):
            mu, z, carry = state
            t, et = xs
            agg = mf.aggregate_state(mu, z)
            carry, P = policy.step(carry, mf.observation(agg), t, cache)
            c, a_next = cons(P, agg, t)
            lot = mf.lottery(agg)
            mu_next = mf.push_forward(mu, P, agg, lot)

            def node(x):
                agg1 = mf.aggregate_state(mu_next, model.shocks()[0].step(z, x))
                _, P1 = policy.step(carry, mf.observation(agg1), t + 1, cache)
                c1, _ = cons(P1, agg1, t + 1)
                return mf.expect((1.0 + agg1.r) * model.marginal_utility(c1), P, agg, lot)

            Ev = weights @ jax.vmap(node)(nodes)
            c_hat = model.inverse_marginal_utility(model.beta * Ev)
            err = jnp.abs(1.0 - c_hat / c)
            unc = a_next > a0 + 1e-10 * (1.0 + jnp.abs(a0))
            return (mu_next, mf.next_z(z, et), carry), (err, unc, mu)

        init = (mu0, jnp.asarray(0.0, mf.a_s.dtype), policy.init_carry())
        _, (err, unc, mu) = jax.lax.scan(body, init, (jnp.arange(T), e))
        return err[:-1], unc[:-1], mu[:-1]

    err, unc, mu = jax.vmap(one)(eps)
    tiny = jnp.finfo(err.dtype).tiny
    lerr = jnp.log10(jnp.maximum(err, tiny))
    mask = unc & (mu > 0)
    wgt = jnp.where(mask, mu, 0.0)
    mean = jnp.sum(wgt * lerr, -1) / jnp.maximum(jnp.sum(wgt, -1), tiny)
    mx = jnp.max(jnp.where(mask, lerr, -jnp.inf), -1)
    return LearnedEulerErrors(errors=err, unconstrained=unc, mu=mu, mean=mean, max=mx,
                              mean_log10=jnp.mean(mean), max_log10=jnp.max(mx))


def learned_euler_errors(
    mf: MeanField, policy: AbstractPolicy, eps: Float[Array, "B T"],
    mu0: Float[Array, " n_s"] | None = None, *, n_nodes: int = 7,
) -> LearnedEulerErrors:
    """Euler-equation errors of ``policy`` along the noise paths ``eps`` (see the module docstring).

    Args:
        mf: compiled model. policy: a learned (or table) policy. eps: innovations ``(B, T)``.
        mu0: initial distribution (default the model's). n_nodes: Gauss–Hermite nodes for the
            next-period TFP innovation (ignored without common noise).

    Returns:
        :class:`LearnedEulerErrors`.

    Raises:
        ValueError: fewer than 2 dates, or ``n_nodes < 1``.
    """
    if eps.shape[-1] < 2:
        raise ValueError(f"learned_euler_errors.eps needs at least 2 dates; got shape {eps.shape}")
    if n_nodes < 1:
        raise ValueError(f"learned_euler_errors.n_nodes must be at least 1; got {n_nodes}")
    dtype = mf.a_s.dtype
    if mf.model.common_noise:
        x, w = gauss_hermite(n_nodes)
    else:
        x, w = np.zeros(1), np.ones(1)
    mu0 = mf.initial_distribution() if mu0 is None else jnp.asarray(mu0, dtype)
    return _errors(mf, policy, eps, mu0, jnp.asarray(x, dtype), jnp.asarray(w, dtype))
