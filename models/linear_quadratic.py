"""The linear-quadratic mean-field game with common noise of the RSPG paper's benchmark.

A continuum of agents on the integer line ``s = 0, ..., n_states - 1`` (99 points) move by
``a`` in ``{-3, ..., 3}`` each period and want to stay near the population's mean ``m``:

    s' = clip(s + a + sigma rho eps_t + round(sigma sqrt(1 - rho^2) xi)),
    r_t(s, a) = -c_action a^2 + q a (m_{t+1} - s) - (kappa / 2) (m_{t+1} - s)^2,

with the idiosyncratic ``xi`` on the seven atoms ``-3, ..., 3`` (probabilities proportional to
the standard normal density), the terminal reward ``-(c_term / 2)(m_T - s)^2`` at the last date,
and ``m_{t+1}`` the mean of the next distribution. The common noise is one fair sign
``z = +-1`` drawn at date 0: it shifts every agent by ``eps_t = -10 z`` before date 8 and by
``+10 z`` after date 20 (clipped at the ends), so the population first drifts one way and then
the other. Agents observe only the current mean ``m_t``: whether the drift is up or down shows in
the history of the mean, not in any single observation (partial observability). Parameters as
in the paper's library (after Perrin et al. 2020): ``kappa`` 0.5, ``c_action`` 0.5, ``q`` 0.1,
``c_term`` 1, ``sigma`` 1, ``rho`` 0.5, horizon 30, discount 0.99, uniform ``mu_0``
(docs/games.md).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

import hank_mfg as hm


class LinearQuadratic(hm.AbstractLineMFG):
    """The linear-quadratic game (defaults: the paper's benchmark; see the module docstring)."""

    beta: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.99)
    kappa: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.5)
    c_action: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.5)
    q: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.1)
    c_term: Float[Array, ""] = eqx.field(converter=hm.as_param, default=1.0)
    sigma: Float[Array, ""] = eqx.field(converter=hm.as_param, default=1.0)
    rho: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.5)
    n_states: int = eqx.field(static=True, default=99)
    max_step: int = eqx.field(static=True, default=3)
    idio_atoms: int = eqx.field(static=True, default=3)
    shift: float = eqx.field(static=True, default=10.0)
    early: int = eqx.field(static=True, default=8)
    late: int = eqx.field(static=True, default=20)
    horizon: int = eqx.field(static=True, default=30)
    common_noise: bool = eqx.field(static=True, default=True)

    def __check_init__(self):
        hm.model_checks.check_int_at_least(type(self).__name__, "max_step", self.max_step, 1)
        hm.model_checks.check_int_at_least(type(self).__name__, "idio_atoms", self.idio_atoms, 0)
        hm.model_checks.check_nonnegative(type(self).__name__, "c_action", self.c_action)
        hm.model_checks.check_nonnegative(type(self).__name__, "kappa", self.kappa)
        hm.model_checks.check_nonnegative(type(self).__name__, "sigma", self.sigma)
        hm.model_checks.check_abs_lt_one(type(self).__name__, "rho", self.rho)

    # ---- common noise: one sign per path ---------------------------------------------------------
    def sample_noise(self, key, n_paths, T):
        sign = jnp.where(jax.random.bernoulli(key, 0.5, (n_paths,)), 1.0, -1.0)
        sign = sign if self.common_noise else jnp.zeros_like(sign)
        return jnp.zeros((n_paths, T, 1)).at[:, 0, 0].set(sign)

    def initial_exogenous(self, e0):
        return e0[:1]

    def next_exogenous(self, x, e, t):
        return x

    def reference_noise(self):
        return jnp.zeros((1,))

    # ---- the agents ------------------------------------------------------------------------------
    def initial_distribution(self, x0):
        return jnp.full((self.n_states,), 1.0 / self.n_states)

    def idio_probabilities(self) -> Float[Array, " J"]:
        """Probabilities of the idiosyncratic atoms ``-J..J`` (normal density, normalised)."""
        k = np.arange(-self.idio_atoms, self.idio_atoms + 1, dtype=np.float64)
        p = np.exp(-0.5 * k**2)
        return jnp.asarray(p / p.sum())

    def common_shift(self, x, t):
        """``sigma rho eps_t``: ``eps_t = -shift z`` before ``early``, ``+shift z`` after ``late``."""
        eps = jnp.where(t < self.early, -self.shift * x[0],
                        jnp.where(t > self.late, self.shift * x[0], 0.0))
        return self.sigma * self.rho * eps

    def transition(self, mu, x, t):
        top = self.n_states - 1
        s, a = self.states[:, None], self.actions[None, :]
        # the library truncates the drifted position to an integer state
        det = jnp.trunc(jnp.clip(s + a + self.common_shift(x, t), 0, top))
        k = jnp.arange(-self.idio_atoms, self.idio_atoms + 1, dtype=float)
        scale = self.sigma * jnp.sqrt(1.0 - self.rho**2)
        idx = jnp.clip(jnp.round(det[..., None] + scale * k), 0, top).astype(jnp.int32)
        prob = jnp.broadcast_to(self.idio_probabilities(), idx.shape)
        return idx, prob

    def reward(self, mu, x, t, mu_next, x_next):
        s, a = self.states[:, None], self.actions[None, :]
        gap = mu_next @ self.states - s
        step = -self.c_action * a**2 + self.q * a * gap - 0.5 * self.kappa * gap**2
        last = jnp.broadcast_to(-0.5 * self.c_term * gap**2, step.shape)
        return jnp.where(t == self.horizon - 1, last, step)

    def observation(self, mu, x, t):
        return (mu @ self.states)[None]
