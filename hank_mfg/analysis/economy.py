"""Economies' responses: anticipated shocks (forward guidance) and who responds (pure JAX/NumPy).

**News shocks.** A shock announced at date 0 for date ``k`` is the path that is zero except at
``k``. The impact response (date 0) of consumption to a rate cut announced ``k`` quarters
ahead measures how much households discount anticipated policy: in a representative-agent
economy the Euler equation makes the impact response of consumption to a real-rate cut the
same whatever ``k`` is (the forward-guidance puzzle); income risk and borrowing limits make
heterogeneous households discount the future cut (docs/models.md, section 7).

**Who responds.** On impact the distribution is still the steady state's, so the change in
consumption of a group of households is ``sum_{s in g} mu_ss(s) (c_0(s) - c_ss(s))`` relative
to the group's steady-state consumption; groups are wealth deciles (of the steady-state wealth
distribution) or income states.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ..solvers.equilibrium import EconomySteadyState, economy_jacobian, economy_transition
from .irf import mit_deviations, response_units

__all__ = ["consumption_response_by_group", "group_consumption_response", "news_responses"]


def news_responses(steady_state: EconomySteadyState, *, shock: str = "rstar",
                   size: float = -0.0025, horizons=range(21), T: int = 300,
                   variables=("C", "Y", "pi", "r"), jacobian=None) -> tuple[dict, dict]:
    """Impact responses to a one-date shock announced at date 0 for date ``k``, for every ``k``.

    Args:
        steady_state: the economy's steady state. shock: exogenous aggregate hit (``rstar``).
        size: the shock at date ``k`` (``-0.0025``: a 25 bp cut). horizons: the ``k`` values.
        T: transition length. variables: aggregates reported. jacobian: a precomputed
            :func:`economy_jacobian` for ``T`` (computed once otherwise).

    Returns:
        ``(table, units)``: ``table["k"]`` the horizons and ``table[v]`` the date-0 response of
        each variable (in ``units[v]``: percent for quantities, bp for rates), plus
        ``table["path_" + v]``, the ``(n_k, T)`` response paths.
    """
    ks = [int(k) for k in horizons]
    if not ks or min(ks) < 0 or max(ks) >= T:
        raise ValueError(f"news_responses.horizons must lie in [0, T = {T}); got {ks}")
    G = economy_jacobian(steady_state, T) if jacobian is None else jacobian
    out = {v: [] for v in variables}
    for k in ks:
        dz = np.zeros(T)
        dz[k] = size
        path = economy_transition(steady_state.model, shocks={shock: dz},
                                  steady_state=steady_state, jacobian=G)
        _, resp = mit_deviations(path, steady_state)
        for v in variables:
            out[v].append(np.asarray(resp[v]))
    units = response_units(steady_state)
    table = {"k": np.asarray(ks)}
    for v in variables:
        paths = np.stack(out[v])
        table[v] = paths[:, 0]
        table["path_" + v] = paths
    return table, {v: units[v] for v in variables}


def consumption_response_by_group(path, steady_state: EconomySteadyState, *, date: int = 0,
                                  n_groups: int = 10):
    """Percent change of each group's consumption at ``date`` (default: on impact).

    Groups: wealth ``n_groups``-tiles of the steady-state distribution, each with exactly
    ``1/n_groups`` of the households (wealth sits in atoms on the grid points; an atom that
    straddles a boundary, such as the mass at the borrowing limit, is split between the groups
    in proportion, with its income mix), and income states. Needs a path solved with
    ``return_distribution=True``.

    Returns:
        ``{"wealth": (n_groups,), "income": (n_e,), "wealth_share", "income_share",
        "wealth_mass", "income_mass"}``: responses in percent, each group's share of
        steady-state consumption and its mass of households (``1/n_groups`` per wealth group).
    """
    if path.c_policy is None:
        raise ValueError("consumption_response_by_group.path needs its policies: solve it with "
                         "transition_path(..., return_distribution=True)")
    return group_consumption_response(steady_state.mu, steady_state.c_policy, path.mu[date],
                                      path.c_policy[date], n_groups=n_groups)


def group_consumption_response(mu_base, c_base, mu_t, c_t, *, n_groups: int = 10):
    """Percent change of each group's consumption from ``(mu_base, c_base)`` to ``(mu_t, c_t)``.

    Groups: wealth ``n_groups``-tiles of ``mu_base`` (each exactly ``1/n_groups`` of the
    households; an atom on a grid point that straddles a boundary is split in proportion, with
    its income mix) and income states. Returns the dict of
    :func:`consumption_response_by_group`.
    """
    mu_ss, c_ss = mu_base, c_base
    p = jnp.sum(mu_ss, axis=1)  # wealth is held in atoms on the grid points
    F = jnp.cumsum(p)
    lo = jnp.arange(n_groups) / n_groups
    # the share of atom i in group g: the overlap of [F_{i-1}, F_i] with [g/G, (g+1)/G]
    overlap = jnp.clip(jnp.minimum(F[:, None], lo[None, :] + 1.0 / n_groups)
                       - jnp.maximum((F - p)[:, None], lo[None, :]), 0.0, None)
    frac = overlap / jnp.maximum(p, jnp.finfo(p.dtype).tiny)[:, None]  # (n_a, G)
    base_w = frac.T @ jnp.sum(mu_ss * c_ss, axis=1)
    new_w = frac.T @ jnp.sum(mu_t * c_t, axis=1)
    base_e = jnp.sum(mu_ss * c_ss, axis=0)
    new_e = jnp.sum(mu_t * c_t, axis=0)
    C = jnp.sum(mu_ss * c_ss)
    return {"wealth": 100.0 * (new_w / base_w - 1.0), "income": 100.0 * (new_e / base_e - 1.0),
            "wealth_share": base_w / C, "income_share": base_e / C,
            "wealth_mass": frac.T @ p, "income_mass": jnp.sum(mu_ss, axis=0)}
