"""How prices form at each date of a rollout: markets as strategies (docs/theory.md §5,
§12.5, §13).

Each strategy has the one interface the rollout (:func:`~.rollout.mean_field_scan`) calls:
``initial_carry(problem, policy)`` and ``clear(problem, policy, mu, z, carry, act)``, which
forms the date's prices from the distribution ``mu`` and the noise state ``z``, lets the
households ``act`` on them and their observation, and returns ``(prices, observation, choices,
carry, record, residual)`` (the prices are the households' budget, or a mean field's aggregate
state).

- :class:`DistributionPrices`: the compiled mean field's own prices, read from the distribution
  (discrete choices over a grid: the paper's method; finite-state games);
- :class:`ClosedFormPrices`: prices in closed form from the capital the households carried in,
  for continuous choices (Krusell–Smith, Aiyagari, the paper's model, Krusell–Smith with
  unemployment);
- :class:`ClearedPrice`: one price cleared inside the date by the Illinois method (Huggett);
- :class:`ForecastClearing`: several unknowns solved by Newton given the firms' forecast of
  the next date (the one-asset HANK).

Which one applies is read from the economy's aggregate block at its steady state
(:func:`carried_unknown`, :func:`check_timing` and the conditions that read the next date).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

from ..model.economy import Variables
from .roots import broyden_update, forward_difference_jacobian, illinois

__all__ = ["ClearedPrice", "ClosedFormPrices", "DistributionPrices", "ForecastClearing",
           "carried_unknown", "check_timing"]


class DistributionPrices(eqx.Module):
    """The compiled mean field's own aggregate state at each date,
    :meth:`~hank_mfg.operators.core.AbstractMeanField.aggregate_state` of the distribution and
    the exogenous state (the paper's model: ``K = sum mu a``, ``L = sum mu e`` and the firms'
    prices; a game's ``(t, x_t, mu_t)``). The households observe the mean field's
    :meth:`observation`; the record is the aggregate state itself, the residual zero."""

    def initial_carry(self, problem, policy):
        return ()

    def clear(self, problem, policy, mu, z, carry, act):
        agg = problem.aggregate_state(mu, z)
        obs = problem.observation(agg)
        return agg, obs, act(agg, None, obs), carry, agg, None


class ClosedFormPrices(eqx.Module):
    """Prices in closed form from capital in place: for an economy whose transition unknown is
    what the households carry out of a date (``unknown``: Krusell–Smith's ``K_next``; ``K``
    in Krusell–Smith with unemployment), so that its value at ``t - 1`` is the capital in
    place at ``t``, ``K_t = sum mu_t a``. The economy's own aggregate block (firms as in
    sequence-jacobian's Krusell–Smith example) runs on ``(t - 1, t)`` with that capital and
    today's exogenous aggregates (the shocks' levels; in an aggregate Markov state its
    :meth:`exogenous_values`) and gives the household inputs, e.g. ``r, w = prices(K, L, z)``.
    The households observe those inputs, and the value of the aggregate state where it is a
    chain (the public history of ``z`` and of the prices); the structural start expects
    steady-state returns (``factor = 1``). The record holds the block's aggregates of date
    ``t`` and ``K``, the capital in place."""

    unknown: str = eqx.field(static=True)

    forward_targets = ()
    #: the structural start expects steady-state returns (``factor = 1``)
    scales_by_return = False

    def initial_carry(self, problem, policy):
        return jnp.zeros((), problem.a_grid.dtype)

    def clear(self, problem, policy, mu, z, carry, act):
        model = problem.model
        K = jnp.sum(mu * problem.a_grid[:, None])
        shown, extra = [], {}
        if problem.chain is None:
            exo = _exogenous(problem, z)[0]
        else:
            i = problem.chain_index(z)
            exo = model.exogenous_values(i)
            shown = [problem.chain.aggregate.values[i]]
            extra = dict(z_index=i.astype(K.dtype))
        date = {self.unknown: K, **exo}
        v = _variables(problem, [date, date])

        def today(x):   # a constant of the block (e.g. labour) has no date axis
            return x[1] if jnp.ndim(x) else x

        inputs = [today(v[k]) for k in model.household_inputs]
        budget = model.budget(dict(zip(model.household_inputs, inputs)))
        obs = jnp.stack(inputs + shown)
        out = act(budget, jnp.ones((), K.dtype), obs)
        record = {k: today(v[k]) for k in v.keys() if k != self.unknown}
        return budget, obs, out, carry, dict(record, K=K, **extra), jnp.zeros((), K.dtype)


class ClearedPrice(eqx.Module):
    """One price that clears a market inside the rollout (an :class:`AbstractEconomy` with one
    transition unknown, e.g. Huggett's ``r`` clearing ``asset_mkt``).

    At date ``t`` the economy's aggregate block runs on the two dates ``(t - 1, t)`` with the
    candidate price at ``t``; the budget reads its household inputs at ``t`` (e.g. the rate set
    at ``t - 1``), the households observe the candidate price and the exogenous variables, and
    the market's residual (the economy's ``residuals`` with ``A = sum mu a'``) is zeroed by
    ``steps`` Illinois steps on the steady-state price ``± width`` (a fixed number of steps:
    no data-dependent loop inside the rollout; the bracket always keeps a sign change). The
    clearing price is a stop-gradient: households are price takers. The structural start scales the steady-state continuation by the gross return
    the households' savings will earn (``factor = R_{t+1} / R_ss``, the budget of date ``t + 1``
    with today's price and the rest at the steady state).
    """

    unknown: str = eqx.field(static=True)
    target: str = eqx.field(static=True)
    width: float = eqx.field(static=True, default=0.5)
    steps: int = eqx.field(static=True, default=40)

    #: the structural start scales its continuation by the expected return
    scales_by_return = True

    @property
    def names(self):
        return (self.unknown,)

    forward_targets = ()

    def initial_carry(self, problem, policy):
        ss = problem.ss_values
        return {k: ss[k] for k in (self.unknown,) + tuple(problem.model.exogenous)}

    def clear(self, problem, policy, mu, z, carry, act):
        model, ss = problem.model, problem.ss_values
        exo, _ = _exogenous(problem, z)

        def at(price):
            now = {self.unknown: price, **exo}
            v = _variables(problem, [carry, now])
            budget = model.budget({k: v[k][1] for k in model.household_inputs})
            after = _variables(problem, [now, {k: ss[k] for k in now}])
            R_next = model.budget({k: after[k][1] for k in model.household_inputs}).R
            obs = jnp.concatenate([jnp.stack([price] + [exo[k] for k in model.exogenous]),
                                   _queue(problem, z)])
            out = act(budget, R_next / problem.R_ss, obs)
            _household_aggregates(problem, v, mu, out)
            return model.residuals(v)[self.target][1], (budget, obs, out, v)

        lo = ss[self.unknown] - self.width
        price = illinois(lambda p: at(p)[0], lo, lo + 2.0 * self.width, self.steps)
        price = jax.lax.stop_gradient(price)
        res, (budget, obs, out, v) = at(price)
        record = {k: v[k][1] for k in (self.unknown,) + tuple(model.household_inputs)
                  + tuple(model.exogenous)}
        return budget, obs, out, {self.unknown: price, **exo}, record, res


def _variables(problem, dates):
    """The economy's aggregate block on consecutive dates (a list of ``{name: value}``)."""
    v = Variables({k: jnp.stack([d[k] for d in dates]) for k in dates[0]}, ss=problem.ss_values)
    problem.model.aggregates(v)
    return v


def _household_aggregates(problem, v, mu, out):
    """Set the households' ``A, C, N`` (today's, on every date of ``v``) from their choices."""
    n_dates = v[next(iter(v.keys()))].shape[0]
    a_next, c, n = out[2], out[3], out[5]
    v["A"] = jnp.full((n_dates,), jnp.sum(mu * a_next))
    v["C"] = jnp.full((n_dates,), jnp.sum(mu * c))
    v["N"] = jnp.full((n_dates,), jnp.sum(mu * n * problem.e_grid[None, :]))


def _exogenous(problem, z):
    """Today's exogenous aggregates and their expected values tomorrow (AR(1) decay plus the
    announced innovation that hits tomorrow) from the noise state ``z`` (shocks, then the
    announcement queue)."""
    model, ss = problem.model, problem.ss_values
    k = problem.n_shocks
    now = {s: ss[s] + z[i] for i, s in enumerate(problem.shock_names)}
    nxt = {s: ss[s] + problem.rho[i] * z[i] for i, s in enumerate(problem.shock_names)}
    if problem.news:
        name = problem.shock_names[problem.news_index]
        nxt[name] = nxt[name] + z[k]
    return ({n: now.get(n, ss[n]) for n in model.exogenous},
            {n: nxt.get(n, ss[n]) for n in model.exogenous})


def _queue(problem, z):
    """The announcements (innovations that hit at ``t + 1 .. t + K``) in the noise state."""
    return z[problem.n_shocks:problem.n_noise]


class ForecastClearing(eqx.Module):
    """Every transition unknown solved each date, with the firms' forecast for what lies ahead
    (an :class:`AbstractEconomy` whose equilibrium conditions look one date ahead, e.g. the
    one-asset HANK's Phillips curve; docs/theory.md §13).

    At date ``t`` the forecaster (in the policy) predicts next date's unknowns ``U_{t+1}`` from the
    public history and today's exogenous observations; the economy's aggregate block runs on
    the dates ``(t - 1, t, t + 1)`` — yesterday's solution, today's candidate ``U_t``, the
    forecast with the exogenous variables at their expected values. The households' budget is
    today's and their structural start responds to it; their learned correction reads the
    public history — the ``observed`` aggregates up to yesterday, today's exogenous variables
    and the announcements, everything today's equilibrium prices are a function of — so it does
    not move with the candidate and the households' supply is smooth in it. Every transition
    target at ``t`` is zeroed; the solution is a stop-gradient (price takers). The structural
    start expects the forecast return ``R_{t+1}``.

    The root find is a quasi-Newton (Broyden) iteration: ``steps`` steps a date from
    yesterday's solution, with the Jacobian carried from date to date and updated by Broyden's
    rank-one formula after every step, starting from ``jacobian`` (forward differences at the
    steady state under the structural start). One household evaluation per step, plus one at
    the start. With a first-order start the search starts from yesterday's solution moved by
    the first-order change of today's unknowns (:meth:`SavingsProblem.linear_nowcast`), whose
    error is second order in the shocks: one step fewer reaches the same residuals
    (docs/theory.md §13). ``steps=None``: 5, or 4 from such a start (5 when ``exact``).

    ``exact`` (an economy whose aggregate block has a kink, such as a lower bound on the policy
    rate): every step is Newton's with the targets' Jacobian at the candidate instead (forward
    differences, one more evaluation per unknown), so that a date on the other side of the
    kink from yesterday's is solved with that side's derivatives, which a carried Jacobian only
    learns over several rank-one updates.
    """

    #: the structural start scales its continuation by the expected return
    scales_by_return = True

    unknowns: tuple = eqx.field(static=True)
    targets: tuple = eqx.field(static=True)
    observed: tuple = eqx.field(static=True)
    forward_targets: tuple = eqx.field(static=True)
    market_names: tuple = eqx.field(static=True)
    jacobian: Array | None = None
    steps: int | None = eqx.field(static=True, default=None)
    exact: bool = eqx.field(static=True, default=False)

    def __check_init__(self):
        if self.steps is not None and self.steps < 1:
            raise ValueError(f"ForecastClearing.steps must be at least 1; got {self.steps}")

    def search_steps(self, problem) -> int:
        """The quasi-Newton steps a date takes (``steps``, or its default for ``problem``)."""
        if self.steps is not None:
            return self.steps
        nowcast = problem.first_order is not None and problem.first_order.impact is not None
        return 4 if nowcast and not self.exact else 5

    @property
    def names(self):
        return self.unknowns

    def initial_carry(self, problem, policy):
        ss = problem.ss_values
        carry = {k: ss[k] for k in self.unknowns + tuple(problem.model.exogenous)}
        seen = jnp.stack([ss[k] for k in self.observed])
        return dict(carry, history=policy.forecaster.init_carry(), jacobian=self.jacobian,
                    seen=seen, nowcast=jnp.zeros((len(self.unknowns),), seen.dtype))

    def forecast(self, problem, policy, z, carry):
        """``E_t[U_{t+1}]`` (the forecaster's) and the expected exogenous variables."""
        exo, exo_next = _exogenous(problem, z)
        exo_obs = jnp.concatenate([jnp.stack([exo[k] for k in problem.model.exogenous]),
                                   _queue(problem, z)])
        U_next = policy.forecaster.predict(carry["history"], exo_obs) + \
            problem.linear_forecast(z)
        return exo, {**{u: U_next[j] for j, u in enumerate(self.unknowns)}, **exo_next}

    def observation(self, problem, z, prev, now_exo):
        """What the households observe today: yesterday's prices, not the candidates (the
        learned correction does not move with the candidate, so the households' supply is the
        structural start's, smooth in prices), today's exogenous variables and the
        announcements."""
        return jnp.concatenate([prev["seen"],
                                jnp.stack([now_exo[k] for k in problem.model.exogenous]),
                                _queue(problem, z)])

    def evaluate(self, problem, mu, z, prev, now_exo, nxt, act, U, reading=None):
        """Today's targets at candidate unknowns ``U``, and what the households chose
        (``reading``: the policy's reading of today's observation, where ``act`` offers one)."""
        model = problem.model
        now = {**{u: U[j] for j, u in enumerate(self.unknowns)}, **now_exo}
        keys = list(now)
        v = _variables(problem, [{k: prev[k] for k in keys}, now, {k: nxt[k] for k in keys}])
        budget = model.budget({k: v[k][1] for k in model.household_inputs})
        R_next = model.budget({k: v[k][2] for k in model.household_inputs}).R
        obs = self.observation(problem, z, prev, now_exo)
        out = (act(budget, R_next / problem.R_ss, obs) if reading is None
               else act(budget, R_next / problem.R_ss, obs, reading))
        _household_aggregates(problem, v, mu, out)
        res = model.residuals(v)
        return jnp.stack([res[k][1] for k in self.targets]), (budget, obs, out, v, res)

    def clear(self, problem, policy, mu, z, carry, act):
        model = problem.model
        exo, nxt = self.forecast(problem, policy, z, carry)
        # the households' observation does not move with the candidate: the policy reads it
        # once, not at every step of the search
        reading = act.read(self.observation(problem, z, carry, exo)) \
            if hasattr(act, "read") else None

        def F(U):
            return self.evaluate(problem, mu, z, carry, exo, nxt, act, U, reading)

        # the search starts from yesterday's solution moved by what the first-order solution
        # says moved since (zero without a first-order start): its error is second order
        nowcast = problem.linear_nowcast(z)
        U0 = jnp.stack([carry[u] for u in self.unknowns]) + nowcast - carry["nowcast"]

        def body(_, state):
            U, F_U, J = state
            if self.exact:
                # no rank-one update: at a converged date the step is zero, and the update's
                # division by it would make the gradient not finite
                J = forward_difference_jacobian(lambda x: F(x)[0], U)
                dx = -jnp.linalg.solve(J, F_U)
                return U + dx, F(U + dx)[0], J
            dx = -jnp.linalg.solve(J, F_U)
            F_new = F(U + dx)[0]
            return U + dx, F_new, broyden_update(J, dx, F_new - F_U)

        U, F_U, J = jax.lax.fori_loop(0, self.search_steps(problem) - 1, body,
                                      (U0, F(U0)[0], carry["jacobian"]))
        # the last step outside the loop: the households' choices at the solution depend on the
        # policy only directly (the solution is a stop-gradient: they take prices as given)
        if self.exact:
            J = forward_difference_jacobian(lambda x: F(x)[0], jax.lax.stop_gradient(U))
        dx = -jnp.linalg.solve(J, F_U)
        U = jax.lax.stop_gradient(U + dx)
        err, (budget, obs, out, v, res) = F(U)
        J = J if self.exact else broyden_update(J, dx, err - F_U)
        record = {k: v[k][1] for k in v.keys() if k not in ("A", "C")}
        record.update({k: r[1] for k, r in res.items() if k not in self.forward_targets})
        new_carry = {k: v[k][1] for k in self.unknowns + tuple(model.exogenous)}
        new_carry["history"] = policy.forecaster.update(carry["history"], obs)
        new_carry["jacobian"] = J
        new_carry["seen"] = jnp.stack([v[k][1] for k in self.observed])
        new_carry["nowcast"] = nowcast
        return budget, obs, out, new_carry, record, jnp.max(jnp.abs(err))

    def steady_state_jacobian(self, problem, policy, act, step: float = 1e-7):
        """``dF/dU`` of today's targets at the steady state (forward differences), the starting
        Jacobian of the quasi-Newton iteration; ``act(budget, factor, observation)``: the
        households' choices from the policy's first state."""
        carry = self.initial_carry(problem, policy)
        z = jnp.zeros((problem.n_state,), problem.a_grid.dtype)
        exo, nxt = self.forecast(problem, policy, z, carry)

        def F(U):
            return self.evaluate(problem, problem.mu_ss, z, carry, exo, nxt, act, U)[0]

        U0 = jnp.stack([carry[u] for u in self.unknowns])
        return forward_difference_jacobian(F, U0, step)

    def expected_residuals(self, problem, prev, now, hh, nodes, weights):
        """``E_t`` of each forward-looking target at ``t`` over next date's quadrature nodes
        (``nodes``: the carries after date ``t + 1`` at each node; ``hh``: today's ``A, C, N``)."""
        model = problem.model
        keys = list(self.unknowns) + list(model.exogenous)

        def one(nxt):
            v = _variables(problem, [{k: prev[k] for k in keys}, {k: now[k] for k in keys},
                                     {k: nxt[k] for k in keys}])
            for k, x in hh.items():
                v[k] = jnp.full((3,), x)
            res = model.residuals(v)
            return jnp.stack([res[k][1] for k in self.forward_targets])

        return jnp.sum(weights[:, None] * jax.vmap(one)(nodes), axis=0)


def _forward_targets(model, ss_values) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The transition targets whose date-``t`` residual moves with next date's unknowns, and
    the names of the economy's other residuals."""
    keys = list(model.transition_unknowns) + list(model.exogenous)
    base = {k: jnp.asarray(ss_values[k], dtype=float) for k in keys}
    out = []
    for u in model.transition_unknowns:
        nxt = dict(base, **{u: base[u] + 1e-3 * (1.0 + jnp.abs(base[u]))})
        rows = []
        for last in (base, nxt):
            v = Variables({k: jnp.stack([base[k], base[k], last[k]]) for k in keys},
                          ss=ss_values)
            model.aggregates(v)
            for name in ("A", "C", "N"):
                v[name] = jnp.full((3,), jnp.asarray(ss_values[name], dtype=float))
            res = model.residuals(v)
            rows.append({k: float(res[k][1]) for k in res})
        out += [k for k in rows[0] if rows[0][k] != rows[1][k] and k not in out]
    return tuple(out), tuple(k for k in rows[0] if k not in out)


def carried_unknown(model, ss_values) -> str | None:
    """The transition unknown that is what the households carry out of a date, or ``None``.

    That is an economy with one transition unknown ``U`` and one target whose residual at
    ``t`` reads ``A_t`` and ``U_t`` only through ``A_t - U_t`` (the market clears when ``U_t``
    is the households' saving) and whose household inputs at ``t`` do not read ``U_t``:
    Krusell–Smith's ``K_next`` (Aiyagari's, the paper's model's), ``K`` of Krusell–Smith with
    unemployment. The capital in place at ``t`` is then ``U_{t-1} = sum mu_t a``, and the
    prices of every date follow in closed form from the distribution
    (:class:`ClosedFormPrices`). Checked on the aggregate block at the steady state, moving
    ``U_t`` and ``A_t`` by the same step.
    """
    if len(model.transition_unknowns) != 1 or len(model.transition_targets) != 1:
        return None
    u, target = model.transition_unknowns[0], model.transition_targets[0]
    keys = [u] + list(model.exogenous)
    base = {k: jnp.asarray(ss_values[k], dtype=float) for k in keys}
    step = 1e-3 * (1.0 + jnp.abs(base[u]))

    def at(du, dA):
        v = Variables({k: jnp.stack([base[k], base[k] + (du if k == u else 0.0)]) for k in keys},
                      ss=ss_values)
        model.aggregates(v)
        for name in ("A", "C", "N"):
            v[name] = jnp.full((2,), jnp.asarray(ss_values[name], dtype=float))
        v["A"] = v["A"] + jnp.asarray([0.0, dA])
        inputs = jnp.stack([jnp.broadcast_to(v[k], (2,))[1] for k in model.household_inputs])
        return float(model.residuals(v)[target][1]), inputs

    (r0, x0), (r_both, x_u), (r_A, _) = at(0.0, 0.0), at(step, step), at(0.0, step)
    linear = abs(r_both - r0) <= 1e-9 * float(step) < abs(r_A - r0)
    return u if linear and bool(jnp.all(x_u == x0)) else None


def check_timing(model, ss_values, forward: bool) -> None:
    """Refuse an economy whose date-``t`` conditions read dates the rollout does not hold.

    Under aggregate risk the aggregate block runs date by date on a short window: yesterday's
    solution (the transition unknowns and exogenous variables it carried), today's, and —
    with the firms' forecast (``forward``) — tomorrow's forecast; the households' ``A, C, N``
    exist for today only. A lead of a lead, a lag of a variable that itself reads a lag, or a
    lag of the households' aggregates would silently read the steady state there. The check
    differentiates today's targets, household inputs and observed aggregates on a 7-date path
    around a perturbed steady state and names every input read outside the window.
    """
    T, t = 7, 3
    window = (-1, 0, 1) if forward else (-1, 0)
    keys = tuple(model.transition_unknowns) + tuple(model.exogenous)
    house = ("A", "C", "N")
    rng = np.random.default_rng(0)
    base = {k: jnp.asarray(ss_values[k], float)
            * (1.0 + 1e-3 * jnp.asarray(rng.standard_normal(T)))
            + 1e-4 * jnp.asarray(rng.standard_normal(T)) for k in keys + house}
    outputs = tuple(dict.fromkeys(tuple(model.transition_targets) + tuple(model.household_inputs)
                                  + tuple(model.observed)))

    def today(paths):
        v = Variables({k: paths[k] for k in keys}, ss=ss_values)
        model.aggregates(v)
        for k in house:
            v[k] = paths[k]
        res = model.residuals(v)
        return {o: (res[o] if o in res else v[o])[t] for o in outputs}

    J = jax.jacobian(today)(base)
    bad = []
    for o in outputs:
        for k in keys + house:
            allowed = (0,) if k in house else window
            for d in np.flatnonzero(np.asarray(J[o][k]) != 0.0):
                if int(d) - t not in allowed:
                    bad.append(f"{o} reads {k} at t{int(d) - t:+d}")
    if bad:
        raise ValueError(
            f"{type(model).__name__}: under aggregate risk each date is solved from yesterday's "
            f"solution{', today and the forecast of tomorrow' if forward else ' and today'}, "
            f"but {'; '.join(bad)}. Write a variable that carries its own past (an inertial "
            "rule, debt) as a transition unknown with its law of motion as a transition target "
            "(docs/models.md, section 6)")
