"""Build the tutorial notebooks (outputs stripped) from the cells below.

    python notebooks/build_notebooks.py                 # every notebook
    python notebooks/build_notebooks.py 03_rspg_macro   # one of them

Edit the cells here, not the .ipynb files, and rebuild. Every notebook starts with ``SETUP``
and runs top to bottom in a fast mode when the environment variable ``HANK_MFG_FAST=1`` (small
grids, few iterations; what the test suite runs) and at full size otherwise; they use only the
public API (``import hank_mfg as hm`` and the shipped ``models``). Files a notebook writes go
under ``OUTPUTS`` (``outputs/`` in the repository, or ``HANK_MFG_OUTPUTS`` when set: the tests
point it at a temporary folder).

Every sentence in a markdown cell must be true of the output beside it, at full size and in fast
mode: a claim about results is computed and printed by a cell, or phrased as what to look for.

A new notebook: a list of cells below, one entry in ``NOTEBOOKS``, a line in
``notebooks/README.md`` and in the Notebooks section of ``mkdocs.yml``. The tests run every
``notebooks/*.ipynb`` in fast mode.
"""

from __future__ import annotations

import os

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = os.path.dirname(os.path.abspath(__file__))

# The first code cell of every notebook: find the repository root (the folder holding both
# ``hank_mfg`` and ``models``) from wherever the notebook runs, and read the fast-mode switch.
SETUP = '''\
import os, sys, pathlib

def _repo_root(start=pathlib.Path.cwd()):
    for d in [start, *start.parents]:
        if (d / "hank_mfg").is_dir() and (d / "models").is_dir():
            return d
    raise RuntimeError("run this notebook inside the hank_mfg repository")

ROOT = _repo_root()
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
FAST = os.environ.get("HANK_MFG_FAST", "0") == "1"   # small grids, few iterations
OUTPUTS = pathlib.Path(os.environ.get("HANK_MFG_OUTPUTS", ROOT / "outputs"))  # files written
print(f"repository: {ROOT}; fast mode: {FAST}")'''


def md(text: str):
    return new_markdown_cell(text.strip("\n"))


def code(text: str):
    return new_code_cell(text.strip("\n"))


def notebook(cells) -> nbformat.NotebookNode:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


QUICKSTART = [
    md("""
# Quickstart: declare → compile → solve → report

This notebook takes the paper's macro model (RSPG, arXiv 2602.20141) from its declaration to a
solved equilibrium with aggregate risk, a wealth-distribution table and an impulse-response
figure. Set `HANK_MFG_FAST=1` to run it on a small grid with a few iterations (a minute or
two); without it, it runs the published configuration's grid with a shorter horizon and a
shorter training run.
"""),
    code(SETUP),
    code("""
%matplotlib inline
import jax
import jax.numpy as jnp
import hank_mfg as hm
from models.rspg_macro import RSPGMacro
from IPython.display import display
"""),
    md("""
## 1. Declare

A model is a final Equinox class whose fields read like a calibration table. `RSPGMacro` is the
paper's economy (docs/theory.md §10.1): by default 200 wealth points x 5 income states, 20
consumption-share actions, CRRA utility with `sigma = 2`, TFP AR(1) with `rho = 0.9`,
`sigma_z = 0.03`, horizon 128. Here the horizon is shorter, and in fast mode the wealth grid
too; every field can be overridden the same way (`RSPGMacro(beta=0.9)`). The cell prints the
sizes in use.
"""),
    code("""
model = RSPGMacro(n_wealth=40, horizon=16) if FAST else RSPGMacro(horizon=64)
print(type(model).__name__, "states:", model.n_states, "actions:", model.action_grid.shape[0],
      "horizon:", model.horizon)
"""),
    md("""
## 2. Compile

`hm.compile_model` turns the declaration into the exact mean-field operators: the push-forward
of the distribution (wealth lottery, then the income matrix) and its adjoint.
"""),
    code("""
mf = hm.compile_model(model)
mu = mf.initial_distribution()
agg = mf.aggregate_state(mu, 0.0)                      # K, L, r, w at z = 0
P = jnp.full((mf.n_states, mf.n_actions), 1.0 / mf.n_actions)   # a uniform policy table
mu_next = mf.push_forward(mu, P, agg)
print(f"K = {float(agg.K):.3f}, r = {float(agg.r):.4f}, w = {float(agg.w):.4f}; "
      f"mass after one step = {float(mu_next.sum()):.12f}")
"""),
    md("""
## 3. Solve with aggregate risk (RSPG)

RSPG samples common-noise paths, evaluates the policy exactly along each, and follows the
policy gradient. `sol.history` records the exploitability (how much a clairvoyant household
could gain by deviating) as training goes.
"""),
    code("""
config = (hm.RSPGConfig(iterations=20, eval_every=10, n_paths=4, eval_paths=4, hidden=32, widths=(32, 32))
          if FAST else hm.RSPGConfig(iterations=200, eval_every=50))
sol = hm.solve(model, method="rspg", config=config, progress=False)
sol.history[["iteration", "seconds", "loss", "exploitability"]]
"""),
    md("""
## 4. Report: the wealth distribution

Percentiles, Gini, top shares and the mass at the borrowing limit at the start, middle and end
of the horizon (the `date` column) on sampled noise paths (the `path` column); the table shows
the whole population, and `wealth` also holds one row per income state (definitions in
docs/theory.md §11).
"""),
    code("""
key = jax.random.key(0)
wealth = hm.wealth_distribution(sol, key=key, n_paths=2 if FAST else 8)
wealth[wealth["group"] == "all"]
"""),
    md("""
## 5. Report: impulse responses

Generalised impulse responses to a 1% TFP shock: mean paths with and without the shock under
common random numbers, in percent deviations (basis points for `r`, percentage points for
shares and log TFP; docs/theory.md §11).
"""),
    code("""
irf = hm.impulse_responses(sol, shock=0.01, key=key, n_paths=4 if FAST else 16)
fig = hm.impulse_figure(irf)
display(fig)
irf.pivot_table(index="t", columns="variable", values="response").head()
"""),
    md("""
Next: `02_krusell_smith.ipynb` (steady state, calibration, RSPG against the perfect-foresight
transition) and `03_rspg_macro.ipynb` (RSPG versus SPG, heatmaps, anticipatory consumption).
"""),
]


KRUSELL_SMITH = [
    md("""
# Krusell–Smith: steady state, calibration, aggregate risk, impulse responses, export

The classical gold standards (EGM steady state, perfect-foresight transition path) next to the
RSPG solution with aggregate risk. The classical solvers run in float64. `HANK_MFG_FAST=1` runs
small grids and a short training run.
"""),
    code(SETUP),
    code("""
%matplotlib inline
import dataclasses
from IPython.display import display
import jax
jax.config.update("jax_enable_x64", True)   # before any array is built
import jax.numpy as jnp
import pandas as pd
import hank_mfg as hm
from models.krusell_smith import KrusellSmith

N_A, N_E = (60, 3) if FAST else (500, 7)
OUT = OUTPUTS / "notebook_krusell_smith"
"""),
    md("""
## 1. Steady state (EGM + a root find in `r`)

sequence-jacobian's Krusell–Smith technology: `alpha = 0.11` and the TFP level that gives
`Y = 1` when `r = 1%`. With `beta = 0.98` the interest rate comes out different (the cell prints
it), so `Y` is not exactly 1; the calibration below finds the `beta` that gives `r = 1%`.
"""),
    code("""
model = KrusellSmith(alpha=0.11, tfp=0.8816460975, beta=0.98, n_wealth=N_A, n_income=N_E)
ss = hm.steady_state(model)
print(f"r = {float(ss.r):.5f}  w = {float(ss.w):.4f}  Y = {float(ss.Y):.4f}  K/Y = {float(ss.K / ss.Y):.3f}  "
      f"Euler errors (log10) mean {float(ss.euler_mean):.2f}, max {float(ss.euler_max):.2f}")
hm.wealth_distribution(ss, model=model)
"""),
    md("""
## 2. Calibration

First `beta` such that `r = 1%` a quarter (Brent on asset-market clearing at the fixed `r`).
On the full 500 x 7 grid sequence-jacobian's value is 0.98195; the cell prints the value on the
grid in use (the fast mode's small grid gives a slightly different one). Then the US targets of
`calibration/targets/us_ks.toml` (sources in the file): `beta` and `delta` to `r` and
`K/Y = 12` by least squares, with the untargeted inequality moments beside the model's.
"""),
    code("""
cal = hm.calibrate(model, targets={"r": 0.01}, free={"beta": (0.96, 0.995)})
print(f"beta = {float(cal.params['beta']):.5f} on the {N_A} x {N_E} grid (sequence-jacobian, 500 x 7: 0.98195)")
print({k: cal.diagnostics[k] for k in ("method", "evaluations", "seconds", "compilations_after_first")})
cal.table()
"""),
    code("""
spec = hm.load_targets(ROOT / "calibration" / "targets" / "us_ks.toml")
us_model = dataclasses.replace(spec.apply(KrusellSmith()), n_wealth=N_A, n_income=N_E)
us = hm.calibrate(us_model, targets=spec.targets, free=spec.free)
print(us.params)
us.table(spec.untargeted)[["target", "data", "model", "targeted"]]
"""),
    md("""
## 3. Aggregate risk by RSPG

Start the population at the calibrated economy's stationary distribution and train a
recurrent policy against TFP shocks (`rho_z = 0.95`, `sigma_z = 0.007`).
"""),
    code("""
T = 16 if FAST else 64
risk_model = hm.with_steady_state_initial(
    dataclasses.replace(cal.model, horizon=T, n_actions=20 if FAST else 100), cal.steady_state)
config = (hm.RSPGConfig(iterations=20, eval_every=10, n_paths=4, eval_paths=4, hidden=32, widths=(32, 32))
          if FAST else hm.RSPGConfig(iterations=300, eval_every=50))
sol = hm.solve(risk_model, method="rspg", config=config, progress=False)
sol.history[["iteration", "seconds", "exploitability", "policy_return"]]
"""),
    md("""
## 4. Impulse responses against the perfect-foresight ones

RSPG's generalised impulse response to a 1% TFP shock (common random numbers) and its response
on the no-noise path, against the MIT-shock transition path (Newton with the fake-news
sequence-space Jacobian). What to look for: how close the learned responses are to the
perfect-foresight ones, which depends on how long RSPG was trained. The table below the
figure prints both for the first quarters.
"""),
    code("""
z = 0.01 * float(cal.model.rho_z) ** jnp.arange(200)
path = hm.transition_path(cal.model, z=z, steady_state=cal.steady_state)
mit = hm.mit_responses(path, cal.steady_state)
irf = hm.impulse_responses(sol, shock=0.01, key=jax.random.key(1), n_paths=4 if FAST else 16,
                           deterministic=True)
fig = hm.impulse_figure(irf, mit)
display(fig)
side = {"RSPG": irf.pivot_table(index="t", columns="variable", values="response"),
        "perfect foresight": mit.pivot_table(index="t", columns="variable", values="response")}
pd.concat({k: v[["K", "Y", "C"]].head(6) for k, v in side.items()}, axis=1).round(3)
"""),
    md("""
## 5. Export

Tables as CSV + Parquet, and a self-contained bundle (policy, model, history, tables) that
`hm.load_bundle` reads back.
"""),
    code("""
tables = {
    "calibration_fit": us.table(spec.untargeted),
    "steady_state_policy": hm.policy_table(cal.steady_state, model=cal.model),
    "impulse_responses": irf,
    "mit_responses": mit,
}
for name, df in tables.items():
    hm.write_table(df, OUT / "tables", name)
hm.save_figure(fig, OUT / "figures", "impulse_responses")
hm.save_bundle(sol, OUT / "bundle", tables={"impulse_responses": irf})
sorted(p.name for p in (OUT / "tables").iterdir())
"""),
]


RSPG_MACRO = [
    md("""
# The paper's macro model: RSPG versus SPG

Recurrent (history-aware) against memoryless policies on the macro model of the RSPG paper:
exploitability against training time, the distribution over (wealth, income), consumption
ahead of the end of the horizon, and the policy functions. `HANK_MFG_FAST=1` runs a
small grid and a few iterations.
"""),
    code(SETUP),
    code("""
%matplotlib inline
import jax
import matplotlib.pyplot as plt
import hank_mfg as hm
from models.rspg_macro import RSPGMacro
from IPython.display import display

model = RSPGMacro(n_wealth=40, horizon=16) if FAST else RSPGMacro(horizon=64)
config = (hm.RSPGConfig(iterations=20, eval_every=5, n_paths=4, eval_paths=4, hidden=32, widths=(32, 32))
          if FAST else hm.RSPGConfig(iterations=300, eval_every=25))
key = jax.random.key(0)
"""),
    md("""
## 1. Exploitability against training time

Same configuration, same seed, same evaluation paths; the only difference is the GRU over the
public price history. The horizontal axis is training time (the history's `seconds`: set-up,
compilation and the evaluations themselves excluded; `wall_seconds` counts everything). Exploitability stays positive with common noise (the best responder is
clairvoyant), so compare the levels and the speed of decline.
"""),
    code("""
sols = {method: hm.solve(model, method=method, config=config, progress=False)
        for method in ("rspg", "spg")}
fig, ax = plt.subplots(figsize=(5, 3.5))
for method, sol in sols.items():
    ax.plot(sol.history["seconds"], sol.history["exploitability"], marker="o", label=method.upper())
ax.set_xlabel("training time (s)"); ax.set_ylabel("exploitability"); ax.set_yscale("log"); ax.legend()
plt.show()
{m: s.summary["final_exploitability"] for m, s in sols.items()}
"""),
    md("""
## 2. Distribution heatmaps

The distribution over (wealth, income) at the start, the middle and the end of the horizon on
one noise path, beside the price paths.
"""),
    code("""
hm.distribution_heatmaps(sols["rspg"], key=key)
"""),
    md("""
## 3. Anticipatory consumption

What to look for. In the paper, households spend a larger share of their wealth as the end of
the horizon approaches: with `terminal="consume_all"` whatever is left is consumed at the last
date, so saving for later pays less and less. A history-aware policy can also react to what the
public price history predicts; the memoryless one cannot. Whether a run has learnt the
end-of-horizon effect depends on its training: the cell prints, for each method, the mean
consumption share in the first half of the horizon and in its last quarter (the last date is
left out: there the chosen share makes no difference).
"""),
    code("""
antic = hm.anticipatory_consumption(sols["rspg"], sols["spg"], key=key, n_paths=4 if FAST else 16)
display(hm.anticipation_figure(antic))
T = model.horizon
share = antic[~antic["terminal"]].groupby(["time_to_end", "method"])["share"].mean().unstack()
early = share.loc[share.index >= T // 2].mean()                 # the first half of the horizon
late = share.loc[share.index <= max(1, T // 4)].mean()          # its last quarter
for method in share.columns:
    change = late[method] - early[method]
    print(f"{method.upper()}: mean consumption share {early[method]:.3f} in the first half, "
          f"{late[method]:.3f} in the last quarter: it {'rises' if change > 0 else 'falls'} "
          f"by {abs(change):.3f} towards the end")
share.sort_index(ascending=False).tail()
"""),
    md("""
## 4. Policy functions

The policy functions against wealth, one line per income state, at the start of the episode
on the no-shock path. What to look for: consumption should rise with wealth in every income
state; a short training run may not get there everywhere, and the cell prints where it does
and where it does not.
"""),
    code("""
table = hm.policy_table(sols["rspg"], date=0)
display(hm.policy_figure(table))
for e, rows in table.groupby("income_state"):
    c = rows.sort_values("wealth")["consumption"].to_numpy()
    falls = int((c[1:] < c[:-1] - 1e-9).sum())
    print(f"income state {e}: consumption " + ("rises with wealth everywhere" if falls == 0 else
          f"falls between {falls} of {len(c) - 1} neighbouring wealth points"))
table.head()
"""),
]


HANK = [
    md("""
# The one-asset HANK economy: steady state, monetary policy, forward guidance

The canonical one-asset HANK model of the sequence-space Jacobian paper (Auclert, Bardóczy,
Rognlie and Straub 2021): households with idiosyncratic productivity risk, a borrowing limit at
zero and a labour choice; sticky prices (a Phillips curve); a Taylor rule; government bonds in
fixed supply whose interest is paid by taxes; the firms' price-adjustment costs are a resource
cost, as in that paper's example. `docs/models.md` writes out every equation and its timing.
In fast mode (`HANK_MFG_FAST=1`) the grids are small and the paths short; at full size the
model has 500 wealth points and 7 productivity states.
"""),
    code(SETUP),
    code("""
%matplotlib inline
import time
import numpy as np
import jax
jax.config.update("jax_enable_x64", True)       # the classical solvers work in float64
import hank_mfg as hm
from models.hank import OneAssetHANK

model = OneAssetHANK(n_wealth=40, n_income=3, wealth_max=60.0) if FAST else OneAssetHANK()
T = 60 if FAST else 300
OUTPUTS.mkdir(parents=True, exist_ok=True)
"""),
    md("""
## 1. Steady state: calibrating beta and vphi

The economy declares two steady-state unknowns, the discount factor `beta` and the disutility
of labour `vphi`, and two targets: the asset market (`A = B`) and the labour market
(`sum mu e n = L`). Output, productivity, the markup, the real rate and the bond supply are
calibrated, so the wage is `1/mu` and the Phillips curve holds at zero inflation. The goods
market is not targeted: Walras' law clears it, and the table shows by how little it misses.
"""),
    code("""
t0 = time.perf_counter()
ss = hm.steady_state(model)
print(f"steady state in {time.perf_counter() - t0:.1f} s: beta = {float(ss['beta']):.6f}, "
      f"vphi = {float(ss['vphi']):.6f}, r = {float(ss['r']):.4f}, w = {float(ss['w']):.4f}")
print("largest residual:", max(abs(float(v)) for v in ss.residuals.values()))
hm.steady_state_table(ss)
"""),
    code("""
wealth = hm.wealth_distribution(ss)
print(f"wealth Gini {float(wealth['gini'][0]):.3f}, top-10% share "
      f"{float(wealth['top10_share'][0]):.3f}, mass at the borrowing limit "
      f"{float(wealth['at_limit'][0]):.3f}")
wealth
"""),
    md("""
## 2. A 25 basis-point monetary shock

A cut of the policy-rate intercept `rstar` by 25 bp on impact, decaying at rate 0.61 per
quarter, announced at date 0. Newton's method on the paths of inflation, the wage and output
(with the sequence-space Jacobian of the whole model at the steady state) clears every market
at every date; the residuals are printed. Output rises by more than consumption: the cut brings
inflation, and firms pay the Rotemberg cost of changing prices,
`mu/(mu-1)/(2 kappa) log(1+pi)^2 Y`, out of their profits and in goods (the goods market
reads `Y = C +` that cost; `OneAssetHANK(price_adjustment_costs="none")` leaves it out, and
then `C = Y`).
"""),
    code("""
shock = -0.0025 * 0.61 ** np.arange(T)
t0 = time.perf_counter()
path = hm.transition_path(model, shocks={"rstar": shock}, steady_state=ss, return_distribution=True)
print(f"transition in {time.perf_counter() - t0:.1f} s, {int(path.iterations)} Newton iterations")
print({k: float(np.max(np.abs(v))) for k, v in path.residuals.items()})
irf = hm.mit_responses(path, ss)
impact = irf[irf["t"] == 0].set_index("variable")[["unit", "response"]]
impact.loc[["Y", "C", "pi", "r", "i", "w", "N"]]
"""),
    code("""
display(hm.impulse_figure(irf[irf["t"] < 20], variables=("Y", "C", "pi", "r", "w")))
"""),
    md("""
## 3. Who responds? Consumption by wealth decile and productivity

On impact the distribution is still the steady state's; the table gives the change in each
group's consumption and its share of aggregate consumption. The cell prints which decile
responds most.
"""),
    code("""
groups = hm.consumption_response_table(path, ss)
deciles = groups[groups["group"] == "wealth"]
top = deciles.loc[deciles["response"].idxmax()]
print(f"largest response: {top['label']} ({top['response']:.3f}% on impact); smallest: "
      f"{deciles.loc[deciles['response'].idxmin(), 'label']}")
groups
"""),
    md("""
## 4. Forward guidance

The same 25 bp cut, but for one quarter only and announced at date 0 for quarter `k`. The
table sets the impact response beside two representative-agent benchmarks: the
representative-agent economy with the same Taylor rule, timing and Phillips curve
(`ra_response`), and a representative household facing this economy's own equilibrium
real-rate path (`ra_given_rates`, consumption only). A representative agent's Euler equation
alone gives the same response to a given one-quarter real-rate cut at every `k` (the
forward-guidance puzzle); in general equilibrium the rule answers the inflation the announced
cut brings before it hits, so the real-rate path changes with `k` (docs/models.md, section 7).
The cell prints consumption's impact response at the longest horizon in all three.
"""),
    code("""
horizons = range(0, 9, 4) if FAST else range(0, 21)
fg = hm.forward_guidance_table(ss, horizons=horizons, T=T)
c = fg[fg["variable"] == "C"].set_index("k")
k_max = c.index.max()
print(f"a cut announced {k_max} quarters ahead moves consumption today by "
      f"{c.loc[k_max, 'response']:.4f}% ({c.loc[k_max, 'relative']:.3f} of the immediate cut's "
      f"{c.loc[0, 'response']:.4f}%); in the representative-agent economy with the same rules "
      f"{c.loc[k_max, 'ra_response']:.4f}% ({c.loc[k_max, 'ra_relative']:.3f}); a representative "
      f"household at this economy's real rates {c.loc[k_max, 'ra_given_rates']:.4f}%")
display(c[["response", "relative", "ra_response", "ra_relative", "ra_given_rates"]])
fig = hm.forward_guidance_figure(fg)
fig.savefig(OUTPUTS / "forward_guidance.png", dpi=100)
display(fig)
"""),
]


HANK_RISK = [
    md("""
# The one-asset HANK economy under aggregate risk

The economy of `04_hank.ipynb` (Auclert, Bardóczy, Rognlie and Straub 2021), now with monetary
(`rstar`) and TFP (`Z`) shocks drawn every quarter, solved by RSPG with continuous savings and
labour choices and a learned forecast of the firms (docs/theory.md §13): each quarter every
unknown (`pi, w, Y`) is solved so that all markets clear and the Phillips curve holds with the
firms' forecast of next quarter. The notebook reads the solution with the tables and figures of
`hm.reports` (the same ones `hank-mfg report` writes for such a run): how far the learned
responses are from perfect foresight, how they change with the size of the shock and the state
of the economy, who responds, and how much households react to announced policy.

Signs: a positive `rstar` innovation is a monetary tightening (`-0.0025` is a 25 bp cut); a
positive `Z` innovation raises TFP. Rates are in basis points, quantities in percent of their
steady-state level. In fast mode (`HANK_MFG_FAST=1`) the grid is tiny and the training a single
iteration, so the numbers only show the mechanics; at full size the model has 100 wealth points
and 7 productivity states and trains for 150 iterations (the measured configuration).
"""),
    code(SETUP),
    code("""
%matplotlib inline
import dataclasses
import time
import numpy as np
import pandas as pd
import jax
jax.config.update("jax_enable_x64", True)       # continuous choices are solved in float64
import hank_mfg as hm
from models.hank import OneAssetHANK

if FAST:   # tiny: 30 x 3 states, one iteration, two announced innovations already
    model = OneAssetHANK(n_wealth=30, n_income=3, wealth_max=50.0)
    config = hm.RSPGConfig.continuous(iterations=1, eval_every=1, eval_paths=1, n_paths=2,
                                      horizon=10, hidden=4, widths=(8,), n_knots=6, news=2)
else:
    model = OneAssetHANK(n_wealth=100)
    config = hm.RSPGConfig.continuous(iterations=150)
T = 10 if FAST else 20          # quarters of every response
N_PATHS = 0 if FAST else 32     # noise paths of the generalized responses (0: no other noise)
T_PF = 30 if FAST else 300      # dates of the perfect-foresight transitions
OUTPUTS.mkdir(parents=True, exist_ok=True)
print(f"responses over {T} quarters; generalized responses over {N_PATHS} noise paths")
"""),
    md("""
## 1. Solve

`hm.solve` finds the EGM steady state, builds the problem around it and trains the households'
policies and the firms' forecast together. The cell prints the size of the problem and the
time it took.
"""),
    code("""
t0 = time.perf_counter()
sol = hm.solve(model, method="rspg", config=config, progress=False)
problem = sol.compiled()
ss = problem.steady_state
print(f"solved in {time.perf_counter() - t0:.1f} s: {len(problem.a_grid)} wealth points x "
      f"{len(problem.e_grid)} productivity states, horizon {problem.horizon}, shocks "
      f"{problem.shock_names}, announced innovations {problem.news}")
"""),
    md("""
## 2. Training history and certificates

Each evaluation records the households' certificates (exploitability: what a household gains
by deviating; Euler errors) and the equilibrium's: the Phillips-curve residual with next
quarter's shocks integrated (`nkpc_res_expected`, the condition the learned forecast must make
hold), the largest residual of each market along the paths (asset and labour markets are solved
each quarter; the goods market clears by Walras' law) and the root mean squared error of each
forecast. The table gives the last evaluation, one row per measure.
"""),
    code("""
display(sol.history)
conditions = hm.reports.equilibrium_conditions_table(sol.history)
v = conditions.set_index("measure")["value"]
print(f"expected Phillips-curve residual {v['nkpc_res_expected']:.2e}; markets solved each "
      f"quarter clear to {max(v['asset_mkt_max'], v['labor_mkt_max']):.1e}, the goods market "
      f"(Walras) to {v['goods_mkt_max']:.1e}; relative exploitability "
      f"{v['relative_exploitability']:.1e}, mean log10 Euler error {v['euler_mean']:.2f}")
conditions
"""),
    md("""
The certificates above are second order in the households' mistakes: a household that
responds 20% too much to a shock loses very little value by it. The **first-order
certificate** (docs/theory.md §12.8) asks the households directly. Take the learned response
of the prices they face to one innovation of one standard deviation, let households who know
that path optimise exactly (EGM, as in a perfect-foresight transition), and compare their
response of assets, consumption and hours with the learned one. At an equilibrium the two
agree at first order; the table gives the largest gap over 40 quarters as a share of the
peak, for every innovation. The quality verdicts of `hank-mfg solve` put it first, with a
pass mark of 0.1.
"""),
    code("""
certificate = hm.first_order_certificate(sol)
print(f"largest first-order gap: {certificate['max']:.3f} of the peak response")
pd.DataFrame(certificate["by_innovation"]).T.rename_axis("innovation")
"""),
    md("""
## 3. The learned response beside perfect foresight

A 25 bp tightening (`rstar` up by 0.0025, decaying at the model's 0.61 per quarter) hits the
learned economy at its steady state without other noise, and the same shock path is solved
under perfect foresight (`hm.transition_path`, Newton on the sequence-space Jacobian). The gap
at each date is `|learned - perfect foresight|` as a share of the perfect-foresight peak; the
table gives its largest value over the first `T` quarters for each aggregate.
"""),
    code("""
size = 0.0025
learned = hm.reports.girf_table(sol, {"rstar": size}, multiples=(1,), T=T, n_paths=0)
rho = float(ss.model.rho_rstar)
path = hm.transition_path(sol.model, steady_state=ss,
                          shocks={"rstar": size * rho ** np.arange(T_PF)})
pf = hm.mit_responses(path, ss)
pf = pf[pf["t"] < T].rename(columns={"t": "date", "response": "perfect_foresight"})
both = learned.merge(pf[["date", "variable", "perfect_foresight"]], on=["date", "variable"])
both["gap_share_of_peak"] = (
    (both["response"] - both["perfect_foresight"]).abs()
    / both.groupby("variable")["perfect_foresight"].transform(lambda x: x.abs().max()))
summary = both.groupby("variable", sort=False).agg(
    unit=("unit", "first"), learned_impact=("response", "first"),
    perfect_foresight_impact=("perfect_foresight", "first"),
    largest_gap_share_of_peak=("gap_share_of_peak", "max"))
print(f"largest gap over {T} quarters: {summary['largest_gap_share_of_peak'].max():.3f} of the "
      f"peak ({summary['largest_gap_share_of_peak'].idxmax()})")
summary
"""),
    code("""
import matplotlib.pyplot as plt

names = list(dict.fromkeys(both["variable"]))
fig, axes = plt.subplots(1, len(names), figsize=(3.0 * len(names), 3.0), layout="constrained")
for ax, name in zip(axes, names):
    g = both[both["variable"] == name]
    ax.plot(g["date"], g["response"], "-", marker=".", label="learned")
    ax.plot(g["date"], g["perfect_foresight"], "--", label="perfect foresight")
    ax.axhline(0.0, color="grey", lw=0.6)
    ax.set_title(f"{name} ({g['unit'].iloc[0]})")
    ax.set_xlabel("quarters")
axes[0].legend(fontsize=7)
plt.show()
"""),
    md("""
## 4. Generalized responses by size

Under aggregate risk the response is a generalized impulse response: the same `N_PATHS` noise
paths with and without the shock, averaged (fast mode: `N_PATHS = 0`, without other noise, to
keep it quick). Shocks of 1, 4 and 8 times 25 bp (and of 0.25% of TFP) are scaled back to the
base size: if the economy responded linearly the lines would coincide. The cell prints the
impact response of output per base shock at each size.
"""),
    code("""
girf = hm.reports.girf_table(sol, {"rstar": 0.0025, "Z": 0.0025}, multiples=(1, 4, 8), T=T,
                             n_paths=N_PATHS)
impact = girf[(girf["date"] == 0) & (girf["variable"] == "Y")].copy()
impact["per_base_shock"] = impact["response"] / impact["multiple"]
print(impact.pivot(index="multiple", columns="shock", values="per_base_shock")
      .rename_axis(columns="output on impact (%) per base shock"))
fig = hm.reports.girf_figure(girf)
fig.savefig(OUTPUTS / "hank_girf_by_size.png", dpi=100)
display(fig)
"""),
    md("""
## 5. Recession against boom

Simulations of the learned economy (64 of 200 quarters at full size, 4 of 10 in fast mode) run
from the steady state; those that end with output in its lowest quarter are recessions, in its
highest booms. From each the same future noise runs with and
without a 25 bp tightening. The cell prints the mean output level of each group and the impact
response of output from it.
"""),
    code("""
state = hm.reports.state_girf_table(sol, {"rstar": 0.0025}, T=T, n_paths=4 if FAST else 64,
                                    burn_in=10 if FAST else 200)
y0 = state[(state["variable"] == "Y") & (state["date"] == 0)].set_index("state")
for name in ("recession", "boom", "all"):
    print(f"{name:9s}: output {y0.loc[name, 'state_level']:.4f}, impact response of output "
          f"{y0.loc[name, 'response']:.4f}%")
display(hm.reports.state_girf_figure(state))
"""),
    md("""
## 6. Who responds

A 25 bp cut at the steady state, without other noise: the percent change of consumption on
impact by wealth decile and by productivity state, each group's share of consumption and of
households. The consumption-share-weighted responses add up to the aggregate response; the cell
prints it and the decile that responds most.
"""),
    code("""
groups = hm.reports.group_response_table(sol, {"rstar": -0.0025})
deciles = groups[groups["grouping"] == "wealth decile"]
top = deciles.loc[deciles["response_pct"].idxmax()]
aggregate = float((deciles["response_pct"] * deciles["consumption_share"]).sum())
print(f"aggregate consumption {aggregate:.4f}%; largest response: {top['label']} "
      f"({top['response_pct']:.4f}%), smallest: "
      f"{deciles.loc[deciles['response_pct'].idxmin(), 'label']}")
display(hm.reports.group_response_figure(groups))
groups
"""),
    md("""
## 7. Anticipation: announced cuts

Households can only react to news they are trained to see: a solution with
`RSPGConfig(news=K)` splits the monetary innovation into a surprise and `K` announcements of a
cut that hits `k` quarters later (docs/theory.md §13.4). At full size this is a second solve
with `K = 8`; in fast mode the first solution already has `K = 2`. The table sets the response
today to a 25 bp cut announced `k` quarters ahead beside the perfect-foresight transition to the
same path; the cell prints consumption's response at the longest horizon relative to the
surprise in both.
"""),
    code("""
if problem.news:
    sol_news = sol
else:
    t0 = time.perf_counter()
    sol_news = hm.solve(model, method="rspg", config=dataclasses.replace(config, news=8),
                        progress=False)
    print(f"solved with announcements in {time.perf_counter() - t0:.1f} s")
news = hm.reports.anticipation_table(sol_news, -0.0025, T=T, T_transition=T_PF)
c = news[news["variable"] == "C"].set_index("k")
k = c.index.max()
print(f"a cut announced {k} quarters ahead moves consumption today by {c.loc[k, 'learned']:.4f}% "
      f"(learned; {c.loc[k, 'learned_relative']:.2f} of the surprise) and "
      f"{c.loc[k, 'perfect_foresight']:.4f}% (perfect foresight; "
      f"{c.loc[k, 'perfect_foresight_relative']:.2f})")
display(hm.reports.anticipation_comparison_figure(news))
news
"""),
    md("""
## 8. Ergodic moments

Simulations of the learned economy from the steady state (8 paths of 2000 quarters at full
size, 2 of 40 in fast mode), a burn-in dropped: the mean and standard deviation of each
aggregate that moves: a standard deviation above 1e-6 times its mean, or above 1e-6 when the
mean is below one in size (inflation, rates). Bonds (`A`, fixed by the bond market) do not
move, and the residuals of the markets are left out (section 2 reports them). The cell prints
what it left out, the standard deviation of output and of inflation and their correlation.
"""),
    code("""
mom = hm.ergodic_moments(sol, T=40 if FAST else 2000, burn_in=10 if FAST else 200,
                         n_paths=2 if FAST else 8)
moments = pd.DataFrame({"mean": mom["mean"], "sd": mom["sd"]})
residual_names = set(ss.residuals)                  # asset_mkt, labor_mkt, goods_mkt, ...
moves = moments["sd"] > 1e-6 * np.maximum(moments["mean"].abs(), 1.0)
left_out = moments.index[~moves | moments.index.isin(residual_names)]
moments = moments[moves & ~moments.index.isin(residual_names)]
print(f"left out: {', '.join(left_out)}")
print(f"sd of output {mom['sd']['Y']:.2e}, of inflation {mom['sd']['pi']:.2e}; "
      f"corr(output, inflation) {mom['corr'].get(('Y', 'pi'), mom['corr'].get(('pi', 'Y'))):.3f}")
moments
"""),
]


KS_UNEMPLOYMENT = [
    md("""
# Krusell–Smith with unemployment risk: the Krusell–Smith algorithm and den Haan's test

The canonical test of global methods for heterogeneous-agent economies with aggregate risk:
Krusell and Smith (1998) with good and bad times and unemployment risk that moves with them, in
the calibration den Haan, Judd and Juillard (2010) gave every algorithm of their comparison
project (docs/krusell_smith.md). Households forecast aggregate capital with a log-linear law;
the algorithm simulates the cross-section exactly and updates the law by regression until it
stops moving; den Haan's statistic then iterates the law on its own forecasts. `HANK_MFG_FAST=1`
runs a small grid and a short simulation.
"""),
    code(SETUP),
    code("""
%matplotlib inline
import time
import jax
jax.config.update("jax_enable_x64", True)   # before any array is built
import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
import hank_mfg as hm
from models.krusell_smith_unemployment import KrusellSmithUnemployment, employment_chain

model = KrusellSmithUnemployment(n_wealth=60, n_capital=6) if FAST else KrusellSmithUnemployment()
T, BURN = (2000, 300) if FAST else (10_000, 1_000)
"""),
    md("""
## 1. Good and bad times, jobs found and lost

The joint transition of times and employment, built from Krusell and Smith's conditions (spells
of good and bad times, unemployment spells, unemployment rates); the cell prints it beside its
durations and the unemployment rate it keeps in each state.
"""),
    code("""
names = ["bad, unemployed", "bad, employed", "good, unemployed", "good, employed"]
display(pd.DataFrame(employment_chain(), index=names, columns=names).round(6))
chain = model.chain
print("mean length of bad and good times:", np.asarray(chain.aggregate.mean_duration()))
print("unemployment rate kept in bad and good times:", np.asarray(chain.conditional_shares()[:, 0]))
"""),
    md("""
## 2. The Krusell–Smith algorithm
"""),
    code("""
t0 = time.perf_counter()
sol = hm.solve(model, method="krusell-smith", config=hm.KrusellSmithConfig(T=T, burn_in=BURN),
               progress=False)
print(f"{sol.iterations} iterations of the law of motion, {time.perf_counter() - t0:.1f} s")
display(pd.DataFrame({"a": np.asarray(sol.law.a), "b": np.asarray(sol.law.b),
                      "R2": np.asarray(sol.r2), "s.e.": np.asarray(sol.se)},
                     index=["bad times", "good times"]))
"""),
    md("""
The law of motion in each state against the simulated capital: next quarter's capital against
this quarter's, by the state of this quarter.
"""),
    code("""
K, z = np.asarray(sol.K), np.asarray(sol.z)
fig, ax = plt.subplots(figsize=(5.5, 4))
for s, label in enumerate(["bad", "good"]):
    keep = z[:-1] == s
    ax.scatter(K[:-1][keep], K[1:][keep], s=2, alpha=0.3, label=f"simulated, {label} times")
    grid = np.linspace(K.min(), K.max(), 50)
    ax.plot(grid, np.exp(float(sol.law.a[s]) + float(sol.law.b[s]) * np.log(grid)), lw=1.2,
            label=f"law of motion, {label} times")
ax.set_xlabel("K_t"); ax.set_ylabel("K_{t+1}"); ax.legend(fontsize=7)
"""),
    md("""
## 3. den Haan's statistics

The law iterated on its own forecasts along a fresh path of shocks, against the simulated
cross-section's capital; then the stress path of 100 bad quarters followed by 100 good ones.
"""),
    code("""
dh = hm.den_haan_errors(sol, T=T, burn_in=BURN)
stress = hm.den_haan_errors(sol, z_path=np.r_[np.zeros(100, int), np.ones(100, int)], burn_in=BURN)
rows = {name: {"mean error (%)": d.mean, "max error (%)": d.max, "mean K": d.K_mean, "s.d. K": d.K_std,
               "Euler mean (% of c)": d.euler_mean, "Euler max (% of c)": d.euler_max}
        for name, d in [(f"{T} quarters", dh), ("stress path", stress)]}
display(pd.DataFrame(rows).T)
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
for ax, d, n in [(axes[0], dh, 400), (axes[1], stress, 200)]:
    t = np.arange(n)
    ax.fill_between(t, d.K[:n].min(), d.K[:n].max(), where=d.z[:n] == 0, color="grey", alpha=0.2,
                    label="bad times")
    ax.plot(t, d.K[:n], lw=1.2, label="simulated cross-section")
    ax.plot(t, d.Khat[:n], lw=1.0, ls="--", label="law of motion, own forecasts")
    ax.set_xlabel("quarter"); ax.set_ylabel("aggregate capital")
axes[0].legend(fontsize=7); axes[0].set_title("first quarters of the path"); axes[1].set_title("stress path")
"""),
    md("""
## 4. Households: consumption and wealth

Consumption of the employed and the unemployed at the aggregate capital nearest its mean, in
good and bad times; then the wealth distribution averaged over the simulated bad and good
quarters.
"""),
    code("""
a = np.asarray(model.a_grid)
iK = int(np.argmin(np.abs(np.asarray(model.K_grid) - K.mean())))
keep = a <= 60
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
for s, label in enumerate(["bad", "good"]):
    for e, who in enumerate(["unemployed", "employed"]):
        axes[0].plot(a[keep], np.asarray(sol.c_policy[s, iK, :, e])[keep], lw=1.2,
                     ls="-" if s else "--", label=f"{who}, {label} times")
    mass = np.asarray(sol.mu_by_state[s]).sum(axis=1)
    axes[1].plot(a[keep], (mass / np.gradient(a))[keep], lw=1.2, label=f"{label} times")
axes[0].set_xlabel("wealth"); axes[0].set_ylabel("consumption"); axes[0].legend(fontsize=7)
axes[1].set_xlabel("wealth"); axes[1].set_ylabel("density"); axes[1].legend(fontsize=7)
print("mean wealth in bad and good times:",
      [round(float((np.asarray(sol.mu_by_state[s]).sum(axis=1) * a).sum()), 3) for s in (0, 1)])
"""),
]


NOTEBOOKS = {
    "01_quickstart.ipynb": QUICKSTART,
    "02_krusell_smith.ipynb": KRUSELL_SMITH,
    "03_rspg_macro.ipynb": RSPG_MACRO,
    "04_hank.ipynb": HANK,
    "05_hank_aggregate_risk.ipynb": HANK_RISK,
    "06_krusell_smith_unemployment.ipynb": KS_UNEMPLOYMENT,
}


def main(names: list[str] | None = None) -> None:
    """Write the notebooks named (with or without ``.ipynb``), or all of them."""
    wanted = {n if n.endswith(".ipynb") else f"{n}.ipynb" for n in names or NOTEBOOKS}
    unknown = wanted - set(NOTEBOOKS)
    if unknown:
        raise SystemExit(f"unknown notebooks {sorted(unknown)}; known: {sorted(NOTEBOOKS)}")
    for name, cells in NOTEBOOKS.items():
        if name in wanted:
            path = os.path.join(HERE, name)
            nbformat.write(notebook(cells), path)
            print(f"wrote {path}")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
