"""Wealth and action grids (docs/theory.md §3.1, §10)."""

import jax.numpy as jnp
import numpy as np
import pytest

import hank_mfg as hm


def test_shifted_geometric_grid_is_the_papers_grid():
    g = np.asarray(hm.shifted_geometric_grid(0.0, 99.0, 200, 0.25))
    ref = np.geomspace(0.25, 99.25, 200) - 0.25
    assert g.shape == (200,)
    assert g.dtype == np.float64
    np.testing.assert_allclose(g, ref, rtol=1e-12, atol=1e-12)
    assert g[0] == 0.0  # exactly the borrowing limit
    assert g[-1] == 99.0
    assert np.all(np.diff(g) > 0)


@pytest.mark.parametrize("lo,hi,pivot", [(-1.0, 50.0, 1.25), (0.0, 10.0, 0.5), (2.0, 3.0, 0.1)])
def test_shifted_geometric_grid_general(lo, hi, pivot):
    g = np.asarray(hm.shifted_geometric_grid(lo, hi, 11, pivot))
    np.testing.assert_allclose(g, np.geomspace(lo + pivot, hi + pivot, 11) - pivot, rtol=1e-12,
                               atol=1e-12)
    assert g[0] == lo and g[-1] == hi


def test_uniform_and_double_exponential_grids():
    u = np.asarray(hm.uniform_grid(-1.0, 3.0, 9))
    np.testing.assert_allclose(u, np.linspace(-1.0, 3.0, 9), rtol=0, atol=1e-15)
    d = np.asarray(hm.double_exponential_grid(0.0, 50.0, 12))
    assert d[0] == 0.0 and d[-1] == 50.0
    assert np.all(np.diff(d) > 0)
    assert np.all(np.diff(np.diff(d)) > 0)  # denser near the borrowing limit than uniform
    assert d[1] < np.linspace(0.0, 50.0, 12)[1]


def test_share_grid_bin_midpoints():
    s = np.asarray(hm.share_grid(20))
    np.testing.assert_allclose(s, (np.arange(20) + 0.5) / 20, rtol=0, atol=1e-15)
    assert s.min() > 0 and s.max() < 1


def test_savings_grid():
    s = np.asarray(hm.savings_grid(0.0, 20.0, 7))
    np.testing.assert_allclose(s, np.geomspace(0.25, 20.25, 7) - 0.25, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("fn", [hm.shifted_geometric_grid, hm.uniform_grid,
                                hm.double_exponential_grid])
def test_grid_needs_two_points(fn):
    with pytest.raises(ValueError, match=r"\.n must be an integer >= 2"):
        fn(0.0, 1.0, 1)


@pytest.mark.parametrize("fn", [hm.shifted_geometric_grid, hm.uniform_grid,
                                hm.double_exponential_grid])
def test_grid_needs_hi_above_lo(fn):
    with pytest.raises(ValueError, match=r"\.hi must exceed lo"):
        fn(1.0, 1.0, 5)


def test_shifted_grid_pivot_must_make_lo_positive():
    with pytest.raises(ValueError, match="pivot"):
        hm.shifted_geometric_grid(-1.0, 5.0, 5, pivot=0.5)


def test_share_grid_needs_one_point():
    with pytest.raises(ValueError, match="share_grid.n"):
        hm.share_grid(0)


@pytest.mark.parametrize(
    "grid,msg",
    [
        ([0.0, 1.0, 1.0, 2.0], "a_grid must be strictly increasing"),
        ([0.0, 2.0, 1.0], "a_grid must be strictly increasing"),
        ([0.0], "a_grid must have at least 2 points"),
        ([[0.0, 1.0]], "a_grid must be a 1-d array"),
        ([0.0, np.nan], "a_grid must be finite"),
    ],
)
def test_check_grid_names_the_field(grid, msg):
    with pytest.raises(ValueError, match=msg):
        hm.model_checks.check_grid("MyModel", "a_grid", jnp.asarray(grid))
