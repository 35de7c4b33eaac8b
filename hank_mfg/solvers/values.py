"""The value recursion along a fixed path: one backward scan for every choice rule.

docs/theory.md §5 has the mathematics.

Hold a path of prices, distributions and choices fixed. Backwards from a terminal value
``V_T``, the action values and values at each date are

    Q_t(s, k) = R_t(s, k) + discount_t E_t[V_{t+1} | s, k]
    V_t(s)    = sum_k P_t(s, k) Q_t(s, k)     a lottery over a finite set of choices
              = max_k Q_t(s, k)               the best response over them
              = Q_t(s)                        a continuous choice: one outcome per state

where ``E_t`` is the adjoint of the date's push-forward (the wealth lottery of the choice, then
the income matrix; a game's own transition). Every value the solvers and certificates report
is this recursion: the policy's value and its best response on a finite grid of choices, the
value of a continuous savings policy and of a deviator, and the value of the endogenous grid
method's best response, whose choices come from its own backward step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PyTree

__all__ = ["backward_values"]


def backward_values(terminal: PyTree[Float[Array, "..."]],
                    R: PyTree[Float[Array, "T ..."]] | Callable,
                    expect_next: Callable[[Array, Any], Array], data: Any,
                    discount: float | Float[Array, " *T"], *, P: Array | None = None,
                    best: bool = False, choose: Callable | None = None):
    """Values ``V_t`` of every date along a fixed path, backwards from ``V_T = terminal``.

    Args:
        terminal: ``V_T`` (a function of the state).
        R: rewards ``R_t``, ``(T, *state)`` for a continuous choice or ``(T, *state, n_k)``
            for a finite set of choices; or a function ``R(data_t)`` that forms them date by
            date.
        expect_next: ``expect_next(V_{t+1}, data_t)``, the expectation of next date's value
            given each state and choice (shape of ``R_t``).
        data: what ``expect_next`` reads at each date (a pytree with leading axis ``T``).
        discount: the discount factor, one number or one per date ``(T,)``.
        P: the choice probabilities ``P_t (T, *state, n_k)``: ``V_t = sum_k P_t Q_t``.
        best: ``V_t = max_k Q_t``, the best response over the choices.
        choose: another rule, ``choose(Q_t, data_t) -> (V_t, output_t)`` (e.g. several values
            that share one expectation: ``terminal``, ``R`` and ``V_t`` tuples of them).

    Returns:
        ``(V, Q)`` with ``V (T, *state)`` and ``Q`` the action values ``(T, *state, n_k)``
        under ``P``; ``(V, argmax)`` with the best response's choices ``(T, *state)`` under
        ``best``; ``(V, None)`` for a continuous choice; ``(V, outputs)`` under ``choose``.
        Traceable and differentiable in ``R`` and in what ``expect_next`` reads.
    """
    if best + (choose is not None) + (P is not None) > 1:
        raise ValueError("backward_values: one rule: the choice probabilities P, best=True or "
                         "choose")
    per_date = jnp.ndim(discount) > 0

    def body(V_next, xs):
        R_t, d_t, P_t, x_t = xs
        R_t = R(x_t) if R_t is None else R_t
        d = d_t if per_date else discount
        Q = jax.tree_util.tree_map(lambda r, e: r + d * e, R_t, expect_next(V_next, x_t))
        if choose is not None:
            V, out = choose(Q, x_t)
        elif best:
            V, out = jnp.max(Q, axis=-1), jnp.argmax(Q, axis=-1)
        elif P_t is None:
            V, out = Q, None
        else:
            V, out = jnp.sum(P_t * Q, axis=-1), Q
        return V, (V, out)

    xs = (None if callable(R) else R, discount if per_date else None, P, data)
    _, (V, out) = jax.lax.scan(body, terminal, xs, reverse=True)
    return V, out
