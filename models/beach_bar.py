"""The one-dimensional beach bar with common noise of the RSPG paper's benchmark.

Agents on a beach of ``n_states`` = 101 positions walk ``a`` in ``{-5, ..., 5}`` steps per
period towards a bar placed at a random position ``b`` (uniform on ``25..75``, drawn once per
path and public). Nobody may stand on the bar or walk through it: a move that would reach or
cross it stops one position short, on the side the agent came from. An idiosyncratic slip of
``-2..2`` positions (probabilities 0.05, 0.1, 0.7, 0.1, 0.05) follows, with the same rule. The
bar is open at first (``z = 1``); at date ``horizon // 2`` it closes for good with probability
one half (the common noise). The reward of standing at ``s`` and walking ``a`` is

    r_t(s, a) = -|b - s| z_t - n_states 1[|b - s| = 1] 1[z_{t+1} = 0]
                - clip(z_t log(mu_t(s) + 1e-8), 0, n_states) - |a| / n_states:

distance to an open bar costs, standing next to it when it closes costs ``n_states``, walking
costs a little. The third term is the paper's library's congestion term as written there; since
``log(mu) <= 0`` and ``z >= 0`` it is zero for every distribution, so it is kept for fidelity and
costs nothing. Agents observe the population's mean position, whether the bar is open and where
it is; whether it will close is not observable before it does (partial observability). Horizon
30, discount 0.99, ``mu_0`` uniform on every position but the bar's (docs/games.md).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

import hank_mfg as hm

#: The idiosyncratic slip: offsets and their probabilities.
SLIP = ((-2, 0.05), (-1, 0.1), (0, 0.7), (1, 0.1), (2, 0.05))


class BeachBar(hm.AbstractLineMFG):
    """The 1-D beach bar (defaults: the paper's benchmark; see the module docstring)."""

    beta: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.99)
    close_probability: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.5)
    n_states: int = eqx.field(static=True, default=101)
    max_step: int = eqx.field(static=True, default=5)
    horizon: int = eqx.field(static=True, default=30)
    common_noise: bool = eqx.field(static=True, default=True)

    def __check_init__(self):
        owner = type(self).__name__
        hm.model_checks.check_int_at_least(owner, "max_step", self.max_step, 1)
        hm.model_checks.check_int_at_least(owner, "n_states", self.n_states, 8)
        p = hm.model_checks.concrete(self.close_probability)
        if p is not None and not 0.0 <= float(p) <= 1.0:
            hm.model_checks.fail(owner, "close_probability", "lie in [0, 1]", p)

    @property
    def bar_range(self) -> tuple[int, int]:
        """The bar's possible positions, ``floor(n / 4) .. ceil(3 n / 4) - 1`` (25..75)."""
        n = self.n_states
        return n // 4, -(-3 * n // 4) - 1

    @property
    def closing_date(self) -> int:
        return self.horizon // 2

    # ---- common noise: the bar's position, then whether it closes --------------------------------
    def sample_noise(self, key, n_paths, T):
        k_bar, k_close = jax.random.split(key)
        lo, hi = self.bar_range
        bar = jax.random.randint(k_bar, (n_paths,), lo, hi + 1).astype(float)
        closes = jax.random.bernoulli(k_close, self.close_probability, (n_paths, T))
        stays_open = jnp.where(closes & self.common_noise, 0.0, 1.0)
        e = jnp.zeros((n_paths, T, 2)).at[:, :, 1].set(stays_open)
        return e.at[:, 0, 0].set(bar)

    def initial_exogenous(self, e0):
        return jnp.stack([jnp.ones_like(e0[0]), e0[0]])  # (open, bar position)

    def next_exogenous(self, x, e, t):
        is_open = jnp.where(t + 1 == self.closing_date, x[0] * e[1], x[0])
        return jnp.stack([is_open, x[1]])

    def reference_noise(self):
        lo, hi = self.bar_range
        return jnp.array([(lo + hi) // 2, 1.0])

    # ---- the agents ------------------------------------------------------------------------------
    def initial_distribution(self, x0):
        mu = jnp.where(self.states == x0[1], 0.0, 1.0)
        return mu / jnp.sum(mu)

    def _legal(self, s, proposed, bar):
        """No standing on the bar or walking through it: stop one short, on the side of origin."""
        from_left = (s < bar) & (proposed >= bar)
        from_right = (s > bar) & (proposed <= bar)
        return jnp.where(from_right, bar + 1, jnp.where(from_left, bar - 1, proposed))

    def transition(self, mu, x, t):
        top, bar = self.n_states - 1, x[1]
        s, a = self.states[:, None], self.actions[None, :]
        det = self._legal(s, jnp.clip(s + a, 0, top), bar)
        off = jnp.asarray([o for o, _ in SLIP], dtype=float)
        idx = self._legal(s[..., None], jnp.clip(det[..., None] + off, 0, top), bar)
        prob = jnp.broadcast_to(jnp.asarray([p for _, p in SLIP]), idx.shape)
        return idx.astype(jnp.int32), prob

    def reward(self, mu, x, t, mu_next, x_next):
        is_open, bar = x[0], x[1]
        s, a = self.states[:, None], self.actions[None, :]
        n = float(self.n_states)
        dist = jnp.abs(bar - s)
        crowd = jnp.clip(jnp.log(mu[:, None] + 1e-8) * is_open, 0.0, n)
        return (-dist * is_open - (dist == 1) * (x_next[0] == 0) * n - crowd
                - jnp.abs(a) / n)

    def observation(self, mu, x, t):
        return jnp.stack([mu @ self.states, x[0], x[1]])
