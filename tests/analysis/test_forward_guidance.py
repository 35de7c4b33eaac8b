"""The forward-guidance benchmark: the representative household's Euler equation against its
closed form, the representative-agent economy against the textbook New Keynesian model solved
by hand, and the table's columns."""

import numpy as np
import pytest

import hank_mfg as hm
from hank_mfg.analysis.economy import representative_agent_responses, representative_consumption
from models.hank import OneAssetHANK

T = 40  # as tests/solvers/test_economy.py: the same shapes, so the same compiled Jacobian


@pytest.fixture(scope="module")
def hank():
    model = OneAssetHANK(n_wealth=30, n_income=3, wealth_max=50.0)
    return model, hm.steady_state(model)


def _news(k, size=-0.0025, n=T):
    dz = np.zeros(n)
    dz[k] = size
    return dz


# ---- the representative household ---------------------------------------------------------------
@pytest.mark.parametrize("k", [0, 1, 4, 9])
def test_a_one_date_rate_change_moves_consumption_the_same_whatever_k(k):
    """dC_t/C = -eis dR/R at every date up to k for a change of the return paid at k + 1, and
    zero after: the forward-guidance puzzle of the Euler equation."""
    eis, R_ss, dR = 0.5, 1.005, -0.0025
    R = np.full(20, R_ss)
    R[k + 1] += dR
    dC = np.asarray(representative_consumption(R, R_ss, eis))
    np.testing.assert_allclose(dC[:k + 1], -eis * dR / R_ss, rtol=1e-13)
    np.testing.assert_allclose(dC[k + 1:], 0.0, atol=1e-16)
    # the nonlinear Euler equation, C_0/C_ss = (R_{k+1}/R_ss)^(-eis), to second order
    exact = ((R_ss + dR) / R_ss) ** (-eis) - 1.0
    assert abs(dC[0] - exact) < 2 * (dR / R_ss) ** 2


def test_the_return_at_date_zero_is_sunk_and_cuts_add_up():
    eis, R_ss = 2.0, 1.01
    R = np.full(10, R_ss)
    R[0] += 0.01                                   # paid at date 0: no effect on the choice
    np.testing.assert_allclose(representative_consumption(R, R_ss, eis), 0.0, atol=1e-16)
    R[2] -= 0.001
    R[5] -= 0.002
    dC = np.asarray(representative_consumption(R, R_ss, eis))
    np.testing.assert_allclose(dC[0], eis * 0.003 / R_ss, rtol=1e-13)
    np.testing.assert_allclose(dC[2:5], eis * 0.002 / R_ss, rtol=1e-13)


# ---- the representative-agent economy -----------------------------------------------------------
def _textbook_nk(model, ss, k, size=-0.0025, n=T):
    """The linear New Keynesian model with the HANK's rule, timing and Phillips curve, written
    out by hand: c_t = c_{t+1} - eis dr_{t+1}/(1 + r), dr_t = di_{t-1} - (1 + i) dpi_t,
    di_t = drstar_t + phi dpi_t, labour supply and demand (n = y = c) give
    dw/w = (1/frisch + 1/eis) c, and kappa w dw/w + dpi_{t+1}/(1 + r) - dpi_t = 0; c and pi
    back at the steady state after the path. Returns c (fraction) and dpi, dr (levels)."""
    eis, frisch, phi, kappa = (float(getattr(model, f)) for f in ("eis", "frisch", "phi", "kappa"))
    r, w = float(ss["r"]), float(ss["w"])
    i = r                                            # zero inflation in the steady state
    drstar = _news(k, size, n)
    # unknowns x = (c_0..c_{n-1}, pi_0..pi_{n-1}); dr_t linear in pi and drstar
    I = np.eye(n)
    lag = np.eye(n, k=-1)                            # (lag x)_t = x_{t-1}, zero before date 0
    lead = np.eye(n, k=1)                            # (lead x)_t = x_{t+1}, zero after the path
    # dr = lag(di) - (1 + i) dpi with di = drstar + phi dpi
    dr_pi = phi * lag - (1 + i) * I
    dr_0 = lag @ drstar
    # Euler: c - lead c + eis/(1+r) lead dr = 0
    euler_c = I - lead
    euler_pi = eis / (1 + r) * lead @ dr_pi
    euler_0 = eis / (1 + r) * lead @ dr_0
    # NKPC: kappa w (1/frisch + 1/eis) c + lead pi/(1+r) - pi = 0
    nkpc_c = kappa * w * (1 / frisch + 1 / eis) * I
    nkpc_pi = lead / (1 + r) - I
    A = np.block([[euler_c, euler_pi], [nkpc_c, nkpc_pi]])
    b = -np.concatenate([euler_0, np.zeros(n)])
    x = np.linalg.solve(A, b)
    c, pi = x[:n], x[n:]
    return c, pi, dr_pi @ pi + dr_0


@pytest.mark.slow  # 20-25 s of compilation from a cold cache; the default suite has a time budget
@pytest.mark.parametrize("k", [0, 3, 7])
def test_representative_agent_economy_is_the_textbook_new_keynesian_model(hank, k):
    _, ss = hank
    ra = representative_agent_responses(ss, {"rstar": _news(k)})
    c, pi, r = _textbook_nk(ss.model, ss, k)
    C = float(ss["C"])
    scale = np.max(np.abs(c))
    np.testing.assert_allclose(np.asarray(ra["C"][0]) / C, c, atol=1e-9 * scale + 1e-14)
    np.testing.assert_allclose(ra["pi"][0], pi, atol=1e-9 * np.max(np.abs(pi)))
    np.testing.assert_allclose(ra["r"][0], r, atol=1e-9 * np.max(np.abs(r)))
    # markets: goods (C = Y), bonds (A = B) and labour (N = L) clear at every date; the goods
    # market to 1e-8 of the peak response: the dense sequence-space solve leaves about 2e-9 of
    # it (measured: 1.7e-12 against a peak of 1e-3), moving with the steady state's last digits
    np.testing.assert_allclose(ra["C"][0], ra["Y"][0], atol=1e-8 * np.max(np.abs(ra["Y"][0])))
    np.testing.assert_allclose(ra["A"][0], 0.0, atol=1e-12)
    np.testing.assert_allclose(ra["N"][0], ra["L"][0], atol=1e-12)


@pytest.mark.slow  # 15-40 s of compilation; the default suite has a time budget
def test_with_rigid_prices_the_representative_agent_shows_the_puzzle():
    """kappa -> 0: no inflation, the real rate is the rule's rstar, and the impact response of
    consumption to a one-quarter cut is -eis dr/(1 + r) whatever k is; the heterogeneous
    households' response falls with k."""
    model = OneAssetHANK(n_wealth=30, n_income=3, wealth_max=50.0, kappa=1e-12)
    ss = hm.steady_state(model)
    fg = hm.forward_guidance_table(ss, horizons=(0, 4, 8), T=T, variables=("C", "pi"))
    c = fg[fg["variable"] == "C"].set_index("k")
    expected = 100 * -float(model.eis) * -0.0025 / (1 + float(ss["r"]))
    np.testing.assert_allclose(c["ra_response"], expected, rtol=1e-8)
    np.testing.assert_allclose(c["ra_relative"], 1.0, rtol=1e-8)
    assert np.all(np.abs(fg[fg["variable"] == "pi"]["ra_response"]) < 1e-6)
    # the same real-rate path reaches the heterogeneous households; they discount the future cut
    np.testing.assert_allclose(c["ra_given_rates"], expected, rtol=1e-6)
    assert c.loc[8, "relative"] < c.loc[4, "relative"] < 1.0


@pytest.mark.slow  # 20-25 s of compilation from a cold cache; the default suite has a time budget
def test_forward_guidance_table_columns_and_the_given_rates(hank):
    model, ss = hank
    horizons = (0, 2, 5)
    fg = hm.forward_guidance_table(ss, horizons=horizons, T=T)
    assert list(fg.columns) == ["k", "variable", "unit", "response", "relative", "ra_response",
                                "ra_relative", "ra_given_rates"]
    assert fg["ra_given_rates"][fg["variable"] != "C"].isna().all()
    c = fg[fg["variable"] == "C"].set_index("k")
    np.testing.assert_allclose(c.loc[0, ["relative", "ra_relative"]].astype(float), 1.0)
    # ra_given_rates: the Euler equation at this economy's own equilibrium real rates
    path = hm.transition_path(model, shocks={"rstar": _news(5)}, steady_state=ss)
    r, r_ss = np.asarray(path["r"]), float(ss["r"])
    by_hand = 100 * -float(model.eis) * np.sum(r[1:] - r_ss) / (1 + r_ss)
    np.testing.assert_allclose(c.loc[5, "ra_given_rates"], by_hand, rtol=1e-10)
    # the representative-agent column is the representative-agent economy's date-0 response
    ra = representative_agent_responses(ss, {"rstar": _news(2)})
    np.testing.assert_allclose(c.loc[2, "ra_response"], 100 * float(ra["C"][0, 0]) / float(ss["C"]),
                               rtol=1e-10)
    fig = hm.forward_guidance_figure(fg)
    assert len(fig.axes) == 2


@pytest.mark.slow  # 15-40 s of compilation; the default suite has a time budget
def test_representative_agent_of_a_bond_economy_without_labour():
    """Huggett: no labour choice, the endowment shock; the bond market A = 0 makes the
    representative household consume its endowment, C = e^z, at every date."""
    from models.huggett import Huggett

    model = Huggett(n_wealth=30)
    ss = hm.steady_state(model)
    dz = -0.02 * 0.9 ** np.arange(60)
    ra = representative_agent_responses(ss, {"z": dz})
    np.testing.assert_allclose(np.asarray(ra["C"][0]), float(ss["C"]) * dz, atol=1e-12)
    # its Euler equation then gives the rate: dr_{t} = (dz_{t+1} - dz_t) / eis (1 + r)
    eis = 1 / float(model.sigma)
    dr = (np.append(dz[1:], 0.0) - dz) / eis * (1 + float(ss["r"]))
    np.testing.assert_allclose(np.asarray(ra["r"][0]), dr, atol=1e-12)


def test_representative_agent_rejects_an_unknown_shock(hank):
    _, ss = hank
    with pytest.raises(ValueError, match="shocks"):
        representative_agent_responses(ss, {"w": np.zeros(10)})
