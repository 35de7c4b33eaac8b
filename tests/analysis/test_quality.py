"""Quality verdicts of a solution (pure function): monotone consumption, Euler errors,
exploitability relative to the value."""

import math

import numpy as np
import pytest

from hank_mfg.analysis.policy import QualityThresholds, consumption_monotonicity, quality_verdicts

A = np.array([0.0, 1.0, 2.0, 4.0])
# two dates, two income states; consumption rises with wealth
GOOD = np.stack([np.stack([1.0 + 0.1 * A, 2.0 + 0.2 * A], axis=1)] * 2)


def _verdicts(c=GOOD, **kw):
    args = dict(consumption=c, a_grid=A, euler_mean_log10=-3.0, euler_max_log10=-1.5,
                exploitability=0.01, value=-4.0, dates=(0, 6))
    args.update(kw)
    return {v.check: v for v in quality_verdicts(**args)}


def test_a_good_solution_passes_every_check():
    v = _verdicts()
    assert list(v) == ["monotone_consumption", "euler_mean_log10", "euler_max_log10",
                       "relative_exploitability"]
    assert all(x.passed for x in v.values())
    assert v["monotone_consumption"].value == 0.0
    assert v["relative_exploitability"].value == 0.0025
    assert v["relative_exploitability"].message == (
        "exploitability 0.01 is 0.25% of |value| 4 (within 5%)")


def test_consumption_falling_with_wealth_is_flagged_where_it_falls():
    c = GOOD.copy()
    c[1, 2, 1] = 1.5  # date 6, income state e1: 2.2 at wealth 1, then 1.5 at wealth 2
    v = _verdicts(c)["monotone_consumption"]
    assert not v.passed
    assert v.value == pytest.approx((2.2 - 1.5) / c.max(), rel=1e-12)
    assert v.message == ("consumption falls with wealth for income state e1 at date 6: c = 2.2 "
                         "at wealth 1 but 1.5 at 2 (1 of 4 date/income-state pairs not "
                         "increasing)")
    drop, where = consumption_monotonicity(c, A, (0, 6))
    assert (drop, where) == (v.value, v.message)


def test_round_off_is_not_a_fall_but_nan_is():
    c = GOOD.copy()
    c[0, 1, 0] = c[0, 2, 0] + 1e-12
    assert _verdicts(c)["monotone_consumption"].passed
    c[0, 1, 0] = np.nan
    v = _verdicts(c)["monotone_consumption"]
    assert not v.passed and math.isnan(v.value) and v.message == "consumption is not finite"


def test_euler_errors_and_exploitability_against_thresholds():
    v = _verdicts(euler_mean_log10=-0.5, euler_max_log10=1.1, exploitability=0.3, value=2.0)
    assert [x.passed for x in v.values()] == [True, False, False, False]
    assert v["euler_mean_log10"].message == (
        "mean Euler error log10 -0.5 is above -1 (relative consumption error 0.316)")
    assert v["euler_max_log10"].message == (
        "largest Euler error log10 1.1 is above 0 (relative consumption error 12.6)")
    assert v["relative_exploitability"].value == pytest.approx(0.15, rel=1e-12)
    assert v["relative_exploitability"].message == (
        "exploitability 0.3 is 15% of |value| 2 (above 5%)")
    strict = QualityThresholds(euler_mean_log10=-4.0, relative_exploitability=0.001)
    v = _verdicts(thresholds=strict)
    assert [x.passed for x in v.values()] == [True, False, True, False]
    assert v["euler_mean_log10"].threshold == -4.0


def test_undefined_relative_exploitability_fails():
    v = _verdicts(value=0.0)["relative_exploitability"]
    assert not v.passed and math.isnan(v.value)
    assert v.message == "relative exploitability undefined (exploitability 0.01, |value| 0)"
    assert not _verdicts(euler_max_log10=float("nan"))["euler_max_log10"].passed
