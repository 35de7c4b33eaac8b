"""The shipped models check their own fields first, so errors name them (not grid helpers)."""

import pytest

from models.aiyagari import Aiyagari
from models.krusell_smith import KrusellSmith
from models.rspg_macro import RSPGMacro


@pytest.mark.parametrize(
    "cls, kw, message",
    [
        (KrusellSmith, dict(delta=1.5), "KrusellSmith.delta must lie in [0, 1]; got 1.5"),
        (KrusellSmith, dict(delta=-0.1), "KrusellSmith.delta must lie in [0, 1]; got -0.1"),
        (Aiyagari, dict(delta=1.01), "Aiyagari.delta must lie in [0, 1]; got 1.01"),
        (KrusellSmith, dict(wealth_min=5.0, wealth_max=3.0),
         "KrusellSmith.wealth_max must exceed wealth_min = 5; got 3"),
        (Aiyagari, dict(wealth_max=0.0), "Aiyagari.wealth_max must exceed wealth_min = 0; got 0"),
        (KrusellSmith, dict(income_rho=1.2), "KrusellSmith.income_rho must satisfy |value| < 1; got 1.2"),
        (Aiyagari, dict(income_rho=-1.0), "Aiyagari.income_rho must satisfy |value| < 1; got -1"),
        (KrusellSmith, dict(income_sd=-0.5),
         "KrusellSmith.income_sd must be non-negative and finite; got -0.5"),
        (KrusellSmith, dict(n_income=1), "KrusellSmith.n_income must be an integer >= 2; got 1"),
        (RSPGMacro, dict(wealth_max=-1.0), "RSPGMacro.wealth_max must exceed wealth_min = 0; got -1"),
        (RSPGMacro, dict(income_max=0.05), "RSPGMacro.income_max must exceed income_min = 0.1; got 0.05"),
        (RSPGMacro, dict(wealth_pivot=0.0), "RSPGMacro.wealth_pivot must exceed -wealth_min = 0; got 0"),
        (RSPGMacro, dict(income_p_move=0.7), "RSPGMacro.income_p_move must lie in [0, 0.5]; got 0.7"),
    ],
)
def test_bad_field_fails_at_construction_naming_it(cls, kw, message):
    with pytest.raises(ValueError) as info:
        cls(n_wealth=10, **kw)
    assert str(info.value) == message


def test_boundary_values_are_accepted():
    assert float(KrusellSmith(n_wealth=10, n_income=2, delta=1.0).delta) == 1.0
    assert float(KrusellSmith(n_wealth=10, n_income=2, delta=0.0).delta) == 0.0
    assert float(RSPGMacro(n_wealth=10, income_p_move=0.5).income_p_move) == 0.5
