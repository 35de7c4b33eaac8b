"""Equinox policies over a discrete action grid (docs/theory.md §6.3).

A policy maps the shared observation history to a policy table ``P[s, k]`` for every
individual state at once. Protocol (what the rollout calls):

* ``carry = policy.init_carry()`` — reset at ``t = 0``;
* ``cache = policy.prepare()`` — work that does not depend on time (state embeddings);
* ``carry, P = policy.step(carry, obs, t, cache)`` — one date.

:class:`RecurrentPolicy` (RSPG): a GRU reads only the normalised shared observation (its hidden
state is the same for every household), its output is broadcast to every individual state and
concatenated with an embedding of the normalised individual state, then an MLP produces either a
Beta distribution over the action grid (log-density at the grid points, softmaxed: keeps the
order of actions) or free categorical logits. :class:`MemorylessPolicy` (SPG) is the same with a
feed-forward embedding of the current observation instead of the GRU. :class:`TablePolicy` and
:class:`TimeTablePolicy` play fixed tables.
"""

from __future__ import annotations

import abc
from typing import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int, PRNGKeyArray

from ..operators.compile import AnyMeanField
from .knots import knot_matrix, knot_points

__all__ = [
    "ACTIVATIONS",
    "HEADS",
    "PAPER_ARCHITECTURE",
    "AbstractPolicy",
    "MemorylessPolicy",
    "RecurrentPolicy",
    "TablePolicy",
    "TimeTablePolicy",
    "head_for_mean",
    "make_policy",
]

ACTIVATIONS: dict[str, Callable] = {
    "relu": jax.nn.relu,
    "tanh": jnp.tanh,
    "gelu": jax.nn.gelu,
    "silu": jax.nn.silu,
    "elu": jax.nn.elu,
}
HEADS = ("beta", "categorical")
#: The paper's defaults: GRU width 128, MLP 128-128, ReLU, Beta head.
PAPER_ARCHITECTURE = dict(hidden=128, widths=(128, 128), activation="relu", head="beta")


class AbstractPolicy(eqx.Module):
    """Interface: ``init_carry``, ``prepare``, ``step`` (see module docstring)."""

    def init_carry(self):
        return jnp.zeros((0,))

    def prepare(self):
        return None

    @abc.abstractmethod
    def step(self, carry, obs, t, cache):
        """Advance one date: returns the new carry and the table ``P[s, k]``."""

    def sequence_tables(self, obs: Float[Array, "T n_obs"]) -> Float[Array, "T n_s n_k"]:
        """Tables ``P_t`` after the public history ``obs[0..t]`` for every ``t`` (a fixed path).

        Generic version: ``step`` under ``lax.scan``. (Measured: faster on CPU than a vectorised replay that
        materialises all dates at once.)
        """
        cache = self.prepare()

        def body(carry, xs):
            t, o = xs
            return self.step(carry, o, t, cache)

        _, P = jax.lax.scan(body, self.init_carry(), (jnp.arange(obs.shape[0]), obs))
        return P


class TablePolicy(AbstractPolicy):
    """A fixed ``n_states x n_actions`` table played at every date and every history."""

    P: Float[Array, "n_s n_k"]

    def step(self, carry, obs, t, cache):
        return carry, jax.lax.stop_gradient(self.P)


class TimeTablePolicy(AbstractPolicy):
    """A date-dependent table ``P[t, s, k]`` (e.g. a best response without common noise)."""

    P: Float[Array, "T n_s n_k"]

    def step(self, carry, obs, t, cache):
        return carry, jax.lax.stop_gradient(self.P[t])


class _Trunk(eqx.Module):
    """Shared MLP: state embedding ++ history embedding -> hidden layers -> head outputs."""

    state_in: eqx.nn.Linear
    first_state: eqx.nn.Linear
    first_hist: eqx.nn.Linear
    hidden_layers: tuple[eqx.nn.Linear, ...]
    head: eqx.nn.Linear
    activation: str = eqx.field(static=True)
    head_kind: str = eqx.field(static=True)

    def __init__(self, d_state, d_hist, widths, n_out, activation, head_kind, head_scale, *, key):
        keys = jax.random.split(key, 4 + len(widths))
        w0 = widths[0]
        self.state_in = eqx.nn.Linear(d_state, w0, key=keys[0])
        self.first_state = eqx.nn.Linear(w0, w0, key=keys[1])
        self.first_hist = eqx.nn.Linear(d_hist, w0, use_bias=False, key=keys[2])
        self.hidden_layers = tuple(
            eqx.nn.Linear(widths[i], widths[i + 1], key=keys[3 + i]) for i in range(len(widths) - 1)
        )
        self.head = head_layer(widths[-1], n_out, head_scale, keys[-1])
        self.activation = activation
        self.head_kind = head_kind

    def state_part(self, feats):
        act = ACTIVATIONS[self.activation]
        emb = act(jax.vmap(self.state_in)(feats))
        return jax.vmap(self.first_state)(emb)  # (n_s, w0): time-invariant, computed once

    def outputs(self, state_part, hist):
        """The head's outputs in every state whose precomputed ``state_part`` is given."""
        act = ACTIVATIONS[self.activation]
        h = act(state_part + self.first_hist(hist)[None, :])
        for layer in self.hidden_layers:
            h = act(jax.vmap(layer)(h))
        return jax.vmap(self.head)(h)

    def table(self, state_part, hist, action_x):
        return head_table(self.outputs(state_part, hist), action_x, self.head_kind)


def head_layer(d_in, n_out, head_scale, key) -> eqx.nn.Linear:
    """The output layer: default initialisation with its weights times ``head_scale``, zero bias.

    With zero bias the start is centred on the uniform distribution (categorical) or a symmetric
    Beta(1.7, 1.7) (share about one half); ``head_scale`` sets how much the first tables vary
    across states and histories (0.01: nearly the same everywhere).
    """
    head = eqx.nn.Linear(d_in, n_out, key=key)
    head = eqx.tree_at(lambda l: l.weight, head, head.weight * head_scale)
    return eqx.tree_at(lambda l: l.bias, head, jnp.zeros_like(head.bias))


def head_table(out: Float[Array, "n_s n_out"], action_x: Float[Array, " n_k"],
               head_kind: str) -> Float[Array, "n_s n_k"]:
    """The policy table from the head's outputs in every state.

    ``beta``: ``(a, b) = 1 + softplus(out)`` and the Beta(a, b) log-density at the actions'
    coordinates, softmaxed over the grid (``log B(a, b)`` cancels; keeps the order of the
    actions). ``categorical``: ``out`` are the logits.
    """
    if head_kind == "beta":
        ab = 1.0 + jax.nn.softplus(out)
        logits = ((ab[:, :1] - 1.0) * jnp.log(action_x)[None, :]
                  + (ab[:, 1:] - 1.0) * jnp.log1p(-action_x)[None, :])
    else:
        logits = out
    return jax.nn.softmax(logits, axis=-1)


class _KnotTrunk(eqx.Module):
    """The per-state trunk evaluated only at ``n_knots`` wealth knots of every income state, its
    head's outputs interpolated linearly in wealth to the whole grid (:mod:`.knots`).

    The same network as :class:`_Trunk` (the state embedding is computed once, the history part
    per date), on ``n_knots * n_e`` states instead of ``n_a * n_e``: the table's dependence on
    wealth is the interpolant between the knots' Beta parameters (or logits).
    """

    trunk: _Trunk
    knot_rows: Int[Array, " n_knot_states"]
    W: Float[Array, "n_a n_knots"]
    n_income: int = eqx.field(static=True)

    def __init__(self, a_grid, n_income, trunk: _Trunk, n_knots: int):
        a = np.asarray(a_grid, dtype=np.float64)
        knots = knot_points(a, n_knots)
        ia = np.searchsorted(a, knots)  # knots are grid points
        self.knot_rows = jnp.asarray((ia[:, None] * n_income + np.arange(n_income)).reshape(-1))
        self.W = jnp.asarray(knot_matrix(a, knots), dtype=jnp.asarray(a_grid).dtype)
        self.trunk, self.n_income = trunk, int(n_income)

    @property
    def head(self):
        return self.trunk.head

    @property
    def head_kind(self):
        return self.trunk.head_kind

    @property
    def activation(self):
        return self.trunk.activation

    def state_part(self, feats):
        return self.trunk.state_part(feats[self.knot_rows])

    def table(self, state_part, hist, action_x):
        out = self.trunk.outputs(state_part, hist)                 # (n_knots * n_e, n_out)
        n_out = out.shape[-1]
        out = jax.lax.stop_gradient(self.W) @ out.reshape(-1, self.n_income * n_out)
        # states are ordered wealth-major: s = i_a * n_e + i_e
        return head_table(out.reshape(-1, n_out), action_x, self.head_kind)


@eqx.filter_jit  # one compiled program rather than one per operation
def _reference_inputs(mf: AnyMeanField):
    """The observation at the initial distribution and the normalised state features."""
    return mf.reference_observation(), mf.state_features()


class _Normaliser(eqx.Module):
    """Fixed (non-trained) normalisation of observations, state features and time."""

    obs_ref: Float[Array, " n_obs"]
    obs_scale: Float[Array, " n_obs"]
    state_feats: Float[Array, "n_s d"]
    action_x: Float[Array, " n_k"]
    horizon: int = eqx.field(static=True)
    time_input: bool = eqx.field(static=True)

    @staticmethod
    def build(mf: AnyMeanField, time_input: bool) -> "_Normaliser":
        o_ref, feats = _reference_inputs(mf)
        return _Normaliser(
            obs_ref=o_ref,
            obs_scale=jnp.abs(o_ref) + 1e-3,
            state_feats=feats,
            action_x=mf.action_coordinates(),
            horizon=mf.horizon,
            time_input=time_input,
        )

    @property
    def d_in(self) -> int:
        return self.obs_ref.shape[0] + (1 if self.time_input else 0)

    def inputs(self, obs, t):
        # The normaliser is fixed data, not a parameter: no gradient flows into it.
        ref, scale = jax.lax.stop_gradient((self.obs_ref, self.obs_scale))
        x = (obs - ref) / scale
        if self.time_input:
            tt = 2.0 * jnp.asarray(t, x.dtype) / max(self.horizon - 1, 1) - 1.0
            x = jnp.concatenate([x, tt[None]])
        return x


class RecurrentPolicy(AbstractPolicy):
    """History-aware policy for RSPG: GRU over the public observation history + state MLP.

    Args:
        mf: compiled model (fixes n_states, n_actions, observation size and normalisation).
        key: PRNG key for initialisation. hidden: GRU width. widths: MLP widths.
        activation: one of ``ACTIVATIONS``. head: ``"beta"`` or ``"categorical"``.
        time_input: also feed the normalised date ``t`` (finite horizon).
    """

    gru: eqx.nn.GRUCell
    trunk: _Trunk
    norm: _Normaliser

    def __init__(self, mf: AnyMeanField, *, key: PRNGKeyArray, hidden: int = 128,
                 widths: tuple[int, ...] = (128, 128), activation: str = "relu",
                 head: str = "beta", time_input: bool = True, knots: int = 0,
                 head_scale: float = 0.01):
        k_gru, self.norm, self.trunk = _build("RecurrentPolicy", mf, key, hidden, widths,
                                              activation, head, time_input, knots, head_scale)
        self.gru = eqx.nn.GRUCell(self.norm.d_in, hidden, key=k_gru)

    def init_carry(self):
        return jnp.zeros((self.gru.hidden_size,), self.norm.obs_ref.dtype)

    def prepare(self):
        return self.trunk.state_part(jax.lax.stop_gradient(self.norm.state_feats))

    def encode(self, carry, obs, t):
        """``(carry, h)``: the GRU's new state, which is also the history's embedding."""
        h = self.gru(self.norm.inputs(obs, t), carry)
        return h, h

    def step(self, carry, obs, t, cache):
        carry, h = self.encode(carry, obs, t)
        return carry, self.trunk.table(cache, h, jax.lax.stop_gradient(self.norm.action_x))


class MemorylessPolicy(AbstractPolicy):
    """Memoryless policy for SPG: a feed-forward embedding of the current observation only."""

    obs_in: eqx.nn.Linear
    trunk: _Trunk
    norm: _Normaliser

    def __init__(self, mf: AnyMeanField, *, key: PRNGKeyArray, hidden: int = 128,
                 widths: tuple[int, ...] = (128, 128), activation: str = "relu",
                 head: str = "beta", time_input: bool = True, knots: int = 0,
                 head_scale: float = 0.01):
        k_obs, self.norm, self.trunk = _build("MemorylessPolicy", mf, key, hidden, widths,
                                              activation, head, time_input, knots, head_scale)
        self.obs_in = eqx.nn.Linear(self.norm.d_in, hidden, key=k_obs)

    def prepare(self):
        return self.trunk.state_part(jax.lax.stop_gradient(self.norm.state_feats))

    def encode(self, carry, obs, t):
        """``(carry, h)``: the carry unchanged and the current observation's embedding."""
        return carry, ACTIVATIONS[self.trunk.activation](self.obs_in(self.norm.inputs(obs, t)))

    def step(self, carry, obs, t, cache):
        carry, h = self.encode(carry, obs, t)
        return carry, self.trunk.table(cache, h, jax.lax.stop_gradient(self.norm.action_x))


def _build(owner, mf, key, hidden, widths, activation, head, time_input, knots, head_scale):
    """Shared construction: (key for the history encoder, normaliser, trunk)."""
    _check_arch(owner, widths, activation, head)
    if not isinstance(knots, (int, np.integer)) or knots < 0 or knots == 1:
        raise ValueError(f"{owner}.knots must be 0 (the network on every state) or an integer "
                         f">= 2; got {knots!r}")
    if not (np.isfinite(head_scale) and head_scale >= 0):
        raise ValueError(f"{owner}.head_scale must be finite and >= 0; got {head_scale!r}")
    k_hist, k_trunk = jax.random.split(key)
    norm = _Normaliser.build(mf, time_input)
    n_out = 2 if head == "beta" else mf.n_actions
    d_state = norm.state_feats.shape[-1]
    trunk = _Trunk(d_state, hidden, tuple(widths), n_out, activation, head, head_scale, key=k_trunk)
    if knots and not hasattr(mf, "a_grid"):
        raise ValueError(f"{owner}.knots interpolates along a wealth grid, which "
                         f"{type(mf.model).__name__} does not have; use knots=0 (table_head='state')")
    if knots:
        trunk = _KnotTrunk(mf.a_grid, mf.n_income, trunk, int(knots))
    return k_hist, norm, trunk


def _check_arch(owner, widths, activation, head):
    if activation not in ACTIVATIONS:
        raise ValueError(f"{owner}.activation must be one of {sorted(ACTIVATIONS)}; got {activation!r}")
    if head not in HEADS:
        raise ValueError(f"{owner}.head must be one of {HEADS}; got {head!r}")
    if len(widths) < 1 or any(int(w) < 1 for w in widths):
        raise ValueError(f"{owner}.widths must be a non-empty tuple of positive ints; got {widths!r}")


def head_for_mean(policy: AbstractPolicy, values, target: float) -> AbstractPolicy:
    """The same policy with its head's bias set so that it first plays actions averaging ``target``.

    The head's weights start small (``_Trunk``), so an untrained policy plays nearly the same
    distribution over actions in every state: the one its bias gives. This sets the bias to the
    discretised Beta distribution ``p_k ∝ x_k^(a-1) (1 - x_k)^(b-1)`` over the action
    coordinates ``x_k`` (the mean field's ``action_coordinates()``), with ``(a - 1, b - 1) = kappa (q, 1 - q)``,
    whose mean ``sum_k p_k values[k]`` equals ``target`` (``q`` by bisection; the concentration
    ``kappa`` starts at 8 and doubles until ``target`` is within reach; a target beyond the
    extreme actions gets the nearest one). The categorical head gets ``log p_k``.

    Args:
        policy: a :class:`RecurrentPolicy` or :class:`MemorylessPolicy`.
        values: what the mean is taken of, one value per action, increasing (the consumption
            shares, or the next-wealth levels), ``(n_k,)``.
        target: the mean to start at (e.g. the saving rate that keeps capital constant).
    """
    x = np.asarray(policy.norm.action_x, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    lx, l1x = np.log(x), np.log1p(-x)

    def logits(kappa, q):
        return kappa * (q * lx + (1.0 - q) * l1x)

    def probs(kappa, q):
        logit = logits(kappa, q)
        p = np.exp(logit - logit.max())
        return p / p.sum()

    def mean(kappa, q):
        return float(probs(kappa, q) @ v)

    lo_q, hi_q = 1e-3, 1.0 - 1e-3
    target = float(np.clip(target, v[0], v[-1]))
    kappa = 8.0
    while kappa < 4096.0 and not mean(kappa, lo_q) <= target <= mean(kappa, hi_q):
        kappa *= 2.0
    lo, hi = lo_q, hi_q
    if target <= mean(kappa, lo):
        hi = lo
    elif target >= mean(kappa, hi):
        lo = hi
    for _ in range(100):
        if hi - lo < 1e-12:
            break
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if mean(kappa, mid) < target else (lo, mid)
    q = 0.5 * (lo + hi)
    head = policy.trunk.head
    if policy.trunk.head_kind == "beta":
        # a - 1 = softplus(bias_a): the inverse softplus is log(expm1(y))
        bias = np.log(np.expm1(kappa * np.array([q, 1.0 - q])))
    else:
        logit = logits(kappa, q)
        bias = logit - logit.mean()
    if isinstance(policy.trunk, _KnotTrunk):
        return eqx.tree_at(lambda p: p.trunk.trunk.head.bias, policy,
                           jnp.asarray(bias, dtype=head.bias.dtype))
    return eqx.tree_at(lambda p: p.trunk.head.bias, policy,
                       jnp.asarray(bias, dtype=head.bias.dtype))


def make_policy(mf: AnyMeanField, method: str, *, key: PRNGKeyArray, **arch) -> AbstractPolicy:
    """``RecurrentPolicy`` for ``method="rspg"``, ``MemorylessPolicy`` for ``"spg"``."""
    if method == "rspg":
        return RecurrentPolicy(mf, key=key, **arch)
    if method == "spg":
        return MemorylessPolicy(mf, key=key, **arch)
    raise ValueError(f"method must be one of ('rspg', 'spg'); got {method!r}")
