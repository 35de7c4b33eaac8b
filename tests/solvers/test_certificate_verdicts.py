"""The quality verdicts tell an untrained start from a trained solution (docs/theory.md
§12.8): on Krusell–Smith and the one-asset HANK (small grids), the steady-state start,
whose households ignore every future price, fails both first-order certificates — the
impulse responses and the gaps along noisy paths — while a solution of the shipped preset
(`RSPGConfig.continuous(start="risk-adjusted")`, trained, returned as the average of its
iterates) passes the certificate along paths and its households' consumption follows their
best response after every impulse to within the pass mark. (The impulse certificate's asset
gap — the excess demand of exactly optimising households at the learned prices — is the most
demanding reading and moves with training: it is not asked of a short run; nor is the
first-order preset, whose first iterations move the impulse gaps away from the start before
training brings them back; docs/validation.md.) Exploitability and Euler errors are not
asked to tell the two apart: they are second order in policy errors."""

from __future__ import annotations

import jax
import pytest

import hank_mfg as hm
from models.hank import OneAssetHANK
from models.krusell_smith import KrusellSmith

jax.config.update("jax_enable_x64", True)

ECONOMIES = {
    "krusell_smith": lambda: KrusellSmith(n_wealth=30, n_income=3, wealth_max=60.0, alpha=0.11,
                                          tfp=0.8816460975, beta=0.9819527881, sigma_z=0.02),
    "hank": lambda: OneAssetHANK(n_wealth=30, n_income=3, wealth_max=50.0),
}
SMALL = dict(horizon=40, eval_paths=2, seed=0)
CERTIFICATES = ("first_order_gap", "first_order_path_gap")


@pytest.mark.slow
@pytest.mark.parametrize("case", list(ECONOMIES))
def test_the_untrained_start_fails_the_first_order_verdicts_a_trained_solution_passes(case):
    model = ECONOMIES[case]()
    untrained = hm.solve(model, "rspg", hm.RSPGConfig.continuous(
        iterations=1, eval_every=1, lr=1e-14, lr_final=1e-14, **SMALL), progress=False)
    trained = hm.solve(model, "rspg", hm.RSPGConfig.continuous(
        start="risk-adjusted", iterations=20, eval_every=20, **SMALL), progress=False)
    bad, good = untrained.summary["quality"], trained.summary["quality"]
    assert list(good["checks"])[:2] == list(CERTIFICATES)       # the headline comes first
    for check in CERTIFICATES:
        assert not bad["checks"][check]["passed"], (check, bad["checks"][check])
    assert not bad["passed"]
    assert good["checks"]["first_order_path_gap"]["passed"], good["checks"]
    threshold = good["checks"]["first_order_gap"]["threshold"]
    assert good["first_order"]["gap"]["C"] < threshold < bad["first_order"]["gap"]["C"]
    # the gaps are far apart, not on either side of a pass mark by chance
    assert bad["checks"]["first_order_path_gap"]["value"] > 4 * good["checks"][
        "first_order_path_gap"]["value"]
