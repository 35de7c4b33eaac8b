"""Shipped models: the paper's macro model (docs/theory.md §10.1) by hand, Krusell–Smith, Aiyagari,
and the construction-time errors of the declaration layer."""

import dataclasses

import equinox as eqx
import jax.numpy as jnp
import jaxtyping
import numpy as np
import pytest

import hank_mfg as hm
from models.aiyagari import Aiyagari
from models.krusell_smith import KrusellSmith
from models.rspg_macro import RSPGMacro
from tests._tiny import ArrayModel

# ---- an independent NumPy float64 reference of the paper's model (theory §10.1) ----------------

A = np.geomspace(0.25, 99.25, 200) - 0.25
E = np.geomspace(0.35, 2.25, 5) - 0.25
SHARES = (np.arange(20) + 0.5) / 20
PI = np.zeros((5, 5))
for i in range(5):
    PI[i, i] += 0.8
    PI[i, max(i - 1, 0)] += 0.1
    PI[i, min(i + 1, 4)] += 0.1
A_S = np.repeat(A, 5)  # s = i_a * 5 + i_e
E_S = np.tile(E, 200)
IE_S = np.tile(np.arange(5), 200)


def ref_prices(mu, z, alpha=0.36):
    K, L = mu @ A_S, mu @ E_S
    r = np.exp(z) * alpha * (L / (K + 1e-6)) ** (1 - alpha)
    w = np.exp(z) * (1 - alpha) * (K / (L + 1e-6)) ** alpha
    return K, L, r, w


def ref_next_wealth(r, w):
    m = (1 + r) * A_S + w * E_S
    return m, m[:, None] * (1 - SHARES[None, :])


def ref_lottery(ap):
    """Indices and weights of a' on A, clipped at the ends (computed with np.interp's logic)."""
    j = np.clip(np.searchsorted(A, ap, side="right") - 1, 0, len(A) - 2)
    lam = np.clip((A[j + 1] - ap) / (A[j + 1] - A[j]), 0.0, 1.0)
    return j, lam


def ref_push(mu, P, r, w):
    _, ap = ref_next_wealth(r, w)
    j, lam = ref_lottery(ap)
    out = np.zeros((200, 5))
    mass = mu[:, None] * P
    ie = np.broadcast_to(IE_S[:, None], ap.shape)
    np.add.at(out, (j, ie), mass * lam)
    np.add.at(out, (j + 1, ie), mass * (1 - lam))
    return (out @ PI).reshape(-1)


def ref_expect(v, P, r, w):
    _, ap = ref_next_wealth(r, w)
    j, lam = ref_lottery(ap)
    V = v.reshape(200, 5)
    ie = IE_S[:, None]
    # sum_{e'} Pi[e, e'] v(a', e') at both lottery nodes
    W = V @ PI.T
    Q = lam * W[j, ie] + (1 - lam) * W[j + 1, ie]
    return (P * Q).sum(1)


def ref_rewards(r, w, t, horizon=128, sigma=2.0):
    m, _ = ref_next_wealth(r, w)
    u = lambda c: c ** (1 - sigma) / (1 - sigma)  # noqa: E731
    if t == horizon - 1:
        return np.broadcast_to(u(m)[:, None], (1000, 20))
    return u(m[:, None] * SHARES[None, :])


@pytest.fixture(scope="module")
def macro():
    return hm.compile_model(RSPGMacro())


@pytest.fixture(scope="module")
def inputs():
    rng = np.random.default_rng(42)
    mu = rng.dirichlet(np.ones(1000) * 0.5)
    P = rng.dirichlet(np.ones(20), size=1000)
    v = rng.normal(size=1000)
    return mu, P, v


def test_rspg_macro_sizes_and_defaults(macro):
    m = macro.model
    assert macro.n_states == 1000 and macro.n_actions == 20 and macro.horizon == 128
    assert (macro.n_wealth, macro.n_income) == (200, 5)
    np.testing.assert_allclose(np.asarray(macro.a_grid), A, rtol=1e-12, atol=1e-12)
    assert float(macro.a_grid[0]) == 0.0
    np.testing.assert_allclose(np.asarray(macro.e_grid), E, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(macro.Pi_e), PI, atol=1e-15)
    np.testing.assert_allclose(np.asarray(macro.action_grid), SHARES, atol=1e-15)
    assert float(m.beta) == 0.95 and float(m.sigma) == 2.0 and float(m.alpha) == 0.36
    assert float(m.rho_z) == 0.9 and float(m.sigma_z) == 0.03
    assert m.common_noise and m.terminal == "consume_all" and m.action_kind == "share"
    np.testing.assert_allclose(np.asarray(macro.initial_distribution()), np.full(1000, 1e-3),
                               rtol=1e-15)


@pytest.mark.parametrize("z", [0.0, 0.07, -0.05])
def test_rspg_macro_prices(macro, inputs, z):
    mu, _, _ = inputs
    agg = macro.aggregate_state(jnp.asarray(mu), z)
    K, L, r, w = ref_prices(mu, z)
    for got, want in ((agg.K, K), (agg.L, L), (agg.r, r), (agg.w, w), (agg.z, z)):
        np.testing.assert_allclose(float(got), want, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(float(agg.Y), np.exp(z) * K**0.36 * L**0.64, rtol=1e-13)
    np.testing.assert_allclose(np.asarray(macro.observation(agg)), [r, w], rtol=1e-13)


def test_rspg_macro_push_forward_and_expectation(macro, inputs):
    mu, P, v = inputs
    z = 0.04
    agg = macro.aggregate_state(jnp.asarray(mu), z)
    _, _, r, w = ref_prices(mu, z)
    mu1 = np.asarray(macro.push_forward(jnp.asarray(mu), jnp.asarray(P), agg))
    np.testing.assert_allclose(mu1, ref_push(mu, P, r, w), rtol=1e-12, atol=1e-15)
    assert mu1.sum() == pytest.approx(1.0, abs=1e-13)
    ev = np.asarray(macro.expect(jnp.asarray(v), jnp.asarray(P), agg))
    np.testing.assert_allclose(ev, ref_expect(v, P, r, w), rtol=1e-12, atol=1e-13)
    assert float(np.dot(v, mu1)) == pytest.approx(float(np.dot(ev, mu)), rel=1e-12)


@pytest.mark.parametrize("t", [0, 5, 126, 127])
def test_rspg_macro_rewards(macro, inputs, t):
    mu, _, _ = inputs
    agg = macro.aggregate_state(jnp.asarray(mu), -0.02)
    _, _, r, w = ref_prices(mu, -0.02)
    R = np.asarray(macro.rewards(agg, t))
    assert R.shape == (1000, 20)
    np.testing.assert_allclose(R, ref_rewards(r, w, t), rtol=1e-13)
    if t == 127:  # terminal rule u(m): the same for every action
        assert np.all(R == R[:, :1])


def test_rspg_macro_terminal_rule_none_and_horizon_override():
    mf = hm.compile_model(RSPGMacro(horizon=4, terminal="none", common_noise=False))
    mu = mf.initial_distribution()
    agg = mf.aggregate_state(mu, 0.0)
    np.testing.assert_allclose(np.asarray(mf.rewards(agg, 3)), np.asarray(mf.rewards(agg, 0)))
    mf2 = hm.compile_model(RSPGMacro(horizon=4))
    R = np.asarray(mf2.rewards(mf2.aggregate_state(mu, 0.0), 3))
    assert np.all(R == R[:, :1])
    assert np.all(np.asarray(mf.sample_noise(key=__import__("jax").random.key(0), n_paths=2)) == 0)


@pytest.mark.parametrize("sigma", [1.0, 3.0])
def test_crra_utility(sigma):
    c = jnp.asarray([0.3, 1.0, 2.5])
    want = np.log(c) if sigma == 1.0 else np.asarray(c) ** (1 - sigma) / (1 - sigma)
    np.testing.assert_allclose(np.asarray(hm.crra_utility(c, sigma)), want, rtol=1e-14)


# ---- Krusell–Smith and Aiyagari -----------------------------------------------------------------

def test_krusell_smith_defaults_and_prices():
    m = KrusellSmith(n_wealth=20, n_income=3, n_actions=6)
    mf = hm.compile_model(m)
    assert mf.n_states == 60 and mf.n_actions == 6
    pi_e = np.asarray(m.income.pi_e)
    assert float(pi_e @ np.asarray(m.e_grid)) == pytest.approx(1.0, abs=1e-13)
    mu = mf.initial_distribution()
    agg = mf.aggregate_state(mu, 0.01)
    K, L = float(agg.K), float(agg.L)
    r = 0.36 * np.exp(0.01) * (K / L) ** (0.36 - 1) - 0.025
    w = 0.64 * np.exp(0.01) * (K / L) ** 0.36
    assert float(agg.r) == pytest.approx(r, rel=1e-13)
    assert float(agg.w) == pytest.approx(w, rel=1e-13)
    defaults = {f.name: f.default for f in dataclasses.fields(KrusellSmith)}
    assert (defaults["n_wealth"], defaults["n_income"], defaults["n_actions"]) == (500, 7, 100)


@pytest.mark.slow  # long; run with -m slow (the default suite has a time budget)
def test_aiyagari_builds_compiles_and_conserves_mass():
    m = Aiyagari(n_wealth=20, n_income=3, n_actions=8)
    assert not m.common_noise
    assert float(m.beta) == 0.96 and float(m.delta) == 0.08 and float(m.alpha) == 0.36
    assert float(m.income_rho) == 0.6 and float(m.income_sd) == 0.2 and float(m.sigma) == 3.0
    assert float(m.a_grid[0]) == 0.0
    mf = hm.compile_model(m)
    mu = mf.initial_distribution()
    P = jnp.full((mf.n_states, mf.n_actions), 1.0 / mf.n_actions)
    for _ in range(4):
        agg = mf.aggregate_state(mu, 0.0)
        mu = mf.push_forward(mu, P, agg)
        assert float(mu.sum()) == pytest.approx(1.0, abs=1e-13)
    assert float(agg.r) == pytest.approx(
        0.36 * (float(agg.K) / float(agg.L)) ** -0.64 - 0.08, rel=1e-12)
    noise = mf.sample_noise(key=__import__("jax").random.key(0), n_paths=2, T=5)
    assert noise.shape == (2, 5) and float(jnp.abs(noise).max()) == 0.0
    defaults = {f.name: f.default for f in dataclasses.fields(Aiyagari)}
    assert (defaults["n_wealth"], defaults["n_income"], defaults["n_actions"]) == (200, 7, 50)
    rw = Aiyagari(n_wealth=10, income_method="rouwenhorst", action_kind="savings", n_actions=5)
    assert hm.compile_model(rw).n_actions == 5


def test_dataclasses_replace_reruns_checks():
    m = KrusellSmith(n_wealth=10, n_income=2, n_actions=3)
    assert float(dataclasses.replace(m, beta=0.9).beta) == 0.9
    with pytest.raises(ValueError, match="KrusellSmith.beta"):
        dataclasses.replace(m, beta=1.5)


# ---- errors for bad input ----------------------------------------------------------------------

SMALL = dict(n_wealth=10, n_income=2, n_actions=3)


@pytest.mark.parametrize("cls", [RSPGMacro, KrusellSmith, Aiyagari])
@pytest.mark.parametrize(
    "kw,field",
    [
        (dict(sigma=0.0), "sigma"),
        (dict(sigma=-1.0), "sigma"),
        (dict(beta=1.0), "beta"),
        (dict(beta=0.0), "beta"),
        (dict(beta=1.02), "beta"),
        (dict(sigma_z=-0.01), "sigma_z"),
        (dict(rho_z=1.0), "rho_z"),
        (dict(rho_z=-1.5), "rho_z"),
        (dict(horizon=0), "horizon"),
        (dict(action_kind="levels"), "action_kind"),
        (dict(terminal="bequest"), "terminal"),
        (dict(initial_mu=jnp.ones(3)), "initial_mu"),
    ],
)
def test_model_errors_name_the_field(cls, kw, field):
    with pytest.raises(ValueError, match=rf"{cls.__name__}\.{field} must"):
        cls(**SMALL, **kw)


def test_error_message_format():
    with pytest.raises(ValueError, match=r"^KrusellSmith\.beta must lie in \(0, 1\); got 1\.02$"):
        KrusellSmith(beta=1.02, **SMALL)


@pytest.mark.parametrize("cls", [KrusellSmith, Aiyagari])
def test_income_errors(cls):
    with pytest.raises(ValueError, match="rho"):
        cls(income_rho=1.0, **SMALL)
    with pytest.raises(ValueError, match="sd"):
        cls(income_sd=-0.2, **SMALL)


def test_model_grid_with_one_point():
    with pytest.raises(ValueError, match=r"KrusellSmith\.n_wealth must be an integer >= 2"):
        KrusellSmith(n_wealth=1, n_income=2, n_actions=3)


def user(**kw):
    base = dict(grid_a=jnp.asarray([0.0, 1.0, 3.0]), levels_e=jnp.asarray([0.5, 1.5]),
                Pi=jnp.asarray([[0.9, 0.1], [0.2, 0.8]]), actions=jnp.asarray([0.25, 0.75]))
    base.update(kw)
    return ArrayModel(**base)


@pytest.mark.parametrize(
    "kw,msg",
    [
        (dict(grid_a=jnp.asarray([0.0, 2.0, 1.0])), "ArrayModel.a_grid must be strictly increasing"),
        (dict(grid_a=jnp.asarray([0.0, 1.0, 1.0])), "ArrayModel.a_grid must be strictly increasing"),
        (dict(grid_a=jnp.asarray([0.0])), "ArrayModel.a_grid must have at least 2 points"),
        (dict(levels_e=jnp.asarray([1.0, -1.0])), "ArrayModel.e_grid must hold finite, non-negative"),
        (dict(Pi=jnp.asarray([[0.9, 0.2], [0.2, 0.8]])), "ArrayModel.Pi_e rows must sum to 1"),
        (dict(Pi=jnp.asarray([[1.1, -0.1], [0.2, 0.8]])),
         "ArrayModel.Pi_e must have non-negative entries"),
        (dict(actions=jnp.asarray([0.0, 0.5])), "ArrayModel.action_grid must hold consumption"),
        (dict(actions=jnp.asarray([0.5, 1.0])), "ArrayModel.action_grid must hold consumption"),
        (dict(actions=jnp.asarray([2.0, 1.0]), action_kind="savings"),
         "ArrayModel.action_grid must be strictly increasing"),
        (dict(initial_mu=jnp.asarray([0.5, 0.5, 0.5, 0.0, 0.0, 0.0])),
         "ArrayModel.initial_mu must be a probability vector"),
    ],
)
def test_user_model_errors(kw, msg):
    with pytest.raises(ValueError, match=msg):
        user(**kw)


def test_user_model_income_shape_mismatch():
    # IncomeProcess's runtime shape check (when on) fires before the model's own ValueError
    with pytest.raises((ValueError, jaxtyping.TypeCheckError), match="Pi_e"):
        user(Pi=jnp.eye(3))


def test_user_model_initial_mu_used():
    mu0 = jnp.asarray([0.5, 0.5, 0.0, 0.0, 0.0, 0.0])
    mf = hm.compile_model(user(initial_mu=mu0))
    np.testing.assert_allclose(np.asarray(mf.initial_distribution()), np.asarray(mu0))


def test_compile_model_rejects_non_models():
    with pytest.raises(TypeError, match="AbstractHetAgentModel"):
        hm.compile_model(object())


# ---- the borrowing limit must lie above the natural borrowing limit -------------------------------
class _FixedPrices(hm.AbstractHetAgentModel):
    """Prices fixed at (r, w) whatever the distribution: the natural limit is -w e_min / r."""

    wealth_min: jnp.ndarray = eqx.field(converter=hm.as_param, default=0.0)
    beta: jnp.ndarray = eqx.field(converter=hm.as_param, default=0.95)
    sigma: jnp.ndarray = eqx.field(converter=hm.as_param, default=2.0)
    rho_z: jnp.ndarray = eqx.field(converter=hm.as_param, default=0.9)
    sigma_z: jnp.ndarray = eqx.field(converter=hm.as_param, default=0.0)
    r_fixed: jnp.ndarray = eqx.field(converter=hm.as_param, default=0.03)
    w_fixed: jnp.ndarray = eqx.field(converter=hm.as_param, default=1.5)
    horizon: int = eqx.field(static=True, default=3)
    common_noise: bool = eqx.field(static=True, default=False)
    action_kind: str = eqx.field(static=True, default="share")
    terminal: str = eqx.field(static=True, default="consume_all")
    initial_mu: jnp.ndarray | None = None

    @property
    def a_grid(self):
        return hm.shifted_geometric_grid(self.wealth_min, 50.0, 8)

    @property
    def income(self):
        return hm.markov_chain(jnp.array([0.4, 1.6]), jnp.array([[0.9, 0.1], [0.1, 0.9]]))

    @property
    def action_grid(self):
        return hm.share_grid(4)

    def prices(self, K, L, z):
        return self.r_fixed + 0.0 * K, self.w_fixed + 0.0 * K

    def output(self, K, L, z):
        return K**0.36 * L**0.64


def test_borrowing_limit_check_sits_at_the_natural_borrowing_limit():
    natural = -1.5 * 0.4 / 0.03  # -w e_min / r = -20
    _FixedPrices(wealth_min=natural * (1 - 1e-6))  # cash on hand at (a_min, e_min) > a_min
    with pytest.raises(ValueError, match=r"_FixedPrices\.wealth_min must exceed the natural "
                                         r"borrowing limit -y_min / r = -20[,;].*got -20\.0001$"):
        _FixedPrices(wealth_min=natural * (1 + 5e-6))
    # a negative interest rate leaves every limit feasible (r a_min + w e_min > 0)
    _FixedPrices(wealth_min=-1000.0, r_fixed=-0.01)
    # r at or above the rate of time preference is out of reach in a stationary equilibrium
    _FixedPrices(wealth_min=-1000.0, r_fixed=1 / 0.95 - 1 + 1e-3)


def test_krusell_smith_borrowing_limit_feasible_at_minus_one_not_at_minus_100():
    KrusellSmith(sigma=2.0, wealth_min=-1.0, n_income=9, n_wealth=12, n_actions=5)
    with pytest.raises(ValueError, match=r"KrusellSmith\.wealth_min must exceed the natural "
                                         r"borrowing limit .*; got -100$"):
        KrusellSmith(sigma=2.0, wealth_min=-100.0, n_income=9, n_wealth=12, n_actions=5)
    with pytest.raises(ValueError, match="wealth_min"):  # replace re-runs the check
        dataclasses.replace(KrusellSmith(n_wealth=12, n_income=3, n_actions=5), wealth_min=-100.0)
