"""Economies' responses: anticipated shocks (forward guidance) and who responds (pure JAX/NumPy).

**News shocks.** A shock announced at date 0 for date ``k`` is the path that is zero except at
``k``. The impact response (date 0) of consumption to a rate cut announced ``k`` quarters
ahead measures how much the economy reacts today to anticipated policy. The benchmark is the
**representative-agent economy** (:func:`representative_agent_responses`): the same aggregate
block, policy rule, Phillips curve, unknowns and targets, with the households replaced by one
household with the same ``eis`` (and ``frisch``) and complete markets. Its Euler equation alone
makes the impact response of consumption to a given future real-rate cut the same whatever
``k`` is (:func:`representative_consumption`, the forward-guidance puzzle); in general
equilibrium the real-rate path itself changes with ``k`` (docs/models.md, section 7).

**Who responds.** On impact the distribution is still the steady state's, so the change in
consumption of a group of households is ``sum_{s in g} mu_ss(s) (c_0(s) - c_ss(s))`` relative
to the group's steady-state consumption; groups are wealth deciles (of the steady-state wealth
distribution) or income states.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ..model.economy import HOUSEHOLD_OUTPUTS
from ..solvers.egm import in_float64
from ..solvers.equilibrium import (
    SteadyState, economy_jacobian, economy_transition, path_inputs, path_variables,
    stack_targets,
)
from .irf import mit_deviations, response_units

__all__ = ["consumption_response_by_group", "group_consumption_response", "news_responses",
           "representative_agent_responses", "representative_consumption"]


def representative_consumption(R: Float[ArrayLike, " T"], R_ss, eis) -> Float[Array, " T"]:
    """A representative household's consumption path under a given path of returns.

    The Euler equation ``u'(C_t) = beta R_{t+1} u'(C_{t+1})``, linearised at a steady state with
    ``beta R_ss = 1`` and CRRA utility of elasticity ``eis``, with consumption back at its
    steady state at the last date:

        dC_t / C = dC_{t+1} / C - eis (R_{t+1} - R_ss) / R_ss,   dC_{T-1} = 0,

    so ``dC_t / C = -eis sum_{s > t} (R_s - R_ss) / R_ss``. A one-date change ``dR`` of the
    return paid at ``k + 1`` (the real rate from ``k`` to ``k + 1``) moves consumption at every
    date up to ``k`` by ``-eis dR / R_ss``, whatever ``k`` is: the forward-guidance puzzle. The
    discount factor enters only through ``beta R_ss = 1``.

    Args:
        R: gross returns ``R_t`` paid at dates ``0..T-1`` on the wealth carried into them
            (``R_0`` is sunk: it does not enter).
        R_ss: the steady-state gross return. eis: the elasticity of intertemporal substitution.

    Returns:
        ``dC_t / C_ss`` at dates ``0..T-1`` (a fraction, not percent).
    """
    dR = (jnp.asarray(R, dtype=float) - R_ss) / R_ss
    future = jnp.cumsum(dR[::-1])[::-1]            # sum_{s >= t} dR_s
    return -eis * jnp.concatenate([future[1:], jnp.zeros(1, dtype=future.dtype)])


def _representative_setup(steady_state: SteadyState):
    """The steady-state numbers the representative household is linearised at."""
    m = steady_state.model
    vals = steady_state.values
    owner = type(m).__name__
    inc = m.income
    pi_e = jnp.asarray(inc.pi_e, dtype=float)
    b = m.budget({k: vals[k] for k in m.household_inputs})
    if jnp.ndim(b.R) != 0:
        raise ValueError(f"representative_agent_responses: {owner}.budget returns a gross return "
                         "R per state; the representative-agent benchmark needs one common "
                         "return (use representative_agent=False)")
    labour = bool(m.endogenous_labour)
    return dict(
        pi_e=pi_e, R=jnp.asarray(b.R, dtype=float),
        y=jnp.sum(pi_e * jnp.broadcast_to(b.y, pi_e.shape)),
        we=jnp.sum(pi_e * jnp.broadcast_to(b.we, pi_e.shape)),
        e_bar=jnp.sum(pi_e * jnp.asarray(inc.e_grid, dtype=float)),
        A=vals["A"], C=vals["C"], N=vals["N"], labour=labour,
        eis=1.0 / jnp.asarray(m.sigma, dtype=float),
        frisch=jnp.asarray(m.frisch, dtype=float) if labour else jnp.asarray(0.0))


def _representative_block(model, ss_values, base, U, exog, T):
    """Every aggregate on dates ``0..T-1`` of the representative-agent economy at unknown paths
    ``U`` and exogenous paths ``exog`` (``T`` dates each), with the households' ``A, C, N``
    those of the linearised representative household, and the stacked transition targets.

    As in :func:`hank_mfg.solvers.equilibrium.economy_transition`, the aggregates are computed on
    dates ``0..T`` with everything back at the steady state at ``T``, so that a rate set at
    ``T - 1`` and paid at ``T`` reaches the household."""
    v = path_variables(model, ss_values, exog, U, T)
    b = jax.vmap(model.budget)(path_inputs(model, v, T))
    pi_e = base["pi_e"]
    R = jnp.broadcast_to(b.R, (T + 1,))
    y = jnp.broadcast_to(b.y, (T + 1,) + pi_e.shape) @ pi_e
    we = jnp.broadcast_to(b.we, (T + 1,) + pi_e.shape) @ pi_e
    dC = base["C"] * representative_consumption(R, base["R"], base["eis"])
    if base["labour"]:   # vphi n^(1/frisch) = we u'(C): dn/n = frisch (dwe/we - dC/(eis C))
        dn = base["frisch"] * ((we - base["we"]) / base["we"] - dC / (base["eis"] * base["C"]))
        dN = base["N"] * dn
        n_ss = base["N"] / base["e_bar"]
        d_earn = base["we"] * n_ss * dn + n_ss * (we - base["we"])
    else:
        dN = jnp.zeros(T + 1)
        d_earn = jnp.zeros(T + 1)
    # the budget, linearised: dA_t = R dA_{t-1} + A dR_t + dy_t + d(we n)_t - dC_t
    flow = base["A"] * (R - base["R"]) + (y - base["y"]) + d_earn - dC

    def step(dA_prev, f):
        dA = base["R"] * dA_prev + f
        return dA, dA

    _, dA = jax.lax.scan(step, jnp.zeros((), dtype=flow.dtype), flow)
    for name, d in zip(HOUSEHOLD_OUTPUTS, (dA, dC, dN)):
        v[name] = base[name] + d
    targets = stack_targets(model, model.residuals(v), T).reshape(-1)
    out = {k: jnp.broadcast_to(x, (T + 1,))[:T] for k, x in v.as_dict().items()
           if k in ss_values}
    return out, targets


@in_float64
def representative_agent_responses(steady_state: SteadyState,
                                   shocks: dict) -> dict[str, Float[Array, "n T"]]:
    """First-order responses of the representative-agent version of an economy to shock paths.

    The economy's own aggregate block, policy rules, residuals, transition unknowns and targets,
    with the heterogeneous households replaced by one household with complete markets and the
    economy's ``eis`` (and ``frisch``): its consumption follows the linearised Euler equation
    with the economy's gross return ``R_t`` (:func:`representative_consumption`, consumption
    back at the steady state after the path), its hours the intratemporal condition
    ``vphi n^(1/frisch) = we u'(C)`` at the average wage per hour ``we = sum_e pi_e we(e)``
    (effective labour ``N = e_bar n``), and its assets the linearised budget
    ``A_t = R_t A_{t-1} + y_t + we_t n_t - C_t`` at the average income ``y = sum_e pi_e y(e)``.
    It is linearised at the economy's steady state (``A``, ``C``, ``N``, prices; its discount
    factor is ``1 / R_ss``, which enters nothing else). For the one-asset HANK this is the
    textbook New Keynesian model with the same Taylor rule, timing and Phillips curve (the goods
    market ``C = Y`` then makes consumption follow the Euler equation); its linear sequence-space
    solution is ``dU = -G_U^(-1) G_Z dZ`` (docs/models.md, section 7).

    Args:
        steady_state: the economy's :class:`~hank_mfg.SteadyState`.
        shocks: ``{name: dZ}``: deviations of exogenous aggregates, ``(T,)`` or ``(n, T)``
            paths (``n`` scenarios solved with one factorisation).

    Returns:
        ``{aggregate: (n, T)}`` level deviations from the steady state of every aggregate
        (households' ``A``, ``C``, ``N`` included), first order.

    Raises:
        ValueError: a shock on a name that is not exogenous, or a budget whose gross return
            differs across states.
    """
    m = steady_state.model
    bad = [k for k in shocks if k not in m.exogenous]
    if bad or not shocks:
        raise ValueError(f"representative_agent_responses.shocks must name exogenous aggregates "
                         f"of {type(m).__name__} {tuple(m.exogenous)}; got {sorted(shocks)}")
    dZ = {k: jnp.atleast_2d(jnp.asarray(x, dtype=float)) for k, x in shocks.items()}
    return _representative_jit(steady_state, dZ)


@eqx.filter_jit
def _representative_jit(steady_state, dZ):
    """:func:`representative_agent_responses` after its checks (one compiled program per
    economy and shape)."""
    m = steady_state.model
    n, T = next(iter(dZ.values())).shape
    base = _representative_setup(steady_state)
    vals = {k: jnp.asarray(x, dtype=float) for k, x in steady_state.values.items()}
    U0 = jnp.stack([jnp.full((T,), vals[u]) for u in m.transition_unknowns])
    exog0 = {k: jnp.full((T,), vals[k]) for k in m.exogenous}

    def targets(U, exog):
        return _representative_block(m, vals, base, U, exog, T)[1]

    G_U, G_Z = jax.jacfwd(targets, argnums=(0, 1))(U0, exog0)
    G_U = G_U.reshape(-1, U0.size)
    rhs = sum(G_Z[k] @ dZ[k].T for k in dZ)                   # (n_targets T, n)
    dU = -jnp.linalg.solve(G_U, rhs).T.reshape((n,) + U0.shape)
    d_exog = {k: jnp.broadcast_to(dZ.get(k, jnp.zeros((1, T))), (n, T)) for k in exog0}

    def variables(U, exog):
        return _representative_block(m, vals, base, U, exog, T)[0]

    def one(dU_i, dZ_i):
        return jax.jvp(variables, (U0, exog0), (dU_i, dZ_i))[1]

    return jax.vmap(one)(dU, d_exog)


def _percent_or_bp(d, base, unit):
    """Level deviations ``d`` in ``unit`` (percent of ``base``, bp or percentage points)."""
    if unit == "percent":
        return 100.0 * d / base
    return (1e4 if unit == "bp" else 100.0) * d


def news_responses(steady_state: SteadyState, *, shock: str = "rstar",
                   size: float = -0.0025, horizons=range(21), T: int = 300,
                   variables=("C", "Y", "pi", "r"), jacobian=None,
                   representative_agent: bool = True) -> tuple[dict, dict]:
    """Impact responses to a one-date shock announced at date 0 for date ``k``, for every ``k``,
    beside the representative-agent economy's.

    Args:
        steady_state: the economy's steady state. shock: exogenous aggregate hit (``rstar``).
        size: the shock at date ``k`` (``-0.0025``: a 25 bp cut). horizons: the ``k`` values.
        T: transition length. variables: aggregates reported. jacobian: a precomputed
            :func:`economy_jacobian` for ``T`` (computed once otherwise).
        representative_agent: also compute the benchmarks below.

    Returns:
        ``(table, units)``: ``table["k"]`` the horizons and ``table[v]`` the date-0 response of
        each variable (in ``units[v]``: percent for quantities, bp for rates), plus
        ``table["path_" + v]``, the ``(n_k, T)`` response paths. With
        ``representative_agent``: ``table["ra_" + v]`` and ``table["ra_path_" + v]``, the same
        for the representative-agent economy with the same rules
        (:func:`representative_agent_responses`, first order), and ``table["ra_given_rates"]``,
        the representative household's date-0 consumption response (percent) to *this*
        economy's equilibrium path of the gross return ``R_t`` (its budget's ``R`` along the
        path: for HANK ``1 + r_t``), held fixed (:func:`representative_consumption`).
    """
    ks = [int(k) for k in horizons]
    if not ks or min(ks) < 0 or max(ks) >= T:
        raise ValueError(f"news_responses.horizons must lie in [0, T = {T}); got {ks}")
    m = steady_state.model
    G = economy_jacobian(steady_state, T) if jacobian is None else jacobian
    out = {v: [] for v in variables}
    given_rates = []
    if representative_agent:
        base = _representative_setup(steady_state)
    for k in ks:
        dz = np.zeros(T)
        dz[k] = size
        path = economy_transition(m, shocks={shock: dz}, steady_state=steady_state,
                                  jacobian=G)
        _, resp = mit_deviations(path, steady_state)
        for v in variables:
            out[v].append(np.asarray(resp[v]))
        if representative_agent:
            inputs = {x: jnp.broadcast_to(path[x], (T,)) for x in m.household_inputs}
            R = jnp.broadcast_to(jax.vmap(m.budget)(inputs).R, (T,))
            given_rates.append(100.0 * float(representative_consumption(
                R, base["R"], base["eis"])[0]))
    units = response_units(steady_state)
    table = {"k": np.asarray(ks)}
    for v in variables:
        paths = np.stack(out[v])
        table[v] = paths[:, 0]
        table["path_" + v] = paths
    if representative_agent:
        dZ = np.zeros((len(ks), T))
        dZ[np.arange(len(ks)), ks] = size
        ra = representative_agent_responses(steady_state, {shock: dZ})
        for v in variables:
            paths = np.asarray(_percent_or_bp(ra[v], steady_state.values[v], units[v]))
            table["ra_" + v] = paths[:, 0]
            table["ra_path_" + v] = paths
        table["ra_given_rates"] = np.asarray(given_rates)
    return table, {v: units[v] for v in variables}


def consumption_response_by_group(path, steady_state: SteadyState, *, date: int = 0,
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
