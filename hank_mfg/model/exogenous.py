"""Exogenous processes as small modules (docs/exogenous.md).

Each process says how to draw its randomness (``sample``), how its state moves given one draw
(``step``), and how to take an expectation of a function of next period's state given today's
(``expectation``): exactly for finite chains, by Gauss–Hermite quadrature for Gaussian
innovations. Euler errors and certificates use ``expectation``; rollouts use ``sample`` and
``step``; the operators use a chain's transition matrices.

- :class:`AR1`: ``x_t = rho x_{t-1} + sigma eps_t`` (a deviation from the steady state), the
  aggregate shock of most economies (``hm.Shock`` is this class).
- :class:`News`: an AR(1) whose innovations are announced ``horizon`` dates ahead as well as
  realised by surprise.
- :class:`MarkovChain`: a finite chain of aggregate states (good and bad times).
- :class:`AggregateIdiosyncraticChain`: a joint chain of an aggregate state ``z`` and an
  idiosyncratic state ``e`` whose transition depends on the aggregate one, ``Pi_e(z, z')``
  (unemployment risk that moves with the cycle).
"""

from __future__ import annotations

import abc

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int, PRNGKeyArray

__all__ = ["AR1", "AbstractExogenous", "AggregateIdiosyncraticChain", "MarkovChain", "News",
           "gauss_hermite"]


def gauss_hermite(n_nodes: int):
    """Nodes and weights (summing to one) of ``n_nodes``-point Gauss–Hermite quadrature for a
    standard normal variable: exact for polynomials of degree up to ``2 n_nodes - 1``."""
    x, w = np.polynomial.hermite_e.hermegauss(int(n_nodes))
    return x, w / w.sum()


class AbstractExogenous(eqx.Module):
    """An exogenous process: a state, a draw per date, a step and an expectation."""

    @abc.abstractmethod
    def sample(self, *, key: PRNGKeyArray, n_paths: int, T: int):
        """Draws for ``n_paths`` paths of ``T`` dates (leading axes ``(n_paths, T)``)."""

    @abc.abstractmethod
    def initial_state(self):
        """The state before the first date (the steady state)."""

    @abc.abstractmethod
    def step(self, state, draw):
        """The state one date on, given the date's draw."""

    @abc.abstractmethod
    def expectation(self, f, state):
        """``E[f(x') | x = state]`` for a function ``f`` of next period's state (vectorised
        over its argument's leading axis)."""


class AR1(AbstractExogenous):
    """``x_t = rho x_{t-1} + sigma eps_t``, ``eps_t ~ N(0, 1)``: the deviation of the exogenous
    variable ``name`` from its steady-state value. (An economy checks ``|rho| < 1`` and
    ``sigma >= 0`` of its shocks, naming its own fields.)"""

    name: str = eqx.field(static=True)
    rho: Float[Array, ""]
    sigma: Float[Array, ""]
    n_nodes: int = eqx.field(static=True, default=5)

    def sample(self, *, key: PRNGKeyArray, n_paths: int, T: int) -> Float[Array, "B T"]:
        return jax.random.normal(key, (n_paths, T), dtype=jnp.result_type(float))

    def initial_state(self) -> Float[Array, ""]:
        return jnp.zeros((), jnp.result_type(float))

    def step(self, state, draw):
        return self.rho * state + self.sigma * draw

    def expectation(self, f, state):
        x, w = gauss_hermite(self.n_nodes)
        nxt = self.rho * state + self.sigma * jnp.asarray(x, jnp.result_type(float))
        return jnp.tensordot(jnp.asarray(w, nxt.dtype), f(nxt), axes=1)

    def impulse(self, size, T: int) -> Float[Array, " T"]:
        """The path ``size rho^t`` of an innovation ``size`` (in units of x) at date 0."""
        return size * self.rho ** jnp.arange(T)


class News(AbstractExogenous):
    """An AR(1) ``x`` whose innovations are partly announced: at each date a surprise hits now
    and announcements are made of innovations that hit ``1..horizon`` dates later.

    The state is ``(x, queue)``: ``queue[j]`` is the innovation already announced to hit ``j + 1``
    dates from now. A draw is ``horizon + 1`` standard normals: the surprise and one new
    announcement per horizon, each with s.d. ``sigma / sqrt(horizon + 1)`` so that the
    innovation's total variance stays ``sigma^2``.
    """

    shock: AR1
    horizon: int = eqx.field(static=True)

    def __check_init__(self):
        if self.horizon < 1:
            raise ValueError(f"News {self.shock.name!r}: horizon must be at least 1 date; got "
                             f"{self.horizon}")

    @property
    def part(self):
        return self.shock.sigma / np.sqrt(self.horizon + 1.0)

    def sample(self, *, key: PRNGKeyArray, n_paths: int, T: int) -> Float[Array, "B T k"]:
        return jax.random.normal(key, (n_paths, T, self.horizon + 1), dtype=jnp.result_type(float))

    def initial_state(self):
        dtype = jnp.result_type(float)
        return jnp.zeros((), dtype), jnp.zeros((self.horizon,), dtype)

    def step(self, state, draw):
        """``x' = rho x + part eps_0 + queue[0]``; the queue moves one date closer and the new
        announcements (``part * draw[1:]``, ``draw[j]`` hitting ``j`` dates on) are added."""
        x, queue = state
        inn = self.part * draw
        x = self.shock.rho * x + inn[0] + queue[0]
        queue = jnp.concatenate([queue[1:], jnp.zeros((1,), queue.dtype)]) + inn[1:]
        return x, queue

    def expectation(self, f, state):
        """``E[f(x') | state]``: the announced part is known, the surprise is integrated."""
        x, queue = state
        nodes, w = gauss_hermite(self.shock.n_nodes)
        nxt = self.shock.rho * x + queue[0] + self.part * jnp.asarray(nodes, jnp.result_type(float))
        return jnp.tensordot(jnp.asarray(w, nxt.dtype), f(nxt), axes=1)


class MarkovChain(AbstractExogenous):
    """A finite Markov chain of aggregate states: ``values[i]`` of the exogenous variable
    ``name`` in state ``i``, transition ``Pi[i, j]`` (rows today, columns tomorrow).

    The state is the index ``i``; a draw is a uniform number on ``[0, 1)``; the next index is
    the first ``j`` whose cumulative probability ``sum_{k <= j} Pi[i, k]`` exceeds it.
    """

    name: str = eqx.field(static=True)
    values: Float[Array, " n_values"]   # checked against Pi in __check_init__, naming the field
    Pi: Float[Array, "n_z n_z"]
    initial: int = eqx.field(static=True, default=0)

    def __check_init__(self):
        _check_stochastic(f"MarkovChain {self.name!r}", "Pi", self.Pi)
        if self.values.shape != (self.Pi.shape[0],):
            raise ValueError(f"MarkovChain {self.name!r}: values must have one entry per state "
                             f"({self.Pi.shape[0]}); got shape {tuple(self.values.shape)}")
        if not 0 <= self.initial < self.Pi.shape[0]:
            raise ValueError(f"MarkovChain {self.name!r}: initial must be a state index in "
                             f"[0, {self.Pi.shape[0]}); got {self.initial}")

    @property
    def n_states(self) -> int:
        return self.Pi.shape[0]

    def sample(self, *, key: PRNGKeyArray, n_paths: int, T: int) -> Float[Array, "B T"]:
        return jax.random.uniform(key, (n_paths, T), dtype=jnp.result_type(float))

    def initial_state(self) -> Int[Array, ""]:
        return jnp.asarray(self.initial, jnp.int32)

    def step(self, state, draw):
        cum = jnp.cumsum(self.Pi[state])
        return jnp.minimum(jnp.sum(cum <= draw), self.n_states - 1).astype(jnp.int32)

    def expectation(self, f, state):
        """Exact: ``sum_j Pi[state, j] f(j)`` (``f`` maps the vector of next indices)."""
        return jnp.tensordot(self.Pi[state], f(jnp.arange(self.n_states)), axes=1)

    def simulate(self, draws: Float[Array, "... T"], state=None) -> Int[Array, "... T"]:
        """The index path of one or many paths of uniform draws (the first draw moves from
        ``state``, default the initial state)."""
        s0 = self.initial_state() if state is None else jnp.asarray(state, jnp.int32)

        def one(u):
            return jax.lax.scan(lambda s, d: (self.step(s, d),) * 2, s0, u)[1]

        flat = draws.reshape(-1, draws.shape[-1])
        return jax.vmap(one)(flat).reshape(draws.shape)

    def stationary(self) -> Float[Array, " n_z"]:
        """The stationary distribution ``pi = pi Pi``."""
        from .income import stationary_distribution

        return stationary_distribution(self.Pi)

    def mean_duration(self) -> Float[Array, " n_z"]:
        """Expected length of a spell in each state, ``1 / (1 - Pi[i, i])`` dates."""
        return 1.0 / (1.0 - jnp.diag(self.Pi))


class AggregateIdiosyncraticChain(AbstractExogenous):
    """A joint chain of an aggregate state ``z`` (a :class:`MarkovChain`) and an idiosyncratic
    state ``e`` whose transition depends on the aggregate transition.

    ``Pi_e[z, z', e, e']`` is the probability of ``e -> e'`` for a household when times move
    from ``z`` to ``z'``; the joint probability is ``Pi_z[z, z'] Pi_e[z, z', e, e']``.
    ``e_grid`` holds the idiosyncratic levels (e.g. 0 unemployed, 1 employed). The aggregate part
    is sampled and stepped like its chain; the distribution of households moves with the lottery
    along wealth and then ``Pi_e[z, z']`` (:func:`hank_mfg.operators.push_forward`).
    """

    aggregate: MarkovChain
    e_grid: Float[Array, " n_e"]
    Pi_e: Float[Array, "n_z n_z n_e n_e"]

    def __check_init__(self):
        n_z, n_e = self.aggregate.n_states, self.e_grid.shape[0]
        if self.Pi_e.shape != (n_z, n_z, n_e, n_e):
            raise ValueError(f"AggregateIdiosyncraticChain: Pi_e must have shape "
                             f"{(n_z, n_z, n_e, n_e)} (z, z', e, e'); got {tuple(self.Pi_e.shape)}")
        _check_stochastic("AggregateIdiosyncraticChain", "Pi_e", self.Pi_e.reshape(-1, n_e))

    @classmethod
    def from_joint(cls, name: str, z_values, e_grid, Pi, initial: int = 0, tol: float = 1e-10):
        """Build from the joint transition ``Pi[(z, e), (z', e')]`` (order: ``z`` major, ``e``
        minor, rows today). The aggregate transition ``Pi_z[z, z'] = sum_e' Pi[(z, e), (z', e')]``
        must not depend on ``e`` (the aggregate state is exogenous to the household)."""
        Pi = np.asarray(Pi, dtype=float)
        z_values, e_grid = np.asarray(z_values, float), np.asarray(e_grid, float)
        n_z, n_e = z_values.shape[0], e_grid.shape[0]
        if Pi.shape != (n_z * n_e, n_z * n_e):
            raise ValueError(f"AggregateIdiosyncraticChain.from_joint: Pi must be "
                             f"{(n_z * n_e, n_z * n_e)} for {n_z} aggregate and {n_e} "
                             f"idiosyncratic states; got {Pi.shape}")
        _check_stochastic("AggregateIdiosyncraticChain.from_joint", "Pi", Pi)
        blocks = Pi.reshape(n_z, n_e, n_z, n_e)              # [z, e, z', e']
        Pz_by_e = blocks.sum(axis=3)                         # [z, e, z']
        Pi_z = Pz_by_e.mean(axis=1)
        gap = np.max(np.abs(Pz_by_e - Pi_z[:, None, :]))
        if gap > tol:
            raise ValueError("AggregateIdiosyncraticChain.from_joint: the aggregate transition "
                             "sum_e' Pi[(z, e), (z', e')] must be the same for every e (the "
                             f"aggregate state cannot depend on a household's state); it differs "
                             f"by {gap:.3g}")
        Pi_e = blocks.transpose(0, 2, 1, 3) / Pi_z[:, :, None, None]   # [z, z', e, e']
        return cls(aggregate=MarkovChain(name, jnp.asarray(z_values), jnp.asarray(Pi_z),
                                         initial=initial),
                   e_grid=jnp.asarray(e_grid), Pi_e=jnp.asarray(Pi_e))

    @property
    def n_aggregate(self) -> int:
        return self.aggregate.n_states

    @property
    def n_idiosyncratic(self) -> int:
        return self.e_grid.shape[0]

    def joint(self) -> Float[Array, "n n"]:
        """The joint transition ``Pi[(z, e), (z', e')]`` (``z`` major)."""
        n_z, n_e = self.n_aggregate, self.n_idiosyncratic
        J = self.aggregate.Pi[:, :, None, None] * self.Pi_e     # [z, z', e, e']
        return J.transpose(0, 2, 1, 3).reshape(n_z * n_e, n_z * n_e)

    def idiosyncratic(self, z, z_next) -> Float[Array, "n_e n_e"]:
        """``Pi_e[z, z']``: the households' transition when times move from ``z`` to ``z'``."""
        return self.Pi_e[z, z_next]

    def conditional_shares(self) -> Float[Array, "n_z n_e"]:
        """The cross-sectional distribution of ``e`` in each aggregate state that the chain
        keeps: ``s_z' = s_z Pi_e[z, z']`` for every ``z -> z'`` (the stationary joint
        distribution divided by the aggregate one). Check with :meth:`share_consistency`."""
        from .income import stationary_distribution

        n_z, n_e = self.n_aggregate, self.n_idiosyncratic
        pi = stationary_distribution(self.joint()).reshape(n_z, n_e)
        return pi / pi.sum(axis=1, keepdims=True)

    def share_consistency(self) -> Float[Array, ""]:
        """Largest ``|s_z Pi_e[z, z'] - s_z'|`` over every aggregate transition: zero when the
        share of each idiosyncratic state is a function of the aggregate state alone (e.g. the
        unemployment rate is pinned down by good and bad times), as Krusell and Smith require."""
        s = self.conditional_shares()
        moved = jnp.einsum("ze,zwef->zwf", s, self.Pi_e)
        return jnp.max(jnp.abs(moved - s[None, :, :]))

    # the aggregate state drives sampling and expectations
    def sample(self, *, key: PRNGKeyArray, n_paths: int, T: int):
        return self.aggregate.sample(key=key, n_paths=n_paths, T=T)

    def initial_state(self):
        return self.aggregate.initial_state()

    def step(self, state, draw):
        return self.aggregate.step(state, draw)

    def expectation(self, f, state):
        """Over the next aggregate state (a household's own ``e'`` is integrated by the
        operators with :meth:`idiosyncratic`)."""
        return self.aggregate.expectation(f, state)


def _concrete(x):
    if isinstance(x, jax.core.Tracer):
        return None
    return np.asarray(x, dtype=float)


def _check_stochastic(owner: str, field: str, P) -> None:
    """Rows of non-negative probabilities summing to one (on concrete arrays), to the precision
    of the array's own dtype (a chain built in float32 sums to one only to about 1e-7)."""
    dtype = getattr(P, "dtype", np.float64)
    eps = float(np.finfo(dtype).eps) if jnp.issubdtype(dtype, jnp.floating) else 0.0
    P = _concrete(P)
    if P is None:
        return
    if P.ndim != 2 or (field != "Pi_e" and P.shape[0] != P.shape[1]):
        raise ValueError(f"{owner}: {field} must be a square matrix; got shape {P.shape}")
    if not np.all(np.isfinite(P)) or P.min() < -1e-12:
        raise ValueError(f"{owner}: {field} must hold finite, non-negative probabilities; got "
                         f"min {np.nanmin(P):.6g}")
    rows = P.sum(axis=1)
    i = int(np.argmax(np.abs(rows - 1.0)))
    if abs(rows[i] - 1.0) > max(1e-8, 64.0 * eps):
        raise ValueError(f"{owner}: {field} rows must sum to 1; row {i} sums to {rows[i]:.12g}")
