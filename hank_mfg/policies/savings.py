"""Continuous savings policies for RSPG (docs/theory.md §12).

A savings policy plays, in every individual state ``(a, e)``, the share ``x`` of disposable
cash on hand ``m - a_min`` that is saved: ``a' = a_min + x (m - a_min)``, ``c = m - a'`` (with a
labour choice, ``c = (1 - x) c_max`` with ``c_max`` the consumption of a household that saves
the borrowing limit, hours from the intratemporal condition; docs/theory.md §13.2), with

    x = sigmoid(base(a, e; prices_t) + delta_theta(a, e; o_0..o_t)).

``base`` is a structural starting point the solver supplies each date (the logit of the
steady-state household's savings share at today's prices, one endogenous-grid step from the
steady-state continuation; docs/theory.md §12.2); ``delta`` is learned. A GRU reads the
normalised public history (its state is shared by every household) and an MLP maps its state
and, through a skip connection, the current observation itself (so that the response to news
does not wait for the recurrent state to fill) to

* ``head="knots"``: ``delta`` at a few dozen wealth knots for every income state, interpolated to
  the whole wealth grid by a fixed linear map built once with interpax (:func:`knot_matrix`) —
  the network runs once per date, whatever the size of the grid;
* ``head="state"``: ``delta`` state by state from an embedding of ``(a, e)`` and the history (the
  per-state MLP of the discrete policies; its cost grows with the grid).

The last layer starts at zero, so the untrained policy plays ``base`` exactly. No date input:
the policy is time invariant (infinite-horizon economics).
"""

from __future__ import annotations

import copy

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from .knots import knot_matrix, knot_points
from .networks import ACTIVATIONS

__all__ = ["SAVINGS_HEADS", "Forecaster", "SavingsPolicy", "expansion_carry", "expansion_step",
           "knot_matrix", "knot_points", "without_linear_term"]

#: Heads of :class:`SavingsPolicy`.
SAVINGS_HEADS = ("knots", "state")


#: GRU steps on the steady-state observation that make the starting history state.
SETTLE_STEPS = 32


def settled_carry(gru: eqx.nn.GRUCell, dtype):
    """The GRU's state after ``SETTLE_STEPS`` steady-state observations from zero.

    A path starts from the steady state, so its history is "at the steady state for a long time"
    — not the zero state, which the network would otherwise see only at each path's first date
    and learn poorly (measured: the response on impact was the one that missed). Differentiable
    in the GRU's parameters (the same state in the rollout and in the gradient's replay).
    """
    x = jnp.zeros((gru.input_size,), dtype)  # the steady-state observation, normalised

    def body(h, _):
        return gru(x, h), None

    h0 = jnp.zeros((gru.hidden_size,), x.dtype)
    return jax.lax.scan(body, h0, None, length=SETTLE_STEPS)[0]


def _check_linear(owner: str, linear) -> bool:
    if not isinstance(linear, (bool, np.bool_)):
        raise ValueError(f"{owner}.linear must be True or False; got {linear!r}")
    return bool(linear)


def expansion_carry(h):
    """The history state of a correction without a linear term (``linear=False``): the GRU's
    state ``h``, its first-order deviation ``dh`` (zero) and the state ``h_ss`` of an economy
    that has stayed at its steady state, stacked."""
    return jnp.concatenate([h, jnp.zeros_like(h), h])


def expansion_step(gru: eqx.nn.GRUCell, carry, x):
    """One observation ``x`` (normalised: zero at the steady state) of a history state that also
    carries its first-order expansion about the steady-state history.

    The state moves as ``h' = GRU(x, h)``; its deviation to first order as ``dh' = A dh + B x``
    with ``A, B`` the GRU's derivatives at the steady-state history ``(h_ss, 0)`` (one
    Jacobian-vector product, no matrix), and ``h_ss' = GRU(0, h_ss)``. Returns the new carry
    and the expansion point and direction of today's features ``(h, x)``: ``(h_ss', 0)`` and
    ``(dh', x)``."""
    n = gru.hidden_size
    h, dh, h_ss = carry[:n], carry[n:2 * n], carry[2 * n:]
    zero = jnp.zeros_like(x)
    h = gru(x, h)
    h_ss, dh = jax.jvp(lambda hh, xx: gru(xx, hh), (h_ss, zero), (dh, x))
    point = jnp.concatenate([h_ss, zero])
    return jnp.concatenate([h, dh, h_ss]), point, jnp.concatenate([dh, x])


def without_linear_term(f, features, point, direction):
    """``f(features) - f'(point) direction``: ``f`` less its first-order term about the
    steady-state history, so that a constant and the terms of second and higher order remain."""
    _, linear = jax.jvp(f, (point,), (direction,))
    return f(features) - linear


def _zero_last(layer: eqx.nn.Linear) -> eqx.nn.Linear:
    layer = eqx.tree_at(lambda l: l.weight, layer, jnp.zeros_like(layer.weight))
    return eqx.tree_at(lambda l: l.bias, layer, jnp.zeros_like(layer.bias))


class SavingsPolicy(eqx.Module):
    """Recurrent savings policy: GRU on the public history, knot or per-state head.

    Args:
        a_grid: the wealth grid ``(n_a,)``. n_income: income states. obs_ref, obs_scale: the
            observation is fed as ``(o - obs_ref) / obs_scale`` (fixed, not trained).
        key: initialisation. hidden: GRU width. widths: MLP widths. activation: see
            ``ACTIVATIONS``. head: ``"knots"`` or ``"state"``. n_knots: knots per income state.
        recurrent: ``False`` replaces the GRU by a feed-forward embedding of the current
            observation (the memoryless SPG ablation).
        linear: ``False`` removes the correction's first-order term in the history's deviation
            from the steady state (:func:`expansion_step`): the correction is then a constant
            plus terms of second and higher order; the solver then applies it so that the
            constant keeps the start's slope (``corrected_share`` in
            :mod:`hank_mfg.solvers.continuous`), and a start that is exact at first order stays
            so up to the move of the economy's level (docs/theory.md §12.12).

    Protocol: ``carry = init_carry()``; ``carry, delta = step(carry, obs)`` with ``delta``
    ``(n_a, n_e)``; :meth:`deltas` replays a recorded observation path.
    """

    gru: eqx.nn.GRUCell | None
    obs_in: eqx.nn.Linear | None
    layers: tuple[eqx.nn.Linear, ...]
    out: eqx.nn.Linear
    state_in: eqx.nn.Linear | None
    obs_ref: Float[Array, " n_obs"]
    obs_scale: Float[Array, " n_obs"]
    W: Float[Array, "n_a n_knots"]
    state_feats: Float[Array, "n_s 2"]
    n_income: int = eqx.field(static=True)
    head: str = eqx.field(static=True)
    activation: str = eqx.field(static=True)
    linear: bool = eqx.field(static=True)
    forecaster: Forecaster | None

    def __init__(self, a_grid, n_income: int, obs_ref, obs_scale, *, key: PRNGKeyArray,
                 hidden: int = 64, widths: tuple[int, ...] = (64, 64), activation: str = "tanh",
                 head: str = "knots", n_knots: int = 24, recurrent: bool = True,
                 linear: bool = True):
        if head not in SAVINGS_HEADS:
            raise ValueError(f"SavingsPolicy.head must be one of {SAVINGS_HEADS}; got {head!r}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"SavingsPolicy.activation must be one of {sorted(ACTIVATIONS)}; "
                             f"got {activation!r}")
        widths = tuple(int(w) for w in widths)
        if not widths or min(widths) < 1:
            raise ValueError(f"SavingsPolicy.widths must be a non-empty tuple of positive ints; "
                             f"got {widths!r}")
        a_grid = np.asarray(a_grid, dtype=np.float64)
        dtype = jnp.asarray(obs_ref).dtype
        d_obs = int(np.shape(obs_ref)[0])
        keys = jax.random.split(key, 4 + len(widths))
        self.gru = eqx.nn.GRUCell(d_obs, hidden, key=keys[0]) if recurrent else None
        self.obs_in = None if recurrent else eqx.nn.Linear(d_obs, hidden, key=keys[0])
        self.n_income, self.head, self.activation = int(n_income), head, activation
        self.linear = _check_linear("SavingsPolicy", linear)
        self.obs_ref = jnp.asarray(obs_ref)
        self.obs_scale = jnp.asarray(obs_scale)
        span = a_grid[-1] - a_grid[0]
        fa = 2.0 * np.log1p(a_grid - a_grid[0]) / np.log1p(span) - 1.0
        fe = 2.0 * np.arange(n_income) / max(n_income - 1, 1) - 1.0
        feats = np.stack([np.repeat(fa, n_income), np.tile(fe, a_grid.shape[0])], axis=-1)
        self.state_feats = jnp.asarray(feats, dtype=dtype)
        d_in = hidden + (d_obs if recurrent else 0)  # GRU state and the current observation
        if head == "knots":
            knots = knot_points(a_grid, n_knots)
            self.W = jnp.asarray(knot_matrix(a_grid, knots), dtype=dtype)
            self.state_in = None
            n_out = knots.shape[0] * n_income
        else:
            self.W = jnp.zeros((a_grid.shape[0], 0), dtype=dtype)
            self.state_in = eqx.nn.Linear(2, widths[0], key=keys[1])
            n_out = 1
        sizes = (d_in,) + widths
        self.layers = tuple(eqx.nn.Linear(sizes[i], sizes[i + 1], key=keys[2 + i])
                            for i in range(len(widths)))
        self.out = _zero_last(eqx.nn.Linear(widths[-1], n_out, key=keys[-1]))
        self.forecaster = None

    def with_forecaster(self, forecaster: Forecaster) -> SavingsPolicy:
        """The same policy with the firms' :class:`Forecaster` attached (economies whose
        equilibrium conditions look ahead)."""
        return eqx.tree_at(lambda p: p.forecaster, self, forecaster,
                           is_leaf=lambda x: x is None)

    def init_carry(self):
        """The history state of an economy that has been at its steady state: the GRU run on the
        steady-state observation until it settles (:func:`settled_carry`), so that the state at
        the first date is one the network trains on at every date."""
        if self.gru is None:
            return jnp.zeros((0,), self.obs_ref.dtype)
        h = settled_carry(self.gru, self.obs_ref.dtype)
        return h if self.linear else expansion_carry(h)

    def _norm(self, obs):
        ref, scale = jax.lax.stop_gradient((self.obs_ref, self.obs_scale))
        return (obs - ref) / scale

    def encode(self, carry, obs):
        """The history state after observing ``obs``: ``(new carry, features)``."""
        x = self._norm(obs)
        if self.gru is not None:
            h = self.gru(x, carry)
            return h, jnp.concatenate([h, x])  # the current observation also skips the GRU
        return carry, ACTIVATIONS[self.activation](self.obs_in(x))

    def delta(self, h) -> Float[Array, "n_a n_e"]:
        """The learned logit correction on the whole grid from history features ``h``."""
        act = ACTIVATIONS[self.activation]
        n_a = self.state_feats.shape[0] // self.n_income
        if self.head == "knots":
            for layer in self.layers:
                h = act(layer(h))
            D = self.out(h).reshape(-1, self.n_income)  # (n_knots, n_e)
            return jax.lax.stop_gradient(self.W) @ D
        feats = jax.lax.stop_gradient(self.state_feats)
        z = jax.vmap(self.state_in)(feats) + self.layers[0](h)[None, :] - self.layers[0].bias
        z = act(z)
        for layer in self.layers[1:]:
            z = act(jax.vmap(layer)(z))
        return jax.vmap(self.out)(z).reshape(n_a, self.n_income)

    def step(self, carry, obs):
        if self.linear:
            carry, h = self.encode(carry, obs)
            return carry, self.delta(h)
        x = self._norm(obs)
        if self.gru is None:
            embed = lambda v: ACTIVATIONS[self.activation](self.obs_in(v))  # noqa: E731
            return carry, without_linear_term(lambda v: self.delta(embed(v)), x,
                                              jnp.zeros_like(x), x)
        carry, point, direction = expansion_step(self.gru, carry, x)
        n = self.gru.hidden_size
        return carry, without_linear_term(self.delta, jnp.concatenate([carry[:n], x]),
                                          point, direction)

    def with_linear(self, linear: bool) -> SavingsPolicy:
        """The same parameters with the correction's linear term kept (``True``) or removed (the
        firms' forecaster's too)."""
        new = _with_static(self, linear=_check_linear("SavingsPolicy", linear))
        if self.forecaster is not None:
            object.__setattr__(new, "forecaster", self.forecaster.with_linear(linear))
        return new

    def deltas(self, obs: Float[Array, "T n_obs"]) -> Float[Array, "T n_a n_e"]:
        """``delta_t`` after the public history ``obs[0..t]`` for every date of a fixed path."""
        def body(carry, o):
            return self.step(carry, o)

        return jax.lax.scan(body, self.init_carry(), obs)[1]


class Forecaster(eqx.Module):
    """The firms' forecast of next date's equilibrium unknowns from the public history.

    Equilibrium conditions that look ahead (a Phillips curve's expected inflation) need
    ``E_t[U_{t+1}]`` before today's prices exist. A GRU reads the public observations of past
    dates (the households' observation vector, normalised the same way); an MLP maps its state
    and today's exogenous observations (shocks and announcements: the slice ``obs[n_priced:]``
    of today's observation, known before prices form) to ``U_{t+1} = ref + scale * out``.
    Trained by least squares on the realised ``U_{t+1}`` along simulated paths (the conditional
    expectation is the minimiser; docs/theory.md §13.2). The last layer starts at zero: the
    untrained forecast is the steady state.
    """

    gru: eqx.nn.GRUCell
    layers: tuple[eqx.nn.Linear, ...]
    out: eqx.nn.Linear
    obs_ref: Float[Array, " n_obs"]
    obs_scale: Float[Array, " n_obs"]
    ref: Float[Array, " n_u"]
    scale: Float[Array, " n_u"]
    n_priced: int = eqx.field(static=True)
    activation: str = eqx.field(static=True)
    linear: bool = eqx.field(static=True)

    def __init__(self, obs_ref, obs_scale, ref, scale, n_priced: int, *, key: PRNGKeyArray,
                 hidden: int = 32, widths: tuple[int, ...] = (64, 64), activation: str = "tanh",
                 linear: bool = True):
        d_obs = int(np.shape(obs_ref)[0])
        n_u = int(np.shape(ref)[0])
        if not 0 <= n_priced <= d_obs:
            raise ValueError(f"Forecaster.n_priced must lie in [0, {d_obs}]; got {n_priced}")
        widths = tuple(int(w) for w in widths)
        keys = jax.random.split(key, 2 + len(widths))
        self.gru = eqx.nn.GRUCell(d_obs, hidden, key=keys[0])
        sizes = (hidden + d_obs - n_priced,) + widths
        self.layers = tuple(eqx.nn.Linear(sizes[i], sizes[i + 1], key=keys[1 + i])
                            for i in range(len(widths)))
        self.out = _zero_last(eqx.nn.Linear(widths[-1], n_u, key=keys[-1]))
        self.obs_ref, self.obs_scale = jnp.asarray(obs_ref), jnp.asarray(obs_scale)
        self.ref, self.scale = jnp.asarray(ref), jnp.asarray(scale)
        self.n_priced, self.activation = int(n_priced), activation
        self.linear = _check_linear("Forecaster", linear)

    def init_carry(self):
        """The history state after a long stay at the steady state (:func:`settled_carry`);
        with ``linear=False`` also its first-order deviation and the steady-state history's
        state (:func:`expansion_carry`)."""
        h = settled_carry(self.gru, self.obs_ref.dtype)
        return h if self.linear else expansion_carry(h)

    def _norm(self, obs):
        ref, scale = jax.lax.stop_gradient((self.obs_ref, self.obs_scale))
        return (obs - ref) / scale

    def predict(self, carry, exo_obs) -> Float[Array, " n_u"]:
        """``E_t[U_{t+1}]`` from the history state and today's exogenous observations."""
        ref, scale = jax.lax.stop_gradient((self.obs_ref, self.obs_scale))
        x = (exo_obs - ref[self.n_priced:]) / scale[self.n_priced:]
        ref, scale = jax.lax.stop_gradient((self.ref, self.scale))
        if self.linear:
            return ref + scale * self._head(jnp.concatenate([carry, x]))
        n = self.gru.hidden_size
        h, dh, h_ss = carry[:n], carry[n:2 * n], carry[2 * n:]
        zero = jnp.zeros_like(x)
        out = without_linear_term(self._head, jnp.concatenate([h, x]),
                                  jnp.concatenate([h_ss, zero]), jnp.concatenate([dh, x]))
        return ref + scale * out

    def _head(self, features):
        act = ACTIVATIONS[self.activation]
        for layer in self.layers:
            features = act(layer(features))
        return self.out(features)

    def update(self, carry, obs):
        """The history state after today's full observation."""
        if self.linear:
            return self.gru(self._norm(obs), carry)
        return expansion_step(self.gru, carry, self._norm(obs))[0]

    def with_linear(self, linear: bool) -> Forecaster:
        """The same parameters with the forecast's linear term kept (``True``) or removed."""
        return _with_static(self, linear=_check_linear("Forecaster", linear))

    def forecasts(self, obs: Float[Array, "T n_obs"]) -> Float[Array, "T n_u"]:
        """The forecast made at every date of a recorded observation path."""
        def body(carry, o):
            return self.update(carry, o), self.predict(carry, o[self.n_priced:])

        return jax.lax.scan(body, self.init_carry(), obs)[1]


def _with_static(module, **fields):
    """A copy of ``module`` with static fields replaced (the parameters are shared)."""
    new = copy.copy(module)
    for name, value in fields.items():
        object.__setattr__(new, name, value)
    return new


def trainable(policy: SavingsPolicy):
    """Filter spec of the trained leaves (every float array but the fixed normalisation data)."""
    spec = jax.tree_util.tree_map(eqx.is_inexact_array, policy)
    spec = eqx.tree_at(lambda p: (p.obs_ref, p.obs_scale, p.W, p.state_feats), spec,
                       replace=(False, False, False, False))
    if policy.forecaster is not None:
        spec = eqx.tree_at(lambda p: (p.forecaster.obs_ref, p.forecaster.obs_scale,
                                      p.forecaster.ref, p.forecaster.scale), spec,
                           replace=(False, False, False, False))
    return spec
