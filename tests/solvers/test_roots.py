"""The root finders, each against an analytic answer: Brent's stopping rules and bookkeeping,
Optimistix's bisection in capital demand (closed form and its derivative), the Illinois
method in a fixed number of steps, Newton's iteration with a fixed Jacobian and with step
halving, Broyden's secant condition and forward differences."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hank_mfg.solvers.roots import (
    bisection,
    brent,
    broyden_update,
    forward_difference_jacobian,
    illinois,
    newton,
)
from hank_mfg.solvers.steady_state import capital_demand
from models.krusell_smith import KrusellSmith

CUBE_ROOT_2 = 2.0 ** (1.0 / 3.0)


def _counted(f):
    calls = []

    def g(x):
        calls.append(x)
        return f(x)

    return g, calls


def test_brent_to_the_bracket_and_to_a_residual_tolerance():
    g, calls = _counted(lambda x: x ** 3 - 2.0)
    full = brent(g, 0.0, 3.0, maxiter=100)
    assert full.converged and abs(full.x - CUBE_ROOT_2) < 4e-16 * 4
    assert full.evaluations == len(calls)

    g, calls = _counted(lambda x: x ** 3 - 2.0)
    loose = brent(g, 0.0, 3.0, ftol=1e-3, maxiter=100, f_lo=-2.0, f_hi=25.0)
    assert loose.converged and abs(loose.fx) < 1e-3 and loose.fx == loose.x ** 3 - 2.0
    assert 0.0 not in calls and 3.0 not in calls  # the ends given were not evaluated again
    assert loose.evaluations == len(calls) + 2 < full.evaluations
    # the last bracket with a sign change holds the root and the point returned
    assert abs(loose.x - CUBE_ROOT_2) <= loose.width < 3.0


def test_brent_reports_what_it_did_not_reach():
    short = brent(lambda x: x ** 3 - 2.0, 0.0, 3.0, maxiter=2)
    assert not short.converged and short.width > 1e-3
    with pytest.raises(ValueError, match="different signs"):
        brent(lambda x: x ** 2 + 1.0, -1.0, 1.0)


def test_capital_demand_by_bisection_is_the_closed_form_and_differentiable():
    model = KrusellSmith(n_wealth=20)
    alpha, delta, tfp = (float(np.asarray(v)) for v in (model.alpha, model.delta, model.tfp))
    L = 0.93

    def closed(r):  # alpha tfp (K/L)^(alpha-1) = r + delta
        return L * ((r + delta) / (alpha * tfp)) ** (1.0 / (alpha - 1.0))

    for r in (0.002, 0.01, 0.03):
        assert abs(float(capital_demand(model, r, L)) / closed(r) - 1.0) < 1e-12
    dK = jax.grad(lambda r: capital_demand(model, r, L))(0.01)
    assert abs(float(dK) / float(jax.grad(closed)(0.01)) - 1.0) < 1e-8
    # vmapped over rates (a path of prices)
    rs = jnp.array([0.005, 0.02])
    np.testing.assert_allclose(jax.vmap(lambda r: capital_demand(model, r, L))(rs),
                               [closed(0.005), closed(0.02)], rtol=1e-12)


def test_bisection_on_a_decreasing_function():
    x = jax.jit(lambda c: bisection(lambda x: c - x ** 3, 0.0, 5.0))(2.0)
    assert abs(float(x) - CUBE_ROOT_2) < 1e-13


def test_illinois_in_a_fixed_number_of_steps():
    f = lambda x: x ** 3 - 2.0  # noqa: E731
    x = jax.jit(lambda: illinois(f, 0.0, 3.0, 40))()
    assert abs(float(x) - CUBE_ROOT_2) < 1e-14
    # superlinear: 12 steps already reach 1e-10, where bisection would need 35
    assert abs(float(illinois(f, 0.0, 3.0, 12)) - CUBE_ROOT_2) < 1e-10
    # no sign change: an end of the bracket, never outside it
    x = float(illinois(lambda x: x ** 2 + 1.0, -1.0, 2.0, 20))
    assert -1.0 <= x <= 2.0


def test_newton_with_a_fixed_jacobian_is_the_chord_method():
    A = jnp.array([[3.0, 1.0], [1.0, 2.0]])
    b = jnp.array([1.0, -1.0])
    H = lambda x: A @ x + 0.1 * jnp.sin(x) - b  # noqa: E731
    lu = jax.scipy.linalg.lu_factor(A + 0.1 * jnp.eye(2))  # the Jacobian at x = 0
    x, it = newton(H, jnp.zeros(2), lambda x, h: jax.scipy.linalg.lu_solve(lu, h),
                   tol=1e-13, maxiter=50)
    assert float(jnp.max(jnp.abs(H(x)))) <= 1e-13 and 3 <= int(it) < 50
    # a linear residual is solved in one step
    x, it = newton(lambda x: A @ x - b, jnp.zeros(2), lambda x, h: jnp.linalg.solve(A, h),
                   tol=1e-13, maxiter=50)
    assert int(it) == 1 and np.allclose(A @ x, b, atol=1e-14)


def test_newton_halving_converges_where_full_steps_diverge():
    H = jnp.arctan  # Newton's full steps diverge from |x0| > 1.39
    step = lambda x, h: h * (1.0 + x ** 2)  # noqa: E731  H / H'
    x, it = newton(H, jnp.array(2.0), step, tol=1e-12, maxiter=30)
    assert not abs(float(x)) < 1.0 and int(it) == 30 or not np.isfinite(float(x))
    x, it = newton(H, jnp.array(2.0), step, tol=1e-12, maxiter=30, halvings=10)
    assert abs(float(x)) < 1e-12 and int(it) < 30


def test_broyden_update_meets_the_secant_condition_on_host_and_traced():
    rng = np.random.default_rng(0)
    J, dx, dF = rng.normal(size=(3, 3)), rng.normal(size=3), rng.normal(size=3)
    new = broyden_update(J, dx, dF)
    assert isinstance(new, np.ndarray) and np.allclose(new @ dx, dF, atol=1e-13)
    # the least change: J is unchanged on directions orthogonal to dx
    v = np.cross(dx, rng.normal(size=3))
    assert np.allclose(new @ v, J @ v, atol=1e-13)
    traced = jax.jit(broyden_update)(jnp.asarray(J), jnp.asarray(dx), jnp.asarray(dF))
    np.testing.assert_allclose(traced, new, atol=1e-13)
    assert np.array_equal(broyden_update(J, np.zeros(3), dF), J)  # no step, no update


def test_forward_difference_jacobian():
    F = lambda u: jnp.array([u[0] ** 2 * u[1], jnp.exp(u[1])])  # noqa: E731
    u = jnp.array([1.5, -0.5])
    exact = jnp.array([[2 * 1.5 * -0.5, 1.5 ** 2], [0.0, jnp.exp(-0.5)]])
    np.testing.assert_allclose(forward_difference_jacobian(F, u), exact, atol=1e-6)
