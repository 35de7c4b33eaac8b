"""The shipped models check their own fields first, so errors name them (not grid helpers)."""

import re

import pytest

from models.aiyagari import Aiyagari
from models.hank import OneAssetHANK
from models.huggett import Huggett
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


@pytest.mark.parametrize(
    "cls, kw, message",
    [
        (OneAssetHANK, dict(n_wealth=-5), "OneAssetHANK.n_wealth must be an integer >= 2; got -5"),
        (Huggett, dict(n_wealth=1), "Huggett.n_wealth must be an integer >= 2; got 1"),
        (OneAssetHANK, dict(phi=float("nan")), "OneAssetHANK.phi must be finite"),
        (OneAssetHANK, dict(phi=-3.0), "OneAssetHANK.phi must be finite and non-negative"),
        (OneAssetHANK, dict(phi=0.5), "OneAssetHANK.phi must exceed 1 (the Taylor principle"),
        (OneAssetHANK, dict(phi=1.0), "indeterminate; set allow_indeterminacy=True"),
        (OneAssetHANK, dict(kappa=float("inf")), "OneAssetHANK.kappa must be positive and finite"),
        (OneAssetHANK, dict(rstar=float("nan")), "OneAssetHANK.rstar must be finite; got nan"),
        (OneAssetHANK, dict(price_adjustment_costs="rebated"),
         "OneAssetHANK.price_adjustment_costs must be one of ('resource', 'none'); got 'rebated'"),
        (Huggett, dict(bond_supply=float("nan")), "Huggett.bond_supply must be finite; got nan"),
    ],
)
def test_economy_fields_fail_at_construction_naming_field_value_and_reason(cls, kw, message):
    """Economies check their fields when built: the message names the field, the value and
    the reason (the Taylor principle for a policy rule that cannot pin down inflation)."""
    with pytest.raises(ValueError, match=re.escape(message)):
        cls(**{"n_wealth": 10, **kw})


def test_indeterminate_rule_only_on_request():
    assert float(OneAssetHANK(n_wealth=10, phi=0.5, allow_indeterminacy=True).phi) == 0.5
    with pytest.raises(ValueError, match="phi must be finite and non-negative"):
        OneAssetHANK(n_wealth=10, phi=-3.0, allow_indeterminacy=True)
